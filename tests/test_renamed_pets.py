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

import numpy as np
from conftest import tree
from test_learn import invoke, luna, photo

from sorter.files import suggestions
from sorter.model import personal


def luna_learnt(tmp_path: Path, model: Path) -> Path:
    """A sorted folder, six photos of Luna moved by hand into cats/Luna/, learnt; then two new
    photos of her dropped into the folder and one left unnamed at the top of cats/."""
    roll = tmp_path / "roll"
    for i in range(3):
        photo(roll / f"cat{i}.png", "cat", i)
    assert invoke("sort", roll, "--model", model).exit_code == 0
    for i in range(6):
        luna(roll / "cats" / "Luna" / f"luna{i}.png", 50 + i)
    learnt = invoke("learn", roll, "--model", model)
    assert learnt.exit_code == 0 and "cats/Luna: 6 photos" in learnt.stdout, learnt.output
    luna(roll / "cats" / "unnamed.png", 60)
    for i in range(2):
        luna(roll / f"new{i}.png", 70 + i)
    return roll


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
        older = {key: data[key] for key in data.files if not key.startswith("home_")}
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


def test_on_an_exfat_card_her_renamed_folder_is_not_found_by_a_number_made_up_at_mount(exfat_card: Path,
                                                                                         fake_model) -> None:
    """exFAT (and any FUSE driver) numbers a folder anew at each mount: another folder there may
    carry her folder's old number, so none is taken for hers. Her photos stay in cats/, said so."""
    from conftest import remount

    roll = luna_learnt(exfat_card / "x", fake_model)
    (roll / "cats" / "Luna").rename(roll / "cats" / "Lulu")
    remount(exfat_card)

    result = invoke("sort", roll, "--model", fake_model, "--json")

    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["pet_folders"] == {"cats/Luna": None}
    assert not (roll / "cats" / "Luna").exists() and (roll / "cats" / "new0.png").is_file()
