"""Files that belong together move together: a photo's Live Photo video, Apple's edits,
XMP sidecars and Takeout metadata go where the photo goes, as one journaled group, and
come back with it on undo. A crash leaves no group split once any sorter command has run."""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from clips import make_clip, needs_ffmpeg
from conftest import FakeClassifier, ThreeClassFake, inventory, layout, video_bytes, write_image
from typer.testing import CliRunner

from sorter.cli import app
from sorter.files import undo as restore
from sorter.files.journal import journal_path, moves_of, scan
from sorter.files.journal_writer import Journal
from sorter.files.recovery import recover
from sorter.model import lite
from sorter.sorting import sort

RED, BLUE, GREEN = (0, 0, 255), (255, 0, 0), (0, 255, 0)  # BGR: red = dog
runner = CliRunner()


def names(folder: Path) -> set[str]:
    return set(os.listdir(folder)) if folder.is_dir() else set()


def companion(path: Path, text: str = "") -> Path:
    """A companion file: unique bytes, so the inventory tells every file apart."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(video_bytes(f"{path.name} {text}") if path.suffix.lower() in (".mov", ".mp4")
                     else f"{path.name} {text}".encode())
    return path


def iphone_folder(root: Path) -> Path:
    """What an iPhone export and a photo tool leave: Live Photos, edits, sidecars."""
    write_image(root / "IMG_0001.JPG", RED)  # a Live Photo of a dog, edited, with a sidecar
    for name in ("IMG_0001.MOV", "IMG_0001.AAE", "IMG_0001.JPG.xmp"):
        companion(root / name)
    write_image(root / "IMG_0002.jpg", BLUE)  # from Google Takeout
    companion(root / "IMG_0002.jpg.json")
    write_image(root / "DSC_0003.jpg", BLUE)  # raw + JPEG, darktable sidecar by stem
    companion(root / "DSC_0003.NEF")
    companion(root / "DSC_0003.xmp")
    write_image(root / "IMG_0004.png", RED)  # nothing with it
    companion(root / "notes.txt")
    return root


def test_companions_move_with_their_photo(tmp_path: Path) -> None:
    iphone_folder(tmp_path)

    summary = sort.sort_folder(tmp_path, classifier=FakeClassifier())

    assert names(tmp_path / "dogs") == {"IMG_0001.JPG", "IMG_0001.MOV", "IMG_0001.AAE", "IMG_0001.JPG.xmp", "IMG_0004.png"}
    assert names(tmp_path / "cats") == {"IMG_0002.jpg", "IMG_0002.jpg.json", "DSC_0003.jpg", "DSC_0003.NEF", "DSC_0003.xmp"}
    assert names(tmp_path) == {"cats", "dogs", ".sorter", "notes.txt"}
    assert summary.counts == {"moved": 4} and summary.companions == 6


def test_on_a_case_insensitive_card_the_photo_under_another_spelling_is_no_second_photo(tmp_path: Path) -> None:
    """On an SD card's exFAT, `IMG_0001.jpg` opens the photo `IMG_0001.JPG` itself. A second
    name for the same file (a hard link, here) is what such a filesystem shows: it is not
    another photo of the stem, so the Live Photo's video and the sidecar still go with it."""
    from sorter.files.companions import find_companions

    photo = write_image(tmp_path / "IMG_0001.JPG", RED)
    for name in ("IMG_0001.MOV", "IMG_0001.xmp"):
        companion(tmp_path / name)
    os.link(photo, tmp_path / "IMG_0001.jpg")
    assert {path.name for path in find_companions(photo)} == {"IMG_0001.MOV", "IMG_0001.xmp"}
    other = write_image(tmp_path / "IMG_0002.JPG", BLUE)  # two photos of one stem: a guess, left alone
    write_image(tmp_path / "IMG_0002.jpg", RED)
    companion(tmp_path / "IMG_0002.MOV")
    assert find_companions(other) == ()


def test_on_more_cores_companions_are_looked_up_on_threads_and_move_the_same(tmp_path: Path, monkeypatch) -> None:
    # Past 2 cores a chunk's lookups run on threads (the main thread sets the pace there).
    monkeypatch.setattr("sorter.config.cpu_cores", lambda: 8)
    iphone_folder(tmp_path)

    summary = sort.sort_folder(tmp_path, classifier=FakeClassifier())

    assert names(tmp_path / "dogs") == {"IMG_0001.JPG", "IMG_0001.MOV", "IMG_0001.AAE", "IMG_0001.JPG.xmp", "IMG_0004.png"}
    assert names(tmp_path / "cats") == {"IMG_0002.jpg", "IMG_0002.jpg.json", "DSC_0003.jpg", "DSC_0003.NEF", "DSC_0003.xmp"}
    assert summary.counts == {"moved": 4} and summary.companions == 6


def test_undo_all_puts_every_group_back_exactly(tmp_path: Path) -> None:
    before = layout(iphone_folder(tmp_path))
    sort.sort_folder(tmp_path, classifier=FakeClassifier())

    result = restore.undo(tmp_path, all_runs=True)

    assert result.restored == 10 and not result.conflicts
    assert layout(tmp_path) == before


def test_a_name_collision_renames_the_whole_group_the_same_way(tmp_path: Path) -> None:
    iphone_folder(tmp_path)
    companion(tmp_path / "dogs" / "IMG_0001.MOV", "an older video already filed")  # only the video's name is taken

    sort.sort_folder(tmp_path, classifier=FakeClassifier())

    assert names(tmp_path / "dogs") == {
        "IMG_0001.MOV", "IMG_0001 (1).JPG", "IMG_0001 (1).MOV", "IMG_0001 (1).AAE", "IMG_0001 (1).JPG.xmp",
        "IMG_0004.png",
    }
    assert (tmp_path / "dogs" / "IMG_0001.MOV").read_bytes() == video_bytes("IMG_0001.MOV an older video already filed")


def test_a_companion_of_a_photo_left_in_place_stays_too(tmp_path: Path) -> None:
    write_image(tmp_path / "IMG_0005.JPG", GREEN)  # neither a cat nor a dog
    companion(tmp_path / "IMG_0005.MOV")
    write_image(tmp_path / "IMG_0006.JPG", (0, 100, 255))  # a dog at 61%: unsure at --min-confidence 0.9
    companion(tmp_path / "IMG_0006.AAE")
    (tmp_path / "IMG_0007.JPG").write_bytes(b"\xff\xd8\xff\xe0 not really a jpeg")  # unreadable
    companion(tmp_path / "IMG_0007.MOV")

    summary = sort.sort_folder(tmp_path, classifier=ThreeClassFake(), min_confidence=0.9)

    assert summary.counts == {"neither": 1, "unsure": 1, "unreadable": 1} and summary.companions == 0
    assert names(tmp_path) - {".sorter"} == {
        "IMG_0005.JPG", "IMG_0005.MOV", "IMG_0006.JPG", "IMG_0006.AAE", "IMG_0007.JPG", "IMG_0007.MOV"}


def test_a_video_two_photos_could_own_goes_with_neither_while_named_sidecars_follow_their_photo(
        tmp_path: Path) -> None:
    write_image(tmp_path / "IMG_0008.JPG", RED)
    write_image(tmp_path / "IMG_0008.PNG", BLUE)  # same stem, another photo: whose video is it?
    companion(tmp_path / "IMG_0008.MOV")  # judged as the video it is: this one cannot be read
    companion(tmp_path / "IMG_0008.AAE")  # whose edits? It stays
    companion(tmp_path / "IMG_0008.PNG.xmp")

    summary = sort.sort_folder(tmp_path, classifier=FakeClassifier())

    assert names(tmp_path / "dogs") == {"IMG_0008.JPG"}
    assert names(tmp_path / "cats") == {"IMG_0008.PNG", "IMG_0008.PNG.xmp"}
    assert {"IMG_0008.MOV", "IMG_0008.AAE"} <= names(tmp_path)
    assert summary.videos == {"unreadable": 1}  # judged and counted (tests/test_video_pairs.py)


def test_dry_run_and_json_list_each_photos_companions(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(lite, "load_classifier", lambda model: FakeClassifier())
    iphone_folder(tmp_path)
    before = layout(tmp_path)

    plan = runner.invoke(app, ["sort", str(tmp_path), "--dry-run", "--verbose"])
    report = runner.invoke(app, ["sort", str(tmp_path), "--dry-run", "--json"])

    assert plan.exit_code == 0 and report.exit_code == 0
    assert "would move IMG_0001.JPG (+ IMG_0001.JPG.xmp, IMG_0001.MOV, IMG_0001.AAE) -> dogs/IMG_0001.JPG" in plan.stderr
    assert "would move with their photos │ companions │     6" in plan.stdout
    files = {Path(f["path"]).name: f for f in json.loads(report.stdout)["files"]}
    assert files["IMG_0002.jpg"]["companions"] == [
        {"path": str(tmp_path / "IMG_0002.jpg.json"), "destination": str(tmp_path / "cats" / "IMG_0002.jpg.json")}
    ]
    assert files["IMG_0004.png"]["companions"] == []
    assert layout(tmp_path) == before


def test_jsonl_prints_a_line_per_file_as_it_goes_then_a_summary(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(lite, "load_classifier", lambda model: FakeClassifier())
    iphone_folder(tmp_path)

    result = runner.invoke(app, ["sort", str(tmp_path), "--jsonl"])

    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert sorted(Path(line["path"]).name for line in lines[:-1]) == [
        "DSC_0003.jpg", "IMG_0001.JPG", "IMG_0002.jpg", "IMG_0004.png"]
    assert lines[-1]["summary"]["counts"] == {"moved": 4} and lines[-1]["summary"]["companions"] == 6
    assert runner.invoke(app, ["sort", str(tmp_path), "--json", "--jsonl"]).exit_code == 2


# ---------------------------------------------------------------------------- crashes


def sorted_photo_with_companions(root: Path) -> tuple[str, list]:
    """Sort IMG_0001.JPG + .MOV + .AAE into dogs/ and return its run and its three moves."""
    write_image(root / "IMG_0001.JPG", RED)
    companion(root / "IMG_0001.MOV")
    companion(root / "IMG_0001.AAE")
    sort.sort_folder(root, classifier=FakeClassifier())
    (run,) = scan(root).runs.values()
    return run.run, list(moves_of(root, run))


def test_a_group_cut_by_a_crash_is_finished_by_the_next_command(tmp_path: Path) -> None:
    """Intents journaled, the photo moved, then a kill: the next sort moves the rest of the
    group after it rather than leaving the video behind."""
    write_image(tmp_path / "IMG_0001.JPG", RED)
    companion(tmp_path / "IMG_0001.MOV")
    companion(tmp_path / "IMG_0001.AAE")
    before = layout(tmp_path)
    (tmp_path / "dogs").mkdir()
    with Journal(tmp_path) as crashed:
        crashed.intents([[(tmp_path / n, tmp_path / "dogs" / n) for n in ("IMG_0001.JPG", "IMG_0001.MOV", "IMG_0001.AAE")]])
    os.rename(tmp_path / "IMG_0001.JPG", tmp_path / "dogs" / "IMG_0001.JPG")

    summary = sort.sort_folder(tmp_path, classifier=FakeClassifier())

    assert summary.recovered == 3
    assert names(tmp_path / "dogs") == {"IMG_0001.JPG", "IMG_0001.MOV", "IMG_0001.AAE"}
    assert inventory(tmp_path) == inventory(before)


def test_a_group_whose_photo_never_moved_is_rolled_back_whole(tmp_path: Path) -> None:
    write_image(tmp_path / "IMG_0001.JPG", RED)
    companion(tmp_path / "IMG_0001.MOV")
    with Journal(tmp_path) as crashed:
        crashed.intents([[(tmp_path / n, tmp_path / "dogs" / n) for n in ("IMG_0001.JPG", "IMG_0001.MOV")]])

    assert recover(tmp_path).rolled_back == 2
    assert names(tmp_path) == {"IMG_0001.JPG", "IMG_0001.MOV", ".sorter"}


def test_an_undo_cut_by_a_crash_is_finished_for_the_whole_group(tmp_path: Path) -> None:
    run, moves = sorted_photo_with_companions(tmp_path)
    with Journal(tmp_path, run=run) as crashed:
        crashed.returning(moves)
    os.rename(tmp_path / "dogs" / "IMG_0001.JPG", tmp_path / "IMG_0001.JPG")  # killed after the first

    recover(tmp_path)

    assert {"IMG_0001.JPG", "IMG_0001.MOV", "IMG_0001.AAE"} <= names(tmp_path) and not names(tmp_path / "dogs")
    result = runner.invoke(app, ["undo", str(tmp_path)])  # nothing left to undo but what the crash left
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith(f"Nothing left to undo in {tmp_path}: an earlier undo put every file back")
    assert not (tmp_path / ".sorter").exists()


def groups_split(root: Path) -> list[str]:
    """Stems (IMG_0001) whose files are not all in one folder, three of them."""
    folders: dict[str, list[str]] = {}
    for rel in inventory_paths(root):
        folders.setdefault(os.path.basename(rel).split(".")[0], []).append(os.path.dirname(rel))
    return sorted(stem for stem, where in folders.items() if len(set(where)) != 1 or len(where) != 3)


def inventory_paths(root: Path) -> list[str]:
    return [rel for rel, entry in layout(root).items()
            if entry != "dir" and rel.split(os.sep)[0] != ".sorter"]


def test_kill_9_during_sort_and_undo_splits_no_group(tmp_path: Path, tiny_model: Path) -> None:
    """Live Photos sorted by a real subprocess, SIGKILLed at random instants; after each
    kill, the recovery every command starts with leaves every group whole."""
    from test_safety import journal_size, kill_after

    rng = random.Random(7)
    root = tmp_path / "roll"
    pixels = random.Random(1)
    for i in range(120):
        write_image(root / f"IMG_{i:04d}.JPG", tuple(pixels.randrange(256) for _ in range(3)), size=(8 + i % 9, 8))
        companion(root / f"IMG_{i:04d}.MOV")
        companion(root / f"IMG_{i:04d}.AAE")
    original, contents = layout(root), inventory(root)
    sort = [sys.executable, "-m", "sorter", "sort", str(root), "--model", str(tiny_model)]
    interrupted = 0
    for _ in range(8):
        before = journal_size(root)
        result = kill_after(sort, lambda before=before: journal_size(root) > before, rng.uniform(0.0, 0.03))
        assert inventory(root) == contents, result.stderr.decode()
        recover(root)
        assert groups_split(root) == []
        interrupted += result.returncode == -signal.SIGKILL
        if not any(name.endswith(".JPG") for name in os.listdir(root)):
            break
    assert subprocess.run(sort, capture_output=True, timeout=120).returncode == 0
    assert groups_split(root) == [] and inventory(root) == contents
    assert not {n for n in os.listdir(root) if n.startswith("IMG_")}

    undo = [sys.executable, "-m", "sorter", "undo", str(root), "--all"]
    for _ in range(3):
        if not journal_path(root).exists():
            break
        kill_after(undo, lambda: len(os.listdir(root)) > 3, rng.uniform(0.0, 0.02))
        assert inventory(root) == contents
        recover(root)
        assert groups_split(root) == []
    if journal_path(root).exists():
        last = subprocess.run(undo, capture_output=True, text=True, timeout=60)
        assert last.returncode == 0 or "nothing to undo" in last.stderr, last.stderr
    assert layout(root) == original
    assert interrupted >= 1


def test_an_iphone_export_is_sorted_with_every_group_intact_and_undone_exactly(tmp_path: Path, monkeypatch) -> None:
    """The issue's folder: HEICs with Live Photo videos, edits and sidecars, JPEGs, an AVIF."""
    pillow_heif = pytest.importorskip("pillow_heif")
    from PIL import Image, features

    if not pillow_heif.libheif_info()["HEIF"] or not features.check("avif"):
        pytest.skip("this libheif/Pillow build cannot write HEIC or AVIF test files")
    monkeypatch.setattr(lite, "load_classifier", lambda model: FakeClassifier())
    pillow_heif.register_heif_opener()
    red, blue = Image.new("RGB", (64, 48), (255, 0, 0)), Image.new("RGB", (64, 48), (0, 0, 255))  # dog, cat
    for i in range(1, 7):
        (red if i % 2 else blue).save(tmp_path / f"IMG_{i:04d}.HEIC", format="HEIF", quality=80)
        companion(tmp_path / f"IMG_{i:04d}.MOV")
        if i <= 3:
            companion(tmp_path / f"IMG_{i:04d}.AAE")
            companion(tmp_path / f"IMG_{i:04d}.HEIC.xmp")
    companion(tmp_path / "dogs" / "IMG_0001.MOV", "already filed")  # collides: group 1 becomes "IMG_0001 (1)"
    red.save(tmp_path / "IMG_0007.JPG")
    blue.save(tmp_path / "IMG_0008.avif", format="AVIF")
    companion(tmp_path / "IMG_0008.avif.json")
    before = layout(tmp_path)

    result = runner.invoke(app, ["sort", str(tmp_path)])

    assert result.exit_code == 0, result.output
    assert names(tmp_path) == {"cats", "dogs", ".sorter"}
    assert names(tmp_path / "dogs") == {
        "IMG_0001.MOV", "IMG_0001 (1).HEIC", "IMG_0001 (1).MOV", "IMG_0001 (1).AAE", "IMG_0001 (1).HEIC.xmp",
        "IMG_0003.HEIC", "IMG_0003.MOV", "IMG_0003.AAE", "IMG_0003.HEIC.xmp",
        "IMG_0005.HEIC", "IMG_0005.MOV", "IMG_0007.JPG",
    }
    assert names(tmp_path / "cats") == {
        "IMG_0002.HEIC", "IMG_0002.MOV", "IMG_0002.AAE", "IMG_0002.HEIC.xmp",
        "IMG_0004.HEIC", "IMG_0004.MOV", "IMG_0006.HEIC", "IMG_0006.MOV", "IMG_0008.avif", "IMG_0008.avif.json",
    }
    assert len(result.stdout.splitlines()) < 15 and "Review:" in result.stdout
    assert (tmp_path / ".sorter" / "review.html").is_file()

    assert runner.invoke(app, ["undo", str(tmp_path), "--all"]).exit_code == 0
    assert layout(tmp_path) == before


def test_extensions_in_title_case_pair_as_upper_and_lower_case_do(tmp_path: Path) -> None:
    # A photo renamed by hand or by a phone's app: IMG_0020.Jpg with its IMG_0020.Mov. Only
    # .MOV and .mov were looked for: the video was judged alone, and the watcher (which folds
    # the case of a late companion) paired what sort did not.
    write_image(tmp_path / "IMG_0020.Jpg", RED)
    for name in ("IMG_0020.Mov", "IMG_0020.Aae", "IMG_0020.Jpg.Xmp"):
        companion(tmp_path / name)

    summary = sort.sort_folder(tmp_path, classifier=FakeClassifier())

    assert names(tmp_path / "dogs") == {"IMG_0020.Jpg", "IMG_0020.Mov", "IMG_0020.Aae", "IMG_0020.Jpg.Xmp"}
    assert summary.counts == {"moved": 1} and summary.companions == 3


def test_a_raw_files_own_sidecar_goes_with_it(tmp_path: Path) -> None:
    # darktable names its sidecar after the raw file: DSC_0021.NEF.xmp stayed behind while
    # DSC_0021.NEF went with its JPEG.
    write_image(tmp_path / "DSC_0021.JPG", BLUE)
    for name in ("DSC_0021.NEF", "DSC_0021.NEF.xmp", "DSC_0021.JPG.xmp"):
        companion(tmp_path / name)
    before = layout(tmp_path)

    sort.sort_folder(tmp_path, classifier=FakeClassifier())

    assert names(tmp_path / "cats") == {"DSC_0021.JPG", "DSC_0021.NEF", "DSC_0021.NEF.xmp", "DSC_0021.JPG.xmp"}
    restore.undo(tmp_path, all_runs=True)
    assert layout(tmp_path) == before


def test_a_late_sidecar_of_the_raw_file_follows_it_in_a_watch(tmp_path: Path) -> None:
    from sorter.sorting.latecomers import Latecomers

    write_image(tmp_path / "DSC_0022.JPG", BLUE)
    companion(tmp_path / "DSC_0022.NEF")
    sort.sort_folder(tmp_path, classifier=FakeClassifier())
    latecomers = Latecomers()
    latecomers.load(tmp_path)

    assert latecomers.destination(tmp_path / "DSC_0022.NEF.xmp")[1] == tmp_path / "cats" / "DSC_0022.NEF.xmp"


def test_a_photo_never_lands_beside_a_strangers_file_of_its_stem(tmp_path: Path) -> None:
    # IMG_0023.jpg's name was free in dogs/, but a video of another day, IMG_0023.MOV, was
    # there: the two were one group from then on, and a correction of the photo on the review
    # page took the stranger's video with it. A sidecar named after the photo's name pairs as much.
    companion(tmp_path / "dogs" / "IMG_0023.MOV", "a video filed last year")
    companion(tmp_path / "dogs" / "IMG_0024.JPG.xmp", "a sidecar whose photo was deleted")
    write_image(tmp_path / "IMG_0023.jpg", RED)
    write_image(tmp_path / "IMG_0024.JPG", RED)
    before = layout(tmp_path)

    sort.sort_folder(tmp_path, classifier=FakeClassifier())

    assert names(tmp_path / "dogs") == {
        "IMG_0023.MOV", "IMG_0024.JPG.xmp", "IMG_0023 (1).jpg", "IMG_0024 (1).JPG"}
    restore.undo(tmp_path, all_runs=True)
    assert layout(tmp_path) == before


@needs_ffmpeg
def test_a_lone_video_never_lands_beside_a_photo_of_its_stem(tmp_path: Path) -> None:
    red = write_image(tmp_path / "red.png", RED)
    make_clip(tmp_path / "IMG_0026.mp4", [red], seconds=1.0)
    red.unlink()
    write_image(tmp_path / "dogs" / "IMG_0026.jpg", RED)

    sort.sort_folder(tmp_path, classifier=FakeClassifier())

    assert names(tmp_path / "dogs") == {"IMG_0026.jpg", "IMG_0026 (1).mp4"}


def test_photos_or_videos_of_one_stem_with_nothing_by_it_keep_their_names(tmp_path: Path) -> None:
    # Two photos of a stem are no group (neither owns the other), nor are two videos: they lay
    # side by side before the sort, and were renamed for it (IMG_1 (1).jpg, clip (2).webm).
    for name in ("IMG_0030.jpg", "IMG_0030.png", "P.png", "P.jpg"):
        write_image(tmp_path / name, RED)

    sort.sort_folder(tmp_path, classifier=FakeClassifier())

    assert names(tmp_path / "dogs") == {"IMG_0030.jpg", "IMG_0030.png", "P.png", "P.jpg"}


def test_a_group_with_companions_is_renamed_beside_another_photo_of_its_stem(tmp_path: Path) -> None:
    # Beside dogs/IMG_0032.png, the Live Photo's IMG_0032.MOV would belong to neither photo for sure.
    write_image(tmp_path / "dogs" / "IMG_0032.png", RED)
    write_image(tmp_path / "IMG_0032.JPG", RED)
    companion(tmp_path / "IMG_0032.MOV")

    sort.sort_folder(tmp_path, classifier=FakeClassifier())

    assert names(tmp_path / "dogs") == {"IMG_0032.png", "IMG_0032 (1).JPG", "IMG_0032 (1).MOV"}


def test_a_watch_never_files_a_photo_beside_a_stranger_that_came_after_it_started(tmp_path: Path) -> None:
    # The watch lists dogs/ once: a video a review correction (or a drag) put there since was not
    # seen, and the photo of its stem went in beside it, one group from then on.
    from test_videos import stopped
    from test_watch import run_in_thread, wait_until

    from sorter.watching.watcher import WatchSettings

    stop, thread, results = run_in_thread(tmp_path, FakeClassifier(), settings=WatchSettings(settle=0.1))
    try:
        write_image(tmp_path / "first.jpg", RED)
        assert wait_until(lambda: (tmp_path / "dogs" / "first.jpg").exists(), 10), results
        companion(tmp_path / "dogs" / "IMG_0033.Mov", "a video moved there on the review page")
        write_image(tmp_path / "IMG_0033.JPG", RED)
        assert wait_until(lambda: (tmp_path / "dogs" / "IMG_0033 (1).JPG").exists(), 10), results
    finally:
        stopped(stop, thread, results)
    assert names(tmp_path / "dogs") == {"first.jpg", "IMG_0033.Mov", "IMG_0033 (1).JPG"}


def test_on_an_exfat_card_every_group_moves_whole_and_each_companion_once(exfat_card: Path) -> None:
    # exfat-fuse gives each spelling of a name its own inode: IMG_0040.jpg (the photo itself,
    # as the card folds case) was taken for a second photo of the stem, so the Live Photo's
    # .MOV and .AAE stayed behind; a sidecar found under three spellings was three companions,
    # whose moves failed and were retried until the photo was `IMG_0042 (94).jpg`.
    write_image(exfat_card / "IMG_0040.JPG", RED)
    for name in ("IMG_0040.MOV", "IMG_0040.AAE", "DSC_0041.Nef", "DSC_0041.Nef.Xmp", "IMG_0042.jpg.xmp"):
        companion(exfat_card / name)
    write_image(exfat_card / "DSC_0041.jpg", BLUE)
    write_image(exfat_card / "IMG_0042.jpg", BLUE)
    before = layout(exfat_card)

    summary = sort.sort_folder(exfat_card, classifier=FakeClassifier())

    assert names(exfat_card / "dogs") == {"IMG_0040.JPG", "IMG_0040.MOV", "IMG_0040.AAE"}
    assert names(exfat_card / "cats") == {"DSC_0041.jpg", "DSC_0041.Nef", "DSC_0041.Nef.Xmp", "IMG_0042.jpg",
                                          "IMG_0042.jpg.xmp"}
    assert summary.counts == {"moved": 3} and summary.companions == 5
    restore.undo(exfat_card, all_runs=True)
    assert layout(exfat_card) == before



def live_photo_clip(tmp_path: Path) -> Path:
    """A 3 s clip of a cat (to ThreeClassFake), as a Live Photo's .MOV is, made beside the folder."""
    cat = write_image(tmp_path.parent / f"{tmp_path.name}-cat.png", BLUE, size=(240, 320))
    return make_clip(tmp_path.parent / f"{tmp_path.name}-clip.MOV", [cat], seconds=3.0)


def watched(tmp_path: Path, act, filed: str, **settings) -> list[tuple[str, str]]:
    """A watch of `tmp_path` (ThreeClassFake) while `act` runs, stopped once `filed` is in cats/:
    (name, status) of what it did."""
    from test_videos import stopped
    from test_watch import run_in_thread, wait_until

    from sorter.watching.watcher import WatchSettings

    stop, thread, results = run_in_thread(tmp_path, ThreeClassFake(),
                                          settings=WatchSettings(settle=0.1, rescan_interval=0.3, **settings))
    try:
        act()
        assert wait_until(lambda: (tmp_path / "cats" / filed).exists(), 10), results
    finally:
        results = stopped(stop, thread, results)
    return sorted((r.path.name, r.status) for r in results)


def photo_then(tmp_path: Path, photo: str, late) -> Callable[[], None]:
    """Copy in `photo` (a cat), then, once the watch filed it, `late()`: its companion copied in after it."""
    from test_watch import wait_until

    def act() -> None:
        write_image(tmp_path / photo, BLUE)
        assert wait_until(lambda: (tmp_path / "cats" / photo).exists(), 10)
        late()

    return act


@needs_ffmpeg
def test_a_live_photos_video_still_waiting_when_a_watch_stopped_joins_its_photo_at_the_next_start(
        tmp_path: Path) -> None:
    # The .AAE that had joined the photo late was taken for a photo of that stem when the watch
    # started again: the .MOV was sorted alone, `cats/IMG_9 (1).MOV`, a group of its own.
    clip = live_photo_clip(tmp_path)
    edits = photo_then(tmp_path, "IMG_9.jpg", lambda: companion(tmp_path / "IMG_9.AAE"))
    assert watched(tmp_path, edits, "IMG_9.AAE") == [("IMG_9.AAE", "joined"), ("IMG_9.jpg", "moved")]
    shutil.copyfile(clip, tmp_path / "IMG_9.MOV")  # copied in as the watch stopped: not looked at yet
    before = inventory(tmp_path)

    assert watched(tmp_path, lambda: None, "IMG_9.MOV", pair_wait=0.1) == [("IMG_9.MOV", "joined")]
    assert names(tmp_path / "cats") == {"IMG_9.jpg", "IMG_9.AAE", "IMG_9.MOV"}
    assert inventory(tmp_path) == before  # nothing lost, nothing copied


@needs_ffmpeg
def test_a_live_photos_video_copied_in_after_its_photo_joins_it_at_once_and_its_edits_after_a_restart(
        tmp_path: Path) -> None:
    # Such a video waited `pair_wait` (10 s) for a photo that had come and gone before it, and a
    # watch stopped meanwhile left it waiting. Joined, it was taken for a video of its own when the
    # watch started again: the photo's .AAE, copied in then, stayed where it was.
    clip = live_photo_clip(tmp_path)
    video = photo_then(tmp_path, "IMG_8.jpg", lambda: shutil.copyfile(clip, tmp_path / "IMG_8.MOV"))
    assert watched(tmp_path, video, "IMG_8.MOV", pair_wait=60.0) == [
        ("IMG_8.MOV", "joined"), ("IMG_8.jpg", "moved")]  # in seconds, not the minute it waits for a photo
    assert watched(tmp_path, lambda: companion(tmp_path / "IMG_8.AAE"), "IMG_8.AAE") == [("IMG_8.AAE", "joined")]
    assert names(tmp_path / "cats") == {"IMG_8.jpg", "IMG_8.MOV", "IMG_8.AAE"} and not (tmp_path / "dogs").exists()
