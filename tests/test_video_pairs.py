"""Which video of a photo's stem is that photo's companion, and which is a video to judge: only a
`.MOV` or `.MP4` beside exactly one photo of its stem goes with it (a Live Photo's). Any other
video of a photo's stem (`IMG_5.m4v`, `IMG_5.mkv`, a `.MOV` of two photos' stem) is judged on its
own by the first sort, as a second sort and a watch judge it, and counted: it was once in no line
and no count of the first sort, and moved alone by the next. And what `--json` calls each file."""

from __future__ import annotations

import json
import os
import shutil
import time
from pathlib import Path

import pytest
from clips import make_clip, needs_ffmpeg
from conftest import FakeClassifier, wait_until, write_image
from typer.testing import CliRunner

from sorter.cli import app
from sorter.model import lite
from sorter.sorting.batches import Sorter

BLUE, RED = (255, 0, 0), (0, 0, 255)  # BGR: blue = cat, red = dog
runner = CliRunner()


@pytest.fixture(autouse=True)
def fake_model(monkeypatch) -> None:
    monkeypatch.setattr(lite, "load_classifier", lambda model: FakeClassifier())


def dog_clip(path: Path) -> Path:
    """A real 2 s clip of a dog (red, to the fake model), as long as a Live Photo's, made aside."""
    aside = path.parent.parent / f"{path.parent.name}-made"
    aside.mkdir(exist_ok=True)
    frame = write_image(aside / "dog.png", RED, size=(240, 320))
    return make_clip(aside / path.name, [frame], seconds=2.0).rename(path)


def files(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file() and ".sorter" not in p.parts)


def sort(root: Path, *args: str):
    result = runner.invoke(app, ["sort", str(root), *args])
    assert result.exit_code == 0, result.output
    return result


@needs_ffmpeg
@pytest.mark.parametrize("extension", [".m4v", ".mkv"])
def test_a_video_of_a_photos_stem_no_photo_takes_is_judged_by_the_first_sort(tmp_path: Path, extension: str) -> None:
    # No photo takes IMG_5.m4v as its companion (a Live Photo's video is a .MOV or .MP4), yet the
    # sort left it out for being beside one: not moved, not said, not counted; the next sort
    # then moved it alone.
    write_image(tmp_path / "IMG_5.jpg", BLUE)
    dog_clip(tmp_path / f"IMG_5{extension}")

    result = sort(tmp_path, "-v")

    assert f"moved IMG_5{extension} -> dogs/IMG_5{extension} (video, 8 frames, dog, 99%)" in result.stderr
    assert "moved IMG_5.jpg -> cats/IMG_5.jpg (cat, 99%)" in result.stderr
    assert "Videos: 1 moved, 0 left in place" in result.stdout
    assert files(tmp_path) == ["cats/IMG_5.jpg", f"dogs/IMG_5{extension}"]
    assert runner.invoke(app, ["sort", str(tmp_path)]).exit_code == 0
    assert files(tmp_path) == ["cats/IMG_5.jpg", f"dogs/IMG_5{extension}"]  # nothing left for a second sort


def two_cat_photos_and_a_dog_video(root: Path) -> None:
    """IMG_0004.HEIC and IMG_0004.JPG as an iPhone export leaves them (here a .png and a .JPG: cats),
    with the Live Photo's IMG_0004.MOV (a dog) and its edits IMG_0004.AAE: of which photo, a guess."""
    write_image(root / "IMG_0004.JPG", BLUE)
    write_image(root / "IMG_0004.png", BLUE)
    dog_clip(root / "IMG_0004.MOV")
    (root / "IMG_0004.AAE").write_text("edits")


SORTED = ["IMG_0004.AAE", "cats/IMG_0004.JPG", "cats/IMG_0004.png", "dogs/IMG_0004.MOV"]


@needs_ffmpeg
def test_a_video_of_two_photos_stem_is_judged_alone_by_a_first_sort_a_second_sort_and_a_watch(tmp_path: Path) -> None:
    # The first sort moved both photos and left the .MOV where it was, in no line or count; a
    # second sort, and a watch at once, judged it alone and moved it.
    first = tmp_path / "first"
    first.mkdir()
    two_cat_photos_and_a_dog_video(first)

    report = json.loads(sort(first, "--json").stdout)

    assert files(first) == SORTED  # the .AAE belongs to neither for sure: it stays
    assert {Path(f["path"]).name: (f["kind"], f["status"]) for f in report["files"]} == {
        "IMG_0004.MOV": ("video", "moved"), "IMG_0004.JPG": ("photo", "moved"), "IMG_0004.png": ("photo", "moved")}
    assert report["videos"] == {"moved": 1} and report["companions"] == 0

    second = tmp_path / "second"  # the .MOV copied in after the photos were sorted
    second.mkdir()
    two_cat_photos_and_a_dog_video(second)
    shutil.move(second / "IMG_0004.MOV", tmp_path / "later.MOV")
    sort(second)
    shutil.move(tmp_path / "later.MOV", second / "IMG_0004.MOV")
    assert "moved IMG_0004.MOV -> dogs/IMG_0004.MOV (video, 8 frames, dog, 99%)" in sort(second, "-v").stderr
    assert files(second) == SORTED

    from test_videos import stopped
    from test_watch import run_in_thread, wait_until

    from sorter.watching.watcher import WatchSettings

    watched = tmp_path / "watched"
    watched.mkdir()
    two_cat_photos_and_a_dog_video(watched)
    stop, thread, results = run_in_thread(watched, FakeClassifier(), settings=WatchSettings(settle=0.1, pair_wait=0.5))
    try:
        assert wait_until(lambda: len(results) >= 3, 20), results
    finally:
        stopped(stop, thread, results)
    assert files(watched) == SORTED


@needs_ffmpeg
def test_a_video_judged_alone_beside_two_photos_is_never_taken_along_by_the_second_once_the_first_moved(
        tmp_path: Path) -> None:
    # Judged alone while both photos were there, the dog video was taken along by IMG_1.png once
    # IMG_1.JPG had moved (its chunk planned after the first's moves): into cats/, and its own
    # move then said "vanished: file disappeared before it could be moved".
    write_image(tmp_path / "IMG_1.JPG", BLUE)
    write_image(tmp_path / "IMG_1.png", BLUE)
    dog_clip(tmp_path / "IMG_1.MOV")
    sorter = Sorter(tmp_path, FakeClassifier())
    try:
        results = list(sorter.sort_entries([tmp_path / name for name in ("IMG_1.JPG", "IMG_1.png", "IMG_1.MOV")],
                                           batch_size=1))
    finally:
        sorter.close()

    assert [(r.path.name, r.status, r.companions) for r in results] == [
        ("IMG_1.JPG", "moved", ()), ("IMG_1.png", "moved", ()), ("IMG_1.MOV", "moved", ())]
    assert files(tmp_path) == ["cats/IMG_1.JPG", "cats/IMG_1.png", "dogs/IMG_1.MOV"]


def test_a_late_sidecar_that_joins_its_photo_is_a_companion_in_json(tmp_path: Path) -> None:
    # It was "kind": "photo", though it is none: README's `kind` is photo, video or companion.
    write_image(tmp_path / "IMG_2.jpg", BLUE)
    sort(tmp_path)
    (tmp_path / "IMG_2.jpg.xmp").write_text("<x:xmpmeta/>")

    planned = json.loads(sort(tmp_path, "--dry-run", "--json").stdout)
    joined = json.loads(sort(tmp_path, "--json").stdout)

    for report, status in ((planned, "to join"), (joined, "joined")):
        assert [(Path(f["path"]).name, f["kind"], f["status"], f["frames"]) for f in report["files"]] == [
            ("IMG_2.jpg.xmp", "companion", status, None)]
    assert sorted(os.listdir(tmp_path / "cats")) == ["IMG_2.jpg", "IMG_2.jpg.xmp"]


def grey_clip(path: Path) -> Path:
    """A real 2 s clip the fake model is 50/50 about: left in place under --min-confidence 0.9."""
    aside = path.parent.parent / f"{path.parent.name}-made"
    aside.mkdir(exist_ok=True)
    frame = write_image(aside / "grey.png", (128, 128, 128), size=(240, 320))
    return make_clip(aside / path.name, [frame], seconds=2.0).rename(path)


@needs_ffmpeg
def test_a_video_a_watch_judged_alone_is_not_taken_along_by_a_photo_of_its_stem_in_a_later_batch(
        tmp_path: Path) -> None:
    # IMG_4.png and IMG_4.MOV complete, IMG_4.JPG still being written: the video, beside two
    # photos of its stem, was judged alone in the first batch and left in place (unsure), and the
    # png moved. Once the JPG was written, the only photo of its stem, its batch took the video
    # along into cats/, over the video's own verdict, where a sort of the three leaves it.
    import threading
    import time

    from test_videos import stopped
    from test_watch import run_in_thread, wait_until

    from sorter.watching.watcher import WatchSettings

    watched = tmp_path / "watched"
    watched.mkdir()
    write_image(watched / "IMG_4.png", BLUE)
    grey_clip(watched / "IMG_4.MOV")
    jpg = write_image(watched / "IMG_4.JPG", BLUE)
    writing = threading.Event()
    writing.set()

    def still_writing() -> None:  # its mtime moves on: not complete, not handed out
        while writing.is_set():
            os.utime(jpg)
            time.sleep(0.02)

    toucher = threading.Thread(target=still_writing, daemon=True)
    toucher.start()
    stop, thread, results = run_in_thread(watched, FakeClassifier(), min_confidence=0.9,
                                          settings=WatchSettings(settle=0.2, pair_wait=0.1, closed_grace=0.2))
    try:
        assert wait_until(lambda: {r.path.name for r in results} >= {"IMG_4.png", "IMG_4.MOV"}, 20), results
        writing.clear()
        toucher.join()
        assert wait_until(lambda: any(r.path.name == "IMG_4.JPG" for r in results), 20), results
        time.sleep(0.5)
    finally:
        writing.clear()
        stopped(stop, thread, results)
    assert [(r.path.name, r.status, [c[0].name for c in r.companions]) for r in results] == [
        ("IMG_4.png", "moved", []), ("IMG_4.MOV", "unsure", []), ("IMG_4.JPG", "moved", [])]
    assert files(watched) == ["IMG_4.MOV", "cats/IMG_4.JPG", "cats/IMG_4.png"]


@needs_ffmpeg
def test_a_watchs_first_line_counts_a_mov_judged_alone_beside_one_photo_as_a_video(tmp_path: Path) -> None:
    """IMG_4.MOV of two photos' stem is judged on its own; the cat IMG_4.png moved, leaving it
    beside IMG_4.JPG alone, both left in place (unsure at 90 %). A watch's first line counted the
    .MOV as the JPG's companion: "1 photo or video already there", one too few, whether the two
    were left before (not judged again) or judged again (another --min-confidence)."""
    from test_watch_restart import watching

    write_image(tmp_path / "IMG_4.JPG", (128, 128, 128))
    write_image(tmp_path / "IMG_4.png", BLUE)
    grey_clip(tmp_path / "IMG_4.MOV")
    sort(tmp_path, "--min-confidence", "0.9")
    assert files(tmp_path) == ["IMG_4.JPG", "IMG_4.MOV", "cats/IMG_4.png"]

    with watching(tmp_path, FakeClassifier(), min_confidence=0.9) as (results, notices):
        time.sleep(1.0)  # several scans
    assert notices[0] == (f"watching {tmp_path} (inotify); 2 photos and videos already there, all left in place "
                          "before and unchanged since: not judged again")
    assert results == []

    with watching(tmp_path, FakeClassifier(), min_confidence=0.8) as (results, notices):
        assert wait_until(lambda: len(results) == 2, 20), results
    assert notices[0] == f"watching {tmp_path} (inotify); 2 photos and videos already there"
    assert sorted((r.status, r.path.name) for r in results) == [("unsure", "IMG_4.JPG"), ("unsure", "IMG_4.MOV")]


@needs_ffmpeg
def test_a_short_video_there_longer_than_the_live_photo_wait_is_sorted_at_the_start_without_it(tmp_path: Path) -> None:
    """A short video moved into the folder by hand before the watch started waited the Live
    Photo wait (`pair_wait`, 10 s) at each start for a photo that had had all that time to come.
    One that came in longer ago than the wait (its ctime: a `mv` sets it, no copy tool sets it
    back) is sorted at once; one that came in just now still waits for its photo."""
    from test_videos import stopped
    from test_watch import run_in_thread

    from sorter.watching.watcher import WatchSettings

    dog_clip(tmp_path / "old.MOV")  # made aside, then moved in by hand
    time.sleep(3.5)  # longer than the wait below
    dog_clip(tmp_path / "new.MOV")  # just now
    started = time.monotonic()
    stop, thread, results = run_in_thread(tmp_path, FakeClassifier(), settings=WatchSettings(settle=0.1, pair_wait=3.0))
    try:
        assert wait_until(lambda: (tmp_path / "dogs" / "old.MOV").exists(), 20), results
        assert time.monotonic() - started < 3.0 and (tmp_path / "new.MOV").exists()  # not waited for; the new one waits
        assert wait_until(lambda: (tmp_path / "dogs" / "new.MOV").exists(), 20), results
        assert time.monotonic() - started >= 3.0
    finally:
        stopped(stop, thread, results)


@needs_ffmpeg
def test_a_video_judged_alone_and_left_in_place_is_not_taken_along_by_a_photo_of_its_stem_come_later(
        tmp_path: Path) -> None:
    """QA: clip.MOV alone in the folder, judged on its own and left in place (unsure), then a cat
    photo clip.jpg copied in beside it: the photo took it along into cats/ as its Live Photo's
    video, over its own verdict. A video judged on its own before its photo came is no companion
    of it: it stays where it is, judged again on its own by a sort, and the photo moves alone,
    until the video changes (by `sort`, and by a watch, running or started again)."""
    from test_watch_restart import watching

    sorted_root, watched = tmp_path / "sorted", tmp_path / "watched"
    for root in (sorted_root, watched):
        root.mkdir()
        grey_clip(root / "clip.MOV")
        assert "unsure: clip.MOV" in sort(root, "--min-confidence", "0.9", "-v").stderr

    write_image(sorted_root / "clip.jpg", BLUE)
    again = sort(sorted_root, "--min-confidence", "0.9", "-v")
    assert sorted(again.stderr.splitlines()) == [
        "moved clip.jpg -> cats/clip.jpg (cat, 99%)",
        "unsure: clip.MOV (video, 8 frames, cat): confidence 50% below --min-confidence 90%"]
    assert files(sorted_root) == ["cats/clip.jpg", "clip.MOV"]

    write_image(watched / "clip.jpg", BLUE)  # while no watch ran
    with watching(watched, FakeClassifier(), min_confidence=0.9) as (results, notices):
        assert wait_until(lambda: (watched / "cats" / "clip.jpg").exists(), 20), results
        write_image(watched / "clip.png", BLUE)  # while it runs, when the first one has gone
        assert wait_until(lambda: (watched / "cats" / "clip.png").exists(), 20), results
        time.sleep(0.5)  # more scans
    assert [(r.path.name, r.status, [c[0].name for c in r.companions]) for r in results] == [
        ("clip.jpg", "moved", []), ("clip.png", "moved", [])], results
    assert files(watched) == ["cats/clip.jpg", "cats/clip.png", "clip.MOV"]


@needs_ffmpeg
def test_a_video_a_running_watch_judged_alone_is_not_taken_along_by_a_photo_of_its_stem_come_later(
        tmp_path: Path) -> None:
    """clip.MOV copied in alone, judged on its own once its photo's wait was over and left in
    place (unsure), then a cat photo clip.jpg: the running watch's batch took the video along
    into cats/. It moves alone."""
    from test_videos import stopped
    from test_watch import run_in_thread

    from sorter.watching.watcher import WatchSettings

    stop, thread, results = run_in_thread(tmp_path, FakeClassifier(), min_confidence=0.9,
                                          settings=WatchSettings(settle=0.2, pair_wait=0.1, closed_grace=0.2))
    try:
        assert wait_until(lambda: (tmp_path / ".sorter" / "watching").exists(), 20), results
        grey_clip(tmp_path / "clip.MOV")
        assert wait_until(lambda: any(r.path.name == "clip.MOV" for r in results), 20), results
        write_image(tmp_path / "clip.jpg", BLUE)
        assert wait_until(lambda: any(r.path.name == "clip.jpg" for r in results), 20), results
        time.sleep(0.5)
    finally:
        stopped(stop, thread, results)
    assert [(r.path.name, r.status, [c[0].name for c in r.companions]) for r in results] == [
        ("clip.MOV", "unsure", []), ("clip.jpg", "moved", [])]
    assert files(tmp_path) == ["cats/clip.jpg", "clip.MOV"]


@needs_ffmpeg
def test_a_video_put_back_by_hand_is_not_taken_along_by_a_photo_of_its_stem_come_later(tmp_path: Path) -> None:
    """QA: kitty.MOV sorted into dogs/, put back by hand ("you put it back from dogs/kitty.MOV;
    left there"), then a cat photo kitty.jpg copied in beside it: the photo took the video along
    into cats/ as its Live Photo's video, over the user's word. A video put back is left where
    the user put it: the photo moves alone (by `sort`, and by a watch started again)."""
    from test_watch_restart import said, watching

    sorted_root, watched = tmp_path / "sorted", tmp_path / "watched"
    for root in (sorted_root, watched):
        root.mkdir()
        dog_clip(root / "kitty.MOV")
        assert "moved kitty.MOV -> dogs/kitty.MOV" in sort(root, "-v").stderr
        (root / "dogs" / "kitty.MOV").rename(root / "kitty.MOV")
        assert sort(root, "-v").stderr.splitlines() == [
            "skipped: kitty.MOV (video): you put it back from dogs/kitty.MOV; left there"]

    write_image(sorted_root / "kitty.jpg", BLUE)
    again = sort(sorted_root, "-v")
    assert sorted(again.stderr.splitlines()) == [
        "moved kitty.jpg -> cats/kitty.jpg (cat, 99%)",
        "skipped: kitty.MOV (video): you put it back from dogs/kitty.MOV; left there"]
    assert files(sorted_root) == ["cats/kitty.jpg", "kitty.MOV"]

    with watching(watched, FakeClassifier()) as (results, notices):
        assert wait_until(lambda: any(r.path.name == "kitty.MOV" for r in results), 20), results
        write_image(watched / "kitty.jpg", BLUE)
        assert wait_until(lambda: (watched / "cats" / "kitty.jpg").exists(), 20), results
        time.sleep(0.5)  # more scans
    assert said(results) == [("skipped", "kitty.MOV"), ("moved", "kitty.jpg")]
    assert [c[0].name for c in results[-1].companions] == []
    assert files(watched) == ["cats/kitty.jpg", "kitty.MOV"]


@needs_ffmpeg
def test_a_video_put_back_just_before_a_watch_starts_is_not_taken_by_a_photo_come_in_its_wait(tmp_path: Path) -> None:
    """A video put back less than the Live Photo wait before a watch starts waits for a photo of
    its stem; a cat kitty.jpg copied in meanwhile took it along into cats/. It moves alone, and
    the video is said put back."""
    from test_videos import stopped
    from test_watch import run_in_thread

    from sorter.watching.watcher import WatchSettings

    dog_clip(tmp_path / "kitty.MOV")
    sort(tmp_path)
    (tmp_path / "dogs" / "kitty.MOV").rename(tmp_path / "kitty.MOV")  # just now: within the wait
    stop, thread, results = run_in_thread(tmp_path, FakeClassifier(), settings=WatchSettings(settle=0.1, pair_wait=3.0))
    try:
        write_image(tmp_path / "kitty.jpg", BLUE)
        assert wait_until(lambda: (tmp_path / "cats" / "kitty.jpg").exists(), 20), results
        assert wait_until(lambda: any(r.path.name == "kitty.MOV" for r in results), 20), results
        time.sleep(0.5)
    finally:
        stopped(stop, thread, results)
    assert sorted((r.path.name, r.status, r.reason, [c[0].name for c in r.companions]) for r in results) == [
        ("kitty.MOV", "skipped", "you put it back from dogs/kitty.MOV; left there", []),
        ("kitty.jpg", "moved", None, [])]
    assert files(tmp_path) == ["cats/kitty.jpg", "kitty.MOV"]


def test_a_sort_finds_every_video_left_in_place_in_its_one_pass_over_the_journal(tmp_path: Path) -> None:
    """A sort reads the videos an earlier run left in place in the pass it makes over the journal
    for the photos put back (`LeftInPlace`, fed by `put_back`), which parses a "seen" line only
    where it may be a video's: every video's record is found, whatever the case of its extension
    or the rest of its name, and a later record of it (moved) forgets it, as a second pass did."""
    from sorter.config import VIDEO_EXTENSIONS
    from sorter.files.journal import journal_path, scan
    from sorter.files.journal_records import encode
    from sorter.files.put_backs import put_back
    from sorter.sorting.alone import LeftInPlace

    names = [f"v{ext}" for ext in VIDEO_EXTENSIONS] + [f"V{ext.upper()}" for ext in VIDEO_EXTENSIONS] + [
        'Ünï "quoted" \\ clip.Mov', "sub/IMG_1.mOv", b"\xff\xfe.mp4".decode("utf-8", "surrogateescape")]
    seen = [{"path": name, "label": "other", "status": status, "id": [1, n, 2], "mtime": 3}
            for n, name in enumerate(names) for status in ("moved", "neither")]  # left in place after a move
    seen += [{"path": "gone.mov", "label": "cat", "status": status, "id": [1, 99, 2], "mtime": 3}
             for status in ("unsure", "moved")]  # moved since
    seen += [{"path": "photo.jpg", "label": "other", "status": "neither", "id": [1, 98, 2], "mtime": 3}]
    (tmp_path / ".sorter").mkdir()
    journal_path(tmp_path).write_bytes(b"".join(encode({"op": "seen", "run": "r", "time": 1.0, **record})
                                                for record in seen))

    left = LeftInPlace()
    put_back(tmp_path, scan(tmp_path), reader=left)
    assert left.videos(tmp_path) == {tmp_path / name: (1, n, 2, 3) for n, name in enumerate(names)}
