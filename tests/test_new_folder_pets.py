"""A folder where a pet was learnt, replaced by another at its path (`mv L L3; mkdir L`), copied
without her folder, or undone whole (`undo --all`): which folder she was learnt in is told by its
journal (`folder.first_run`, recorded with her folder and with each photo learnt), not by the
path alone; `learn` forgets only what it learnt from the folder it reads, and every hint sort and
learn give about her folder leads somewhere that changes what they say next.

Run with the fake model of tests/test_learn.py: Luna is a blue photo with row stripes."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from conftest import tree
from test_copied_pets import cats_of, copied
from test_learn import invoke, luna, sorted_and_corrected
from test_renamed_pets import luna_learnt

from sorter.model import personal


def test_a_new_folder_at_the_path_she_was_learnt_at_is_another_folder(tmp_path: Path, fake_model) -> None:
    """L learnt (Luna and 6 corrections), then `mv L L3; mkdir L`: the new L's journal began
    with another run, so it is a folder she was never learnt in. A sort there makes cats/Luna/ for
    her photos as in any other folder (it said "cats/Luna/ is no longer in L", whose hint was to
    learn L), and `learn L` keeps what was learnt in L3 (it deleted the whole personal model)."""
    roll = luna_learnt(tmp_path, fake_model)
    sorted_and_corrected(roll, fake_model, seed=500)
    first = invoke("learn", roll, "--model", fake_model)
    assert first.exit_code == 0 and "Saved" in first.stdout, first.output
    learnt = personal.read_examples()
    moved = roll.rename(tmp_path / "L3")
    roll.mkdir()
    for i in range(3):
        luna(roll / f"new{i}.png", 80 + i)

    sorted_new = invoke("sort", roll, "--model", fake_model, "--json")

    assert sorted_new.exit_code == 0, sorted_new.output
    assert json.loads(sorted_new.stdout)["pet_folders"] == {}, sorted_new.stdout
    assert cats_of(roll) == {f"cats/Luna/new{i}.png" for i in range(3)}, tree(roll)
    again = invoke("learn", roll, "--model", fake_model)
    assert again.exit_code == 0, again.output
    # Nothing placed in the new L (sort filed her photos there): nothing to fit, the model as it was.
    assert "Deleted the personal model" not in again.stdout, again.stdout
    assert again.stdout.endswith(" Your personal model is unchanged.\n"), again.stdout
    assert "Forgot" not in again.stdout, again.stdout
    assert personal.model_file().is_file()
    assert set(learnt.paths) <= set(personal.read_examples().paths)  # L3's, as learnt there: none forgotten
    # L3, where she lives, still names her: her new photo goes into cats/Luna/ there.
    luna(moved / "later.png", 90)
    there = invoke("sort", moved, "--model", fake_model, "--json")
    assert there.exit_code == 0 and json.loads(there.stdout)["moved_to"] == {"cats/Luna": 1}, there.output
    assert (moved / "cats" / "Luna" / "later.png").is_file()


def test_learn_forgets_what_it_learnt_from_the_folder_itself_and_says_so(tmp_path: Path, fake_model) -> None:
    """Her folder deleted where she was learnt: `learn` there forgets her six photos, said in a
    line of its own, and her with them, said too (she was forgotten without a word of her), and
    keeps the folder's other correction."""
    roll = luna_learnt(tmp_path, fake_model)
    shutil.rmtree(roll / "cats" / "Luna")

    result = invoke("learn", roll, "--model", fake_model)

    assert result.exit_code == 0, result.output
    assert (f"Forgot 6 photos you placed in {roll}, learnt before: not in it now (deleted, edited or moved out since)."
            in result.stdout.splitlines()), result.stdout
    assert (f"cats/Luna/ is no longer in {roll}: Luna is no longer a named pet (no folder learnt has her photos any more)."
            in result.stdout.splitlines()), result.stdout
    assert "Saved" in result.stdout and "cats/Luna:" not in result.stdout, result.stdout  # no line of hers as learnt


def stays_line(copy: Path, learnt_in: Path) -> str:
    return (f"cats/Luna/ is not in {copy}, a move or a copy of {learnt_in}, where Luna was learnt: Luna's photos "
            f"stay in cats/ (mkdir {copy / 'cats' / 'Luna'} for them to go there)")


def test_in_a_copy_without_her_folder_each_hint_leads_somewhere(tmp_path: Path, fake_model) -> None:
    """`cp -a L L2cp` and cats/Luna deleted there: `learn L2cp` suggested `sort --name-pets`,
    which left her photos in cats/, and that sort suggested `learn L2cp`, which changed nothing
    (she was learnt in L): round and round. Learning the copy changes nothing of her, so neither
    says to: both say why her photos stay in cats/ and what makes them go into her folder, and
    it does."""
    roll = luna_learnt(tmp_path, fake_model)
    copy = copied(roll, tmp_path / "L2cp")
    shutil.rmtree(copy / "cats" / "Luna")

    learnt = invoke("learn", copy, "--model", fake_model)

    assert learnt.exit_code == 0, learnt.output
    assert "--name-pets" not in learnt.stdout, learnt.stdout
    assert stays_line(copy, roll) in learnt.stdout.splitlines(), learnt.stdout
    result = invoke("sort", copy, "--model", fake_model)
    assert result.exit_code == 0 and stays_line(copy, roll) in result.stdout.splitlines(), result.output
    assert "sorter learn" not in result.stdout, result.stdout
    (copy / "cats" / "Luna").mkdir()  # as the line says
    named = invoke("sort", copy, "--model", fake_model, "--name-pets", "--json")
    assert named.exit_code == 0 and json.loads(named.stdout)["pet_folders"] == {}, named.output
    assert {"cats/Luna/new0.png", "cats/Luna/new1.png", "cats/Luna/unnamed.png"} <= cats_of(copy), tree(copy)


def test_a_copy_made_before_she_was_named_is_not_said_to_have_lost_her_folder(tmp_path: Path, fake_model) -> None:
    """A copy made before Luna was named never had her folder, and cannot be told from one where it
    was deleted (the same journal): her photos stay in cats/ there too, and sort says only what it
    knows ("is not in", not "is no longer in")."""
    roll = tmp_path / "roll"
    for i in range(3):
        luna(roll / f"cat{i}.png", 40 + i)
    assert invoke("sort", roll, "--model", fake_model).exit_code == 0
    copy = copied(roll, tmp_path / "L2cp")
    for i in range(6):
        luna(roll / "cats" / "Luna" / f"luna{i}.png", 50 + i)
    assert "cats/Luna: 6 photos" in invoke("learn", roll, "--model", fake_model).stdout
    luna(copy / "new0.png", 70)

    result = invoke("sort", copy, "--model", fake_model)

    assert result.exit_code == 0, result.output
    assert stays_line(copy, roll) in result.stdout.splitlines(), result.stdout
    assert "no longer" not in result.stdout and (copy / "cats" / "new0.png").is_file(), tree(copy)


@pytest.mark.parametrize("where", ["original", "copy"])
def test_after_undo_all_her_deleted_folder_is_made_again_in_the_original_as_in_a_copy(tmp_path: Path, fake_model,
                                                                                    where: str) -> None:
    """`undo --all` removes .sorter/, and with it the journal that told the folder from one she was
    never learnt in: a copy without her folder made cats/Luna/ again at its next sort while the
    original, known by its path alone, kept her photos in cats/. Both are now folders new to
    sorter, and make her folder as any such folder does."""
    roll = luna_learnt(tmp_path, fake_model)
    folder = roll if where == "original" else copied(roll, tmp_path / "L2cp")
    shutil.rmtree(folder / "cats" / "Luna")
    assert invoke("undo", folder, "--all").exit_code == 0
    assert not (folder / ".sorter").exists()

    result = invoke("sort", folder, "--model", fake_model, "--json")

    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["pet_folders"] == {}, result.stdout
    assert {"cats/Luna/new0.png", "cats/Luna/new1.png"} <= cats_of(folder), tree(folder)
