"""A sorted folder copied (`cp -a`) carries its journal, which names the first folder's files by
their identity. Learning the copy must not take the first folder's photos for its own."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from test_learn import invoke, luna, photo


def test_a_copy_with_her_photos_moved_back_into_cats_leaves_her_learnt_where_she_was(tmp_path: Path,
                                                                                      fake_model) -> None:
    """roll learnt with 6 of Luna's photos (sorted as cats) in cats/Luna/ and one added; roll2, a
    copy, with them back in cats/ and no Luna folder. Learning roll2 said "cats/Luna: 1 photo; too
    few to learn" (the one added), and roll learnt again then counted 6 of her photos new, with no
    "Forgot" line: the copy's photos, found by name, were keyed by the
    journal's identities, roll's files', and took the place of roll's rows of Luna."""
    roll = tmp_path / "roll"
    for i in range(6):
        luna(roll / f"luna{i}.png", 50 + i)
        photo(roll / f"cat{i}.png", "cat", i)
    assert invoke("sort", roll, "--model", fake_model).exit_code == 0
    (roll / "cats" / "Luna").mkdir()
    for i in range(6):
        os.rename(roll / "cats" / f"luna{i}.png", roll / "cats" / "Luna" / f"luna{i}.png")
    photo(roll / "cats" / "Luna" / "luna-added.png", "cat", 70)  # one of hers filed by hand
    first = invoke("learn", roll, "--model", fake_model)
    assert first.exit_code == 0 and "cats/Luna: 7 photos, would find" in first.stdout, first.output

    copy = tmp_path / "roll2"
    shutil.copytree(roll, copy, symlinks=True)  # as `cp -a`: every file another inode
    for name in os.listdir(copy / "cats" / "Luna"):
        os.rename(copy / "cats" / "Luna" / name, copy / "cats" / name)
    (copy / "cats" / "Luna").rmdir()

    second = invoke("learn", copy, "--model", fake_model)

    assert second.exit_code == 0, second.output
    # The table counts every folder's examples: roll's photos of her, as they were learnt, and her line says so.
    assert "too few to learn" not in second.stdout, second.stdout
    assert "cat -> cats/Luna              6" in second.stdout
    assert f"cats/Luna: 7 photos (learnt before from {roll}/cats/Luna), would find" in second.stdout
    again = invoke("learn", roll, "--model", fake_model)
    assert again.exit_code == 0, again.output
    assert again.stdout.startswith(f"Found 7 photos you placed in {roll} (0 new)"), again.stdout


def test_learning_the_first_folder_again_counts_its_own_photos_kept_as_sorted_not_the_copys(tmp_path: Path,
                                                                                             fake_model) -> None:
    """roll (Luna's 5 photos in cats/Luna/, a cat and 3 dogs kept as sorted) learnt, copied to roll2,
    roll2 learnt, her photos moved back into roll2/cats/ and roll2 learnt again: learning roll then
    said "Found 5 photos you placed in roll (0 new); 9 kept as sorted, held as they are" of a folder
    with 4, the copy's 5 photos now in cats/ counted as roll's. Now it counts roll's own."""
    roll = tmp_path / "roll"
    for i in range(5):
        luna(roll / f"luna{i}.png", 50 + i)
    photo(roll / "cat.png", "cat", 1)
    for i in range(3):
        photo(roll / f"dog{i}.png", "dog", 100 + i)
    assert invoke("sort", roll, "--model", fake_model).exit_code == 0
    (roll / "cats" / "Luna").mkdir()
    for i in range(5):
        os.rename(roll / "cats" / f"luna{i}.png", roll / "cats" / "Luna" / f"luna{i}.png")
    first = invoke("learn", roll, "--model", fake_model)
    assert first.stdout.startswith(f"Found 5 photos you placed in {roll} (5 new); 4 kept as sorted, held as they are")
    copy = tmp_path / "roll2"
    shutil.copytree(roll, copy, symlinks=True)
    assert invoke("learn", copy, "--model", fake_model).exit_code == 0
    for name in os.listdir(copy / "cats" / "Luna"):
        os.rename(copy / "cats" / "Luna" / name, copy / "cats" / name)
    assert invoke("learn", copy, "--model", fake_model).exit_code == 0

    again = invoke("learn", roll, "--model", fake_model)

    assert again.exit_code == 0, again.output
    assert again.stdout.startswith(f"Found 5 photos you placed in {roll} (0 new); 4 kept as sorted, held as they "
                                   "are\n"), again.stdout
