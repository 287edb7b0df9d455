"""`sorter undo` counts photos put back, not moves undone: a photo a sort filed and the review
page then moved again (named "Tom", into cats/Tom/; a cat corrected to a dog) goes back through
both moves and is one photo restored (README: `Restored 1 file from 2 runs`). QA: three photos
sorted, one named on the page, and `undo --all` said "Restored 4 files from 2 runs"; a Ctrl-C or
a full disk part way counted it twice too. So does every other count of its summary line: such a
photo kept, missing, left in a folder of yours or found as a copy is one photo so, however many
of its moves say it on a line of their own ("(2 missing)" of one photo deleted since)."""

from __future__ import annotations

import os
from pathlib import Path

from conftest import FakeClassifier, FullDisk, ctrl_c_at, layout, write_image
from test_review_server import click, start
from typer.testing import CliRunner

from sorter.cli import app
from sorter.sorting.sort import sort_folder

BLUE = (255, 0, 0)  # BGR: the fake says blue is a cat
runner = CliRunner()


def three_cats_sorted(root: Path) -> dict[str, object]:
    """c0..c2.jpg, sorted into cats/; the layout before the sort."""
    for n in range(3):
        write_image(root / f"c{n}.jpg", BLUE, size=(10 + n, 10 + n))
    before = layout(root)
    sort_folder(root, classifier=FakeClassifier())
    return before


def named(root: Path, photo: str, pet: str) -> None:
    """`photo` named `pet` on the review page (its server started for it and stopped after)."""
    client, stop, thread = start(root)
    try:
        card = client.cards()[photo]
        status, _ = client.json("POST", "/api/move", {"id": card["id"], "to": "cat", "pet": pet,
                                                       "generation": client.generation})
        assert status == 200
    finally:
        stop.set()
        thread.join(10)


def test_a_photo_sorted_then_named_on_the_review_page_is_one_photo_restored(tmp_path: Path) -> None:
    before = three_cats_sorted(tmp_path)
    named(tmp_path, "c0.jpg", "Tom")
    assert (tmp_path / "cats" / "Tom" / "c0.jpg").is_file()

    result = runner.invoke(app, ["undo", str(tmp_path), "--all"])

    assert (result.exit_code, result.stdout, result.stderr) == (
        0, f"Restored 3 files from 2 runs in {tmp_path}.\n", ""), result.output
    assert layout(tmp_path) == before


def test_a_photo_corrected_from_cats_to_dogs_on_the_review_page_is_one_photo_restored(tmp_path: Path) -> None:
    before = three_cats_sorted(tmp_path)
    click(tmp_path, "c1.jpg", "dog")
    assert (tmp_path / "dogs" / "c1.jpg").is_file()

    result = runner.invoke(app, ["undo", str(tmp_path), "--all"])

    assert (result.exit_code, result.stdout) == (0, f"Restored 3 files from 2 runs in {tmp_path}.\n"), result.output
    assert layout(tmp_path) == before


def test_an_undo_ctrl_c_stopped_counts_a_photo_moved_by_two_runs_once(tmp_path: Path, monkeypatch) -> None:
    """Stopped as it went to move c2 back: c1 is back, and c0 through the review's move then the
    sort's, two photos of the three; it said "put back 3 of 4 files"."""
    from sorter.files import moves

    three_cats_sorted(tmp_path)
    named(tmp_path, "c0.jpg", "Tom")
    monkeypatch.setattr(moves, "move_no_replace", ctrl_c_at(moves.move_no_replace, 4))

    stopped = runner.invoke(app, ["undo", str(tmp_path), "--all"])

    assert (stopped.exit_code, stopped.stderr) == (
        130, f"Interrupted: put back 2 of 3 files; sorter undo {tmp_path} --all puts back the rest.\n"), stopped.output
    assert (tmp_path / "c0.jpg").is_file() and (tmp_path / "c1.jpg").is_file() and (tmp_path / "cats" / "c2.jpg").is_file()
    monkeypatch.undo()
    again = runner.invoke(app, ["undo", str(tmp_path), "--all"])
    assert (again.exit_code, again.stdout) == (0, f"Restored 1 file from 1 run in {tmp_path}.\n"), again.output


def test_an_undo_a_full_disk_stopped_counts_a_photo_moved_by_two_runs_once(tmp_path: Path, monkeypatch) -> None:
    """The disk full once the sort's chunk went back: each of the three photos back, c0 through
    two moves; it said "put back 4 files before it stopped"."""
    from sorter.files import journal_writer

    three_cats_sorted(tmp_path)
    named(tmp_path, "c0.jpg", "Tom")
    full = FullDisk()
    full.room = 3  # the review's intent and mark, the sort's intents: full as it marks them undone
    monkeypatch.setattr(journal_writer, "os", full)

    stopped = runner.invoke(app, ["undo", str(tmp_path), "--all"])

    assert (stopped.exit_code, stopped.stderr) == (1, (
        f"Error: {tmp_path / '.sorter' / 'journal.jsonl'}: No space left on device; put back 3 files before it "
        "stopped, journaled: the next sorter command settles it once there is room\n")), stopped.output
    assert sorted(p.name for p in tmp_path.glob("c*.jpg")) == ["c0.jpg", "c1.jpg", "c2.jpg"]



def test_a_photo_moved_by_two_runs_and_kept_in_place_is_one_photo_kept(tmp_path: Path) -> None:
    """c1 corrected to a dog, then a new photo of the user's saved as cats/c1.jpg: the review's
    move is kept, and the sort's with it (a line each: both are tried again); "(2 kept in place)"."""
    three_cats_sorted(tmp_path)
    click(tmp_path, "c1.jpg", "dog")
    write_image(tmp_path / "cats" / "c1.jpg", BLUE, size=(48, 8))

    result = runner.invoke(app, ["undo", str(tmp_path), "--all"])

    assert (result.exit_code, result.stdout, result.stderr.splitlines()) == (
        0, f"Restored 2 files from 1 run in {tmp_path} (1 kept in place).\n", [
            "kept: dogs/c1.jpg: another file is at cats/c1.jpg now; left in place",
            "kept: cats/c1.jpg: its later move (dogs/c1.jpg) is kept; left in place"]), result.output


def test_a_photo_moved_by_two_runs_then_deleted_is_one_photo_missing(tmp_path: Path) -> None:
    """Each move's line says where sorter put it and where from; "(2 missing)" of one photo."""
    three_cats_sorted(tmp_path)
    click(tmp_path, "c1.jpg", "dog")
    (tmp_path / "dogs" / "c1.jpg").unlink()

    result = runner.invoke(app, ["undo", str(tmp_path), "--all"])

    assert (result.exit_code, result.stdout, result.stderr.splitlines()) == (
        0, f"Restored 2 files from 1 run in {tmp_path} (1 missing).\n", [
            "missing: dogs/c1.jpg: no longer there (was cats/c1.jpg)",
            "missing: cats/c1.jpg: no longer there (was c1.jpg)"]), result.output


def test_a_photo_moved_by_two_runs_into_a_folder_of_yours_is_one_photo_left_there(tmp_path: Path) -> None:
    three_cats_sorted(tmp_path)
    click(tmp_path, "c1.jpg", "dog")
    (tmp_path / "album").mkdir()
    os.rename(tmp_path / "dogs" / "c1.jpg", tmp_path / "album" / "c1.jpg")

    result = runner.invoke(app, ["undo", str(tmp_path), "--all"])

    assert (result.exit_code, result.stdout.splitlines()[-1]) == (
        0, f"Restored 2 files from 1 run in {tmp_path} (1 left in a folder of yours)."), result.output
    assert (tmp_path / "album" / "c1.jpg").is_file()


def test_an_undo_ctrl_c_stopped_counts_a_photo_moved_by_two_runs_and_missing_once(tmp_path: Path,
                                                                                  monkeypatch) -> None:
    """Stopped once every run was undone, before it removed .sorter/: the journal's "gone" marks
    counted the photo twice, "put back 2 of 3 files (2 missing)" of three photos."""
    from conftest import ctrl_c_at

    from sorter.files import undo as restore

    three_cats_sorted(tmp_path)
    click(tmp_path, "c1.jpg", "dog")
    (tmp_path / "dogs" / "c1.jpg").unlink()
    monkeypatch.setattr(restore, "_remove_if_empty", ctrl_c_at(restore._remove_if_empty, 2))

    stopped = runner.invoke(app, ["undo", str(tmp_path), "--all"])

    assert (stopped.exit_code, stopped.stderr.splitlines()[-1]) == (
        130, f"Interrupted as it finished: put back 2 of 3 files (1 missing); none is left to put back, and "
             f"sorter undo {tmp_path} removes the .sorter/ and cats/ it left."), stopped.output
