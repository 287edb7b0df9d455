"""Pet videos (issue 19): real clips encoded by ffmpeg in the test, sorted through the real
sort path. Coloured clips with the fake classifier pin the rules (frames, decision,
companions, bad input, undo); clips made from the dataset's photos measure the real model."""

from __future__ import annotations

import json
import os
import struct
import time
from pathlib import Path

import numpy as np
import pytest
from clips import make_clip, needs_ffmpeg
from conftest import DATASET, ThreeClassFake, needs_dataset, needs_shared, shared_dataset, write_image
from typer.testing import CliRunner

from sorter.cli import app
from sorter.errors import ImageError
from sorter.files.undo import undo
from sorter.media import container, videos
from sorter.sorting.sort import sort_folder

pytestmark = needs_ffmpeg
runner = CliRunner(env={"COLUMNS": "160"})

RED, GREEN, BLUE = (0, 0, 255), (0, 255, 0), (255, 0, 0)  # BGR: a dog, neither, a cat to ThreeClassFake


@pytest.fixture(scope="module")
def colours(tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("colours")
    return {name: write_image(folder / f"{name}.png", colour, size=(240, 320))
            for name, colour in (("dog", RED), ("other", GREEN), ("cat", BLUE))}


def sort(root: Path, **kwargs):
    results = []
    summary = sort_folder(root, classifier=ThreeClassFake(), on_result=results.append, **kwargs)
    return summary, {r.path.name: r for r in results}


def test_videos_are_sorted_from_frames_spread_over_the_clip(tmp_path: Path, colours) -> None:
    make_clip(tmp_path / "walk.mp4", [colours["dog"]])
    make_clip(tmp_path / "IMG_0001.MOV", [colours["cat"]], codec="hevc")
    make_clip(tmp_path / "garden.M4V", [colours["other"]])
    # The pet only in the second half: still a pet video.
    make_clip(tmp_path / "then_a_dog.mp4", [colours["other"], colours["dog"]])
    summary, results = sort(tmp_path)
    assert (tmp_path / "dogs" / "walk.mp4").is_file() and (tmp_path / "dogs" / "then_a_dog.mp4").is_file()
    assert (tmp_path / "cats" / "IMG_0001.MOV").is_file()
    assert (tmp_path / "garden.M4V").is_file() and results["garden.M4V"].status == "neither"
    assert results["walk.mp4"].frames == videos.FRAMES and results["IMG_0001.MOV"].frames == videos.FRAMES
    assert results["walk.mp4"].to_json()["kind"] == "video" and results["walk.mp4"].to_json()["frames"] == 8
    assert results["then_a_dog.mp4"].label == "dog"
    assert summary.videos == {"moved": 3, "neither": 1}


def test_only_the_keyframes_are_decoded(tmp_path: Path, colours) -> None:
    clip = make_clip(tmp_path / "a.mp4", [colours["dog"]], seconds=10, fps=10)  # 100 frames, 10 keyframes
    fd = os.open(clip, os.O_RDONLY)
    try:
        info = container.probe(fd)
    finally:
        os.close(fd)
    assert info.track is not None and info.track.codec == "h264" and len(info.track.keyframes) >= 10
    chosen = videos._chosen_keyframes(info.track, videos.FRAMES)
    assert len(chosen) == 8 and chosen[0] < 20 and chosen[-1] >= 80  # spread over the whole clip
    assert videos.load_frames(clip, 32).shape == (8, 32, 32, 3)


def test_other_containers_and_long_gops_are_decoded_front_to_back(tmp_path: Path, colours) -> None:
    webm = make_clip(tmp_path / "a.webm", [colours["other"], colours["dog"]],
                     extra=["-c:v", "libvpx", "-deadline", "realtime", "-b:v", "200k"])
    long_gop = make_clip(tmp_path / "b.mp4", [colours["other"], colours["dog"]], gop=250)
    for clip in (webm, long_gop):
        frames = videos.load_frames(clip, 32)
        assert len(frames) == 8
        assert frames[-1][..., 0].mean() > 200 and frames[0][..., 1].mean() > 200  # green first, red last (RGB)


def test_rotation_from_the_container_is_applied(tmp_path: Path, colours) -> None:
    """A phone held upright records landscape frames and a 90 degree display matrix in tkhd."""
    import cv2

    clip = make_clip(tmp_path / "portrait.mp4", [colours["dog"]])
    data = bytearray(clip.read_bytes())
    tkhd = _find(bytes(data), b"moov", b"trak", b"tkhd")
    data[tkhd[1] - 44: tkhd[1] - 32] = struct.pack(">iii", 0, 0x10000, 0)  # a, b, u
    data[tkhd[1] - 32: tkhd[1] - 20] = struct.pack(">iii", -0x10000, 0, 0)  # c, d, v
    clip.write_bytes(bytes(data))
    frame = videos.middle_frame(clip, 128)
    assert frame.shape[:2] == (128, 96)  # 320x240 recorded, shown upright: taller than wide
    ok, theirs = cv2.VideoCapture(str(clip)).read()  # OpenCV reading the container agrees
    assert ok and theirs.shape[:2] == (320, 240)


def test_a_video_moves_with_its_companions_and_undo_puts_them_back(tmp_path: Path, colours) -> None:
    make_clip(tmp_path / "DJI_0001.MP4", [colours["dog"]])
    for name in ("DJI_0001.SRT", "DJI_0001.THM", "DJI_0001.LRV", "DJI_0001.MP4.json", "DJI_0001.xmp"):
        (tmp_path / name).write_text("x")
    summary, results = sort(tmp_path)
    moved = sorted(p.name for p in (tmp_path / "dogs").iterdir())
    assert moved == ["DJI_0001.LRV", "DJI_0001.MP4", "DJI_0001.MP4.json", "DJI_0001.SRT", "DJI_0001.THM",
                     "DJI_0001.xmp"]
    assert summary.companions == 5
    undo(tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir() if p.name != ".sorter") == moved


def test_a_live_photos_video_follows_its_photo_and_is_not_judged(tmp_path: Path, colours) -> None:
    write_image(tmp_path / "IMG_0002.JPG", BLUE)
    make_clip(tmp_path / "IMG_0002.MOV", [colours["dog"]])  # a dog to the fake: were it judged, dogs/
    summary, results = sort(tmp_path)
    assert sorted(p.name for p in (tmp_path / "cats").iterdir()) == ["IMG_0002.JPG", "IMG_0002.MOV"]
    assert "IMG_0002.MOV" not in results and not (tmp_path / "dogs").exists()


def _boxes(data: bytes, start: int, end: int):
    pos = start
    while pos + 8 <= end:
        size, kind = struct.unpack(">I4s", data[pos:pos + 8])
        yield kind, pos, pos + size
        pos += size


def _find(data: bytes, *kinds: bytes) -> tuple[int, int]:
    start, end = 0, len(data)
    for kind in kinds:
        start, end = next((s, e) for k, s, e in _boxes(data, start + (8 if start else 0), end) if k == kind)
    return start, end


def bad_videos(folder: Path, colours) -> dict[str, str]:
    """Each bad video, by name, with the start of the reason it must be left in place for."""
    clip = make_clip(folder / "good.mp4", [colours["dog"]]).read_bytes()
    (folder / "good.mp4").unlink()
    (folder / "truncated.mp4").write_bytes(clip[: len(clip) // 2])
    moov = _find(clip, b"moov")
    (folder / "no_index.mp4").write_bytes(clip[: moov[0]] + clip[moov[1]:])
    (folder / "notes.MOV").write_text("not a video at all\n")
    (folder / "empty.mp4").write_bytes(b"")
    os.mkfifo(folder / "pipe.mp4")
    huge = bytearray(clip)
    tkhd = _find(clip, b"moov", b"trak", b"tkhd")
    huge[tkhd[1] - 8: tkhd[1]] = struct.pack(">II", 20000 << 16, 20000 << 16)
    (folder / "huge.mp4").write_bytes(bytes(huge))
    long = bytearray(clip)
    mvhd = _find(clip, b"moov", b"mvhd")
    timescale = struct.unpack(">I", clip[mvhd[0] + 20: mvhd[0] + 24])[0]
    long[mvhd[0] + 24: mvhd[0] + 28] = struct.pack(">I", min(2**32 - 1, timescale * 25 * 3600))
    (folder / "long.mp4").write_bytes(bytes(long))
    # Every frame as large as the file, by its index (stsz's one size for all), in a clip with a
    # keyframe a second, whose keyframes are read from the file by that index.
    keyed = make_clip(folder / "doctored.mp4", [colours["dog"]], seconds=10).read_bytes()
    doctored = bytearray(keyed)
    stsz = _find(keyed, b"moov", b"trak", b"mdia", b"minf", b"stbl", b"stsz")
    doctored[stsz[0] + 12: stsz[0] + 16] = struct.pack(">I", len(keyed))
    (folder / "doctored.mp4").write_bytes(bytes(doctored))
    return {
        "truncated.mp4": "truncated MP4", "no_index.mp4": "truncated MP4 (no moov index)",
        "notes.MOV": "not a video", "empty.mp4": "empty file", "pipe.mp4": "not a regular file",
        "huge.mp4": "video too large", "long.mp4": "video too long",
        "doctored.mp4": "not a readable video (its index says its frames are larger than the file)",
    }


def test_bad_videos_are_left_in_place_with_their_reason(tmp_path: Path, colours) -> None:
    expected = bad_videos(tmp_path, colours)
    summary, results = sort(tmp_path)
    for name, reason in expected.items():
        assert results[name].status in ("unreadable", "skipped"), name
        assert results[name].reason.startswith(reason), (name, results[name].reason)
        assert os.path.lexists(tmp_path / name)
    assert not (tmp_path / "cats").exists() and not (tmp_path / "dogs").exists()


def test_bad_videos_through_the_cli_exit_0_without_a_traceback(tmp_path: Path, colours) -> None:
    expected = bad_videos(tmp_path, colours)
    result = runner.invoke(app, ["sort", str(tmp_path), "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert {Path(f["path"]).name for f in report["files"]} == set(expected)
    assert all(f["kind"] == "video" and f["reason"] for f in report["files"])
    assert "Traceback" not in result.output


def test_a_video_over_its_time_limit_is_left_with_a_reason(tmp_path: Path, colours, monkeypatch) -> None:
    make_clip(tmp_path / "slow.mp4", [colours["dog"]])
    make_clip(tmp_path / "slow.webm", [colours["dog"]], extra=["-c:v", "libvpx", "-deadline", "realtime"])
    monkeypatch.setattr(videos, "SECONDS_PER_VIDEO", 0.0)
    for clip in ("slow.mp4", "slow.webm"):  # keyframes from the index; front to back
        with pytest.raises(ImageError, match="took too long"):
            videos.load_frames(tmp_path / clip, 32)


def test_the_decision_needs_a_quarter_of_the_frames_and_votes_cat_or_dog() -> None:
    names = ("cat", "dog", "other")
    other, cat, dog = [0.05, 0.05, 0.9], [0.9, 0.05, 0.05], [0.1, 0.85, 0.05]
    doubtful = [0.1, 0.5, 0.4]  # a dog at 50 %: not a frame that shows a pet
    assert videos.decide(np.array([other] * 7 + [dog]), names).label == "other"  # one odd frame
    assert videos.decide(np.array([other] * 4 + [doubtful] * 4), names).label == "other"
    verdict = videos.decide(np.array([other] * 6 + [dog] * 2), names)
    assert (verdict.label, verdict.pet_frames, verdict.frames) == ("dog", 2, 8)
    assert verdict.confidence == pytest.approx(0.85)
    assert videos.decide(np.array([cat] * 3 + [dog] * 2 + [other] * 3), names).label == "cat"


# --------------------------------------------------------------------------- the real model

EVERYDAY = shared_dataset("everyday-not-pets")


@needs_dataset
@needs_shared("everyday-not-pets", "people")
def test_real_clips_pets_into_their_folder_people_and_places_left(tmp_path: Path) -> None:
    """20 pet clips (a third of them a place first, the pet only in the second half) and 20
    clips of people and places, H.264 and HEVC: the issue's targets, >= 95 % each.

    The people and places are photos the model leaves in place as stills: what is measured
    is that a video is judged as its photos are. (The photo model's own judgment of people is
    issue 17's: tests/test_bundled_model.py and benchmarks/camera_roll.py.)"""
    from sorter.media.images import load_image
    from sorter.model import lite

    rng = np.random.default_rng(19)
    cats = [DATASET / "Cat" / f"{i}.jpg" for i in rng.choice(5000, 10, replace=False)]
    dogs = [DATASET / "Dog" / f"{i}.jpg" for i in rng.choice(5000, 10, replace=False)]
    scenes = sorted((EVERYDAY / "people").glob("*.jpg")) + sorted((EVERYDAY / "places").glob("*.jpg"))
    scenes = [scenes[i] for i in rng.choice(len(scenes), 60, replace=False)]
    model = lite.load_classifier(None)
    still = model.predict(np.stack([load_image(p, model.image_size) for p in scenes])).argmax(axis=1)
    scenes = [p for p, top in zip(scenes, still, strict=True) if model.class_names[top] == "other"][:30]
    assert len(scenes) == 30
    expected = {}
    for i, photo in enumerate(cats + dogs):
        codec = "hevc" if i % 2 else "h264"
        photos = [scenes[20 + i % 10], photo] if i % 3 == 0 else [photo]
        name = f"pet_{i}.{'mov' if codec == 'hevc' else 'mp4'}"
        make_clip(tmp_path / name, photos, codec=codec, seconds=1.5)
        expected[name] = "cats" if photo.parent.name == "Cat" else "dogs"
    for i, scene in enumerate(scenes[:20]):
        codec = "hevc" if i % 2 else "h264"
        name = f"scene_{i}.{'mov' if codec == 'hevc' else 'mp4'}"
        make_clip(tmp_path / name, [scene, scenes[(i + 1) % 20]] if i % 4 == 0 else [scene], codec=codec, seconds=1.5)
        expected[name] = "."
    results = []
    sort_folder(tmp_path, on_result=results.append)
    where = {r.path.name: (r.destination.parent.name if r.destination else ".") for r in results}
    pets = [n for n, folder in expected.items() if folder != "."]
    right = sum(where[n] == expected[n] for n in pets)
    left = sum(where[n] == "." for n in expected if expected[n] == ".")
    assert all(r.frames >= 3 for r in results), [(r.path.name, r.frames) for r in results]
    assert right >= 0.95 * len(pets), {n: where[n] for n in pets if where[n] != expected[n]}
    assert left >= 0.95 * 20, {n: where[n] for n in expected if expected[n] == "." and where[n] != "."}


# --------------------------------------------------------------------------- watch


def watching(root: Path):
    """`service.watch_folder` on a thread (see test_watch.py), settled quickly."""
    from test_watch import run_in_thread

    from sorter.watching.watcher import WatchSettings

    return run_in_thread(root, ThreeClassFake(), settings=WatchSettings(settle=0.2, rescan_interval=0.3, pair_wait=0.2))


def stopped(stop, thread, results) -> list:
    stop.set()
    thread.join(10)
    assert not thread.is_alive() and not [r for r in results if isinstance(r, BaseException)], results
    return results


def test_watch_sorts_a_video_only_once_its_index_is_written(tmp_path: Path, colours) -> None:
    from test_watch import wait_until

    clip = make_clip(tmp_path.parent / f"{tmp_path.name}-clip.mp4", [colours["dog"]]).read_bytes()
    moov = _find(clip, b"moov")
    assert moov[1] == len(clip)  # ffmpeg writes the index last, as a camera does
    stop, thread, results = watching(tmp_path)
    try:
        assert wait_until(lambda: (tmp_path / ".sorter").exists(), 10)
        with open(tmp_path / "recording.mp4", "wb") as f:
            f.write(clip[: moov[0]])  # every frame, but no index yet
        time.sleep(1.5)  # settled several times over: still not taken
        assert (tmp_path / "recording.mp4").exists() and not results
        with open(tmp_path / "recording.mp4", "ab") as f:
            f.write(clip[moov[0]:])
        assert wait_until(lambda: (tmp_path / "dogs" / "recording.mp4").exists(), 10), results
    finally:
        results = stopped(stop, thread, results)
    assert [(r.path.name, r.status, r.frames) for r in results] == [("recording.mp4", "moved", 8)], [
        (r.status, r.reason) for r in results]


def test_a_video_whose_index_is_written_as_it_is_read_is_not_handed_out_with_its_size_of_before(
        tmp_path: Path) -> None:
    # CI, once in a dozen: the index written between the watcher's lstat and its read of the
    # file (which found it whole), the video was judged with the lstat of before, its move
    # refused as "changed since it was judged", and it was judged again.
    from sorter.watching.watcher import Watcher, WatchSettings

    video = tmp_path / "recording.mp4"
    video.write_bytes(b"\0" * 1000)
    watcher = Watcher(tmp_path, settings=WatchSettings(settle=0.05, closed_grace=0.0, pair_wait=0.0))
    watcher.scan()
    time.sleep(0.1)  # settled

    def index_written_meanwhile(path: Path) -> bool:
        with open(path, "ab") as f:
            f.write(b"moov")
        return False  # whole, as read

    watcher._incomplete = index_written_meanwhile
    assert watcher.take_ready(64) == []  # changed as it was read: not yet
    watcher._incomplete = lambda path: False
    for _ in range(20):
        time.sleep(0.1)
        if ready := watcher.take_ready(64):
            break
    assert ready == [video] and watcher.handed[video].st_size == 1004  # as it is now


def test_watch_takes_a_few_videos_a_batch_so_a_review_click_never_waits_long(tmp_path: Path, colours) -> None:
    """A batch holds the folder's lock while it is judged; a video takes a few hundred
    milliseconds, so a burst of videos goes a few at a time (the photos with them as ever)."""
    import shutil

    from sorter.watching.settling import VIDEOS_PER_BATCH
    from sorter.watching.watcher import Watcher, WatchSettings

    clip = make_clip(tmp_path.parent / f"{tmp_path.name}-clip.mp4", [colours["dog"]])
    for n in range(10):
        shutil.copy(clip, tmp_path / f"VID_{n}.mp4")
        write_image(tmp_path / f"IMG_{n}.jpg", RED)
    with Watcher(tmp_path, settings=WatchSettings(settle=0.0, rescan_interval=0.3, pair_wait=0.0)) as watcher:
        watcher.scan_if_due()
        time.sleep(0.1)
        batches = [watcher.take_ready(64) for _ in range(4)]
    videos = [sorted(p.name for p in batch if p.suffix == ".mp4") for batch in batches]
    assert [len(v) for v in videos] == [VIDEOS_PER_BATCH, VIDEOS_PER_BATCH, 2, 0] == [4, 4, 2, 0]
    assert sorted(p.name for p in batches[0] if p.suffix == ".jpg") == sorted(f"IMG_{n}.jpg" for n in range(10))


def test_watch_companions_arriving_after_their_photo_join_it(tmp_path: Path, colours) -> None:
    from test_watch import wait_until

    write_image(tmp_path / "cats" / "IMG_0007.JPG", BLUE)  # the photo's name is taken in cats/
    stop, thread, results = watching(tmp_path)
    try:
        write_image(tmp_path / "IMG_0007.JPG", BLUE)
        assert wait_until(lambda: (tmp_path / "cats" / "IMG_0007 (1).JPG").exists(), 10), results
        # Then its Live Photo video (a dog to the fake: were it judged, dogs/), edits and sidecar.
        make_clip(tmp_path.parent / "late.MOV", [colours["dog"]]).rename(tmp_path / "IMG_0007.MOV")
        (tmp_path / "IMG_0007.AAE").write_text("<plist/>")
        (tmp_path / "IMG_0007.JPG.xmp").write_text("<x:xmpmeta/>")
        joined = {"IMG_0007 (1).MOV", "IMG_0007 (1).AAE", "IMG_0007 (1).JPG.xmp"}
        assert wait_until(lambda: joined <= {p.name for p in (tmp_path / "cats").iterdir()}, 10), results
    finally:
        results = stopped(stop, thread, results)
    assert sorted((r.path.name, r.status) for r in results) == [
        ("IMG_0007.AAE", "joined"), ("IMG_0007.JPG", "moved"), ("IMG_0007.JPG.xmp", "joined"),
        ("IMG_0007.MOV", "joined"),
    ]
    assert not (tmp_path / "dogs").exists()
    undo(tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir() if p.is_file()) == [
        "IMG_0007.AAE", "IMG_0007.JPG", "IMG_0007.JPG.xmp", "IMG_0007.MOV",
    ]


def test_watch_keeps_a_live_photo_whole_when_its_video_comes_first(tmp_path: Path, colours) -> None:
    """Phones and sync tools copy a Live Photo's .MOV before its photo as often as after: the
    video waits for its photo (`pair_wait`) and goes where the photo goes, whatever it shows."""
    from test_watch import run_in_thread, wait_until

    from sorter.watching.watcher import WatchSettings

    settings = WatchSettings(settle=0.2, rescan_interval=0.3, pair_wait=3.0)
    stop, thread, results = run_in_thread(tmp_path, ThreeClassFake(), settings=settings)
    try:
        make_clip(tmp_path.parent / "first.MOV", [colours["cat"]]).rename(tmp_path / "IMG_0021.MOV")
        time.sleep(1.0)  # complete and settled, but waiting for a photo
        write_image(tmp_path / "IMG_0021.JPG", RED)  # a dog
        make_clip(tmp_path.parent / "alone.MOV", [colours["cat"]]).rename(tmp_path / "IMG_0022.MOV")  # no photo comes
        assert wait_until(lambda: (tmp_path / "cats" / "IMG_0022.MOV").exists(), 10), results
    finally:
        results = stopped(stop, thread, results)
    assert sorted((r.path.name, r.status, r.destination.parent.name) for r in results) == [
        ("IMG_0021.JPG", "moved", "dogs"), ("IMG_0022.MOV", "moved", "cats"),
    ]
    assert (tmp_path / "dogs" / "IMG_0021.MOV").is_file()


def test_watch_sorts_a_video_longer_than_a_live_photos_without_waiting_for_a_photo(tmp_path: Path, colours) -> None:
    """A Live Photo's video lasts about 3 s: a phone's 6 s video of the cat is a video of its
    own, and waited 10 s (`pair_wait`) for a photo that never comes."""
    from test_watch import run_in_thread, wait_until

    from sorter.watching.watcher import WatchSettings

    settings = WatchSettings(settle=0.2, rescan_interval=0.3, pair_wait=60.0)
    stop, thread, results = run_in_thread(tmp_path, ThreeClassFake(), settings=settings)
    try:
        make_clip(tmp_path.parent / "long.MOV", [colours["cat"]], seconds=6.0).rename(tmp_path / "IMG_0041.MOV")
        make_clip(tmp_path.parent / "live.MOV", [colours["cat"]]).rename(tmp_path / "IMG_0042.MOV")  # 2 s
        assert wait_until(lambda: (tmp_path / "cats" / "IMG_0041.MOV").exists(), 20), results
        assert (tmp_path / "IMG_0042.MOV").is_file()  # may be a Live Photo's: waits for its photo
    finally:
        results = stopped(stop, thread, results)
    assert [(r.path.name, r.status) for r in results] == [("IMG_0041.MOV", "moved")]


def test_watch_counts_a_video_left_in_place_where_it_stays_once_its_photo_comes(tmp_path: Path, colours) -> None:
    """A video judged alone (neither) once its photo's wait was over, and left, then a photo of its
    stem: no Live Photo's video of it, it stays where it is (it was taken along, and counted with
    its photo), and the photo moves alone. The summary counts each once, where it ended."""
    import threading

    from test_watch import wait_until

    from sorter.watching import watch
    from sorter.watching.watcher import WatchSettings

    stop, box, results = threading.Event(), {}, []
    settings = WatchSettings(settle=0.2, rescan_interval=0.3, pair_wait=0.2)
    thread = threading.Thread(target=lambda: box.update(summary=watch.watch_folder(
        tmp_path, classifier=ThreeClassFake(), stop=stop, on_result=results.append, settings=settings)))
    thread.start()
    try:
        make_clip(tmp_path.parent / "still.MOV", [colours["other"]]).rename(tmp_path / "IMG_0030.MOV")
        assert wait_until(lambda: [r.status for r in results] == ["neither"], 10), results
        write_image(tmp_path / "IMG_0030.JPG", RED)
        assert wait_until(lambda: (tmp_path / "dogs" / "IMG_0030.JPG").exists(), 10), results
        time.sleep(0.5)  # more scans
    finally:
        stop.set()
        thread.join(10)
    assert (tmp_path / "IMG_0030.MOV").is_file() and not (tmp_path / "dogs" / "IMG_0030.MOV").exists()
    assert box["summary"].counts == {"moved": 1, "neither": 1}, box["summary"]
    assert box["summary"].videos == {"neither": 1}, box["summary"]


def test_watch_judges_a_late_video_of_two_photos_on_its_own(tmp_path: Path, colours) -> None:
    """IMG_1.MOV arriving after IMG_1.PNG went to cats/ and IMG_1.JPG to dogs/: whose it is
    cannot be told, so it joins neither and is judged as the video it is, as `sort` run again
    judges it (it was left where it was, in no line and no count); its .AAE is left alone."""
    from test_watch import wait_until

    stop, thread, results = watching(tmp_path)
    try:
        write_image(tmp_path / "IMG_0010.PNG", BLUE)
        write_image(tmp_path / "IMG_0010.JPG", RED)
        assert wait_until(lambda: (tmp_path / "dogs" / "IMG_0010.JPG").exists(), 10), results
        assert wait_until(lambda: (tmp_path / "cats" / "IMG_0010.PNG").exists(), 10), results
        make_clip(tmp_path.parent / "late.MOV", [colours["cat"]]).rename(tmp_path / "IMG_0010.MOV")
        (tmp_path / "IMG_0010.AAE").write_text("<plist/>")
        (tmp_path / "IMG_0010.JPG.xmp").write_text("<x:xmpmeta/>")  # named after one of them: follows it
        assert wait_until(lambda: (tmp_path / "dogs" / "IMG_0010.JPG.xmp").exists(), 10), results
        # Beside the cat photo of its stem under a name of its own, not to pair with it.
        assert wait_until(lambda: (tmp_path / "cats" / "IMG_0010 (1).MOV").exists(), 10), results
        time.sleep(1.0)  # several rescans
    finally:
        results = stopped(stop, thread, results)
    assert (tmp_path / "IMG_0010.AAE").is_file()
    assert sorted((r.path.name, r.status) for r in results) == [
        ("IMG_0010.JPG", "moved"), ("IMG_0010.JPG.xmp", "joined"), ("IMG_0010.MOV", "moved"), ("IMG_0010.PNG", "moved"),
    ]


def test_watch_judges_a_late_video_over_5_seconds_on_its_own(tmp_path: Path, colours) -> None:
    """A Live Photo's video lasts about 3 s: a 6 s cat video copied in after the dog photo of its
    stem was sorted had joined it, into dogs/, unlooked at (`container.may_be_live_photos`)."""
    from test_watch import wait_until

    stop, thread, results = watching(tmp_path)
    try:
        write_image(tmp_path / "IMG_0050.JPG", RED)
        assert wait_until(lambda: (tmp_path / "dogs" / "IMG_0050.JPG").exists(), 10), results
        make_clip(tmp_path.parent / "long.MOV", [colours["cat"]], seconds=6.0).rename(tmp_path / "IMG_0050.MOV")
        assert wait_until(lambda: (tmp_path / "cats" / "IMG_0050.MOV").exists(), 20), results
    finally:
        results = stopped(stop, thread, results)
    assert [(r.path.name, r.status) for r in results] == [("IMG_0050.JPG", "moved"), ("IMG_0050.MOV", "moved")]
    assert sorted(os.listdir(tmp_path / "dogs")) == ["IMG_0050.JPG"]


def test_watch_knows_from_the_journal_where_an_earlier_sort_put_the_photo(tmp_path: Path, colours) -> None:
    from test_watch import wait_until

    write_image(tmp_path / "IMG_0008.HEIC.png", RED)  # any photo: the fake calls red a dog
    sort(tmp_path)
    assert (tmp_path / "dogs" / "IMG_0008.HEIC.png").exists()
    stop, thread, results = watching(tmp_path)
    try:
        (tmp_path / "IMG_0008.HEIC.png.xmp").write_text("<x:xmpmeta/>")
        (tmp_path / "unrelated.xmp").write_text("<x:xmpmeta/>")  # no photo of that name: stays
        assert wait_until(lambda: (tmp_path / "dogs" / "IMG_0008.HEIC.png.xmp").exists(), 10), results
        time.sleep(0.5)
    finally:
        results = stopped(stop, thread, results)
    assert [(r.path.name, r.status) for r in results] == [("IMG_0008.HEIC.png.xmp", "joined")]
    assert (tmp_path / "unrelated.xmp").exists()


def test_cli_verbose_summary_and_review_page_show_videos(tmp_path: Path, colours) -> None:
    """Through the CLI with the bundled model: whatever it makes of coloured clips, each
    video's line says how many frames it was judged from, and the summary counts videos."""
    make_clip(tmp_path / "clip.mp4", [colours["dog"]], seconds=3)
    (tmp_path / "notes.MOV").write_text("not a video\n")
    result = runner.invoke(app, ["sort", str(tmp_path), "--verbose"])
    assert result.exit_code == 0, result.output
    assert "video, 8 frames, " in result.stderr
    assert "unreadable: notes.MOV (video): not a video (unrecognised container)" in result.stderr
    assert "Videos: " in result.stdout and "unreadable: 1" in result.stdout
    page = (tmp_path / ".sorter" / "review.html").read_text()
    # The clip's mark, with its duration from the index; notes.MOV is "not a video": no mark (`page._card`).
    assert page.count("&#9654; video") == 1 and "&#9654; video 0:03" in page
    assert page.count("data:image/jpeg") == 1  # the middle frame of the clip; the text file has none


def test_a_damaged_index_costs_one_file_never_the_run(tmp_path: Path, colours) -> None:
    """Bytes of the moov index changed at random: each file decodes or is refused with a
    reason, never an exception, a hang or a crash (300 such files ran in 2.7 s when measured)."""
    from sorter.model.inference import _decode

    clip = make_clip(tmp_path / "clip.mp4", [colours["dog"]]).read_bytes()
    moov = _find(clip, b"moov")
    rng = np.random.default_rng(0)
    for i in range(40):
        data = bytearray(clip)
        for pos in rng.integers(moov[0], moov[1], 1 + i % 8):
            data[pos] = int(rng.integers(256))
        (tmp_path / "damaged.mp4").write_bytes(bytes(data))
        result = _decode(tmp_path / "damaged.mp4", 32)
        assert isinstance(result, str) and result.isprintable() or result.shape[1:] == (32, 32, 3)


def test_a_file_of_countless_tiny_boxes_is_refused_without_walking_them_all(tmp_path: Path) -> None:
    """An MP4 whose brands name a HEIF image too is looked into box by box (is it a photo named
    as a video?): 32 MiB of 8-byte boxes took 7 s at each look of the review page."""
    ftyp = struct.pack(">I4s4sI4s4s", 24, b"ftyp", b"isom", 0, b"isom", b"mif1")
    boxes = tmp_path / "boxes.mp4"
    boxes.write_bytes(ftyp + struct.pack(">I4s", 8, b"free") * (container.MAX_TOP_BOXES + 1))
    assert container.photo_inside(boxes) is None  # a video's name, no photo's inside: left to the video reader
    with open(boxes, "rb") as file, pytest.raises(ImageError, match="more than 200,000 top-level MP4 boxes"):
        container.probe(file.fileno(), ".mp4")
