"""Moves across filesystems, as a user makes them: `cats/` is a disk of its own mounted inside
the sorted folder (a tmpfs, as root; skipped otherwise), and the kernel's no-replace rename is
on, as on any Linux. The rename cannot cross the mount point (EXDEV), so each such move is a
copy, verified, linked in, then the source's removal (`moves._copy_across`); moves within one
filesystem stay renames."""

from __future__ import annotations

import os
import subprocess
import threading
import time
from pathlib import Path

import pytest
from conftest import FakeClassifier, layout, write_image
from typer.testing import CliRunner

from sorter.cli import app
from sorter.files import moves
from sorter.model import lite
from sorter.watching import watch, watcher

BLUE, RED = (255, 0, 0), (0, 0, 255)  # BGR: the fake says blue = cat, red = dog
runner = CliRunner()


@pytest.fixture
def with_renameat2(monkeypatch) -> None:
    """The kernel's no-replace rename in use, as for a user (an earlier test may have turned it off)."""
    monkeypatch.setattr(moves, "_renameat2_works", True)
    monkeypatch.setattr(lite, "load_classifier", lambda model: FakeClassifier())


def test_a_sort_into_a_cats_folder_on_another_disk_moves_the_photo_and_undo_puts_it_back(
        cats_on_another_disk: Path, with_renameat2) -> None:
    # The rename across the mount point failed with EXDEV, which ended the move: "left in place:
    # failed, cannot move: Invalid cross-device link", exit 1, and nothing ever reached cats/.
    root = cats_on_another_disk
    cat = write_image(root / "IMG_1.jpg", BLUE, size=(256, 256)).read_bytes()
    dog = write_image(root / "IMG_2.jpg", RED, size=(256, 256))
    dog_inode = dog.stat().st_ino
    before = layout(root)

    result = runner.invoke(app, ["sort", str(root)])

    assert result.exit_code == 0, result.output
    assert "failed" not in result.output
    assert os.listdir(root / "cats") == ["IMG_1.jpg"] and (root / "cats" / "IMG_1.jpg").read_bytes() == cat
    assert not (root / "IMG_1.jpg").exists()
    # dogs/ is on the folder's own disk: a rename still, the same file (the call stays on for it).
    assert (root / "dogs" / "IMG_2.jpg").stat().st_ino == dog_inode and moves._renameat2_works

    undone = runner.invoke(app, ["undo", str(root)])

    assert (undone.exit_code, undone.stdout) == (0, f"Restored 2 files from 1 run in {root}.\n"), undone.output
    assert layout(root) == before  # the photo back, byte for byte; nothing hidden left in cats/


def test_the_watcher_files_a_photo_into_a_cats_folder_on_another_disk(cats_on_another_disk: Path,
                                                                     with_renameat2) -> None:
    root = cats_on_another_disk
    cat = write_image(root / "IMG_1.jpg", BLUE, size=(256, 256)).read_bytes()
    stop, box = threading.Event(), {}
    fast = watcher.WatchSettings(rescan_interval=0.1, settle=0.1)
    thread = threading.Thread(target=lambda: box.setdefault("summary", watch.watch_folder(
        root, classifier=FakeClassifier(), stop=stop, settings=fast)), daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 20
        while not (root / "cats" / "IMG_1.jpg").exists() and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        stop.set()
        thread.join(20)

    assert not thread.is_alive() and box["summary"].moved_to == {"cats": 1}
    assert os.listdir(root / "cats") == ["IMG_1.jpg"] and (root / "cats" / "IMG_1.jpg").read_bytes() == cat
    assert not (root / "IMG_1.jpg").exists()


def test_a_review_click_moves_a_photo_out_of_a_cats_folder_on_another_disk(cats_on_another_disk: Path,
                                                                            with_renameat2) -> None:
    # The review's corrections go through the same move: "dog" from cats/ to dogs/, "neither"
    # back to the top, each across the mount point.
    from test_review_server import click

    root = cats_on_another_disk
    photos = {name: write_image(root / name, BLUE, size=(256, 256 + i)).read_bytes()
              for i, name in enumerate(("IMG_1.jpg", "IMG_2.jpg"))}
    before = layout(root)
    assert runner.invoke(app, ["sort", str(root)]).exit_code == 0

    click(root, "IMG_1.jpg", "dog")
    click(root, "IMG_2.jpg", "neither")

    assert (root / "dogs" / "IMG_1.jpg").read_bytes() == photos["IMG_1.jpg"]
    assert (root / "IMG_2.jpg").read_bytes() == photos["IMG_2.jpg"] and os.listdir(root / "cats") == []
    undone = runner.invoke(app, ["undo", "--all", str(root)])  # each click's session, then the sort
    assert undone.exit_code == 0, undone.output
    assert layout(root) == before


def test_a_folder_swapped_for_a_link_during_a_move_across_disks_never_sends_the_photo_out(
        cats_on_another_disk: Path, tmp_path_factory, monkeypatch) -> None:
    # The move opens its folders one name at a time without following links; across a mount it
    # then copied by full path, so cats/Luna/ swapped for a link to a folder outside between that
    # opening and the copy had the photo copied out there and removed from the sorted folder.
    root = cats_on_another_disk
    outside = tmp_path_factory.mktemp("outside")
    photo = write_image(root / "IMG_1.jpg", BLUE, size=(256, 256)).read_bytes()
    (root / "cats" / "Luna").mkdir()
    real_open = moves.open_folder_beneath

    def swapped_once_opened(top: Path, folder: Path) -> int:
        fd = real_open(top, folder)
        if folder.name == "Luna":  # a sync client (or another user) swaps it right then
            os.rename(folder, folder.with_name("Luna.old"))
            os.symlink(outside, folder)
        return fd

    monkeypatch.setattr(moves, "open_folder_beneath", swapped_once_opened)
    monkeypatch.setattr(moves, "_renameat2_works", True)
    moves.move_no_replace(root / "IMG_1.jpg", root / "cats" / "Luna" / "IMG_1.jpg", root)

    assert os.listdir(outside) == []
    assert os.listdir(root / "cats" / "Luna.old") == ["IMG_1.jpg"]  # the folder it opened
    assert (root / "cats" / "Luna.old" / "IMG_1.jpg").read_bytes() == photo


def test_a_full_or_read_only_cats_disk_is_named_the_same_way(cats_on_another_disk: Path, with_renameat2) -> None:
    """Two ways a disk refuses a photo, said alike: a full cats/ said `cannot move: No space left
    on device` where a read-only one said `cannot move into cats/: Read-only file system`. Both
    name the folder now, and the photo stays where it was, whole."""
    root = cats_on_another_disk
    cat = write_image(root / "IMG_1.jpg", BLUE, size=(256, 256)).read_bytes()
    with open(root / "cats" / "filler", "wb") as filler:  # the 8 MB disk filled to its last block
        try:
            while True:
                filler.write(b"\0" * 65536)
                filler.flush()
        except OSError:
            pass

    full = runner.invoke(app, ["sort", str(root), "--verbose"])

    assert full.exit_code == 1, full.output
    assert "failed: IMG_1.jpg: cannot move into cats/: No space left on device" in full.stderr, full.output
    assert (root / "IMG_1.jpg").read_bytes() == cat and os.listdir(root / "cats") == ["filler"]

    (root / "cats" / "filler").unlink()
    subprocess.run(["mount", "-o", "remount,ro", str(root / "cats")], check=True)
    read_only = runner.invoke(app, ["sort", str(root), "--verbose"])

    assert read_only.exit_code == 1, read_only.output
    assert "failed: IMG_1.jpg: cannot move into cats/: Read-only file system" in read_only.stderr, read_only.output
    assert (root / "IMG_1.jpg").read_bytes() == cat
