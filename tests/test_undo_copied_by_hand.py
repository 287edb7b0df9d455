"""`sorter undo` of a photo that is no longer that very file, though it is right there: moved by
hand across a mount point (`mv` copies, then deletes), or copied and the original deleted
(`cp -p`, then `rm`). Not found by its identity (device, inode), it was said missing and
journaled gone. Now a file of its name, size and modification time (to the nanosecond) in the
places undo looks is taken for it, and put back as a photo found by its identity is (or left in
a folder of the user's own); never where two files have all three, nor a copy of another time."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from conftest import FakeClassifier, layout, mounted, write_image
from typer.testing import CliRunner

from sorter.cli import app
from sorter.sorting.sort import sort_folder

RED, BLUE = (0, 0, 255), (255, 0, 0)  # BGR: the fake says red = dog, blue = cat
runner = CliRunner()


def sorted_photos(root: Path) -> dict[str, object]:
    """a.jpg, b.jpg (cats) and d.jpg (a dog), each of its own size, sorted; the layout before."""
    for i, (name, colour) in enumerate((("a.jpg", BLUE), ("b.jpg", BLUE), ("d.jpg", RED))):
        write_image(root / name, colour, size=(8 * (i + 2), 8))
    before = layout(root)
    sort_folder(root, classifier=FakeClassifier())
    return before


def copied_then_deleted(source: Path, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy2(source, target)  # `cp -p`: its time, to the nanosecond
    source.unlink()


def test_a_photo_copied_elsewhere_and_deleted_is_found_by_its_name_size_and_time(tmp_path: Path) -> None:
    before = sorted_photos(tmp_path)
    copied_then_deleted(tmp_path / "dogs" / "d.jpg", tmp_path / "dogs" / "2019" / "d.jpg")
    copied_then_deleted(tmp_path / "cats" / "a.jpg", tmp_path / "mine" / "a.jpg")  # a folder of the user's own
    (tmp_path / "cats" / "b.jpg").unlink()  # truly gone

    result = runner.invoke(app, ["undo", str(tmp_path)])

    assert (result.exit_code, sorted(result.stdout.splitlines()), result.stderr) == (0, [
        f"Restored 1 file from 1 run in {tmp_path} (1 missing, 1 left in a folder of yours).",
        "found: cats/a.jpg: moved to mine/a.jpg since, into a folder of yours; left there (was a.jpg)",
        "found: dogs/d.jpg: moved to dogs/2019/d.jpg since; put back from there to d.jpg",
    ], "missing: cats/b.jpg: no longer there (was b.jpg)\n"), result.output
    assert layout(tmp_path) == {k: v for k, v in before.items() if k not in ("a.jpg", "b.jpg")} | {
        "dogs": "dir", "dogs/2019": "dir", "mine": "dir", "mine/a.jpg": before["a.jpg"]}


def test_a_photo_moved_by_hand_onto_another_disk_inside_cats_is_put_back_from_there(tmp_path: Path) -> None:
    # `mount -t tmpfs tmpfs cats/Luna; mv cats/a.jpg cats/Luna/`: "missing: cats/a.jpg: no longer
    # there (was a.jpg)", where a plain `mv` on one disk was found.
    if os.geteuid() != 0:
        pytest.skip("needs root to mount a tmpfs as cats/Luna")
    before = sorted_photos(tmp_path)
    luna = tmp_path / "cats" / "Luna"
    luna.mkdir()
    with mounted(["mount", "-t", "tmpfs", "-o", "size=8m", "tmpfs", str(luna)], luna, "a tmpfs as cats/Luna"):
        shutil.move(tmp_path / "cats" / "a.jpg", luna / "a.jpg")  # `mv` across a mount point: copied, then deleted
        assert (luna / "a.jpg").stat().st_dev != (tmp_path / "cats").stat().st_dev

        result = runner.invoke(app, ["undo", str(tmp_path)])

        assert (result.exit_code, sorted(result.stdout.splitlines()), result.stderr) == (0, [
            f"Restored 3 files from 1 run in {tmp_path}.",
            "found: cats/a.jpg: moved to cats/Luna/a.jpg since; put back from there to a.jpg",
        ], ""), result.output
        assert layout(tmp_path) == before | {"cats": "dir", "cats/Luna": "dir"}  # the user's mount point stays


def test_two_copies_of_its_name_size_and_time_are_no_guess_and_a_copy_of_another_time_is_not_it(
        tmp_path: Path) -> None:
    sorted_photos(tmp_path)
    shutil.copy2(tmp_path / "dogs" / "d.jpg", tmp_path / "d.jpg.bak")  # another name: not it
    os.makedirs(tmp_path / "dogs" / "old")
    shutil.copy2(tmp_path / "dogs" / "d.jpg", tmp_path / "dogs" / "old" / "d.jpg")
    copied_then_deleted(tmp_path / "dogs" / "d.jpg", tmp_path / "dogs" / "2019" / "d.jpg")
    os.makedirs(tmp_path / "cats" / "2019")
    shutil.copyfile(tmp_path / "cats" / "a.jpg", tmp_path / "cats" / "2019" / "a.jpg")  # `cp`: a time of its own
    (tmp_path / "cats" / "a.jpg").unlink()

    result = runner.invoke(app, ["undo", str(tmp_path)])

    assert (result.exit_code, result.stdout, sorted(result.stderr.splitlines())) == (
        0, f"Restored 1 file from 1 run in {tmp_path} (1 missing, 1 kept in place).\n", [
            "kept: dogs/d.jpg: no longer there, and 2 files have its name, size and time (dogs/2019/d.jpg, "
            "dogs/old/d.jpg): which is it cannot be told; left in place",
            "missing: cats/a.jpg: no longer there (was a.jpg)",
        ]), result.output
    assert (tmp_path / "dogs" / "2019" / "d.jpg").exists() and (tmp_path / "dogs" / "old" / "d.jpg").exists()


def test_a_photo_copied_back_to_its_first_place_by_hand_is_back(tmp_path: Path) -> None:
    # Not its copy taken for it found elsewhere, with a file at its first place: "kept: ... another file is at ... now".
    before = sorted_photos(tmp_path)
    copied_then_deleted(tmp_path / "dogs" / "d.jpg", tmp_path / "d.jpg")

    result = runner.invoke(app, ["undo", str(tmp_path)])

    assert (result.exit_code, result.stdout, result.stderr) == (
        0, f"Restored 2 files from 1 run in {tmp_path} (1 already back where it was).\n", ""), result.output
    assert layout(tmp_path) == before


def test_a_copy_put_back_under_another_name_is_said_where_it_is_not_missing(tmp_path: Path) -> None:
    """QA: `cp -p cats/a.jpg a-copy.jpg && rm cats/a.jpg` (a file manager's copy keeps the time
    too) put the photo back by hand under a name of the user's choosing, and undo said it missing.
    The one file of its size and time in the folder it came from is said to be it, and left there
    under its new name; a copy of another time (`cp` alone) is not told from another photo: missing."""
    before = sorted_photos(tmp_path)
    copied_then_deleted(tmp_path / "cats" / "a.jpg", tmp_path / "a-copy.jpg")
    shutil.copyfile(tmp_path / "cats" / "b.jpg", tmp_path / "b copy.jpg")  # `cp`: a time of its own
    (tmp_path / "cats" / "b.jpg").unlink()

    result = runner.invoke(app, ["undo", str(tmp_path)])

    assert (result.exit_code, sorted(result.stdout.splitlines()), result.stderr) == (0, [
        f"Restored 1 file from 1 run in {tmp_path} (1 missing, 1 found as a copy).",
        "found: cats/a.jpg: a file of its size and time is at a-copy.jpg (a copy?); left there (was a.jpg)",
    ], "missing: cats/b.jpg: no longer there (was b.jpg)\n"), result.output
    assert layout(tmp_path) == {"d.jpg": before["d.jpg"], "a-copy.jpg": before["a.jpg"], "b copy.jpg": before["b.jpg"]}


def test_a_copy_of_another_photo_cut_to_its_size_and_time_is_said_a_file_of_its_size_and_time(tmp_path: Path) -> None:
    """QA: another photo cut to the deleted cat's size and given its time (`truncate`, `touch -r`)
    was said to be "back as other.jpg since (a copy, ...)". Its content is not compared (the
    journal keeps no hash), so undo says only what it knows, and leaves the file where it is."""
    sorted_photos(tmp_path)
    photo = tmp_path / "cats" / "a.jpg"
    other = tmp_path / "other.jpg"
    shutil.copyfile(tmp_path / "dogs" / "d.jpg", other)
    os.truncate(other, photo.stat().st_size)
    os.utime(other, ns=(photo.stat().st_atime_ns, photo.stat().st_mtime_ns))
    photo.unlink()

    result = runner.invoke(app, ["undo", str(tmp_path)])

    assert (result.exit_code, result.stdout.splitlines(), result.stderr) == (0, [
        "found: cats/a.jpg: a file of its size and time is at other.jpg (a copy?); left there (was a.jpg)",
        f"Restored 2 files from 1 run in {tmp_path} (1 found as a copy).",
    ], ""), result.output
    assert other.is_file()


def test_undo_all_says_where_a_copy_is_of_both_moves_of_its_photo_not_missing_of_the_older(tmp_path: Path) -> None:
    """QA: a review moved cats/a.jpg to dogs/, the user copied it back into cats/ as mine.jpg
    (`cp -p`) and deleted dogs/a.jpg; one `undo --all` said "found: dogs/a.jpg: ... cats/mine.jpg"
    of the review's move, then "missing: cats/a.jpg: no longer there" of the sort's, of one photo.
    The sort's move, whose photo the review's line found, says so too; the photo counts once."""
    from test_review_naming import name
    from test_review_traces import reviewing

    sorted_photos(tmp_path)
    with reviewing(tmp_path) as client:
        assert name(client, "a.jpg", None, to="dog")[0] == 200
    copied_then_deleted(tmp_path / "dogs" / "a.jpg", tmp_path / "cats" / "mine.jpg")

    result = runner.invoke(app, ["undo", "--all", str(tmp_path)])

    assert (result.exit_code, result.stdout.splitlines(), result.stderr) == (0, [
        "found: dogs/a.jpg: a file of its size and time is at cats/mine.jpg (a copy?); left there (was cats/a.jpg)",
        "found: cats/a.jpg: a file of its size and time is at cats/mine.jpg (a copy?); left there (was a.jpg)",
        f"Restored 2 files from 1 run in {tmp_path} (1 found as a copy).",  # one photo, a line a move
    ], ""), result.output
    assert (tmp_path / "cats" / "mine.jpg").is_file()
