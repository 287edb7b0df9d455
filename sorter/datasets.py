"""Labelled folders laid out like Microsoft's PetImages (`Cat/`, `Dog/`), and the seeded,
balanced train/validation split that `train` and `evaluate --split` share."""

from __future__ import annotations

import random
from dataclasses import dataclass
from pathlib import Path

from sorter.config import CLASS_NAMES
from sorter.errors import UsageError
from sorter.images import is_image_name

# Accepted folder names for each class, compared case-insensitively.
FOLDER_NAMES = {"cat": {"cat", "cats"}, "dog": {"dog", "dogs"}}


@dataclass(frozen=True)
class Split:
    train: list[tuple[Path, int]]
    validation: list[tuple[Path, int]]
    counts: dict[str, int]  # images found per class, before balancing


def class_folders(data_dir: Path) -> dict[str, Path]:
    if not data_dir.is_dir():
        raise UsageError(f"data folder not found: {data_dir}")
    found: dict[str, Path] = {}
    for child in sorted(data_dir.iterdir()):
        if not child.is_dir() or child.is_symlink():
            continue
        for label, names in FOLDER_NAMES.items():
            if child.name.lower() in names and label not in found:
                found[label] = child
    missing = [label for label in CLASS_NAMES if label not in found]
    if missing:
        raise UsageError(
            f"{data_dir} needs one folder per class (Cat/ and Dog/, or cats/ and dogs/); "
            f"missing: {', '.join(missing)}"
        )
    return found


def list_labelled(data_dir: Path) -> dict[str, list[Path]]:
    """Image files per class, sorted by name (numeric names in numeric order)."""

    def key(path: Path) -> tuple[int, int | str]:
        return (0, int(path.stem)) if path.stem.isdigit() else (1, path.name)

    files: dict[str, list[Path]] = {}
    for label, folder in class_folders(data_dir).items():
        files[label] = sorted(
            (p for p in folder.iterdir() if is_image_name(p.name) and p.is_file() and not p.is_symlink()),
            key=key,
        )
    return files


def split(data_dir: Path, validation_split: float, seed: int, limit: int | None = None) -> Split:
    """Balanced (same count per class), shuffled with `seed`, the last `validation_split` of
    each class held out. The same arguments always give the same split."""
    if not 0.0 <= validation_split < 1.0:
        raise UsageError("--validation-split must be in [0, 1)")
    files = list_labelled(data_dir)
    counts = {label: len(paths) for label, paths in files.items()}
    per_class = min(counts.values())
    if limit is not None:
        per_class = min(per_class, limit)
    if per_class == 0:
        raise UsageError(f"{data_dir}: no images in one of the class folders")
    rng = random.Random(seed)
    train: list[tuple[Path, int]] = []
    validation: list[tuple[Path, int]] = []
    for index, label in enumerate(CLASS_NAMES):
        paths = list(files[label])
        rng.shuffle(paths)
        paths = paths[:per_class]
        n_val = round(per_class * validation_split)
        cut = per_class - n_val
        train += [(p, index) for p in paths[:cut]]
        validation += [(p, index) for p in paths[cut:]]
    rng.shuffle(train)
    return Split(train, validation, counts)
