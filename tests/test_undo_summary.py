"""`sorter undo`'s last line counts every photo it set out to put back: restored, and apart
(in the same words as an undo cut short): already back, missing, left in a folder of yours,
found as a copy, kept in place. Each is said on a line of its own above it."""

from __future__ import annotations

import os
import shutil
import signal
from pathlib import Path

from conftest import FakeClassifier, write_image
from typer.testing import CliRunner

from sorter.cli import app
from sorter.sorting.sort import sort_folder

RED, BLUE = (0, 0, 255), (255, 0, 0)  # BGR: the fake says red = dog, blue = cat
runner = CliRunner()


def six_sorted_cats(root: Path) -> None:
    for n in range(6):
        write_image(root / f"c{n}.jpg", BLUE, size=(10 + n, 10 + n))
    sort_folder(root, classifier=FakeClassifier())


def test_a_finished_undo_counts_the_photos_it_found_missing_or_left_in_a_folder_of_yours(tmp_path: Path) -> None:
    """QA: it said "Restored 0 files in DIR (1 kept in place)." beside a `missing:` line and a
    `found: ...; left there` line, counting neither, where a Ctrl-C'd undo counts both."""
    six_sorted_cats(tmp_path)
    (tmp_path / "cats" / "c3.jpg").unlink()  # gone
    (tmp_path / "album").mkdir()
    os.rename(tmp_path / "cats" / "c4.jpg", tmp_path / "album" / "c4.jpg")  # filed by hand in a folder of yours
    write_image(tmp_path / "c5.jpg", RED)  # a new photo of its name: c5 is kept

    result = runner.invoke(app, ["undo", str(tmp_path)])

    assert (result.exit_code, result.stdout.splitlines(), sorted(result.stderr.splitlines())) == (0, [
        "found: cats/c4.jpg: moved to album/c4.jpg since, into a folder of yours; left there (was c4.jpg)",
        f"Restored 3 files from 1 run in {tmp_path} (1 missing, 1 left in a folder of yours, 1 kept in place).",
    ], ["kept: cats/c5.jpg: another file is at c5.jpg now; left in place",
        "missing: cats/c3.jpg: no longer there (was c3.jpg)"]), result.output
    assert sorted(os.listdir(tmp_path)) == [".sorter", "album", "c0.jpg", "c1.jpg", "c2.jpg", "c5.jpg", "cats"]


def test_a_photo_found_as_a_copy_is_counted_as_one_and_not_as_in_a_folder_of_yours(tmp_path: Path) -> None:
    """A copy under another name at the top of the folder (`cp -p`, then `rm`) is no folder of
    yours: counted as what its `found:` line says it is."""
    six_sorted_cats(tmp_path)
    shutil.copy2(tmp_path / "cats" / "c0.jpg", tmp_path / "c0-copy.jpg")
    (tmp_path / "cats" / "c0.jpg").unlink()
    (tmp_path / "album").mkdir()
    os.rename(tmp_path / "cats" / "c1.jpg", tmp_path / "album" / "c1.jpg")

    result = runner.invoke(app, ["undo", str(tmp_path)])

    assert (result.exit_code, result.stderr) == (0, ""), result.output
    assert sorted(result.stdout.splitlines()[:2]) == [
        "found: cats/c0.jpg: a file of its size and time is at c0-copy.jpg (a copy?); left there (was c0.jpg)",
        "found: cats/c1.jpg: moved to album/c1.jpg since, into a folder of yours; left there (was c1.jpg)",
    ]
    assert result.stdout.splitlines()[2:] == [
        f"Restored 4 files from 1 run in {tmp_path} (1 left in a folder of yours, 1 found as a copy)."]


def test_a_ctrl_c_as_a_finished_undo_does_not_say_every_file_still_there_was_put_back(tmp_path: Path,
                                                                                     monkeypatch) -> None:
    """Ctrl-C as the undo said its lines, .sorter/ removed: "every file still there was put back"
    was untrue of a photo it left in a folder of yours, and it was not counted."""
    from sorter.cli import sorting

    six_sorted_cats(tmp_path)
    (tmp_path / "cats" / "c3.jpg").unlink()
    (tmp_path / "album").mkdir()
    os.rename(tmp_path / "cats" / "c4.jpg", tmp_path / "album" / "c4.jpg")
    said = sorting.shown

    def sigint_then_shown(line: str) -> str:
        signal.raise_signal(signal.SIGINT)
        return said(line)

    monkeypatch.setattr(sorting, "shown", sigint_then_shown)
    stopped = runner.invoke(app, ["undo", str(tmp_path)])

    assert (stopped.exit_code, stopped.stderr.splitlines()[-1]) == (
        130, "Interrupted as it finished: every file it could put back was put back (1 missing, 1 left in a folder "
             "of yours, said above) and .sorter/ removed; nothing is left to undo."), stopped.output
    assert stopped.stdout.splitlines()[-1] == (
        f"Restored 4 files from 1 run in {tmp_path} (1 missing, 1 left in a folder of yours).")


def test_an_undo_stopped_part_way_counts_a_photo_found_as_a_copy_as_one(tmp_path: Path, monkeypatch) -> None:
    """A Ctrl-C'd undo's line counted a copy found at the top of the folder "left in a folder of
    yours", which it is not; its `found:` line says what it is."""
    from conftest import ctrl_c_at

    from sorter.files import moves

    write_image(tmp_path / "rex.jpg", RED)
    sort_folder(tmp_path, classifier=FakeClassifier())
    write_image(tmp_path / "fido.jpg", RED, size=(16, 8))
    write_image(tmp_path / "max.jpg", RED, size=(24, 8))
    sort_folder(tmp_path, classifier=FakeClassifier())
    shutil.copy2(tmp_path / "dogs" / "max.jpg", tmp_path / "max-copy.jpg")
    (tmp_path / "dogs" / "max.jpg").unlink()
    monkeypatch.setattr(moves, "move_no_replace", ctrl_c_at(moves.move_no_replace, 2))  # rex's, the older run
    stopped = runner.invoke(app, ["undo", str(tmp_path), "--all"])

    assert (stopped.exit_code, stopped.stdout.splitlines(), stopped.stderr.splitlines()) == (
        130, ["found: dogs/max.jpg: a file of its size and time is at max-copy.jpg (a copy?); left there (was max.jpg)"],
        [f"Interrupted: put back 1 of 3 files (1 found as a copy); sorter undo {tmp_path} --all puts back the rest."],
    ), stopped.output
