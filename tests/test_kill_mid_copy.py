"""A move to another filesystem killed (`kill -9`) in the middle: `cats/` is a real second
filesystem (a tmpfs mounted there, as root), on a system without a no-replace rename, so each
move is a copy, verified, linked in, then the source's removal (`moves._copy_across`). The kill
is real: a sort (or an undo, putting photos back from `cats/`) in a subprocess SIGKILLs itself at
the chosen instant, no handler and no clean-up run, and the next command settles what it left."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import FakeClassifier, layout, mounted, write_image
from typer.testing import CliRunner

from sorter.cli import app
from sorter.files import moves
from sorter.files.lock import FolderLock
from sorter.files.recovery import recover
from sorter.model import lite

BLUE = (255, 0, 0)  # BGR: the fake says blue = cat
runner = CliRunner()

#: A sort (or an undo) of ROOT in a process that SIGKILLs itself at KILL: "mid-copy" once half the photo is
#: written to the copy (and fsync'd: what a disk may hold after a power cut), or "unlink N" at the
#: N-th removal of a name the move makes (after the copy is linked in as cats/IMG.jpg).
_KILLED_SORT = """
import os, shutil, signal, sys
from pathlib import Path
sys.path.insert(0, {tests!r})
from conftest import FakeClassifier
from sorter.files import moves
from sorter.files import undo
from sorter.sorting import sort

kill = {kill!r}

class Shutil:
    def __getattr__(self, name):
        return getattr(shutil, name)

    def copyfileobj(self, reader, writer, length=0):
        data = reader.read()
        writer.write(data[: len(data) // 2])
        writer.flush()
        os.fsync(writer.fileno())
        os.kill(os.getpid(), signal.SIGKILL)

class Os:
    unlinks = 0

    def __getattr__(self, name):
        return getattr(os, name)

    def unlink(self, *args, **kwargs):
        Os.unlinks += 1
        if kill == f"unlink {{Os.unlinks}}":
            os.kill(os.getpid(), signal.SIGKILL)
        return os.unlink(*args, **kwargs)

if {without_renameat2!r}:
    moves._renameat2_works = False  # a system without it: across the mount, the move copies
if kill == "mid-copy":
    moves.shutil = Shutil()
else:
    moves.os = Os()
if {command!r} == "sort":
    sort.sort_folder(Path({root!r}), classifier=FakeClassifier())
else:
    undo.undo(Path({root!r}))
"""


def _killed_sort(root: Path, kill: str, command: str = "sort", without_renameat2: bool = True) -> None:
    script = _KILLED_SORT.format(tests=str(Path(__file__).parent), kill=kill, root=str(root), command=command,
                                 without_renameat2=without_renameat2)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert done.returncode == -signal.SIGKILL, done.stderr


def _recovered(root: Path):
    """What the next command does first, under the folder's lock."""
    with FolderLock(root):
        return recover(root)


def test_a_sort_killed_in_the_middle_of_a_copy_to_another_disk_leaves_no_half_photo(
        cats_on_another_disk: Path, monkeypatch) -> None:
    # The copy was made at cats/IMG.jpg itself: the kill left half a photo there, which recovery
    # took for a different file, not sorter's, and left for good; the next sort then filed the
    # photo as "cats/IMG (1).jpg" beside it, and undo left the half photo behind.
    root = cats_on_another_disk
    photo = write_image(root / "IMG.jpg", BLUE, size=(256, 256)).read_bytes()
    before = layout(root)

    _killed_sort(root, "mid-copy")
    settled = _recovered(root)

    assert (settled.completed, settled.rolled_back) == (0, 1)
    assert os.listdir(root / "cats") == []  # neither a half photo nor the hidden copy
    assert (root / "IMG.jpg").read_bytes() == photo  # still where it was

    monkeypatch.setattr(lite, "load_classifier", lambda model: FakeClassifier())
    monkeypatch.setattr(moves, "_renameat2_works", False)
    again = runner.invoke(app, ["sort", str(root)])
    assert again.exit_code == 0, again.output
    assert os.listdir(root / "cats") == ["IMG.jpg"] and not (root / "IMG.jpg").exists()
    assert (root / "cats" / "IMG.jpg").read_bytes() == photo
    undone = runner.invoke(app, ["undo", str(root)])
    assert (undone.exit_code, undone.stdout) == (0, f"Restored 1 file from 1 run in {root}.\n"), undone.output
    assert layout(root) == before


@pytest.mark.parametrize("kill", ["unlink 1", "unlink 2"], ids=["before-the-copy-name-goes", "before-the-source-goes"])
def test_a_sort_killed_after_its_copy_to_another_disk_was_linked_in_ends_with_the_photo_once(
        cats_on_another_disk: Path, kill: str) -> None:
    # Killed once the copy is whole and linked in as cats/IMG.jpg, before its hidden name went
    # (unlink 1) or before the photo's source did (unlink 2): the photo is at both names, two
    # equal files on two disks, and recovery finishes the move.
    root = cats_on_another_disk
    photo = write_image(root / "IMG.jpg", BLUE, size=(256, 256)).read_bytes()

    _killed_sort(root, kill)
    left = {"unlink 1": [".IMG.jpg.sorter.tmp", "IMG.jpg"], "unlink 2": ["IMG.jpg"]}[kill]
    assert sorted(os.listdir(root / "cats")) == left and (root / "IMG.jpg").exists()
    assert (root / "cats" / "IMG.jpg").read_bytes() == photo
    settled = _recovered(root)

    assert (settled.completed, settled.rolled_back) == (1, 0)
    assert os.listdir(root / "cats") == ["IMG.jpg"] and not (root / "IMG.jpg").exists()
    assert (root / "cats" / "IMG.jpg").read_bytes() == photo


@pytest.fixture
def cats_bind_mounted(tmp_path: Path):
    """`tmp_path` with its `cats/` a bind mount of a folder elsewhere on the same filesystem: one
    device number on both sides, yet no rename or link crosses it (skipped where it will not mount)."""
    if os.geteuid() != 0:
        pytest.skip("needs root to bind-mount a folder as cats/")
    root, elsewhere = tmp_path / "pets", tmp_path / "elsewhere"
    (root / "cats").mkdir(parents=True)
    elsewhere.mkdir()
    with mounted(["mount", "--bind", str(elsewhere), str(root / "cats")], root / "cats", "a folder as cats/"):
        yield root


@pytest.mark.parametrize("kill", ["unlink 1", "unlink 2"], ids=["before-the-copy-name-goes", "before-the-source-goes"])
def test_a_sort_killed_after_its_copy_into_a_bind_mounted_cats_was_linked_in_ends_with_the_photo_once(
        cats_bind_mounted: Path, kill: str) -> None:
    # Two equal files were taken for the move's own copy only on two device numbers: across a
    # bind mount (one device), recovery took the copy for a different file, not sorter's, and left
    # the photo at both names; the next sort then filed it again as "cats/IMG (1).jpg".
    root = cats_bind_mounted
    photo = write_image(root / "IMG.jpg", BLUE, size=(256, 256)).read_bytes()
    assert os.stat(root).st_dev == os.stat(root / "cats").st_dev

    _killed_sort(root, kill, without_renameat2=False)
    assert (root / "IMG.jpg").exists() and (root / "cats" / "IMG.jpg").read_bytes() == photo
    settled = _recovered(root)

    assert (settled.completed, settled.rolled_back) == (1, 0)
    assert os.listdir(root / "cats") == ["IMG.jpg"] and not (root / "IMG.jpg").exists()
    assert (root / "cats" / "IMG.jpg").read_bytes() == photo


def _hidden_copies(root: Path) -> list[str]:
    return [os.path.join(folder, name) for folder, _, names in os.walk(root) for name in names
            if name.endswith(moves.COPY_SUFFIX)]


@pytest.mark.parametrize("kill", ["mid-copy", "unlink 1", "unlink 2"],
                         ids=["half-copied", "before-the-copy-name-goes", "before-the-source-goes"])
@pytest.mark.parametrize("next_command", ["undo", "sort"])
def test_an_undo_killed_putting_photos_back_from_another_disk_ends_with_each_photo_once(
        cats_on_another_disk: Path, monkeypatch, kill: str, next_command: str) -> None:
    # Two cats sorted into a cats/ that is a disk of its own, with the kernel's no-replace rename
    # on, as for any user; the undo that puts them back across the mount point is killed in the
    # first photo's copy, or after it was linked back in. The next undo (or a sort, whose
    # recovery comes first) leaves each photo once, byte for byte, and no hidden part-copy.
    root = cats_on_another_disk
    photos = {name: write_image(root / name, BLUE, size=(256, 256 + i)).read_bytes()
              for i, name in enumerate(("IMG_1.jpg", "IMG_2.jpg"))}
    before = layout(root)
    monkeypatch.setattr(lite, "load_classifier", lambda model: FakeClassifier())
    sorted_ = runner.invoke(app, ["sort", str(root)])
    assert sorted_.exit_code == 0, sorted_.output
    assert sorted(os.listdir(root / "cats")) == list(photos)

    _killed_sort(root, kill, command="undo", without_renameat2=False)
    assert _hidden_copies(root) == ([] if kill == "unlink 2" else [str(moves.copy_beside(root / "IMG_1.jpg"))])
    again = runner.invoke(app, [next_command, str(root)])

    assert again.exit_code == 0, again.output
    assert _hidden_copies(root) == []
    found = [(name, path.read_bytes()) for name in photos for path in (root / name, root / "cats" / name)
             if path.exists()]
    assert found == list(photos.items())  # each once: at the top, or in cats/
    if next_command == "undo":
        assert layout(root) == before


def test_only_the_exact_hidden_name_of_a_copy_and_only_a_file_there_is_taken_for_one_left(tmp_path: Path) -> None:
    # Recovery removes what a killed copy left by its name alone: a folder or a link at that
    # name, or another hidden file beside it, is the user's and stays.
    dst = tmp_path / "cats" / "IMG.jpg"
    dst.parent.mkdir()
    (dst.parent / ".IMG.jpg.tmp").write_bytes(b"an editor's")
    (dst.parent / "target").write_bytes(b"linked to")
    os.symlink("target", moves.copy_beside(dst))
    assert not moves.remove_copy_left(dst) and os.path.islink(moves.copy_beside(dst))
    os.unlink(moves.copy_beside(dst))
    moves.copy_beside(dst).write_bytes(b"half a photo")
    assert moves.remove_copy_left(dst)
    assert sorted(os.listdir(dst.parent)) == [".IMG.jpg.tmp", "target"]
    long = dst.with_name("x" * 250 + ".jpg")  # too long to take the suffix: a digest of it
    assert len(moves.copy_beside(long).name) < 255 and moves.copy_beside(long) != moves.copy_beside(dst)
    assert moves.copy_beside(long).name.startswith(".") and moves.copy_beside(long).name.endswith(".sorter.tmp")
