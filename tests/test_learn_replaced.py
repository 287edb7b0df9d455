"""`sorter learn` of a folder where another file took the place of a photo a sort judged: a dog's
photo renamed over cats/cat0.png at exactly its size (a sync client's `x.part` renamed into place;
over car0.png, left in place as neither, too), or cats/cat0.png deleted and a new photo of its size
saved under its name, which ext4 and tmpfs give its freed inode number. No one judged that file,
neither sorter nor the user, who put no photo into cats/: the review page shows it as "not sorted
yet" (`files.judged`). Learn took it for the photo (found by name and size, or by its identity) and
held the personal head to "cat" on a dog's picture ("15 kept as sorted"). It now asks what the
review page asks: a new file, neither kept as sorted nor a correction nor one added by hand.
Elsewhere, too: a new photo saved in dogs/ after cats/cat0.png was deleted, given its inode number,
is no "cat -> dog" correction but a photo the user saved there, told by its birth after the move.
A `touch` leaves a photo the one sort judged, filed or left in place: on the page and for learn.
Photos and the fake model as in test_learn."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from conftest import saved_with_its_inode, write_image
from test_learn import invoke, roll_with_goats, sorted_and_corrected
from test_learn_edited import padded_png
from test_review_server import start

from sorter.files.journal import scan
from sorter.files.made_folders import birth
from sorter.model import personal
from sorter.review.loading import load_catalog


def a_dog_the_size_of(photo: Path, tmp: Path) -> bytes:
    """A plain red photo (a dog to the fake model), padded to `photo`'s size: what only its time,
    inode or birth tells from the photo sorter filed."""
    picture = write_image(tmp / "dog.png", (0, 0, 255), (32, 32)).read_bytes()
    return padded_png(picture, photo.stat().st_size)


def review_card(root: Path, rel: str) -> tuple[str, str | None, str | None]:
    """(status, label, reason) of `rel`'s card on the review page."""
    photo = next(p for p in load_catalog(root, scan(root)).photos if p.path == rel)
    return photo.status, photo.label, photo.reason


def learnt_paths() -> set[str]:
    return {str(path) for path in personal.read_examples().paths}


def learnt_as_the_review_page_shows_it(roll: Path, fake_model, rel: str = "cats/cat0.png") -> None:
    """The first line and the examples of a learn of `roll` with `rel` not the photo sort judged."""
    assert review_card(roll, rel) == ("unsorted", None, "not sorted yet")

    result = invoke("learn", roll, "--model", fake_model)

    assert result.exit_code == 0, result.output
    # Before: "(6 new); 15 kept as sorted", the dog's picture among them as a cat sorter filed.
    assert result.stdout.splitlines()[0] == (
        f"Found 6 photos you placed in {roll} (6 new); 14 kept as sorted, held as they are")
    assert "added -> cat" not in result.stdout
    assert str(roll / rel) not in learnt_paths()
    assert str(roll / "cats" / "cat1.png") in learnt_paths() and str(roll / "car1.png") in learnt_paths()


@pytest.mark.parametrize("rel", ["cats/cat0.png", "car0.png"])  # filed a cat; left in place, neither
def test_a_photo_renamed_over_a_sorted_one_at_its_size_is_not_learnt_as_kept_sorted(tmp_path: Path, fake_model,
                                                                                     rel: str) -> None:
    roll = sorted_and_corrected(tmp_path / "roll", fake_model)
    judged = roll / rel
    part = judged.with_name(f".{judged.name}.part")  # a sync client's: written beside it, renamed over it
    part.write_bytes(a_dog_the_size_of(judged, tmp_path))
    os.rename(part, judged)

    learnt_as_the_review_page_shows_it(roll, fake_model, rel)


def test_a_new_photo_given_a_deleted_sorted_photos_inode_is_not_learnt_as_kept_sorted(tmp_path: Path,
                                                                                       fake_model) -> None:
    roll = sorted_and_corrected(tmp_path / "roll", fake_model)
    sorted_cat = roll / "cats" / "cat0.png"
    saved_with_its_inode(sorted_cat, sorted_cat, a_dog_the_size_of(sorted_cat, tmp_path),
                         "learn takes it for the photo sorter filed, as the review page does")

    learnt_as_the_review_page_shows_it(roll, fake_model)


def test_a_sorted_photo_touched_since_is_still_learnt_as_kept_sorted(tmp_path: Path, fake_model) -> None:
    """A `touch` (a photo viewer setting the time) leaves it the photo sort judged, on the review
    page and for learn alike."""
    roll = sorted_and_corrected(tmp_path / "roll", fake_model)
    os.utime(roll / "cats" / "cat0.png", ns=(1_000_000_000, 1_000_000_000))
    assert review_card(roll, "cats/cat0.png")[:2] == ("moved", "cat")

    result = invoke("learn", roll, "--model", fake_model)

    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[0] == (
        f"Found 6 photos you placed in {roll} (6 new); 15 kept as sorted, held as they are")
    assert str(roll / "cats" / "cat0.png") in learnt_paths()


# ------------------------------------------------- a new file elsewhere, given a moved photo's inode


def kinds(stdout: str) -> dict[str, int]:
    """The table's rows: kind ("cat -> dog") -> how many."""
    rows = {}
    for line in stdout.splitlines():
        words = line.split()
        if len(words) > 3 and words[1] == "->" and words[3].isdigit():
            rows[f"{words[0]} -> {words[2]}"] = int(words[3])
    return rows


def test_a_new_photo_saved_elsewhere_with_a_deleted_sorted_photos_inode_is_not_that_photo_moved(
        tmp_path: Path, fake_model) -> None:
    """cats/cat0.png deleted, and a dog's picture of its size saved as dogs/saved.png, which ext4
    gives cat0's freed inode number: its identity (device, inode, size) is the cat's on record, but
    it was born after sort's move, as undo tells it (`identities.born_after`). Learn took it for
    cat0 moved by the user, "cat -> dog", and learnt a label for a picture no one judged; it is a
    photo the user saved into dogs/, "added -> dog", as it would be under any other inode."""
    roll = sorted_and_corrected(tmp_path / "roll", fake_model)
    sorted_cat, saved = roll / "cats" / "cat0.png", roll / "dogs" / "saved.png"
    saved_with_its_inode(sorted_cat, saved, a_dog_the_size_of(sorted_cat, tmp_path),
                         "learn takes it for the sorted cat, moved by the user")

    result = invoke("learn", roll, "--model", fake_model)

    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[0] == (
        f"Found 7 photos you placed in {roll} (7 new); 14 kept as sorted, held as they are")
    assert kinds(result.stdout) == {"dog -> neither": 6, "added -> dog": 1}  # before: "cat -> dog": 1
    assert str(saved) in learnt_paths()


@pytest.mark.parametrize("same_size", [False, True])
def test_a_sorted_photo_moved_over_another_is_one_correction_and_the_other_nothing(
        tmp_path: Path, fake_model, same_size: bool) -> None:
    """`mv cats/cat1.png dogs/dog1.png`: the cat sort filed is now in dogs/ ("cat -> dog", told by
    its identity, which `mv` keeps), and dogs/dog1.png, the dog sort filed there, is gone (its
    inode freed by the rename): not a correction, not kept as sorted, and not its name's new file
    counted twice. At the same size too, where the dog is looked for by its name and size."""
    roll = roll_with_goats(tmp_path / "roll")
    if same_size:
        cat, dog = roll / "cat1.png", roll / "dog1.png"
        bigger, smaller = (cat, dog) if cat.stat().st_size > dog.stat().st_size else (dog, cat)
        smaller.write_bytes(padded_png(smaller.read_bytes(), bigger.stat().st_size))
    assert invoke("sort", roll, "--model", fake_model).exit_code == 0
    for i in range(6):
        os.rename(roll / "dogs" / f"goat{i}.png", roll / f"goat{i}.png")
    assert (roll / "cats" / "cat1.png").stat().st_size != (roll / "dogs" / "dog1.png").stat().st_size or same_size
    os.rename(roll / "cats" / "cat1.png", roll / "dogs" / "dog1.png")

    result = invoke("learn", roll, "--model", fake_model)

    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[0] == (
        f"Found 7 photos you placed in {roll} (7 new); 13 kept as sorted, held as they are")
    assert kinds(result.stdout) == {"dog -> neither": 6, "cat -> dog": 1}
    assert str(roll / "dogs" / "dog1.png") in learnt_paths()


# ------------------------------------------------------- a photo left in place, touched since


def test_a_photo_left_in_place_touched_since_is_still_the_one_sort_judged(tmp_path: Path, fake_model) -> None:
    """`touch car0.png`, a photo sort left in place as neither: a new time, the same file (its
    device, inode and size, born no later than the ctime its "seen" record keeps). The review page
    keeps its verdict, and learn its "neither", as for a photo sort filed in cats/ and touched since.
    Before, both dropped it: "not sorted yet" on the page, "14 kept as sorted" in learn."""
    roll = sorted_and_corrected(tmp_path / "roll", fake_model)
    if birth(roll / "car0.png") is None:
        pytest.skip("this filesystem keeps no birth times: a touched photo left in place is told as before")
    os.utime(roll / "car0.png", ns=(1_000_000_000, 1_000_000_000))

    client, stop, thread = start(roll)
    try:
        card = client.cards()["car0.png"]
    finally:
        stop.set()
        thread.join(10)
    assert (card["heading"][0], card["label"]) == ("neither", "other")

    result = invoke("learn", roll, "--model", fake_model)

    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[0] == (
        f"Found 6 photos you placed in {roll} (6 new); 15 kept as sorted, held as they are")
    assert str(roll / "car0.png") in learnt_paths()


def test_a_new_photo_given_a_deleted_left_in_place_photos_inode_is_not_that_photo(tmp_path: Path,
                                                                                 fake_model) -> None:
    """car0.png, left in place as neither, deleted, and a dog's picture of its size saved under its
    name, given its freed inode number: its device, inode and size are the photo's, its time is not,
    and it was born after the ctime the photo's "seen" record keeps. Not the photo touched since:
    "not sorted yet" on the page, and not learnt."""
    roll = sorted_and_corrected(tmp_path / "roll", fake_model)
    left = roll / "car0.png"
    saved_with_its_inode(left, left, a_dog_the_size_of(left, tmp_path),
                         "the strict identity (with its time) tells it, as before")

    learnt_as_the_review_page_shows_it(roll, fake_model, "car0.png")
