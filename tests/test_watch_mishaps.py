"""`sorter watch` when the world changes under it for a while: a photo made readable again, a
disk that fills up and is freed, a `--log-file` on such a disk or rotated away, the watched
folder moved or deleted. Each came from a tester's run of a watcher for hours (fake model,
in process, except where the watcher must run without root's powers).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from conftest import REPO, FakeClassifier, FullDisk, mounted, wait_until, without_root_powers, write_image

from sorter.watching import watch, watcher

RED, BLUE = (0, 0, 255), (255, 0, 0)  # BGR: the fake says red = dog, blue = cat
FAST = watcher.WatchSettings(settle=0.1, rescan_interval=0.2, unreadable_wait=0.3)



def watching(root: Path, summaries: list | None = None,
             **options) -> tuple[threading.Event, threading.Thread, list, list[str]]:
    """A watch of `root` on a thread: its stop, the thread, its results (or the error that ended
    it), its notices; its summary, once stopped, into `summaries`."""
    stop, results, notices = threading.Event(), [], []

    def target() -> None:
        try:
            summary = watch.watch_folder(root, classifier=FakeClassifier(), stop=stop, settings=FAST,
                                         on_result=results.append,
                                         on_notice=lambda notice: notices.append(notice.message), **options)
        except BaseException as exc:  # the test reads it from `results`
            results.append(exc)
        else:
            (summaries if summaries is not None else []).append(summary)

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    return stop, thread, results, notices


# ------------------------------------------------------------------ a photo made readable again

#: A watch run as its own process (root's power to read any file dropped, below), its results on stdout.
WATCH = """
import sys
sys.path.insert(0, sys.argv[2])
from pathlib import Path
from conftest import FakeClassifier
from sorter.watching import watch, watcher

watch.watch_folder(
    Path(sys.argv[1]), classifier=FakeClassifier(),
    settings=watcher.WatchSettings(settle=0.1, rescan_interval=0.2, unreadable_wait=0.3),
    on_result=lambda r: print(r.status, r.path.name, r.reason, flush=True),
)
"""


def test_a_photo_made_readable_again_is_sorted_at_the_next_scan(tmp_path: Path) -> None:
    # A chmod changes neither its content nor its modification time, by which the watcher told a
    # change: it stayed in place "unreadable" until it was touched or the watch started again.
    inbox = tmp_path / "inbox"
    photo = write_image(inbox / "rex.jpg", RED)
    photo.chmod(0)
    command = [sys.executable, "-c", WATCH, str(inbox), str(REPO / "tests")]
    command = [*without_root_powers(photo), *command]  # root reads a file of mode 000: as a user's watch
    out = tmp_path / "watch.out"
    with open(out, "w") as stdout:
        process = subprocess.Popen(command, stdout=stdout, stderr=subprocess.STDOUT, cwd=REPO)
    try:
        assert wait_until(lambda: "unreadable rex.jpg" in out.read_text(), 30), out.read_text()
        time.sleep(1.0)  # several scans: said once, not tried again while it stays so
        photo.chmod(0o644)
        assert wait_until(lambda: (inbox / "dogs" / "rex.jpg").exists(), 10), out.read_text()
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(10)
    assert out.read_text().splitlines() == ["unreadable rex.jpg cannot open: Permission denied", "moved rex.jpg None"]


def test_a_damaged_photo_hard_linked_by_a_backup_is_said_to_be_unreadable_once(tmp_path: Path) -> None:
    # A file left unreadable was judged again at every ctime change, and said again each time
    # (5 lines): a backup's hard link made elsewhere (rsnapshot, `cp -al`), an xattr set on it.
    inbox, snapshots = tmp_path / "inbox", tmp_path / "snapshots"
    inbox.mkdir()
    snapshots.mkdir()
    broken = inbox / "broken.jpg"
    broken.write_bytes(b"\xff\xd8\xff\xe0 not really a jpeg")
    stop, thread, results, notices = watching(inbox)
    try:
        assert wait_until(lambda: any(getattr(r, "status", "") == "unreadable" for r in results), 20), results
        time.sleep(1.0)
        for i in range(3):  # each sets its ctime, a while apart (an hourly backup, faster)
            os.link(broken, snapshots / f"broken.{i}.jpg")
            time.sleep(1.0)
        try:
            os.setxattr(broken, "user.backup", b"1")
        except (AttributeError, OSError):  # no xattrs here: the links have said it
            pass
        time.sleep(1.0)
    finally:
        stop.set()
        thread.join(10)
    assert [(r.status, r.path.name) for r in results] == [("unreadable", "broken.jpg")], results


# ------------------------------------------------------------------ a disk that fills up


def no_space(root: Path) -> str:
    """The error of a journal on a full disk (conftest's `FullDisk`), as the watch says it."""
    return f"{root / '.sorter' / 'journal.jsonl'}: No space left on device"


def test_a_full_disk_is_said_once_with_the_files_it_left_and_once_when_it_is_over(tmp_path: Path,
                                                                                 monkeypatch) -> None:
    # It said "could not sort 0 file(s)" of a batch it had moved (the disk full at the journal's
    # "seen" records, after the moves), and again for every batch and every retry at a scan.
    from sorter.files import journal_writer

    disk = FullDisk()
    monkeypatch.setattr(journal_writer, "os", disk)
    write_image(tmp_path / "tom.jpg", BLUE)
    write_image(tmp_path / "max.jpg", RED)
    stop, thread, results, notices = watching(tmp_path)
    try:
        assert wait_until(lambda: len(results) == 2, 10), results  # moved, and the batch journaled
        disk.room = 2  # the intents and their "done" marks; not the "seen" records after them
        write_image(tmp_path / "kit.jpg", BLUE)
        assert wait_until(lambda: (tmp_path / "cats" / "kit.jpg").exists() and len(notices) > 1, 10), notices
        write_image(tmp_path / "rex.jpg", RED)  # now nothing can be journaled
        assert wait_until(lambda: len(notices) > 2, 10), notices
        write_image(tmp_path / "lux.jpg", BLUE)
        time.sleep(1.0)  # several batches and scans, each refused the same way
        assert (tmp_path / "rex.jpg").exists() and (tmp_path / "lux.jpg").exists()
        disk.room = None  # room made
        assert wait_until(lambda: (tmp_path / "dogs" / "rex.jpg").exists() and (tmp_path / "cats" / "lux.jpg").exists(),
                          10), notices
    finally:
        stop.set()
        thread.join(10)
    full = no_space(tmp_path)
    assert notices[1:] == [
        f"could not note the latest batch's decisions in the journal: {full}; its moves stand",
        f"could not sort 1 file: {full}; retrying at each scan",
        'sorting again: the latest batch was sorted and journaled, after "No space left on device"',
    ]
    assert sorted((r.path.name, r.status) for r in results) == [
        ("kit.jpg", "moved"), ("lux.jpg", "moved"), ("max.jpg", "moved"), ("rex.jpg", "moved"), ("tom.jpg", "moved")]


def test_a_move_the_disk_filled_up_after_is_reported_counted_and_said_once(tmp_path: Path, monkeypatch) -> None:
    # The disk full right after a batch's moves, at their "done" marks: the photo moved into cats/
    # was neither reported nor counted in the watch's summary, and nothing was said of it.
    from sorter.files import journal_writer
    from sorter.files.recovery import recover

    disk = FullDisk()
    monkeypatch.setattr(journal_writer, "os", disk)
    disk.room = 3  # cats/ made (its record and its identity's) and the move's intent; not its "done" mark
    write_image(tmp_path / "kit.jpg", BLUE)
    summaries: list[watch.WatchSummary] = []
    stop, thread, results, notices = watching(tmp_path, summaries)
    try:
        assert wait_until(lambda: len(notices) > 1, 10), notices
        disk.room = None  # room made
        write_image(tmp_path / "rex.jpg", RED)
        assert wait_until(lambda: len(results) == 2, 10), results
    finally:
        stop.set()
        thread.join(10)
    assert notices[1:] == [
        f"could not note in the journal that 1 file moved: {no_space(tmp_path)}; it stands, and the next sorter "
        "command notes it",
        'sorting again: the latest batch was sorted and journaled, after "No space left on device"',
    ]
    assert [(r.path.name, r.status, r.destination) for r in results] == [
        ("kit.jpg", "moved", tmp_path / "cats" / "kit.jpg"), ("rex.jpg", "moved", tmp_path / "dogs" / "rex.jpg")]
    assert summaries[0].counts == {"moved": 2} and summaries[0].moved_to == {"cats": 1, "dogs": 1}
    assert recover(tmp_path).completed == 1  # the next command's recovery: kit.jpg's move found done


def test_a_cats_folder_it_may_not_write_in_is_said_once_and_once_when_it_can(tmp_path: Path) -> None:
    # Each cat said `failed: c3.jpg: cannot move: Permission denied` and moved once cats/ could be
    # written, but neither "could not sort ...; retrying at each scan" nor "sorting again" came:
    # only a batch the journal refused (a full disk) was said so.
    from conftest import as_a_user

    (tmp_path / "cats").mkdir()
    write_image(tmp_path / "tom.jpg", BLUE)
    (tmp_path / "cats").chmod(0o555)
    try:
        with as_a_user(tmp_path / "cats", "write"):  # the watch's thread started here goes on without root's powers
            stop, thread, results, notices = watching(tmp_path)
        try:
            assert wait_until(lambda: len(notices) > 1, 10), notices
            write_image(tmp_path / "kit.jpg", BLUE)
            write_image(tmp_path / "rex.jpg", RED)
            assert wait_until(lambda: (tmp_path / "dogs" / "rex.jpg").exists(), 10), notices
            time.sleep(1.0)  # several scans, each refused the same way
            (tmp_path / "cats").chmod(0o755)
            assert wait_until(lambda: (tmp_path / "cats" / "kit.jpg").exists() and len(notices) > 2, 10), notices
        finally:
            stop.set()
            thread.join(10)
    finally:
        (tmp_path / "cats").chmod(0o755)
    assert notices[1:] == [
        "could not sort 1 file: cannot move into cats/: Permission denied; retrying at each scan",
        'sorting again: the latest batch was sorted and journaled, after "cannot move into cats/: Permission denied"',
    ]
    assert [(r.path.name, r.status, r.reason) for r in results if r.status == "failed"] == [
        ("tom.jpg", "failed", "cannot move into cats/: Permission denied"),
        ("kit.jpg", "failed", "cannot move into cats/: Permission denied")]
    assert sorted(os.listdir(tmp_path / "cats")) == ["kit.jpg", "tom.jpg"]


def test_a_log_file_on_a_disk_that_filled_up_goes_on_on_a_line_of_its_own(tmp_path: Path) -> None:
    # The line written once there was room again was glued onto the one the full disk cut short
    # ("2026-12-062026-12-06 10:03:38 moved ..."), and the file did not say lines were missing.
    from sorter.cli.results import FileLog

    disk = tmp_path / "disk"
    disk.mkdir()
    with mounted(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(disk)], disk, "a tmpfs (root)"):
        path = disk / "watch.log"
        log = FileLog(tmp_path, path, echo=False)
        log.line("watching")
        filler = os.open(disk / "filler", os.O_WRONLY | os.O_CREAT)
        try:
            while True:
                os.write(filler, b"\0" * 4096)
        except OSError:
            os.close(filler)
        lines = [f"moved photo-{n:03}.jpg -> cats/photo-{n:03}.jpg (cat, 97%)" for n in range(100)]
        for line in lines:  # the last page of the log fills: one is cut short, the rest lost
            log.line(line)
        (disk / "filler").unlink()
        log.line("stopped watching")
        log.__exit__(None, None, None)
        written = [line.partition(" ")[2].partition(" ")[2] for line in path.read_text().splitlines()]
    whole = written.index("watching") + 1
    while written[whole] == lines[whole - 1]:
        whole += 1
    cut, note, last = written[whole:]
    lost = len(lines) - (whole - 1)
    assert lines[whole - 1].startswith(cut) and cut != lines[whole - 1]
    lines_lost = f"{lost} line{'s' * (lost != 1)}"
    assert (note, last) == (f"({lines_lost} could not be written here: No space left on device)", "stopped watching")


def test_a_log_file_renamed_or_deleted_is_made_anew_at_its_path(tmp_path: Path) -> None:
    # It went on appending to the file renamed away (log.1), so logrotate needed copytruncate.
    from sorter.cli.results import FileLog

    path = tmp_path / "watch.log"
    with FileLog(tmp_path, path, echo=False) as log:
        log.line("before")
        path.rename(tmp_path / "watch.log.1")  # logrotate
        log.line("after the rotation")
        path.unlink()
        log.line("after the deletion")

    def said(file: Path) -> list[str]:
        return [line.split(" ", 2)[2] for line in file.read_text().splitlines()]

    assert said(tmp_path / "watch.log.1") == ["before"]
    assert said(path) == ["after the deletion"]


# ------------------------------------------------------------------ the watched folder gone


@pytest.mark.parametrize("how", ["moved", "deleted", "replaced"])
def test_a_watch_whose_folder_went_away_says_what_it_did_then_why_it_stopped(tmp_path: Path, monkeypatch,
                                                                            how: str) -> None:
    # It exited 1 with only "Error: ...": no count of its moves, nor how to undo them.
    import shutil

    from typer.testing import CliRunner

    from sorter.cli import app

    inbox, away = tmp_path / "inbox", tmp_path / "inbox.old"
    inbox.mkdir()
    real_watch_folder = watch.watch_folder

    def watch_until_it_goes(directory, *, model, **options):
        def meanwhile() -> None:
            write_image(inbox / "rex.jpg", RED)
            if wait_until(lambda: (inbox / "dogs" / "rex.jpg").exists(), 10):
                shutil.rmtree(inbox) if how == "deleted" else inbox.rename(away)
                if how == "replaced":
                    inbox.mkdir()

        threading.Thread(target=meanwhile, daemon=True).start()
        return real_watch_folder(directory, classifier=FakeClassifier(), settings=FAST, **options)

    monkeypatch.setattr(watch, "watch_folder", watch_until_it_goes)
    result = CliRunner().invoke(app, ["watch", str(inbox)])

    assert result.exit_code == 1, result.output
    undo = "" if how == "deleted" else f"; undo with: sorter undo {away}"
    error = f"the watched folder {inbox} no longer exists"
    if how == "replaced":
        error = (f"the watched folder {inbox} was replaced (moved, or a disk mounted or unmounted there); start sorter "
                 "watch again to watch what is there now")
    assert result.stderr.splitlines()[-2:] == [f"stopped watching {inbox}: moved 1 file (dogs: 1){undo}",
                                               f"Error: {error}"]
    if how != "deleted":
        assert CliRunner().invoke(app, ["undo", str(away)]).exit_code == 0
        assert sorted(os.listdir(away)) == ["rex.jpg"]


@pytest.mark.parametrize("how", ["deleted", "moved"])
def test_a_watch_whose_folder_goes_stops_at_once_not_at_the_next_scan(tmp_path: Path, how: str) -> None:
    # `rm -rf` of the watched folder was noticed at the next scan, every 30 s: it exited 1 after 26 s.
    import shutil

    inbox = tmp_path / "inbox"
    inbox.mkdir()
    results: list = []
    slow_scans = watcher.WatchSettings(settle=0.1, rescan_interval=60)

    def target() -> None:
        try:
            watch.watch_folder(inbox, classifier=FakeClassifier(), stop=threading.Event(), settings=slow_scans,
                               on_result=results.append)
        except BaseException as exc:  # the test reads it from `results`
            results.append(exc)

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    write_image(inbox / "rex.jpg", RED)
    assert wait_until(lambda: (inbox / "dogs" / "rex.jpg").exists(), 10), results
    time.sleep(1.0)  # its batch over: idle, waiting for files
    began = time.monotonic()
    shutil.rmtree(inbox) if how == "deleted" else inbox.rename(tmp_path / "old")
    thread.join(10)
    assert not thread.is_alive() and time.monotonic() - began < 5
    assert isinstance(results[-1], watch.WatchFailed), results
    assert str(results[-1]) == f"the watched folder {inbox} no longer exists"
    assert results[-1].summary.moved_to == {"dogs": 1}


def test_a_watched_link_pointed_elsewhere_stops_the_watch_with_that_alone(tmp_path: Path) -> None:
    # "the file-event observer stopped; restarting it" came first, of an observer of a folder no longer watched.
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    link = tmp_path / "inbox"
    link.symlink_to(tmp_path / "a")
    stop, thread, results, notices = watching(link)
    try:
        write_image(link / "rex.jpg", RED)
        assert wait_until(lambda: (tmp_path / "a" / "dogs" / "rex.jpg").exists(), 10), results
        (tmp_path / "next").symlink_to(tmp_path / "b")
        (tmp_path / "next").replace(link)
        thread.join(10)
    finally:
        stop.set()
        thread.join(10)
    assert notices[1:] == [], notices
    assert isinstance(results[-1], watch.WatchFailed) and "was replaced" in str(results[-1])


def test_a_watched_folder_made_again_before_the_watch_says_why_it_stopped_is_said_replaced(tmp_path: Path,
                                                                                         monkeypatch) -> None:
    # `mv inbox inbox.old; mkdir inbox`: the move's event stopped the watch before the mkdir, and it
    # said `Error: the watched folder inbox no longer exists` of a folder that was there again.
    from typer.testing import CliRunner

    from sorter.cli import app

    inbox, away = tmp_path / "inbox", tmp_path / "inbox.old"
    inbox.mkdir()
    real_watch_folder = watch.watch_folder

    def watch_until_it_is_moved(directory, *, model, on_summary, **options):
        def meanwhile() -> None:
            write_image(inbox / "rex.jpg", RED)
            if wait_until(lambda: (inbox / "dogs" / "rex.jpg").exists(), 10):
                inbox.rename(away)

        def made_again_then_said(summary) -> None:  # the stop noticed the folder gone; `mkdir` now
            inbox.mkdir()
            on_summary(summary)

        threading.Thread(target=meanwhile, daemon=True).start()
        return real_watch_folder(directory, classifier=FakeClassifier(), settings=FAST,
                                 on_summary=made_again_then_said, **options)

    monkeypatch.setattr(watch, "watch_folder", watch_until_it_is_moved)
    result = CliRunner().invoke(app, ["watch", str(inbox)])

    assert (result.exit_code, result.stderr.splitlines()[-2:]) == (1, [
        f"stopped watching {inbox}: moved 1 file (dogs: 1); undo with: sorter undo {away}",
        f"Error: the watched folder {inbox} was replaced (moved, or a disk mounted or unmounted there); start sorter "
        "watch again to watch what is there now"]), result.output
    assert os.listdir(inbox) == []  # nothing written in the new one
