"""Counts are said in words that agree with them: "1 photo", "2 photos", never "photo(s)".
Each line here through the real CLI, once with one and once with more."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import FakeClassifier, write_image
from test_watch import watched_through_the_cli_until
from typer.testing import CliRunner

from sorter.cli import app
from sorter.sorting.sort import sort_folder
from sorter.wording import counted

BLUE, RED = (255, 0, 0), (0, 0, 255)  # BGR: the fake model says blue is a cat, red a dog


def test_counted_says_one_in_the_singular_and_groups_thousands() -> None:
    assert [counted(n, "photo") for n in (0, 1, 2, 2000)] == ["0 photos", "1 photo", "2 photos", "2,000 photos"]
    assert counted(1, "photo or video", "photos and videos") == "1 photo or video"
    assert counted(3, "photo or video", "photos and videos") == "3 photos and videos"


def test_an_undo_of_one_photo_says_one_file_from_one_run(tmp_path: Path) -> None:
    write_image(tmp_path / "tom.jpg", BLUE)
    sort_folder(tmp_path, classifier=FakeClassifier())

    undone = CliRunner().invoke(app, ["undo", str(tmp_path)])

    assert (undone.exit_code, undone.stdout) == (0, f"Restored 1 file from 1 run in {tmp_path}.\n"), undone.output


def test_an_undo_of_two_photos_from_two_runs_says_files_and_runs(tmp_path: Path) -> None:
    write_image(tmp_path / "tom.jpg", BLUE)
    sort_folder(tmp_path, classifier=FakeClassifier())
    write_image(tmp_path / "rex.jpg", RED)
    sort_folder(tmp_path, classifier=FakeClassifier())

    undone = CliRunner().invoke(app, ["undo", str(tmp_path), "--all"])

    assert (undone.exit_code, undone.stdout) == (0, f"Restored 2 files from 2 runs in {tmp_path}.\n"), undone.output


@pytest.mark.parametrize(("names", "first", "last"), [
    (["tom.jpg"], "1 photo or video already there", "moved 1 file (cats: 1)"),
    (["tom.jpg", "rex.jpg", "fido.jpg"], "3 photos and videos already there", "moved 3 files (cats: 1, dogs: 2)"),
])
def test_a_watch_counts_what_was_there_and_what_it_moved_in_words_that_agree(
        tmp_path: Path, monkeypatch, names: list[str], first: str, last: str) -> None:
    for name in names:
        write_image(tmp_path / name, BLUE if name == "tom.jpg" else RED)

    result = watched_through_the_cli_until(tmp_path, monkeypatch, len(names))

    assert result.exit_code == 0, result.output
    lines = result.stderr.splitlines()
    assert lines[0].startswith(f"watching {tmp_path} (") and lines[0].endswith(f"; {first}"), lines[0]
    assert lines[-1].startswith(f"stopped watching {tmp_path}: {last}; undo with: "), lines[-1]


PURPLE = (128, 0, 128)  # half cat, half dog to the fake model: unsure at --min-confidence 0.9, left in place


@pytest.mark.parametrize(("left", "new", "first"), [
    (["blur.jpg"], ["tom.jpg"], "2 photos and videos already there: 1 to sort, 1 left in place before and unchanged "
                                "since, not judged again"),
    (["blur.jpg", "haze.jpg"], ["tom.jpg", "tim.jpg"], "4 photos and videos already there: 2 to sort, 2 left in place "
                                                       "before and unchanged since, not judged again"),
])
def test_a_watch_started_again_counts_all_it_found_then_those_to_sort_and_those_left_before(
        tmp_path: Path, monkeypatch, left: list[str], new: list[str], first: str) -> None:
    """It said "0 photos and videos already there; 7 left in place before and unchanged since", as
    if the folder were empty."""
    for name in left:
        write_image(tmp_path / name, PURPLE)
    assert watched_through_the_cli_until(tmp_path, monkeypatch, len(left), "--min-confidence", "0.9").exit_code == 0
    monkeypatch.undo()  # the watch as it was, to be replaced again
    for name in new:
        write_image(tmp_path / name, BLUE)

    result = watched_through_the_cli_until(tmp_path, monkeypatch, len(new), "--min-confidence", "0.9")

    assert result.exit_code == 0, result.output
    lines = result.stderr.splitlines()
    assert lines[0].startswith(f"watching {tmp_path} (") and lines[0].endswith(f"; {first}"), lines[0]
