"""Sorts of nested folders: while a sorter works on a folder and its sub-folders (`sort -r`), a
sort, undo, review or watch of one of those sub-folders is refused, in the one line a second
sorter of the same folder gets; a sort of the folder's top alone leaves its sub-folders free."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import JUDGING_SORT, PAUSED_SORT, REPO, FakeClassifier, layout, wait_until, write_image
from typer.testing import CliRunner

from sorter.cli import app
from sorter.errors import FolderLocked
from sorter.files.lock import FolderLock
from sorter.model import lite

RED, BLUE = (0, 0, 255), (255, 0, 0)  # BGR: the fake says red = dog, blue = cat
runner = CliRunner()


@pytest.fixture(autouse=True)
def fake_model(monkeypatch) -> None:
    monkeypatch.setattr(lite, "load_classifier", lambda model: FakeClassifier())


def _photos(root: Path) -> list[str]:
    return sorted(path for path, entry in layout(root).items() if entry != "dir" and ".sorter" not in path)


def _library(tmp_path: Path) -> tuple[Path, Path]:
    """t13 with three photos at its top and three in t13/2018."""
    t13 = tmp_path / "t13"
    for name, colour in (("a.jpg", BLUE), ("b.jpg", RED), ("c.jpg", BLUE)):
        write_image(t13 / name, colour)
        write_image(t13 / "2018" / f"y{name}", colour)
    return t13, t13 / "2018"


def _paused(root: Path, go: Path, recursive: bool) -> subprocess.Popen:
    """A sort of `root` at work, paused at its second move until `go` exists."""
    at_work = subprocess.Popen([sys.executable, "-c", PAUSED_SORT, str(root), str(go), "-r" if recursive else ""],
                               stdout=subprocess.PIPE, text=True,
                               env={**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), str(REPO / "tests")])})
    assert wait_until(lambda: any(path.startswith(("cats/", "dogs/")) for path in _photos(root)), 60)  # one moved
    return at_work


def test_a_sub_folder_of_a_recursive_sort_at_work_is_refused_in_one_line(tmp_path: Path) -> None:
    """`sorter sort t13 -r &`, then `sorter sort t13/2018 -r`: the second was not refused. It judged
    the photos the first was moving, whose summary then said `vanished ... 150`, and the two
    journals took turns on the same photos. Now the sub-folder's sort and any lock on it
    (undo, review, learn, watch) are refused while the sort of t13 works, as a second sort of t13 is;
    its dry run says that sorter is at work; and the sort of t13 sorts every photo, none vanished."""
    t13, sub = _library(tmp_path)
    before = _photos(sub)
    go = tmp_path / "go"
    at_work = _paused(t13, go, recursive=True)
    try:
        sorted_ = runner.invoke(app, ["sort", str(sub), "-r"])
        plain = runner.invoke(app, ["sort", str(sub)])
        planned = runner.invoke(app, ["sort", str(sub), "-n"])
        with pytest.raises(FolderLocked) as locked:  # a review's click, learn, a watch's batch
            FolderLock(sub, beside_watcher=True).acquire()
        left = _photos(sub)
    finally:
        go.touch()
        out, _ = at_work.communicate(timeout=60)

    refused = (f"Error: another sorter (pid {at_work.pid}) is working on {t13}, which holds {sub}; "
               "wait for it to finish or stop it\n")
    assert (sorted_.exit_code, sorted_.stderr) == (1, refused), sorted_.output
    assert (plain.exit_code, plain.stderr) == (1, refused), plain.output
    assert str(locked.value) == refused.removeprefix("Error: ").rstrip("\n")
    assert planned.exit_code == 0, planned.output
    assert planned.stdout.splitlines()[-1] == (
        f"Another sorter (pid {at_work.pid}) is working on {sub}: this plan is of the folder as it is now, "
        "and a sort would be refused until it finishes.")
    assert left == before and not (sub / ".sorter").exists()  # the refused ones moved nothing, wrote nothing
    assert at_work.returncode == 0
    assert out.strip() == "{'moved': 6}"  # none vanished, none it could not open
    assert _photos(t13) == ["cats/a.jpg", "cats/c.jpg", "cats/ya.jpg", "cats/yc.jpg", "dogs/b.jpg", "dogs/yb.jpg"]
    assert runner.invoke(app, ["sort", str(sub)]).exit_code == 0  # free once it finished


def test_a_sort_of_the_parents_top_alone_leaves_its_sub_folders_free(tmp_path: Path) -> None:
    """`sorter sort t13` (not recursive) does not touch t13/2018: a sort of 2018 meanwhile goes on."""
    t13, sub = _library(tmp_path)
    go = tmp_path / "go"
    at_work = _paused(t13, go, recursive=False)
    try:
        sorted_ = runner.invoke(app, ["sort", str(sub)])
    finally:
        go.touch()
        out, _ = at_work.communicate(timeout=60)

    assert sorted_.exit_code == 0, sorted_.output
    assert at_work.returncode == 0 and out.strip() == "{'moved': 3}"
    assert _photos(t13) == ["2018/cats/ya.jpg", "2018/cats/yc.jpg", "2018/dogs/yb.jpg",
                            "cats/a.jpg", "cats/c.jpg", "dogs/b.jpg"]


@pytest.mark.parametrize("recursive", [True, False])
def test_a_watch_batch_over_the_sub_folders_refuses_them_one_of_the_top_alone_does_not(
        tmp_path: Path, recursive: bool) -> None:
    """`watch --recursive` holds the folder's lock, so marked, while it sorts a batch: a sort of a
    sub-folder meanwhile is refused; a watch of the top alone leaves the sub-folders free."""
    from sorter.watching.folder_hold import FolderHold

    t13, sub = _library(tmp_path)
    hold = FolderHold(t13, recursive=recursive)  # as a watch starts: the lock held, as for a batch
    try:
        sorted_ = runner.invoke(app, ["sort", str(sub)])
    finally:
        hold.release()

    if recursive:
        assert (sorted_.exit_code, sorted_.stderr) == (1, (
            f"Error: another sorter (pid {os.getpid()}) is working on {t13}, which holds {sub}; "
            "wait for it to finish or stop it\n"))
    else:
        assert sorted_.exit_code == 0, sorted_.output
        assert _photos(sub) == ["cats/ya.jpg", "cats/yc.jpg", "dogs/yb.jpg"]


def test_a_recursive_sort_passes_by_a_sub_folder_another_sort_is_at_work_on(tmp_path: Path) -> None:
    """`sorter sort t13/2018 &`, then `sorter sort t13 -r` while the first still judged its photos:
    2018 had no journal yet, so the sort of t13 entered it, and both judged the same photos (the
    first said `vanished 3`). Now the sort of t13 passes 2018 by, as it passes by a folder sorted
    on its own, and says so; the sort of 2018 sorts all of its photos."""
    t13, sub = _library(tmp_path)
    go = tmp_path / "go"
    at_work = subprocess.Popen([sys.executable, "-c", JUDGING_SORT, str(sub), str(go)], stdout=subprocess.PIPE, text=True,
                               env={**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), str(REPO / "tests")])})
    try:
        assert wait_until(lambda: (sub / ".sorter" / "lock").exists(), 60)  # its lock held, its model judging
        assert not (sub / ".sorter" / "journal.jsonl").exists()
        verbose = runner.invoke(app, ["sort", str(t13), "-r", "-n", "-v"])
        sorted_ = runner.invoke(app, ["sort", str(t13), "-r", "--json"])
    finally:
        go.touch()
        out, _ = at_work.communicate(timeout=60)

    assert verbose.exit_code == 0, verbose.output
    assert f"skipped: 2018: another sorter (pid {at_work.pid}) is at work on it" in verbose.stderr
    assert sorted_.exit_code == 0, sorted_.output
    summary = json.loads(sorted_.stdout)
    assert (summary["counts"], summary["folders_skipped"]) == ({"moved": 3}, {"another sorter is at work on it": 1})
    assert at_work.returncode == 0 and out.strip() == "{'moved': 3}"  # none vanished
    assert _photos(t13) == ["2018/cats/ya.jpg", "2018/cats/yc.jpg", "2018/dogs/yb.jpg",
                            "cats/a.jpg", "cats/c.jpg", "dogs/b.jpg"]


def test_a_recursive_sort_passes_by_a_sub_folder_a_watch_runs_on(tmp_path: Path) -> None:
    """`sorter watch t13/2018` running (between two batches: its `.sorter/watching` held, no journal
    if it has moved nothing yet), then `sorter sort t13 -r`: the sort of t13 sorted the photos
    that came into 2018, which the watch judged too. Now it passes 2018 by and says so."""
    from sorter.files.watching_note import Watching

    t13, sub = _library(tmp_path)
    watch = Watching(sub)
    watch.acquire()
    try:
        sorted_ = runner.invoke(app, ["sort", str(t13), "-r", "-v"])
    finally:
        watch.release()

    assert sorted_.exit_code == 0, sorted_.output
    assert f"skipped: 2018: another sorter (pid {os.getpid()}) is at work on it" in sorted_.stderr
    assert _photos(t13) == ["2018/ya.jpg", "2018/yb.jpg", "2018/yc.jpg", "cats/a.jpg", "cats/c.jpg", "dogs/b.jpg"]
