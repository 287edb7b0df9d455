"""Every file a sort looked at is said: the video of a photo that cannot be read stays with it,
in its line, its `--json` entry and the summary's counts, by `sort` and `watch` alike; and a
video under a photo's name (`.heic`, `.jpg`) is said to be one, as a photo named `.MOV` is."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from clips import make_clip, needs_ffmpeg
from conftest import cli_sort, write_image

BLUE = (255, 0, 0)  # BGR: blue = cat

pytestmark = [pytest.mark.usefixtures("fake_classifier_loaded"), needs_ffmpeg]


def cat_clip(path: Path) -> Path:
    """A real 1 s H.264 MP4 of a cat (blue, for the fake model), made aside and moved in."""
    aside = path.parent.parent / f"{path.parent.name}-made"
    aside.mkdir(exist_ok=True)
    frame = write_image(aside / "cat.png", BLUE, size=(240, 320))
    return make_clip(aside / "clip.mp4", [frame], seconds=1.0).rename(path)


def truncated_heic(path: Path) -> Path:
    """A real HEIC photo cut short, as a copy broken off leaves it: its boxes say more than is there."""
    import numpy as np
    import pillow_heif
    from PIL import Image

    pillow_heif.register_heif_opener()
    pixels = np.random.default_rng(7).integers(0, 256, (240, 320, 3), dtype=np.uint8)  # noise: no tiny file
    Image.fromarray(pixels).save(path, format="HEIF", quality=90)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    return path


def folder_with_an_unreadable_live_photo(root: Path) -> Path:
    root.mkdir()
    truncated_heic(root / "IMG_0011.HEIC")
    cat_clip(root / "IMG_0011.MP4")
    return root


def rows(table: str) -> list[list[str]]:
    """The summary table's rows, each cell stripped."""
    return [[cell.strip() for cell in line.split("│")[1:-1]] for line in table.splitlines() if line.startswith("│")]


UNREADABLE_LINE = "unreadable: IMG_0011.HEIC: truncated HEIC (shorter than its boxes say); IMG_0011.MP4 stays with it"


def test_an_unreadable_photos_video_is_said_to_stay_with_it(tmp_path: Path) -> None:
    # QA 49: the video was in no line, and the photo's --json entry had "companions": [], as if
    # the sort had never looked at it. It stays with its photo (README), and now says so.
    pytest.importorskip("pillow_heif")
    root = folder_with_an_unreadable_live_photo(tmp_path / "roll")

    verbose = cli_sort(root, "--verbose")
    assert UNREADABLE_LINE in verbose.stderr.splitlines()
    assert ["left with their photos", "companions", "1"] in rows(verbose.stdout)

    report = json.loads(cli_sort(root, "--json").stdout)
    (photo,) = report["files"]
    assert photo["status"] == "unreadable"
    assert photo["companions"] == [{"path": str(root / "IMG_0011.MP4"), "destination": None}]
    assert report["counts"] == {"unreadable": 1}
    assert report["companions"] == 0 and report["companions_left"] == 1

    lines = [json.loads(line) for line in cli_sort(root, "--jsonl").stdout.splitlines()]
    assert lines[0]["companions"] == photo["companions"]
    assert lines[-1]["summary"]["companions_left"] == 1
    assert sorted(p.name for p in root.iterdir() if p.is_file()) == ["IMG_0011.HEIC", "IMG_0011.MP4"]


def test_a_watchs_stop_line_counts_an_unreadable_photos_video(tmp_path: Path, monkeypatch) -> None:
    pytest.importorskip("pillow_heif")
    from test_watch import watched_through_the_cli_until

    root = folder_with_an_unreadable_live_photo(tmp_path / "roll")
    result = watched_through_the_cli_until(root, monkeypatch, 1)

    assert result.exit_code == 0, result.output
    assert UNREADABLE_LINE in result.stderr
    assert result.stderr.splitlines()[-1] == (
        f"stopped watching {root}: moved 0 files; 1 left in place (unreadable: 1); "
        "1 companion left in place with its photo")


@pytest.mark.parametrize(("name", "said"), [
    ("clip.heic", "not a photo: a video named .heic (rename it .mp4 to sort it)"),
    ("clip.jpg", "not a photo: a video named .jpg (rename it .mp4 to sort it)"),
    ("clip.PNG", "not a photo: a video named .PNG (rename it .mp4 to sort it)"),
])
def test_a_video_named_as_a_photo_says_what_it_is(tmp_path: Path, name: str, said: str) -> None:
    # It said "not a readable image (corrupt or unsupported format)" of a valid H.264 MP4: the
    # file is not corrupt. A HEIC photo named .MOV already said "not a video: a HEIC photo named .MOV".
    root = tmp_path / "roll"
    root.mkdir()
    cat_clip(root / name)

    result = cli_sort(root, "--verbose")

    assert f"unreadable: {name} (video): {said}" in result.stderr.splitlines()
    assert (root / name).exists()
    renamed = root / "clip.mp4"
    (root / name).rename(renamed)
    assert "moved clip.mp4 -> cats/clip.mp4 (video, 8 frames, cat, 99%)" in cli_sort(root, "--verbose").stderr


def test_a_watch_counts_a_companion_left_once_its_photo_moves_with_it_after_all(tmp_path: Path) -> None:
    # A watch looks again at a photo left unreadable once it changes (a copy still being written):
    # its video, counted as left with it, is counted as moved with it once it moves, never both.
    from sorter.sorting.results import FileResult, Tally

    photo, video = tmp_path / "IMG_1.HEIC", tmp_path / "IMG_1.MP4"
    tally = Tally(tmp_path, per_file=True)
    tally.add(FileResult(photo, "unreadable", reason="truncated HEIC (shorter than its boxes say)",
                         companions=((video, None),)))
    assert (tally.counts, tally.companions_left, tally.companions) == ({"unreadable": 1}, 1, 0)

    tally.add(FileResult(photo, "moved", "cat", 0.99, tmp_path / "cats" / photo.name,
                         companions=((video, tmp_path / "cats" / video.name),)))
    assert (tally.counts, tally.moved_to, tally.companions_left, tally.companions) == ({"moved": 1}, {"cats": 1}, 0, 1)


def test_a_video_named_as_a_photo_is_counted_among_the_videos_by_sort_dry_run_and_watch(
        tmp_path: Path, monkeypatch) -> None:
    # Its reason said "not a photo: a video named .heic", but --json and --jsonl said "kind":
    # "photo" and no Videos line counted it. A HEIC photo named .MOV is a photo there; this is a video.
    from test_watch import watched_through_the_cli_until

    root, watched_root = tmp_path / "roll", tmp_path / "watched"
    for folder in (root, watched_root):
        folder.mkdir()
        cat_clip(folder / "clip.heic")

    dry = cli_sort(root, "--dry-run")
    done = cli_sort(root)
    report = json.loads(cli_sort(root, "--json").stdout)
    lines = [json.loads(line) for line in cli_sort(root, "--jsonl").stdout.splitlines()]
    watched = watched_through_the_cli_until(watched_root, monkeypatch, 1)

    assert "Videos: 0 would move, 1 left in place (unreadable: 1)" in dry.stdout
    assert "Videos: 0 moved, 1 left in place (unreadable: 1)" in done.stdout
    (entry,) = report["files"]
    assert (entry["kind"], entry["status"]) == ("video", "unreadable")
    assert report["videos"] == {"unreadable": 1}
    assert lines[0]["kind"] == "video" and lines[-1]["summary"]["videos"] == {"unreadable": 1}
    assert watched.exit_code == 0, watched.output
    assert watched.stderr.splitlines()[-1] == (
        f"stopped watching {watched_root}: moved 0 files; 1 left in place (unreadable: 1); "
        "videos: 0 moved, 1 left in place (unreadable: 1)")
    assert [p.name for p in root.iterdir() if p.is_file()] == ["clip.heic"]


def test_a_sorts_table_says_what_a_video_named_as_a_photo_is_and_counts_a_sound_among_the_videos(
        tmp_path: Path) -> None:
    # The table's row said "not a photo" alone, cut at its colon, where the file's own line said
    # what it is and what to do; an MP4 of sound alone is counted among the videos, as the review
    # page's header counts it too (test_review_videos).
    import re
    import subprocess

    from clips import FFMPEG
    from typer.testing import CliRunner

    from sorter.cli import app

    root = tmp_path / "roll"
    root.mkdir()
    cat_clip(root / "clip.heic")
    subprocess.run([FFMPEG, "-loglevel", "error", "-f", "lavfi", "-i", "sine=d=1", "-c:a", "aac",
                    str(root / "sound.mp4")], check=True)

    wide = CliRunner(env={"COLUMNS": "200"}).invoke(app, ["sort", str(root)])

    assert wide.exit_code == 0, wide.output
    reason = "not a photo: a video named .heic (rename it .mp4 to sort it)"
    assert re.search(rf"│ left in place: unreadable +│ {re.escape(reason)} +│ +1 │", wide.stdout), wide.stdout
    assert re.search(r"│ left in place: unreadable +│ not a video \(no video track\) +│ +1 │", wide.stdout)
    assert "Videos: 0 moved, 2 left in place (unreadable: 2)" in wide.stdout
    assert sorted(p.name for p in root.iterdir() if p.is_file()) == ["clip.heic", "sound.mp4"]
