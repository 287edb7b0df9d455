"""What `sorter learn` says and keeps of what was learnt in other sorts and folders (found by QA 53):

- a folder learnt, its sort undone (`undo --all`) and the folder sorted again: a learn of it said
  "Nothing to learn … Your personal model is unchanged." and kept learning the correction the undo
  took back (dogs/d105.jpg, moved into cats/, learnt "cat (was dog)");
- a sub-folder sorted and learnt on its own was said to be "a folder at this path before this one",
  though it is still there, sorted on its own;
- "N placed and M kept as sorted when learnt, K of them no longer where they were learnt" counted
  the placed photos among K too (K > M), and a pet's folder learnt in a folder moved since was named
  by its old path, with nothing there now.

Run with the fake model of tests/test_learn.py: blue photos are cats, red ones dogs, blue with row
stripes Luna."""

from __future__ import annotations

import os
from pathlib import Path

from test_learn import invoke, luna, photo


def test_a_folder_sorted_again_after_its_sort_was_undone_forgets_what_that_sort_learnt(tmp_path: Path,
                                                                                      fake_model) -> None:
    from sorter.model.personal import model_file, read_examples

    roll = tmp_path / "roll"
    for i in range(3):
        photo(roll / f"cat{i}.png", "cat", i)
        photo(roll / f"dog{i}.png", "dog", 10 + i)
    assert invoke("sort", roll, "--model", fake_model).exit_code == 0
    os.rename(roll / "dogs" / "dog0.png", roll / "cats" / "dog0.png")  # "a cat": learnt as one
    learnt = invoke("learn", roll, "--model", fake_model)
    assert learnt.exit_code == 0 and "Saved " in learnt.stdout, learnt.output
    assert invoke("undo", roll, "--all").exit_code == 0
    assert invoke("sort", roll, "--model", fake_model).exit_code == 0  # a new journal: dog0.png in dogs/ again
    assert (roll / "dogs" / "dog0.png").is_file()

    result = invoke("learn", roll, "--model", fake_model)

    # Before: "Nothing to learn: move a wrongly sorted photo … Your personal model is unchanged.", and the
    # examples still held roll/cats/dog0.png as a cat.
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [
        f"Forgot what was learnt from {roll} (its sort undone, or its journal gone): 1 correction, 5 kept as sorted.",
        "Deleted the personal model: nothing you placed is left to learn from (sort, watch and evaluate use the "
        "model's own decisions again).",
    ]
    assert not model_file().exists()
    examples = read_examples()
    assert examples is None or str(roll / "cats" / "dog0.png") not in examples.paths.tolist()

    # A correction of the new sort is learnt, and what this sort learnt stays for the next learn.
    os.rename(roll / "cats" / "cat1.png", roll / "dogs" / "cat1.png")
    again = invoke("learn", roll, "--model", fake_model)
    assert again.exit_code == 0, again.output
    assert again.stdout.startswith(f"Found 1 photo you placed in {roll} (1 new); 5 kept as sorted, held as they are")
    assert "Forgot" not in again.stdout
    assert invoke("learn", roll, "--model", fake_model).stdout.startswith(
        f"Found 1 photo you placed in {roll} (0 new); 5 kept as sorted")


def lunas_filed(roll: Path, model: Path, seed: int) -> None:
    """A cat and a dog sorted, then six photos of Luna (from `seed`) filed into cats/Luna/ by hand."""
    photo(roll / "cat.png", "cat", seed)
    photo(roll / "dog.png", "dog", seed)
    assert invoke("sort", roll, "--model", model).exit_code == 0
    for i in range(6):
        luna(roll / "cats" / "Luna" / f"luna{i}.png", seed + i)


def test_a_sub_folder_sorted_on_its_own_is_said_by_its_path_and_a_folder_moved_since_as_no_longer_there(
        tmp_path: Path, fake_model) -> None:
    above, sub = tmp_path / "LA", tmp_path / "LA" / "sub"
    lunas_filed(sub, fake_model, 50)
    assert invoke("learn", sub, "--model", fake_model).exit_code == 0
    lunas_filed(above, fake_model, 70)

    result = invoke("learn", above, "--model", fake_model)

    # Before: "(6 learnt before from LA/sub/cats/Luna, a folder at this path before this one)", of a
    # sub-folder that is there, untouched.
    assert result.exit_code == 0, result.output
    assert f"cats/Luna: 12 photos (6 learnt before from {sub}/cats/Luna), would find " in result.stdout
    assert "before this one" not in result.stdout

    # Moved since: learnt there, and said to be no longer there (it named the old, empty path alone).
    os.rename(above, tmp_path / "LAmoved")
    other = tmp_path / "LB"
    for i in range(2):
        photo(other / f"cat{i}.png", "cat", 90 + i)
        photo(other / f"dog{i}.png", "dog", 95 + i)
    assert invoke("sort", other, "--model", fake_model).exit_code == 0
    os.rename(other / "dogs" / "dog0.png", other / "cats" / "dog0.png")
    (other / "cats" / "Luna").mkdir()
    luna(other / "cats" / "Luna" / "new.png", 99)

    moved = invoke("learn", other, "--model", fake_model)

    assert moved.exit_code == 0, moved.output
    assert (f"cats/Luna: 13 photos (12 learnt before: 6 from {above}/cats/Luna, no longer there, 6 from "
            f"{sub}/cats/Luna, no longer there), would find ") in moved.stdout
    # Of the 2 + 12 placed and 3 + 4 kept as sorted, the moved folders' 12 and 4 are not where they were learnt.
    # Before: "14 placed and 7 kept as sorted when learnt, 16 of them no longer where …", 16 of 7.
    assert moved.stdout.splitlines()[0] == (
        f"Found 2 photos you placed in {other} (2 new); with the folders learnt before, 14 placed and 7 kept as "
        "sorted when learnt, 16 of these 21 no longer where they were learnt (undone or moved since), still learnt "
        "as they were")
