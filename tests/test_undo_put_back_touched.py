"""`sorter undo` of a photo put back by hand, as `sort` and `watch` tell one (its device, inode and
size where they last, `identities.Identities.is_back`): touched since at its old place, it is
already back where it was; renamed and touched where it came from, it is the user's, said so
and left there; edited in place and sorted again, `undo --all` takes both moves back, the older
one by the newer's put-back. Each was said "missing" of the photo right there."""

from __future__ import annotations

import os
from pathlib import Path

from conftest import FakeClassifier, write_image
from typer.testing import CliRunner

from sorter.cli import app
from sorter.sorting.sort import sort_folder

RED, BLUE = (0, 0, 255), (255, 0, 0)  # BGR: the fake says red = dog, blue = cat
runner = CliRunner()


def undo(root: Path, *options: str):
    result = runner.invoke(app, ["undo", str(root), *options])
    assert result.exit_code == 0, result.output
    return sorted(result.stdout.splitlines()), sorted(result.stderr.splitlines())


def touch(path: Path) -> None:
    st = path.stat()
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 5_000_000_000))


def test_a_photo_put_back_by_hand_and_touched_is_back_and_one_renamed_so_is_left_there(tmp_path: Path) -> None:
    write_image(tmp_path / "c.jpg", BLUE, size=(16, 8))
    write_image(tmp_path / "rex.png", RED, size=(24, 8))
    sort_folder(tmp_path, classifier=FakeClassifier())
    os.rename(tmp_path / "cats" / "c.jpg", tmp_path / "c.jpg")
    os.rename(tmp_path / "dogs" / "rex.png", tmp_path / "rex at home.png")
    touch(tmp_path / "c.jpg")
    touch(tmp_path / "rex at home.png")

    assert undo(tmp_path, "--all") == ([
        f"Restored 0 files in {tmp_path} (1 already back where it was).",
        "found: dogs/rex.png: you put it back as rex at home.png; left there (was rex.png)",
    ], [])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c.jpg", "rex at home.png"]


def put_back_edited_and_sorted_again(tmp_path: Path) -> None:
    """a.jpg sorted into cats/, moved back by hand, rewritten in place, and sorted again."""
    write_image(tmp_path / "a.jpg", BLUE, size=(16, 8))
    sort_folder(tmp_path, classifier=FakeClassifier())
    os.rename(tmp_path / "cats" / "a.jpg", tmp_path / "a.jpg")
    with open(tmp_path / "a.jpg", "ab") as photo:  # rewritten in place: its inode kept, not its size
        photo.write(b"\0" * 100)
    sort_folder(tmp_path, classifier=FakeClassifier())


def test_a_photo_put_back_edited_in_place_and_sorted_again_is_undone_by_both_runs(tmp_path: Path) -> None:
    put_back_edited_and_sorted_again(tmp_path)
    assert (tmp_path / "cats" / "a.jpg").exists()

    assert undo(tmp_path, "--all") == ([f"Restored 1 file from 2 runs in {tmp_path}."], [])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.jpg"]


def test_two_plain_undos_of_a_photo_put_back_edited_and_sorted_again_find_it_back(tmp_path: Path) -> None:
    put_back_edited_and_sorted_again(tmp_path)

    assert undo(tmp_path) == ([f"Restored 1 file from 1 run in {tmp_path}."], [])
    # The first sort's move: its photo is the one the first undo put back, not "missing".
    assert undo(tmp_path) == ([f"Restored 0 files in {tmp_path} (1 already back where it was)."], [])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.jpg"]
