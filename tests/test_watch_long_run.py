"""A watch runs for days: what it keeps of the photos it refused or left in place stays the size
of what is in the folder now, not of everything that ever passed through it, in memory and in
the journal on disk. Its counts stay exact."""

from __future__ import annotations

import time
from pathlib import Path

from conftest import wait_until, write_image
from test_watch import GREY, RED, immutable, run_in_thread

from sorter.watching import batch_loop, watcher

FAST = watcher.WatchSettings(rescan_interval=0.2, settle=0.05)


def test_photos_left_in_place_then_gone_are_forgotten_but_still_counted(tmp_path: Path, fake_classifier,
                                                                         monkeypatch) -> None:
    # Each photo left in place (unsure here) was remembered by name for the rest of the watch,
    # gone or not: 50 arriving and leaving an hour were 1,200 names a day, kept till the stop.
    loops: list[batch_loop.WatchLoop] = []
    made = batch_loop.WatchLoop.__init__
    monkeypatch.setattr(batch_loop.WatchLoop, "__init__", lambda self, *a, **k: (made(self, *a, **k),
                                                                                 loops.append(self))[0])
    stop_event, thread, results = run_in_thread(tmp_path, fake_classifier, min_confidence=0.9, settings=FAST)
    try:
        for hour in range(4):
            photos = [write_image(tmp_path / f"grey{hour}-{n}.png", GREY) for n in range(20)]
            assert wait_until(lambda: len(results) >= 20 * (hour + 1), 20), results  # noqa: B023
            for photo in photos:
                photo.unlink()
        keeps = wait_until(lambda: not loops[0].tally._left, 5)  # forgotten at the next scan
    finally:
        stop_event.set()
        thread.join(10)
    assert keeps, f"{len(loops[0].tally._left)} names kept of photos gone"
    assert loops[0].tally.counts == {"unsure": 80}  # each said, and counted, once


def test_a_photo_its_folder_refuses_is_not_journaled_again_at_each_scan(tmp_path: Path, fake_classifier) -> None:
    # A dog photo with dogs/ made immutable was tried again at each scan, and each try journaled
    # its move's intent, the move abandoned and a "seen" line: the journal grew by 1.6 MB a day for
    # one photo. Now it is tried again once dogs/ takes a write, and moved at the scan after.
    (tmp_path / "dogs").mkdir()
    immutable(tmp_path / "dogs", True)
    write_image(tmp_path / "rex.png", RED)
    journal = tmp_path / ".sorter" / "journal.jsonl"
    stop_event, thread, results = run_in_thread(tmp_path, fake_classifier, settings=FAST)
    try:
        assert wait_until(lambda: results, 10)
        time.sleep(0.5)
        refused_once = journal.stat().st_size
        time.sleep(1.5)  # seven scans
        assert journal.stat().st_size == refused_once
        immutable(tmp_path / "dogs", False)
        assert wait_until(lambda: (tmp_path / "dogs" / "rex.png").exists(), 10), results
    finally:
        immutable(tmp_path / "dogs", False)
        stop_event.set()
        thread.join(10)
    assert [(r.path.name, r.status) for r in results] == [("rex.png", "failed"), ("rex.png", "moved")]
    assert results[0].reason == "cannot move into dogs/: it is marked immutable (chattr -i dogs to free it)"
