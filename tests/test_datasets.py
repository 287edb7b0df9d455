"""How labelled photos are split: pets balanced and shuffled, non-pets from several folders,
each folder held out by whole kinds (many kinds) or by a share of each kind (few kinds)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from conftest import make_dataset, toy_photo

from sorter.errors import UsageError
from sorter.training.datasets import ALL_CLASSES, split

OTHER = ALL_CLASSES.index("other")


def others(root: Path, kinds: list[str], per_kind: int) -> Path:
    rng = np.random.default_rng(3)
    for kind in kinds:
        for i in range(per_kind):
            toy_photo(root / kind / f"{kind}_{i}.jpg", "other", rng)
    return root


def test_non_pets_from_two_folders_are_held_out_by_kind_or_by_share(tmp_path: Path) -> None:
    data = make_dataset(tmp_path / "data", per_class=10)
    objects = others(tmp_path / "objects", [f"object{i:02d}" for i in range(12)], per_kind=4)
    everyday = others(tmp_path / "everyday", ["people", "places", "documents"], per_kind=10)

    parts = split(data, 0.2, 7, other_dirs=(objects, everyday))

    assert parts.counts == {"cat": 11, "dog": 10, "other": 12 * 4 + 3 * 10}  # the broken cat counts as found
    by_folder = parts.other_kinds
    # Twelve kinds of object: whole kinds go to validation, never seen in training.
    held = by_folder[str(objects)]
    assert held["held_out"] == "whole kinds" and held["validation"]
    assert not set(held["validation"]) & set(held["train"])
    # Three everyday kinds: holding out "people" would mean never training on a person, so
    # a fifth of each kind is held out instead.
    assert by_folder[str(everyday)] == {"train": ["documents", "people", "places"],
                                        "validation": ["documents", "people", "places"],
                                        "held_out": "a share of each kind"}
    validation = [p for p, y in parts.validation if y == OTHER and p.is_relative_to(everyday)]
    assert sorted(parts.kind_of[p] for p in validation) == ["documents"] * 2 + ["people"] * 2 + ["places"] * 2
    training = {p for p, _ in parts.train}
    assert not training & {p for p, _ in parts.validation}
    assert parts.kind_of[everyday / "people" / "people_0.jpg"] == "people"


def test_the_same_arguments_give_the_same_split(tmp_path: Path) -> None:
    data = make_dataset(tmp_path / "data", per_class=10)
    everyday = others(tmp_path / "everyday", ["people", "places"], per_kind=10)
    assert split(data, 0.2, 7, other_dirs=(everyday,)) == split(data, 0.2, 7, other_dirs=(everyday,))
    assert split(data, 0.2, 7, other_dirs=(everyday,)).validation != split(data, 0.2, 8, other_dirs=(everyday,)).validation


def test_an_other_folder_inside_the_data_folder_is_used_when_none_is_given(tmp_path: Path) -> None:
    data = make_dataset(tmp_path / "data", per_class=10)
    others(data / "Other", ["people"], per_kind=5)
    parts = split(data, 0.2, 7)
    assert parts.counts["other"] == 5 and list(parts.other_kinds) == [str(data / "Other")]


def test_a_missing_other_folder_is_one_line(tmp_path: Path) -> None:
    data = make_dataset(tmp_path / "data", per_class=4)
    with pytest.raises(UsageError, match="--other folder not found: .*nowhere"):
        split(data, 0.2, 7, other_dirs=(tmp_path / "nowhere",))


def test_a_kind_from_several_sources_holds_out_whole_sources(tmp_path: Path) -> None:
    data = make_dataset(tmp_path / "data", per_class=10)
    rng = np.random.default_rng(3)
    everyday = tmp_path / "everyday"
    # People mostly from one street-fashion source, a few from two others; places from one.
    for source, n in (("street", 40), ("park", 6), ("party", 5)):
        for i in range(n):
            toy_photo(everyday / "people" / f"{source}_{i}.jpg", "other", rng)
    for i in range(10):
        toy_photo(everyday / "places" / f"urban_{i}.jpg", "other", rng)
    parts = split(data, 0.2, 7, other_dirs=(everyday,))
    kinds = parts.other_kinds[str(everyday)]
    assert kinds["held_out"] == "whole sources of each kind that has several, else a share"
    # Holding out the street photos would leave people to learn from 11 photos: they stay in training.
    assert kinds["validation_sources"] == {"people": ["park", "party"]}
    held = [p for p, y in parts.validation if y == OTHER]
    assert {p.name.split("_")[0] for p in held if parts.kind_of[p] == "people"} == {"park", "party"}
    assert sum(parts.kind_of[p] == "places" for p in held) == 2  # one source: a share of it
    assert not {p for p, _ in parts.train} & set(held)


def test_photo_screens_are_drawn_from_the_photos_given_the_same_every_time(tmp_path: Path) -> None:
    """`benchmarks/make_photo_screens.py` composes galleries, collages, posters and calls from
    non-pet photos (here the person, the coffee and the rocket of sample_images/), from a
    seed: drawn twice, byte for byte the same, so a model's training data can be drawn again."""
    import shutil
    import subprocess
    import sys

    repo = Path(__file__).resolve().parent.parent
    for name in ("photo-08.png", "photo-09.png", "photo-10.jpg"):
        shutil.copy(repo / "sample_images" / name, tmp_path / name)
    drawn = []
    for out in ("first", "second"):
        subprocess.run([sys.executable, str(repo / "benchmarks" / "make_photo_screens.py"), str(tmp_path / out),
                        "--shared", str(tmp_path), "--photos", "photo-0*,photo-10*", "--count", "8"], check=True)
        drawn.append({p.relative_to(tmp_path / out): p.read_bytes() for p in sorted((tmp_path / out).rglob("*.jpg"))})
    assert drawn[0] == drawn[1]
    assert sorted({p.parent.name for p in drawn[0]}) == ["calls", "collages", "galleries", "posters"]
    assert len(drawn[0]) == 8

    (tmp_path / "empty").mkdir()
    for shared, said in (("empty", "no photo found under"), ("nowhere", "nowhere: no such folder")):
        missing = subprocess.run([sys.executable, str(repo / "benchmarks" / "make_photo_screens.py"),
                                  str(tmp_path / "none"), "--shared", str(tmp_path / shared)],
                                 capture_output=True, text=True)
        assert missing.returncode == 2 and said in missing.stderr.splitlines()[-1], missing.stderr
