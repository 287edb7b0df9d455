"""Photos on a disk of their own inside the sorted folder (`card/`, a tmpfs mounted there, as root;
skipped otherwise) that may not leave it: the card mounted read-only, a folder the user may not
write in, a photo made immutable. A move across filesystems is a copy, then the source's removal;
only the removal met the refusal, with the copy made and linked in by then, and it stayed: a second
photo in cats/ and dogs/ that undo did not know, and each sort again made another (`952 (1).jpg`).
Now the folder is asked before anything is copied (`leaving.may_leave`), and a removal refused
after all takes the copy back, journaled, so a kill at any point leaves the photo once."""

from __future__ import annotations

import json
import os
import shutil
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

BLUE, RED = (255, 0, 0), (0, 0, 255)  # BGR: the fake says blue = cat, red = dog
runner = CliRunner()


@pytest.fixture
def card(tmp_path: Path, monkeypatch):
    """`tmp_path` with a photo at its top, and its `card/` a filesystem of its own holding a cat and
    a dog, as a user's memory card mounted in the folder; the fake classifier behind `sort`."""
    if os.geteuid() != 0:
        pytest.skip("needs root to mount a tmpfs as card/")
    monkeypatch.setattr(moves, "_renameat2_works", True)
    monkeypatch.setattr(lite, "load_classifier", lambda model: FakeClassifier())
    write_image(tmp_path / "1130.jpg", BLUE, size=(256, 256))
    (tmp_path / "card").mkdir()
    with mounted(["mount", "-t", "tmpfs", "-o", "size=5m", "tmpfs", str(tmp_path / "card")],
                 tmp_path / "card", "a tmpfs as card/"):
        write_image(tmp_path / "card" / "952.jpg", BLUE, size=(256, 256))
        write_image(tmp_path / "card" / "dog_1087.jpg", RED, size=(256, 256))
        yield tmp_path


def _sorted(root: Path) -> dict[str, list[str]]:
    return {folder: sorted(os.listdir(root / folder)) for folder in ("card", "cats", "dogs")
            if (root / folder).is_dir()}


def _foreseen_then_failed(root: Path, foreseen: str, *failed: str) -> None:
    """`sort -r --dry-run` of `root` says `foreseen` (exit 0), and of each photo the sort after it
    fails what the sort says (exit 1, `--verbose`: each of the `failed` lines): its `--verbose` line
    `would not move: card/952.jpg: ...`, where it said `would move card/952.jpg -> cats/952.jpg`,
    and `--json` "failed" with that reason, where it said "planned", counted in "would move to"."""
    planned = runner.invoke(app, ["sort", str(root), "-r", "--dry-run", "--verbose"])

    assert planned.exit_code == 0, planned.output
    assert foreseen in planned.output
    refused = dict(line.removeprefix("failed: ").split(": ", 1) for line in failed)
    for name, why in refused.items():
        assert f"would not move: {name}: {why}" in planned.stderr.splitlines(), planned.stderr
        assert f"would move {name} " not in planned.stderr, planned.stderr
    told = runner.invoke(app, ["sort", str(root), "-r", "--dry-run", "--json"])

    assert told.exit_code == 0, told.output
    plan = json.loads(told.stdout)
    assert {entry["path"]: entry["reason"] for entry in plan["files"] if entry["status"] == "failed"} == {
        str(root / name): why for name, why in refused.items()}
    assert sum(plan["moved_to"].values()) == plan["counts"]["planned"]  # those alone "would move to"

    sorted_once = runner.invoke(app, ["sort", str(root), "-r", "--verbose"])

    assert sorted_once.exit_code == 1, sorted_once.output
    for line in failed:
        assert line in sorted_once.stderr, sorted_once.output


def test_photos_on_a_card_mounted_read_only_stay_on_it_and_are_never_copied(card: Path) -> None:
    root = card
    subprocess.run(["mount", "-o", "remount,ro", str(root / "card")], check=True)
    before = layout(root)

    _foreseen_then_failed(root, "cannot move out of card/: Read-only file system; 2 photos would not move",
                          "failed: card/952.jpg: cannot move out of card/: Read-only file system",
                          "failed: card/dog_1087.jpg: cannot move out of card/: Read-only file system")
    # The photo at the top moved; those on the card stayed there, with no copy in cats/ or dogs/:
    # none was made (none taken back after, `uncopy`), the card asked before.
    assert _sorted(root) == {"card": ["952.jpg", "dog_1087.jpg"], "cats": ["1130.jpg"], "dogs": []}
    assert [r for r in _journal(root) if r["op"] == "uncopy"] == []

    again = runner.invoke(app, ["sort", str(root), "-r"])  # "sort again", as the error line says

    assert again.exit_code == 1, again.output
    assert _sorted(root) == {"card": ["952.jpg", "dog_1087.jpg"], "cats": ["1130.jpg"], "dogs": []}

    undone = runner.invoke(app, ["undo", str(root)])

    assert (undone.exit_code, undone.stdout) == (0, f"Restored 1 file from 1 run in {root}.\n"), undone.output
    assert layout(root) == before


def test_a_dry_run_says_of_each_photo_a_folder_refuses_that_it_would_not_move(tmp_path: Path, monkeypatch) -> None:
    # No card, no root: a cats/ and a trip/ of mode 555, as a user (root's override of file modes
    # set aside). The summary said "1 photo would not move" of each, and --verbose and --json that
    # both would move, counted in "would move to cats/" and "would move to dogs/".
    from conftest import as_a_user

    monkeypatch.setattr(lite, "load_classifier", lambda model: FakeClassifier())
    write_image(tmp_path / "1130.jpg", BLUE, size=(256, 256))
    write_image(tmp_path / "trip" / "dog_1087.jpg", RED, size=(256, 256))
    (tmp_path / "cats").mkdir()
    before = layout(tmp_path)
    refused = {"1130.jpg": "cannot move into cats/: Permission denied",
               "trip/dog_1087.jpg": "cannot move out of trip/: Permission denied"}
    for folder in ("cats", "trip"):
        (tmp_path / folder).chmod(0o555)
    try:
        with as_a_user(tmp_path / "cats", "write"):
            planned = runner.invoke(app, ["sort", str(tmp_path), "-r", "--dry-run", "--verbose"])
            told = runner.invoke(app, ["sort", str(tmp_path), "-r", "--dry-run", "--jsonl"])
            assert layout(tmp_path) == before  # a plan writes nothing
            sorted_once = runner.invoke(app, ["sort", str(tmp_path), "-r", "--verbose"])
    finally:
        for folder in ("cats", "trip"):
            (tmp_path / folder).chmod(0o755)

    assert planned.exit_code == 0, planned.output
    assert sorted(planned.stderr.splitlines()) == [f"would not move: {name}: {why}" for name, why in refused.items()]
    assert "would move to" not in planned.stdout, planned.stdout
    assert planned.stdout.endswith("cats/ cannot be written: Permission denied; 1 photo would not move\n"
                                   "cannot move out of trip/: Permission denied; 1 photo would not move\n"), planned.stdout
    assert told.exit_code == 0, told.output
    *files, summary = (json.loads(line) for line in told.stdout.splitlines())
    assert {(entry["path"], entry["status"], entry["reason"], entry["destination"]) for entry in files} == {
        (str(tmp_path / name), "failed", why, None) for name, why in refused.items()}
    assert (summary["summary"]["moved_to"], summary["summary"]["counts"]) == ({}, {"failed": 2})
    # What the sort then says of each, word for word, the photos where they were.
    assert sorted_once.exit_code == 1, sorted_once.output
    assert sorted(sorted_once.stderr.splitlines()) == [
        "Error: 2 photos could not be moved, the summary says why: put that right, then sort again",
        *(f"failed: {name}: {why}" for name, why in refused.items())]
    after = layout(tmp_path)
    assert {name: after.get(name) for name in refused} == {name: before[name] for name in refused}


_DROPPED = "-dac_override,-dac_read_search,-fowner"
#: `sorter ARGS` with root's override of file modes dropped, as for a user: the fake classifier behind it.
_SORT_WITHOUT_OVERRIDE = """
import sys
sys.path.insert(0, {tests!r})
from conftest import FakeClassifier
from sorter.model import lite
lite.load_classifier = lambda model: FakeClassifier()
from sorter.cli import app
app({args!r}, prog_name="sorter")
"""


def _without_override(*args: str) -> subprocess.CompletedProcess:
    script = _SORT_WITHOUT_OVERRIDE.format(tests=str(Path(__file__).parent), args=list(args))
    return subprocess.run(["setpriv", f"--inh-caps={_DROPPED}", f"--bounding-set={_DROPPED}",
                           sys.executable, "-c", script], capture_output=True, text=True, timeout=300)


def test_photos_in_a_folder_the_user_may_not_write_in_on_another_disk_stay_and_are_never_copied(card: Path) -> None:
    # As root, the folder's mode binds no one: root's CAP_DAC_OVERRIDE is dropped for the sort.
    if shutil.which("setpriv") is None:
        pytest.skip("needs setpriv to drop root's override of file modes")
    root = card
    (root / "card").chmod(0o555)

    planned = _without_override("sort", str(root), "-r", "--dry-run")

    assert planned.returncode == 0, planned.stderr
    assert "cannot move out of card/: Permission denied; 2 photos would not move" in planned.stdout

    sorted_once = _without_override("sort", str(root), "-r", "--verbose")

    assert sorted_once.returncode == 1, sorted_once.stdout + sorted_once.stderr
    assert "failed: card/952.jpg: cannot move out of card/: Permission denied" in sorted_once.stderr
    assert _sorted(root) == {"card": ["952.jpg", "dog_1087.jpg"], "cats": ["1130.jpg"], "dogs": []}
    assert [r for r in _journal(root) if r["op"] == "uncopy"] == []  # nothing copied, nothing taken back


def _immutable(path: Path) -> None:
    done = subprocess.run(["chattr", "+i", str(path)], capture_output=True, text=True)
    if done.returncode != 0:
        pytest.skip(f"cannot make a file immutable here: {done.stderr.strip()}")


def _journal(root: Path) -> list[dict]:
    return [json.loads(line) for line in (root / ".sorter" / "journal.jsonl").read_text().splitlines()]


def test_a_photo_marked_immutable_on_a_card_is_said_so_and_never_copied(card: Path) -> None:
    # Its folder lets it go, the photo itself will not (`chattr +i`): asked with the folder
    # (`leaving.pinned`), the dry run foresees it and the sort copies nothing.
    root = card
    photo = (root / "card" / "952.jpg").read_bytes()
    _immutable(root / "card" / "952.jpg")
    try:
        _foreseen_then_failed(root, "cannot move: it is marked immutable (chattr -i to free it); 1 photo would not move",
                              "failed: card/952.jpg: cannot move: it is marked immutable (chattr -i to free it)")
        assert _sorted(root) == {"card": ["952.jpg"], "cats": ["1130.jpg"], "dogs": ["dog_1087.jpg"]}
        assert [r for r in _journal(root) if r["op"] == "uncopy"] == []  # nothing copied, nothing taken back
    finally:
        subprocess.run(["chattr", "-i", str(root / "card" / "952.jpg")], check=True)
    assert (root / "card" / "952.jpg").read_bytes() == photo


def _immutable_once_asked(monkeypatch) -> None:
    """The photo made immutable right after its folder and flags were asked (`may_leave`), before
    the copy: only the removal after it meets the flag, with the copy made and linked in by then."""
    asked = moves.may_leave

    def then_immutable(src, src_dir=None):
        asked(src, src_dir)
        if os.path.basename(src) == "952.jpg":
            where = src if src_dir is None else f"/proc/{os.getpid()}/fd/{src_dir}/{os.path.basename(src)}"
            subprocess.run(["chattr", "+i", where], check=True)

    monkeypatch.setattr(moves, "may_leave", then_immutable)


def test_a_photo_that_will_not_go_after_its_copy_is_made_has_its_copy_taken_back(card: Path, monkeypatch) -> None:
    # Its folder lets it go, and the photo too when asked; made immutable meanwhile, it will not
    # go after all, which only the removal meets: the copy goes, journaled first.
    root = card
    _immutable(root / "card" / "dog_1087.jpg")  # chattr works on this disk, or skipped
    subprocess.run(["chattr", "-i", str(root / "card" / "dog_1087.jpg")], check=True)
    _immutable_once_asked(monkeypatch)
    try:
        result = runner.invoke(app, ["sort", str(root), "-r", "--verbose"])

        assert result.exit_code == 1, result.output
        assert "failed: card/952.jpg: cannot move: it is marked immutable (chattr -i to free it)" in result.stderr
        assert _sorted(root) == {"card": ["952.jpg"], "cats": ["1130.jpg"], "dogs": ["dog_1087.jpg"]}
        assert [r["path"] for r in _journal(root) if r["op"] == "uncopy"] == ["cats/952.jpg"]
    finally:
        subprocess.run(["chattr", "-i", str(root / "card" / "952.jpg")], check=True)


#: A sort of ROOT that SIGKILLs itself as it takes back the copy of a photo that would not go:
#: "before-the-record" right as it journals it, "after-the-record" right before the removal.
_KILLED_SORT = """
import os, signal, subprocess, sys
from pathlib import Path
sys.path.insert(0, {tests!r})
from conftest import FakeClassifier
from sorter.files import journal_writer, moves
from sorter.sorting import sort

def killed(*args, **kwargs):
    os.kill(os.getpid(), signal.SIGKILL)

asked = moves.may_leave

def then_immutable(src, src_dir=None):  # made immutable once asked: only the removal meets it
    asked(src, src_dir)
    if os.path.basename(src) == "952.jpg":
        where = src if src_dir is None else f"/proc/{{os.getpid()}}/fd/{{src_dir}}/{{os.path.basename(src)}}"
        subprocess.run(["chattr", "+i", where], check=True)

moves.may_leave = then_immutable

if {kill!r} == "before-the-record":
    journal_writer.Journal.uncopy = killed
else:
    moves.remove_copy_made = killed
sort.sort_folder(Path({root!r}), recursive=True, classifier=FakeClassifier())
"""


@pytest.mark.parametrize("kill", ["before-the-record", "after-the-record"])
def test_a_sort_killed_as_it_takes_a_copy_back_leaves_the_photo_once_where_it_was(card: Path, kill: str) -> None:
    root = card
    photo = (root / "card" / "952.jpg").read_bytes()
    _immutable(root / "card" / "952.jpg")  # chattr works on this disk, or skipped
    subprocess.run(["chattr", "-i", str(root / "card" / "952.jpg")], check=True)
    try:
        script = _KILLED_SORT.format(tests=str(Path(__file__).parent), kill=kill, root=str(root))
        done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300)
        assert done.returncode == -signal.SIGKILL, done.stderr
        assert (root / "cats" / "952.jpg").read_bytes() == photo  # the copy, left by the kill

        with FolderLock(root):
            settled = recover(root)  # what the next command does first
    finally:
        subprocess.run(["chattr", "-i", str(root / "card" / "952.jpg")], check=True)

    assert settled.missing == []
    assert (root / "card" / "952.jpg").read_bytes() == photo
    # Each photo once: the copy gone, the others where the sort or the recovery left them.
    everywhere = [name for names in _sorted(root).values() for name in names]
    assert sorted(everywhere) == ["1130.jpg", "952.jpg", "dog_1087.jpg"], _sorted(root)
