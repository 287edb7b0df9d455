"""`sorter learn DIR` after `sorter undo DIR --all` (found by QA 50): each learn of a folder
replaces what it learnt there before, so with nothing placed in DIR now it forgets what was learnt
there while it was sorted, and says so. Before, it said "Nothing to learn: DIR has no sorter
journal … Your personal model is unchanged." and sort went on naming the pet learnt there; the
only way out was `sorter learn --forget`, which forgets every folder. A folder never learnt still
says "Nothing to learn", the personal model unchanged.

Real photos (../shared/datasets: named-cats, dogs-vs-cats-200) and the bundled model."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from conftest import DATASET, needs_shared, shared_dataset
from test_learn import invoke, needs_feature_model

NAMED_CATS = shared_dataset("named-cats")
pytestmark = [needs_feature_model, needs_shared("named-cats", "fred")]


def fred(into: Path, first: int, count: int) -> list[Path]:
    """`count` real photos of Fred, from his `first` in order, copied into `into`."""
    into.mkdir(parents=True, exist_ok=True)
    photos = sorted((NAMED_CATS / "fred").iterdir())[first:first + count]
    return [Path(shutil.copy(photo, into / f"fred{first + i}{photo.suffix}")) for i, photo in enumerate(photos)]


def fred_learnt_then_undone(roll: Path) -> None:
    """QA 50's steps: sort, Fred's photos moved into cats/Fred/, learnt; then every sort undone."""
    fred(roll, 0, 6)
    assert invoke("sort", roll).exit_code == 0
    (roll / "cats" / "Fred").mkdir()
    for name in os.listdir(roll / "cats"):
        if name.startswith("fred"):
            os.rename(roll / "cats" / name, roll / "cats" / "Fred" / name)
    learnt = invoke("learn", roll)
    assert learnt.exit_code == 0, learnt.output
    assert "now use bundled model + 1 named pet (Fred: 6 photos)" in learnt.stdout
    undone = invoke("undo", roll, "--all")
    assert undone.exit_code == 0, undone.output
    assert sorted(p.name for p in roll.iterdir() if p.is_file()) == [f"fred{i}.jpg" for i in range(6)]


def test_learn_of_a_folder_whose_sort_was_undone_forgets_what_was_learnt_there(tmp_path: Path) -> None:
    from sorter.model.personal import model_file

    roll = tmp_path / "fam"
    fred_learnt_then_undone(roll)

    result = invoke("learn", roll)

    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [
        f"Forgot what was learnt from {roll} (its sort undone, or its journal gone): 1 named pet (Fred: 6 photos), "
        "0 corrections, 0 kept as sorted.",
        "Deleted the personal model: nothing you placed is left to learn from (sort, watch and evaluate use the "
        "model's own decisions again).",
    ]
    assert not model_file().exists()
    # Sort no longer names Fred: it said "With bundled model + 1 named pet (Fred: 6 photos)".
    later = tmp_path / "new"
    fred(later, 12, 4)
    sorted_later = invoke("sort", later, "--dry-run")
    assert sorted_later.exit_code == 0, sorted_later.output
    assert "Fred" not in sorted_later.stdout and "named pet" not in sorted_later.stdout
    # Forgotten once: learnt again, the folder has nothing to learn, and no personal model is left to be unchanged.
    again = invoke("learn", roll)
    assert again.stdout.startswith(f"Nothing to learn: {roll} has no sorter journal")
    assert "unchanged" not in again.stdout


@pytest.mark.skipif(not (DATASET / "Cat").is_dir(), reason=f"the labelled photos are not found at {DATASET}")
def test_a_folder_never_learnt_forgets_nothing_and_a_pet_named_elsewhere_keeps_those_photos(tmp_path: Path) -> None:
    roll, other, never = tmp_path / "fam", tmp_path / "other", tmp_path / "never"
    fred(other / "cats" / "Fred", 6, 5)  # Fred filed by hand in a second folder: learnt there too
    fred_learnt_then_undone(roll)
    assert invoke("learn", other).exit_code == 0
    never.mkdir()
    for photo in sorted((DATASET / "Cat").iterdir())[:2]:  # a folder never sorted nor learnt
        shutil.copy(photo, never / photo.name)

    untouched = invoke("learn", never)

    assert untouched.exit_code == 0, untouched.output
    assert untouched.stdout.splitlines() == [
        f"Nothing to learn: {never} has no sorter journal: sort it and put right what the sort gets wrong (or file "
        "your own into cats/ or dogs/), then learn again. Your personal model is unchanged.",
    ]

    result = invoke("learn", roll)

    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert (f"Forgot what was learnt from {roll} (its sort undone, or its journal gone): 1 named pet (Fred: 6 photos), "
            "0 corrections, 0 kept as sorted.") in lines
    assert "now use bundled model + 1 named pet (Fred: 5 photos)" in result.stdout  # other's photos of him, kept
