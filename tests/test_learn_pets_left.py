"""What `sorter learn` says of a named pet whose folder is deleted or renamed in one folder while
another folder learnt before still holds a few of her photos (found by a QA pass). Before, a
deleted folder's pet was said to be dropped as "no folder learnt has her photos any more" while
one did, and a renamed folder's old name left the named pets without a word, so that the next
`sort --name-pets` of the other folder made cats/Lulu/ beside its cats/Fred/. Where the other folder held
5 or more, her old name stayed a named pet beside the new one, one cat as two pets, said nowhere.

Run with the fake model of tests/test_learn.py: Luna's striped blue photos stand for the pet."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from test_learn import invoke, luna


def learnt_in_two_folders(tmp_path: Path, model: Path, name: str, mine: int, theirs: int) -> tuple[Path, Path]:
    """`mine` photos of the pet in roll/cats/NAME, `theirs` (others) placed by the user in
    new/cats/NAME; roll learnt, then new."""
    roll, new = tmp_path / "roll", tmp_path / "new"
    for i in range(mine):
        luna(roll / "cats" / name / f"{name}{i}.png", 50 + i)
    for i in range(theirs):
        luna(new / "cats" / name / f"placed{i}.png", 150 + i)
    for folder in (roll, new) if theirs else (roll,):
        learnt = invoke("learn", folder, "--model", model)
        assert learnt.exit_code == 0, learnt.output
    return roll, new


def test_a_pet_whose_folder_is_deleted_is_said_dropped_for_too_few_photos_where_another_folder_holds_some(
        tmp_path: Path, fake_model) -> None:
    roll, new = learnt_in_two_folders(tmp_path, fake_model, "Kit", 10, 1)
    shutil.rmtree(roll / "cats" / "Kit")

    result = invoke("learn", roll, "--model", fake_model)

    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert (f"cats/Kit/ is no longer in {roll}: Kit is no longer a named pet (1 photo of hers is left, in "
            f"{new}/cats/Kit: 5 or more are needed).") in lines, result.stdout
    assert f"cats/Kit: 1 photo (learnt before from {new}/cats/Kit); too few to learn (5 or more)" in lines
    assert "no folder learnt has her photos" not in result.stdout



@pytest.mark.parametrize(("theirs", "said"), [
    (3, "so Fred is no longer a named pet: {new}/cats/Fred still holds 3 photos of Fred, too few to learn as Fred "
        "(5 or more)"),
    # 5 or more: Fred stayed named from them beside Lulu, one cat as two pets, and learn said not a word of it.
    (6, "so one pet is two named pets now, Lulu and Fred: {new}/cats/Fred still holds 6 photos of Fred, learnt as "
        "Fred"),
], ids=["a few: unnamed", "enough: two pets"])
def test_a_pet_whose_folder_is_renamed_while_another_folder_holds_photos_of_her_old_name_is_said_so(
        tmp_path: Path, fake_model, theirs: int, said: str) -> None:
    roll, new = learnt_in_two_folders(tmp_path, fake_model, "Fred", 10, theirs)
    os.rename(roll / "cats" / "Fred", roll / "cats" / "Lulu")

    result = invoke("learn", roll, "--model", fake_model)

    assert result.exit_code == 0, result.output
    assert (f"cats/Fred/ is now cats/Lulu/ here, {said.format(new=new)}; to keep them one pet, rename it as well (mv "
            f"{new}/cats/Fred {new}/cats/Lulu) and learn it again (sorter learn {new})") in result.stdout.splitlines(), \
        result.stdout
    assert "cats/Lulu: 10 photos, would find" in result.stdout

    # Done as said: one pet, Lulu, learnt from both folders, and nothing more said of Fred.
    os.rename(new / "cats" / "Fred", new / "cats" / "Lulu")
    again = invoke("learn", new, "--model", fake_model)
    assert again.exit_code == 0, again.output
    assert f"cats/Lulu: {10 + theirs} photos (10 learnt before from {roll}/cats/Lulu), would find" in again.stdout, \
        again.stdout
    assert "Fred" not in again.stdout.replace("cats/Fred → cats/Lulu", "")


def test_a_renamed_pet_whose_photos_were_all_here_is_no_line_of_its_own(tmp_path: Path, fake_model) -> None:
    roll, _ = learnt_in_two_folders(tmp_path, fake_model, "Fred", 10, 0)
    os.rename(roll / "cats" / "Fred", roll / "cats" / "Lulu")

    result = invoke("learn", roll, "--model", fake_model)

    assert result.exit_code == 0, result.output
    assert "no longer a named pet" not in result.stdout and "cats/Lulu: 10 photos" in result.stdout



def test_a_renamed_pets_other_photos_in_a_folder_gone_from_this_path_get_no_mv_to_type() -> None:
    """Her few other photos learnt in a folder since moved away from this path (`mv roll roll-2019;
    mkdir roll`), named as `learnt_elsewhere` names it: the line gave `mv 'ROLL/cats/Fred, a folder at
    this path before this one' ...`, a path that is none. Her line as `learn` builds it, from its
    result's folders learnt before."""
    from types import SimpleNamespace

    from sorter.learning.examples import BEFORE_THIS_ONE
    from sorter.learning.pets import PetReport
    from sorter.learning.report import _renamed_away

    result = SimpleNamespace(elsewhere={"cats/Fred": ((f"/home/ann/roll/cats/Fred{BEFORE_THIS_ONE}", 3),)})

    line = _renamed_away(result, "cats/Fred", "cats/Lulu", PetReport("cats/Fred", 3, False))

    assert line == ("cats/Fred/ is now cats/Lulu/ here, so Fred is no longer a named pet: /home/ann/roll/cats/Fred, a "
                    "folder at this path before this one still holds 3 photos of Fred, too few to learn as Fred (5 or "
                    "more); to keep them one pet, rename it to cats/Lulu as well and learn it again")
