"""`sorter undo` of a photo moved on since sorter put it and touched there (its time set by a
viewer, `touch`) or edited in place (a tag added, its inode kept). Where inode numbers last it is
that very file, its device and inode its own, born before its move (`whereabouts._touched_away`):
found as an untouched one is, put back from where it is, or left in a folder of yours. Each was
said "missing" though right there. Another file of its name and size saved since, even given the
deleted photo's inode number (as ext4 and tmpfs do at once), is never taken for it."""

from __future__ import annotations

import os
from pathlib import Path

from conftest import FakeClassifier, write_image
from test_undo_put_back_touched import BLUE, RED, touch, undo

from sorter.sorting.sort import sort_folder


def edit_in_place(path: Path) -> None:
    """Rewritten in place, its inode kept, to another size (a tag added), and its time with it."""
    with open(path, "ab") as photo:
        photo.write(b"\0" * 100)
    touch(path)


def sorted_photos(root: Path) -> None:
    write_image(root / "rex.jpg", RED, size=(16, 8))
    write_image(root / "max.jpg", RED, size=(24, 8))
    write_image(root / "bo.jpg", RED, size=(32, 8))
    sort_folder(root, classifier=FakeClassifier())


def test_a_photo_moved_on_and_touched_is_found_and_put_back_or_left_in_a_folder_of_yours(tmp_path: Path) -> None:
    sorted_photos(tmp_path)
    (tmp_path / "cats" / "Luna").mkdir(parents=True)
    (tmp_path / "best").mkdir()
    os.rename(tmp_path / "dogs" / "rex.jpg", tmp_path / "cats" / "Luna" / "rex.jpg")
    os.rename(tmp_path / "dogs" / "max.jpg", tmp_path / "best" / "max.jpg")
    os.rename(tmp_path / "dogs" / "bo.jpg", tmp_path / "cats" / "Luna" / "bo.jpg")
    touch(tmp_path / "cats" / "Luna" / "rex.jpg")
    touch(tmp_path / "best" / "max.jpg")
    edit_in_place(tmp_path / "cats" / "Luna" / "bo.jpg")

    assert undo(tmp_path) == ([
        f"Restored 2 files from 1 run in {tmp_path} (1 left in a folder of yours).",
        "found: dogs/bo.jpg: moved to cats/Luna/bo.jpg since; put back from there to bo.jpg",
        "found: dogs/max.jpg: moved to best/max.jpg since, into a folder of yours; left there (was max.jpg)",
        "found: dogs/rex.jpg: moved to cats/Luna/rex.jpg since; put back from there to rex.jpg",
    ], [])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["best", "bo.jpg", "cats", "rex.jpg"]
    assert os.listdir(tmp_path / "best") == ["max.jpg"]


def test_undo_all_finds_a_photo_moved_on_and_touched_too(tmp_path: Path) -> None:
    sorted_photos(tmp_path)
    (tmp_path / "dogs" / "2019").mkdir()
    os.rename(tmp_path / "dogs" / "rex.jpg", tmp_path / "dogs" / "2019" / "rex.jpg")
    touch(tmp_path / "dogs" / "2019" / "rex.jpg")

    assert undo(tmp_path, "--all") == ([
        f"Restored 3 files from 1 run in {tmp_path}.",
        "found: dogs/rex.jpg: moved to dogs/2019/rex.jpg since; put back from there to rex.jpg",
    ], [])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bo.jpg", "dogs", "max.jpg", "rex.jpg"]


def test_another_file_of_its_name_in_a_folder_is_not_taken_for_the_photo(tmp_path: Path) -> None:
    sorted_photos(tmp_path)
    (tmp_path / "cats" / "Luna").mkdir(parents=True)
    (tmp_path / "dogs" / "rex.jpg").unlink()  # the photo gone; another of its name and size saved,
    # most likely given its inode number: born after the sort moved the photo, it is not the photo
    write_image(tmp_path / "cats" / "Luna" / "rex.jpg", BLUE, size=(16, 8))

    assert undo(tmp_path) == ([
        f"Restored 2 files from 1 run in {tmp_path} (1 missing).",
    ], ["missing: dogs/rex.jpg: no longer there (was rex.jpg)"])
    assert os.path.exists(tmp_path / "cats" / "Luna" / "rex.jpg")
