"""`sorter undo` counts each photo once, in one of its counts, in every line that counts: the lines
beyond those listed ("missing: N more files") count photos as the summary does, a photo two runs
moved (sorted into cats/, corrected to dogs/ on the review page) being one photo with a line of
each move; a photo found back in cats/ by its review move is "already back", not restored by its
sort's move too; and one the user put back under another name is said by its "found" line alone,
by an undo that finishes and by one a Ctrl-C stops."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from conftest import FakeClassifier, ctrl_c_at, write_image
from test_review_server import click
from typer.testing import CliRunner

from sorter.cli import app
from sorter.sorting.sort import sort_folder

BLUE = (255, 0, 0)  # BGR: the fake says blue is a cat
runner = CliRunner()


def three_cats_sorted(root: Path) -> None:
    """c0..c2.jpg, sorted into cats/."""
    for n in range(3):
        write_image(root / f"c{n}.jpg", BLUE, size=(10 + n, 10 + n))
    sort_folder(root, classifier=FakeClassifier())


def two_corrected_to_dogs_then_deleted(root: Path, monkeypatch) -> None:
    """c1 and c2 corrected to dogs/ on the review page, then deleted: four "missing" lines, of two
    photos. An undo lists one line: the rest are "more" (1,000 lines listed in use, 1 here)."""
    from sorter.files import recovery, undo_lines

    three_cats_sorted(root)
    for photo in ("c1.jpg", "c2.jpg"):
        click(root, photo, "dog")
        (root / "dogs" / photo).unlink()
    monkeypatch.setattr(undo_lines, "REPORT_LINES", 1)
    monkeypatch.setattr(recovery, "REPORT_LINES", 1)


def test_the_missing_beyond_the_lines_listed_are_counted_in_photos(tmp_path: Path, monkeypatch) -> None:
    """It said "missing: 3 more files" under "(2 missing)": the listed line's photo, and each move's line."""
    two_corrected_to_dogs_then_deleted(tmp_path, monkeypatch)

    result = runner.invoke(app, ["undo", str(tmp_path), "--all"])

    assert (result.exit_code, result.stdout, result.stderr.splitlines()) == (
        0, f"Restored 1 file from 1 run in {tmp_path} (2 missing).\n",
        ["missing: dogs/c2.jpg: no longer there (was cats/c2.jpg)", "missing: 1 more file"]), result.output


def test_an_undo_ctrl_c_stopped_counts_the_missing_beyond_the_lines_listed_in_photos(tmp_path: Path,
                                                                                     monkeypatch) -> None:
    """Stopped as it finished: it said "missing: 3 more files" under "(2 missing)"."""
    from sorter.files import undo as restore

    two_corrected_to_dogs_then_deleted(tmp_path, monkeypatch)
    monkeypatch.setattr(restore, "_remove_if_empty", ctrl_c_at(restore._remove_if_empty, 3))

    stopped = runner.invoke(app, ["undo", str(tmp_path), "--all"])

    assert (stopped.exit_code, stopped.stderr.splitlines()) == (130, [
        "missing: dogs/c2.jpg: no longer there (was cats/c2.jpg)", "missing: 1 more file",
        f"Interrupted as it finished: put back 1 of 3 files (2 missing); none is left to put back, and "
        f"sorter undo {tmp_path} removes the .sorter/ and cats/ it left."]), stopped.output


def corrected_then_put_back_in_cats(root: Path) -> None:
    """c1 corrected to dogs/ on the review page, then moved back into cats/ by hand."""
    three_cats_sorted(root)
    click(root, "c1.jpg", "dog")
    os.rename(root / "dogs" / "c1.jpg", root / "cats" / "c1.jpg")


def test_a_photo_its_review_move_finds_back_is_not_restored_by_its_sort_move_too(tmp_path: Path) -> None:
    """It said "Restored 3 files from 1 run (1 already back where it was)" of three photos."""
    corrected_then_put_back_in_cats(tmp_path)

    result = runner.invoke(app, ["undo", str(tmp_path), "--all"])

    assert (result.exit_code, result.stdout, result.stderr) == (
        0, f"Restored 2 files from 1 run in {tmp_path} (1 already back where it was).\n", ""), result.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c0.jpg", "c1.jpg", "c2.jpg"]


def test_an_undo_ctrl_c_stopped_counts_a_photo_its_review_move_finds_back_once(tmp_path: Path,
                                                                               monkeypatch) -> None:
    """It said "put back 3 of 3 files (1 already back where it was)"."""
    from sorter.files import undo as restore

    corrected_then_put_back_in_cats(tmp_path)
    monkeypatch.setattr(restore, "_remove_if_empty", ctrl_c_at(restore._remove_if_empty, 2))

    stopped = runner.invoke(app, ["undo", str(tmp_path), "--all"])

    assert (stopped.exit_code, stopped.stderr) == (130, (
        f"Interrupted as it finished: put back 2 of 3 files (1 already back where it was); none is left to put "
        f"back, and sorter undo {tmp_path} removes the .sorter/ and cats/ it left.\n")), stopped.output


def put_back_as_another_name(root: Path) -> None:
    """c.jpg and d.jpg sorted; c.jpg put back by hand as "c home.jpg", and touched."""
    write_image(root / "c.jpg", BLUE, size=(16, 8))
    write_image(root / "d.jpg", BLUE, size=(18, 8))
    sort_folder(root, classifier=FakeClassifier())
    os.rename(root / "cats" / "c.jpg", root / "c home.jpg")
    st = (root / "c home.jpg").stat()
    os.utime(root / "c home.jpg", ns=(st.st_atime_ns, st.st_mtime_ns + 5_000_000_000))


FOUND = "found: cats/c.jpg: you put it back as c home.jpg; left there (was c.jpg)\n"


@pytest.mark.parametrize("stopped", [False, True], ids=["finished", "ctrl-c"])
def test_a_photo_put_back_as_another_name_is_said_by_its_found_line_alone(tmp_path: Path, monkeypatch,
                                                                          stopped: bool) -> None:
    """The Ctrl-C'd undo said "put back 1 of 2 files (1 missing)" where the finished one said no count."""
    from sorter.files import undo as restore

    put_back_as_another_name(tmp_path)
    if stopped:
        monkeypatch.setattr(restore, "_remove_if_empty", ctrl_c_at(restore._remove_if_empty, 1))

    result = runner.invoke(app, ["undo", str(tmp_path), "--all"])

    if stopped:
        assert (result.exit_code, result.stdout, result.stderr) == (130, FOUND, (
            f"Interrupted as it finished: put back 1 of 2 files; none is left to put back, and sorter undo "
            f"{tmp_path} removes the .sorter/ and cats/ it left.\n")), result.output
    else:
        assert (result.exit_code, result.stdout, result.stderr) == (
            0, f"{FOUND}Restored 1 file from 1 run in {tmp_path}.\n", ""), result.output
    assert (tmp_path / "c home.jpg").is_file() and (tmp_path / "d.jpg").is_file()


def corrected_then_a_new_photo_where_it_came_from(root: Path, by_hand: bool) -> None:
    """c1 corrected to dogs/ on the review page (and, `by_hand`, moved back into cats/ by hand),
    then a new photo of the user's saved as c1.jpg, where the sort took c1 from."""
    three_cats_sorted(root)
    click(root, "c1.jpg", "dog")
    if by_hand:
        os.rename(root / "dogs" / "c1.jpg", root / "cats" / "c1.jpg")
    write_image(root / "c1.jpg", BLUE, size=(48, 8))


@pytest.mark.parametrize(("by_hand", "runs"), [(False, "2 runs"), (True, "1 run")], ids=["review-undone", "by-hand"])
def test_a_photo_its_review_move_puts_back_and_its_sort_move_keeps_is_one_photo_kept(tmp_path: Path, by_hand: bool,
                                                                                     runs: str) -> None:
    """The review's move takes c1 back into cats/ (or finds it there), the sort's keeps it there:
    it said "Restored 3 files ... (1 kept in place)" of three photos (by hand: "(1 already back
    where it was, 1 kept in place)")."""
    corrected_then_a_new_photo_where_it_came_from(tmp_path, by_hand)

    result = runner.invoke(app, ["undo", str(tmp_path), "--all"])

    assert (result.exit_code, result.stdout, result.stderr) == (
        0, f"Restored 2 files from {runs} in {tmp_path} (1 kept in place).\n",
        "kept: cats/c1.jpg: another file is at c1.jpg now; left in place\n"), result.output
    assert (tmp_path / "cats" / "c1.jpg").is_file()


@pytest.mark.parametrize("by_hand", [False, True], ids=["review-undone", "by-hand"])
def test_an_undo_ctrl_c_stopped_counts_a_photo_put_back_then_kept_as_left(tmp_path: Path, monkeypatch,
                                                                          by_hand: bool) -> None:
    """Stopped once both runs were undone: it said "put back 3 of 3 files" (by hand: "put back 2
    of 3 files (1 already back where it was)") of c1, still in cats/, the rest to put back."""
    from sorter.files import undo as restore

    corrected_then_a_new_photo_where_it_came_from(tmp_path, by_hand)
    monkeypatch.setattr(restore, "_remove_if_empty", ctrl_c_at(restore._remove_if_empty, 2))

    stopped = runner.invoke(app, ["undo", str(tmp_path), "--all"])

    assert (stopped.exit_code, stopped.stderr) == (130, (
        f"Interrupted: put back 2 of 3 files; sorter undo {tmp_path} --all puts back the rest.\n")), stopped.output


def put_back_by_hand_and_another_photo_in_its_place(root: Path, sorted_in: str) -> None:
    """c1.jpg moved back by hand from `sorted_in` (where the last run put it) to where it was
    before that run, and another photo of the user's saved under its sorted name."""
    was = "c1.jpg" if sorted_in == "cats" else "cats/c1.jpg"
    os.rename(root / sorted_in / "c1.jpg", root / was)
    write_image(root / sorted_in / "c1.jpg", (0, 0, 255), size=(30, 30))  # a dog: not the photo sorter moved


def test_a_photo_put_back_by_hand_with_another_file_in_its_sorted_place_is_already_back(tmp_path: Path) -> None:
    """It said "kept: cats/c1.jpg: another file is at c1.jpg now; left in place" of c1.jpg, the
    photo itself, and every undo after said it again: .sorter/ was never removed."""
    three_cats_sorted(tmp_path)
    put_back_by_hand_and_another_photo_in_its_place(tmp_path, "cats")
    photo, other = (tmp_path / "c1.jpg").read_bytes(), (tmp_path / "cats" / "c1.jpg").read_bytes()

    result = runner.invoke(app, ["undo", str(tmp_path)])

    assert (result.exit_code, result.stdout, result.stderr) == (
        0, f"Restored 2 files from 1 run in {tmp_path} (1 already back where it was).\n", ""), result.output
    assert (tmp_path / "c1.jpg").read_bytes() == photo and (tmp_path / "cats" / "c1.jpg").read_bytes() == other
    assert sorted(os.listdir(tmp_path)) == ["c0.jpg", "c1.jpg", "c2.jpg", "cats"]  # .sorter/ gone: all undone


def test_a_corrected_photo_put_back_by_hand_with_another_file_in_its_place_is_counted_once(tmp_path: Path) -> None:
    """c1 corrected to dogs/ on the review page, moved back into cats/ by hand, another photo
    saved as dogs/c1.jpg: `undo --all` said "Restored 3 files from 1 run (1 kept in place)" of
    three photos, c1 both kept (its review move) and restored (its sort's move)."""
    three_cats_sorted(tmp_path)
    click(tmp_path, "c1.jpg", "dog")
    put_back_by_hand_and_another_photo_in_its_place(tmp_path, "dogs")
    photo, other = (tmp_path / "cats" / "c1.jpg").read_bytes(), (tmp_path / "dogs" / "c1.jpg").read_bytes()

    result = runner.invoke(app, ["undo", str(tmp_path), "--all"])

    assert (result.exit_code, result.stdout, result.stderr) == (
        0, f"Restored 2 files from 1 run in {tmp_path} (1 already back where it was).\n", ""), result.output
    assert (tmp_path / "c1.jpg").read_bytes() == photo and (tmp_path / "dogs" / "c1.jpg").read_bytes() == other
