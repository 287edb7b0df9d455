"""Does the model hold its accuracy on photos the size a phone takes?

Takes a seeded sample of the validation photos recorded in the model's metadata (never
trained on), enlarges each to 1600x1200 (4:3: stretched, as a phone photo is when sorter
squares it) and re-encodes it as a JPEG, then runs `sorter evaluate` on the originals and on
the enlarged copies. The two accuracies (pets in the right folder: a pet a three-way model
leaves in place as neither counts as wrong) should agree.

    python benchmarks/enlarged_photos.py                      # the bundled model, 500 per class
    python benchmarks/enlarged_photos.py --model build/default.keras --per-class 2000
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from arg_types import (  # this folder is on sys.path
    description,
    existing_dir,
    positive_int,
    sorter_model,
    width_by_height,
)
from running import BUNDLED_MODEL, DATASET, as_script, not_found, sorter_command  # this folder is on sys.path


def main() -> None:
    parser = argparse.ArgumentParser(description=description(__doc__))
    parser.add_argument("--model", type=sorter_model, help="MODEL.keras with MODEL.tflite (default: the bundled model)")
    parser.add_argument("--data", type=existing_dir, default=DATASET)
    parser.add_argument("--per-class", type=positive_int, default=500)
    parser.add_argument("--size", type=width_by_height, default="1600x1200", help="WIDTHxHEIGHT of the enlarged photos")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    import cv2

    from sorter.model.network import read_metadata
    from sorter.training.datasets import split

    if not args.data.is_dir():
        sys.exit(not_found("dogs-vs-cats-200", args.data, "--data"))
    model = args.model or BUNDLED_MODEL
    training = read_metadata(model).get("training") or {}
    held_out = split(args.data, training.get("validation_split", 0.2), training.get("seed", 1337)).validation
    width, height = (int(v) for v in args.size.split("x"))
    rng = random.Random(args.seed)
    work = Path(tempfile.mkdtemp(prefix="enlarged-"))
    try:
        for label, folder in enumerate(("Cat", "Dog")):
            (work / "original" / folder).mkdir(parents=True)
            (work / "enlarged" / folder).mkdir(parents=True)
            photos = [p for p, y in held_out if y == label]
            for path in rng.sample(photos, min(args.per_class, len(photos))):
                shutil.copyfile(path, work / "original" / folder / path.name)
                big = cv2.resize(cv2.imread(str(path)), (width, height), interpolation=cv2.INTER_CUBIC)
                cv2.imwrite(str(work / "enlarged" / folder / path.name), big, [cv2.IMWRITE_JPEG_QUALITY, 92])
        accuracy, lost = {}, {}
        for name in ("original", "enlarged"):
            run = subprocess.run(
                [*sorter_command(), "evaluate", str(work / name), "--model", str(model), "--json"],
                capture_output=True, text=True, check=True,
            )
            report = json.loads(run.stdout)
            accuracy[name], lost[name] = report["pet_accuracy"], report["pets_lost_to_neither"]
    finally:
        shutil.rmtree(work, ignore_errors=True)
    n = 2 * args.per_class
    print(f"model {model}: {n} validation photos")
    print(f"  as they are (200x200)      {accuracy['original']:.2%} in the right folder, "
          f"{lost['original']:.2%} left in place as neither")
    print(f"  enlarged to {args.size} JPEG {accuracy['enlarged']:.2%} in the right folder, "
          f"{lost['enlarged']:.2%} left in place as neither")
    print(f"  difference                 {accuracy['enlarged'] - accuracy['original']:+.2%}")


if __name__ == "__main__":
    as_script(main)
