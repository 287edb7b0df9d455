"""Never lose a photo: kill -9 at random instants, crashes frozen at the worst moment,
two sorters at once, a stale lock, and hostile files.

The contract checked everywhere: the *inventory* (how many files hold each content, wherever
they are) never changes, and after `undo --all` the *layout* (every path, `.sorter/` too)
is exactly what it was before the first sort."""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np
import pytest
from conftest import FakeClassifier, inventory, layout, make_messy_folder, phone_copies, write_image
from typer.testing import CliRunner

from sorter.cli import app
from sorter.errors import FolderLocked
from sorter.files import undo as restore
from sorter.files.journal import journal_path, moves_of, scan
from sorter.files.journal_writer import Journal
from sorter.files.lock import FolderLock
from sorter.files.moves import move_no_replace
from sorter.sorting import sort

RED, BLUE = (0, 0, 255), (255, 0, 0)  # BGR: the fake says red = dog
runner = CliRunner()
#: What a finished sort of `make_messy_folder` leaves outside cats/ and dogs/.
LEFT_IN_PLACE = {"notes.txt", "broken.jpg", "empty.png", os.path.join("sub dir", "truncated.jpg"),
                 "pipe.jpg", "link.jpg", "linked dir"}


def sorter(*args) -> list[str]:
    return [sys.executable, "-m", "sorter", *map(str, args)]


def journal_size(root: Path) -> int:
    try:
        return journal_path(root).stat().st_size
    except FileNotFoundError:
        return 0


def files_in(root: Path, *folders: str) -> int:
    total = 0
    for folder in folders:
        try:
            total += len(os.listdir(root / folder))
        except FileNotFoundError:
            pass
    return total


def kill_after(command: list[str], started: Callable[[], bool], delay: float) -> subprocess.CompletedProcess:
    """Run `command`, wait until `started()` (its work on the folder has begun), let it
    run `delay` seconds more, then SIGKILL it: no handler, no cleanup, as in a power cut."""
    proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    while proc.poll() is None and not started() and time.monotonic() < deadline:
        time.sleep(0.001)
    time.sleep(delay)
    proc.send_signal(signal.SIGKILL)
    _, stderr = proc.communicate(timeout=60)
    return subprocess.CompletedProcess(command, proc.returncode, None, stderr)


def left_outside(root: Path) -> set[str]:
    """Everything but folders outside cats/, dogs/ and .sorter/."""
    return {rel for rel, entry in layout(root).items()
            if entry != "dir" and rel.split(os.sep)[0] not in ("cats", "dogs", ".sorter")}


def pending_intents(root: Path) -> int:
    return len(scan(root).moving)


# ---------------------------------------------------------------------------- kill -9


def test_kill_9_at_random_instants_loses_and_duplicates_nothing(tmp_path, tiny_model) -> None:
    """Each killed run costs a TensorFlow start-up (seconds), so the kills are few and aimed:
    a random instant within the first batches of moves (or of the recovery before them)."""
    rng = random.Random(1234)
    root = make_messy_folder(tmp_path / "photos", 300, seed=0, outside=tmp_path / "outside")
    original = layout(root)
    contents = inventory(root)
    sort = sorter("sort", root, "--model", tiny_model, "--recursive")
    interrupted = 0

    for _ in range(10):  # each killed run starts by settling the one killed before it
        before = journal_size(root)
        result = kill_after(sort, lambda before=before: journal_size(root) > before, rng.uniform(0.0, 0.03))
        assert inventory(root) == contents, result.stderr.decode()
        if result.returncode == -signal.SIGKILL and (pending_intents(root) or left_outside(root) != LEFT_IN_PLACE):
            interrupted += 1
        elif left_outside(root) == LEFT_IN_PLACE:
            # The run finished before the kill (timing on a busy machine): start over, so
            # the remaining kills still have a sort to interrupt.
            reset = subprocess.run(sorter("undo", root, "--all"), capture_output=True, text=True, timeout=60)
            assert reset.returncode == 0, reset.stderr
            assert layout(root) == original
        if interrupted >= 4:
            break

    finished = subprocess.run(sort, capture_output=True, text=True, timeout=120)
    assert finished.returncode == 0, finished.stderr
    assert pending_intents(root) == 0
    assert inventory(root) == contents
    assert left_outside(root) == LEFT_IN_PLACE  # the rerun finished the job

    undo = sorter("undo", root, "--all")
    for _ in range(3):
        if not (root / ".sorter").exists():
            break
        sorted_files = files_in(root, "cats", "dogs")
        kill_after(undo, lambda n=sorted_files: files_in(root, "cats", "dogs") < n, rng.uniform(0.0, 0.02))
        assert inventory(root) == contents

    if (root / ".sorter").exists():
        last = subprocess.run(undo, capture_output=True, text=True, timeout=60)
        # "nothing to undo" (exit 2) when a killed undo had already put everything back
        assert last.returncode == 0 or "nothing to undo" in last.stderr, last.stderr
    assert layout(root) == original
    # The kills must have landed mid-sort at least once, or this test proved little.
    assert interrupted >= 1


def test_kill_9_while_first_looks_settle_phone_photos_loses_nothing(tmp_path) -> None:
    """The same guarantees when most photos are filed on their EXIF thumbnail's answer (the
    bundled model, phone photos made from sample_images/): that changes how a photo is judged,
    never how it is filed."""
    root = tmp_path / "phone"
    phone_copies(root, 40)
    original, contents = layout(root), inventory(root)
    sort = sorter("sort", root)
    rng = random.Random(25)
    for _ in range(3):
        before = journal_size(root)
        kill_after(sort, lambda before=before: journal_size(root) > before, rng.uniform(0.0, 0.05))
        assert inventory(root) == contents
    finished = subprocess.run(sort, capture_output=True, text=True, timeout=120)
    assert finished.returncode == 0, finished.stderr
    assert pending_intents(root) == 0 and inventory(root) == contents
    assert files_in(root, "cats", "dogs") == 28  # 7 of each 10 are pets
    undone = subprocess.run(sorter("undo", root, "--all"), capture_output=True, text=True, timeout=60)
    assert undone.returncode == 0, undone.stderr
    assert layout(root) == original


def test_two_sorts_started_together_lose_nothing(tmp_path, tiny_model) -> None:
    # No dogs/ yet: whichever sorter creates it, undo --all must remove it again.
    root = make_messy_folder(tmp_path / "photos", 150, seed=3, outside=tmp_path / "outside", existing=("cats",))
    original = layout(root)
    sort = sorter("sort", root, "--model", tiny_model, "--recursive")

    procs = [subprocess.Popen(sort, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(2)]
    results = [(p.wait(timeout=120), p.communicate()) for p in procs]

    codes = sorted(code for code, _ in results)
    assert codes in ([0, 0], [0, 1]), results
    for code, (_, stderr) in results:
        if code == 1:  # one line of ours (TensorFlow may have said something before it)
            errors = [line for line in stderr.splitlines() if "Error" in line]
            assert len(errors) == 1 and errors[0].startswith("Error: another sorter (pid "), stderr
    assert inventory(root) == inventory(original)
    assert left_outside(root) == LEFT_IN_PLACE
    assert subprocess.run(sorter("undo", root, "--all"), capture_output=True, timeout=60).returncode == 0
    assert layout(root) == original


# ---------------------------------------------------------------------------- frozen crashes


def test_a_crash_in_the_middle_of_a_batch_is_settled_and_finished_by_the_next_sort(tmp_path: Path) -> None:
    """The state a kill leaves, built by hand: intents journaled, some moves made, one move
    stopped inside the link fallback (both names on one inode), a torn last journal line."""
    names = [f"dog {i}.jpg" for i in range(10)]
    for i, name in enumerate(names):
        write_image(tmp_path / name, RED, size=(8 + i, 8))
    original = layout(tmp_path)
    with Journal(tmp_path) as crashed:
        crashed.append("mkdir", path="dogs")
        (tmp_path / "dogs").mkdir()
        crashed.intents([[(tmp_path / n, tmp_path / "dogs" / n)] for n in names])
    for name in names[:4]:
        move_no_replace(tmp_path / name, tmp_path / "dogs" / name)
    os.link(tmp_path / names[4], tmp_path / "dogs" / names[4])  # killed before the unlink
    with open(journal_path(tmp_path), "a") as f:
        f.write('{"op": "done", "run": "x", "se')  # killed mid-append

    summary = sort.sort_folder(tmp_path, classifier=FakeClassifier())

    assert summary.recovered == 5 and summary.counts == {"moved": 5}
    assert sorted(os.listdir(tmp_path / "dogs")) == sorted(names)
    assert inventory(tmp_path) == inventory(original)
    assert pending_intents(tmp_path) == 0
    restore.undo(tmp_path, all_runs=True)
    assert layout(tmp_path) == original


def test_a_copy_to_another_filesystem_cut_before_its_source_went_is_finished_once(tmp_path: Path) -> None:
    """Where a filesystem has no no-replace rename and cats/ is another mount, a move is a copy
    (verified, synced) and then the source's unlink: a kill between them leaves the photo at
    both names, two equal files on two devices. Finishing the move drops the source; a file
    that is not the same bytes, or one on the same device (a copy the user made), is not ours."""
    from sorter.files.moves import finish_fallback_move

    other = Path("/dev/shm")
    if not other.is_dir() or os.stat(other).st_dev == os.stat(tmp_path).st_dev:
        pytest.skip("needs /dev/shm on a filesystem of its own, as a second mount")
    target = Path(tempfile.mkdtemp(dir=other))
    try:
        photo = write_image(tmp_path / "tom.jpg", BLUE, size=(16, 16))
        shutil.copy2(photo, target / "tom.jpg")  # the copy made; killed before the unlink
        write_image(tmp_path / "rex.jpg", RED, size=(16, 16))
        write_image(target / "rex.jpg", BLUE, size=(16, 16))  # same size, other bytes
        shutil.copy2(photo, tmp_path / "mine.jpg")  # the user's own copy, on the same filesystem
        shutil.copy2(photo, tmp_path / "also-mine.jpg")

        assert finish_fallback_move(photo, target / "tom.jpg") and not photo.exists()
        assert (target / "tom.jpg").is_file()
        assert not finish_fallback_move(tmp_path / "rex.jpg", target / "rex.jpg") and (tmp_path / "rex.jpg").exists()
        assert not finish_fallback_move(tmp_path / "mine.jpg", tmp_path / "also-mine.jpg")
        assert (tmp_path / "mine.jpg").exists()
    finally:
        shutil.rmtree(target)


def test_a_record_appended_after_a_torn_line_is_not_lost(tmp_path: Path) -> None:
    write_image(tmp_path / "tom.jpg", BLUE)
    before = layout(tmp_path)
    (tmp_path / ".sorter").mkdir()
    journal_path(tmp_path).write_text('{"op": "move", "run": "r", "seq": 1, "src": "a.jpg", "ds')  # killed mid-append

    sort.sort_folder(tmp_path, classifier=FakeClassifier())  # journals "mkdir cats" first
    assert (tmp_path / "cats" / "tom.jpg").exists()
    restore.undo(tmp_path)

    assert layout(tmp_path) == before  # cats/ removed: its mkdir record survived


def test_a_damaged_record_of_a_move_made_keeps_the_journal_and_undo_says_so(tmp_path: Path) -> None:
    """A move's intent line damaged in the middle of the journal (a disk error, a FUSE driver
    that wrote zeros), its "done" intact: undo cannot know where that photo came from. It
    says so and keeps the journal, rather than delete the only record that the photo moved."""
    write_image(tmp_path / "tom.jpg", BLUE)
    write_image(tmp_path / "rex.jpg", RED)
    sort.sort_folder(tmp_path, classifier=FakeClassifier())
    lines = journal_path(tmp_path).read_text().splitlines()
    damaged = next(i for i, line in enumerate(lines) if '"op": "move"' in line and "tom.jpg" in line)
    lines[damaged] = lines[damaged][:40]
    journal_path(tmp_path).write_text("\n".join(lines) + "\n")

    result = CliRunner().invoke(app, ["undo", str(tmp_path)])
    assert result.exit_code == 1 and "Restored 1 file from 1 run" in result.stdout  # a photo left sorted
    assert ("warning: 1 move of what was undone could not be read back from the damaged journal and is not "
            "undone: its photo is still in cats/ or dogs/") in result.stderr
    assert (tmp_path / "rex.jpg").is_file() and (tmp_path / "cats" / "tom.jpg").is_file()
    assert CliRunner().invoke(app, ["undo", str(tmp_path)]).exit_code == 2  # nothing more to undo
    assert journal_path(tmp_path).is_file()  # and still the record that tom.jpg moved


def test_a_write_cut_short_by_a_full_disk_does_not_take_the_next_record_with_it(tmp_path: Path) -> None:
    """A long-lived writer (the review page, a watcher) whose append a full disk cut part way
    goes on once there is room, and so does the other writer beside it: the next record is a
    line of its own, not glued onto the fragment. The disk filled for real: a file size limit
    cuts the write as a full disk does."""
    script = f"""
import errno, os, resource, signal
from pathlib import Path
from sorter.files.journal import journal_path
from sorter.files.journal_writer import Journal
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails instead of killing us
root = Path({str(tmp_path)!r})
journal = Journal(root, run="r")
beside = Journal(root, run="w")  # a watcher beside the review page, taking turns under the folder's lock
journal.append("mkdir", path="cats")
limit = resource.getrlimit(resource.RLIMIT_FSIZE)
resource.setrlimit(resource.RLIMIT_FSIZE, (os.path.getsize(journal_path(root)) + 20, limit[1]))
try:
    journal.append("mkdir", path="dogs")
except OSError as exc:
    print(exc.errno == errno.EFBIG, exc.filename == str(journal_path(root)))
resource.setrlimit(resource.RLIMIT_FSIZE, limit)
beside.append("mkdir", path="birds")
journal.append("mkdir", path="fish")
"""
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and done.stdout == "True True\n", done.stderr
    lines = [line for line in journal_path(tmp_path).read_text().splitlines()
             if not line.startswith('{"op": "folder"')]  # each writer's first record: where it wrote
    assert len(lines) == 4 and '"path": "dogs"' not in lines[1] and json.loads(lines[2])["path"] == "birds"
    assert json.loads(lines[3])["path"] == "fish"


@pytest.mark.parametrize("line", [
    {"op": "move"}, {"op": "move", "run": "x", "seq": 1}, {"op": "move", "run": "x", "seq": 1.5, "src": "a", "dst": "b"},
    {"op": "move", "run": ["l"], "seq": 1, "src": "a.jpg", "dst": "cats/a.jpg"},
    {"op": "move", "run": None, "seq": 1, "src": "a.jpg", "dst": "cats/a.jpg"},
    {"op": "move", "run": "x", "seq": 1, "src": "a.jpg", "dst": "cats/a.jpg", "group": None},
    {"op": "move", "run": "x", "seq": 1, "src": "a.jpg", "dst": "cats/a.jpg", "size": "big"},
    {"op": "move", "run": "x", "seq": 10**12, "src": "a.jpg", "dst": "cats/a.jpg"},
    {"op": "done", "run": "x"}, {"op": "undo", "run": "RUN", "seq": [1]}, {"op": "done", "run": "RUN", "seq": True},
    {"op": "mkdir", "run": "x", "path": 7}, {"op": "done", "run": "RUN", "seq": 1, "time": "noon"},
])
def test_a_damaged_journal_line_is_skipped_by_every_command(tmp_path: Path, line: dict) -> None:
    """A line of the wrong shape (a doctored journal, a disk error) is skipped as a torn line
    is: sort, undo, the review's catalog and learn go on, never a traceback."""
    import json

    from sorter.learning import corrections
    from sorter.review.loading import load_catalog

    write_image(tmp_path / "tom.jpg", BLUE)
    before = layout(tmp_path)
    sort.sort_folder(tmp_path, classifier=FakeClassifier())
    (run,) = scan(tmp_path).runs
    with journal_path(tmp_path).open("a") as journal:
        journal.write(json.dumps(line).replace('"RUN"', json.dumps(run)) + "\n")
    write_image(tmp_path / "rex.jpg", RED)

    assert sort.sort_folder(tmp_path, classifier=FakeClassifier(), dry_run=True).counts == {"planned": 1}
    load_catalog(tmp_path, scan(tmp_path))
    corrections.find(tmp_path)
    undone = runner.invoke(app, ["undo", str(tmp_path)])
    assert undone.exit_code == 0 and "Restored 1 file from 1 run" in undone.stdout, undone.output
    assert layout(tmp_path) == {**before, "rex.jpg": layout(tmp_path)["rex.jpg"]}


def test_a_sort_after_an_undo_killed_mid_move_does_not_file_a_photo_twice(tmp_path: Path) -> None:
    for i in range(3):
        write_image(tmp_path / f"{i}.jpg", RED, size=(8 + i, 8))
    original = layout(tmp_path)
    sort.sort_folder(tmp_path, classifier=FakeClassifier())
    (run,) = scan(tmp_path).runs.values()
    (move,) = [m for m in moves_of(tmp_path, run) if m.src == "1.jpg"]
    with Journal(tmp_path, run=run.run) as journal:
        journal.returning([move])  # undo journals its intent, then is killed inside the link fallback:
    os.link(tmp_path / "dogs" / "1.jpg", tmp_path / "1.jpg")

    sort.sort_folder(tmp_path, classifier=FakeClassifier())

    assert inventory(tmp_path) == inventory(original)
    restore.undo(tmp_path, all_runs=True)
    assert layout(tmp_path) == original


# ---------------------------------------------------------------------------- the lock


def test_a_held_lock_refuses_a_second_sorter_with_a_clear_message(tmp_path: Path) -> None:
    write_image(tmp_path / "rex.jpg", RED)
    sort.sort_folder(tmp_path, classifier=FakeClassifier())
    with FolderLock(tmp_path):
        with pytest.raises(FolderLocked, match=r"another sorter \(pid \d+\) is working on"):
            sort.sort_folder(tmp_path, classifier=FakeClassifier())
        result = runner.invoke(app, ["undo", str(tmp_path)])
    assert result.exit_code == 1
    assert result.stderr == (
        f"Error: another sorter (pid {os.getpid()}) is working on {tmp_path}; wait for it to finish or stop it\n"
    )
    assert (tmp_path / "dogs" / "rex.jpg").exists()


def test_a_sorter_refused_while_others_take_turns_always_names_the_holder(tmp_path: Path) -> None:
    # A review's clicks hold the lock for milliseconds each; a sort refused meanwhile read the
    # lock file between its truncation and the pid's write 5-9 % of the time: "pid unknown".
    contender = subprocess.Popen(
        [sys.executable, "-c", "import sys, time\nfrom pathlib import Path\nfrom sorter.files.lock import FolderLock\n"
         "from sorter.errors import FolderLocked\nend = time.monotonic() + 1.5\nwhile time.monotonic() < end:\n"
         "    try:\n        with FolderLock(Path(sys.argv[1])): time.sleep(0.0005)\n    except FolderLocked as e:\n"
         "        print(e, flush=True)\n", str(tmp_path)],
        stdout=subprocess.PIPE, text=True,
    )
    refused = []
    end = time.monotonic() + 1.5
    while time.monotonic() < end:
        try:
            with FolderLock(tmp_path):
                time.sleep(0.0005)
        except FolderLocked as exc:
            refused.append(str(exc))
    refused += contender.communicate(timeout=30)[0].splitlines()
    assert len(refused) > 20 and not [line for line in refused if "pid unknown" in line]


def test_a_lock_left_by_a_killed_process_is_taken_over(tmp_path: Path) -> None:
    write_image(tmp_path / "rex.jpg", RED)
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sys, time\nfrom pathlib import Path\nfrom sorter.files.lock import FolderLock\n"
         "FolderLock(Path(sys.argv[1])).acquire()\nprint('locked', flush=True)\ntime.sleep(60)\n", str(tmp_path)],
        stdout=subprocess.PIPE, text=True,
    )
    try:
        assert holder.stdout.readline() == "locked\n"
        with pytest.raises(FolderLocked, match=f"pid {holder.pid}"):
            sort.sort_folder(tmp_path, classifier=FakeClassifier())
    finally:
        holder.kill()
        holder.wait()

    summary = sort.sort_folder(tmp_path, classifier=FakeClassifier())

    assert summary.counts == {"moved": 1}


def test_a_waiting_sorter_locks_the_new_lock_file_after_undo_removed_the_old_one(tmp_path: Path) -> None:
    first = FolderLock(tmp_path)
    first.acquire()
    second = FolderLock(tmp_path, wait=10)
    waiter = threading.Thread(target=second.acquire)
    waiter.start()
    time.sleep(0.3)  # the waiter is now retrying
    shutil.rmtree(tmp_path / ".sorter")  # what a complete undo does before it releases
    first.release()
    waiter.join(10)
    try:
        assert not waiter.is_alive()
        with pytest.raises(FolderLocked):
            FolderLock(tmp_path).acquire()  # the waiter's lock excludes newcomers
    finally:
        second.release()


def test_a_person_beside_a_watcher_gets_the_lock_between_two_batches_of_a_burst(tmp_path: Path) -> None:
    """A watcher sorting a burst lets go of the lock for microseconds between two batches; a
    review's click waiting beside it still goes next (its turn), instead of polling for a gap
    it would seldom see, and the watcher then goes on."""
    stop, batches = threading.Event(), []

    def watcher() -> None:  # batch after batch, as during a burst of photos
        while not stop.is_set():
            with FolderLock(tmp_path, wait=30, watcher=True):
                time.sleep(0.05)
            batches.append(time.monotonic())

    thread = threading.Thread(target=watcher)
    thread.start()
    try:
        for _ in range(5):
            time.sleep(0.1)
            with FolderLock(tmp_path, wait=5, beside_watcher=True):  # FolderLocked after 5 s without a turn
                time.sleep(0.01)  # a correction
    finally:
        stop.set()
        thread.join(10)
    assert len(batches) >= 5  # and the watcher went on between the clicks
    with pytest.raises(FolderLocked):  # a watcher's own lock is no way round `sort`'s
        with FolderLock(tmp_path):
            FolderLock(tmp_path, watcher=True).acquire()


# ---------------------------------------------------------------------------- hostile files


def fake_png(width: int, height: int) -> bytes:
    """A tiny PNG whose header claims `width x height` pixels."""
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\0" * 64))
            + chunk(b"IEND", b""))


def test_hostile_files_are_left_in_place_reported_and_cost_milliseconds(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    write_image(outside / "secret.jpg", RED)
    write_image(outside / "album" / "inner.jpg", RED)
    root = tmp_path / "photos"
    root.mkdir()
    (root / "bomb.png").write_bytes(fake_png(20000, 20000))
    noise = np.random.default_rng(0).integers(0, 256, (96, 96, 3), dtype=np.uint8)
    jpeg = cv2.imencode(".jpg", noise)[1].tobytes()
    (root / "truncated.jpg").write_bytes(jpeg[: len(jpeg) * 6 // 10])
    (root / "zero.jpg").write_bytes(b"")
    os.mkfifo(root / "x.jpg")
    (root / "y.jpg").symlink_to(outside / "secret.jpg")
    (root / "album").symlink_to(outside / "album", target_is_directory=True)
    write_image(root / "rex.jpg", RED)
    before, outside_before = layout(root), layout(outside)
    results = []

    started = time.monotonic()
    worker = threading.Thread(
        target=sort.sort_folder, args=(root,),
        kwargs={"classifier": FakeClassifier(), "recursive": True, "on_result": results.append}, daemon=True,
    )
    worker.start()
    worker.join(30)  # a FIFO opened for reading would block here forever
    elapsed = time.monotonic() - started

    assert not worker.is_alive(), "sort blocked on a hostile file"
    reasons = {r.path.name: (r.status, r.reason) for r in results}
    assert reasons == {
        "bomb.png": ("unreadable", "image too large to decode safely (20000x20000 pixels)"),
        "truncated.jpg": ("unreadable", "truncated JPEG (no end-of-image marker)"),
        "zero.jpg": ("unreadable", "empty file"),
        "x.jpg": ("skipped", "not a regular file"),
        "y.jpg": ("skipped", "symbolic link, not followed"),
        "album": ("skipped", "symbolic link to a folder, not followed"),  # said, as a folder not entered
        "rex.jpg": ("moved", None),
    }
    after = {k: v for k, v in layout(root).items() if k.split(os.sep)[0] != ".sorter"}
    assert after == {k: v for k, v in before.items() if k != "rex.jpg"} | {"dogs": "dir", "dogs/rex.jpg": before["rex.jpg"]}
    assert layout(outside) == outside_before
    assert elapsed < 10  # milliseconds of work; generous for a loaded CI machine


def test_a_class_folder_swapped_for_a_link_after_the_scan_keeps_the_photos_home(tmp_path: Path) -> None:
    """Between the scan and the moves, someone replaces dogs/ with a link to another folder:
    the moves fail and say why, and nothing lands outside the sorted folder."""
    root, outside = tmp_path / "photos", tmp_path / "outside"
    write_image(root / "rex.jpg", RED)
    write_image(root / "tom.jpg", BLUE)
    (root / "dogs").mkdir()
    outside.mkdir()

    class SwapsDogsWhileThinking(FakeClassifier):
        def predict(self, batch):
            (root / "dogs").rmdir()
            (root / "dogs").symlink_to(outside, target_is_directory=True)
            return super().predict(batch)

    results = []
    sort.sort_folder(root, classifier=SwapsDogsWhileThinking(), on_result=results.append)

    assert {r.path.name: (r.status, r.reason) for r in results} == {
        "rex.jpg": ("failed", "cannot move: dogs is no longer a folder (a symbolic link or a file now)"),
        "tom.jpg": ("moved", None),
    }
    assert (root / "rex.jpg").is_file() and (root / "cats" / "tom.jpg").is_file()
    assert os.listdir(outside) == []


def test_a_photo_replaced_by_a_folder_while_it_is_judged_stays_put_with_its_companion(tmp_path: Path) -> None:
    """Only files move: a photo swapped for a folder of its name between its judging and its
    move (another program, a hostile one) is not moved as a folder, nor its companion without it."""
    root = tmp_path / "photos"
    write_image(root / "IMG_1.jpg", RED)
    (root / "IMG_1.xmp").write_text("<x:xmpmeta/>")

    class SwapsThePhotoWhileThinking(FakeClassifier):
        def predict(self, batch):
            os.rename(root / "IMG_1.jpg", tmp_path / "aside.jpg")
            (root / "IMG_1.jpg").mkdir()
            os.rename(tmp_path / "aside.jpg", root / "IMG_1.jpg" / "photo.jpg")
            return super().predict(batch)

    results = []
    sort.sort_folder(root, classifier=SwapsThePhotoWhileThinking(), on_result=results.append)

    assert [(r.status, r.reason) for r in results] == [
        ("failed", "cannot move: not a file any more (replaced since it was judged)")]
    assert (root / "IMG_1.jpg" / "photo.jpg").is_file() and (root / "IMG_1.xmp").is_file()
    assert not (root / "dogs").exists() or not any((root / "dogs").iterdir())


def test_a_link_planted_as_the_lock_or_the_watchers_file_is_refused_and_its_target_untouched(tmp_path: Path) -> None:
    """The lock files are truncated and written with a pid: a symbolic link put in their place
    must not get a file elsewhere overwritten (nor the review's turn locked through one)."""
    from sorter.files.watching_note import Watching

    precious = tmp_path / "precious.txt"
    precious.write_text("keep me")
    root = tmp_path / "photos"
    (root / ".sorter").mkdir(parents=True)
    for name, lock in (("lock", FolderLock(root)), ("watching", Watching(root)),
                       ("turn", FolderLock(root, beside_watcher=True))):
        link = root / ".sorter" / name
        link.symlink_to(precious)
        with pytest.raises(OSError):
            lock.acquire()
        link.unlink()
    assert precious.read_text() == "keep me"


def test_a_lock_on_a_folder_that_is_gone_raises_at_once(tmp_path: Path) -> None:
    """A watch whose folder is deleted between its checks takes its lock on nothing: it must say
    so, not loop (making `.sorter/` again and again spun at 100 % CPU for good)."""
    from sorter.files.watching_note import Watching

    gone = tmp_path / "gone"
    for lock in (Watching(gone), FolderLock(gone), FolderLock(gone, beside_watcher=True)):
        done: list[BaseException] = []

        def take(lock=lock, done=done) -> None:
            try:
                lock.acquire()
            except OSError as exc:
                done.append(exc)

        taking = threading.Thread(target=take, daemon=True)
        taking.start()
        taking.join(5)
        assert not taking.is_alive() and isinstance(done[0], FileNotFoundError), lock


def test_a_link_planted_as_the_journal_or_as_sorters_own_folder_is_refused(tmp_path: Path) -> None:
    """Every move is appended to `.sorter/journal.jsonl`: a link there (or `.sorter` itself a
    link, say from an archive unpacked into the folder) must not get records appended to a
    file elsewhere, nor sorter's state written there. One line, exit 1, nothing moved."""
    precious = tmp_path / "precious.txt"
    precious.write_text("keep me")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    root = tmp_path / "photos"
    write_image(root / "rex.jpg", RED)
    (root / ".sorter").mkdir()
    (root / ".sorter" / "journal.jsonl").symlink_to(precious)
    with pytest.raises(OSError):
        sort.sort_folder(root, classifier=FakeClassifier())
    assert precious.read_text() == "keep me" and (root / "rex.jpg").is_file()

    shutil.rmtree(root / ".sorter")
    (root / ".sorter").symlink_to(elsewhere, target_is_directory=True)
    result = runner.invoke(app, ["sort", str(root)])
    assert result.exit_code == 2 and result.stderr == (
        f"Error: {root / '.sorter'} is a link (sorter never follows one); rename it so sorter can use it\n"), result.output
    assert list(elsewhere.iterdir()) == [] and (root / "rex.jpg").is_file()


def test_a_fifo_planted_as_the_journal_or_the_suggestions_never_hangs_a_command(tmp_path: Path) -> None:
    """Reading a FIFO blocks until something writes to it: sorter's own files are opened
    without blocking, a FIFO journal is one line of error, FIFO suggestions read as none."""
    from sorter.files import suggestions

    root = tmp_path / "photos"
    write_image(root / "rex.jpg", RED)
    (root / ".sorter").mkdir()
    os.mkfifo(root / ".sorter" / "suggestions.json")
    assert suggestions.read(root) == suggestions.Suggestions()
    os.mkfifo(root / ".sorter" / "watching")  # looked at by every lock: is a watcher running?
    os.mkfifo(root / ".sorter" / "journal.jsonl")
    result = runner.invoke(app, ["undo", str(root)])
    assert result.exit_code == 1 and result.stderr.endswith("journal.jsonl: not a regular file\n"), result.output
    (root / ".sorter" / "lock").unlink()  # made by that undo
    os.mkfifo(root / ".sorter" / "lock")
    result = runner.invoke(app, ["undo", str(root)])
    assert result.stderr == f"Error: {root / '.sorter' / 'lock'}: not a regular file\n", result.output
    assert (root / "rex.jpg").is_file()
