"""State a newer sorter wrote (a personal model, its examples, a folder's journal) is never called
damaged, never written over and never half undone: this sorter says it is a newer sorter's, and
what to do, in one line. Journals and examples that do not say their format are of the first."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from conftest import FakeClassifier, layout, write_image
from test_learn import invoke, new_photos, sorted_and_corrected

from sorter.files.journal import journal_path
from sorter.model import personal
from sorter.sorting.sort import sort_folder

RED, BLUE = (0, 0, 255), (255, 0, 0)  # BGR: the fake says red is a dog, blue a cat


def rewritten(path: Path, **arrays: str) -> bytes:
    """The .npz at `path` with these arrays replaced, as a newer sorter would write it; its bytes."""
    with np.load(path, allow_pickle=False) as data:
        kept = {name: data[name] for name in data.files}
    np.savez(path.with_suffix(".tmp.npz"), **kept | {name: np.array(value) for name, value in arrays.items()})
    path.with_suffix(".tmp.npz").replace(path)
    return path.read_bytes()


def test_a_personal_model_of_a_newer_format_is_not_damaged_and_learn_does_not_write_over_it(
        tmp_path: Path, fake_model) -> None:
    """Before: sort said `damaged personal model (format 'sorter-personal/99'); delete it with
    `sorter learn --forget`` (which deletes every correction), and learn "learnt it again",
    writing format /2 over what a newer sorter learnt."""
    roll = sorted_and_corrected(tmp_path / "roll", fake_model)
    assert invoke("learn", roll, "--model", fake_model).exit_code == 0
    model = personal.model_file()
    newer = rewritten(model, format="sorter-personal/99")
    said = (f"{model} was written by a newer sorter (format 'sorter-personal/99'; this one reads up to "
            "'sorter-personal/2'): ")

    refused = invoke("sort", new_photos(tmp_path / "later"), "--model", fake_model, "--dry-run")
    assert (refused.exit_code, refused.stderr) == (1, f"Error: {said}upgrade sorter, or sort with --no-personal\n")

    learnt = invoke("learn", roll, "--model", fake_model)
    assert (learnt.exit_code, learnt.stdout, learnt.stderr) == (
        1, "", f"Error: {said}upgrade sorter to learn; this one does not write over it\n"), learnt.output
    assert model.read_bytes() == newer


@pytest.mark.parametrize("written_as", ["sorter-personal/2b", "other-tool/99", "sorter-personal/0"])
def test_a_format_no_sorter_writes_is_still_a_damaged_model_learn_fits_again(tmp_path: Path, fake_model,
                                                                            written_as: str) -> None:
    roll = sorted_and_corrected(tmp_path / "roll", fake_model)
    assert invoke("learn", roll, "--model", fake_model).exit_code == 0
    model = personal.model_file()
    rewritten(model, format=written_as)

    refused = invoke("sort", new_photos(tmp_path / "later"), "--model", fake_model, "--dry-run")
    assert (refused.exit_code, refused.stderr) == (
        1, f"Error: {model}: damaged personal model (format {written_as!r}); delete it with `sorter learn --forget`\n")
    again = invoke("learn", roll, "--model", fake_model)
    assert again.exit_code == 0 and again.stdout.splitlines()[0] == (
        f"The saved personal model {model} was damaged (format {written_as!r}); learnt it again from your examples.")


def test_examples_say_their_format_and_a_newer_one_is_not_written_over(tmp_path: Path, fake_model) -> None:
    roll = sorted_and_corrected(tmp_path / "roll", fake_model)
    assert invoke("learn", roll, "--model", fake_model).exit_code == 0
    examples = personal.examples_file()
    with np.load(examples) as data:
        assert str(data["format"]) == "sorter-examples/1"
    newer = rewritten(examples, format="sorter-examples/2")

    learnt = invoke("learn", roll, "--model", fake_model)

    assert (learnt.exit_code, learnt.stderr) == (
        1, f"Error: {examples} was written by a newer sorter (format 'sorter-examples/2'; this one reads up to "
           "'sorter-examples/1'): upgrade sorter to learn; this one does not write over it\n"), learnt.output
    assert examples.read_bytes() == newer


def newer_journal(root: Path, written_as: object = 2) -> bytes:
    """`root` sorted, then written to by a newer sorter: its "folder" record says format 2 (`written_as`)."""
    root.mkdir(exist_ok=True)
    write_image(root / "tom.jpg", BLUE)
    write_image(root / "rex.jpg", RED)
    sort_folder(root, classifier=FakeClassifier())
    lines = journal_path(root).read_text().splitlines()
    folder = json.loads(next(line for line in lines if line.startswith('{"op": "folder"')))
    assert folder["format"] == 1  # what this sorter writes
    newer = json.dumps(folder | {"run": "20991231T000000-ffffff", "format": written_as})
    journal_path(root).write_text("\n".join([*lines, newer, '{"op": "relocate", "run": "20991231T000000-ffffff", '
                                             '"seq": 1, "src": "cats/tom.jpg", "dst": "cats/2099/tom.jpg"}']) + "\n")
    return journal_path(root).read_bytes()


@pytest.mark.parametrize("command", [["undo"], ["undo", "--all"], ["sort", "--dry-run"], ["sort"]])
def test_a_journal_a_newer_sorter_wrote_to_is_refused_whole(tmp_path: Path, fake_model, command: list[str]) -> None:
    """Before: undo read what it knew of it and put back what it could; sort went on appending to it."""
    root = tmp_path / "roll"
    journal = newer_journal(root)
    before = photos(root)

    refused = invoke(*command, root, *(["--model", fake_model] if command[0] == "sort" else []))

    assert (refused.exit_code, refused.stdout, refused.stderr) == (
        2, "", f"Error: {journal_path(root)} was written by a newer sorter (format 2); upgrade sorter to sort, "
               "undo or review this folder\n"), refused.output
    assert photos(root) == before and journal_path(root).read_bytes() == journal


@pytest.mark.parametrize("written_as", ["2", 1.5, -1, 0, None, True, "x"])
def test_a_format_that_is_no_whole_number_from_1_is_refused_not_read_as_1(tmp_path: Path, written_as: object) -> None:
    """Before: "2", 1.5, -1, null, true or "x" was taken for format 1, and undo put back what it read
    (QA 54: `Restored 6 files from 1 run`, exit 0)."""
    root = tmp_path / "roll"
    journal = newer_journal(root, written_as)
    before = photos(root)

    refused = invoke("undo", root)

    assert (refused.exit_code, refused.stdout, refused.stderr) == (
        2, "", f"Error: {journal_path(root)} says it is of format {json.dumps(written_as)}, which this sorter does "
               "not know (it reads 1); upgrade sorter to sort, undo or review this folder\n"), refused.output
    assert photos(root) == before and journal_path(root).read_bytes() == journal


def photos(root: Path) -> dict[str, object]:
    """The folder's files but the lock, which holds the pid of its last holder."""
    return {name: what for name, what in layout(root).items() if name != ".sorter/lock"}


def test_review_refuses_a_journal_a_newer_sorter_wrote_to(tmp_path: Path) -> None:
    newer_journal(tmp_path)

    refused = invoke("review", tmp_path, "--no-browser")

    assert (refused.exit_code, refused.stderr) == (
        2, f"Error: {journal_path(tmp_path)} was written by a newer sorter (format 2); upgrade sorter to sort, undo "
           "or review this folder\n")


def test_an_undo_that_left_a_photo_sorted_it_could_not_read_the_move_of_exits_1(tmp_path: Path) -> None:
    """A move record with fields this sorter does not know (`from`/`to`): its photo stays in cats/.
    Before: the warning said so, and undo exited 0 as if it had put everything back."""
    write_image(tmp_path / "tom.jpg", BLUE)
    write_image(tmp_path / "rex.jpg", RED)
    sort_folder(tmp_path, classifier=FakeClassifier())
    records = [json.loads(line) for line in journal_path(tmp_path).read_text().splitlines()]
    for record in records:
        if record["op"] == "move" and record["src"] == "tom.jpg":
            record["from"], record["to"] = record.pop("src"), record.pop("dst")
    journal_path(tmp_path).write_text("".join(json.dumps(record) + "\n" for record in records))

    undone = invoke("undo", tmp_path)

    assert (undone.exit_code, undone.stdout) == (1, f"Restored 1 file from 1 run in {tmp_path}.\n"), undone.output
    assert undone.stderr == ("warning: 1 move of what was undone could not be read back from the damaged journal "
                             "and is not undone: its photo is still in cats/ or dogs/; "
                             f"{tmp_path / '.sorter'} is kept\n")
    assert (tmp_path / "cats" / "tom.jpg").is_file() and (tmp_path / "rex.jpg").is_file()
