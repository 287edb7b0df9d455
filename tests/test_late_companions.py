"""`sorter sort` run again joins a photo's companions copied in after it was sorted (a phone's
sync brings the Live Photo's .MOV and the .AAE an hour later) to the photo where it went, as
`sorter watch` does: under its group's name, journaled in this sort's run, undone with it."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from clips import make_clip, needs_ffmpeg
from conftest import FakeClassifier, layout, video_bytes, write_image
from typer.testing import CliRunner

from sorter.cli import app
from sorter.model import lite

BLUE, RED = (255, 0, 0), (0, 0, 255)  # BGR: blue = cat, red = dog
runner = CliRunner()


@pytest.fixture(autouse=True)
def fake_model(monkeypatch) -> None:
    monkeypatch.setattr(lite, "load_classifier", lambda model: FakeClassifier())


def companion(path: Path) -> Path:
    path.write_bytes(video_bytes(f"{path.name} bytes") if path.suffix.lower() in (".mov", ".mp4")
                     else f"{path.name} bytes".encode())
    return path


def dog_video(path: Path, seconds: float) -> Path:
    """A real clip of a dog (red, to the fake model), made aside and renamed in: copied in whole."""
    frame = write_image(path.parent.parent / f"{path.parent.name}-dog.png", RED, size=(240, 320))
    return make_clip(path.parent.parent / f"{path.parent.name}-{path.name}", [frame], seconds=seconds).rename(path)


def sort(root: Path, *args: str):
    result = runner.invoke(app, ["sort", str(root), *args])
    assert result.exit_code == 0, result.output
    return result


def cats_sorted(root: Path, *names: str) -> None:
    """Cat photos `names`, sorted into cats/."""
    for name in names:
        write_image(root / name, BLUE)
    sort(root)


def photo_sorted_under_another_name(root: Path) -> None:
    """IMG_1234.JPG sorted into cats/ as `IMG_1234 (1).JPG` (its name was taken there)."""
    write_image(root / "cats" / "IMG_1234.JPG", BLUE)
    write_image(root / "IMG_1234.JPG", BLUE, size=(40, 40))
    sort(root)
    assert sorted(os.listdir(root / "cats")) == ["IMG_1234 (1).JPG", "IMG_1234.JPG"]


def test_late_companions_join_their_photo_where_it_went_and_undo_takes_them_back(tmp_path: Path) -> None:
    photo_sorted_under_another_name(tmp_path)
    companion(tmp_path / "IMG_1234.MOV")  # an hour later, the phone's sync
    companion(tmp_path / "IMG_1234.AAE")

    result = sort(tmp_path, "--verbose")

    assert sorted(os.listdir(tmp_path / "cats")) == [
        "IMG_1234 (1).AAE", "IMG_1234 (1).JPG", "IMG_1234 (1).MOV", "IMG_1234.JPG"]
    assert "joined IMG_1234.MOV -> cats/IMG_1234 (1).MOV (its photo went there before it came)" in result.stderr
    assert "joined IMG_1234.AAE -> cats/IMG_1234 (1).AAE" in result.stderr
    assert "joined their photos │ companions that came later │     2" in result.stdout
    undone = runner.invoke(app, ["undo", str(tmp_path)])  # this sort's run: the companions, not the photo
    assert undone.exit_code == 0, undone.output
    assert {"IMG_1234.MOV", "IMG_1234.AAE"} <= set(os.listdir(tmp_path))
    assert sorted(os.listdir(tmp_path / "cats")) == ["IMG_1234 (1).JPG", "IMG_1234.JPG"]
    assert runner.invoke(app, ["undo", str(tmp_path)]).exit_code == 0  # the first sort's: the photo
    assert {"IMG_1234.JPG", "IMG_1234.MOV", "IMG_1234.AAE"} <= set(os.listdir(tmp_path))


def test_a_dry_run_says_where_late_companions_would_join_and_json_counts_them(tmp_path: Path) -> None:
    photo_sorted_under_another_name(tmp_path)
    companion(tmp_path / "IMG_1234.MOV")
    companion(tmp_path / "IMG_1234.AAE")

    plan = sort(tmp_path, "--dry-run", "--verbose")
    report = json.loads(sort(tmp_path, "--dry-run", "--json").stdout)
    lines = [json.loads(line) for line in sort(tmp_path, "--jsonl").stdout.splitlines()]

    assert "would join IMG_1234.MOV -> cats/IMG_1234 (1).MOV (its photo went there before it came)" in plan.stderr
    assert "IMG_1234.MOV (video)" not in plan.stderr  # not judged alone as well
    assert "would join their photos │ companions that came later │     2" in plan.stdout
    assert report["counts"] == {"to join": 2} and report["companions"] == 2
    assert {Path(f["path"]).name: (f["status"], f["destination"]) for f in report["files"]} == {
        "IMG_1234.MOV": ("to join", str(tmp_path / "cats" / "IMG_1234 (1).MOV")),
        "IMG_1234.AAE": ("to join", str(tmp_path / "cats" / "IMG_1234 (1).AAE")),
    }
    assert {line["path"]: line["status"] for line in lines[:-1]} == {
        str(tmp_path / "IMG_1234.MOV"): "joined", str(tmp_path / "IMG_1234.AAE"): "joined"}
    assert lines[-1]["summary"]["counts"] == {"joined": 2} and lines[-1]["summary"]["companions"] == 2


def test_a_dry_run_changes_nothing(tmp_path: Path) -> None:
    photo_sorted_under_another_name(tmp_path)
    companion(tmp_path / "IMG_1234.MOV")
    before = layout(tmp_path)

    sort(tmp_path, "--dry-run")

    assert layout(tmp_path) == before


def test_a_late_companion_of_a_photo_undone_and_moved_away_is_left_as_before(tmp_path: Path) -> None:
    write_image(tmp_path / "IMG_7.JPG", BLUE)
    sort(tmp_path)
    assert runner.invoke(app, ["undo", str(tmp_path)]).exit_code == 0
    (tmp_path / "elsewhere").mkdir()
    os.rename(tmp_path / "IMG_7.JPG", tmp_path / "elsewhere" / "IMG_7.JPG")  # the user took it away
    companion(tmp_path / "IMG_7.MOV")
    companion(tmp_path / "IMG_7.AAE")

    report = json.loads(sort(tmp_path, "--json").stdout)

    assert {Path(f["path"]).name: f["status"] for f in report["files"]} == {"IMG_7.MOV": "unreadable"}  # judged alone
    assert {"IMG_7.MOV", "IMG_7.AAE"} <= set(os.listdir(tmp_path))
    assert not (tmp_path / "cats").exists()


def test_a_companion_by_the_stem_joins_a_photo_moved_within_a_day_only(tmp_path: Path) -> None:
    # A phone's counter starts again after IMG_9999: IMG_0002.MOV of a day later is another photo's.
    from sorter.sorting.latecomers import STEM_WINDOW

    write_image(tmp_path / "IMG_0002.JPG", BLUE)
    sort(tmp_path)
    journal = tmp_path / ".sorter" / "journal.jsonl"
    records = [json.loads(line) for line in journal.read_text().splitlines()]
    journal.write_text("".join(json.dumps({**r, "time": r["time"] - STEM_WINDOW - 60} if "time" in r else r) + "\n"
                               for r in records))
    companion(tmp_path / "IMG_0002.MOV")
    companion(tmp_path / "IMG_0002.JPG.xmp")  # named after the photo's whole name: its own, ever

    report = json.loads(sort(tmp_path, "--json").stdout)

    assert {Path(f["path"]).name: f["status"] for f in report["files"]} == {
        "IMG_0002.MOV": "unreadable", "IMG_0002.JPG.xmp": "joined"}
    assert sorted(os.listdir(tmp_path / "cats")) == ["IMG_0002.JPG", "IMG_0002.JPG.xmp"]


@needs_ffmpeg
def test_a_late_video_of_two_photos_of_its_stem_that_went_elsewhere_is_judged_on_its_own(tmp_path: Path) -> None:
    # IMG_1.MOV of the cat IMG_1.JPG or of the cat IMG_1.png: joining either is a guess. It was
    # left out of the sort and of every count, at every run; before late companions joined, it
    # was judged as the video it is, as a watch judges it.
    cats_sorted(tmp_path, "IMG_1.JPG", "IMG_1.png")
    dog_video(tmp_path / "IMG_1.MOV", seconds=2.0)  # as long as a Live Photo's
    companion(tmp_path / "IMG_1.AAE")  # of neither for sure either: left alone, as a sort always left it
    companion(tmp_path / "IMG_1.JPG.xmp")  # named after one of them: its

    report = json.loads(sort(tmp_path, "--json").stdout)

    assert {Path(f["path"]).name: (f["status"], f["kind"]) for f in report["files"]} == {
        "IMG_1.MOV": ("moved", "video"), "IMG_1.JPG.xmp": ("joined", "companion")}
    assert report["counts"] == {"moved": 1, "joined": 1} and report["videos"] == {"moved": 1}
    assert sorted(os.listdir(tmp_path / "dogs")) == ["IMG_1.MOV"]
    assert sorted(os.listdir(tmp_path / "cats")) == ["IMG_1.JPG", "IMG_1.JPG.xmp", "IMG_1.png"]
    assert "IMG_1.AAE" in os.listdir(tmp_path)


@needs_ffmpeg
def test_a_long_dog_video_copied_in_after_two_cat_photos_of_its_name_is_sorted_as_a_video(tmp_path: Path) -> None:
    # The tester's case: `No photos or videos in it`, `"files": []`, at every run.
    cats_sorted(tmp_path, "a.jpg", "a.png")
    dog_video(tmp_path / "a.MOV", seconds=8.0)

    result = sort(tmp_path, "-v")

    assert "moved a.MOV -> dogs/a.MOV (video, 8 frames, dog, 99%)" in result.stderr
    assert "No photos or videos" not in result.stdout
    assert os.listdir(tmp_path / "dogs") == ["a.MOV"]


@needs_ffmpeg
def test_a_late_video_over_5_seconds_is_no_live_photos_and_joins_no_photo(tmp_path: Path) -> None:
    # A Live Photo's video lasts about 3 s: the 8 s dog video IMG_5.MOV had joined the cat photo
    # IMG_5.JPG as its Live Photo's, into cats/, without being looked at.
    cats_sorted(tmp_path, "IMG_5.JPG", "IMG_6.JPG")
    dog_video(tmp_path / "IMG_5.MOV", seconds=8.0)
    dog_video(tmp_path / "IMG_6.MOV", seconds=2.0)  # a Live Photo's, for all its length says: joins

    report = json.loads(sort(tmp_path, "--json").stdout)

    assert {Path(f["path"]).name: f["status"] for f in report["files"]} == {"IMG_5.MOV": "moved", "IMG_6.MOV": "joined"}
    assert os.listdir(tmp_path / "dogs") == ["IMG_5.MOV"]
    assert sorted(os.listdir(tmp_path / "cats")) == ["IMG_5.JPG", "IMG_6.JPG", "IMG_6.MOV"]


def test_a_sort_that_only_joined_late_companions_says_how_to_undo_them(tmp_path: Path) -> None:
    photo_sorted_under_another_name(tmp_path)
    companion(tmp_path / "IMG_1234.AAE")

    result = sort(tmp_path)

    assert f"Undo with: sorter undo {tmp_path}" in result.stdout
    assert "Review:" not in result.stdout  # no page written: a joined companion is shown with its photo
    assert runner.invoke(app, ["undo", str(tmp_path)]).exit_code == 0
    assert "IMG_1234.AAE" in os.listdir(tmp_path)


def test_a_watch_that_only_joined_late_companions_says_how_to_undo_them(tmp_path: Path, monkeypatch) -> None:
    from test_watch import watched_through_the_cli_until

    photo_sorted_under_another_name(tmp_path)
    companion(tmp_path / "IMG_1234.AAE")  # copied in while no watch ran: joined at its start
    result = watched_through_the_cli_until(tmp_path, monkeypatch, 1)

    assert result.exit_code == 0, result.output
    assert result.stderr.splitlines()[-1] == (
        f"stopped watching {tmp_path}: moved 0 files; 1 companion joined its photo; "
        f"undo with: sorter undo {tmp_path}")
    assert "IMG_1234 (1).AAE" in os.listdir(tmp_path / "cats")


def test_a_late_sidecar_whose_photos_extension_differs_in_case_joins_it_on_a_card_as_up_front(exfat_card: Path,
                                                                                             tmp_path: Path) -> None:
    """On a case-insensitive card a look-up of `IMG_0302.JPG.xmp` opens `IMG_0302.jpg.xmp`, so a
    sort takes it along with `IMG_0302.JPG`; come after the photo, it was left at the top. On a
    case-sensitive disk it is no companion of that photo, come before or after."""
    for root in (exfat_card, tmp_path / "disk"):
        write_image(root / "IMG_0302.JPG", RED)
        sort(root)
        companion(root / "IMG_0302.jpg.xmp")
        result = sort(root, "--verbose")
        if root == exfat_card:
            assert "joined IMG_0302.jpg.xmp -> dogs/IMG_0302.jpg.xmp" in result.stderr
            assert sorted(os.listdir(root / "dogs")) == ["IMG_0302.JPG", "IMG_0302.jpg.xmp"]
        else:
            assert "joined" not in result.stderr
            assert (root / "IMG_0302.jpg.xmp").is_file() and os.listdir(root / "dogs") == ["IMG_0302.JPG"]


@needs_ffmpeg
def test_companions_taken_back_out_of_their_photos_folder_are_put_back_not_late_companions(tmp_path: Path) -> None:
    """QA: IMG.jpg sorted into dogs/ with its IMG.MOV and IMG.xmp, then the user moved the two
    companions back out by hand: the next sort joined them to the photo again "(its photo went
    there before it came)", which is false: they were there first and went with it. A companion
    taken back out is put back, as a photo is: the video is said so, the sidecar stays in no line,
    and both stay where the user put them (by `sort`, and by a watch started again, said once)."""
    import time

    from conftest import wait_until
    from test_watch_restart import said, watching

    sorted_root, watched = tmp_path / "sorted", tmp_path / "watched"
    for root in (sorted_root, watched):
        root.mkdir()
        write_image(root / "IMG.jpg", RED)
        companion(root / "IMG.xmp")
        dog_video(root / "IMG.MOV", 2.0)
        assert "moved IMG.jpg (+ IMG.MOV, IMG.xmp) -> dogs/IMG.jpg (dog, 99%)" in sort(root, "-v").stderr
        for name in ("IMG.MOV", "IMG.xmp"):
            (root / "dogs" / name).rename(root / name)

    for _ in range(2):
        again = sort(sorted_root, "-v")
        assert again.stderr.splitlines() == ["skipped: IMG.MOV (video): you put it back from dogs/IMG.MOV; left there"]
        assert "joined" not in again.stdout
        assert sorted(os.listdir(sorted_root)) == [".sorter", "IMG.MOV", "IMG.xmp", "dogs"]
        assert os.listdir(sorted_root / "dogs") == ["IMG.jpg"]

    for expected in ([("skipped", "IMG.MOV")], []):  # said once: not again at the next start
        with watching(watched, FakeClassifier()) as (results, notices):
            assert wait_until(lambda n=len(expected): len(results) == n, 20), results
            time.sleep(1.0)  # more scans
        assert said(results) == expected
        assert all(r.reason == "you put it back from dogs/IMG.MOV; left there" for r in results)
        assert sorted(os.listdir(watched)) == [".sorter", "IMG.MOV", "IMG.xmp", "dogs"]
        assert os.listdir(watched / "dogs") == ["IMG.jpg"]


@needs_ffmpeg
def test_a_watchs_first_line_counts_a_late_companion_as_one_to_join_not_as_a_photo_or_video(tmp_path: Path) -> None:
    """QA: c.jpg sorted into cats/, then its Live Photo's c.MOV copied in while no watch ran: the
    watch's first line said "1 photo or video already there", then "moved 0 files; 1 companion
    joined its photo" (`sort --json` calls it a companion, "to join"). It counts it so."""
    from conftest import wait_until
    from test_watch_restart import watching

    cats_sorted(tmp_path, "c.jpg")
    dog_video(tmp_path / "c.MOV", 2.0)
    with watching(tmp_path, FakeClassifier()) as (results, notices):
        assert wait_until(lambda: (tmp_path / "cats" / "c.MOV").exists(), 20), results
    assert notices[0] == f"watching {tmp_path} (inotify); 0 photos and videos already there; 1 companion to join its photo"
    assert [(r.path.name, r.status) for r in results] == [("c.MOV", "joined")]


@needs_ffmpeg
def test_a_group_put_back_whole_is_said_in_its_photos_line_alone(tmp_path: Path) -> None:
    """IMG.jpg, IMG.MOV and IMG.xmp sorted into dogs/ as a group, all three moved back by hand:
    the photo is said put back, its companions go with it, in no line of their own (by `sort`,
    and by a watch started again), as before companions taken back out were put-backs."""
    import time

    from conftest import wait_until
    from test_watch_restart import said, watching

    write_image(tmp_path / "IMG.jpg", RED)
    companion(tmp_path / "IMG.xmp")
    dog_video(tmp_path / "IMG.MOV", 2.0)
    sort(tmp_path)
    for name in ("IMG.jpg", "IMG.MOV", "IMG.xmp"):
        (tmp_path / "dogs" / name).rename(tmp_path / name)
    assert sort(tmp_path, "-v").stderr.splitlines() == ["skipped: IMG.jpg: you put it back from dogs/IMG.jpg; left there"]
    with watching(tmp_path, FakeClassifier()) as (results, notices):
        assert wait_until(lambda: results, 20), results
        time.sleep(1.0)  # more scans
    assert said(results) == [("skipped", "IMG.jpg")]
    assert sorted(os.listdir(tmp_path)) == [".sorter", "IMG.MOV", "IMG.jpg", "IMG.xmp", "dogs"]


@needs_ffmpeg
def test_companions_taken_back_out_while_a_watch_runs_are_put_back_said_once(tmp_path: Path) -> None:
    """QA: a watch filed IMG.jpg into dogs/ with its IMG.MOV and IMG.xmp, then, while it still
    ran, the user moved the two companions back out: it joined them to the photo again "(its
    photo went there before it came)", as it learnt of put-backs only at its start. A running
    watch leaves them there, as it leaves a photo put back while it runs: the video said once,
    the sidecar in no line. So is a lone video it filed, put back (`mv dogs/clip.MOV .`)."""
    import time

    from conftest import wait_until
    from test_watch_restart import said, watching

    write_image(tmp_path / "IMG.jpg", RED)
    companion(tmp_path / "IMG.xmp")
    dog_video(tmp_path / "IMG.MOV", 2.0)
    dog_video(tmp_path / "clip.MOV", 2.0)
    with watching(tmp_path, FakeClassifier()) as (results, notices):
        assert wait_until(lambda: len(results) == 2, 20), results
        assert sorted(os.listdir(tmp_path / "dogs")) == ["IMG.MOV", "IMG.jpg", "IMG.xmp", "clip.MOV"]
        for name in ("IMG.MOV", "IMG.xmp", "clip.MOV"):
            (tmp_path / "dogs" / name).rename(tmp_path / name)
        assert wait_until(lambda: len(results) == 4, 20), results
        time.sleep(1.0)  # more scans: not said again, not joined
    assert sorted(said(results)[2:]) == [("skipped", "IMG.MOV"), ("skipped", "clip.MOV")]
    assert {r.path.name: r.reason for r in results[2:]} == {
        "IMG.MOV": "you put it back from dogs/IMG.MOV; left there",
        "clip.MOV": "you put it back from dogs/clip.MOV; left there"}
    assert sorted(os.listdir(tmp_path)) == [".sorter", "IMG.MOV", "IMG.xmp", "clip.MOV", "dogs"]
    assert os.listdir(tmp_path / "dogs") == ["IMG.jpg"]


@needs_ffmpeg
def test_companions_a_sort_filed_taken_back_out_while_a_watch_runs_are_put_back_too(tmp_path: Path) -> None:
    """The same, for a group a sort filed before the watch began: the watch learns where its
    companions went from the journal, as it learns where the photo went."""
    import time

    from conftest import wait_until
    from test_watch_restart import said, watching

    write_image(tmp_path / "IMG.jpg", RED)
    companion(tmp_path / "IMG.xmp")
    dog_video(tmp_path / "IMG.MOV", 2.0)
    sort(tmp_path)
    with watching(tmp_path, FakeClassifier()) as (results, notices):
        for name in ("IMG.MOV", "IMG.xmp"):
            (tmp_path / "dogs" / name).rename(tmp_path / name)
        assert wait_until(lambda: results, 20), results
        time.sleep(1.0)  # more scans: not said again, not joined
    assert said(results) == [("skipped", "IMG.MOV")]
    assert results[0].reason == "you put it back from dogs/IMG.MOV; left there"
    assert sorted(os.listdir(tmp_path)) == [".sorter", "IMG.MOV", "IMG.xmp", "dogs"]
    assert os.listdir(tmp_path / "dogs") == ["IMG.jpg"]


@needs_ffmpeg
def test_companions_that_joined_late_taken_back_out_while_the_watch_runs_are_put_back_said_once(tmp_path: Path) -> None:
    """QA: a watch filed IMG.jpg into dogs/, its IMG.xmp and Live Photo's IMG.MOV came later and
    joined it there, then, while the watch still ran, the user moved the two back out: it joined
    them to the photo again, as it knew only the companions a photo took along. One that joined
    late is the photo's companion as well: put back, the video said once, the sidecar in no line
    (by the running watch, by `sort`, and not again by a watch started again)."""
    import time

    from conftest import wait_until
    from test_watch_restart import said, watching

    write_image(tmp_path / "IMG.jpg", RED)
    with watching(tmp_path, FakeClassifier()) as (results, notices):
        assert wait_until(lambda: (tmp_path / "dogs" / "IMG.jpg").exists(), 20), results
        companion(tmp_path / "IMG.xmp")
        dog_video(tmp_path / "IMG.MOV", 2.0)
        assert wait_until(lambda: len(results) == 3, 20), results
        assert sorted(said(results)) == [("joined", "IMG.MOV"), ("joined", "IMG.xmp"), ("moved", "IMG.jpg")]
        for name in ("IMG.MOV", "IMG.xmp"):
            (tmp_path / "dogs" / name).rename(tmp_path / name)
        assert wait_until(lambda: len(results) == 4, 20), results
        time.sleep(1.0)  # more scans: not said again, not joined
    assert [(r.status, r.path.name, r.reason) for r in results[3:]] == [
        ("skipped", "IMG.MOV", "you put it back from dogs/IMG.MOV; left there")]
    assert sorted(os.listdir(tmp_path)) == [".sorter", "IMG.MOV", "IMG.xmp", "dogs"]
    assert os.listdir(tmp_path / "dogs") == ["IMG.jpg"]

    assert sort(tmp_path, "-v").stderr.splitlines() == [
        "skipped: IMG.MOV (video): you put it back from dogs/IMG.MOV; left there"]
    with watching(tmp_path, FakeClassifier()) as (results, notices):
        time.sleep(1.0)  # several scans
    assert said(results) == []
    assert sorted(os.listdir(tmp_path)) == [".sorter", "IMG.MOV", "IMG.xmp", "dogs"]


@needs_ffmpeg
def test_companions_taken_back_out_under_another_name_are_put_back_not_late_companions(tmp_path: Path) -> None:
    """QA: IMG.jpg sorted into dogs/ with its IMG.MOV and IMG.xmp, then the two taken back out
    renamed (`mv dogs/IMG.MOV IMG.mov`, `mv dogs/IMG.xmp IMG.jpg.xmp`): the next sort joined them
    to the photo as late companions, though a photo taken back out renamed stays put. A companion
    is told as such a photo is, by its device, inode and size: put back, the video said so, the
    sidecar in no line (by `sort`, and by a watch started again, said once)."""
    import time

    from conftest import wait_until
    from test_watch_restart import said, watching

    write_image(tmp_path / "IMG.jpg", RED)
    companion(tmp_path / "IMG.xmp")
    dog_video(tmp_path / "IMG.MOV", 2.0)
    sort(tmp_path)
    (tmp_path / "dogs" / "IMG.MOV").rename(tmp_path / "IMG.mov")
    (tmp_path / "dogs" / "IMG.xmp").rename(tmp_path / "IMG.jpg.xmp")
    for _ in range(2):
        again = sort(tmp_path, "-v")
        assert again.stderr.splitlines() == ["skipped: IMG.mov (video): you put it back from dogs/IMG.MOV; left there"]
        assert "joined" not in again.stdout
        assert sorted(os.listdir(tmp_path)) == [".sorter", "IMG.jpg.xmp", "IMG.mov", "dogs"]
        assert os.listdir(tmp_path / "dogs") == ["IMG.jpg"]

    for expected in ([("skipped", "IMG.mov")], []):  # said once: not again at the next start
        with watching(tmp_path, FakeClassifier()) as (results, notices):
            assert wait_until(lambda n=len(expected): len(results) == n, 20), results
            time.sleep(1.0)  # more scans
        assert said(results) == expected
        assert sorted(os.listdir(tmp_path)) == [".sorter", "IMG.jpg.xmp", "IMG.mov", "dogs"]


@needs_ffmpeg
def test_companions_taken_back_out_renamed_while_a_watch_runs_are_put_back_said_once(tmp_path: Path) -> None:
    """The same while a watch runs, for an IMG.xmp it filed with IMG.jpg and an IMG.MOV that
    joined the photo late, both taken back out renamed: left where the user put them."""
    import time

    from conftest import wait_until
    from test_watch_restart import said, watching

    write_image(tmp_path / "IMG.jpg", RED)
    companion(tmp_path / "IMG.xmp")
    with watching(tmp_path, FakeClassifier()) as (results, notices):
        assert wait_until(lambda: (tmp_path / "dogs" / "IMG.xmp").exists(), 20), results
        dog_video(tmp_path / "IMG.MOV", 2.0)
        assert wait_until(lambda: len(results) == 2, 20), results
        assert said(results) == [("moved", "IMG.jpg"), ("joined", "IMG.MOV")]
        (tmp_path / "dogs" / "IMG.MOV").rename(tmp_path / "IMG.mov")
        (tmp_path / "dogs" / "IMG.xmp").rename(tmp_path / "IMG.jpg.xmp")
        assert wait_until(lambda: len(results) == 3, 20), results
        time.sleep(1.0)  # more scans: not said again, not joined
    assert [(r.status, r.path.name, r.reason) for r in results[2:]] == [
        ("skipped", "IMG.mov", "you put it back from dogs/IMG.MOV; left there")]
    assert sorted(os.listdir(tmp_path)) == [".sorter", "IMG.jpg.xmp", "IMG.mov", "dogs"]
    assert os.listdir(tmp_path / "dogs") == ["IMG.jpg"]


@needs_ffmpeg
def test_late_companions_taken_back_out_between_two_watches_count_as_photos_and_videos_not_to_join(
        tmp_path: Path) -> None:
    """QA: a watch filed IMG_1.jpg and IMG_2.jpg, their IMG_1.MOV, IMG_1.xmp and IMG_2.MOV joined
    them late, and once it stopped the user took the three back out (IMG_2.MOV renamed IMG_2.mov).
    The next watch's first line said "0 photos and videos already there; 2 companions to join
    their photos", then left both videos where they were, put back: none was to join. It counts
    them as the videos they are, as it counts a photo put back, and as the start after it does."""
    import time

    from conftest import wait_until
    from test_watch_restart import said, watching

    for name in ("IMG_1.jpg", "IMG_2.jpg"):
        write_image(tmp_path / name, RED)
    with watching(tmp_path, FakeClassifier()) as (results, notices):
        assert wait_until(lambda: len(results) == 2, 20), results
        companion(tmp_path / "IMG_1.xmp")
        dog_video(tmp_path / "IMG_1.MOV", 2.0)
        dog_video(tmp_path / "IMG_2.MOV", 2.0)
        assert wait_until(lambda: len(results) == 5, 20), results
    assert sorted(said(results)[2:]) == [("joined", "IMG_1.MOV"), ("joined", "IMG_1.xmp"), ("joined", "IMG_2.MOV")]
    for was, now in (("IMG_1.MOV", "IMG_1.MOV"), ("IMG_1.xmp", "IMG_1.xmp"), ("IMG_2.MOV", "IMG_2.mov")):
        (tmp_path / "dogs" / was).rename(tmp_path / now)

    with watching(tmp_path, FakeClassifier()) as (results, notices):
        assert wait_until(lambda: len(results) == 2, 20), results
        time.sleep(1.0)  # more scans
    assert notices[0] == f"watching {tmp_path} (inotify); 2 photos and videos already there"
    assert sorted(said(results)) == [("skipped", "IMG_1.MOV"), ("skipped", "IMG_2.mov")]
    with watching(tmp_path, FakeClassifier()) as (results, notices):
        time.sleep(1.0)  # several scans
    assert notices[0] == (f"watching {tmp_path} (inotify); 2 photos and videos already there, all left in place "
                          "before (2 you put back) and unchanged since: not judged again")
    assert said(results) == []
    assert sorted(os.listdir(tmp_path)) == [".sorter", "IMG_1.MOV", "IMG_1.xmp", "IMG_2.mov", "dogs"]
