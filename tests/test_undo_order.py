"""`sorter undo --all` of runs that moved one photo in turn (the sort into cats/, a review on to
dogs/): where the newer move is kept, its way back blocked, the older is kept with it, never
undone past it, so that once the user makes room the next undo takes both back in order and
the folder ends as the first sort found it."""

from __future__ import annotations

import os
from pathlib import Path

from conftest import FakeClassifier, layout, write_image
from test_review_naming import name as named
from test_review_server import click
from test_review_traces import reviewing
from typer.testing import CliRunner

from sorter.cli import app
from sorter.sorting.sort import sort_folder

RED, BLUE, GREEN = (0, 0, 255), (255, 0, 0), (0, 255, 0)  # BGR: the fake says red = dog, blue = cat
runner = CliRunner()


def undo(root: Path, *options: str):
    result = runner.invoke(app, ["undo", str(root), *options])
    assert result.exit_code == 0, result.output
    return sorted(result.stdout.splitlines()), sorted(result.stderr.splitlines())


def test_an_older_run_s_move_of_a_photo_whose_newer_move_is_kept_is_kept_too(tmp_path: Path) -> None:
    """A review moved c1 from cats/ to dogs/, then the user saved a new photo as cats/c1.jpg.
    Undo took the review's move back no further (kept) and the sort's on past it: the photo went
    from dogs/ straight to the top; made room for, the review's move, tried again, took it from
    there back into cats/, and nothing was left to undo."""
    for i, name in enumerate(("c1.jpg", "c2.jpg")):
        write_image(tmp_path / name, BLUE, size=(8 * (i + 2), 8))
    write_image(tmp_path / "d1.jpg", RED, size=(40, 8))
    before = layout(tmp_path)
    sort_folder(tmp_path, classifier=FakeClassifier())
    click(tmp_path, "c1.jpg", "dog")
    write_image(tmp_path / "cats" / "c1.jpg", GREEN, size=(48, 8))  # a new photo of the user's, of its name

    assert undo(tmp_path) == (["Restored 0 files in " + str(tmp_path) + " (1 kept in place)."],
                              ["kept: dogs/c1.jpg: another file is at cats/c1.jpg now; left in place"])
    # Plain undo takes back the latest run, the review, again: never the sort before it.
    assert undo(tmp_path) == (["Restored 0 files in " + str(tmp_path) + " (1 kept in place)."],
                              ["kept: dogs/c1.jpg: another file is at cats/c1.jpg now; left in place"])
    # One photo kept, a line for each of its moves: both are tried again.
    assert undo(tmp_path, "--all") == (["Restored 2 files from 1 run in " + str(tmp_path) + " (1 kept in place)."], [
        "kept: cats/c1.jpg: its later move (dogs/c1.jpg) is kept; left in place",
        "kept: dogs/c1.jpg: another file is at cats/c1.jpg now; left in place",
    ])
    assert (tmp_path / "dogs" / "c1.jpg").is_file() and not (tmp_path / "c1.jpg").exists()

    os.rename(tmp_path / "cats" / "c1.jpg", tmp_path / "new-cat.jpg")  # the user makes room
    assert undo(tmp_path, "--all") == (["Restored 1 file from 2 runs in " + str(tmp_path) + "."], [])
    assert layout(tmp_path) == before | {"new-cat.jpg": layout(tmp_path)["new-cat.jpg"]}
    assert not (tmp_path / ".sorter").exists()


def test_a_file_where_a_pet_s_folder_was_keeps_the_photo_and_every_older_move_of_it(tmp_path: Path) -> None:
    """c1 named Milo on the review page (cats/Milo/ made), then moved to dogs/; the user removed
    cats/Milo/ and saved notes as a file of that name. Undo said "cannot move back (File exists)"
    and undid the older runs past it; the next undo said "kept: c1.jpg: cannot move back (File
    exists)", and once the file was gone, took the photo from the top into cats/Milo/."""
    for i, name in enumerate(("c1.jpg", "c2.jpg")):
        write_image(tmp_path / name, BLUE, size=(8 * (i + 2), 8))
    before = layout(tmp_path)
    sort_folder(tmp_path, classifier=FakeClassifier())
    with reviewing(tmp_path) as client:
        assert named(client, "c1.jpg", "Milo")[0] == 200
    click(tmp_path, "c1.jpg", "dog")
    (tmp_path / "cats" / "Milo").rmdir()
    (tmp_path / "cats" / "Milo").write_text("notes")

    kept = ["kept: cats/Milo/c1.jpg: its later move (dogs/c1.jpg) is kept; left in place",
            "kept: cats/c1.jpg: its later move (dogs/c1.jpg) is kept; left in place",
            "kept: dogs/c1.jpg: cats/Milo is not a folder now, to put it back into; left in place"]
    assert undo(tmp_path, "--all") == (["Restored 1 file from 1 run in " + str(tmp_path) + " (1 kept in place)."], kept)
    assert undo(tmp_path, "--all") == (["Restored 0 files in " + str(tmp_path) + " (1 kept in place)."], kept)
    assert (tmp_path / "dogs" / "c1.jpg").is_file()

    (tmp_path / "cats" / "Milo").unlink()
    assert undo(tmp_path, "--all") == (["Restored 1 file from 3 runs in " + str(tmp_path) + "."], [])
    assert layout(tmp_path) == before and not (tmp_path / ".sorter").exists()
