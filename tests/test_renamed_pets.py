"""A named pet's folder renamed (or removed) in the folder she was learnt from: sort, watch and
the review page's "might be" groups file her photos where her folder is now, or leave them in
cats/ when it is gone, and never make her old folder again beside the new one
(`files.pet_folders`). In any other folder, her folder is made by her name as before.

Run with the fake model of tests/test_learn.py: Luna is a blue photo with row stripes."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import cv2
import numpy as np
import pytest
from conftest import tree
from test_learn import invoke, luna, photo

from sorter.files import suggestions
from sorter.model import personal


def luna_learnt(tmp_path: Path, model: Path, milo_too: bool = False) -> Path:
    """A sorted folder, six photos of Luna moved by hand into cats/Luna/ (`milo_too`: and of Milo
    into cats/Milo/), learnt; then two new photos of her (and one of him: new-milo.png) dropped
    into the folder and one of her left unnamed at the top of cats/."""
    roll = tmp_path / "roll"
    for i in range(3):
        photo(roll / f"cat{i}.png", "cat", i)
    assert invoke("sort", roll, "--model", model).exit_code == 0
    for i in range(6):
        luna(roll / "cats" / "Luna" / f"luna{i}.png", 50 + i)
        if milo_too:
            milo(roll / "cats" / "Milo" / f"milo{i}.png", 80 + i)
    learnt = invoke("learn", roll, "--model", model)
    assert learnt.exit_code == 0 and "cats/Luna: 6 photos" in learnt.stdout, learnt.output
    assert not milo_too or "cats/Milo: 6 photos" in learnt.stdout, learnt.output
    luna(roll / "cats" / "unnamed.png", 60)
    for i in range(2):
        luna(roll / f"new{i}.png", 70 + i)
    if milo_too:
        milo(roll / "new-milo.png", 90)
    return roll


def milo(path: Path, seed: int) -> Path:
    """Milo: a violet cat, with a little noise."""
    rng = np.random.default_rng(seed)
    image = np.clip(np.array((140, 30, 210), np.int16) + rng.integers(-25, 26, (32, 32, 3)), 0, 255).astype(np.uint8)
    path.parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(path), cv2.cvtColor(image, cv2.COLOR_RGB2BGR))
    return path


def test_her_folder_renamed_where_she_was_learnt_takes_her_photos(tmp_path: Path, fake_model) -> None:
    roll = luna_learnt(tmp_path, fake_model)
    (roll / "cats" / "Luna").rename(roll / "cats" / "Lulu")  # the user renames her

    result = invoke("sort", roll, "--model", fake_model, "--name-pets")

    assert result.exit_code == 0, result.output
    assert (f"cats/Luna/ is now cats/Lulu/: Luna's photos go there (sorter learn {roll} to learn her as Lulu)"
            in result.stdout.splitlines()), result.stdout
    assert not (roll / "cats" / "Luna").exists()
    assert {p for p in tree(roll) if p.startswith("cats/")} == {
        *(f"cats/Lulu/luna{i}.png" for i in range(6)), "cats/Lulu/unnamed.png", "cats/Lulu/new0.png",
        "cats/Lulu/new1.png", *(f"cats/cat{i}.png" for i in range(3))}
    # Undone like any move; learnt again, she is Lulu, and the line is not said any more.
    assert invoke("undo", roll).exit_code == 0 and (roll / "cats" / "unnamed.png").is_file()
    assert "cats/Lulu: 6 photos" in invoke("learn", roll, "--model", fake_model).stdout
    again = invoke("sort", roll, "--model", fake_model, "--json")
    assert again.exit_code == 0 and json.loads(again.stdout)["pet_folders"] == {}, again.output
    assert json.loads(again.stdout)["moved_to"] == {"cats/Lulu": 2}


def test_her_folder_gone_from_where_she_was_learnt_leaves_her_photos_in_cats(tmp_path: Path, fake_model) -> None:
    roll = luna_learnt(tmp_path, fake_model)
    shutil.move(roll / "cats" / "Luna", tmp_path / "Luna")  # out of the folder: no sub-folder of cats/ is hers

    result = invoke("sort", roll, "--model", fake_model, "--json")

    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["pet_folders"] == {"cats/Luna": None} and report["moved_to"] == {"cats": 2}
    assert not (roll / "cats" / "Luna").exists() and (roll / "cats" / "new0.png").is_file()
    said = invoke("sort", roll, "--model", fake_model, "--name-pets")
    assert said.exit_code == 0 and not (roll / "cats" / "Luna").exists()
    assert (f"cats/Luna/ is no longer in {roll}: Luna's photos stay in cats/ (sorter learn {roll} to learn the "
            "folder as it is now)") in said.stdout.splitlines(), said.stdout


def test_in_another_folder_her_folder_is_made_by_her_name_as_before(tmp_path: Path, fake_model) -> None:
    roll = luna_learnt(tmp_path, fake_model)
    (roll / "cats" / "Luna").rename(roll / "cats" / "Lulu")
    later = tmp_path / "later"
    (later / "cats" / "Lulu").mkdir(parents=True)  # a folder of that name there is no matter
    luna(later / "luna.png", 80)

    result = invoke("sort", later, "--model", fake_model, "--json")

    assert result.exit_code == 0 and json.loads(result.stdout)["pet_folders"] == {}, result.output
    assert (later / "cats" / "Luna" / "luna.png").is_file()


def test_a_personal_model_from_before_folders_were_recorded_names_by_name(tmp_path: Path, fake_model) -> None:
    """An older personal.npz (no folders recorded) still loads, and files her photos by her name."""
    roll = luna_learnt(tmp_path, fake_model)
    assert [h.pet for h in personal.read_model().homes] == ["cats/Luna"]
    with np.load(personal.model_file()) as data:
        older = {key: data[key] for key in data.files if not key.startswith("home_") and key != personal.DIGEST}
    older["format"] = np.array(personal.FIRST_FORMAT)  # written before the digest, of the first format
    personal.write_arrays(personal.model_file(), older)
    assert personal.read_model().homes == () and personal.read_model().pets[0].names == ("Luna",)
    (roll / "cats" / "Luna").rename(roll / "cats" / "Lulu")

    result = invoke("sort", roll, "--model", fake_model, "--json")

    assert result.exit_code == 0 and json.loads(result.stdout)["moved_to"] == {"cats/Luna": 2}, result.output


def test_watch_files_her_photos_into_her_renamed_folder_and_says_so_once(tmp_path: Path, fake_model) -> None:
    from test_watch import run_in_thread, wait_until

    roll = luna_learnt(tmp_path, fake_model)
    (roll / "cats" / "Luna").rename(roll / "cats" / "Lulu")
    notices: list = []
    stop, thread, results = run_in_thread(roll, None, model=fake_model, on_notice=notices.append)
    try:
        assert wait_until(lambda: {"new0.png", "new1.png"} <= set(os.listdir(roll / "cats" / "Lulu")), 20), tree(roll)
        luna(roll / "later.png", 90)
        assert wait_until(lambda: (roll / "cats" / "Lulu" / "later.png").exists(), 20), tree(roll)
    finally:
        stop.set()
        thread.join(10)
    assert not any(isinstance(r, BaseException) for r in results), results
    said = f"cats/Luna/ is now cats/Lulu/: Luna's photos go there (sorter learn {roll} to learn her as Lulu)"
    assert [n.message for n in notices].count(said) == 1, notices
    assert not (roll / "cats" / "Luna").exists()


def test_the_review_page_asks_might_be_her_renamed_folder(tmp_path: Path, fake_model) -> None:
    """What a sort noted Luna might be, and what the user said is not her, go with her folder's
    new name: the page asks "might be cats/Lulu/", and naming one files it there."""
    from test_review_naming import almost_luna, name, sorted_with_near_misses, start

    root = sorted_with_near_misses(tmp_path / "roll", fake_model)
    noted = suggestions.read(root)
    noted.refuse("cats/Luna", (1, 2, 3), "cats/gone.png", 0.5, "review-1")
    suggestions.write(root, noted)
    (root / "cats" / "Luna").rename(root / "cats" / "Lulu")

    client, stop, thread = start(root)
    try:
        cards = client.cards()
        assert [cards[n]["heading"] for n in ("close.png", "closer.png")] == [("maybe", "cats/Lulu/")] * 2
        assert cards["close.png"]["might_be"] == "cats/Lulu"
        assert name(client, "close.png", "Lulu")[0] == 200
    finally:
        stop.set()
        thread.join(10)
    assert (root / "cats" / "Lulu" / "close.png").is_file() and not (root / "cats" / "Luna").exists()

    almost_luna(root / "closest.png", 34)
    result = invoke("sort", root, "--model", fake_model, "--json")
    assert result.exit_code == 0 and json.loads(result.stdout)["might_be"] == {"cats/Lulu": 2}, result.output
    noted = suggestions.read(root)
    assert set(noted.pets) == {"cats/Lulu"} and set(noted.refused) == {"cats/Lulu"}


@pytest.mark.parametrize("renamed", ["Lulu", "luna"])
def test_photos_first_noted_after_her_folder_was_renamed_are_asked_might_be_her_folder_on_the_page(
        tmp_path: Path, fake_model, renamed: str) -> None:
    """A sort after cats/Luna was renamed notes what Luna came close to under her folder now, and
    says "Might be cats/Lulu"; the review page asks the same. It showed no "might be" group: read
    back, cats/Lulu's group was taken for a pet named Lulu, none, and cats/luna's (her folder
    renamed but for case) for the pet named luna learnt elsewhere, whose folder it is not."""
    from test_review_naming import almost_luna, name, start

    other = tmp_path / "other"  # another cat named luna, learnt in another folder
    for i in range(6):
        milo(other / "cats" / "luna" / f"milo{i}.png", 80 + i)
    assert invoke("learn", other, "--model", fake_model).exit_code == 0
    root = tmp_path / "roll"
    for i in range(6):
        luna(root / "cats" / "Luna" / f"luna{i}.png", 50 + i)
    assert invoke("learn", root, "--model", fake_model).exit_code == 0
    (root / "cats" / "Luna").rename(root / "cats" / renamed)  # after learn, before any group was noted
    almost_luna(root / "close.png", 32)
    almost_luna(root / "closer.png", 33)

    sorted_ = invoke("sort", root, "--model", fake_model)

    assert sorted_.exit_code == 0, sorted_.output
    assert (f"Might be cats/{renamed} (2 photos): sorter review {root} asks about them"
            in sorted_.stdout.splitlines()), sorted_.stdout
    client, stop, thread = start(root)
    try:
        cards = client.cards()
        assert [cards[n]["heading"] for n in ("close.png", "closer.png")] == [("maybe", f"cats/{renamed}/")] * 2
        assert cards["close.png"]["might_be"] == f"cats/{renamed}"
        assert name(client, "close.png", renamed)[0] == 200
    finally:
        stop.set()
        thread.join(10)
    assert (root / "cats" / renamed / "close.png").is_file() and not (root / "cats" / "Luna").exists()


def test_on_an_exfat_card_her_renamed_folder_is_found_by_her_photos_not_by_a_number_made_up_at_mount(
    exfat_card: Path, fake_model,
) -> None:
    """exFAT (and any FUSE driver) numbers a folder anew at each mount: another folder there may
    carry her folder's old number, so none is taken for hers by it. Her renamed folder is hers by
    the photos she was learnt from in it (their names, sizes and times); one that holds none of
    them and has her old number is not."""
    from conftest import remount

    roll = luna_learnt(exfat_card / "x", fake_model)
    (roll / "cats" / "Luna").rename(roll / "cats" / "Lulu")
    remount(exfat_card)

    result = invoke("sort", roll, "--model", fake_model, "--json")

    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["pet_folders"] == {"cats/Luna": "cats/Lulu"}
    assert not (roll / "cats" / "Luna").exists() and (roll / "cats" / "Lulu" / "new0.png").is_file()
    for taken_out in (roll / "cats" / "Lulu").iterdir():  # her photos taken out: the folder is no longer hers
        taken_out.rename(roll / taken_out.name)
    remount(exfat_card)
    luna(roll / "new2.png", 72)
    result = invoke("sort", roll, "--model", fake_model, "--json")
    assert json.loads(result.stdout)["pet_folders"] == {"cats/Luna": None}, result.output
    assert not (roll / "cats" / "Luna").exists() and os.listdir(roll / "cats" / "Lulu") == []


def test_two_pets_folders_swapped_each_pets_photos_follow_her_folder(tmp_path: Path, fake_model) -> None:
    roll = luna_learnt(tmp_path, fake_model, milo_too=True)
    cats = roll / "cats"
    (cats / "Luna").rename(tmp_path / "t")  # mv cats/Luna t; mv cats/Milo cats/Luna; mv t cats/Milo
    (cats / "Milo").rename(cats / "Luna")
    (tmp_path / "t").rename(cats / "Milo")

    result = invoke("sort", roll, "--model", fake_model)

    assert result.exit_code == 0, result.output
    assert (cats / "Milo" / "new0.png").is_file() and (cats / "Luna" / "new-milo.png").is_file(), tree(roll)
    lines = result.stdout.splitlines()
    assert f"cats/Luna/ is now cats/Milo/: Luna's photos go there (sorter learn {roll} to learn her as Milo)" in lines
    assert f"cats/Milo/ is now cats/Luna/: Milo's photos go there (sorter learn {roll} to learn her as Luna)" in lines


def test_a_folder_that_is_another_pets_by_identity_is_not_taken_for_its_name(tmp_path: Path, fake_model) -> None:
    """rm -rf cats/Milo; mv cats/Luna cats/Milo: cats/Milo is Luna's. Milo's photos stay in
    cats/ rather than mix with hers, and what was noted of each stays apart."""
    roll = luna_learnt(tmp_path, fake_model, milo_too=True)
    cats = roll / "cats"
    noted = suggestions.read(roll)
    noted.add("cats/Luna", "cats/cat0.png", (1, 1, 1), 0.5)
    noted.refuse("cats/Luna", (1, 2, 3), "cats/x.png", 0.5, "review-1")
    noted.refuse("cats/Milo", (4, 5, 6), "cats/y.png", 0.5, "review-1")
    suggestions.write(roll, noted)
    shutil.rmtree(cats / "Milo")
    (cats / "Luna").rename(cats / "Milo")

    result = invoke("sort", roll, "--model", fake_model)

    assert result.exit_code == 0, result.output
    assert (cats / "Milo" / "new0.png").is_file() and (cats / "new-milo.png").is_file(), tree(roll)
    lines = result.stdout.splitlines()
    assert f"cats/Luna/ is now cats/Milo/: Luna's photos go there (sorter learn {roll} to learn her as Milo)" in lines
    assert (f"cats/Milo/ is Luna's folder now: Milo's photos stay in cats/ (sorter learn {roll} to learn them as "
            "they are)") in lines, lines
    noted = suggestions.read(roll)
    assert {pet: set(answers) for pet, answers in noted.refused.items()} == {"cats/Milo": {(1, 2, 3)}}
    assert {pet: set(answers) for pet, answers in noted.parked.items()} == {"cats/Milo": {(4, 5, 6)}}
    # Milo's folder made again: his answers are his again, Luna's stay with hers.
    (cats / "Lulu").mkdir()
    (cats / "Milo").rename(cats / "Lulu")
    (cats / "Milo").mkdir()
    assert invoke("sort", roll, "--model", fake_model).exit_code == 0
    noted = suggestions.read(roll)
    assert {pet: set(answers) for pet, answers in noted.refused.items()} == {"cats/Lulu": {(1, 2, 3)},
                                                                           "cats/Milo": {(4, 5, 6)}}
    assert noted.parked == {}


def test_a_folder_with_her_folders_number_and_none_of_her_photos_is_not_hers(tmp_path: Path, fake_model) -> None:
    """ext4 gives a folder made after hers was deleted her folder's number, almost always: a
    folder is hers by its number only while it holds one of the photos she was learnt from."""
    roll = luna_learnt(tmp_path, fake_model)
    cats = roll / "cats"
    (cats / "Luna").rename(cats / "Bob")
    for i in range(6):  # her photos taken out, and one copied back: another file
        (cats / "Bob" / f"luna{i}.png").rename(tmp_path / f"luna{i}.png")
    shutil.copy(tmp_path / "luna0.png", cats / "Bob" / "luna0.png")

    result = invoke("sort", roll, "--model", fake_model, "--json")

    assert result.exit_code == 0 and json.loads(result.stdout)["pet_folders"] == {"cats/Luna": None}, result.output
    assert (cats / "new0.png").is_file() and sorted(os.listdir(cats / "Bob")) == ["luna0.png"]
    # One of her own photos back in it: hers.
    (tmp_path / "luna3.png").rename(cats / "Bob" / "luna3.png")
    luna(roll / "new2.png", 72)
    result = invoke("sort", roll, "--model", fake_model, "--json")
    assert json.loads(result.stdout)["pet_folders"] == {"cats/Luna": "cats/Bob"}, result.output
    assert (cats / "Bob" / "new2.png").is_file()

    # Deleted, and a folder made: on ext4 it has her folder's number (elsewhere, another). Not hers.
    shutil.rmtree(cats / "Bob")
    (cats / "Zed").mkdir()
    luna(roll / "new3.png", 73)
    result = invoke("sort", roll, "--model", fake_model, "--json")
    assert json.loads(result.stdout)["pet_folders"] == {"cats/Luna": None}, result.output
    assert os.listdir(cats / "Zed") == [] and (cats / "new3.png").is_file()


def test_her_folder_renamed_to_a_date_is_said_to_be_one(tmp_path: Path, fake_model) -> None:
    roll = luna_learnt(tmp_path, fake_model)
    (roll / "cats" / "Luna").rename(roll / "cats" / "2019")

    result = invoke("sort", roll, "--model", fake_model)

    assert result.exit_code == 0, result.output
    assert ("cats/Luna/ is now cats/2019/, a name sorter takes for a folder by date, not a pet's: Luna's photos "
            "stay in cats/ (give it a name with a letter and no year for them to go there)"
            in result.stdout.splitlines()), result.stdout
    assert (roll / "cats" / "new0.png").is_file() and not (roll / "cats" / "Luna").exists()


def test_renamed_back_her_suggestions_and_answers_come_back_with_her(tmp_path: Path, fake_model) -> None:
    from test_review_naming import sorted_with_near_misses

    root = sorted_with_near_misses(tmp_path / "roll", fake_model)
    noted = suggestions.read(root)
    noted.refuse("cats/Luna", (1, 2, 3), "cats/gone.png", 0.5, "review-1")
    suggestions.write(root, noted)
    cats = root / "cats"

    (cats / "Luna").rename(cats / "Lulu")
    assert json.loads(invoke("sort", root, "--model", fake_model, "--json").stdout)["might_be"] == {"cats/Lulu": 2}
    assert set(suggestions.read(root).refused) == {"cats/Lulu"}
    (cats / "Lulu").rename(cats / "Luna")
    result = invoke("sort", root, "--model", fake_model, "--json")

    assert result.exit_code == 0 and json.loads(result.stdout)["might_be"] == {"cats/Luna": 2}, result.output
    noted = suggestions.read(root)
    assert set(noted.pets) == {"cats/Luna"} and {pet: set(a) for pet, a in noted.refused.items()} == {
        "cats/Luna": {(1, 2, 3)}}


def test_the_review_page_names_her_by_her_folders_name_now(tmp_path: Path, fake_model) -> None:
    """After cats/Luna -> cats/Lulu the page offers Lulu, and "Luna" typed is her: into cats/Lulu/,
    not a new cats/Luna/ beside it."""
    from test_review_naming import name, sorted_with_near_misses, start

    root = sorted_with_near_misses(tmp_path / "roll", fake_model)
    (root / "cats" / "Luna").rename(root / "cats" / "Lulu")

    client, stop, thread = start(root)
    try:
        status, answer = name(client, "plain.png", "luna")
        assert status == 200 and answer["photo"]["path"] == "cats/Lulu/plain.png", answer
        assert answer["pets"] == {"cat": ["Lulu"], "dog": []}
    finally:
        stop.set()
        thread.join(10)
    assert (root / "cats" / "Lulu" / "plain.png").is_file() and not (root / "cats" / "Luna").exists()


def test_her_folder_moved_among_the_dogs_is_said_to_be_and_takes_no_cat(tmp_path: Path, fake_model) -> None:
    """cats/Luna moved into dogs/ (by mistake, or because a dog's folder it became): a cat's
    photos never go into a dog's folder, and neither does a dog pet of her name take a folder
    that is hers by identity."""
    roll = luna_learnt(tmp_path, fake_model)
    (roll / "dogs").mkdir(exist_ok=True)
    (roll / "cats" / "Luna").rename(roll / "dogs" / "Luna")

    result = invoke("sort", roll, "--model", fake_model, "--name-pets")

    assert result.exit_code == 0, result.output
    assert (f"cats/Luna/ is now dogs/Luna/: Luna's photos stay in cats/ (sorter learn {roll} to learn the "
            "folders as they are now)") in result.stdout.splitlines(), result.stdout
    assert not (roll / "cats" / "Luna").exists()
    assert sorted(p for p in tree(roll) if p.startswith("dogs/Luna/")) == [f"dogs/Luna/luna{i}.png" for i in range(6)]
    assert {"cats/new0.png", "cats/new1.png", "cats/unnamed.png"} <= set(tree(roll))


def test_a_page_loaded_before_her_folder_was_renamed_asks_for_a_reload_then_offers_her_new_name(
    tmp_path: Path, fake_model,
) -> None:
    """A rename writes no journal: a page listed before it offered Luna, and naming a photo
    "Luna" there made cats/Luna/ again beside cats/Lulu/."""
    from test_review_naming import name, sorted_with_near_misses, start

    root = sorted_with_near_misses(tmp_path / "roll", fake_model)
    client, stop, thread = start(root)
    try:
        card = client.cards()["plain.png"]  # the page, loaded while she is cats/Luna
        (root / "cats" / "Luna").rename(root / "cats" / "Lulu")
        status, answer = client.json("POST", "/api/move", {"id": card["id"], "to": "cat", "pet": "Luna",
                                                           "generation": client.generation})
        assert status == 409 and "reload the page" in answer["error"], answer
        assert not (root / "cats" / "Luna").exists()
        status, answer = name(client, "plain.png", "Luna")  # reloaded: she is Lulu
        assert status == 200 and answer["photo"]["path"] == "cats/Lulu/plain.png", answer
        assert answer["pets"] == {"cat": ["Lulu"], "dog": []}
    finally:
        stop.set()
        thread.join(10)
    assert not (root / "cats" / "Luna").exists()


def test_a_photo_left_in_place_that_nearly_was_her_is_noted_for_her_renamed_folder(tmp_path: Path) -> None:
    """A photo left as neither that her head nearly named was noted under cats/Luna after her
    folder became cats/Lulu: the sort said "Might be cats/Luna (1 photo), cats/Lulu (9 photos)"."""
    from sorter.files.pet_folders import PetFolders
    from sorter.model.inference import Prediction
    from sorter.model.pet_heads import Nearly
    from sorter.sorting.pet_homes import at_home

    here = PetFolders(tmp_path, frozenset({"cats/Luna"}), {"cats/Luna": "cats/Lulu"})
    three = ("cat", "dog", "other")
    garden = Prediction(tmp_path / "garden.jpg", (0.05, 0.05, 0.9), three, nearly=Nearly("cats/Luna", 0.8))
    assert garden.label == "other" and at_home(garden, here).nearly == Nearly("cats/Lulu", 0.8)
    named = Prediction(tmp_path / "luna.jpg", (0.9, 0.05, 0.05), three, pet="Luna")
    assert at_home(named, here).pet == "Lulu"


def test_her_folder_that_cannot_be_made_fails_her_photos_alone_and_watch_retries_them(tmp_path: Path,
                                                                                    fake_model) -> None:
    """A plain file where her folder goes (or a cats/ made immutable) stopped the whole sort:
    `Error: D/cats/Luna: File exists`, exit 1, the dogs not moved either."""
    import subprocess

    from test_watch import run_in_thread, wait_until
    from test_watch_mishaps import FAST

    luna_learnt(tmp_path, fake_model)
    later = tmp_path / "later"
    (later / "cats").mkdir(parents=True)
    (later / "cats" / "Luna").write_text("her vet's notes\n")
    luna(later / "luna.png", 80)
    photo(later / "rex.png", "dog", 81)
    photo(later / "tom.png", "cat", 82)
    # The dry run says so too; it planned her photo without a word.
    dry = invoke("sort", later, "--model", fake_model, "--dry-run")
    assert dry.exit_code == 0 and dry.stdout.endswith(
        "cats/Luna is a file, not a folder; 1 photo would not move\n"), dry.output

    result = invoke("sort", later, "--model", fake_model, "-v")

    assert result.exit_code == 1, result.output
    assert "failed: luna.png: cats/Luna is a file, not a folder" in result.stderr, result.output
    assert "│ left in place: failed │ cats/Luna is a file, not a folder │     1 │" in result.stdout, result.stdout
    assert set(tree(later)) == {"cats/Luna", "luna.png", "dogs/rex.png", "cats/tom.png"}

    (later / "cats" / "Luna").unlink()
    if subprocess.run(["chattr", "+i", str(later / "cats")], capture_output=True).returncode != 0:
        return  # no immutable folders here (not root, or a filesystem without them)
    try:
        dry = invoke("sort", later, "--model", fake_model, "--dry-run")  # her folder is made in cats/
        assert dry.exit_code == 0 and dry.stdout.endswith(
            "cats/ cannot be written: it is marked immutable (chattr -i cats to free it); 1 photo would not "
            "move\n"), dry.output
        result = invoke("sort", later, "--model", fake_model, "-v")
        assert result.exit_code == 1, result.output
        said = "failed: luna.png: cannot move into cats/: it is marked immutable (chattr -i cats to free it)"
        assert said in result.stderr, result.output
        notices: list = []
        stop, thread, results = run_in_thread(later, None, model=fake_model, on_notice=notices.append,
                                               settings=FAST)
        try:
            said = ("could not sort 1 file: cannot move into cats/: it is marked immutable (chattr -i cats to free it);"
                    " retrying at each scan")
            assert wait_until(lambda: said in [n.message for n in notices], 20), notices
            subprocess.run(["chattr", "-i", str(later / "cats")], check=True)
            assert wait_until(lambda: (later / "cats" / "Luna" / "luna.png").exists(), 20), notices
        finally:
            stop.set()
            thread.join(10)
    finally:
        subprocess.run(["chattr", "-i", str(later / "cats")], capture_output=True)
    assert [n.message for n in notices].count(said) == 1, notices


def test_her_folder_deleted_where_she_was_learnt_stays_unnamed_there_once_learnt_though_named_elsewhere(
        tmp_path: Path, fake_model) -> None:
    """Luna learnt in two folders; the user deletes cats/Luna/ from one, roll. Until roll is learnt
    again her photos stay in cats/ there, said so; `learn roll` forgot her photos there, and with
    them that roll was where she was learnt: roll became any other folder, the review page
    offered her again ("Might be cats/Luna/", Name… Luna) and the next sort made cats/Luna/ again.
    Learnt so, she is not named in roll any more, said once by learn: no folder made, nothing
    offered, through later learns of the other folder, until the user makes her folder again."""
    from test_review_naming import almost_luna
    from test_review_server import start

    for i in range(6):
        luna(tmp_path / "other" / "cats" / "Luna" / f"luna{i}.png", 150 + i)
    assert invoke("learn", tmp_path / "other", "--model", fake_model).exit_code == 0
    roll = tmp_path / "roll"
    photo(roll / "cat0.png", "cat", 0)
    assert invoke("sort", roll, "--model", fake_model).exit_code == 0
    for i in range(6):
        luna(roll / "cats" / "Luna" / f"luna{i}.png", 50 + i)
    assert "cats/Luna: 12 photos" in invoke("learn", roll, "--model", fake_model).stdout
    almost_luna(roll / "close.png", 32)
    assert "Might be cats/Luna (1 photo)" in invoke("sort", roll, "--model", fake_model).stdout
    shutil.rmtree(roll / "cats" / "Luna")  # the user deletes her folder

    learnt = invoke("learn", roll, "--model", fake_model)

    assert learnt.exit_code == 0, learnt.output
    assert (f"cats/Luna/ is no longer in {roll}: Luna is not named here any more, and her photos stay in cats/ (she "
            f"is still named from another folder; mkdir {roll / 'cats' / 'Luna'} for them to go there).") \
        in learnt.stdout.splitlines(), learnt.stdout
    assert "cats/Luna: 6 photos" in learnt.stdout  # still named, from the other folder
    client, stop, thread = start(roll)
    try:
        status, groups = client.json("GET", "/api/groups")
        assert status == 200 and groups["pets"] == {"cat": [], "dog": []}, groups["pets"]
        assert [(g["status"], g["title"]) for g in groups["groups"]] == [("moved", "cats/")]
    finally:
        stop.set()
        thread.join(10)
    luna(roll / "new0.png", 70)
    result = invoke("sort", roll, "--model", fake_model, "--name-pets")
    assert result.exit_code == 0 and "cats/Luna" not in result.stdout, result.stdout  # nothing said at each sort
    assert not (roll / "cats" / "Luna").exists() and (roll / "cats" / "new0.png").is_file()

    # Kept through a learn of the other folder; her folder made again by hand is hers again.
    assert invoke("learn", tmp_path / "other", "--model", fake_model).exit_code == 0
    luna(roll / "new1.png", 71)
    again = invoke("sort", roll, "--model", fake_model, "--json")
    assert json.loads(again.stdout)["pet_folders"] == {"cats/Luna": None}, again.output
    assert not (roll / "cats" / "Luna").exists() and (roll / "cats" / "new1.png").is_file()
    (roll / "cats" / "Luna").mkdir()
    luna(roll / "new2.png", 72)
    back = invoke("sort", roll, "--model", fake_model, "--json")
    assert json.loads(back.stdout)["moved_to"] == {"cats/Luna": 1}, back.output



def test_a_pet_whose_folders_are_deleted_everywhere_is_not_said_learnt_from_the_last_alone(
        tmp_path: Path, fake_model) -> None:
    """Luna learnt in two folders, her folder deleted from both, each learnt again: the last learn
    said "Luna, learnt from it alone, is no longer a named pet", though she was learnt from the
    first folder too. It says what is true of both."""
    roll, other = tmp_path / "roll", tmp_path / "other"
    for i in range(6):
        luna(other / "cats" / "Luna" / f"luna{i}.png", 150 + i)
        luna(roll / "cats" / "Luna" / f"luna{i}.png", 50 + i)
    photo(other / "dogs" / "rex.png", "dog", 0)  # what keeps a personal model once she is forgotten
    for folder in (other, roll):
        assert "cats/Luna: " in invoke("learn", folder, "--model", fake_model).stdout
    shutil.rmtree(roll / "cats" / "Luna")
    assert "she is still named from another folder" in invoke("learn", roll, "--model", fake_model).stdout
    shutil.rmtree(other / "cats" / "Luna")

    learnt = invoke("learn", other, "--model", fake_model)

    assert learnt.exit_code == 0, learnt.output
    assert (f"cats/Luna/ is no longer in {other}: Luna is no longer a named pet (no folder learnt has her photos "
            "any more).") in learnt.stdout.splitlines(), learnt.stdout
    assert "alone" not in learnt.stdout, learnt.stdout


def luna_and_luna_learnt(tmp_path: Path, model: Path) -> Path:
    """Two cats learnt whose folders differ only in case: Luna (striped) in cats/Luna/ and luna
    (Milo's violet) in cats/luna/."""
    roll = tmp_path / "roll"
    for i in range(3):
        photo(roll / f"cat{i}.png", "cat", i)
    assert invoke("sort", roll, "--model", model).exit_code == 0
    for i in range(6):
        luna(roll / "cats" / "Luna" / f"luna{i}.png", 50 + i)
        milo(roll / "cats" / "luna" / f"violet{i}.png", 80 + i)
    learnt = invoke("learn", roll, "--model", model)
    assert learnt.exit_code == 0 and "cats/Luna and cats/luna differ only in case: learnt as 2 pets" in learnt.stdout
    return roll


def test_the_review_page_names_each_of_two_pets_renamed_by_her_old_name_as_spelled(tmp_path: Path,
                                                                                   fake_model) -> None:
    """cats/Luna -> cats/Lulu and cats/luna -> cats/Bella: "luna" typed is Bella (it was Lulu,
    the first in sorted order), "Luna" Lulu, and "LUNA", either of them, is asked again."""
    from test_review_naming import name, start

    roll = luna_and_luna_learnt(tmp_path, fake_model)
    (roll / "cats" / "Luna").rename(roll / "cats" / "Lulu")
    (roll / "cats" / "luna").rename(roll / "cats" / "Bella")

    client, stop, thread = start(roll)
    try:
        assert name(client, "cat0.png", "luna")[1]["photo"]["path"] == "cats/Bella/cat0.png"
        assert name(client, "cat1.png", "Luna")[1]["photo"]["path"] == "cats/Lulu/cat1.png"
        assert name(client, "cat2.png", "LUNA") == (409, {"error": (
            "LUNA could be cats/Luna and cats/luna, which differ only in case: type the name as its folder spells it")})
    finally:
        stop.set()
        thread.join(10)
    assert (roll / "cats" / "cat2.png").is_file() and not (roll / "cats" / "LUNA").exists()


def test_a_folder_two_pets_share_but_for_case_is_neithers_and_hers_is_made_beside_it(tmp_path: Path,
                                                                                    fake_model) -> None:
    """Luna and luna learnt, and in another folder the user's own cats/LUNA/: it is either's by
    its name, so neither's; Luna's photo goes into a cats/Luna/ made beside it, as README says."""
    luna_and_luna_learnt(tmp_path, fake_model)
    later = tmp_path / "later"
    (later / "cats" / "LUNA").mkdir(parents=True)
    luna(later / "striped.png", 90)

    result = invoke("sort", later, "--model", fake_model, "--json")

    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["moved_to"] == {"cats/Luna": 1}, result.stdout
    assert set(tree(later / "cats")) == {"Luna/striped.png"} and (later / "cats" / "LUNA").is_dir()
