"""Which files beside a photo are its companions by what they are, not only by their names: a
`.MOV` that is no MP4/QuickTime container (a JPEG, a PNG, other data, nothing) is no Live
Photo's video; and two files whose names differ only in case are two files on a disk that
tells them apart, each moved under its own name."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest
from conftest import cli_sort, video_bytes, write_image
from test_video_pairs import files
from typer.testing import CliRunner

BLUE, RED = (255, 0, 0), (0, 0, 255)  # BGR: blue = cat, red = dog
runner = CliRunner()


pytestmark = pytest.mark.usefixtures("fake_classifier_loaded")
sort = cli_sort


# ------------------------------------------------------------------ a .MOV that is no video


@pytest.mark.parametrize(("extension", "photo"), [(".jpg", "JPEG"), (".png", "PNG")])
def test_a_photo_named_mov_beside_a_photo_is_judged_on_its_own(tmp_path: Path, extension: str, photo: str) -> None:
    # It was "moved IMG_2.JPG (+ IMG_2.MOV) -> cats/IMG_2.JPG": a dog photo carried into cats/ as
    # the cat photo's video, never judged. It is a second photo of the stem, as a HEIC one is.
    write_image(tmp_path / "IMG_2.JPG", BLUE)
    write_image(tmp_path / f"dog{extension}", RED).rename(tmp_path / "IMG_2.MOV")
    (tmp_path / "IMG_2.AAE").write_text("<plist/>")  # of which photo? a guess: it stays

    result = sort(tmp_path, "-v")

    assert "moved IMG_2.JPG -> cats/IMG_2.JPG (cat, 99%)" in result.stderr
    rename = extension[1:]
    assert (f"unreadable: IMG_2.MOV: not a video: a {photo} photo named .MOV (rename it .{rename} to sort it)"
            in result.stderr)
    assert files(tmp_path) == ["IMG_2.AAE", "IMG_2.MOV", "cats/IMG_2.JPG"]


def test_a_jpeg_named_mov_beside_a_photo_is_judged_on_its_own_by_a_watch(tmp_path: Path) -> None:
    from test_live_photo_videos import outcomes, watched_until

    write_image(tmp_path / "dog.jpg", RED).rename(tmp_path / "IMG_2.MOV")
    write_image(tmp_path / "IMG_2.JPG", BLUE)

    results = watched_until(tmp_path, {"IMG_2.JPG", "IMG_2.MOV"})

    assert outcomes(results) == [("IMG_2.JPG", "moved", []), ("IMG_2.MOV", "unreadable", [])]
    assert files(tmp_path) == ["IMG_2.MOV", "cats/IMG_2.JPG"]


@pytest.mark.parametrize(("data", "reason"), [(b"hello\n", "not a video (unrecognised container)"),
                                              (b"", "empty file")])
def test_a_mov_of_no_video_beside_a_photo_is_left_with_its_reason(tmp_path: Path, data: bytes, reason: str) -> None:
    # It went along with the photo as its Live Photo's video. It is no photo either, so the
    # photo's other companions still go with it.
    write_image(tmp_path / "IMG_4.JPG", RED)
    (tmp_path / "IMG_4.MOV").write_bytes(data)
    (tmp_path / "IMG_4.AAE").write_text("<plist/>")

    result = sort(tmp_path, "-v")

    assert "moved IMG_4.JPG (+ IMG_4.AAE) -> dogs/IMG_4.JPG (dog, 99%)" in result.stderr
    assert f"unreadable: IMG_4.MOV (video): {reason}" in result.stderr
    assert files(tmp_path) == ["IMG_4.MOV", "dogs/IMG_4.AAE", "dogs/IMG_4.JPG"]


def test_a_real_quicktime_mov_still_goes_with_its_photo(tmp_path: Path) -> None:
    write_image(tmp_path / "IMG_6.JPG", RED)
    (tmp_path / "IMG_6.MOV").write_bytes(video_bytes("a Live Photo's video"))

    result = sort(tmp_path, "-v")

    assert "moved IMG_6.JPG (+ IMG_6.MOV) -> dogs/IMG_6.JPG (dog, 99%)" in result.stderr


@pytest.mark.parametrize("late", ["photo", "data"])
def test_a_mov_of_no_video_copied_after_its_photo_moved_joins_no_photo(tmp_path: Path, late: str) -> None:
    # It was "joined IMG_3.MOV -> cats/IMG_3.MOV": a dog photo filed with the cat, unjudged.
    write_image(tmp_path / "IMG_3.JPG", BLUE)
    sort(tmp_path)
    if late == "photo":
        write_image(tmp_path / "dog.jpg", RED).rename(tmp_path / "IMG_3.MOV")
    else:
        (tmp_path / "IMG_3.MOV").write_bytes(b"hello\n")

    result = sort(tmp_path, "-v")

    assert "joined" not in result.stderr
    assert ("unreadable: IMG_3.MOV: not a video: a JPEG photo named .MOV" if late == "photo"
            else "unreadable: IMG_3.MOV (video): not a video (unrecognised container)") in result.stderr
    assert files(tmp_path) == ["IMG_3.MOV", "cats/IMG_3.JPG"]


def test_a_lone_jpeg_named_mp4_is_said_to_be_the_photo_it_is(tmp_path: Path) -> None:
    # It said "not a video (unrecognised container)", where a HEIC photo so named is said to be one.
    write_image(tmp_path / "cat.jpg", BLUE).rename(tmp_path / "clip.mp4")

    result = sort(tmp_path, "-v", "--json")

    assert "unreadable: clip.mp4: not a video: a JPEG photo named .mp4 (rename it .jpg to sort it)" in result.stderr
    (entry,) = json.loads(result.stdout)["files"]
    assert entry["kind"] == "photo"


# ------------------------------------------------------------------ names that differ in case


def twins_of_one_tick(*paths: Path) -> None:
    """`paths` given one size, one mtime and one ctime, as files written in one clock tick are,
    so only their names tell them apart; skipped where the filesystem's clock is finer."""
    for _ in range(50):
        for path in paths:
            os.utime(path, ns=(1_700_000_000_000_000_000, 1_700_000_000_000_000_000))
        if len({(os.stat(p).st_size, os.stat(p).st_ctime_ns) for p in paths}) == 1:
            return
        time.sleep(0.001)
    pytest.skip("this filesystem's ctime never gave two files one tick")


def test_companions_whose_names_differ_in_case_are_two_files_each_moved_under_its_name(tmp_path: Path) -> None:
    # On a case-sensitive disk IMG_1.xmp and IMG_1.XMP of one size and time were taken for one
    # file (as exfat-fuse shows one file under two spellings), and every companion was then named
    # by its case-folded name: the dry run said "(+ IMG_1.mov, IMG_1.mov, IMG_1.XMP)", the sort
    # moved IMG_1.mov and IMG_1.XMP and left IMG_1.MOV and IMG_1.xmp behind.
    os.mkdir(tmp_path / "probe")
    if os.path.exists(tmp_path / "PROBE"):
        pytest.skip("this filesystem folds case")
    write_image(tmp_path / "IMG_1.JPG", BLUE)
    (tmp_path / "IMG_1.MOV").write_bytes(video_bytes("the cat's Live Photo video"))
    (tmp_path / "IMG_1.mov").write_bytes(video_bytes("another video"))
    (tmp_path / "IMG_1.MOV.xmp").write_text("c")
    for name, text in (("IMG_1.xmp", "a"), ("IMG_1.XMP", "b")):
        (tmp_path / name).write_text(text)
    twins_of_one_tick(tmp_path / "IMG_1.xmp", tmp_path / "IMG_1.XMP")
    os.rmdir(tmp_path / "probe")
    line = "IMG_1.JPG (+ IMG_1.mov, IMG_1.MOV, IMG_1.xmp, IMG_1.XMP, IMG_1.MOV.xmp) -> cats/IMG_1.JPG (cat, 99%)"

    assert f"would move {line}" in sort(tmp_path, "-n", "-v").stderr
    assert f"moved {line}" in sort(tmp_path, "-v").stderr
    assert files(tmp_path) == ["cats/IMG_1.JPG", "cats/IMG_1.MOV", "cats/IMG_1.MOV.xmp", "cats/IMG_1.XMP",
                               "cats/IMG_1.mov", "cats/IMG_1.xmp"]
    assert (tmp_path / "cats" / "IMG_1.xmp").read_text() == "a"


def test_on_an_exfat_card_each_spelling_of_a_companion_is_the_one_file_it_holds(exfat_card: Path) -> None:
    """On the card `IMG_1.MOV` and `IMG_1.XMP` open `IMG_1.mov` and `IMG_1.xmp` (each spelling
    its own inode under exfat-fuse): one file each, moved under the name the card holds it by."""
    write_image(exfat_card / "IMG_1.JPG", BLUE)
    (exfat_card / "IMG_1.mov").write_bytes(video_bytes("the cat's Live Photo video"))
    (exfat_card / "IMG_1.xmp").write_text("a")
    line = "IMG_1.JPG (+ IMG_1.mov, IMG_1.xmp) -> cats/IMG_1.JPG (cat, 99%)"

    assert f"would move {line}" in sort(exfat_card, "-n", "-v").stderr
    assert f"moved {line}" in sort(exfat_card, "-v").stderr
    assert sorted(os.listdir(exfat_card / "cats")) == ["IMG_1.JPG", "IMG_1.mov", "IMG_1.xmp"]
