"""Photos whose own flags keep them where they are: marked immutable (`chattr +i`) or append-only
(`chattr +a`), which refuse a rename and a removal alike, even to root. A sort said only `cannot
move: Operation not permitted`, which told no one why or what to do, and a dry run said "would
move" of them. Now both say it (`cannot move: it is marked immutable (chattr -i to free it)`),
read from the photo's flags (`leaving.pinned`), and so do `--json` and undo; the photo stays,
byte for byte. Root only, on a filesystem that keeps such flags (skipped otherwise)."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest
from conftest import FakeClassifier, layout, write_image
from typer.testing import CliRunner

from sorter.cli import app
from sorter.model import lite

BLUE, RED = (255, 0, 0), (0, 0, 255)  # BGR: the fake says blue = cat, red = dog
runner = CliRunner()


@pytest.fixture
def folder(tmp_path: Path, monkeypatch) -> Path:
    """Two cats and a dog, with the fake classifier behind `sort`."""
    if os.geteuid() != 0:
        pytest.skip("needs root to set a file's immutable and append-only flags (chattr)")
    monkeypatch.setattr(lite, "load_classifier", lambda model: FakeClassifier())
    write_image(tmp_path / "1130.jpg", BLUE, size=(256, 256))
    write_image(tmp_path / "IMG.jpg", BLUE, size=(256, 256))
    write_image(tmp_path / "dog_1087.jpg", RED, size=(256, 256))
    return tmp_path


@pytest.mark.parametrize(("flag", "said"), [
    ("+i", "it is marked immutable (chattr -i to free it)"),
    ("+a", "it is marked append-only (chattr -a to free it)"),
])
def test_a_photo_marked_by_chattr_is_said_so_by_the_dry_run_and_the_sort_and_stays(
    folder: Path, flagged, flag: str, said: str
) -> None:
    photo = (folder / "IMG.jpg").read_bytes()
    flagged(folder / "IMG.jpg", flag)

    planned = runner.invoke(app, ["sort", str(folder), "--dry-run"])

    assert planned.exit_code == 0, planned.output
    assert f"cannot move: {said}; 1 photo would not move" in planned.output

    planned_json = runner.invoke(app, ["sort", str(folder), "--dry-run", "--json"])

    assert json.loads(planned_json.stdout)["refused_into"] == [{"reason": f"cannot move: {said}", "photos": 1}]

    sorted_once = runner.invoke(app, ["sort", str(folder), "--verbose"])

    assert sorted_once.exit_code == 1, sorted_once.output
    assert f"failed: IMG.jpg: cannot move: {said}" in sorted_once.stderr
    assert "Operation not permitted" not in sorted_once.output
    assert sorted(os.listdir(folder / "cats")) == ["1130.jpg"]
    assert os.listdir(folder / "dogs") == ["dog_1087.jpg"]
    assert (folder / "IMG.jpg").read_bytes() == photo

    again = runner.invoke(app, ["sort", str(folder), "--json"])

    assert again.exit_code == 1, again.output
    [left] = json.loads(again.stdout)["files"]
    assert (left["path"], left["status"], left["reason"]) == (str(folder / "IMG.jpg"), "failed", f"cannot move: {said}")


def test_a_dry_run_says_of_the_marked_photo_itself_that_it_would_not_move(folder: Path, flagged) -> None:
    # Its summary said "1 photo would not move", while `--verbose` said `would move IMG.jpg ->
    # cats/IMG.jpg`, `--json` "planned", and "would move to cats/" counted it with 1130.jpg.
    from test_sort import rows

    said = "cannot move: it is marked immutable (chattr -i to free it)"
    flagged(folder / "IMG.jpg", "+i")

    planned = runner.invoke(app, ["sort", str(folder), "--dry-run", "--verbose"], env={"COLUMNS": "160"})

    assert planned.exit_code == 0, planned.output  # a plan, as ever
    assert sorted(planned.stderr.splitlines()) == [
        "would move 1130.jpg -> cats/1130.jpg (cat, 99%)",
        "would move dog_1087.jpg -> dogs/dog_1087.jpg (dog, 99%)",
        f"would not move: IMG.jpg: {said}",
    ], planned.stderr
    assert {"would move to cats/ │ │ 1", f"left in place: failed │ {said} │ 1"} <= set(rows(planned)), planned.stdout
    assert planned.stdout.endswith(f"{said}; 1 photo would not move\n"), planned.stdout

    for script in ("--json", "--jsonl"):
        told = runner.invoke(app, ["sort", str(folder), "--dry-run", script])

        assert told.exit_code == 0, told.output
        lines = [json.loads(line) for line in told.stdout.splitlines()]
        summary = lines[0] if script == "--json" else lines[-1]["summary"]
        files = lines[0]["files"] if script == "--json" else lines[:-1]
        [left] = [entry for entry in files if entry["path"] == str(folder / "IMG.jpg")]
        # What the sort itself says of it (`failed`, the same reason), where it stays.
        assert (left["status"], left["reason"], left["destination"]) == ("failed", said, None)
        assert (summary["moved_to"], summary["counts"]) == ({"cats": 1, "dogs": 1}, {"planned": 2, "failed": 1})
        assert summary["refused_into"] == [{"reason": said, "photos": 1}]

    sorted_once = runner.invoke(app, ["sort", str(folder), "--json"])

    assert sorted_once.exit_code == 1, sorted_once.output
    [failed] = [entry for entry in json.loads(sorted_once.stdout)["files"] if entry["status"] == "failed"]
    assert (failed["path"], failed["reason"], failed["destination"]) == (left["path"], left["reason"], None)


def test_once_freed_the_photo_is_sorted_and_undone_with_the_others(folder: Path, flagged) -> None:
    before = layout(folder)
    flagged(folder / "IMG.jpg", "+i")
    assert runner.invoke(app, ["sort", str(folder)]).exit_code == 1

    subprocess.run(["chattr", "-i", str(folder / "IMG.jpg")], check=True)  # as the line says
    freed = runner.invoke(app, ["sort", str(folder)])

    assert freed.exit_code == 0, freed.output
    assert sorted(os.listdir(folder / "cats")) == ["1130.jpg", "IMG.jpg"]

    undone = runner.invoke(app, ["undo", str(folder), "--all"])

    assert undone.exit_code == 0, undone.output
    assert layout(folder) == before


def test_undo_says_a_sorted_photo_marked_since_is_kept_and_why(folder: Path, flagged) -> None:
    assert runner.invoke(app, ["sort", str(folder)]).exit_code == 0
    flagged(folder / "cats" / "IMG.jpg", "+i")

    undone = runner.invoke(app, ["undo", str(folder)])

    assert undone.exit_code == 0, undone.output
    assert "kept: cats/IMG.jpg: cannot move back: it is marked immutable (chattr -i to free it)" in undone.stderr
    assert sorted(os.listdir(folder)) == [".sorter", "1130.jpg", "cats", "dog_1087.jpg"]
    assert os.listdir(folder / "cats") == ["IMG.jpg"]
