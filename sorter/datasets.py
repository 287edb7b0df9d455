"""Labelled folders laid out like Microsoft's PetImages (`Cat/`, `Dog/`), and the seeded,
balanced train/validation split that `train` and `evaluate --split` share."""

from __future__ import annotations

import os
import random
from dataclasses import dataclass, field
from pathlib import Path

from sorter.config import CLASS_NAMES, OTHER
from sorter.errors import UsageError
from sorter.images import is_image_name

# Accepted folder names for each class, compared case-insensitively. "Other" photos (neither
# a cat nor a dog) may sit in sub-folders, one per kind of thing.
FOLDER_NAMES = {"cat": {"cat", "cats"}, "dog": {"dog", "dogs"}, OTHER: {"other", "others", "neither"}}
ALL_CLASSES = (*CLASS_NAMES, OTHER)


@dataclass(frozen=True)
class Split:
    train: list[tuple[Path, int]]  # (photo, index into ALL_CLASSES)
    validation: list[tuple[Path, int]]
    counts: dict[str, int]  # images found per class, before balancing
    #: Kinds of "other" photo (sub-folders) on each side: validation holds whole kinds out.
    other_kinds: dict[str, list[str]] = field(default_factory=dict)


def class_folders(data_dir: Path, other_dir: Path | None = None) -> dict[str, Path]:
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
    if other_dir is not None:
        if not other_dir.is_dir():
            raise UsageError(f"--other folder not found: {other_dir}")
        found[OTHER] = other_dir
    return found


def _by_name(path: Path) -> tuple[int, int | str]:
    return (0, int(path.stem)) if path.stem.isdigit() else (1, path.name)


def _images_below(folder: Path) -> list[Path]:
    """Image files in `folder` and its sub-folders (not following links), in a stable order."""
    found = []
    for directory, subdirs, names in os.walk(folder):
        subdirs[:] = sorted(d for d in subdirs if not d.startswith("."))
        here = Path(directory)
        found += sorted(
            (here / n for n in names if is_image_name(n) and not (here / n).is_symlink() and (here / n).is_file()),
            key=_by_name,
        )
    return found


def list_labelled(data_dir: Path, other_dir: Path | None = None) -> dict[str, list[Path]]:
    """Image files per class, sorted by name (numeric names in numeric order); "other" when
    the folder has an Other/ (or `other_dir` is given), with its sub-folders."""
    return _list_folders(class_folders(data_dir, other_dir))


def _list_folders(folders: dict[str, Path]) -> dict[str, list[Path]]:
    files: dict[str, list[Path]] = {}
    for label, folder in folders.items():
        if label == OTHER:
            files[label] = _images_below(folder)
        else:
            files[label] = sorted(
                (p for p in folder.iterdir() if is_image_name(p.name) and p.is_file() and not p.is_symlink()),
                key=_by_name,
            )
    return files


def _split_kinds(paths: list[Path], root: Path, validation_split: float, seed: int, limit: int | None):
    """Others split by kind (the first sub-folder below the Other folder): whole kinds are
    held out, so validation measures photos of things the run never saw."""
    rng = random.Random(f"{seed}-other")
    if limit is not None and len(paths) > limit:
        paths = sorted(rng.sample(paths, limit), key=lambda p: str(p))
    kinds: dict[str, list[Path]] = {}
    for path in paths:
        parts = path.relative_to(root).parts
        kinds.setdefault(parts[0] if len(parts) > 1 else ".", []).append(path)
    order = sorted(kinds)
    rng.shuffle(order)
    want, held, validation = validation_split * len(paths), 0, []
    for kind in order:
        if held >= want or len(validation) + 1 == len(order):
            break
        validation.append(kind)
        held += len(kinds[kind])
    train_kinds = sorted(k for k in kinds if k not in validation)
    index = ALL_CLASSES.index(OTHER)
    return (
        [(p, index) for k in train_kinds for p in kinds[k]],
        [(p, index) for k in sorted(validation) for p in kinds[k]],
        {"train": train_kinds, "validation": sorted(validation)},
    )


def split(
    data_dir: Path, validation_split: float, seed: int, limit: int | None = None, other_dir: Path | None = None
) -> Split:
    """Pets balanced (same count per class), shuffled with `seed`, the last
    `validation_split` of each class held out; "other" photos, when there are any, split by
    whole kinds. The same arguments always give the same split, and the pets' split does not
    depend on whether there are others."""
    if not 0.0 <= validation_split < 1.0:
        raise UsageError("--validation-split must be in [0, 1)")
    folders = class_folders(data_dir, other_dir)
    files = _list_folders(folders)
    others = files.pop(OTHER, None)
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
    kinds: dict[str, list[str]] = {}
    if others:
        other_train, other_validation, kinds = _split_kinds(others, folders[OTHER], validation_split, seed, limit)
        counts[OTHER] = len(others)
        train += other_train
        validation += other_validation
    rng.shuffle(train)
    return Split(train, validation, counts, kinds)
