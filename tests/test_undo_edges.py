"""`sorter undo` where the user (or an editor) changed what the sort made: a pet's folder the
sort made and the user renamed goes once undo has emptied it, as the folder would have by its
first name, while the folders the user made stay (even one given the inode number of the sort's,
deleted since); a photo an editor saved by renaming it to a backup (`c0.jpg~`, `c0.bak`) and
writing the new version under its name goes back as the user has it now, the backup left where
it is, said so."""

from __future__ import annotations

import json
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


@pytest.mark.parametrize("backup", ["c0.jpg~", "c0.jpg.bak", "c0.jpg.orig", "c0.bak", "c0.orig", "c0.old"])
def test_a_photo_an_editor_saved_with_a_backup_goes_back_as_it_is_now(tmp_path: Path, backup: str) -> None:
    """The editor renamed cats/c0.jpg to a backup of its name (or of its stem, `c0.bak`, where the
    old version went back and the edited one stayed in cats/) and wrote the edited photo as
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


def _journaled_as(root: Path, folder: str, change) -> None:
    """The journal's record of `folder`'s identity as made, changed by `change` (a list -> a list)."""
    journal = root / ".sorter" / "journal.jsonl"
    records = [json.loads(line) for line in journal.read_text().splitlines()]
    for record in records:
        if record["op"] == "mkdir" and record["path"] == folder and "id" in record:
            record["id"] = change(record["id"])
    journal.write_text("".join(json.dumps(record) + "\n" for record in records))


@pytest.mark.parametrize("how, goes", [
    ("renamed", True),
    ("renamed, journaled by an older sorter", True),  # device and inode alone: followed, as ever
    ("renamed, journaled with no generation nor birth time", False),  # removed only at its own path
    ("deleted, and the user's made with its inode number", False),
])
def test_a_folder_the_sort_made_is_followed_by_its_identity_never_a_new_one_given_its_number(
    tmp_path: Path, how: str, goes: bool,
) -> None:
    """QA: ext4 gives a folder made just after one was deleted the deleted one's inode number. The
    user emptied the sort's cats/ into a folder of their own and deleted it: their kitties/ had
    cats/'s number, and undo, having taken the photo back from it, removed it as cats/ renamed.
    The inode's generation (or its birth time) tells the two apart: kitties/ stays. The number is
    journaled as ext4 gives it, so the test tells the same on any filesystem."""
    photos(tmp_path, BLUE, "a.jpg")
    before = layout(tmp_path)
    sort_folder(tmp_path, classifier=FakeClassifier())
    if how.startswith("renamed"):
        os.rename(tmp_path / "cats", tmp_path / "kitties")
    else:
        (tmp_path / "kitties").mkdir()
        os.rename(tmp_path / "cats" / "a.jpg", tmp_path / "kitties" / "a.jpg")
        (tmp_path / "cats").rmdir()
        kitties = os.lstat(tmp_path / "kitties")
        _journaled_as(tmp_path, "cats", lambda made: [kitties.st_dev, kitties.st_ino, *made[2:]])
    if how.endswith("older sorter"):
        _journaled_as(tmp_path, "cats", lambda made: made[:2])
    if how.endswith("nor birth time"):
        _journaled_as(tmp_path, "cats", lambda made: [*made[:2], -1])

    assert undo(tmp_path) == ([
        f"Restored 1 file(s) from 1 run in {tmp_path}.",
        "found: cats/a.jpg: moved to kitties/a.jpg since; put back from there to a.jpg",
    ], [])
    assert layout(tmp_path) == before | ({} if goes else {"kitties": "dir"})
