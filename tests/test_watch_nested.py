"""`sorter watch ROOT --recursive` beside a sort or watch of one of its sub-folders: as `sort -r`,
it passes by a sub-folder another sorter is at work on (`skipped: 2020: another sorter (pid N)
is at work on it`, said once), moves none of its photos while that sorter works there, and once
it is free sorts them at a later scan, or leaves them where that sorter gave the folder its own
journal (sorted on its own). A real watch on a thread, the fake model, short waits."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from pathlib import Path

from conftest import JUDGING_SORT, REPO, FakeClassifier, layout, wait_until, write_image

from sorter.files.watching_note import Watching
from sorter.watching import watch, watcher

RED, BLUE = (0, 0, 255), (255, 0, 0)  # BGR: the fake says red = dog, blue = cat
FAST = watcher.WatchSettings(settle=0.1, rescan_interval=0.2)


def watching(root: Path, settings: watcher.WatchSettings = FAST) -> tuple[threading.Event, threading.Thread, list,
                                                                            list[str]]:
    """A recursive watch of `root` on a thread: its stop, the thread, its results (or the error
    that ended it), its notices."""
    stop, results, notices = threading.Event(), [], []

    def target() -> None:
        try:
            watch.watch_folder(root, classifier=FakeClassifier(), stop=stop, settings=settings, recursive=True,
                               on_result=results.append, on_notice=lambda notice: notices.append(notice.message))
        except BaseException as exc:  # the test reads it from `results`
            results.append(exc)

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    return stop, thread, results, notices


def _photos(root: Path) -> list[str]:
    return sorted(path for path, entry in layout(root).items() if entry != "dir" and ".sorter" not in path)


def test_a_sub_folder_a_watch_of_its_own_takes_up_is_passed_by_until_it_is_free(tmp_path: Path) -> None:
    """`sorter watch root -r` running, then `sorter watch root/2020` started: the photos of 2020
    the first had found (waiting to stand still) were moved into root's cats/ and dogs/ from
    under the second, and so was each photo that came into 2020. Now they wait, said once; the
    top is sorted meanwhile; and once the watch of 2020 stops (having moved nothing: no journal
    of its own), the next scan sorts them."""
    root, sub = tmp_path / "root", tmp_path / "root" / "2020"
    write_image(sub / "ya.jpg", BLUE)
    write_image(sub / "yb.jpg", RED)
    slow = watcher.WatchSettings(settle=1.0, rescan_interval=0.2)  # those found at the start wait 1 s
    stop, thread, results, notices = watching(root, slow)
    other = Watching(sub)  # the watch of 2020, between its batches
    try:
        assert wait_until(lambda: any(n.startswith("watching ") for n in notices), 10), results
        other.acquire()  # before 2020's photos stood still for 1 s
        write_image(sub / "yc.jpg", BLUE)  # comes into 2020 while the other watch runs there
        write_image(root / "rex.jpg", RED)
        assert wait_until(lambda: (root / "dogs" / "rex.jpg").exists(), 10), results
        time.sleep(1.5)  # 2020's first photos stood still, and several scans
        held = _photos(root)
        other.release()
        assert wait_until(lambda: all((root / where).exists() for where in ("cats/ya.jpg", "cats/yc.jpg",
                                                                         "dogs/yb.jpg")), 10), results
    finally:
        other.release()
        stop.set()
        thread.join(10)

    assert held == ["2020/ya.jpg", "2020/yb.jpg", "2020/yc.jpg", "dogs/rex.jpg"]
    assert not any(isinstance(result, BaseException) for result in results), results
    assert [n for n in notices if "2020" in n] == [
        f"skipped: 2020: another sorter (pid {os.getpid()}) is at work on it"]
    assert _photos(root) == ["cats/ya.jpg", "cats/yc.jpg", "dogs/rex.jpg", "dogs/yb.jpg"]


def test_a_sub_folder_a_sort_is_at_work_on_is_left_to_it(tmp_path: Path) -> None:
    """`sorter sort root/2020` judging its photos (its lock held, no journal yet), then `sorter
    watch root -r`: the watch moved 2020's photos too, and the sort said `vanished` for them. Now
    the watch passes 2020 by while the sort works, and after it, 2020 has a journal of its own:
    sorted on its own, left to it."""
    root, sub = tmp_path / "root", tmp_path / "root" / "2020"
    write_image(sub / "ya.jpg", BLUE)
    write_image(sub / "yb.jpg", RED)
    go = tmp_path / "go"
    at_work = subprocess.Popen([sys.executable, "-c", JUDGING_SORT, str(sub), str(go)], stdout=subprocess.PIPE,
                               text=True,
                               env={**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), str(REPO / "tests")])})
    stop = None
    try:
        assert wait_until(lambda: (sub / ".sorter" / "lock").exists(), 60)  # its lock held, its model judging
        stop, thread, results, notices = watching(root)
        write_image(root / "rex.jpg", RED)
        assert wait_until(lambda: (root / "dogs" / "rex.jpg").exists(), 10), results
        time.sleep(0.6)  # several scans
        held = _photos(root)
        go.touch()
        out, _ = at_work.communicate(timeout=60)
        assert wait_until(lambda: any("sorted on its own" in n for n in notices), 10), notices
        time.sleep(0.6)  # several scans
    finally:
        go.touch()
        if at_work.poll() is None:
            at_work.communicate(timeout=60)
        if stop is not None:
            stop.set()
            thread.join(10)

    assert held == ["2020/ya.jpg", "2020/yb.jpg", "dogs/rex.jpg"]
    assert at_work.returncode == 0 and out.strip() == "{'moved': 2}"  # none vanished
    assert not any(isinstance(result, BaseException) for result in results), results
    assert [result.path.name for result in results] == ["rex.jpg"]
    assert [n for n in notices if "2020" in n] == [
        f"skipped: 2020: another sorter (pid {at_work.pid}) is at work on it",
        "skipped: 2020: sorted on its own (it has a .sorter/ journal), not entered"]
    assert _photos(root) == ["2020/cats/ya.jpg", "2020/dogs/yb.jpg", "dogs/rex.jpg"]
