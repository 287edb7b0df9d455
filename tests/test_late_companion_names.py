"""A late companion (a Live Photo's .MOV, an .AAE, an .xmp copied in after its photo was sorted)
pairs with its photo by its name alone: it joins under the name that pairs with the photo or
not at all. Where that name is taken in the photo's folder (a stranger named IMG_1.MOV already
in cats/, or the copy that joined before, synced in again), it had joined as `IMG_1 (1).MOV`,
paired with nothing, and the photo's card on the review page listed the stranger as its
companion, which a **Dog** click then moved along. Now it is left where it is, said so."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from clips import make_clip, needs_ffmpeg
from conftest import FakeClassifier, cli_sort, layout, write_image
from typer.testing import CliRunner

from sorter.cli import app

BLUE, RED = (255, 0, 0), (0, 0, 255)  # BGR: blue = cat, red = dog
runner = CliRunner()


pytestmark = pytest.mark.usefixtures("fake_classifier_loaded")
sort = cli_sort


def cat_video(path: Path) -> Path:
    """A real 2 s clip of a cat (blue, to the fake model), made aside and renamed in: copied in whole."""
    frame = write_image(path.parent.parent / f"{path.parent.name}-cat.png", BLUE, size=(240, 320))
    return make_clip(path.parent.parent / f"{path.parent.name}-{path.name}", [frame], seconds=2.0).rename(path)


def left(name: str, taken: str) -> str:
    return (f"skipped: {name}: cannot join its photo: another file is at cats/{taken}, the name that pairs it "
            "with cats/IMG_1.JPG; left where it is")


def photo_sorted_then_strangers_in_cats(root: Path) -> None:
    """IMG_1.JPG sorted into cats/; then files of its companions' names put in cats/ by hand."""
    write_image(root / "IMG_1.JPG", BLUE)
    sort(root)
    for name in ("IMG_1.MOV", "IMG_1.AAE", "IMG_1.JPG.xmp"):
        (root / "cats" / name).write_bytes(b"a stranger's")


@needs_ffmpeg
def test_a_late_companion_whose_name_is_taken_by_a_stranger_is_left_where_it_is(tmp_path: Path) -> None:
    photo_sorted_then_strangers_in_cats(tmp_path)
    cat_video(tmp_path / "IMG_1.MOV")  # the Live Photo's video and sidecars, synced in later
    (tmp_path / "IMG_1.AAE").write_bytes(b"mine")
    (tmp_path / "IMG_1.JPG.xmp").write_bytes(b"mine")
    cats = layout(tmp_path / "cats")

    result = sort(tmp_path, "--verbose")

    assert sorted(result.stderr.splitlines()) == [
        left("IMG_1.AAE", "IMG_1.AAE"), left("IMG_1.JPG.xmp", "IMG_1.JPG.xmp"), left("IMG_1.MOV", "IMG_1.MOV")]
    assert "left in place: skipped │ cannot join its photo │     3" in result.stdout
    assert "Undo with" not in result.stdout  # nothing moved, not judged alone as a video either
    assert layout(tmp_path / "cats") == cats  # no `IMG_1 (1).MOV` pairing with nothing
    assert sorted(os.listdir(tmp_path)) == [".sorter", "IMG_1.AAE", "IMG_1.JPG.xmp", "IMG_1.MOV", "cats"]
    assert sort(tmp_path, "--verbose").stderr == result.stderr  # said again, as any file left in place
    assert runner.invoke(app, ["undo", str(tmp_path)]).exit_code == 0  # the photo's sort, exactly
    assert sorted(os.listdir(tmp_path / "cats")) == ["IMG_1.AAE", "IMG_1.JPG.xmp", "IMG_1.MOV"]
    assert (tmp_path / "IMG_1.JPG").is_file() and (tmp_path / "IMG_1.AAE").read_bytes() == b"mine"


def test_a_dry_run_says_the_late_companion_is_left_as_the_sort_then_leaves_it_and_json_says_why(
        tmp_path: Path) -> None:
    photo_sorted_then_strangers_in_cats(tmp_path)
    (tmp_path / "IMG_1.AAE").write_bytes(b"mine")
    before = layout(tmp_path)

    plan = sort(tmp_path, "--dry-run", "--verbose")
    planned = json.loads(sort(tmp_path, "--dry-run", "--json").stdout)
    assert layout(tmp_path) == before
    done = json.loads(sort(tmp_path, "--json").stdout)

    assert plan.stderr.splitlines() == [left("IMG_1.AAE", "IMG_1.AAE")]  # was: would join -> cats/IMG_1.AAE
    assert planned["files"] == done["files"] == [{
        "path": str(tmp_path / "IMG_1.AAE"), "kind": "companion", "frames": None, "status": "skipped",
        "label": None, "confidence": None, "destination": None, "reason": left("IMG_1.AAE", "IMG_1.AAE").split(
            ": ", 2)[2], "companions": [], "warnings": []}]
    assert planned["counts"] == done["counts"] == {"skipped": 1}
    assert layout(tmp_path) == before  # the real run left it too: was `cats/IMG_1 (1).AAE`


def test_a_companion_synced_in_again_after_it_went_with_its_photo_is_left_not_joined_as_a_copy(
        tmp_path: Path) -> None:
    write_image(tmp_path / "IMG_1.JPG", BLUE)
    (tmp_path / "IMG_1.AAE").write_bytes(b"edits")
    sort(tmp_path)  # the photo and its .AAE into cats/
    (tmp_path / "IMG_1.AAE").write_bytes(b"edits")  # the phone's sync brings it again
    before = layout(tmp_path)

    plan = sort(tmp_path, "--dry-run", "--verbose")
    result = sort(tmp_path, "--verbose")

    assert plan.stderr.splitlines() == result.stderr.splitlines() == [left("IMG_1.AAE", "IMG_1.AAE")]
    assert layout(tmp_path) == before  # was `cats/IMG_1 (1).AAE`, which a review's Dog left behind
    undone = runner.invoke(app, ["undo", str(tmp_path)])  # the first sort's, whose .AAE's place the copy holds
    assert undone.exit_code == 0, undone.output
    assert "kept: cats/IMG_1.AAE: another file is at IMG_1.AAE now; left in place" in undone.stderr
    assert sorted(os.listdir(tmp_path / "cats")) == [
        "IMG_1.AAE", "IMG_1.JPG"]  # the group kept whole, never a file overwritten


def test_a_watch_leaves_a_late_companion_whose_name_is_taken_said_once(tmp_path: Path) -> None:
    import time

    from conftest import wait_until
    from test_watch_restart import said, watching

    write_image(tmp_path / "IMG_1.JPG", BLUE)
    with watching(tmp_path, FakeClassifier()) as (results, notices):
        assert wait_until(lambda: (tmp_path / "cats" / "IMG_1.JPG").exists(), 20), results
        (tmp_path / "cats" / "IMG_1.AAE").write_bytes(b"a stranger's")
        (tmp_path / "IMG_1.AAE").write_bytes(b"mine")
        assert wait_until(lambda: len(results) == 2, 20), results
        time.sleep(1.0)  # more scans: not said again, not joined under another name
    assert said(results) == [("moved", "IMG_1.JPG"), ("skipped", "IMG_1.AAE")]
    assert results[1].reason == left("IMG_1.AAE", "IMG_1.AAE").split(": ", 2)[2]
    assert sorted(os.listdir(tmp_path / "cats")) == ["IMG_1.AAE", "IMG_1.JPG"]
    assert (tmp_path / "cats" / "IMG_1.AAE").read_bytes() == b"a stranger's"
    assert (tmp_path / "IMG_1.AAE").read_bytes() == b"mine"


def test_a_name_taken_just_before_the_move_leaves_a_group_that_goes_under_its_names_or_not_at_all(
        tmp_path: Path) -> None:
    """The race past the sort's look: the no-replace move finds the name taken, and a late
    companion is not renamed, as a photo is (`file_groups`' `taken`)."""
    from sorter.files.filing import file_groups
    from sorter.files.journal_writer import Journal

    (tmp_path / "cats").mkdir()
    (tmp_path / "cats" / "IMG_1.AAE").write_bytes(b"came just now")
    (tmp_path / "IMG_1.AAE").write_bytes(b"mine")
    journal = Journal(tmp_path)

    filed = file_groups(tmp_path, journal, [[(tmp_path / "IMG_1.AAE", tmp_path / "cats" / "IMG_1.AAE")]],
                        lambda folder, names: [f"renamed {name}" for name in names],
                        taken=lambda pairs: ("skipped", f"{pairs[0][1].name} is taken"))

    assert [f.failure for f in filed] == [("skipped", "IMG_1.AAE is taken")]
    assert sorted(os.listdir(tmp_path / "cats")) == ["IMG_1.AAE"]
    assert (tmp_path / "IMG_1.AAE").read_bytes() == b"mine"


def test_a_watchs_first_line_counts_a_late_aae_and_xmp_as_companions_to_join(tmp_path: Path) -> None:
    # IMG_1.jpg and IMG_2.jpg sorted, then IMG_1.AAE and IMG_2.jpg.xmp copied in while no watch ran:
    # the first line said "0 photos and videos already there" alone (a .MOV alone was counted),
    # and the stop then said "2 companions joined their photos".
    from conftest import FakeClassifier, wait_until
    from test_watch_restart import watching

    write_image(tmp_path / "IMG_1.jpg", BLUE)
    write_image(tmp_path / "IMG_2.jpg", BLUE)
    sort(tmp_path)
    (tmp_path / "IMG_1.AAE").write_text("edits")
    (tmp_path / "IMG_2.jpg.xmp").write_text("<x:xmpmeta/>")
    with watching(tmp_path, FakeClassifier()) as (results, notices):
        assert wait_until(lambda: (tmp_path / "cats" / "IMG_2.jpg.xmp").exists()
                          and (tmp_path / "cats" / "IMG_1.AAE").exists(), 20), results
    assert notices[0] == (f"watching {tmp_path} (inotify); 0 photos and videos already there; "
                          "2 companions to join their photos")
    assert sorted((r.path.name, r.status) for r in results) == [("IMG_1.AAE", "joined"), ("IMG_2.jpg.xmp", "joined")]
