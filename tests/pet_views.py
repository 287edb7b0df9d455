"""Named pets from augmented views of one real photo each (issue 18): the smoke test of
tests/test_learn.py. No dataset has ten photos of one animal, so each "pet" is one photo of the
labelled set: ten augmented views of it (a 70-95 % crop, maybe mirrored, brightness and colour
shifted) go into cats/NAME/ or dogs/NAME/, `sorter learn` learns them, and a sort of other views
of the same photos and of other cats and dogs measures what gets named. Views of one photo are
far easier than new photos of one animal: the benchmark of named pets is
benchmarks/named_cats.py, on real photos of individual cats (issue 24)."""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np
from conftest import DATASET

NAMES = ["Luna", "Rex", "Milo", "Bella"]


def augmented(source: Path, seed: int, size: int = 160) -> np.ndarray:
    """Another view of the photo: a random crop (70-95 %), maybe mirrored, its brightness and
    colour shifted; BGR, size x size."""
    rng = np.random.default_rng(seed)
    image = cv2.imread(str(source))
    h, w = image.shape[:2]
    scale = rng.uniform(0.7, 0.95)
    ch, cw = int(h * scale), int(w * scale)
    y, x = rng.integers(0, h - ch + 1), rng.integers(0, w - cw + 1)
    crop = image[y : y + ch, x : x + cw]
    if rng.random() < 0.5:
        crop = crop[:, ::-1]
    shifted = crop.astype(np.float32) * rng.uniform(0.8, 1.2) + rng.uniform(-15, 15, 3)
    return cv2.resize(np.clip(shifted, 0, 255).astype(np.uint8), (size, size), interpolation=cv2.INTER_AREA)


def pets_and_others(n_pets: int, n_others: int) -> tuple[list[tuple[str, str, Path]], list[Path]]:
    """(name, species, source photo) per pet, alternating cats and dogs, and other cats and
    dogs; late file names (the split of a model trained with --limit seldom reaches them)."""
    cats = sorted((DATASET / "Cat").iterdir(), key=lambda p: int(p.stem) if p.stem.isdigit() else -1)[::-1]
    dogs = sorted((DATASET / "Dog").iterdir(), key=lambda p: int(p.stem) if p.stem.isdigit() else -1)[::-1]
    pets = [(NAMES[i], "cat" if i % 2 == 0 else "dog", (cats if i % 2 == 0 else dogs)[i]) for i in range(n_pets)]
    others = cats[10 : 10 + n_others // 2] + dogs[10 : 10 + n_others // 2]
    return pets, others


def measure(model: Path | None, n_pets: int, n_others: int, examples: int = 10, views: int = 10) -> dict:
    """Learn the pets in a fresh folder, sort new views and other pets; the counts."""
    from sorter.learning import learn as learning
    from sorter.sorting import sort

    pets, others = pets_and_others(n_pets, n_others)
    with tempfile.TemporaryDirectory(prefix="named-pets-") as tmp:
        os.environ["XDG_DATA_HOME"] = str(Path(tmp) / "data")
        roll, later = Path(tmp) / "roll", Path(tmp) / "later"
        for name, species, source in pets:
            folder = roll / f"{species}s" / name
            folder.mkdir(parents=True)
            for i in range(examples):
                cv2.imwrite(str(folder / f"{name}{i}.jpg"), augmented(source, i))
        started = time.monotonic()
        result = learning.learn(roll, model=model)
        seconds = time.monotonic() - started
        later.mkdir()
        for name, _, source in pets:
            for i in range(views):
                cv2.imwrite(str(later / f"{name}-view{i}.jpg"), augmented(source, 1000 + i))
        for source in others:
            cv2.imwrite(str(later / f"other-{source.parent.name}-{source.name}"), cv2.imread(str(source)))
        sort.sort_folder(later, model=model)
        own = sum((later / f"{species}s" / name / f"{name}-view{i}.jpg").exists()
                  for name, species, _ in pets for i in range(views))
        into_named = sum(1 for name, species, _ in pets for _ in (later / f"{species}s" / name).glob("other-*"))
        return {"result": result, "own": own, "views": views * len(pets), "into_named": into_named,
                "others": len(others), "seconds": seconds}
