"""The empty file that holds a name on an exFAT card (`moves._rename_onto_claim`), left by a kill
of any command that moves a photo, not a sort's alone: an undo killed as it renamed a photo back
onto the name it claimed left a 0-byte file at the photo's first place, which nothing removed
(the next undo kept the photo in cats/, "another file is at IMG.jpg now"). And a card taken out
and put back after the kill numbers its files anew (exfat-fuse), so a claim told by its inode
number alone stayed, the next sort filing the photo as `IMG (1).jpg` beside it. Real exFAT cards
(exfat-fuse: as root, skipped otherwise)."""

from __future__ import annotations

import ctypes
import ctypes.util
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import FakeClassifier, remount, tree, write_image
from typer.testing import CliRunner

from sorter.cli import app
from sorter.files import moves
from sorter.model import lite

BLUE = (255, 0, 0)  # BGR: the fake says blue = cat
runner = CliRunner(env={"COLUMNS": "160"})

#: Runs CALL on ROOT in a process that SIGKILLs itself as it renames a photo onto the empty file
#: it made to hold the name: no handler and no clean-up run.
_KILLED_AT_RENAME = """
import os, signal, sys
from pathlib import Path
sys.path.insert(0, {tests!r})
from conftest import FakeClassifier
from sorter.files import moves, undo
from sorter.sorting import sort

class Os:
    def __getattr__(self, name):
        return getattr(os, name)

    def rename(self, *args, **kwargs):
        os.kill(os.getpid(), signal.SIGKILL)

moves.os = Os()
root = Path({root!r})
{call}
"""
SORT = "sort.sort_folder(root, classifier=FakeClassifier())"
UNDO = "undo.undo(root)"


def killed_at_rename(root: Path, call: str) -> None:
    """CALL (`SORT`, `UNDO`) on `root`, in a process killed as it renames a photo onto its claim."""
    script = _KILLED_AT_RENAME.format(tests=str(Path(__file__).parent), root=str(root), call=call)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert done.returncode == -signal.SIGKILL, done.stderr


def _claim(root: Path) -> dict:
    """The last "claim" record of the journal: the empty file's place and identity, and the photo's."""
    lines = (root / ".sorter" / "journal.jsonl").read_text().splitlines()
    return [rec for rec in map(json.loads, lines) if rec["op"] == "claim"][-1]


def _taken_out_and_put_back(card: Path, claim: dict, photo: str) -> None:
    """The card remounted, and looked at in another order than the command that was killed did
    (the sort looked at the photo first), as a file manager might: exfat-fuse numbers files in the
    order they are looked up, so the empty file and the photo at `photo` both bear other inode
    numbers than the journal holds."""
    remount(card)
    held = card / claim["path"]
    for path in (held.parent, held, card / ".sorter" / "journal.jsonl", card / photo):
        os.stat(path)
    assert held.stat().st_ino != claim["id"][1] and (card / photo).stat().st_ino != claim["of"][1]  # renumbered


def _cats_sorted(monkeypatch, card: Path) -> bytes:
    photo = write_image(card / "IMG.jpg", BLUE).read_bytes()
    monkeypatch.setattr(lite, "load_classifier", lambda model: FakeClassifier())
    sorted_ = runner.invoke(app, ["sort", str(card)])
    assert sorted_.exit_code == 0, sorted_.output
    assert tree(card) == {"cats/IMG.jpg": photo}
    return photo


@pytest.mark.parametrize("remounted", [False, True], ids=["mounted all along", "remounted"])
def test_an_undo_killed_after_it_claimed_a_photos_first_place_on_an_exfat_card_leaves_no_empty_file(
        exfat_card: Path, monkeypatch, remounted: bool) -> None:
    photo = _cats_sorted(monkeypatch, exfat_card)

    killed_at_rename(exfat_card, UNDO)
    assert tree(exfat_card) == {"IMG.jpg": b"", "cats/IMG.jpg": photo}  # the first place held, the photo not yet on it
    if remounted:
        _taken_out_and_put_back(exfat_card, _claim(exfat_card), "cats/IMG.jpg")
    again = runner.invoke(app, ["undo", str(exfat_card)])

    assert again.exit_code == 0, again.output
    assert "kept" not in again.output and "another file" not in again.output
    assert tree(exfat_card) == {"IMG.jpg": photo}  # back where it was, once; no empty file


def test_a_sort_killed_after_it_claimed_a_name_then_the_card_put_back_leaves_no_empty_file(
        exfat_card: Path, monkeypatch) -> None:
    photo = write_image(exfat_card / "IMG.jpg", BLUE).read_bytes()
    killed_at_rename(exfat_card, SORT)
    assert tree(exfat_card) == {"IMG.jpg": photo, "cats/IMG.jpg": b""}
    _taken_out_and_put_back(exfat_card, _claim(exfat_card), "IMG.jpg")

    monkeypatch.setattr(lite, "load_classifier", lambda model: FakeClassifier())
    again = runner.invoke(app, ["sort", str(exfat_card)])

    assert again.exit_code == 0, again.output
    assert tree(exfat_card) == {"cats/IMG.jpg": photo}  # its own name: no "IMG (1).jpg" beside an empty one


def test_after_a_remount_an_empty_file_of_someone_elses_at_a_claimed_name_with_another_time_stays(
        exfat_card: Path, monkeypatch) -> None:
    photo = write_image(exfat_card / "IMG.jpg", BLUE).read_bytes()
    killed_at_rename(exfat_card, SORT)
    claim = _claim(exfat_card)
    held = exfat_card / "cats" / "IMG.jpg"
    os.unlink(held)
    held.write_bytes(b"")  # theirs, empty too, made a second later than sorter's
    os.utime(held, ns=(claim["id"][3] + 10**9, claim["id"][3] + 10**9))
    _taken_out_and_put_back(exfat_card, claim, "IMG.jpg")

    monkeypatch.setattr(lite, "load_classifier", lambda model: FakeClassifier())
    again = runner.invoke(app, ["sort", str(exfat_card)])

    assert again.exit_code == 0, again.output
    assert tree(exfat_card) == {"cats/IMG.jpg": b"", "cats/IMG (1).jpg": photo}  # theirs kept; the photo beside it


class _Counted:
    """libc as it is, with its `renameat2` calls counted: which way a move went, told by the call itself."""

    def __init__(self) -> None:
        self._libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        self.calls = 0

    def __getattr__(self, name: str):
        call = getattr(self._libc, name)
        if name != "renameat2":
            return call

        def counted(*args):
            self.calls += 1
            return call(*args)
        return counted


def test_a_card_that_refuses_a_no_replace_rename_leaves_other_disks_on_it(
        exfat_card: Path, tmp_path: Path, monkeypatch) -> None:
    # One process (a watch of a folder with a card mounted inside, `sort --recursive` across a
    # mount) moving on the card and then on another disk: the card's refusal was taken for every
    # disk's, and moves there went on by link-then-unlink.
    libc = _Counted()
    monkeypatch.setattr(moves, "_libc", libc)
    monkeypatch.setattr(moves, "_renameat2_works", True)
    monkeypatch.setattr(moves, "_refused_on", set(), raising=False)
    (exfat_card / "cats").mkdir()
    on_card = write_image(exfat_card / "a.jpg", BLUE).read_bytes()
    moves.move_no_replace(exfat_card / "a.jpg", exfat_card / "cats" / "a.jpg", exfat_card)
    assert libc.calls == 1  # tried, refused (EINVAL), and moved onto a claim
    moves.move_no_replace(exfat_card / "cats" / "a.jpg", exfat_card / "b.jpg", exfat_card)
    assert libc.calls == 1  # the card's refusal known: not asked again there

    elsewhere = tmp_path / "pets"
    (elsewhere / "cats").mkdir(parents=True)
    photo = write_image(elsewhere / "c.jpg", BLUE).read_bytes()
    moves.move_no_replace(elsewhere / "c.jpg", elsewhere / "cats" / "c.jpg", elsewhere)

    assert libc.calls == 2  # this disk asked, and the rename made
    assert tree(elsewhere) == {"cats/c.jpg": photo} and tree(exfat_card) == {"b.jpg": on_card}
