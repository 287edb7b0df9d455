"""`sorter undo` of a photo put back by hand, as `sort` and `watch` tell one (its device, inode and
size where they last, `verdicts.Identities.is_back`): touched since at its old place, it is
already back where it was; renamed and touched where it came from, it is the user's, said so
and left there. Each was said "missing" of the photo right there."""

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

