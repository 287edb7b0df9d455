"""`sorter watch` started again on a folder an earlier watch (or sort) left photos in: those it
left in place (neither, unsure, unreadable) and that have not changed since are not judged
again, nor said again, and its first line counts them. A systemd service restarted daily on a
camera roll of hundreds of non-pet photos ran the network on all of them at each start, and
logged each "neither" again. A photo changed since, one made readable, or a watch with another
`--min-confidence` or model judges them again (fake models, in process, except where the watch
must run without root's powers).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from conftest import REPO, FakeClassifier, ThreeClassFake, wait_until, without_root_powers, write_image

from sorter.watching import watch, watcher

RED, PURPLE, GREEN = (0, 0, 255), (128, 0, 128), (0, 255, 0)  # BGR: a dog; 50/50 (unsure at 90 %); neither
FAST = watcher.WatchSettings(settle=0.1, rescan_interval=0.2, unreadable_wait=0.3)



@contextmanager
def watching(root: Path, classifier=None, min_confidence: float = 0.9) -> Iterator[tuple[list, list[str]]]:
    """A watch of `root` in a thread for the block, stopped after it; what it said of each file,
    and its notices (its first line first), in the lists yielded."""
    stop, results, notices = threading.Event(), [], []

    def target() -> None:
        try:
            watch.watch_folder(root, classifier=classifier or ThreeClassFake(), stop=stop, settings=FAST,
                               min_confidence=min_confidence, on_result=results.append,
                               on_notice=lambda notice: notices.append(notice.message))
        except BaseException as exc:  # the test reads it from `results`
            results.append(exc)

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    try:
        assert wait_until(lambda: notices or results, 20), "the watch did not start"
        yield results, notices
    finally:
        stop.set()
        thread.join(20)


def said(results: list) -> list[tuple[str, str]]:
    assert all(not isinstance(r, BaseException) for r in results), results
    return [(r.status, r.path.name) for r in results]


def left_by_a_first_watch(root: Path, *names: str) -> None:
    """A first watch leaves a neither photo, an unsure one and any `names` (neither) where they
    are, and stops."""
    for name in ("beach.jpg", *names):
        write_image(root / name, GREEN)
    write_image(root / "blurry.jpg", PURPLE)
    with watching(root) as (results, notices):
        assert wait_until(lambda: len(results) == 2 + len(names), 20), results
    assert notices[0] == f"watching {root} (inotify); {2 + len(names)} photos and videos already there"
    assert sorted(said(results)) == sorted([("neither", name) for name in ("beach.jpg", *names)]
                                           + [("unsure", "blurry.jpg")])


def a_new_photo_is_sorted(root: Path, results: list) -> None:
    """A photo copied in is sorted: the watch is well under way, past its first scans."""
    write_image(root / "rex.jpg", RED)
    assert wait_until(lambda: (root / "dogs" / "rex.jpg").exists(), 20), results
    time.sleep(0.5)  # more scans


def test_a_watch_started_again_does_not_judge_again_the_photos_left_in_place(tmp_path: Path) -> None:
    left_by_a_first_watch(tmp_path)
    with watching(tmp_path) as (results, notices):
        a_new_photo_is_sorted(tmp_path, results)
    assert notices[0] == (f"watching {tmp_path} (inotify); 2 photos and videos already there, "
                          "all left in place before and unchanged since: not judged again")
    assert said(results) == [("moved", "rex.jpg")]  # no second "neither: beach.jpg", "unsure: blurry.jpg"
    assert (tmp_path / "beach.jpg").is_file() and (tmp_path / "blurry.jpg").is_file()


def test_a_photo_rewritten_or_touched_since_is_judged_again(tmp_path: Path) -> None:
    left_by_a_first_watch(tmp_path, "dune.jpg")
    write_image(tmp_path / "blurry.jpg", RED)  # rewritten: a dog now
    os.utime(tmp_path / "dune.jpg", ns=(0, os.stat(tmp_path / "dune.jpg").st_mtime_ns + 10**9))  # touched
    with watching(tmp_path) as (results, notices):
        assert wait_until(lambda: len(results) == 2, 20), results
        time.sleep(0.5)  # more scans
    assert notices[0] == (f"watching {tmp_path} (inotify); 3 photos and videos already there: 2 to sort, "
                          "1 left in place before and unchanged since, not judged again")  # beach.jpg
    assert sorted(said(results)) == [("moved", "blurry.jpg"), ("neither", "dune.jpg")]


def test_another_min_confidence_or_model_judges_them_again(tmp_path: Path) -> None:
    left_by_a_first_watch(tmp_path)
    with watching(tmp_path, min_confidence=0.4) as (results, notices):  # 50/50 is sure enough now
        assert wait_until(lambda: len(results) == 2, 20), results
    assert notices[0] == f"watching {tmp_path} (inotify); 2 photos and videos already there"
    assert sorted(said(results)) == [("moved", "blurry.jpg"), ("neither", "beach.jpg")]
    with watching(tmp_path, min_confidence=0.4) as (results, notices):  # the same again: beach.jpg stays as it is
        a_new_photo_is_sorted(tmp_path, results)
    assert notices[0] == (f"watching {tmp_path} (inotify); 1 photo or video already there, "
                          "left in place before and unchanged since: not judged again")
    assert said(results) == [("moved", "rex.jpg")]
    # Another model (a fake that knows only cats and dogs) judges it again.
    with watching(tmp_path, classifier=FakeClassifier(), min_confidence=0.4) as (results, notices):
        assert wait_until(lambda: len(results) == 1, 20), results
    assert notices[0] == f"watching {tmp_path} (inotify); 1 photo or video already there"
    assert said(results) == [("moved", "beach.jpg")]


#: A watch run as its own process (root's power to read any file dropped), its lines on stdout.
WATCH = """
import sys
sys.path.insert(0, sys.argv[2])
from pathlib import Path
from conftest import ThreeClassFake
from sorter.watching import watch, watcher

watch.watch_folder(
    Path(sys.argv[1]), classifier=ThreeClassFake(),
    settings=watcher.WatchSettings(settle=0.1, rescan_interval=0.2, unreadable_wait=0.3),
    on_result=lambda r: print(r.status, r.path.name, r.reason, flush=True),
    on_notice=lambda notice: print(notice.message.replace(sys.argv[1], "INBOX"), flush=True),
)
"""



def watched(inbox: Path, as_user: list[str], out: Path, until) -> list[str]:
    """A watch of `inbox` as its own process, stopped once `until()`; its lines."""
    command = [*as_user, sys.executable, "-c", WATCH, str(inbox), str(REPO / "tests")]
    with open(out, "w") as stdout:
        process = subprocess.Popen(command, stdout=stdout, stderr=subprocess.STDOUT, cwd=REPO)
    try:
        assert wait_until(until, 30), out.read_text()
        time.sleep(0.5)  # more scans
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(10)
    return out.read_text().splitlines()


def test_a_photo_left_unreadable_is_judged_again_once_made_readable_a_damaged_one_is_not(tmp_path: Path) -> None:
    inbox = tmp_path / "inbox"
    photo = write_image(inbox / "rex.jpg", RED)
    photo.chmod(0)
    (inbox / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 not really a jpeg")
    as_user, out = without_root_powers(photo), tmp_path / "watch.out"
    first = watched(inbox, as_user, out, lambda: out.read_text().count("unreadable ") == 2)
    assert sorted(first[1:]) == ["unreadable broken.jpg not a readable image (corrupt or unsupported format)",
                                 "unreadable rex.jpg cannot open: Permission denied"], first
    photo.chmod(0o644)
    again = watched(inbox, as_user, out, lambda: (inbox / "dogs" / "rex.jpg").exists())
    assert again == ["watching INBOX (inotify); 2 photos and videos already there: 1 to sort, "
                     "1 left in place before and unchanged since, not judged again", "moved rex.jpg None"]


def test_a_photo_left_unopenable_is_judged_again_by_a_watch_that_can_open_it_though_nothing_changed(
        tmp_path: Path) -> None:
    """Left "cannot open: Permission denied" by a watch run as a user, then watched by one that may
    read it (as root here; another group, `usermod -aG`, an ACL), the file untouched: it was
    skipped at every start, its mode and owner as they were. A damaged one is still not judged again."""
    inbox = tmp_path / "inbox"
    photo = write_image(inbox / "rex.jpg", RED)
    photo.chmod(0)
    (inbox / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 not really a jpeg")
    as_user, out = without_root_powers(photo), tmp_path / "watch.out"
    if not as_user:
        pytest.skip("needs root, to watch as a user and then as a watcher that may open any file")
    first = watched(inbox, as_user, out, lambda: out.read_text().count("unreadable ") == 2)
    assert "unreadable rex.jpg cannot open: Permission denied" in first, first

    again = watched(inbox, [], out, lambda: (inbox / "dogs" / "rex.jpg").exists())

    assert again == ["watching INBOX (inotify); 2 photos and videos already there: 1 to sort, "
                     "1 left in place before and unchanged since, not judged again", "moved rex.jpg None"]


def test_a_photo_replaced_by_one_of_its_size_with_its_time_put_back_is_judged_again(tmp_path: Path) -> None:
    """A photo left in place ("neither"), rewritten in place with a dog's photo of the same size,
    its modification time put back (`touch -r`, `cp -p`): its inode, size and time as they were,
    it was skipped at every start, the dog left unsorted. The ctime tells it."""
    import cv2
    import numpy as np

    def jpeg(colour) -> bytes:
        return cv2.imencode(".jpg", np.full((48, 64, 3), colour, np.uint8))[1].tobytes()

    beach, dog = jpeg(GREEN), jpeg(RED)
    size = max(len(beach), len(dog)) + 16  # padded after the JPEG's end: the same size
    photo = tmp_path / "beach.jpg"
    photo.write_bytes(beach.ljust(size, b"\0"))
    with watching(tmp_path) as (results, notices):
        assert wait_until(lambda: len(results) == 1, 20), results
    assert said(results) == [("neither", "beach.jpg")]
    before = os.stat(photo)
    time.sleep(0.05)  # a ctime of its own, where the clock is coarse
    with open(photo, "r+b") as f:  # in place: the same inode
        f.write(dog.ljust(size, b"\0"))
    os.utime(photo, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert os.stat(photo)[:8] == before[:8] and os.stat(photo).st_mtime_ns == before.st_mtime_ns

    with watching(tmp_path) as (results, notices):
        assert wait_until(lambda: (tmp_path / "dogs" / "beach.jpg").exists(), 20), (results, notices)

    assert notices[0] == f"watching {tmp_path} (inotify); 1 photo or video already there"
    assert said(results) == [("moved", "beach.jpg")]


def test_a_damaged_photo_left_before_is_not_said_again_for_a_hard_link_made_while_the_watch_runs(
        tmp_path: Path) -> None:
    """The running watch's rule stands for photos left before: a hard link made to one elsewhere
    (a backup tool) changes its ctime, and does not bring it back (its start compares the ctime)."""
    (tmp_path / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 not really a jpeg")
    with watching(tmp_path) as (results, notices):
        assert wait_until(lambda: len(results) == 1, 20), results
    assert said(results) == [("unreadable", "broken.jpg")]
    with watching(tmp_path) as (results, notices):
        time.sleep(0.5)  # its first scans
        os.link(tmp_path / "broken.jpg", tmp_path / "backup.bin")
        a_new_photo_is_sorted(tmp_path, results)
    assert said(results) == [("moved", "rex.jpg")]  # no second "unreadable: broken.jpg"


def test_where_inodes_do_not_last_a_photo_left_before_is_told_by_its_size_and_time_alone(
        tmp_path: Path, monkeypatch) -> None:
    """On FAT, exFAT and FUSE (`identities.inodes_last`) a file's inode is made up, its ctime its
    mtime or made up too: a photo left there is skipped at the start by its size and time alone,
    whatever its ctime says (a hard link here, to change it where the tests run)."""
    from sorter.files import identities

    monkeypatch.setattr(identities, "inodes_last", lambda path: False)
    left_by_a_first_watch(tmp_path)
    os.link(tmp_path / "beach.jpg", tmp_path / "beach.bin")  # its ctime changed, nothing else
    with watching(tmp_path) as (results, notices):
        a_new_photo_is_sorted(tmp_path, results)
    assert notices[0].endswith("; 2 photos and videos already there, all left in place before and unchanged since: "
                               "not judged again"), notices[0]
    assert said(results) == [("moved", "rex.jpg")]


def sorted_then_put_back_and_said(tmp_path: Path, name: str) -> None:
    """`name`, a dog, sorted by one watch, put back by hand, and said so by the next."""
    with watching(tmp_path) as (results, notices):
        assert wait_until(lambda: (tmp_path / "dogs" / name).exists(), 20), results
    (tmp_path / "dogs" / name).rename(tmp_path / name)  # the user disagrees
    with watching(tmp_path) as (results, notices):
        assert wait_until(lambda: len(results) == 1, 20), results
    assert [(r.status, r.path.name, r.reason) for r in results] == [
        ("skipped", name, f"you put it back from dogs/{name}; left there")]


def test_a_photo_put_back_is_said_once_not_at_every_start(tmp_path: Path) -> None:
    """A photo a watch sorted that the user put back ("skipped: you put it back from dogs/rex.jpg")
    was said again at every start, and counted among those to sort. Said by the watch that found
    it, then carried over as those left in place are, unchanged, and counted apart."""
    left_by_a_first_watch(tmp_path)
    write_image(tmp_path / "rex.jpg", RED)
    sorted_then_put_back_and_said(tmp_path, "rex.jpg")

    with watching(tmp_path) as (results, notices):
        write_image(tmp_path / "fido.jpg", RED)
        assert wait_until(lambda: (tmp_path / "dogs" / "fido.jpg").exists(), 20), results
        time.sleep(0.5)  # more scans

    assert notices[0] == (f"watching {tmp_path} (inotify); 3 photos and videos already there, all left in place "
                          "before (1 you put back) and unchanged since: not judged again")
    assert said(results) == [("moved", "fido.jpg")]  # no second "skipped: rex.jpg"
    assert (tmp_path / "rex.jpg").is_file()


def touch(path: Path) -> None:
    """`touch path`: the same file, its bytes as they were, a new modification time."""
    st = path.stat()
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 10**9))


def test_a_photo_put_back_then_touched_stays_put_back_while_watching_and_after_a_restart(tmp_path: Path) -> None:
    """QA: a photo the watch sorted, that the user put back ("skipped: you put it back from
    dogs/bo.jpg"), then touched (a viewer setting its time), was moved into dogs/ again by the
    running watch, and by one started again. It is the same file (device, inode and size, which
    last here): the user's word stands, and nothing moves."""
    write_image(tmp_path / "bo.jpg", RED)
    with watching(tmp_path) as (results, notices):
        # Its move said, so journaled done: a put-back within the batch's microseconds is another race.
        assert wait_until(lambda: len(results) == 1 and (tmp_path / "dogs" / "bo.jpg").exists(), 20), results
        (tmp_path / "dogs" / "bo.jpg").rename(tmp_path / "bo.jpg")  # the user disagrees
        assert wait_until(lambda: len(results) == 2, 20), results
        touch(tmp_path / "bo.jpg")
        time.sleep(1.0)  # several rescans
    assert [(r.status, r.path.name, r.reason) for r in results][1:] == [
        ("skipped", "bo.jpg", "you put it back from dogs/bo.jpg; left there")], results
    assert (tmp_path / "bo.jpg").is_file() and not (tmp_path / "dogs" / "bo.jpg").exists()

    touch(tmp_path / "bo.jpg")
    with watching(tmp_path) as (results, notices):
        a_new_photo_is_sorted(tmp_path, results)
    assert ("moved", "bo.jpg") not in said(results), results
    assert (tmp_path / "bo.jpg").is_file() and not (tmp_path / "dogs" / "bo.jpg").exists()


def test_a_photo_put_back_then_touched_is_said_put_back_once_in_its_life_not_at_each_restart(tmp_path: Path) -> None:
    """A photo put back by hand, then touched (a viewer setting its time: the same file, device,
    inode and size) was left where it is by a watch started again, but said again ("skipped: you
    put it back from dogs/bo.jpg") at each start after a touch. The first watch that saw it put
    back said it; the next ones say nothing of it, touched or not."""
    write_image(tmp_path / "bo.jpg", RED)
    sorted_then_put_back_and_said(tmp_path, "bo.jpg")

    elsewhere = tmp_path.parent / f"{tmp_path.name}-elsewhere"
    elsewhere.mkdir()
    for turn in range(2):  # touched, then the watch started again: twice
        touch(tmp_path / "bo.jpg")
        with watching(tmp_path) as (results, notices):
            a_new_photo_is_sorted(tmp_path, results)
        assert said(results) == [("moved", "rex.jpg")]  # no "skipped: bo.jpg"
        assert (tmp_path / "bo.jpg").is_file() and not (tmp_path / "dogs" / "bo.jpg").exists()
        # Out of the folder, not deleted: the next rex.jpg, of its very bytes, given its freed inode
        # number, could not be told from it taken back out of dogs/ and touched.
        (tmp_path / "dogs" / "rex.jpg").rename(elsewhere / f"rex{turn}.jpg")


def test_a_photo_put_back_under_another_name_then_touched_stays_put_back_after_a_restart(tmp_path: Path) -> None:
    """A photo the watch sorted, taken back out of dogs/ by hand under another name (bo.jpg to
    my bo.jpg), then touched (a viewer setting its time: the same file, device, inode and size),
    was kept put back by the running watch, but filed again by one started again. Told as one
    put back under its own name is: by its device, inode and size."""
    write_image(tmp_path / "bo.jpg", RED)
    with watching(tmp_path) as (results, notices):
        assert wait_until(lambda: (tmp_path / "dogs" / "bo.jpg").exists(), 20), results
    (tmp_path / "dogs" / "bo.jpg").rename(tmp_path / "my bo.jpg")  # the user disagrees
    touch(tmp_path / "my bo.jpg")
    with watching(tmp_path) as (results, notices):
        a_new_photo_is_sorted(tmp_path, results)
    assert [(r.status, r.path.name, r.reason) for r in results] == [
        ("skipped", "my bo.jpg", "you put it back from dogs/bo.jpg; left there"),
        ("moved", "rex.jpg", None)], results
    assert (tmp_path / "my bo.jpg").is_file() and not (tmp_path / "dogs" / "bo.jpg").exists()


def test_a_watchs_first_line_counts_a_photo_put_back_then_touched_among_those_put_back(tmp_path: Path) -> None:
    """A photo put back by hand, said so by a watch, then touched (a viewer setting its time: the
    same device, inode and size) was counted "to sort" by the first line of a watch started
    again, which then left it where it is without a word. Counted where it is: put back."""
    write_image(tmp_path / "bo.jpg", RED)
    with watching(tmp_path) as (results, notices):
        assert wait_until(lambda: (tmp_path / "dogs" / "bo.jpg").exists(), 20), results
    (tmp_path / "dogs" / "bo.jpg").rename(tmp_path / "bo.jpg")  # the user disagrees
    with watching(tmp_path) as (results, notices):
        assert wait_until(lambda: len(results) == 1, 20), results
    assert said(results) == [("skipped", "bo.jpg")]

    touch(tmp_path / "bo.jpg")
    with watching(tmp_path) as (results, notices):
        a_new_photo_is_sorted(tmp_path, results)
    assert notices[0] == (f"watching {tmp_path} (inotify); 1 photo or video already there, left in place "
                          "before (1 you put back) and unchanged since: not judged again")
    assert said(results) == [("moved", "rex.jpg")]
    assert (tmp_path / "bo.jpg").is_file() and not (tmp_path / "dogs" / "bo.jpg").exists()
