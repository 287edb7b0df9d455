"""On an SD card (exFAT), whose driver numbers files anew, `undo` tells a photo by its size and
time alone: two names the user swapped in cats/, or one photo renamed and another given its name,
go back each to its own first place, as on a disk that keeps inode numbers. QA: the file in a
photo's place was taken for the photo unless it was another sorted photo, and then the photo was
"missing" (and the journal removed) while it sat in cats/ under the other name."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from conftest import FakeClassifier, layout, remount
from test_undo_copies import burst
from test_undo_moved_on import BLUE, app, photos, runner, undo

from sorter.sorting.sort import sort_folder


def sorted_card(card: Path) -> dict:
    """a.jpg, b.jpg and c.jpg (each its own size) sorted into cats/: the layout before the sort."""
    photos(card, BLUE, "a.jpg", "b.jpg", "c.jpg")
    before = layout(card)
    sort_folder(card, classifier=FakeClassifier())
    return before


@pytest.mark.parametrize("again", [False, True], ids=["mounted all along", "taken out and put in again"])
def test_on_an_exfat_card_two_photos_whose_names_were_swapped_go_back_each_to_its_own_place(
        exfat_card: Path, again: bool) -> None:
    before = sorted_card(exfat_card)
    cats = exfat_card / "cats"
    os.rename(cats / "a.jpg", cats / "t")
    os.rename(cats / "b.jpg", cats / "a.jpg")
    os.rename(cats / "t", cats / "b.jpg")
    if again:
        remount(exfat_card)

    assert undo(exfat_card) == ([
        f"Restored 3 files from 1 run in {exfat_card}.",
        "found: cats/a.jpg: moved to cats/b.jpg since; put back from there to a.jpg",
        "found: cats/b.jpg: moved to cats/a.jpg since; put back from there to b.jpg",
    ], [])
    assert layout(exfat_card) == before  # each photo under its own name (by its bytes), .sorter/ gone


def test_on_an_exfat_card_a_photo_renamed_and_another_given_its_name_go_back_each_to_its_own_place(
        exfat_card: Path) -> None:
    """`mv cats/a.jpg cats/x.jpg; mv cats/b.jpg cats/a.jpg`: a.jpg's photo was left at cats/x.jpg,
    said "missing"."""
    before = sorted_card(exfat_card)
    cats = exfat_card / "cats"
    os.rename(cats / "a.jpg", cats / "x.jpg")
    os.rename(cats / "b.jpg", cats / "a.jpg")

    assert undo(exfat_card) == ([
        f"Restored 3 files from 1 run in {exfat_card}.",
        "found: cats/a.jpg: moved to cats/x.jpg since; put back from there to a.jpg",
        "found: cats/b.jpg: moved to cats/a.jpg since; put back from there to b.jpg",
    ], [])
    assert layout(exfat_card) == before


def test_on_an_exfat_card_a_swapped_photo_two_files_have_the_size_and_time_of_is_kept_not_guessed(
        exfat_card: Path) -> None:
    """Names swapped, and a copy of a.jpg kept beside (`cp -p`, its size and time too): which file
    is a.jpg's photo cannot be told, so its move is kept, with the journal, for a later undo, and
    nothing is said missing; b.jpg's photo goes back. With the copy gone, the next undo finishes."""
    before = sorted_card(exfat_card)
    cats = exfat_card / "cats"
    os.rename(cats / "a.jpg", cats / "t")
    os.rename(cats / "b.jpg", cats / "a.jpg")
    os.rename(cats / "t", cats / "b.jpg")
    (cats / "keep").mkdir()
    shutil.copy2(cats / "b.jpg", cats / "keep" / "a.jpg")

    assert undo(exfat_card) == ([
        f"Restored 2 files from 1 run in {exfat_card} (1 kept in place).",
        "found: cats/b.jpg: moved to cats/a.jpg since; put back from there to b.jpg; "
        "cats/b.jpg is another file now, left there",
    ], ["kept: cats/a.jpg: not the photo sorter put there, and 2 files have its size and time "
        "(cats/b.jpg, cats/keep/a.jpg): which is it cannot be told; left in place"])
    assert (exfat_card / ".sorter" / "journal.jsonl").is_file()

    (cats / "keep" / "a.jpg").unlink()
    assert undo(exfat_card) == ([
        f"Restored 1 file from 1 run in {exfat_card}.",
        "found: cats/a.jpg: moved to cats/b.jpg since; put back from there to a.jpg",
    ], [])
    assert layout(exfat_card) == before | {"cats": "dir", "cats/keep": "dir"}


def swapped(cats: Path, one: str, other: str) -> None:
    os.rename(cats / one, cats / "t")
    os.rename(cats / other, cats / one)
    os.rename(cats / "t", cats / other)


def edited(path: Path) -> None:
    with open(path, "ab") as file:  # a size no photo here has (theirs step by 4 bytes)
        file.write(b"EDITED BY HAND")


def touched(path: Path) -> None:
    os.utime(path, (1_577_836_800, 1_577_836_800))  # touch -d 2020-01-01


@pytest.mark.parametrize("change, at", [(edited, "a.jpg"), (edited, "b.jpg"), (touched, "b.jpg")],
                         ids=["b's photo edited at cats/a.jpg", "a's photo edited at cats/b.jpg",
                              "a's photo touched at cats/b.jpg"])
def test_on_an_exfat_card_a_swapped_photo_edited_since_never_goes_back_under_the_other_s_name(
        exfat_card: Path, change, at: str) -> None:
    """QA: names swapped, then one of the two edited or touched (its size or time another): the
    changed one, in the other's place and no sorted photo, was taken for that photo edited and put
    back under its name, the other said missing, and `.sorter/` removed. Now the photo that kept
    its size and time is found at the other's place and goes back to its own name; the changed one
    cannot be told from a photo edited there, so its move is kept with the journal, and the line
    says how to settle it. Done as it says, the next undo finishes, each under its own name."""
    before = sorted_card(exfat_card)
    cats = exfat_card / "cats"
    swapped(cats, "a.jpg", "b.jpg")
    change(cats / at)
    changed = (cats / at).read_bytes()
    kept, other = ("b.jpg", "a.jpg") if at == "a.jpg" else ("a.jpg", "b.jpg")  # the changed photo's name; the other

    assert undo(exfat_card) == ([
        f"Restored 2 files from 1 run in {exfat_card} (1 kept in place).",
        f"found: cats/{other}: moved to cats/{kept} since; put back from there to {other}; "
        f"cats/{other} is another file now, left there",
    ], [f"kept: cats/{kept}: not the photo sorter put there but cats/{other}'s, and cats/{other} holds another "
        f"file, which may be this one edited since: which cannot be told (move it back to cats/{kept} if it is, "
        "and undo again); left in place"])
    assert layout(exfat_card)[other] == before[other]  # the photo that kept its size and time, under its own name
    assert (cats / other).read_bytes() == changed and (exfat_card / ".sorter" / "journal.jsonl").is_file()

    os.rename(cats / other, cats / kept)  # as the line bids
    assert undo(exfat_card) == ([f"Restored 1 file from 1 run in {exfat_card}."], [])
    assert (exfat_card / kept).read_bytes() == changed
    assert {path: entry for path, entry in layout(exfat_card).items() if path != kept} == {
        path: entry for path, entry in before.items() if path != kept}


@pytest.mark.parametrize("photo", ["a", "b", "c"], ids=["a's photo edited", "b's photo edited", "c's photo edited"])
def test_on_an_exfat_card_three_photos_shifted_round_one_edited_keeps_the_edited_one_and_the_journal(
        exfat_card: Path, photo: str) -> None:
    """QA: three photos' names shifted round in cats/ (a's file to b's place, b's to c's, c's to
    a's, through a temporary name, as a user shuffling them does), then one of them edited: the
    two that kept their size and time went back, the edited one was said "missing" and `.sorter/`
    removed, so no later undo could put it back. Now the file at the edited photo's place is
    followed, photo to photo, to the place that holds a file no sorted photo (the edited one), and
    that move is kept with the journal, with the line of two names swapped then one edited; the
    other two go back, each under its own name. Done as the line says, the next undo finishes."""
    before = sorted_card(exfat_card)
    cats = exfat_card / "cats"
    os.rename(cats / "c.jpg", cats / "t")
    os.rename(cats / "b.jpg", cats / "c.jpg")
    os.rename(cats / "a.jpg", cats / "b.jpg")
    os.rename(cats / "t", cats / "a.jpg")
    after = {"a": "b", "b": "c", "c": "a"}  # whose place each photo's file is at now
    before_it = {now: was for was, now in after.items()}  # whose photo is at each place now
    at = after[photo]
    edited(cats / f"{at}.jpg")
    changed = (cats / f"{at}.jpg").read_bytes()

    result = runner.invoke(app, ["undo", str(exfat_card)])
    assert result.exit_code == 0, result.output
    assert (sorted(result.stdout.splitlines()), result.stderr.splitlines()) == (sorted([
        f"Restored 2 files from 1 run in {exfat_card} (1 kept in place).",
        f"found: cats/{before_it[photo]}.jpg: moved to cats/{photo}.jpg since; put back from there to "
        f"{before_it[photo]}.jpg",
        f"found: cats/{at}.jpg: moved to cats/{after[at]}.jpg since; put back from there to {at}.jpg; "
        f"cats/{at}.jpg is another file now, left there",
    ]), [f"kept: cats/{photo}.jpg: not the photo sorter put there but cats/{before_it[photo]}.jpg's, and "
         f"cats/{at}.jpg holds another file, which may be this one edited since: which cannot be told (move it "
         f"back to cats/{photo}.jpg if it is, and undo again); left in place"])
    assert os.listdir(cats) == [f"{at}.jpg"] and (cats / f"{at}.jpg").read_bytes() == changed
    assert (exfat_card / ".sorter" / "journal.jsonl").is_file()
    for back in set(after) - {photo}:
        assert layout(exfat_card)[f"{back}.jpg"] == before[f"{back}.jpg"]  # each under its own name

    os.rename(cats / f"{at}.jpg", cats / f"{photo}.jpg")  # as the line bids
    assert undo(exfat_card) == ([f"Restored 1 file from 1 run in {exfat_card}."], [])
    assert (exfat_card / f"{photo}.jpg").read_bytes() == changed
    assert {path: entry for path, entry in layout(exfat_card).items() if path != f"{photo}.jpg"} == {
        path: entry for path, entry in before.items() if path != f"{photo}.jpg"}


def sorted_twins(card: Path) -> dict:
    """B1.jpg and B2.jpg, two photos of one size and one time (burst shots), and c.jpg, sorted
    into cats/: the layout before the sort."""
    burst(card, 2)
    photos(card, BLUE, "c.jpg")
    before = layout(card)
    sort_folder(card, classifier=FakeClassifier())
    return before


def twins_kept(here: str, others: str, of: str, lead: str = "", files: int = 2) -> str:
    """The line of a burst shot's move kept: the user, who can look, is bid to open the files and
    move the one that was it back (not the file at its place, which may be another's photo)."""
    name = os.path.basename(here)
    return (f"kept: {here}: {lead}{files} files have its size and time ({others}), as had {of}'s photo: which is it "
            f"cannot be told (open them to see which was {name}, move that one back to {name} yourself, and undo "
            "again); left in place")


def test_on_an_exfat_card_two_photos_of_one_size_and_time_swapped_are_kept_not_guessed(exfat_card: Path) -> None:
    """QA: two burst shots of one size and time, their names swapped in cats/, went back each
    under the other's name, with no word. Told by size and time alone, either file may be either
    photo, and the inode numbers (which a rename keeps while the card stays in) say the file at
    each place is not the photo sorter put there: both moves are kept with the journal, never
    guessed, and the lines say how to settle them. Moved back by hand, the next undo finishes.
    (Left as sorted, each at its place has its own number, and both go back: test_undo.py's card.)"""
    before = sorted_twins(exfat_card)
    cats = exfat_card / "cats"
    swapped(cats, "B1.jpg", "B2.jpg")

    assert undo(exfat_card) == ([f"Restored 1 file from 1 run in {exfat_card} (2 kept in place)."], [
        twins_kept("cats/B1.jpg", "cats/B1.jpg, cats/B2.jpg", "cats/B2.jpg"),
        twins_kept("cats/B2.jpg", "cats/B1.jpg, cats/B2.jpg", "cats/B1.jpg"),
    ])
    assert (exfat_card / ".sorter" / "journal.jsonl").is_file() and (exfat_card / "c.jpg").is_file()

    os.rename(cats / "B2.jpg", exfat_card / "B1.jpg")  # as the lines bid
    os.rename(cats / "B1.jpg", exfat_card / "B2.jpg")
    assert undo(exfat_card) == ([f"Restored 0 files in {exfat_card} (2 already back where they were)."], [])
    assert layout(exfat_card) == before | {"cats": "dir"}  # emptied by hand: on a card, never told sorter's


def test_on_an_exfat_card_two_photos_of_one_size_and_time_shifted_are_kept_not_guessed(exfat_card: Path) -> None:
    """QA: `mv cats/B1.jpg cats/zz.jpg; mv cats/B2.jpg cats/B1.jpg` with two burst shots of one
    size and time: B2's photo went back as B1.jpg and B1's as B2.jpg ("found: cats/B2.jpg: moved to
    cats/zz.jpg since", false), with no word. Either file may be either photo: both are kept."""
    sorted_twins(exfat_card)
    cats = exfat_card / "cats"
    os.rename(cats / "B1.jpg", cats / "zz.jpg")
    os.rename(cats / "B2.jpg", cats / "B1.jpg")

    assert undo(exfat_card) == ([f"Restored 1 file from 1 run in {exfat_card} (2 kept in place)."], [
        twins_kept("cats/B1.jpg", "cats/B1.jpg, cats/zz.jpg", "cats/B2.jpg"),
        twins_kept("cats/B2.jpg", "cats/B1.jpg, cats/zz.jpg", "cats/B1.jpg", lead="no longer there, and "),
    ])
    assert sorted(os.listdir(cats)) == ["B1.jpg", "zz.jpg"] and (exfat_card / ".sorter" / "journal.jsonl").is_file()


def test_on_an_exfat_card_a_photo_shifted_then_another_edited_in_its_place_is_kept_not_put_under_its_name(
        exfat_card: Path) -> None:
    """QA: `mv cats/a.jpg cats/x.jpg; mv cats/b.jpg cats/a.jpg`, then cats/a.jpg edited: b's photo,
    edited, went back as a.jpg, b was said missing, and a's own photo stayed at cats/x.jpg. Told by
    size and time alone, the file at a's place may be a edited (a `cp -p` backup of a kept at
    cats/x.jpg: test_undo_moved_on's card) or b edited, as b's photo is nowhere: both moves are
    kept with the journal, never guessed, and the lines say how to settle them. Done as they say,
    the next undo puts each photo back under its own name."""
    before = sorted_card(exfat_card)
    cats = exfat_card / "cats"
    os.rename(cats / "a.jpg", cats / "x.jpg")
    os.rename(cats / "b.jpg", cats / "a.jpg")
    edited(cats / "a.jpg")
    changed = (cats / "a.jpg").read_bytes()

    assert undo(exfat_card) == ([f"Restored 1 file from 1 run in {exfat_card} (2 kept in place)."], [
        "kept: cats/a.jpg: not the photo sorter put there, its size and time are at cats/x.jpg, and cats/b.jpg's "
        "photo is nowhere: this file may be that one edited since, which cannot be told (move it to cats/b.jpg "
        "if it is, and undo again); left in place",
        "kept: cats/b.jpg: no longer there, and cats/a.jpg holds another file, which may be this one edited since "
        "(cats/a.jpg's photo may be at cats/x.jpg): which cannot be told (move it back to cats/b.jpg if it is, and "
        "undo again); left in place",
    ])
    assert sorted(os.listdir(cats)) == ["a.jpg", "x.jpg"] and (exfat_card / ".sorter" / "journal.jsonl").is_file()
    assert not (exfat_card / "a.jpg").exists() and not (exfat_card / "b.jpg").exists()

    os.rename(cats / "a.jpg", cats / "b.jpg")  # as the lines bid
    assert undo(exfat_card) == ([
        f"Restored 2 files from 1 run in {exfat_card}.",
        "found: cats/a.jpg: moved to cats/x.jpg since; put back from there to a.jpg",
    ], [])
    assert (exfat_card / "b.jpg").read_bytes() == changed
    assert {path: entry for path, entry in layout(exfat_card).items() if path != "b.jpg"} == {
        path: entry for path, entry in before.items() if path != "b.jpg"}


@pytest.mark.parametrize("twins", [2, 4])
def test_on_an_exfat_card_twins_left_as_sorted_go_back_after_the_card_was_taken_out_and_put_in_again(
        exfat_card: Path, twins: int) -> None:
    """QA, the card's everyday round: sort, take the card out, put it in again, undo with nothing
    touched. Burst shots of one size and time (4 here) were kept on every undo, for good ("Restored
    11 files ... (4 kept in place)", then "Restored 0 files ... (4 kept in place)"): put in again,
    the card numbers its files anew, so no file had its photo's inode number. Each at the place
    sorter put it, as sorted, they go back as sorted (a cycle of them among their own places, made
    before the card was taken out, cannot be told from this, and goes back so too: README)."""
    burst(exfat_card, twins)
    photos(exfat_card, BLUE, "c.jpg", "d.jpg")
    before = layout(exfat_card)
    sort_folder(exfat_card, classifier=FakeClassifier())
    remount(exfat_card)

    assert undo(exfat_card) == ([f"Restored {twins + 2} files from 1 run in {exfat_card}."], [])
    assert layout(exfat_card) == before  # each photo under its own name (by its bytes), .sorter/ gone


def test_on_an_exfat_card_four_twins_cycled_among_their_places_while_it_stays_in_are_kept(exfat_card: Path) -> None:
    """Four burst shots of one size and time, their names shifted round in cats/ while the card
    stays in: each place holds one of them, as sorted, but the inode numbers (which a rename
    keeps) say whose, so all four are kept, and each line counts the four ("4 files", it said
    "more than 3 files"), names three and counts the rest."""
    burst(exfat_card, 4)
    sort_folder(exfat_card, classifier=FakeClassifier())
    cats = exfat_card / "cats"
    os.rename(cats / "B1.jpg", cats / "t")
    for i in (2, 3, 4):
        os.rename(cats / f"B{i}.jpg", cats / f"B{i - 1}.jpg")
    os.rename(cats / "t", cats / "B4.jpg")

    everyone = "cats/B1.jpg, cats/B2.jpg, cats/B3.jpg and 1 more"
    assert undo(exfat_card) == ([f"Restored 0 files in {exfat_card} (4 kept in place)."], [
        twins_kept(f"cats/B{i}.jpg", everyone, f"cats/B{3 if i == 4 else 4}.jpg", files=4) for i in (1, 2, 3, 4)])
    assert (exfat_card / ".sorter" / "journal.jsonl").is_file()
