"""`sorter watch` on a real exFAT card (exfat-fuse: as root, skipped otherwise), whose driver
gives a file a new inode number once the kernel forgets it (a `drop_caches`, memory pressure,
the card put in again). There a photo is told by its size and time, as `sort` tells it: a new
inode number is no new photo, to be judged, reported and journaled again.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from conftest import FakeClassifier, remount, wait_until, write_image

from sorter.files.journal import seen_of
from sorter.watching import watch, watcher

RED, GREY = (0, 0, 255), (128, 128, 128)  # BGR: the fake says red = dog, grey 50/50
#: Polled, as `--polling` does, and scanned again often: the photo's new inode is seen at once.
FAST = watcher.WatchSettings(settle=0.1, poll_interval=0.1, rescan_interval=0.2)



@contextmanager
def watching(card: Path, settings: watcher.WatchSettings = FAST, **options) -> Iterator[list]:
    """A watch of `card` in a thread for the block; what it said, in the list yielded."""
    stop, results = threading.Event(), []

    def target() -> None:
        try:
            watch.watch_folder(card, classifier=FakeClassifier(), stop=stop, settings=settings, polling=True,
                               on_result=results.append, **options)
        except BaseException as exc:  # the test reads it from `results`
            results.append(exc)

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    try:
        yield results
    finally:
        stop.set()
        thread.join(20)


def numbered_anew(path: Path) -> None:
    """The kernel made to forget the card's files, as it does under memory pressure: exfat-fuse
    numbers `path` anew at its next lookup (skipped where this driver keeps the number)."""
    before = os.lstat(path).st_ino
    for _ in range(10):  # the watch's own look may hold the file's inode in the kernel a moment
        with open("/proc/sys/vm/drop_caches", "w") as caches:
            caches.write("2\n")
        if os.lstat(path).st_ino != before:
            return
        time.sleep(0.05)
    pytest.skip("this exfat-fuse kept the file's inode number after drop_caches")


def said(results: list) -> list[tuple[str, str, str | None]]:
    assert all(not isinstance(r, BaseException) for r in results), results
    return [(r.status, r.path.name, r.reason) for r in results]


def test_a_photo_put_back_on_a_card_stays_put_back_when_the_card_numbers_it_anew(exfat_card: Path) -> None:
    with watching(exfat_card) as results:
        write_image(exfat_card / "IMG_0200.JPG", RED)
        assert wait_until(lambda: len(results) == 1, 20), results  # moved, and said: remembered
        os.rename(exfat_card / "dogs" / "IMG_0200.JPG", exfat_card / "IMG_0200.JPG")
        assert wait_until(lambda: len(results) == 2, 10), results
        numbered_anew(exfat_card / "IMG_0200.JPG")
        time.sleep(1.5)  # many polls and scans
    assert said(results) == [
        ("moved", "IMG_0200.JPG", None),
        ("skipped", "IMG_0200.JPG", "you put it back from dogs/IMG_0200.JPG; left there"),
    ]
    assert (exfat_card / "IMG_0200.JPG").is_file() and not (exfat_card / "dogs" / "IMG_0200.JPG").exists()


def test_a_photo_put_back_and_numbered_anew_before_the_watch_looks_at_it_is_still_put_back(exfat_card: Path) -> None:
    """Its new number already when the watch comes to it (its `settle` wait): what it is, as the
    watch remembers the photo it moved, is its size and time."""
    with watching(exfat_card, watcher.WatchSettings(settle=1.0, poll_interval=0.1)) as results:
        write_image(exfat_card / "IMG_0201.JPG", RED)
        assert wait_until(lambda: len(results) == 1, 20), results  # moved, and said: remembered
        os.rename(exfat_card / "dogs" / "IMG_0201.JPG", exfat_card / "IMG_0201.JPG")
        numbered_anew(exfat_card / "IMG_0201.JPG")
        assert wait_until(lambda: len(results) == 2, 10), results
    assert said(results) == [
        ("moved", "IMG_0201.JPG", None),
        ("skipped", "IMG_0201.JPG", "you put it back from dogs/IMG_0201.JPG; left there"),
    ]


def test_a_photo_left_in_place_on_a_card_is_judged_once_however_the_card_numbers_it(exfat_card: Path) -> None:
    with watching(exfat_card, min_confidence=0.9) as results:
        write_image(exfat_card / "blurry.jpg", GREY)
        assert wait_until(lambda: len(results) == 1, 20), results
        numbered_anew(exfat_card / "blurry.jpg")
        time.sleep(1.5)  # many polls and scans
    assert [(status, name) for status, name, _ in said(results)] == [("unsure", "blurry.jpg")]
    assert [seen.path for seen in seen_of(exfat_card)] == ["blurry.jpg"]  # one line in the journal


def test_a_photo_left_in_place_is_not_judged_again_by_a_watch_started_after_the_card_was_put_in_again(
        exfat_card: Path) -> None:
    """The card numbers its files anew at each mount: a photo there is its size and time, as the
    journal's record of it left in place has them."""
    write_image(exfat_card / "blurry.jpg", GREY)
    write_image(exfat_card / "fido.jpg", RED)
    with watching(exfat_card, min_confidence=0.9) as results:
        assert wait_until(lambda: len(results) == 2, 20), results
    before = os.lstat(exfat_card / "blurry.jpg").st_ino
    remount(exfat_card)
    for looked_up_first in ("dogs", "dogs/fido.jpg", ".sorter", ".sorter/journal.jsonl"):
        os.lstat(exfat_card / looked_up_first)  # numbered first: blurry.jpg gets another number
    if os.lstat(exfat_card / "blurry.jpg").st_ino == before:
        pytest.skip("this exfat-fuse gave the file its number again")
    with watching(exfat_card, min_confidence=0.9) as again:
        write_image(exfat_card / "rex.jpg", RED)
        assert wait_until(lambda: (exfat_card / "dogs" / "rex.jpg").exists(), 20), again
    assert sorted((status, name) for status, name, _ in said(results)) == [("moved", "fido.jpg"),
                                                                           ("unsure", "blurry.jpg")]
    assert [(status, name) for status, name, _ in said(again)] == [("moved", "rex.jpg")]


def test_a_sidecar_come_after_its_photo_in_another_case_joins_it_as_a_sort_takes_it_along(exfat_card: Path) -> None:
    """`IMG_0302.jpg.xmp` after `IMG_0302.JPG`: a look-up of `IMG_0302.JPG.xmp` opens it on the card."""
    with watching(exfat_card) as results:
        write_image(exfat_card / "IMG_0302.JPG", RED)
        assert wait_until(lambda: (exfat_card / "dogs" / "IMG_0302.JPG").exists(), 20), results
        (exfat_card / "IMG_0302.jpg.xmp").write_text("x\n")
        assert wait_until(lambda: len(results) == 2, 10), results
    assert [(status, name) for status, name, _ in said(results)] == [
        ("moved", "IMG_0302.JPG"), ("joined", "IMG_0302.jpg.xmp")]
    assert sorted(os.listdir(exfat_card / "dogs")) == ["IMG_0302.JPG", "IMG_0302.jpg.xmp"]
