"""What a QA round of `sorter evaluate` found in the folders it reads and writes: a --report
inside Cat/ whose PNGs the next run counted as cats, a user's own confusion.png overwritten,
photos in Cat/2019/, behind links or hidden passed over without a word, and a two-way model's
--min-confidence table left empty."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from conftest import FakeClassifier, ThreeClassFake, write_image
from test_evaluate import BLUE, RED, labelled, use
from typer.testing import CliRunner

from sorter.cli import app

runner = CliRunner()


@pytest.mark.parametrize("inside", ["Cat", "Dog/report", "Other/r", "notpets/r"])
def test_a_report_among_the_photos_read_is_refused_and_nothing_written(tmp_path: Path, monkeypatch, inside) -> None:
    """`--report EV/Cat` wrote confusion.png and mistakes.png into Cat/ (exit 0): the next
    evaluate counted 42 images, the PNGs among the cats, and a train would learn them."""
    use(monkeypatch, ThreeClassFake())
    data = labelled(tmp_path / "data")
    write_image(tmp_path / "notpets" / "car.png", (0, 255, 0))
    before = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*"))
    report = (tmp_path / "data" / inside) if inside != "notpets/r" else tmp_path / inside
    args = ["evaluate", str(data), "--report", str(report)]
    if inside == "notpets/r":
        args += ["--other", str(tmp_path / "notpets")]

    result = runner.invoke(app, args)

    top = inside.split("/")[0]
    where = f"--other {tmp_path / 'notpets'}" if top == "notpets" else str(data / top)
    whose = "whose photos are read" if top == "notpets" else "whose photos evaluate and train read"
    assert (result.exit_code, result.stderr) == (
        2, f"Error: --report {report} is inside {where}, {whose}: its confusion.png and mistakes.png would be "
        "taken for photos; write it outside the photos\n"), result.output
    assert sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*")) == before


def test_a_users_own_file_under_a_report_name_is_never_overwritten(tmp_path: Path, monkeypatch) -> None:
    """`--report DIR` replaced the user's DIR/confusion.png without a word. Evaluate's PNGs are
    marked (tEXt `Software: sorter evaluate`): its own report is replaced, any other file refused."""
    use(monkeypatch, FakeClassifier())
    data = labelled(tmp_path / "data", other=None)
    report = tmp_path / "report"
    mine = write_image(report / "confusion.png", RED).read_bytes()

    refused = runner.invoke(app, ["evaluate", str(data), "--report", str(report)])

    assert (refused.exit_code, refused.stderr) == (
        2, f"Error: --report {report}: {report / 'confusion.png'} is not a report sorter evaluate wrote, and is "
        "never overwritten; move it away or give another --report folder\n"), refused.output
    assert (report / "confusion.png").read_bytes() == mine and not (report / "mistakes.png").exists()

    (report / "confusion.png").unlink()
    first = runner.invoke(app, ["evaluate", str(data), "--report", str(report)])
    assert first.exit_code == 0, first.output
    assert b"tEXtSoftware\0sorter evaluate" in (report / "mistakes.png").read_bytes()[:80]
    again = runner.invoke(app, ["evaluate", str(data), "--report", str(report)])
    assert again.exit_code == 0, again.output  # its own report, written again in place


def test_photos_in_sub_folders_links_and_hidden_are_said_not_read(tmp_path: Path, monkeypatch) -> None:
    """With only such photos the error said `no images in D/Cat` and nothing of them; with some
    at the top too, they were left out without a word."""
    use(monkeypatch, FakeClassifier())
    data = tmp_path / "D"
    for i in range(3):
        write_image(data / "Cat" / "2019" / f"cat{i}.jpg", BLUE)
    write_image(data / "Dog" / "dog.jpg", RED)
    write_image(data / "Dog" / ".hidden.jpg", RED)
    os.symlink(data / "Dog" / "dog.jpg", data / "Dog" / "link.jpg")

    refused = runner.invoke(app, ["evaluate", str(data)])

    assert (refused.exit_code, refused.stderr) == (
        2, f"Error: no images in {data / 'Cat'}: there must be photos of cats and of dogs at the top of each "
        f"({data / 'Cat'} has 3 photos in sub-folders (2019/), which are not read)\n"), refused.output

    write_image(data / "Cat" / "cat.jpg", BLUE)
    result = runner.invoke(app, ["evaluate", str(data), "--json"])

    assert result.exit_code == 0, result.output
    assert result.stderr == (
        f"note: {data / 'Cat'} has 3 photos in sub-folders (2019/), which are not read; {data / 'Dog'} has 1 "
        "symbolic link named as photos (never followed) and 1 hidden photo (.name), which are not read (only the "
        "photos at the top of Cat/ and Dog/ are read)\n")
    report = json.loads(result.stdout)
    assert report["n"] == 2
    assert report["not_read"] == [
        {"folder": str(data / "Cat"), "in_sub_folders": 3, "sub_folders": ["2019"], "links": 0, "hidden": 0,
         "non_pets": False},
        {"folder": str(data / "Dog"), "in_sub_folders": 0, "sub_folders": [], "links": 1, "hidden": 1,
         "non_pets": False},
    ]


def test_a_two_way_model_gets_the_min_confidence_table_too(tmp_path: Path, monkeypatch) -> None:
    """A two-way model leaves a cat or a dog below --min-confidence in place as a three-way one
    does, but its evaluation showed no table (`"coverage": []`)."""
    use(monkeypatch, FakeClassifier())
    # 9 pets: a cat taken for a dog at 100 %, a green dog a dog at 50 %, the rest right at 100 %;
    # and a cat a little more blue than red: a cat at 54 %.
    data = labelled(tmp_path / "data", other=None)
    write_image(data / "Cat" / "unsure.png", (120, 0, 100))

    result = runner.invoke(app, ["evaluate", str(data)])

    assert result.exit_code == 0, result.output
    lines = [" ".join(line.split()) for line in result.stdout.splitlines()]
    first = lines.index("--min-confidence 0.50: 100.0% moved, 10.00% of them to the wrong folder")
    # The two unsure ones left in place: 8 moved, the swapped cat among them.
    assert lines[first + 1] == "--min-confidence 0.80: 80.0% moved, 12.50% of them to the wrong folder"


@pytest.mark.parametrize("where", ["Other", "--other"])
def test_photos_of_non_pets_that_are_not_read_are_said_in_the_same_words(tmp_path: Path, monkeypatch, where) -> None:
    """Other/ and an --other folder are read with their sub-folders (a kind each), but a photo
    behind a link, a hidden one, or one in a hidden sub-folder was passed over without a word:
    the note covered Cat/ and Dog/ only."""
    use(monkeypatch, ThreeClassFake())
    data = labelled(tmp_path / "data", other="Other" if where == "Other" else None)
    non_pets = data / "Other" if where == "Other" else labelled(tmp_path / "x", other="notpets") / "notpets"
    write_image(non_pets / "cars" / ".hidden.png", (0, 255, 0))
    write_image(non_pets / ".thumbs" / "car.png", (0, 255, 0))
    os.symlink(non_pets / "cars" / "cars0.png", non_pets / "food" / "link.png")

    result = runner.invoke(app, ["evaluate", str(data), "--json", *(["--other", str(non_pets)] if where != "Other"
                                                                     else [])])

    assert result.exit_code == 0, result.output
    assert result.stderr == (
        f"note: {non_pets} has 1 photo in sub-folders (.thumbs/), 1 symbolic link named as photos (never followed) "
        "and 1 hidden photo (.name), which are not read (only the photos at the top of Cat/ and Dog/ are read, and "
        "of the non-pets those in sub-folders too, but never a hidden one nor one behind a link)\n")
    assert json.loads(result.stdout)["not_read"] == [
        {"folder": str(non_pets), "in_sub_folders": 1, "sub_folders": [".thumbs"], "links": 1, "hidden": 1,
         "non_pets": True}]


def test_photos_of_a_holdout_that_are_not_read_are_said(tmp_path: Path, monkeypatch) -> None:
    """`--holdout` is read with its sub-folders; a linked photo in it was passed over unsaid."""
    use(monkeypatch, ThreeClassFake())
    data = labelled(tmp_path / "data")
    held = write_image(tmp_path / "held" / "cows" / "cow.png", (0, 255, 0)).parent.parent
    os.symlink(held / "cows" / "cow.png", held / "cows" / "link.png")

    result = runner.invoke(app, ["evaluate", str(data), "--holdout", str(held)])

    assert result.exit_code == 0, result.output
    assert result.stderr == (
        f"note: {held} has 1 symbolic link named as photos (never followed), which is not read (only the photos at "
        "the top of Cat/ and Dog/ are read, and of the non-pets those in sub-folders too, but never a hidden one "
        "nor one behind a link)\n")
