"""A trained model's files as one set: checked before training that they can be written
where `--out` says, written into a hidden folder beside it, and only then moved into place.

A model is several files (MODEL.keras, its int8 MODEL.tflite, MODEL.json, MODEL.head.npz,
MODEL.evidence.npz, the curves), and `sort` refuses a mixed set (a new .keras beside an old
.tflite). Written in place, a run killed or a disk filled while saving left the old model
half replaced: neither the old one nor the new one could sort. Now a failed save leaves the
old set as it was, and a new set replaces it whole, the metadata last; a file of the old set
that the new one lacks (a three-way model's evidence, retrained as two-way; a reference set,
which belongs to the old network) is removed, since it would be read with the new network.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sorter.errors import UsageError

#: The files of the model MODEL.keras, by what follows its stem.
ENDINGS = (".keras", ".tflite", ".head.npz", ".evidence.npz", ".reference.npz", "-curves.png", ".json")


def model_files(model: Path) -> list[Path]:
    return [model.with_name(model.stem + ending) for ending in ENDINGS]


def check_out(out: Path) -> None:
    """Before any training: `out` can be saved (its folder made, if new), not after an hour of it."""
    if out.is_dir():
        raise UsageError(f"--out {out} is a folder; give the model's file name (MODEL.keras)")
    folder = out.parent.absolute()
    while not folder.exists() and folder != folder.parent:  # made when the model is saved, not now
        folder = folder.parent
    if not folder.is_dir():
        raise UsageError(f"--out {out}: {folder} is not a folder")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise UsageError(f"--out {out}: cannot write in {folder}")


@contextmanager
def staged(out: Path) -> Iterator[Path]:
    """Where to save the model that will be `out`: a path in a hidden folder beside it, whose
    files replace the old set when the block ends, and are dropped if it raises."""
    folder = out.parent / f".{out.name}.saving"
    shutil.rmtree(folder, ignore_errors=True)  # a save killed before
    folder.mkdir(parents=True)
    try:
        yield folder / out.name
        _publish(folder, out)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _publish(folder: Path, out: Path) -> None:
    made = {path.name for path in folder.iterdir()}
    metadata = out.with_suffix(".json").name
    for name in sorted(made, key=lambda name: name == metadata):  # the metadata last: it vouches for the rest
        os.replace(folder / name, out.parent / name)
    for old in model_files(out):
        if old.name not in made:
            old.unlink(missing_ok=True)
