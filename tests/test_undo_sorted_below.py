"""`sorter undo` of a photo a sort of a sub-folder (one with a `.sorter/` journal of its own) took
on since: undo never looks into such a folder, and said the photo "missing" twice while it sat
in the sub-folder's cats/. Now it finds the move of that very file in the sub-folder's journal,
keeps its own move (tried again by the next undo) and says which undo goes first
(`files.sorted_below`)."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import FakeClassifier, layout, write_image
from test_review_server import click
from typer.testing import CliRunner

from sorter.cli import app
from sorter.model import lite

RED, BLUE = (0, 0, 255), (255, 0, 0)  # BGR: the fake says red = dog, blue = cat
runner = CliRunner()


@pytest.fixture(autouse=True)
def fake_model(monkeypatch) -> None:
    monkeypatch.setattr(lite, "load_classifier", lambda model: FakeClassifier())


def invoke(*args: str):
    result = runner.invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result


def _sorted_below(tmp_path: Path) -> tuple[Path, dict[str, object]]:
    """`sort root -r`; IMG_0111.jpg to Neither on the page (back to 2020/); `sort root/2020` (to
    2020/cats/): the folder, and its layout before any of it."""
    root = tmp_path / "root"
    write_image(root / "2020" / "IMG_0111.jpg", BLUE)
    write_image(root / "2020" / "IMG_0112.jpg", RED, size=(64, 48))
    write_image(root / "a.jpg", BLUE, size=(32, 32))
    before = layout(root)
    invoke("sort", str(root), "-r")
    click(root, "IMG_0111.jpg", "neither")
    assert (root / "2020" / "IMG_0111.jpg").is_file()
    invoke("sort", str(root / "2020"))
    assert (root / "2020" / "cats" / "IMG_0111.jpg").is_file()
    return root, before


def test_a_photo_a_sort_of_a_sub_folder_moved_on_is_kept_and_said_where_not_missing(tmp_path: Path) -> None:
    """`undo root` said `missing: 2020/IMG_0111.jpg: no longer there`, and the next one `missing:
    cats/IMG_0111.jpg` of the sort's move: the photo was safe in 2020/cats/, and the tree never
    came back whole. Now each `undo root` keeps the review's move and says which undo goes first;
    after `undo root/2020`, two plain undos of root leave the folder exactly as it was."""
    root, before = _sorted_below(tmp_path)
    below = root / "2020"
    line = (f"kept: 2020/IMG_0111.jpg: a sort of {below} moved it on (to 2020/cats/IMG_0111.jpg); "
            f"sorter undo {below} first, then sorter undo {root} again")

    for _ in range(2):  # kept, not forgotten: the next undo tries it again
        result = invoke("undo", str(root))
        assert result.stderr.splitlines() == [line]
        assert result.stdout == f"Restored 0 files in {root} (1 kept in place).\n"
        assert (below / "cats" / "IMG_0111.jpg").is_file()

    assert invoke("undo", str(below)).stdout == f"Restored 1 file from 1 run in {below}.\n"
    assert invoke("undo", str(root)).stdout == f"Restored 1 file from 1 run in {root}.\n"  # the review's
    result = invoke("undo", str(root))  # the sort's
    assert result.stdout == f"Restored 3 files from 1 run in {root}.\n" and not result.stderr
    assert layout(root) == before


def test_undo_all_keeps_the_sorts_move_of_that_photo_too(tmp_path: Path) -> None:
    """`undo --all` keeps the sort's move of the photo behind the review's, kept for the sub-folder:
    never "missing", and the next `--all` after `undo root/2020` puts everything back."""
    root, before = _sorted_below(tmp_path)

    result = invoke("undo", "--all", str(root))

    assert result.stderr.splitlines()[1:] == [
        "kept: cats/IMG_0111.jpg: its later move (2020/cats/IMG_0111.jpg) is kept; left in place"]
    assert result.stdout == f"Restored 2 files from 1 run in {root} (1 kept in place).\n"
    invoke("undo", str(root / "2020"))
    assert invoke("undo", "--all", str(root)).stdout == f"Restored 1 file from 2 runs in {root}.\n"
    assert layout(root) == before
