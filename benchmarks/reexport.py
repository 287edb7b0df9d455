"""Write MODEL.tflite again from MODEL.keras, calibrated as `sorter train` calibrates (512
photos of the training split its metadata records), so that a model trained before issue 24
ends at the last convolution's map and its named pets get a second look
(`sorter.training.export`); then its reference set (benchmarks/make_reference_set.py), since a
personal model and its checks belong to the exact network that computes the features.

    python benchmarks/reexport.py sorter/models/default.keras ../shared/datasets/dogs-vs-cats-200 \\
        --other ../shared/datasets/caltech101-not-pets --other ../shared/datasets/everyday-not-pets \\
        --other build/text-graphics

~40 s (TensorFlow's converter) and ~10 s for the reference set, on 2 busy cores. The non-pet
folders default to those the metadata names (skipped when not here).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

from running import as_script  # noqa: E402  (after the path above)


def main() -> None:
    from make_reference_set import model_and_data, write

    args = model_and_data(__doc__).parse_args()
    from sorter.training.export import reexport

    started = time.monotonic()
    path = reexport(args.model, args.data, tuple(args.other))
    print(f"wrote {path} in {time.monotonic() - started:.0f} s")
    write(args.model, args.data, tuple(args.other))


if __name__ == "__main__":
    as_script(main)
