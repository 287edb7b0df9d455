"""A Live Photo whose video is still being written when its photo is complete: the photo copied
in, then its `.MOV` written in pieces, the file reopened for each (`dd >>`, a resumed or chunked
transfer). A watch took the photo at once with the video's first piece; the rest made a new
`IMG_1.MOV` in its place: the video split in two broken pieces, one in cats/ and one left, and
undo could not put it back ("another file is at IMG_1.MOV now"). Now the photo waits for the
companions it takes along to be complete; one never whole is left in place, said truncated, and
the photo goes alone. A one-shot sort does not wait: it leaves such a video where it is."""

from __future__ import annotations

import hashlib
import os
import time
from pathlib import Path

import pytest
from clips import make_clip, needs_ffmpeg
from conftest import FakeClassifier, layout, wait_until, write_image
from typer.testing import CliRunner

from sorter.cli import app
from sorter.model import lite

BLUE = (255, 0, 0)  # BGR: blue = cat, to the fake model
runner = CliRunner()


@pytest.fixture(autouse=True)
def fake_model(monkeypatch) -> None:
    monkeypatch.setattr(lite, "load_classifier", lambda model: FakeClassifier())


def cat_clip(tmp_path: Path) -> bytes:
    """A real 2 s H.264 clip of a cat, as long as a Live Photo's; its index (`moov`) last."""
    frame = write_image(tmp_path / "made" / "cat.png", BLUE, size=(240, 320))
    return make_clip(tmp_path / "made" / "IMG_1.MOV", [frame], seconds=2.0).read_bytes()


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def write_in_pieces(path: Path, data: bytes, pieces: int, pause: float) -> None:
    """`data` appended to `path` piece by piece, the file opened anew for each (`dd ... >> path`)."""
    size = -(-len(data) // pieces)
    for start in range(0, len(data), size):
        with open(path, "ab") as f:
            f.write(data[start:start + size])
        time.sleep(pause)


def photo_in_as_a_watch_runs(tmp_path: Path, **settings):
    """A watch of `inbox/` started in a thread, and a cat photo `IMG_1.jpg` moved in once it runs:
    the folder, the photo's bytes, and the watch's stop event, thread and results."""
    from test_watch import run_in_thread

    from sorter.watching.watcher import WatchSettings

    root = tmp_path / "inbox"
    root.mkdir()
    photo = write_image(tmp_path / "made" / "IMG_1.jpg", BLUE)
    watch = run_in_thread(root, FakeClassifier(), settings=WatchSettings(settle=0.2, closed_grace=0.1, pair_wait=0.5,
                                                                         rescan_interval=0.5, **settings))
    assert wait_until(lambda: (root / ".sorter").exists(), 10)
    data = photo.read_bytes()
    os.rename(photo, root / "IMG_1.jpg")
    return root, data, *watch


@needs_ffmpeg
def test_a_watch_takes_a_live_photo_with_its_video_written_in_reopened_pieces_only_once_it_is_whole(
        tmp_path: Path) -> None:
    from test_videos import stopped

    clip = cat_clip(tmp_path)
    root, photo, stop, thread, results = photo_in_as_a_watch_runs(tmp_path)
    before = {"IMG_1.jpg": ("file", sha(photo)), "IMG_1.MOV": ("file", sha(clip))}
    try:
        write_in_pieces(root / "IMG_1.MOV", clip, pieces=5, pause=0.5)  # each pause longer than the photo's wait
        assert wait_until(lambda: any(r.status == "moved" for r in results), 20), results
        time.sleep(1.0)  # a scan or two more: nothing else to move
    finally:
        stopped(stop, thread, results)

    assert [(r.path.name, r.status, [c[0].name for c in r.companions]) for r in results] == [
        ("IMG_1.jpg", "moved", ["IMG_1.MOV"])]
    after = {k: v for k, v in layout(root).items() if not k.startswith(".sorter")}
    assert after == {"cats": "dir", "cats/IMG_1.jpg": before["IMG_1.jpg"], "cats/IMG_1.MOV": before["IMG_1.MOV"]}

    undone = runner.invoke(app, ["undo", str(root)])
    assert undone.exit_code == 0, undone.output
    assert "kept" not in undone.output
    assert {k: v for k, v in layout(root).items() if not k.startswith(".sorter")} == before


@needs_ffmpeg
def test_a_watch_sends_the_photo_alone_once_its_video_stays_cut_short_and_says_the_video_truncated(
        tmp_path: Path) -> None:
    from test_videos import stopped

    clip = cat_clip(tmp_path)
    root, _, stop, thread, results = photo_in_as_a_watch_runs(tmp_path, video_index_wait=2.0, unreadable_wait=0.5)
    try:
        (root / "IMG_1.MOV").write_bytes(clip[:len(clip) // 2])  # the copy stopped half way, for good
        assert wait_until(lambda: len(results) >= 2, 20), results
    finally:
        stopped(stop, thread, results)

    assert sorted((r.path.name, r.status, [c[0].name for c in r.companions]) for r in results) == [
        ("IMG_1.MOV", "unreadable", []), ("IMG_1.jpg", "moved", [])]
    video = next(r for r in results if r.path.name == "IMG_1.MOV")
    assert video.reason.startswith("truncated MP4"), video.reason
    assert (root / "IMG_1.MOV").read_bytes() == clip[:len(clip) // 2]  # left where it is, as it is
    assert sorted(os.listdir(root / "cats")) == ["IMG_1.jpg"]


@needs_ffmpeg
def test_a_sort_leaves_a_live_photos_video_still_being_written_in_place_and_moves_the_photo_alone(
        tmp_path: Path) -> None:
    clip = cat_clip(tmp_path)
    root = tmp_path / "inbox"
    root.mkdir()
    write_image(root / "IMG_1.jpg", BLUE)
    (root / "IMG_1.MOV").write_bytes(clip[:len(clip) // 3])  # its first piece only, so far

    result = runner.invoke(app, ["sort", str(root)])

    assert result.exit_code == 0, result.output
    assert "truncated MP4 (its 'mdat' box runs past the" in result.stdout
    assert "Videos: 0 moved, 1 left in place (unreadable: 1)" in result.stdout
    assert sorted(os.listdir(root)) == [".sorter", "IMG_1.MOV", "cats"]
    assert sorted(os.listdir(root / "cats")) == ["IMG_1.jpg"]
    with open(root / "IMG_1.MOV", "ab") as f:  # the rest of it: the next sort joins it to its photo
        f.write(clip[len(clip) // 3:])
    again = runner.invoke(app, ["sort", str(root)])
    assert again.exit_code == 0, again.output
    assert sorted(os.listdir(root / "cats")) == ["IMG_1.MOV", "IMG_1.jpg"]
    assert (root / "cats" / "IMG_1.MOV").read_bytes() == clip
