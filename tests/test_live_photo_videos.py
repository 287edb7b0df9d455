"""Which photo a `.MOV` of a photo's stem belongs to, when that is not plain: a video that was
there before its photo moved, a video beside a photo still being copied when another photo of
its stem moved, a HEIC photo named `.MOV`; and how a watch counts a Live Photo's video."""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

import pytest
from clips import needs_ffmpeg
from conftest import FakeClassifier, cli_sort, video_bytes, write_image
from test_video_pairs import files, grey_clip
from typer.testing import CliRunner

from sorter.watching.watcher import WatchSettings

BLUE, RED = (255, 0, 0), (0, 0, 255)  # BGR: blue = cat, red = dog
runner = CliRunner()


pytestmark = pytest.mark.usefixtures("fake_classifier_loaded")
sort = cli_sort


class Writing:
    """A photo still being copied in: its mtime moves on until `done`, so no watch takes it."""

    def __init__(self, path: Path, colour) -> None:
        self.path = write_image(path, colour)
        self._writing = threading.Event()
        self._writing.set()
        self._thread = threading.Thread(target=self._touch, daemon=True)
        self._thread.start()

    def _touch(self) -> None:
        while self._writing.is_set():
            os.utime(self.path)
            time.sleep(0.02)

    def done(self) -> None:
        self._writing.clear()
        self._thread.join()


def watched_until(root: Path, names: set[str], *, before=lambda: None, during=lambda results: None,
                  **options) -> list:
    """The results of a watch of `root` (unsure below 90 % or `min_confidence`, a video waiting 1 s for its photo)
    once each of `names` was reported; `before` runs once it watches, `during` once it has results."""
    from test_videos import stopped
    from test_watch import run_in_thread, wait_until

    settings = WatchSettings(settle=0.2, closed_grace=0.2, pair_wait=1.0)
    stop, thread, results = run_in_thread(root, FakeClassifier(), settings=settings, **{"min_confidence": 0.9, **options})
    try:
        assert wait_until(lambda: (root / ".sorter" / "watching").exists(), 20), results
        before()
        during(results)
        assert wait_until(lambda: {r.path.name for r in results if hasattr(r, "path")} >= names, 20), results
        time.sleep(0.5)  # nothing more comes of them
    finally:
        stopped(stop, thread, results)
    return results


def outcomes(results: list) -> list[tuple[str, str, list[str]]]:
    return sorted((r.path.name, r.status, [c[0].name for c in r.companions]) for r in results)


@needs_ffmpeg
def test_a_video_there_before_two_photos_of_its_stem_came_to_a_watch_joins_neither(tmp_path: Path) -> None:
    # QA: a person's IMG_6.MOV, left in place by a sort, then IMG_6.JPG written slowly and a dog
    # IMG_6.HEIC copied in beside it: the HEIC moved alone (the JPG was there), and the video then
    # "joined IMG_6.MOV -> dogs/IMG_6.MOV (its photo went there before it came)", which it had
    # not: it was there first, and the JPG, a second photo of its stem, was still being written.
    root = tmp_path / "roll"
    root.mkdir()
    grey_clip(root / "IMG_6.MOV")
    assert "unsure: IMG_6.MOV" in sort(root, "--min-confidence", "0.9", "-v").stderr
    jpg: list[Writing] = []

    def photos_come() -> None:
        jpg.append(Writing(root / "IMG_6.JPG", RED))
        write_image(root / "IMG_6.png", RED)

    def jpg_done(results) -> None:
        from test_watch import wait_until

        assert wait_until(lambda: {r.path.name for r in results} >= {"IMG_6.png", "IMG_6.MOV"}, 20), results
        jpg[0].done()

    # At another --min-confidence than the sort's, so that the video it left is judged again (`left_before`).
    results = watched_until(root, {"IMG_6.png", "IMG_6.MOV", "IMG_6.JPG"}, before=photos_come, during=jpg_done,
                            min_confidence=0.95)

    assert outcomes(results) == [("IMG_6.JPG", "moved", []), ("IMG_6.MOV", "unsure", []), ("IMG_6.png", "moved", [])]
    assert files(root) == ["IMG_6.MOV", "dogs/IMG_6.JPG", "dogs/IMG_6.png"]


@needs_ffmpeg
def test_a_video_copied_in_with_one_photo_beside_another_still_being_written_joins_neither(tmp_path: Path) -> None:
    # QA: IMG_5.HEIC and a person's IMG_5.MOV copied in together beside a half-written IMG_5.JPG:
    # the HEIC moved alone, and the video joined it in dogs/ though a second photo of its stem
    # was beside it; a sort of the three leaves the video in place and moves both photos.
    root = tmp_path / "roll"
    root.mkdir()
    jpg = Writing(root / "IMG_5.JPG", RED)
    write_image(root / "IMG_5.png", RED)
    grey_clip(root / "IMG_5.MOV")

    def jpg_done(results) -> None:
        from test_watch import wait_until

        assert wait_until(lambda: {r.path.name for r in results} >= {"IMG_5.png", "IMG_5.MOV"}, 20), results
        jpg.done()

    try:
        results = watched_until(root, {"IMG_5.png", "IMG_5.MOV", "IMG_5.JPG"}, during=jpg_done)
    finally:
        jpg.done()

    assert outcomes(results) == [("IMG_5.JPG", "moved", []), ("IMG_5.MOV", "unsure", []), ("IMG_5.png", "moved", [])]
    assert files(root) == ["IMG_5.MOV", "dogs/IMG_5.JPG", "dogs/IMG_5.png"]


@needs_ffmpeg
def test_a_video_copied_in_after_one_photo_moved_beside_another_being_written_joins_neither(tmp_path: Path) -> None:
    # IMG_9.png moved alone (IMG_9.JPG was being written beside it), then a person's IMG_9.MOV
    # came: it joined the png in dogs/, though the JPG beside it was a second photo of its stem.
    root = tmp_path / "roll"
    root.mkdir()
    jpg = Writing(root / "IMG_9.JPG", RED)

    def png_then_video(results) -> None:
        from test_watch import wait_until

        write_image(root / "IMG_9.png", RED)
        assert wait_until(lambda: any(r.path.name == "IMG_9.png" for r in results), 20), results
        grey_clip(root / "IMG_9.MOV")
        assert wait_until(lambda: any(r.path.name == "IMG_9.MOV" for r in results), 20), results
        jpg.done()

    try:
        results = watched_until(root, {"IMG_9.png", "IMG_9.MOV", "IMG_9.JPG"}, during=png_then_video)
    finally:
        jpg.done()

    assert outcomes(results) == [("IMG_9.JPG", "moved", []), ("IMG_9.MOV", "unsure", []), ("IMG_9.png", "moved", [])]
    assert files(root) == ["IMG_9.MOV", "dogs/IMG_9.JPG", "dogs/IMG_9.png"]


@needs_ffmpeg
def test_a_video_copied_in_with_a_second_photo_of_a_stem_sorted_before_is_judged_on_its_own_by_a_sort(
        tmp_path: Path) -> None:
    # IMG_9.png sorted, then IMG_9.JPG and IMG_9.MOV copied in: the JPG took the video along, as
    # its Live Photo's, though it is as much the png's; a watch judges it on its own, and so does a sort.
    write_image(tmp_path / "IMG_9.png", RED)
    sort(tmp_path)
    write_image(tmp_path / "IMG_9.JPG", RED)
    grey_clip(tmp_path / "IMG_9.MOV")

    result = sort(tmp_path, "--min-confidence", "0.9", "-v")

    assert "moved IMG_9.JPG -> dogs/IMG_9.JPG (dog, 99%)" in result.stderr
    assert "unsure: IMG_9.MOV" in result.stderr
    assert files(tmp_path) == ["IMG_9.MOV", "dogs/IMG_9.JPG", "dogs/IMG_9.png"]


def two_photos_and_a_video_sorted_one_photo_moved(root: Path) -> None:
    """IMG_7.png (a dog) moved, IMG_7.JPG and IMG_7.MOV (both 50/50) left in place beside it; the
    JPG then deleted: the video, there before the png moved and not taken along, is alone."""
    root.mkdir()
    write_image(root / "IMG_7.png", RED)
    write_image(root / "IMG_7.JPG", (128, 128, 128))
    grey_clip(root / "IMG_7.MOV")
    time.sleep(0.1)  # there a while before the sort, not in the moment its photo moved (`CTIME_SLACK`)
    sort(root, "--min-confidence", "0.9")
    assert files(root) == ["IMG_7.JPG", "IMG_7.MOV", "dogs/IMG_7.png"]
    (root / "IMG_7.JPG").unlink()


@needs_ffmpeg
def test_a_video_there_before_its_photo_moved_is_no_late_companion_to_a_sort(tmp_path: Path) -> None:
    # It was "joined IMG_7.MOV -> dogs/IMG_7.MOV (its photo went there before it came)": it had
    # been there all along, judged on its own and left in place.
    root = tmp_path / "roll"
    two_photos_and_a_video_sorted_one_photo_moved(root)

    result = sort(root, "--min-confidence", "0.9", "-v")

    assert "joined" not in result.stderr
    assert "unsure: IMG_7.MOV" in result.stderr
    assert files(root) == ["IMG_7.MOV", "dogs/IMG_7.png"]


@needs_ffmpeg
def test_a_video_there_before_its_photo_moved_is_no_late_companion_to_a_watch(tmp_path: Path) -> None:
    root = tmp_path / "roll"
    two_photos_and_a_video_sorted_one_photo_moved(root)

    results = watched_until(root, {"IMG_7.MOV"}, min_confidence=0.95)  # judged again: not the sort's 0.9

    assert outcomes(results) == [("IMG_7.MOV", "unsure", [])]
    assert files(root) == ["IMG_7.MOV", "dogs/IMG_7.png"]


@needs_ffmpeg
def test_a_live_photos_video_copied_after_its_photo_moved_still_joins_it(tmp_path: Path) -> None:
    # The rule above reads the video's ctime: one copied in after its photo moved is that photo's.
    root = tmp_path / "roll"
    root.mkdir()
    write_image(root / "IMG_8.png", RED)
    sort(root)
    grey_clip(root / "IMG_8.MOV")

    result = sort(root, "-v")

    assert "joined IMG_8.MOV -> dogs/IMG_8.MOV (its photo went there before it came)" in result.stderr
    assert files(root) == ["dogs/IMG_8.MOV", "dogs/IMG_8.png"]


# ------------------------------------------------------------------ a HEIC photo named .MOV


def heic_named_mov(path: Path) -> Path:
    """A real HEIC photo of a cat under a video's name, as a tool that saved a Live Photo's still so leaves it."""
    import pillow_heif
    from PIL import Image

    pillow_heif.register_heif_opener()
    pixels = Image.new("RGB", (64, 48), (0, 0, 255))  # RGB blue: a cat
    pixels.save(path, format="HEIF", quality=90)
    return path


HEIC_NAMED_MOV = "unreadable: IMG_10.MOV: not a video: a HEIC photo named .MOV (rename it .heic to sort it)"


def test_a_heic_photo_named_mov_beside_a_jpg_is_judged_on_its_own_by_sort(tmp_path: Path) -> None:
    # It was "moved IMG_10.JPG (+ IMG_10.MOV) -> dogs/IMG_10.JPG": a cat photo carried along
    # as the dog photo's video, never judged. It is a second photo of the stem, so no pair.
    pytest.importorskip("pillow_heif")
    heic_named_mov(tmp_path / "IMG_10.MOV")
    write_image(tmp_path / "IMG_10.JPG", RED)
    (tmp_path / "IMG_10.AAE").write_text("<plist/>")  # of which photo? a guess: it stays

    result = sort(tmp_path, "-v")

    assert "moved IMG_10.JPG -> dogs/IMG_10.JPG (dog, 99%)" in result.stderr
    assert HEIC_NAMED_MOV in result.stderr
    assert files(tmp_path) == ["IMG_10.AAE", "IMG_10.MOV", "dogs/IMG_10.JPG"]


def test_a_heic_photo_named_mov_beside_a_jpg_is_judged_on_its_own_by_a_watch(tmp_path: Path) -> None:
    pytest.importorskip("pillow_heif")
    heic_named_mov(tmp_path / "IMG_10.MOV")
    write_image(tmp_path / "IMG_10.JPG", RED)

    results = watched_until(tmp_path, {"IMG_10.JPG", "IMG_10.MOV"})

    assert outcomes(results) == [("IMG_10.JPG", "moved", []), ("IMG_10.MOV", "unreadable", [])]
    assert files(tmp_path) == ["IMG_10.MOV", "dogs/IMG_10.JPG"]


def test_a_heic_photo_named_mov_copied_after_a_photo_of_its_stem_moved_joins_no_photo(tmp_path: Path) -> None:
    pytest.importorskip("pillow_heif")
    write_image(tmp_path / "IMG_11.JPG", RED)
    sort(tmp_path)
    heic_named_mov(tmp_path / "IMG_11.MOV")

    result = sort(tmp_path, "-v")

    assert "joined" not in result.stderr
    assert "unreadable: IMG_11.MOV: not a video: a HEIC photo named .MOV" in result.stderr
    assert files(tmp_path) == ["IMG_11.MOV", "dogs/IMG_11.JPG"]


# ------------------------------------------------------------------ how a watch counts


def test_a_watchs_first_line_counts_a_live_photos_video_with_its_photo(tmp_path: Path, monkeypatch) -> None:
    # It said "3 photo(s) and video(s) already there" of IMG_7.png, its IMG_7.MOV and a.jpg, then
    # "moved 2 file(s)": the stop line counted photos and videos, the first line companions too.
    # The stop line then left the video out, though its undo said `Restored 3 files`: it says it
    # apart now, as `sort`'s table does ("moved with their photos").
    from test_watch import watched_through_the_cli_until

    write_image(tmp_path / "IMG_7.png", RED)
    (tmp_path / "IMG_7.MOV").write_bytes(video_bytes("a Live Photo's video"))
    write_image(tmp_path / "a.jpg", BLUE)
    result = watched_through_the_cli_until(tmp_path, monkeypatch, 2)

    assert result.exit_code == 0, result.output
    lines = result.stderr.splitlines()
    assert lines[0].startswith(f"watching {tmp_path} (") and lines[0].endswith("; 2 photos and videos already there")
    assert lines[-1] == (f"stopped watching {tmp_path}: moved 2 files (cats: 1, dogs: 1) and 1 companion with its photo; "
                         f"undo with: sorter undo {tmp_path}")
    assert files(tmp_path) == ["cats/a.jpg", "dogs/IMG_7.MOV", "dogs/IMG_7.png"]
    from sorter.cli import app

    undone = runner.invoke(app, ["undo", str(tmp_path)])
    assert undone.exit_code == 0 and "Restored 3 files" in undone.output, undone.output
