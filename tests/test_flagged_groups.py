"""Flags (`chattr`) on a file other than the photo: a companion (its video, its sidecar), or the
folder the photo is in or goes to. A sort blamed the photo (`failed: IMG.jpg: cannot move: it is
marked immutable (chattr -i to free it)` of a photo with no flag: its video had it), or said only
`cannot move: Operation not permitted` of a photo in an append-only folder, and the dry run said
"would move" of them all. Now the file or folder that has the flag is named, with what frees it,
by the dry run and the sort alike; so is a folder undo may not move a photo back out of. And a
photo that two folders refuse is said with the error of the folder named, not the move's. Root
only, on a filesystem that keeps such flags (skipped otherwise)."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest
from conftest import FakeClassifier, as_a_user, layout, mounted, write_image
from test_pinned_photos import BLUE, RED, runner

from sorter.cli import app
from sorter.files import moves
from sorter.model import lite


@pytest.fixture
def folder(tmp_path: Path, monkeypatch) -> Path:
    """A cat, IMG.jpg with its edits (.AAE) and its sidecar, and a dog in `trip/`; the fake classifier."""
    if os.geteuid() != 0:
        pytest.skip("needs root to set a file's immutable and append-only flags (chattr)")
    monkeypatch.setattr(lite, "load_classifier", lambda model: FakeClassifier())
    for name, colour in (("1130.jpg", BLUE), ("IMG.jpg", BLUE), ("trip/dog_1087.jpg", RED)):
        write_image(tmp_path / name, colour, size=(256, 256))
    (tmp_path / "IMG.AAE").write_text("<plist/>")
    (tmp_path / "IMG.jpg.xmp").write_text("<x/>")
    return tmp_path


def _foreseen_then_failed(root: Path, name: str, why: str) -> None:
    """The dry run says of `name` what the sort then says (`why`), in `--verbose` and `--json`."""
    planned = runner.invoke(app, ["sort", str(root), "-r", "--dry-run", "--verbose"])

    assert planned.exit_code == 0, planned.output
    assert f"would not move: {name}: {why}" in planned.stderr, planned.stderr
    assert f"would move {name} " not in planned.stderr, planned.stderr
    told = json.loads(runner.invoke(app, ["sort", str(root), "-r", "--dry-run", "--json"]).stdout)
    assert [(entry["path"], entry["reason"]) for entry in told["files"] if entry["status"] == "failed"] == [
        (str(root / name), why.split("; ")[0])]

    sorted_once = runner.invoke(app, ["sort", str(root), "-r", "--verbose"])

    assert sorted_once.exit_code == 1, sorted_once.output
    assert f"failed: {name}: {why}" in sorted_once.stderr, sorted_once.stderr


@pytest.mark.parametrize(("companion", "flag", "said"), [
    ("IMG.AAE", "+i", "IMG.AAE is marked immutable (chattr -i IMG.AAE to free it)"),
    ("IMG.jpg.xmp", "+a", "IMG.jpg.xmp is marked append-only (chattr -a IMG.jpg.xmp to free it)"),
])
def test_a_flagged_companion_is_named_by_the_dry_run_and_the_sort_not_its_photo(
        folder: Path, flagged, companion: str, flag: str, said: str) -> None:
    before = layout(folder)
    flagged(folder / companion, flag)

    _foreseen_then_failed(folder, "IMG.jpg", f"cannot move: {said}; IMG.jpg.xmp, IMG.AAE stay with it")

    assert sorted(os.listdir(folder / "cats")) == ["1130.jpg"]
    assert {path: digest for path, digest in before.items() if "IMG" in path} == {
        path: digest for path, digest in layout(folder).items() if "IMG" in path}


def test_a_photo_in_an_append_only_folder_is_said_to_be_kept_by_that_folder(folder: Path, flagged) -> None:
    flagged(folder / "trip", "+a")

    _foreseen_then_failed(folder, "trip/dog_1087.jpg",
                          "cannot move out of trip/: it is marked append-only (chattr -a trip to free it)")

    assert os.listdir(folder / "trip") == ["dog_1087.jpg"]
    assert sorted(os.listdir(folder / "cats")) == ["1130.jpg", "IMG.AAE", "IMG.jpg", "IMG.jpg.xmp"]


def test_undo_names_the_append_only_folder_it_may_not_move_a_photo_back_out_of(folder: Path, flagged) -> None:
    assert runner.invoke(app, ["sort", str(folder), "-r"]).exit_code == 0
    flagged(folder / "dogs", "+a")  # a photo may come in, none may leave

    undone = runner.invoke(app, ["undo", str(folder)])

    assert "kept: dogs/dog_1087.jpg: cannot move back out of dogs/: it is marked append-only " \
           "(chattr -a dogs to free it)" in undone.stderr, undone.output
    assert os.listdir(folder / "dogs") == ["dog_1087.jpg"]


def test_a_card_s_photo_its_cats_folder_refuses_is_said_with_that_folder_s_error(
        tmp_path: Path, monkeypatch) -> None:
    # A read-only card in the folder, and a cats/ of mode 555, as a user: the dry run said `cannot
    # move into cats/: Permission denied` and the sort `cannot move into cats/: Read-only file
    # system`, the card's error, of a cats/ on a writable disk.
    if os.geteuid() != 0:
        pytest.skip("needs root to mount a tmpfs as card/")
    monkeypatch.setattr(moves, "_renameat2_works", True)
    monkeypatch.setattr(lite, "load_classifier", lambda model: FakeClassifier())
    (tmp_path / "cats").mkdir()
    (tmp_path / "card").mkdir()
    with mounted(["mount", "-t", "tmpfs", "-o", "size=5m", "tmpfs", str(tmp_path / "card")],
                 tmp_path / "card", "a tmpfs as card/"):
        write_image(tmp_path / "card" / "952.jpg", BLUE, size=(256, 256))
        subprocess.run(["mount", "-o", "remount,ro", str(tmp_path / "card")], check=True)
        (tmp_path / "cats").chmod(0o555)
        try:
            with as_a_user(tmp_path / "cats", "write"):
                _foreseen_then_failed(tmp_path, "card/952.jpg", "cannot move into cats/: Permission denied")
        finally:
            (tmp_path / "cats").chmod(0o755)
        assert os.listdir(tmp_path / "card") == ["952.jpg"]
