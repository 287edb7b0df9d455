"""Write MODEL.reference.npz, the reference set `sorter learn` checks a personal model on: the
pooled features of up to 1,000 validation photos per class (cat, dog, other) of the split the
model's metadata records, never trained on. `sorter train` writes it with the model now; this is for
a model trained before it did.

    python benchmarks/make_reference_set.py sorter/models/default.keras ../shared/datasets/dogs-vs-cats-200
    python benchmarks/make_reference_set.py build/v10/default.keras DATA --other ../shared/datasets/caltech101-not-pets

The non-pet folders default to those the metadata names (skipped when not here). Needs only the
plain install (the model's int8 .tflite computes the features); ~1 min for 3,000 photos at
224 px on 2 cores.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from arg_types import description, existing_dir, existing_file, positive_int  # this folder is on sys.path
from running import as_script  # this folder is on sys.path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def model_and_data(doc: str) -> argparse.ArgumentParser:
    """MODEL.keras, the labelled folder it was trained on and its non-pet folders (reexport.py shares them)."""
    parser = argparse.ArgumentParser(description=description(doc))
    parser.add_argument("model", type=existing_file, help="MODEL.keras (with MODEL.tflite ending at its pooled features)")
    parser.add_argument("data", type=existing_dir, help="the labelled folder the model was trained on (Cat/, Dog/)")
    parser.add_argument("--other", type=existing_dir, action="append", default=[], help="non-pet folders (repeatable)")
    return parser


def write(model: Path, data: Path, other: tuple[Path, ...], per_class: int = 1000) -> None:
    from sorter.training.reference import make_reference, read_reference

    started = time.monotonic()
    path = make_reference(model, data, other, per_class=per_class)
    reference = read_reference(model)
    counts = {name: int((reference.labels == i).sum()) for i, name in enumerate(reference.class_names)}
    print(f"wrote {path} ({path.stat().st_size / 1e6:.1f} MB): {counts} in {time.monotonic() - started:.0f} s")


def main() -> None:
    parser = model_and_data(__doc__)
    parser.add_argument("--per-class", type=positive_int, default=1000)
    args = parser.parse_args()
    write(args.model, args.data, tuple(args.other), args.per_class)


if __name__ == "__main__":
    as_script(main)
