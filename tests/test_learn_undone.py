"""What `sorter learn` says of the photos learnt in a folder whose sort `sorter undo --all` took back
since (found by a session's note). Learnt there, they stay examples of another folder's, until
`sorter learn --forget`, and a learn of any folder counted them "kept as sorted", of photos sorter
had put back where they were before it sorted them. README's example of learn's output is checked
against the bundled model's reference set here too.

Run with the fake model of tests/test_learn.py: blue photos are cats, red ones dogs, red with
stripes goats, which the user takes out of dogs/."""

from __future__ import annotations

import os
import re
from pathlib import Path

from test_learn import goat, invoke, photo


def test_photos_of_a_folder_whose_sort_was_undone_are_not_said_kept_as_sorted_alone(tmp_path: Path,
                                                                                     fake_model) -> None:
    roll, other = tmp_path / "roll", tmp_path / "other"
    for i in range(4):
        photo(roll / f"cat{i}.png", "cat", i)
        photo(roll / f"dog{i}.png", "dog", 10 + i)
    for i in range(3):
        goat(roll / f"goat{i}.png", 20 + i)
    assert invoke("sort", roll, "--model", fake_model).exit_code == 0
    for i in range(3):  # the goats are no dogs: out of dogs/
        os.rename(roll / "dogs" / f"goat{i}.png", roll / f"goat{i}.png")
    first = invoke("learn", roll, "--model", fake_model)
    assert first.stdout.startswith(f"Found 3 photos you placed in {roll} (3 new); 8 kept as sorted, held as they are")
    undone = invoke("undo", roll, "--all")
    assert undone.exit_code == 0, undone.output
    assert sorted(os.listdir(roll)) == [*(f"cat{i}.png" for i in range(4)), *(f"dog{i}.png" for i in range(4)),
                                        *(f"goat{i}.png" for i in range(3))]
    for i in range(3):
        photo(other / f"cat{i}.png", "cat", 40 + i)
    assert invoke("sort", other, "--model", fake_model).exit_code == 0
    (other / "dogs").mkdir()
    os.rename(other / "cats" / "cat0.png", other / "dogs" / "cat0.png")

    result = invoke("learn", other, "--model", fake_model)

    # Before: "...; with the folders learnt before, 4 placed and 10 kept as sorted", 8 of them roll's
    # cats and dogs, back at the top of roll, sorted no more.
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[0] == (
        f"Found 1 photo you placed in {other} (1 new); with the folders learnt before, 4 placed and 10 kept as sorted "
        "when learnt, 8 of these 14 no longer where they were learnt (undone or moved since), still learnt as they were")

    # Sorted again, roll's photos are where the learn found them: said as before.
    assert invoke("sort", roll, "--model", fake_model).exit_code == 0
    again = invoke("learn", other, "--model", fake_model)
    assert again.stdout.splitlines()[0] == (
        f"Found 1 photo you placed in {other} (0 new); with the folders learnt before, 4 placed and 10 kept as sorted")


def test_readme_quotes_the_reference_line_learn_prints_with_the_bundled_models_reference_set() -> None:
    """README's example said "Reference pets (500)" beside "0 of 500 other cats taken for it": learn
    counts the check half's cats and dogs, 1000 with the bundled model's reference set."""
    from sorter.config import BUNDLED_MODEL
    from sorter.training.reference import read_reference

    _, check = read_reference(BUNDLED_MODEL).halves()
    cats = int((check.labels == check.class_names.index("cat")).sum())
    readme = (Path(__file__).parents[1] / "README.md").read_text(encoding="utf-8")
    example = readme[readme.index("$ sorter learn roll --model mid.keras"):]
    example = example[:example.index("```")]

    assert re.findall(r"of (\d+) other cats taken", example) == [str(cats)]
    assert re.findall(r"^Reference pets \((\d+)\)", example, re.M) == [str(int(check.pets.sum()))]
