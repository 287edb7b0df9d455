"""`sorter watch`: a real watcher process on a real folder, fed the way files really arrive
(copied in at once, written slowly, downloaded under a temporary name, deleted half way),
plus fast in-process tests of the pieces (`sorter.watching.watcher.Watcher`, `watch.watch_folder`).

The subprocess tests share one watcher (starting one costs a TensorFlow import), so each
uses its own file names; the SIGTERM test stops it and therefore comes last.
"""

from __future__ import annotations

import errno
import json
import os
import signal
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import pytest
from conftest import REPO, FakeClassifier, ThreeClassFake, jpeg_with_extra_bytes, wait_until, write_image

from sorter.errors import FolderLocked
from sorter.files import watching_note
from sorter.files.lock import FolderLock
from sorter.watching import leases, observers, watch, watcher

RED, BLUE, GREY = (0, 0, 255), (255, 0, 0), (128, 128, 128)  # BGR: the fake says red = dog
GREEN = (0, 255, 0)  # ThreeClassFake: neither a cat nor a dog, at 100%


def noise_jpeg(seed: int, size: int = 64) -> bytes:
    """A distinct real JPEG per seed, so every file can be traced by its bytes."""
    pixels = np.random.default_rng(seed).integers(0, 256, (size, size, 3), dtype=np.uint8)
    ok, data = cv2.imencode(".jpg", pixels)
    assert ok
    return data.tobytes()



def sorted_to(root: Path, name: str) -> Path | None:
    for folder in ("cats", "dogs"):
        if (root / folder / name).is_file():
            return root / folder / name
    return None


@dataclass
class Watching:
    root: Path
    process: subprocess.Popen
    stderr: Path
    log: Path

    def output(self) -> str:
        return self.stderr.read_text(errors="replace")

    def assert_alive(self) -> None:
        assert self.process.poll() is None, f"watcher exited {self.process.returncode}:\n{self.output()}"

    def assert_sorted(self, files: dict[str, bytes], timeout: float = 10.0) -> None:
        """Every file ends up, byte for byte, in cats/ or dogs/, and is gone from the top."""
        def done() -> bool:
            return all(sorted_to(self.root, n) is not None and not (self.root / n).exists() for n in files)

        assert wait_until(done, timeout), f"not sorted in {timeout}s:\n{self.output()}"
        for name, data in files.items():
            assert sorted_to(self.root, name).read_bytes() == data  # type: ignore[union-attr]


def start_watcher(root: Path, model: Path, *args: str, ready_timeout: float = 60.0) -> Watching:
    stderr = root.parent / f"{root.name}.stderr"
    log = root.parent / f"{root.name}.log"
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "PYTHONUNBUFFERED": "1"}
    with open(stderr, "wb") as err:
        process = subprocess.Popen(
            [sys.executable, "-m", "sorter", "watch", str(root), "--model", str(model), "--log-file", str(log), *args],
            stdout=subprocess.DEVNULL, stderr=err, env=env, cwd=REPO,
        )
    w = Watching(root, process, stderr, log)
    if not wait_until(lambda: "watching " in w.output() or process.poll() is not None, ready_timeout, 0.05):
        process.kill()
        pytest.fail(f"watcher did not start:\n{w.output()}")
    w.assert_alive()
    return w


def stop(w: Watching) -> None:
    if w.process.poll() is None:
        w.process.send_signal(signal.SIGTERM)
        try:
            w.process.wait(10)
        except subprocess.TimeoutExpired:
            w.process.kill()
            w.process.wait()


PRE_EXISTING = {f"old-{i}.jpg": noise_jpeg(1000 + i) for i in range(5)}


@pytest.fixture(scope="module")
def inbox(tmp_path_factory, tiny_model: Path) -> Iterator[Watching]:
    root = tmp_path_factory.mktemp("watch") / "inbox"
    root.mkdir()
    for name, data in PRE_EXISTING.items():
        (root / name).write_bytes(data)
    w = start_watcher(root, tiny_model)
    yield w
    stop(w)


# ------------------------------------------------------------------ a real watcher process


def test_images_already_there_are_sorted_at_start(inbox: Watching) -> None:
    inbox.assert_sorted(PRE_EXISTING)
    assert "5 photos and videos already there" in inbox.output()


def test_a_burst_of_100_files_is_sorted_and_nothing_is_lost(inbox: Watching) -> None:
    files = {f"burst-{i:03}.jpg": noise_jpeg(i) for i in range(100)}
    for name, data in files.items():
        (inbox.root / name).write_bytes(data)
    inbox.assert_sorted(files, timeout=30)
    inbox.assert_alive()


def test_a_slow_writer_is_never_moved_before_it_is_complete(inbox: Watching) -> None:
    data = noise_jpeg(2000, size=96)
    path = inbox.root / "slow.jpg"
    chunks = [data[i : i + len(data) // 8 + 1] for i in range(0, len(data), len(data) // 8 + 1)]
    with open(path, "wb") as f:
        for i, chunk in enumerate(chunks):
            f.write(chunk)
            f.flush()
            # One pause longer than the settle interval: an idle writer still holds the file.
            time.sleep(0.8 if i == 3 else 0.15)
            assert path.exists() and sorted_to(inbox.root, "slow.jpg") is None, "moved while being written"
    inbox.assert_sorted({"slow.jpg": data})


def test_a_writer_that_reopens_to_append_is_not_moved_half_written(inbox: Watching) -> None:
    # Close-and-reopen looks complete after every chunk; the JPEG end-of-image check keeps
    # the partial file in place (unreadable, said of none of its pieces) until the last chunk lands.
    data = noise_jpeg(2001)
    path = inbox.root / "appended.jpg"
    third = len(data) // 3
    for end in (third, 2 * third):
        with open(path, "ab") as f:
            f.write(data[end - third : end])
        time.sleep(0.4)  # long enough to be taken, if it were taken
        assert sorted_to(inbox.root, "appended.jpg") is None, "moved while incomplete"
    with open(path, "ab") as f:
        f.write(data[2 * third :])
    inbox.assert_sorted({"appended.jpg": data})
    assert "unreadable: appended.jpg" not in inbox.output()


def test_a_download_is_sorted_only_under_its_final_name(inbox: Watching) -> None:
    data = noise_jpeg(3000)
    part = inbox.root / "cat-video-still.jpg.part"
    chrome = inbox.root / "Unconfirmed 4521.crdownload"
    hidden = inbox.root / ".cat.jpg"
    for temp in (part, chrome, hidden):
        temp.write_bytes(data)
    time.sleep(1.5)  # well past the settle interval: they would have been taken by now
    assert part.exists() and chrome.exists() and hidden.exists()
    part.rename(inbox.root / "cat-video-still.jpg")
    inbox.assert_sorted({"cat-video-still.jpg": data})
    assert chrome.exists() and hidden.exists()
    chrome.unlink()
    hidden.unlink()


def test_files_deleted_before_they_are_processed_are_survived(inbox: Watching) -> None:
    with open(inbox.root / "gone-while-writing.jpg", "wb") as f:
        f.write(noise_jpeg(4000)[:500])
        os.unlink(f.name)
        f.write(b"more")
    (inbox.root / "gone-at-once.jpg").write_bytes(noise_jpeg(4001))
    (inbox.root / "gone-at-once.jpg").unlink()
    (inbox.root / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 not really a JPEG")
    after = {"after-deletions.jpg": noise_jpeg(4002)}
    (inbox.root / "after-deletions.jpg").write_bytes(after["after-deletions.jpg"])
    inbox.assert_sorted(after)
    inbox.assert_alive()
    assert "Traceback" not in inbox.output()
    assert (inbox.root / "broken.jpg").exists()  # unreadable: left where it is, and reported
    # once it has stood unchanged for `unreadable_wait` (10 s): damaged, not still being written
    assert wait_until(lambda: "unreadable: broken.jpg: " in inbox.output(), 15)


def test_median_delay_from_complete_to_sorted_is_under_a_second(inbox: Watching) -> None:
    delays = []
    for i in range(12):
        name = f"timed-{i:02}.jpg"
        data = noise_jpeg(5000 + i)
        (inbox.root / name).write_bytes(data)  # closed on return: complete from here
        written = time.monotonic()
        assert wait_until(lambda n=name: sorted_to(inbox.root, n) is not None, 10, 0.002), inbox.output()
        delays.append(time.monotonic() - written)
    median = statistics.median(delays)
    print(f"\nwatch delay, complete -> sorted: median {median * 1000:.0f} ms, "
          f"max {max(delays) * 1000:.0f} ms over {len(delays)} files")
    assert median < 1.0


def test_emptying_the_watched_folder_is_survived(inbox: Watching) -> None:
    import shutil

    for entry in list(inbox.root.iterdir()):  # cats/, dogs/ and .sorter/ too
        shutil.rmtree(entry) if entry.is_dir() else entry.unlink()
    files = {"after-empty.jpg": noise_jpeg(6000)}
    (inbox.root / "after-empty.jpg").write_bytes(files["after-empty.jpg"])
    inbox.assert_sorted(files)
    inbox.assert_alive()
    # The lock and journal are real files again: `undo` and a concurrent `sort` see them.
    assert (inbox.root / ".sorter" / "lock").is_file()
    assert "after-empty.jpg" in (inbox.root / ".sorter" / "journal.jsonl").read_text()


def test_a_concurrent_sort_or_second_watch_is_refused(inbox: Watching, tiny_model: Path) -> None:
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    command = [sys.executable, "-m", "sorter"]
    sort = subprocess.Popen([*command, "sort", str(inbox.root), "--model", str(tiny_model)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    second = subprocess.run([*command, "watch", str(inbox.root), "--model", str(tiny_model)],
                            capture_output=True, text=True, env=env, timeout=30)
    assert second.returncode == 1
    assert "another sorter" in second.stderr and f"pid {inbox.process.pid}" in second.stderr
    _, stderr = sort.communicate(timeout=60)
    assert sort.returncode == 1
    assert "another sorter" in stderr and "Traceback" not in stderr
    inbox.assert_alive()


def test_every_decision_is_logged_with_a_timestamp(inbox: Watching) -> None:
    lines = inbox.log.read_text().splitlines()
    assert any(" moved burst-000.jpg -> " in line for line in lines)
    assert all(line[:4].isdigit() and line[10] == " " for line in lines)  # 2025-01-31 12:00:00 ...


def test_a_decoder_warning_is_logged_under_the_files_name_never_raw(inbox: Watching) -> None:
    data = jpeg_with_extra_bytes(inbox.root.parent / "junk.jpg").read_bytes()
    (inbox.root / "junk.jpg").write_bytes(data)
    inbox.assert_sorted({"junk.jpg": data})
    assert wait_until(lambda: "warning: junk.jpg: Corrupt JPEG data: " in inbox.output(), 5), inbox.output()
    lines = inbox.output().splitlines()
    assert not any(line.startswith("Corrupt JPEG") for line in lines)
    moved = next(i for i, line in enumerate(lines) if line.startswith("moved junk.jpg -> "))
    assert lines[moved + 1].startswith("warning: junk.jpg: Corrupt JPEG data: ")
    assert any(line.endswith(f" {lines[moved + 1]}") for line in inbox.log.read_text().splitlines())


def test_sigterm_stops_the_watcher_with_exit_status_0(inbox: Watching) -> None:
    # Keep it busy: the batch in hand is finished, not torn.
    files = {f"last-{i}.jpg": noise_jpeg(7000 + i) for i in range(20)}
    for name, data in files.items():
        (inbox.root / name).write_bytes(data)
    time.sleep(0.3)
    started = time.monotonic()
    inbox.process.send_signal(signal.SIGTERM)
    assert inbox.process.wait(timeout=10) == 0, inbox.output()
    assert time.monotonic() - started < 5
    assert "stopped watching" in inbox.output()
    for name, data in files.items():  # each one either sorted or untouched: never lost
        where = sorted_to(inbox.root, name) or inbox.root / name
        assert where.read_bytes() == data


# ------------------------------------------------------------------ the command line, no model


def test_print_systemd_unit(tmp_path: Path) -> None:
    folder = tmp_path / "my pets 100%"
    folder.mkdir()
    result = subprocess.run(
        [sys.executable, "-m", "sorter", "watch", str(folder), "--print-systemd-unit", "--recursive", "--polling"],
        capture_output=True, text=True, timeout=30,
    )
    assert result.returncode == 0, result.stderr
    unit = result.stdout
    exec_start = next(line for line in unit.splitlines() if line.startswith("ExecStart="))
    quoted_dir = '"' + str(folder).replace("%", "%%") + '"'
    assert exec_start == f"ExecStart={sys.executable} -m sorter watch {quoted_dir} --recursive --polling"
    assert "Restart=on-failure" in unit and "WantedBy=default.target" in unit
    assert not (folder / ".sorter").exists()  # printing the unit watches nothing


def test_print_systemd_unit_for_a_folder_not_there_yet_prints_it_with_a_note(tmp_path: Path) -> None:
    # A share not mounted yet was "folder not found", though the unit waits for it (exit 2, restarted).
    from typer.testing import CliRunner

    from sorter.cli import app

    share = tmp_path / "share"
    result = CliRunner().invoke(app, ["watch", str(share), "--print-systemd-unit"])
    assert result.exit_code == 0, result.output
    assert f" watch {share}\n" in result.stdout and "Restart=on-failure" in result.stdout
    assert result.stderr == (f"note: {share} is not there now; the unit waits for it (while it is missing, sorter watch "
                             "exits with status 2 and systemd starts it again 10 s later)\n")
    assert not share.exists()
    (tmp_path / "file").touch()
    refused = CliRunner().invoke(app, ["watch", str(tmp_path / "file"), "--print-systemd-unit"])
    assert (refused.exit_code, refused.stderr) == (2, f"Error: not a folder: {tmp_path / 'file'}\n")


def test_print_systemd_unit_names_the_folder_without_dot_dot_but_keeps_a_link_named(tmp_path: Path,
                                                                                      monkeypatch) -> None:
    # `sorter watch ../nonexist` printed "watch /tmp/qa12/w4/../nonexist": absolute, not normalised.
    from typer.testing import CliRunner

    from sorter.cli import app

    (tmp_path / "here").mkdir()
    (tmp_path / "photos").mkdir()
    (tmp_path / "link").symlink_to(tmp_path / "photos")
    monkeypatch.chdir(tmp_path / "here")
    result = CliRunner().invoke(app, ["watch", "../nonexist/.", "--print-systemd-unit", "--log-file", "./../w.log"])
    assert result.exit_code == 0, result.output
    assert f" watch {tmp_path / 'nonexist'} --log-file {tmp_path / 'w.log'}\n" in result.stdout
    assert f"Description=sorter: sort new photos in {tmp_path / 'nonexist'} into cats/ and dogs/\n" in result.stdout
    assert result.stderr.startswith(f"note: {tmp_path / 'nonexist'} is not there now;")
    result = CliRunner().invoke(app, ["watch", "../link", "--print-systemd-unit"])
    assert result.exit_code == 0, result.output
    assert f" watch {tmp_path / 'link'}\n" in result.stdout  # the link, not where it points: it may be pointed elsewhere


def test_print_systemd_unit_carries_where_the_personal_model_is(tmp_path: Path, monkeypatch) -> None:
    # A systemd user service does not get a shell's exports: with XDG_DATA_HOME set, the unit
    # sorted without the personal model and named pets `sorter learn` saved there.
    from typer.testing import CliRunner

    from sorter.cli import app

    data = tmp_path / "my data 100%"
    monkeypatch.setenv("XDG_DATA_HOME", str(data))
    result = CliRunner().invoke(app, ["watch", str(tmp_path), "--print-systemd-unit"])
    assert result.exit_code == 0, result.output
    assert f'Environment="XDG_DATA_HOME={str(data).replace("%", "%%")}"' in result.stdout.splitlines()
    monkeypatch.setenv("XDG_DATA_HOME", "data")  # relative: ignored, by sorter as by the XDG spec
    result = CliRunner().invoke(app, ["watch", str(tmp_path), "--print-systemd-unit"])
    assert result.exit_code == 0 and "XDG_DATA_HOME" not in result.stdout


@pytest.mark.parametrize("name, why", [
    ("new\nphotos", "has a newline or another control character"),
    (os.fsdecode(b"caf\xe9"), "is not UTF-8"),  # Latin-1, as an old camera card or share names it
])
@pytest.mark.parametrize("where", ["folder", "log file"])
def test_print_systemd_unit_refuses_a_path_no_unit_can_hold(tmp_path: Path, name: str, why: str, where: str) -> None:
    # A newline split Description= in two; a name that is not UTF-8 made systemd refuse the whole
    # unit ("String is not UTF-8 clean"). Both were printed, exit 0.
    from typer.testing import CliRunner

    from sorter.cli import app

    path = tmp_path / name
    folder = path if where == "folder" else tmp_path
    folder.mkdir(exist_ok=True)
    args = ["watch", str(folder), "--print-systemd-unit"] + (["--log-file", str(path)] if where == "log file" else [])

    result = CliRunner().invoke(app, args)

    shown = str(path).replace("\n", "\\n").replace("\udce9", "\\xe9")
    assert (result.exit_code, result.stdout) == (2, "")
    assert result.stderr == f"Error: {shown}: cannot write a systemd unit for a path whose name {why}; rename it\n"


def watched_through_the_cli(root: Path, monkeypatch, settings: watcher.WatchSettings,
                            meanwhile: Callable[[], None] = lambda: time.sleep(0.3)):
    """`sorter watch ROOT` through the CLI on the fake model, stopped once it has made its
    first scan (it says "watching ROOT (inotify); ...") and `meanwhile` has run. Not once the
    `.sorter/watching` mark is there: it is made before the observer starts and the first
    scan, and on a busy machine a write or a stop between the two missed both."""
    from typer.testing import CliRunner

    from sorter.cli import app

    real_watch_folder = watch.watch_folder

    def watch_a_moment(directory: Path, **options):
        stop_event, watching = threading.Event(), threading.Event()
        say = options.pop("on_notice")

        def on_notice(notice) -> None:
            say(notice)
            if notice.message.startswith("watching "):
                watching.set()

        def stop_after_meanwhile() -> None:
            watching.wait(10)
            meanwhile()
            stop_event.set()

        threading.Thread(target=stop_after_meanwhile, daemon=True).start()
        return real_watch_folder(directory, classifier=FakeClassifier(), stop=stop_event, settings=settings,
                                 on_notice=on_notice, **options)

    monkeypatch.setattr(watch, "watch_folder", watch_a_moment)
    return CliRunner().invoke(app, ["watch", str(root)])


def watched_through_the_cli_until(root: Path, monkeypatch, results: int, *args: str):
    """`sorter watch ROOT [ARGS]` through the CLI on the fake model (settled in 0.1 s), stopped once
    it has reported `results` results, or after 30 s: never hanging the suite."""
    from typer.testing import CliRunner

    from sorter.cli import app

    real_watch_folder = watch.watch_folder

    def watch_till_reported(directory: Path, *, model, on_result, **options):
        stop, reported = threading.Event(), []
        timer = threading.Timer(30, stop.set)
        timer.start()

        def report(result) -> None:
            on_result(result)
            reported.append(result)
            if len(reported) == results:
                stop.set()

        try:
            return real_watch_folder(directory, classifier=FakeClassifier(), stop=stop, on_result=report,
                                     settings=watcher.WatchSettings(settle=0.1), **options)
        finally:
            timer.cancel()

    monkeypatch.setattr(watch, "watch_folder", watch_till_reported)
    return CliRunner().invoke(app, ["watch", str(root), *args])


def test_a_watch_that_judged_no_photo_leaves_no_sorter_folder(tmp_path: Path, monkeypatch) -> None:
    # It left .sorter/lock and .sorter/watching behind, where a sort of the same folder leaves nothing.
    (tmp_path / "notes.txt").write_text("no photo here")
    result = watched_through_the_cli(tmp_path, monkeypatch, watcher.WatchSettings(settle=0.1, rescan_interval=0.1))
    assert result.exit_code == 0, result.output
    assert result.stderr.splitlines()[-1] == f"stopped watching {tmp_path}: moved 0 files"
    assert os.listdir(tmp_path) == ["notes.txt"]


@pytest.mark.parametrize("sidecar", ["IMG_1.AAE", "IMG_1.xmp", "IMG_1.THM", "IMG_1.json"])
def test_a_watch_of_a_lone_sidecar_leaves_no_sorter_folder(tmp_path: Path, monkeypatch, sidecar: str) -> None:
    # A sidecar of no photo is looked at and left where it is; the watch opened the journal all the
    # same, and left .sorter/ (an empty journal.jsonl, lock, watching), where a sort leaves nothing.
    (tmp_path / sidecar).write_text("{}")
    result = watched_through_the_cli(tmp_path, monkeypatch, watcher.WatchSettings(settle=0.1, rescan_interval=0.1),
                                     meanwhile=lambda: time.sleep(0.6))  # past its settling: handed out
    assert result.exit_code == 0, result.output
    assert result.stderr.splitlines()[-1] == f"stopped watching {tmp_path}: moved 0 files"
    assert os.listdir(tmp_path) == [sidecar]


# ------------------------------------------------------------------ the pieces, in process


def test_only_final_image_names_outside_the_output_folders_are_candidates(tmp_path: Path) -> None:
    names = ["a.jpg", "B.PNG", "a.jpg.part", "x.crdownload", "y.tmp", "z.download", ".hidden.jpg", "notes.txt",
             "cats/a.jpg", "dogs/b.jpg", ".sorter/journal.jsonl", "sub/c.jpg", "sub/.cache/e.jpg", "sub/cats/f.jpg"]
    for name in names:  # there: one no longer there is not waiting (`Watcher.pending`)
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).touch()
    w = watcher.Watcher(tmp_path)
    for name in names[:12]:
        w.note(tmp_path / name)
    w.note("/elsewhere/d.jpg")
    assert w.pending() == (2, 2)  # each noted as written to (an event)
    recursive = watcher.Watcher(tmp_path, recursive=True)
    for name in ["sub/c.jpg", "sub/.cache/e.jpg", "cats/a.jpg", "sub/cats/f.jpg"]:
        recursive.note(tmp_path / name)
    assert recursive.pending() == (2, 2)  # sub/c.jpg and sub/cats/f.jpg: only the top cats/ is ours
    (tmp_path / "sub" / ".git").mkdir()  # sub/ is a source checkout now: software, not photos
    checkout = watcher.Watcher(tmp_path, recursive=True)
    checkout.note(tmp_path / "sub" / "c.jpg")
    assert checkout.pending() == (0, 0)


def test_a_batch_holds_a_bounded_size_of_photos_and_a_larger_one_alone(tmp_path: Path, monkeypatch) -> None:
    """A batch holds the folder's lock while it is judged: large scans, decoded whole, come a
    few at a time so that a review's click waits one short batch (`BYTES_PER_BATCH`)."""
    for n in range(5):
        (tmp_path / f"scan_{n}.png").write_bytes(b"\0" * 1000)
    (tmp_path / "huge.tif").write_bytes(b"\0" * 5000)  # over the budget alone: it still goes
    monkeypatch.setattr(watcher, "BYTES_PER_BATCH", 2500)
    with watcher.Watcher(tmp_path, settings=watcher.WatchSettings(settle=0.0, rescan_interval=0.3)) as w:
        w.scan_if_due()
        time.sleep(0.05)
        batches = [sorted(p.name for p in w.take_ready(64)) for _ in range(5)]
    assert sorted(map(len, batches)) == [0, 1, 1, 2, 2], batches
    assert ["huge.tif"] in batches
    assert sorted(name for batch in batches for name in batch) == ["huge.tif", *(f"scan_{n}.png" for n in range(5))]


def test_open_for_writing_sees_a_writer(tmp_path: Path) -> None:
    path = tmp_path / "x.jpg"
    with open(path, "wb") as f:
        f.write(b"abc")
        assert leases.open_for_writing(path) is True
    assert leases.open_for_writing(path) is False
    assert leases.open_for_writing(tmp_path / "missing.jpg") is None


def test_inotify_limit_falls_back_to_polling_with_the_sysctl_fix(tmp_path: Path, monkeypatch) -> None:
    class Exhausted:
        def schedule(self, *args, **kwargs):
            raise OSError(errno.ENOSPC, "inotify watch limit reached")

        def stop(self) -> None:
            pass

        def is_alive(self) -> bool:
            return False

    monkeypatch.setattr(observers, "native_observer", Exhausted)
    notices: list[str] = []
    with watcher.Watcher(tmp_path, on_notice=notices.append) as w:
        assert w.mode.startswith("polling")
    assert len(notices) == 1 and "sudo sysctl fs.inotify.max_user_watches=524288" in notices[0]


def run_in_thread(root: Path, classifier, **options) -> tuple[threading.Event, threading.Thread, list]:
    stop_event = threading.Event()
    results: list = []
    box: dict = {}

    def target() -> None:
        try:
            box["summary"] = watch.watch_folder(
                root, classifier=classifier, stop=stop_event, on_result=results.append, **options
            )
        except BaseException as exc:  # surfaced by the test through `results`
            results.append(exc)

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    return stop_event, thread, results


def test_files_left_in_place_are_reported_once_not_at_every_scan(tmp_path: Path, fake_classifier) -> None:
    write_image(tmp_path / "blurry.jpg", GREY)
    write_image(tmp_path / "rex.jpg", RED)
    fast = watcher.WatchSettings(rescan_interval=0.1, settle=0.1)
    stop_event, thread, results = run_in_thread(tmp_path, fake_classifier, min_confidence=0.9, settings=fast)
    try:
        assert wait_until(lambda: (tmp_path / "dogs" / "rex.jpg").exists(), 10)
        time.sleep(0.6)  # several rescans
        assert [r.status for r in results if r.path.name == "blurry.jpg"] == ["unsure"]
        write_image(tmp_path / "blurry.jpg", RED)  # changed: looked at again
        assert wait_until(lambda: (tmp_path / "dogs" / "blurry.jpg").exists(), 10), results
    finally:
        stop_event.set()
        thread.join(10)
    assert not thread.is_alive()
    assert all(not isinstance(r, BaseException) for r in results), results


def test_a_recursive_watch_never_enters_a_photo_library_and_says_so_once(tmp_path: Path, fake_classifier) -> None:
    library = tmp_path / "Photos Library.photoslibrary" / "originals" / "0"
    write_image(library / "4A1F.jpeg", BLUE)
    notices: list = []
    fast = watcher.WatchSettings(rescan_interval=0.1, settle=0.1)
    stop_event, thread, results = run_in_thread(tmp_path, fake_classifier, recursive=True, settings=fast,
                                                on_notice=notices.append)
    try:
        write_image(tmp_path / "trip" / "@eaDir" / "rex.jpg" / "SYNOPHOTO_THUMB_XL.jpg", RED)  # a NAS's thumbnail
        write_image(library / "5B2E.jpeg", RED)  # imported into the library while watched
        write_image(tmp_path / "trip" / "rex.jpg", RED)
        assert wait_until(lambda: (tmp_path / "dogs" / "rex.jpg").exists(), 10), results
        time.sleep(0.6)  # several rescans
    finally:
        stop_event.set()
        thread.join(10)
    assert (library / "4A1F.jpeg").is_file() and (library / "5B2E.jpeg").is_file()
    assert (tmp_path / "trip" / "@eaDir" / "rex.jpg" / "SYNOPHOTO_THUMB_XL.jpg").is_file()
    assert [r.path.name for r in results] == ["rex.jpg"]
    assert [n.message for n in notices if "library" in n.message] == [
        "skipped: Photos Library.photoslibrary: another app's library, not entered: an Apple Photos library"]


def test_a_recursive_watch_leaves_software_alone_and_says_so_once(tmp_path: Path, fake_classifier) -> None:
    """As a recursive sort: a node_modules, or a source checkout (.git), is software, not photos:
    neither the images there at the start nor one written while watched is moved."""
    write_image(tmp_path / "web" / "node_modules" / "pkg" / "icon.jpg", RED)
    (tmp_path / "proj" / ".git").mkdir(parents=True)
    notices: list = []
    fast = watcher.WatchSettings(rescan_interval=0.1, settle=0.1)
    stop_event, thread, results = run_in_thread(tmp_path, fake_classifier, recursive=True, settings=fast,
                                                on_notice=notices.append)
    try:
        write_image(tmp_path / "web" / "node_modules" / "pkg" / "logo.jpg", RED)  # installed while watched
        write_image(tmp_path / "proj" / "img" / "dog.jpg", RED)
        write_image(tmp_path / "trip" / "rex.jpg", RED)
        assert wait_until(lambda: (tmp_path / "dogs" / "rex.jpg").exists(), 10), results
        time.sleep(0.6)  # several rescans
    finally:
        stop_event.set()
        thread.join(10)
    assert [r.path.name for r in results] == ["rex.jpg"]
    assert sorted(n.message for n in notices if "software" in n.message) == [
        "skipped: proj: software, not photos, not entered: a source checkout (it has .git)",
        "skipped: web/node_modules: software, not photos, not entered: JavaScript packages (node_modules)"]


def test_a_recursive_watch_leaves_a_sub_folder_sorted_on_its_own_alone(tmp_path: Path, fake_classifier) -> None:
    # A watcher above a folder another watcher keeps sorted moved that one's cats/ from under its journal.
    from sorter.sorting.sort import sort_folder

    write_image(tmp_path / "sub" / "tom.jpg", BLUE)
    sort_folder(tmp_path / "sub", classifier=fake_classifier)
    notices: list = []
    fast = watcher.WatchSettings(rescan_interval=0.1, settle=0.1)
    stop_event, thread, results = run_in_thread(tmp_path, fake_classifier, recursive=True, settings=fast,
                                                on_notice=notices.append)
    try:
        write_image(tmp_path / "sub" / "kit.jpg", BLUE)  # arrives in the folder sorted on its own
        write_image(tmp_path / "sub" / "cats" / "nox.jpg", BLUE)  # its own watcher's move, say
        write_image(tmp_path / "trip" / "rex.jpg", RED)
        assert wait_until(lambda: (tmp_path / "dogs" / "rex.jpg").exists(), 10), results
        time.sleep(0.6)  # several rescans
    finally:
        stop_event.set()
        thread.join(10)
    assert sorted(os.listdir(tmp_path / "sub" / "cats")) == ["nox.jpg", "tom.jpg"]
    assert (tmp_path / "sub" / "kit.jpg").is_file()
    assert [r.path.name for r in results] == ["rex.jpg"]
    assert [n.message for n in notices if "sub" in n.message] == [
        "skipped: sub: sorted on its own (it has a .sorter/ journal), not entered"]


def immutable(folder: Path, on: bool) -> None:
    """A folder nobody may add to or remove from, root included (`chattr +i`): what a move into a
    read-only or locked-down folder meets. Skips the test where the filesystem has no such flag."""
    import subprocess

    done = subprocess.run(["chattr", "+i" if on else "-i", str(folder)], capture_output=True, text=True)
    if done.returncode != 0:
        pytest.skip(f"needs chattr +i (root, ext4 or alike): {done.stderr.strip()}")


def test_a_move_the_disk_refused_is_tried_again_at_the_next_scan_under_its_own_name(tmp_path: Path,
                                                                                      fake_classifier) -> None:
    # Refused once, it was settled for good (till a restart); and the names its failed batch had
    # planned stayed taken, so it went in as "rex (1).jpg" beside no rex.jpg.
    write_image(tmp_path / "tom.jpg", BLUE)
    notices: list = []
    fast = watcher.WatchSettings(rescan_interval=0.3, settle=0.1)
    stop_event, thread, results = run_in_thread(tmp_path, fake_classifier, settings=fast, on_notice=notices.append)
    try:
        assert wait_until(lambda: (tmp_path / "cats" / "tom.jpg").exists(), 10), results
        immutable(tmp_path / "cats", True)
        write_image(tmp_path / "kit.jpg", BLUE)
        assert wait_until(lambda: any(r.path.name == "kit.jpg" for r in results), 10), results
        write_image(tmp_path / "rex.jpg", RED)
        immutable(tmp_path, True)  # dogs/ cannot be made: the whole batch fails
        assert wait_until(lambda: any("could not sort 1 file" in n.message for n in notices), 10), notices
        time.sleep(1.0)  # several scans, each trying kit.jpg again: said once
        immutable(tmp_path, False)
        immutable(tmp_path / "cats", False)
        assert wait_until(lambda: (tmp_path / "cats" / "kit.jpg").exists() and (tmp_path / "dogs" / "rex.jpg").exists(),
                          10), (results, notices)
    finally:
        immutable(tmp_path, False)
        immutable(tmp_path / "cats", False)
        stop_event.set()
        thread.join(10)
    assert [(r.path.name, r.status) for r in results if r.path.name == "kit.jpg"] == [("kit.jpg", "failed"),
                                                                                       ("kit.jpg", "moved")]
    assert sorted(os.listdir(tmp_path / "cats")) == ["kit.jpg", "tom.jpg"] and os.listdir(tmp_path / "dogs") == ["rex.jpg"]


def replace_at_once(folder: Path, away: Path) -> None:
    """`folder` moved to `away` and an empty folder of its name put there in one step (renameat2's
    RENAME_EXCHANGE): moved, then made, a watcher that looked between the two (a CI run under
    load) saw the folder gone, and said so, not that it was replaced."""
    import ctypes

    away.mkdir()
    libc = ctypes.CDLL(None, use_errno=True)
    if getattr(libc, "renameat2", None) is None or libc.renameat2(-100, os.fsencode(away), -100,
                                                                  os.fsencode(folder), 2) != 0:
        pytest.skip("this disk cannot exchange two folders in one step (renameat2 RENAME_EXCHANGE)")


def test_a_watched_folder_replaced_by_another_of_its_name_stops_the_watcher_with_why(tmp_path: Path,
                                                                                    fake_classifier) -> None:
    # Its events still came from the folder renamed away: new photos waited for the 30-s scan.
    root = tmp_path / "inbox"
    write_image(root / "rex.jpg", RED)
    fast = watcher.WatchSettings(rescan_interval=0.2, settle=0.1)
    stop_event, thread, results = run_in_thread(root, fake_classifier, settings=fast)
    try:
        assert wait_until(lambda: (root / "dogs" / "rex.jpg").exists(), 10), results
        replace_at_once(root, tmp_path / "inbox.old")
        thread.join(10)
    finally:
        stop_event.set()
        thread.join(10)
    assert not thread.is_alive() and str(results[-1]) == (
        f"the watched folder {root} was replaced (moved, or a disk mounted or unmounted there); start sorter watch "
        "again to watch what is there now")
    assert list(root.iterdir()) == []  # nothing written in the new one


def test_the_stop_summary_counts_a_file_still_being_written(tmp_path: Path, fake_classifier) -> None:
    write_image(tmp_path / "rex.jpg", RED)
    data = (tmp_path / "rex.jpg").read_bytes()
    stop_event, box = threading.Event(), {}
    fast = watcher.WatchSettings(rescan_interval=0.1, settle=0.1)
    thread = threading.Thread(target=lambda: box.setdefault("summary", watch.watch_folder(
        tmp_path, classifier=fake_classifier, stop=stop_event, settings=fast)), daemon=True)
    thread.start()
    with open(tmp_path / "slow.jpg", "wb") as writer:  # a download in progress, held open
        writer.write(data[: len(data) // 2])
        writer.flush()
        assert wait_until(lambda: (tmp_path / "dogs" / "rex.jpg").exists(), 10)
        time.sleep(0.5)
        stop_event.set()
        thread.join(10)
    assert box["summary"].waiting == 1 and (tmp_path / "slow.jpg").exists()


def test_the_stop_line_says_being_written_only_of_the_files_that_are(tmp_path: Path, monkeypatch) -> None:
    # Stopped on 20,000 photos there since it started, it said "18848 still waiting (being written,
    # or just arrived)".
    for name in ("a.jpg", "b.jpg"):
        write_image(tmp_path / name, RED)
    data = (tmp_path / "a.jpg").read_bytes()

    def write_half() -> None:
        writer.write(data[: len(data) // 2])  # a download in progress, held open
        writer.flush()
        time.sleep(0.5)

    with open(tmp_path / "slow.jpg", "wb") as writer:  # none complete yet
        result = watched_through_the_cli(tmp_path, monkeypatch, watcher.WatchSettings(settle=60, rescan_interval=0.1),
                                         write_half)
    assert result.exit_code == 0, result.output
    assert result.stderr.splitlines()[-1] == (
        f"stopped watching {tmp_path}: moved 0 files; 3 not sorted yet (1 being written): a watch started again "
        "sorts them")


class HeldClassifier(FakeClassifier):
    """The fake, but a batch of photos (not the start's warm-up) waits for `go`: the watch is busy
    while the photos that came meanwhile wait their turn, complete."""

    def __init__(self) -> None:
        super().__init__()
        self.busy, self.go = threading.Event(), threading.Event()

    def predict(self, batch):
        if np.asarray(batch).any():
            self.busy.set()
            assert self.go.wait(20)
        return super().predict(batch)


@pytest.mark.parametrize("polling", [False, True])
def test_photos_copied_in_whole_and_waiting_their_turn_are_not_said_being_written(tmp_path: Path,
                                                                                  polling: bool) -> None:
    # Stopped during a burst with --polling, it said "169 not sorted yet (169 being written)" of
    # photos whose copy had ended 3 s before: any photo that came during the watch was "being written".
    classifier, stop_event, box = HeldClassifier(), threading.Event(), {}
    settings = watcher.WatchSettings(settle=0.1, rescan_interval=0.1, poll_interval=0.1)
    thread = threading.Thread(target=lambda: box.setdefault("summary", watch.watch_folder(
        tmp_path, classifier=classifier, stop=stop_event, settings=settings, batch_size=1, polling=polling)),
        daemon=True)
    thread.start()
    try:
        assert wait_until(lambda: (tmp_path / ".sorter" / "watching").exists(), 10)
        time.sleep(0.3)  # watching
        write_image(tmp_path / "a.jpg", RED)
        assert classifier.busy.wait(10)  # a.jpg being sorted
        for name in ("b.jpg", "c.jpg", "d.jpg"):
            write_image(tmp_path / name, RED)
        data = noise_jpeg(1)
        with open(tmp_path / "e.jpg", "wb") as writer:  # a download in progress, held open: being written
            writer.write(data[: len(data) // 2])
            writer.flush()
            time.sleep(1.0)  # the others copied whole, settled, waiting their turn
            stop_event.set()
            classifier.go.set()
            thread.join(10)
    finally:
        classifier.go.set()
        thread.join(10)
    summary = box["summary"]
    assert (summary.mode.startswith("polling"), summary.moved_to) == (polling, {"dogs": 1})
    assert (summary.waiting, summary.writing) == (4, 1)


def test_photos_the_poller_has_not_reported_yet_are_counted_not_sorted_yet(tmp_path: Path, monkeypatch) -> None:
    # QA: `sorter watch DIR --polling`, five photos copied in, stopped 0.4 s later: "moved 0 files",
    # with no "5 not sorted yet", though the next start sorts them: the poller had not reported them.
    from typer.testing import CliRunner

    from sorter.cli import app

    real_watch_folder = watch.watch_folder

    def watch_then_copy(directory: Path, **options):
        stop_event, say = threading.Event(), options.pop("on_notice")

        def on_notice(notice) -> None:
            say(notice)
            if notice.message.startswith("watching "):  # its first scan made: they come after it
                for n in range(1, 6):
                    write_image(tmp_path / f"c{n}.jpg", RED)
                stop_event.set()

        settings = watcher.WatchSettings(settle=0.1, poll_interval=60, rescan_interval=60)  # no poll nor scan comes
        return real_watch_folder(directory, classifier=FakeClassifier(), stop=stop_event, settings=settings,
                                 on_notice=on_notice, **options)

    monkeypatch.setattr(watch, "watch_folder", watch_then_copy)
    result = CliRunner().invoke(app, ["watch", str(tmp_path), "--polling"])

    assert result.exit_code == 0, result.output
    assert result.stderr.splitlines()[-1] == (
        f"stopped watching {tmp_path}: moved 0 files; 5 not sorted yet: a watch started again sorts them")
    assert sorted(os.listdir(tmp_path)) == [f"c{n}.jpg" for n in range(1, 6)]


def test_the_stop_line_counts_photos_not_their_companions(tmp_path: Path, monkeypatch) -> None:
    # Stopped on a 300-photo folder, it said "301 not sorted yet": an iPhone's edit (.AAE),
    # which goes with its photo, was counted as a file to sort.
    for name in ("IMG_1.jpg", "IMG_2.jpg"):
        write_image(tmp_path / name, RED)
    (tmp_path / "IMG_1.AAE").write_text("<plist/>")
    result = watched_through_the_cli(tmp_path, monkeypatch,  # none complete yet
                                     watcher.WatchSettings(settle=60, rescan_interval=0.1))
    assert result.exit_code == 0, result.output
    assert result.stderr.splitlines()[-1] == (
        f"stopped watching {tmp_path}: moved 0 files; 2 not sorted yet: a watch started again sorts them")
    assert sorted(os.listdir(tmp_path)) == ["IMG_1.AAE", "IMG_1.jpg", "IMG_2.jpg"]


def test_a_photo_gone_before_its_event_came_is_not_counted_as_waiting(tmp_path: Path) -> None:
    # Renamed (or moved along with its photo, or deleted) with its event not come yet (a poll a
    # second later, an event queue that overflowed), it was counted under both names: the stop
    # line said one more than the folder held.
    for name in ("a.jpg", "b.jpg"):
        write_image(tmp_path / name, RED)
    w = watcher.Watcher(tmp_path)  # not started: no file event comes
    w.scan()
    os.rename(tmp_path / "b.jpg", tmp_path / "c.jpg")
    w.scan()
    assert w.pending() == (2, 0)  # a.jpg and c.jpg


def test_a_photo_replaced_while_it_was_judged_is_judged_again(tmp_path: Path) -> None:
    """A sync client renames a new photo over one being judged: the old verdict does not file
    it, and the watcher looks at the new one (a sort would at its next run)."""
    write_image(tmp_path / "x.jpg", BLUE)  # a cat, replaced by a dog while it is judged
    write_image(tmp_path / ".sync-x.jpg", RED)

    class SyncedMeanwhile(FakeClassifier):
        def predict(self, batch):
            if len(batch) and (self.p_dog(np.asarray(batch, np.float32)) < 0.5).any() and (
                tmp_path / ".sync-x.jpg"
            ).exists():  # the cat is being judged
                os.replace(tmp_path / ".sync-x.jpg", tmp_path / "x.jpg")
            return super().predict(batch)

    fast = watcher.WatchSettings(rescan_interval=0.2, settle=0.1)
    stop_event, thread, results = run_in_thread(tmp_path, SyncedMeanwhile(), settings=fast)
    try:
        assert wait_until(lambda: (tmp_path / "dogs" / "x.jpg").exists(), 10), results
    finally:
        stop_event.set()
        thread.join(10)
    assert [(r.status, r.label) for r in results] == [("failed", "cat"), ("moved", "dog")]


def seen(root: Path, name: str) -> list[str]:
    """What the journal says the watch decided about `name` at each look ("seen" records)."""
    journal = root / ".sorter" / "journal.jsonl"
    lines = journal.read_text().splitlines() if journal.exists() else []
    return [r["status"] for r in map(json.loads, lines) if r["op"] == "seen" and r["path"].endswith(name)]


def test_a_photo_written_in_closed_pieces_is_moved_at_the_end_with_no_line_per_piece(tmp_path: Path,
                                                                                    fake_classifier) -> None:
    """Appended and closed piece by piece (`curl >>`, a sync tool): each piece looks complete
    and is judged, truncated, but a file still growing is not called unreadable; it is sorted
    once whole, with one line, and counted once. (It made a line per piece: 9 in 5 s.)"""
    data = noise_jpeg(2002)
    stop_event, box = threading.Event(), {}
    fast = watcher.WatchSettings(rescan_interval=0.1, settle=0.1, closed_grace=0.1, unreadable_wait=2.0)
    results: list = []
    thread = threading.Thread(target=lambda: box.update(summary=watch.watch_folder(
        tmp_path, classifier=fake_classifier, stop=stop_event, on_result=results.append, settings=fast)))
    thread.start()
    try:
        pieces = [data[i * len(data) // 4 : (i + 1) * len(data) // 4] for i in range(4)]
        for looks, piece in enumerate(pieces[:-1], start=1):
            with open(tmp_path / "slow.jpg", "ab") as f:
                f.write(piece)
            assert wait_until(lambda looks=looks: len(seen(tmp_path, "slow.jpg")) >= looks, 10)  # judged: truncated
        with open(tmp_path / "slow.jpg", "ab") as f:
            f.write(pieces[-1])
        assert wait_until(lambda: any(r.status == "moved" for r in results), 10), results
    finally:
        stop_event.set()
        thread.join(10)
    looks = seen(tmp_path, "slow.jpg")
    assert looks[-1] == "moved" and looks[:-1] == ["unreadable"] * (len(looks) - 1) and len(looks) >= 4
    assert [(r.path.name, r.status) for r in results] == [("slow.jpg", "moved")]
    assert results[0].destination.read_bytes() == data
    assert box["summary"].counts == {"moved": 1}


def test_a_damaged_photo_that_stays_so_is_reported_unreadable_once(tmp_path: Path, fake_classifier) -> None:
    """Cut short and never finished: reported once it has stood unchanged for `unreadable_wait`,
    and not again at each scan; finished later, it is sorted then."""
    data = noise_jpeg(2003)
    (tmp_path / "cut.jpg").write_bytes(data[: len(data) // 2])
    written = time.monotonic()
    fast = watcher.WatchSettings(rescan_interval=0.1, settle=0.1, unreadable_wait=1.0)
    stop_event, thread, results = run_in_thread(tmp_path, fake_classifier, settings=fast)
    try:
        assert wait_until(lambda: results, 10)
        assert time.monotonic() - written >= 1.0  # held while it might have been still growing
        time.sleep(0.6)  # several scans
        assert [(r.path.name, r.status, r.reason) for r in results] == [
            ("cut.jpg", "unreadable", "truncated JPEG (no end-of-image marker)")]
        with open(tmp_path / "cut.jpg", "ab") as f:
            f.write(data[len(data) // 2 :])
        assert wait_until(lambda: sorted_to(tmp_path, "cut.jpg") is not None, 10), results
    finally:
        stop_event.set()
        thread.join(10)
    assert [r.status for r in results] == ["unreadable", "moved"]


def test_a_damaged_photo_held_when_the_watch_stops_is_said_unreadable_not_still_waiting(tmp_path: Path,
                                                                                       fake_classifier) -> None:
    # Stopped within `unreadable_wait`, a photo damaged since 2020 was "1 still waiting (being written)".
    data = noise_jpeg(2004)
    (tmp_path / "cut.jpg").write_bytes(data[: len(data) // 2])
    os.utime(tmp_path / "cut.jpg", (1.6e9, 1.6e9))
    slow = watcher.WatchSettings(rescan_interval=0.1, settle=0.1, unreadable_wait=60.0)
    stop_event, thread, results = run_in_thread(tmp_path, fake_classifier, settings=slow)
    time.sleep(1.0)  # judged, and held
    stop_event.set()
    thread.join(10)
    assert [(r.path.name, r.status) for r in results] == [("cut.jpg", "unreadable")]


def test_a_name_freed_in_cats_is_given_again_and_one_taken_in_another_case_is_not(tmp_path: Path, fake_classifier) -> None:
    """The watcher knows the names in cats/ for months: one whose photo the user deleted is
    free again (as a fresh `sort` finds it), one renamed to another case is not."""
    fast = watcher.WatchSettings(rescan_interval=0.1, settle=0.1)
    stop_event, thread, results = run_in_thread(tmp_path, fake_classifier, settings=fast)
    try:
        for name in ("x.jpg", "y.jpg"):
            write_image(tmp_path / name, BLUE)
        assert wait_until(lambda: (tmp_path / "cats" / "x.jpg").exists() and (tmp_path / "cats" / "y.jpg").exists(), 10)
        (tmp_path / "cats" / "x.jpg").unlink()
        (tmp_path / "cats" / "y.jpg").rename(tmp_path / "cats" / "Y.JPG")
        for name in ("x.jpg", "y.jpg"):
            write_image(tmp_path / name, BLUE, size=(20, 30))
        assert wait_until(lambda: len(results) == 4, 10), results
    finally:
        stop_event.set()
        thread.join(10)
    assert sorted(p.name for p in (tmp_path / "cats").iterdir()) == ["Y.JPG", "x.jpg", "y (1).jpg"]


def test_a_photo_sorted_long_ago_and_put_back_by_hand_is_left_there(tmp_path: Path, fake_classifier, monkeypatch) -> None:
    """The watcher remembers its latest moves in full (`latecomers.LIMIT`, 1 here) and of the
    older ones only where each photo was: one put back there by hand, moved by this watcher or
    before it started, is the user's word all the same; a new photo of its name is sorted."""
    from sorter.sorting import latecomers

    monkeypatch.setattr(latecomers, "LIMIT", 1)

    def skipped_while(act: Callable[[], None], skips: int) -> list:
        fast = watcher.WatchSettings(rescan_interval=0.1, settle=0.1)
        stop_event, thread, results = run_in_thread(tmp_path, fake_classifier, settings=fast)
        try:
            act()
            assert wait_until(lambda: len([r for r in results if r.status == "skipped"]) == skips, 10), results
            time.sleep(0.3)  # several rescans: nothing is looked at twice
        finally:
            stop_event.set()
            thread.join(10)
        assert all(not isinstance(r, BaseException) for r in results), results
        return sorted((r.path.name, r.reason) for r in results if r.status == "skipped")

    def sorted_by_this_watcher() -> None:
        write_image(tmp_path / "a.jpg", RED)
        assert wait_until(lambda: (tmp_path / "dogs" / "a.jpg").exists(), 10)
        write_image(tmp_path / "b.jpg", RED)
        write_image(tmp_path / "c.jpg", RED)
        assert wait_until(lambda: (tmp_path / "dogs" / "b.jpg").exists() and (tmp_path / "dogs" / "c.jpg").exists(), 10)
        os.rename(tmp_path / "dogs" / "a.jpg", tmp_path / "a.jpg")  # sorted two photos ago
        write_image(tmp_path / "b.jpg", RED, size=(50, 60))  # another photo of b's name
        assert wait_until(lambda: (tmp_path / "dogs" / "b (1).jpg").exists(), 10)

    def sorted_before_it_started() -> None:
        os.rename(tmp_path / "dogs" / "c.jpg", tmp_path / "c.jpg")

    assert skipped_while(sorted_by_this_watcher, 1) == [("a.jpg", "you put it back from dogs/a.jpg; left there")]
    # a.jpg, said by the first watch and unchanged since, is not said again (`left_before.PUT_BACK`).
    assert skipped_while(sorted_before_it_started, 1) == [("c.jpg", "you put it back from dogs/c.jpg; left there")]
    assert (tmp_path / "a.jpg").is_file() and (tmp_path / "c.jpg").is_file()
    assert sorted(p.name for p in (tmp_path / "dogs").iterdir()) == ["b (1).jpg", "b.jpg"]


def test_a_locked_folder_is_refused_before_the_model_loads(tmp_path: Path) -> None:
    with FolderLock(tmp_path), pytest.raises(FolderLocked, match="another sorter"):
        watch.watch_folder(tmp_path, model=tmp_path / "never-loaded.keras", stop=threading.Event())


def test_polling_mode_sorts_what_is_there_and_what_arrives(tmp_path: Path, fake_classifier) -> None:
    write_image(tmp_path / "before.jpg", RED)
    notices: list = []
    quick = watcher.WatchSettings(poll_interval=0.2)
    stop_event, thread, results = run_in_thread(
        tmp_path, fake_classifier, polling=True, settings=quick, on_notice=notices.append
    )
    try:
        assert wait_until(lambda: (tmp_path / "dogs" / "before.jpg").exists(), 10), results
        (tmp_path / "copy.png.part").write_bytes(cv2.imencode(".png", np.full((16, 16, 3), BLUE, np.uint8))[1].tobytes())
        time.sleep(1.0)  # several polls: a temporary name is never taken
        assert (tmp_path / "copy.png.part").exists()
        (tmp_path / "copy.png.part").rename(tmp_path / "copy.png")
        assert wait_until(lambda: (tmp_path / "cats" / "copy.png").exists(), 10), results
    finally:
        stop_event.set()
        thread.join(10)
    assert any("polling every 0.2 s" in n.message for n in notices)
    assert [r.status for r in results] == ["moved", "moved"]


def test_the_inotify_limit_reached_while_watching_is_one_notice_with_the_fix(tmp_path: Path, capfd) -> None:
    # watchdog logged one raw line per new folder (its path as bytes), with no advice.
    import errno
    import logging

    notices: list[str] = []
    with watcher.Watcher(tmp_path, recursive=True, on_notice=notices.append):
        log = logging.getLogger("watchdog.observers.inotify")
        for n in range(3):
            log.warning("Unable to watch %r: %s", f"{tmp_path}/d{n}".encode(), OSError(errno.ENOSPC, "inotify watch limit"))
    assert notices == [observers.inotify_limit_message(OSError(errno.ENOSPC, ""), new_folders=True)]
    assert notices[0].startswith("the inotify watch limit is reached, so new sub-folders are not watched (the scan")
    assert "Unable to watch" not in capfd.readouterr().err


def test_a_video_with_the_stem_of_a_photo_sorted_long_ago_is_judged_not_joined(tmp_path: Path,
                                                                              fake_classifier) -> None:
    # A phone's counter starts again after IMG_9999: a cat video IMG_0002.MOV had joined the dog
    # photo IMG_0002.JPG sorted months before, without being looked at.
    import json

    from sorter.sorting.latecomers import STEM_WINDOW, Latecomers
    from sorter.sorting.sort import sort_folder

    write_image(tmp_path / "IMG_0002.JPG", RED)
    sort_folder(tmp_path, classifier=fake_classifier)
    fresh = Latecomers()
    fresh.load(tmp_path)
    assert fresh.destination(tmp_path / "IMG_0002.MOV")[1] == tmp_path / "dogs" / "IMG_0002.MOV"  # minutes later: its
    journal = tmp_path / ".sorter" / "journal.jsonl"
    records = [json.loads(line) for line in journal.read_text().splitlines()]
    journal.write_text("".join(json.dumps({**r, "time": r["time"] - STEM_WINDOW - 60}) + "\n" for r in records))

    old = Latecomers()
    old.load(tmp_path)

    assert old.destination(tmp_path / "IMG_0002.MOV") is None  # judged as the video it is
    assert old.destination(tmp_path / "IMG_0002.JPG.xmp")[1] == tmp_path / "dogs" / "IMG_0002.JPG.xmp"  # its own, ever


def test_a_late_companion_follows_its_photo_where_a_review_correction_took_it(tmp_path: Path,
                                                                            fake_classifier) -> None:
    # The watcher knew only where it had put the photo: its .MOV was judged alone (into cats/)
    # once the review page had put the photo right, into dogs/.
    from sorter.sorting.latecomers import Latecomers
    from sorter.sorting.sort import sort_folder

    write_image(tmp_path / "IMG_30.jpg", BLUE)
    sort_folder(tmp_path, classifier=fake_classifier)
    latecomers = Latecomers()
    latecomers.load(tmp_path)  # as a watch started now
    corrected_on_the_page(tmp_path, "cats/IMG_30.jpg", "dog")

    assert latecomers.destination(tmp_path / "IMG_30.MOV")[1] == tmp_path / "dogs" / "IMG_30.MOV"
    assert latecomers.destination(tmp_path / "IMG_30.AAE")[1] == tmp_path / "dogs" / "IMG_30.AAE"


def test_a_closed_terminal_sighup_stops_a_watch_as_ctrl_c_does() -> None:
    # SIGHUP ended the watcher at once, without its summary (an ssh session closed, say).
    import signal

    from sorter.signals import stop_on_signals

    stop = threading.Event()
    with stop_on_signals(stop):
        os.kill(os.getpid(), signal.SIGHUP)
        assert wait_until(stop.is_set, 5)  # the batch in hand is finished, then the loop returns
    assert signal.getsignal(signal.SIGHUP) is signal.SIG_DFL


def test_a_second_sigterm_ends_a_watch_with_sigterms_status(monkeypatch) -> None:
    # `kill` twice ended a watch with 130, Ctrl-C's status, where one SIGTERM of a sort says 143.
    import signal

    from sorter import signals

    monkeypatch.setattr(signals, "_TERMINATED", [])
    stop = threading.Event()
    with pytest.raises(KeyboardInterrupt), signals.stop_on_signals(stop):
        os.kill(os.getpid(), signal.SIGTERM)
        assert wait_until(stop.is_set, 5)  # the first: the batch in hand is finished
        os.kill(os.getpid(), signal.SIGTERM)  # the second: abandoned, KeyboardInterrupt
        time.sleep(5)
    assert signals.terminated()  # cli.main: 143


def test_polling_never_lists_cats_dogs_or_hidden_folders(tmp_path: Path) -> None:
    # Listed every second, a cats/ of 20,000 photos cost an idle watcher a third of a core.
    from watchdog.events import FileSystemEventHandler

    for folder in ("cats", "dogs", ".sorter", "trip/.hidden", "trip/cats"):
        (tmp_path / folder).mkdir(parents=True)
    seen: list[str] = []

    class Seen(FileSystemEventHandler):
        def on_any_event(self, event) -> None:
            seen.append(os.path.relpath(event.src_path, tmp_path))

    observer = observers.polling_observer(0.05, tmp_path)
    observer.schedule(Seen(), str(tmp_path), recursive=True)
    observer.start()
    try:
        time.sleep(0.3)
        for name in ("cats/a.jpg", "dogs/b.jpg", ".sorter/c.jpg", "trip/.hidden/d.jpg", "trip/cats/e.jpg", "f.jpg"):
            write_image(tmp_path / name, RED)
        assert wait_until(lambda: {"trip/cats/e.jpg", "f.jpg"} <= set(seen), 5), seen
        time.sleep(0.3)
    finally:
        observer.stop()
        observer.join(5)
    assert {path.split("/")[0] for path in seen} <= {".", "trip", "f.jpg"} and not any(".hidden" in p for p in seen), seen


def test_recursive_mode_sorts_files_arriving_in_new_subfolders(tmp_path: Path, fake_classifier) -> None:
    stop_event, thread, results = run_in_thread(tmp_path, fake_classifier, recursive=True)
    try:
        assert wait_until(lambda: bool(results) or (tmp_path / ".sorter").exists(), 10)
        write_image(tmp_path / "trip" / "day 1" / "rex.jpg", RED)  # folders made just before the file
        write_image(tmp_path / "top.png", BLUE)
        assert wait_until(lambda: {p.name for p in tmp_path.glob("*/*")} >= {"rex.jpg", "top.png"}, 10), results
        assert (tmp_path / "dogs" / "rex.jpg").exists() and (tmp_path / "cats" / "top.png").exists()
    finally:
        stop_event.set()
        thread.join(10)
    assert [r.status for r in results] == ["moved", "moved"]


def test_photos_of_neither_stay_in_place_and_are_reported_once(tmp_path: Path, three_class_fake) -> None:
    write_image(tmp_path / "car.png", GREEN)
    write_image(tmp_path / "rex.png", RED)
    fast = watcher.WatchSettings(rescan_interval=0.1, settle=0.1)
    stop_event, thread, results = run_in_thread(tmp_path, three_class_fake, settings=fast)
    try:
        assert wait_until(lambda: (tmp_path / "dogs" / "rex.png").exists(), 10), results
        write_image(tmp_path / "plane.png", GREEN)  # arriving while watched
        assert wait_until(lambda: any(r.path.name == "plane.png" for r in results), 10), results
        time.sleep(0.6)  # several rescans: neither is not looked at again
    finally:
        stop_event.set()
        thread.join(10)
    assert not thread.is_alive()
    found = sorted((r.path.name, r.status, r.label, r.destination, r.reason) for r in results)
    assert found == [
        ("car.png", "neither", "other", None, "not a cat or a dog"),
        ("plane.png", "neither", "other", None, "not a cat or a dog"),
        ("rex.png", "moved", "dog", tmp_path / "dogs" / "rex.png", None),
    ]
    assert (tmp_path / "car.png").exists() and (tmp_path / "plane.png").exists()


def test_cli_watch_logs_neither_and_counts_it_when_it_stops(tmp_path: Path, monkeypatch) -> None:
    """The command itself, in process: the watch stops once it has decided on the three files."""
    from typer.testing import CliRunner

    from sorter.cli import app

    write_image(tmp_path / "car.png", GREEN)
    write_image(tmp_path / "rex.png", RED)
    write_image(tmp_path / "tabby.png", (200, 0, 150))  # a cat at 60%: unsure at --min-confidence 0.9
    real_watch_folder = watch.watch_folder

    def watch_two_files(directory, *, model, on_result, **options):
        stop_event, seen = threading.Event(), []
        timer = threading.Timer(30, stop_event.set)  # never hang the suite
        timer.start()

        def result(decision) -> None:
            on_result(decision)
            seen.append(decision)
            if len(seen) == 3:
                stop_event.set()

        try:
            return real_watch_folder(
                directory, classifier=ThreeClassFake(), stop=stop_event, on_result=result,
                settings=watcher.WatchSettings(settle=0.1), **options,
            )
        finally:
            timer.cancel()

    monkeypatch.setattr(watch, "watch_folder", watch_two_files)
    log = tmp_path.parent / f"{tmp_path.name}.log"

    result = CliRunner().invoke(app, ["watch", str(tmp_path), "--log-file", str(log), "--min-confidence", "0.9"])

    assert result.exit_code == 0, result.output
    lines = result.stderr.splitlines()
    assert "neither: car.png (100%): not a cat or a dog" in lines
    assert "moved rex.png -> dogs/rex.png (dog, 100%)" in lines
    assert lines[-1] == (
        f"stopped watching {tmp_path}: moved 1 file (dogs: 1); left 1 in place: not a cat or a dog; "
        f"1 more left in place (unsure: 1); undo with: sorter undo {tmp_path}"
    )
    assert any(line.endswith(" neither: car.png (100%): not a cat or a dog") for line in log.read_text().splitlines())
    assert (tmp_path / "car.png").exists() and (tmp_path / "dogs" / "rex.png").exists()


@pytest.mark.parametrize("sorted_before", [True, False], ids=["after a sort", "first run"])
def test_the_undo_hint_after_a_watch_that_was_killed_undoes_that_watch_too(tmp_path: Path, monkeypatch,
                                                                           sorted_before: bool) -> None:
    # Started again after a `kill -9`, a watch said "undo with: sorter undo DIR", which took back its
    # own moves alone: the killed watch, which said no undo line, needed a second undo.

    from sorter.sorting.sort import sort_folder

    if sorted_before:
        write_image(tmp_path / "old.png", BLUE)
        sort_folder(tmp_path, classifier=FakeClassifier())  # a run the watches' undo must leave alone
    a_watch_killed_after_filing(tmp_path, "rex.png")
    write_image(tmp_path / "fido.png", RED)
    result = watched_through_the_cli_until(tmp_path, monkeypatch, 1)

    assert result.exit_code == 0, result.output
    assert (tmp_path / "dogs" / "fido.png").exists()
    undone_as_hinted(result, tmp_path, f"sorter undo {tmp_path}, twice (they take back the watch cut short before "
                     "this one too)" if sorted_before else
                     f"sorter undo {tmp_path} --all (it takes back the watch cut short before this one too)")
    assert (tmp_path / "rex.png").exists() and (tmp_path / "fido.png").exists()  # as before both watches
    assert (tmp_path / "cats" / "old.png").exists() == sorted_before  # what was sorted before stays so


@pytest.mark.parametrize("sorted_before", [True, False], ids=["after a sort", "first run"])
def test_a_watch_that_moves_nothing_after_one_that_was_killed_says_how_to_undo_that_one(
        tmp_path: Path, monkeypatch, sorted_before: bool) -> None:
    # Started again after a `kill -9` and moving nothing itself, a watch said no undo line at all:
    # the killed watch's moves, which it never said how to undo, were still there to undo.

    from sorter.sorting.sort import sort_folder

    if sorted_before:
        write_image(tmp_path / "old.png", BLUE)
        sort_folder(tmp_path, classifier=FakeClassifier())  # a run the undo must leave alone
    a_watch_killed_after_filing(tmp_path, "rex.png")
    result = watched_through_the_cli(tmp_path, monkeypatch, watcher.WatchSettings(settle=0.1))

    killed_watch_undone_as_hinted(result, tmp_path)
    assert (tmp_path / "cats" / "old.png").exists() == sorted_before  # what was sorted before stays so


def killed_watch_undone_as_hinted(result, root: Path) -> None:
    """A watch that moved nothing after one killed as it filed rex.png: its stop line says the
    killed watch's undo, and that undo puts rex back where it was, dogs/ gone."""
    from typer.testing import CliRunner

    from sorter.cli import app

    assert result.exit_code == 0, result.output
    assert result.stderr.splitlines()[-1] == (f"stopped watching {root}: moved 0 files; undo with: sorter undo "
                                              f"{root} (it takes back the watch cut short before this one)")
    assert CliRunner().invoke(app, ["undo", str(root)]).exit_code == 0
    assert (root / "rex.png").exists() and not (root / "dogs").exists()  # as before the killed watch


def undone_as_hinted(result, root: Path, hint: str) -> None:
    """The watch's stop line ends `; undo with: {hint}`, and the hint is followed exactly: `sorter
    undo DIR --all` once, or `sorter undo DIR` as many times as it says (once, twice, N times)."""
    from typer.testing import CliRunner

    from sorter.cli import app

    assert result.stderr.splitlines()[-1].partition("; undo with: ")[2] == hint
    command = hint.partition(" (")[0].removeprefix(f"sorter undo {root}")
    options, times = (["--all"], 1) if command == " --all" else ([], {"": 1, ", twice": 2}.get(command)
                                                                   or int(command.split()[1]))
    for _ in range(times):
        assert CliRunner().invoke(app, ["undo", str(root), *options]).exit_code == 0


def corrected_on_the_page(root: Path, path: str, label: str) -> None:
    """The review page's correction of the photo at `path` to `label` ("a cat, in fact"): a review run."""
    from sorter.review.session import Session

    session = Session(root)
    try:
        [photo] = [p for p in session.catalog.photos if p.path == path]
        session.correct(photo.id, label, session.catalog.generation)
    finally:
        session.close()


def a_watch_killed_after_filing(root: Path, name: str | None) -> None:
    """A real watch process that files `name` (a dog) into dogs/, then is SIGKILLed: it says no line.
    `name` None: killed once it holds the folder, having moved nothing."""
    killed = subprocess.Popen(
        [sys.executable, "-c", "import sys; from pathlib import Path; from conftest import FakeClassifier; "
         "from sorter.watching import watch, watcher; watch.watch_folder(Path(sys.argv[1]), "
         "classifier=FakeClassifier(), settings=watcher.WatchSettings(settle=0.1))", str(root)],
        env={**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), str(REPO / "tests")])})
    try:
        assert wait_until(lambda: watching_note.Watching.holder(root) == str(killed.pid), 20)
        if name is not None:
            write_image(root / name, RED)
            assert wait_until(lambda: (root / "dogs" / name).exists(), 20)
            time.sleep(0.3)  # its move journaled done
    finally:
        killed.kill()
        killed.wait(10)


#: A real watch on argv[1] whose first move, once made, kills it (SIGKILL): its intent is
#: journaled, its "done" never is, and the move was never reported.
KILLED_IN_ITS_FIRST_MOVE = """
import os, signal, sys
from pathlib import Path
from conftest import FakeClassifier
from sorter.files import moves
from sorter.watching import watch, watcher

move = moves.move_no_replace

def moved_then_killed(*args, **kwargs):
    move(*args, **kwargs)
    os.kill(os.getpid(), signal.SIGKILL)

moves.move_no_replace = moved_then_killed
watch.watch_folder(Path(sys.argv[1]), classifier=FakeClassifier(), settings=watcher.WatchSettings(settle=0.1))
"""


def test_a_watch_killed_during_its_first_move_is_known_to_the_next(tmp_path: Path, monkeypatch) -> None:
    # Killed between its first move's intent and its "done", before the move was reported, a
    # watch had not listed its run in .sorter/watching (it did so as the move was reported): the
    # next watch said no undo line, and the photo the killed one moved was never mentioned. The
    # run is listed as it is opened, before the intent.


    write_image(tmp_path / "rex.png", RED)
    killed = subprocess.run([sys.executable, "-c", KILLED_IN_ITS_FIRST_MOVE, str(tmp_path)], timeout=60,
                            env={**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), str(REPO / "tests")])})
    assert killed.returncode == -signal.SIGKILL
    assert (tmp_path / "dogs" / "rex.png").exists()
    journal = (tmp_path / ".sorter" / "journal.jsonl").read_text()
    assert '"op": "move"' in journal and '"op": "done"' not in journal  # killed between the intent and its mark

    result = watched_through_the_cli(tmp_path, monkeypatch, watcher.WatchSettings(settle=0.1))

    killed_watch_undone_as_hinted(result, tmp_path)


@pytest.mark.parametrize("moves", [True, False], ids=["it moves a photo", "it moves nothing"])
def test_the_undo_hint_after_two_watches_killed_in_a_row_undoes_both(tmp_path: Path, monkeypatch, moves: bool) -> None:
    # Two watches killed in a row, then a third stopped: its hint counted only the second, and
    # following it left the first killed watch's photo in dogs/.

    from sorter.sorting.sort import sort_folder

    write_image(tmp_path / "old.png", BLUE)
    sort_folder(tmp_path, classifier=FakeClassifier())  # a run the watches' undo must leave alone
    a_watch_killed_after_filing(tmp_path, "k1.png")
    a_watch_killed_after_filing(tmp_path, "k2.png")
    if moves:
        write_image(tmp_path / "late.png", RED)
        result = watched_through_the_cli_until(tmp_path, monkeypatch, 1)
    else:
        result = watched_through_the_cli(tmp_path, monkeypatch, watcher.WatchSettings(settle=0.1))

    assert result.exit_code == 0, result.output
    undone_as_hinted(result, tmp_path, f"sorter undo {tmp_path}, 3 times (they take back the 2 watches cut short "
                     "before this one too)" if moves else
                     f"sorter undo {tmp_path}, twice (they take back the 2 watches cut short before this one)")
    assert {"k1.png", "k2.png"} <= set(os.listdir(tmp_path))  # as before the killed watches
    assert (tmp_path / "late.png").exists() == moves
    assert os.listdir(tmp_path / "cats") == ["old.png"] and not (tmp_path / "dogs").exists()  # the sort's stays


@pytest.mark.parametrize("moves", [True, False], ids=["it moves a photo", "it moves nothing"])
def test_a_sort_after_a_killed_watch_is_no_watch_cut_short_and_its_moves_stay(tmp_path: Path, monkeypatch,
                                                                             moves: bool) -> None:
    # A watch killed, then `sorter sort`, then a watch stopped: its hint said "3 times (they take
    # back the 2 watches cut short before this one too)", the sort counted as a watch, and
    # following it took the sort's moves back. Plain undos reach the killed watch only through the
    # sort, which said its own undo line: the hint is this watch's own, and leaves the sort's.
    from typer.testing import CliRunner

    from sorter.cli import app
    from sorter.sorting.sort import sort_folder

    a_watch_killed_after_filing(tmp_path, "k1.png")
    write_image(tmp_path / "tabby.png", BLUE)
    sort_folder(tmp_path, classifier=FakeClassifier())  # after the kill: the user's own run, told its undo
    if moves:
        write_image(tmp_path / "fido.png", RED)
        result = watched_through_the_cli_until(tmp_path, monkeypatch, 1)
    else:
        result = watched_through_the_cli(tmp_path, monkeypatch, watcher.WatchSettings(settle=0.1))

    assert result.exit_code == 0, result.output
    last = result.stderr.splitlines()[-1]
    if moves:
        assert last.endswith(f"; undo with: sorter undo {tmp_path}")
        assert CliRunner().invoke(app, ["undo", str(tmp_path)]).exit_code == 0
        assert (tmp_path / "fido.png").exists()  # this watch's move taken back
    else:
        assert last == f"stopped watching {tmp_path}: moved 0 files"
    assert os.listdir(tmp_path / "cats") == ["tabby.png"]  # the sort's stays
    assert os.listdir(tmp_path / "dogs") == ["k1.png"]  # as the sort left it


def test_a_review_after_a_killed_watch_that_moved_nothing_is_no_watch_cut_short(tmp_path: Path, monkeypatch) -> None:
    # A watch killed before it moved anything, a review made after it, then a watch that moved
    # nothing: it said "undo with: sorter undo DIR (it takes back the watch cut short before this
    # one)", which took back the review, there being no moves of a killed watch to take back.
    from sorter.sorting.sort import sort_folder

    write_image(tmp_path / "rex.png", RED)
    sort_folder(tmp_path, classifier=FakeClassifier())
    a_watch_killed_after_filing(tmp_path, None)
    corrected_on_the_page(tmp_path, "dogs/rex.png", "cat")  # the review page: "a cat, in fact"
    result = watched_through_the_cli(tmp_path, monkeypatch, watcher.WatchSettings(settle=0.1))

    assert result.exit_code == 0, result.output
    assert result.stderr.splitlines()[-1] == f"stopped watching {tmp_path}: moved 0 files"


def test_a_watching_file_of_an_older_sorter_holding_a_pid_is_no_watch_cut_short(tmp_path: Path, monkeypatch) -> None:
    # An older sorter's watch left its pid in .sorter/watching even when it stopped: the first
    # watch after an upgrade, a sort made between, said "twice (they take back the watch cut
    # short before this one too)", the sort taken for the killed watch's moves.
    from sorter.sorting.sort import sort_folder

    (tmp_path / ".sorter").mkdir()
    (tmp_path / ".sorter" / "watching").write_text(f"{12345:<12}")  # a pid, no runs listed after it
    write_image(tmp_path / "tabby.png", BLUE)
    sort_folder(tmp_path, classifier=FakeClassifier())
    write_image(tmp_path / "fido.png", RED)
    result = watched_through_the_cli_until(tmp_path, monkeypatch, 1)

    assert result.exit_code == 0, result.output
    assert result.stderr.splitlines()[-1].endswith(f"; undo with: sorter undo {tmp_path}")


def test_a_watch_started_again_after_one_that_stopped_says_the_plain_undo(tmp_path: Path, monkeypatch) -> None:
    # The watch before it stopped and said its own undo line: this one's undoes this one's moves alone.
    write_image(tmp_path / "rex.png", RED)
    stop_event, thread, results = run_in_thread(tmp_path, FakeClassifier(), settings=watcher.WatchSettings(settle=0.1))
    assert wait_until(lambda: (tmp_path / "dogs" / "rex.png").exists(), 10), results
    stop_event.set()
    thread.join(10)
    write_image(tmp_path / "fido.png", RED)
    result = watched_through_the_cli_until(tmp_path, monkeypatch, 1)
    assert result.exit_code == 0, result.output
    assert result.stderr.splitlines()[-1].endswith(f"; undo with: sorter undo {tmp_path}")


@pytest.mark.parametrize("sorted_before", [True, False], ids=["after a sort", "first run"])
def test_the_undo_hint_after_a_review_made_during_the_watch_undoes_the_watch(tmp_path: Path, monkeypatch,
                                                                             sorted_before: bool) -> None:
    """A review while the watch runs journals its corrections as a run of its own, newer than
    the watch's, and `sorter undo` takes back the latest run: told `sorter undo DIR`, the user
    took back the review and not the watch. The hint says what undoes the watch, and does."""
    from typer.testing import CliRunner

    from sorter.cli import app
    from sorter.sorting.sort import sort_folder

    if sorted_before:
        write_image(tmp_path / "old.png", BLUE)
        sort_folder(tmp_path, classifier=FakeClassifier())  # a run the watch's undo must leave alone
    real_watch_folder = watch.watch_folder

    def watch_with_a_review(directory, *, model, **options):
        stop_event = threading.Event()

        def meanwhile() -> None:
            try:
                write_image(tmp_path / "rex.png", RED)
                assert wait_until(lambda: (tmp_path / "dogs" / "rex.png").exists(), 10)
                corrected_on_the_page(tmp_path, "dogs/rex.png", "cat")  # the review page: "a cat, in fact"
                write_image(tmp_path / "tabby.png", BLUE)
                assert wait_until(lambda: (tmp_path / "cats" / "tabby.png").exists(), 10)
            finally:
                stop_event.set()

        driver = threading.Thread(target=meanwhile)
        driver.start()
        try:
            return real_watch_folder(directory, classifier=FakeClassifier(), stop=stop_event,
                                     settings=watcher.WatchSettings(settle=0.1), **options)
        finally:
            driver.join(30)

    monkeypatch.setattr(watch, "watch_folder", watch_with_a_review)
    result = CliRunner().invoke(app, ["watch", str(tmp_path)])

    assert result.exit_code == 0, result.output
    assert (tmp_path / "cats" / "rex.png").exists() and (tmp_path / "cats" / "tabby.png").exists()
    undone_as_hinted(result, tmp_path, f"sorter undo {tmp_path}, twice (the first takes back the review made meanwhile)"
                     if sorted_before else
                     f"sorter undo {tmp_path} --all (it takes back the review made meanwhile too)")
    assert (tmp_path / "rex.png").exists() and (tmp_path / "tabby.png").exists()  # as before the watch
    assert (tmp_path / "cats" / "old.png").exists() == sorted_before  # what was sorted before stays so
