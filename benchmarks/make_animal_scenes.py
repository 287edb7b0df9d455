"""Paste animals that are neither a cat nor a dog into everyday scenes, as `sorter train`
pastes its pets (`sorter.training.augment.scene_view`): a horse small in a street, a hedgehog
on a shop shelf, a flamingo beside people. For `sorter train --other`.

Why: training pastes pets, and only pets, into scenes, so a small furry animal in a busy frame
can only have been a pet; from other sources, raccoons, rabbits, cattle and bears went into
cats/ and dogs/. Drawn from the training sources' photos only (the horses of `everyday-not-pets`,
Caltech-101's animal kinds that train; scenes of people, places and things that train), from a
seed, so anyone gets the same:

    python benchmarks/make_animal_scenes.py build/animal-scenes --count 1200
    sorter train DATA --other ... --other build/animal-scenes
"""

from __future__ import annotations

import argparse
import random
import sys
from pathlib import Path

import cv2
from arg_types import datasets_dir, positive_int  # this folder is on sys.path
from make_photo_screens import photos_under  # this folder is on sys.path
from running import DATASETS, as_script  # this folder is on sys.path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

#: Kind (a sub-folder of the output) -> the animals pasted, under --shared.
ANIMALS = {
    "horse-scenes": ["everyday-not-pets/animals/whorse_*"],
    "mammal-scenes": [f"caltech101-not-pets/{kind}/*" for kind in
                      ("elephant", "gerenuk", "hedgehog", "kangaroo", "llama", "platypus", "rhino")],
    "bird-scenes": [f"caltech101-not-pets/{kind}/*" for kind in ("flamingo", "ibis")],
}
#: Scenes they are pasted into: sources that train, never one the validation holds out.
SCENES = [
    "everyday-not-pets/people/ccp_*",
    "everyday-not-pets/places/urban_*", "everyday-not-pets/places/bsd_*",
    "everyday-not-pets/things/trash_*", "everyday-not-pets/things/grocery_*",
]
SIZE = 224


def main() -> None:
    from sorter.media.images import load_image
    from sorter.training.augment import scene_view

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("out", type=Path)
    parser.add_argument("--shared", type=datasets_dir, default=DATASETS,
                        help="the shared datasets folder, or the folder holding it (default: ../shared/datasets "
                             "beside the checkout, or SORTER_DATASETS)")
    parser.add_argument("--count", type=positive_int, default=1200, help="pictures in all, shared among the kinds")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    animals = {kind: photos_under(args.shared, patterns) for kind, patterns in ANIMALS.items()}
    scenes = photos_under(args.shared, SCENES)
    if not scenes or not all(animals.values()):
        parser.error(f"the training photos were not found under {args.shared} "
                     "(give --shared DIR, or set SORTER_DATASETS=/path/to/datasets)")
    kinds = list(ANIMALS)
    for i in range(args.count):
        kind = kinds[i % len(kinds)]
        group = [load_image(rng.choice(animals[kind]), SIZE) for _ in range(1 if rng.random() < 0.75 else 2)]
        picture = scene_view(group, load_image(rng.choice(scenes), SIZE), rng)
        folder = args.out / kind
        folder.mkdir(parents=True, exist_ok=True)
        cv2.imwrite(str(folder / f"{kind}-{i:04d}.jpg"), cv2.cvtColor(picture, cv2.COLOR_RGB2BGR),
                    [cv2.IMWRITE_JPEG_QUALITY, 90])
    print(f"{args.count} pictures in {args.out}")


if __name__ == "__main__":
    as_script(main)
