"""`sorter undo` where the user (or an editor) changed what the sort made: a pet's folder the
sort made and the user renamed goes once undo has emptied it, as the folder would have by its
first name, while the folders the user made stay; a photo an editor saved by renaming it to a
backup (`c0.jpg~`) and writing the new version under its name goes back as the user has it
now, the backup left where it is, said so."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from conftest import FakeClassifier, layout, write_image
from test_learn import invoke, luna, photo
from test_renamed_pets import luna_learnt
from test_undo_moved_on import BLUE, photos, undo

from sorter.sorting.sort import sort_folder


@pytest.mark.parametrize("renamed_to, yours", [
    ("cats/Lunette", {}),
    ("cats/2024/Lunette", {"cats": "dir", "cats/2024": "dir", "cats/best": "dir"}),
])
def test_a_pet_s_folder_the_sort_made_and_the_user_renamed_goes_once_empty(
    tmp_path: Path, fake_model, renamed_to: str, yours: dict[str, str],
) -> None:
    """Luna learnt elsewhere: the sort makes cats/ and cats/Luna/ here. Her folder renamed (or
    moved into a folder of the user's), undo follows her photos, and her folder by its identity:
    once empty it goes, as cats/Luna/ would have; cats/2024/ and cats/best/, the user's, stay."""
    luna_learnt(tmp_path, fake_model)
    roll = tmp_path / "other"
    photo(roll / "cat.png", "cat", 1)
    for i in range(2):
        luna(roll / f"luna{i}.png", 70 + i)
    before = layout(roll)
    assert invoke("sort", roll, "--model", fake_model).exit_code == 0
    assert sorted(os.listdir(roll / "cats" / "Luna")) == ["luna0.png", "luna1.png"]
    if yours:
        (roll / "cats" / "best").mkdir()
        os.rename(roll / "cats" / "Luna" / "luna1.png", roll / "cats" / "best" / "luna1.png")
    (roll / renamed_to).parent.mkdir(parents=True, exist_ok=True)
    os.rename(roll / "cats" / "Luna", roll / renamed_to)

    result = invoke("undo", roll)

    assert result.exit_code == 0, result.output
    assert (f"found: cats/Luna/luna0.png: moved to {renamed_to}/luna0.png since; put back from there to luna0.png"
            in result.stdout.splitlines()), result.stdout
    assert layout(roll) == before | yours


@pytest.mark.parametrize("backup", ["c0.jpg~", "c0.jpg.bak", "c0.jpg.orig"])
def test_a_photo_an_editor_saved_with_a_backup_goes_back_as_it_is_now(tmp_path: Path, backup: str) -> None:
    """The editor renamed cats/c0.jpg to a backup of its name and wrote the edited photo as
    cats/c0.jpg: the backup is the photo by its identity, but the edited file is the photo as the
    user has it. That one goes back; the backup stays where the editor left it, said so."""
    photos(tmp_path, BLUE, "c0.jpg", "c1.jpg")
    sort_folder(tmp_path, classifier=FakeClassifier())
    cats = tmp_path / "cats"
    original = (cats / "c0.jpg").read_bytes()
    os.rename(cats / "c0.jpg", cats / backup)
    (cats / "c0.jpg").write_bytes(original + b"edited")

    assert undo(tmp_path) == ([
        f"Restored 2 file(s) from 1 run in {tmp_path}.",
        f"found: cats/c0.jpg: saved again since (its earlier version is cats/{backup}, left there); "
        "put back as it is now to c0.jpg",
    ], [])
    assert (tmp_path / "c0.jpg").read_bytes() == original + b"edited"
    assert (cats / backup).read_bytes() == original
    assert sorted(os.listdir(tmp_path)) == ["c0.jpg", "c1.jpg", "cats"]
    assert os.listdir(cats) == [backup]


def test_another_sorted_photo_under_the_photo_s_name_is_never_taken_for_its_new_version(tmp_path: Path) -> None:
    """c0 renamed to c0.jpg~ and c1 renamed into c0's place: the file there is c1's photo, not
    c0 saved again. Each photo goes back, by its identity, to its own first place."""
    photos(tmp_path, BLUE, "c0.jpg")
    write_image(tmp_path / "c1.jpg", BLUE, size=(48, 8))
    before = layout(tmp_path)
    sort_folder(tmp_path, classifier=FakeClassifier())
    cats = tmp_path / "cats"
    os.rename(cats / "c0.jpg", cats / "c0.jpg~")
    os.rename(cats / "c1.jpg", cats / "c0.jpg")

    assert undo(tmp_path) == ([
        f"Restored 2 file(s) from 1 run in {tmp_path}.",
        "found: cats/c0.jpg: moved to cats/c0.jpg~ since; put back from there to c0.jpg",
        "found: cats/c1.jpg: moved to cats/c0.jpg since; put back from there to c1.jpg",
    ], [])
    assert layout(tmp_path) == before
