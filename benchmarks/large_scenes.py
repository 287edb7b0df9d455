"""Pets small in large photos: do the second and closer looks use the pixels a phone photo has?

The validation's pets in scenes (`sorter evaluate --split validation`) are composed at the
network's 224 px, so a look at the pet's crop or at the photo at 288 px can only stretch them.
A phone photo decoded at 1/8 scale is 504x378. This composes the same validation pets into the
same validation scenes at SIZE px (default 448) and judges each as `sort` judges a photo that
large: the first look at 224 px from it, then, where it is unsure, the crop around the pet and
the closer look (`second_look.CLOSER_SIZE`) cut from the large picture. Beside it, the same
pictures with the crop cut from their 224 px input, and judged from that input alone (the crop
cut from it, no closer look), as sort did before the closer look. The same model, the same
photos, one run.

    python benchmarks/large_scenes.py                       # the bundled model, 448 px
    python benchmarks/large_scenes.py --size 336 --model build/v14/default.keras
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
from arg_types import description, existing_dir, positive_int, sorter_model  # this folder is on sys.path
from running import as_script, not_found, recorded_others, shared_dataset  # this folder is on sys.path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

DATA = shared_dataset("dogs-vs-cats-200")


def main() -> None:
    parser = argparse.ArgumentParser(description=description(__doc__))
    parser.add_argument("--model", type=sorter_model, help="MODEL.keras with MODEL.tflite (default: bundled)")
    parser.add_argument("--data", type=existing_dir, default=DATA, help="the labelled folder the model was trained on")
    parser.add_argument("--size", type=positive_int, default=448, help="the side of the composed scenes, px")
    args = parser.parse_args()
    import cv2

    from sorter.media.images import Picture
    from sorter.model.lite import load_classifier
    from sorter.training.datasets import split
    from sorter.training.evaluate import scene_parts
    from sorter.training.scoring import compose_scenes

    if not args.data.is_dir():
        raise SystemExit(not_found("dogs-vs-cats-200", args.data, "--data"))
    classifier = load_classifier(args.model)
    training = classifier.metadata.get("training", {})
    if "seed" not in training:
        raise SystemExit("this model's metadata does not record its split")
    other = recorded_others(training)
    parts = split(args.data, float(training["validation_split"]), int(training["seed"]), training.get("limit"), other)
    composed = compose_scenes(args.size, *scene_parts(parts), int(training["seed"]))
    if not composed:
        raise SystemExit("no validation pets or scenes: are the non-pet folders the metadata names here?")
    pictures = []
    for image, _ in composed:
        source = np.ascontiguousarray(cv2.cvtColor(image, cv2.COLOR_RGB2BGR))
        pictures.append(Picture.of_decode(source, classifier.image_size))
    truth = np.array([label for _, label in composed])

    class CropFromInput:
        """The closer look from the large picture, the crop from the 224 px input."""

        def __init__(self, picture: Picture) -> None:
            self.picture = picture

        def at(self, size: int) -> np.ndarray:
            return self.picture.at(size)

        def crop(self, box, size: int) -> np.ndarray:
            return Picture.of_input(self.picture.image).crop(box, size)

    results = {}
    for name, closer in (("from the 224 px input alone (before)", None),
                         ("closer, the crop from the 224 px input", [CropFromInput(p) for p in pictures]),
                         ("closer, the crop from the large picture", pictures)):
        rows = [classifier.predict(np.stack([p.image for p in pictures[i : i + 64]]),
                                   None if closer is None else closer[i : i + 64])
                for i in range(0, len(pictures), 64)]
        results[name] = np.concatenate(rows).argmax(axis=1)
    print(f"{len(composed)} validation pets in validation scenes composed at {args.size} px; "
          f"model: {args.model or 'bundled'} ({classifier.image_size} px)")
    names = classifier.class_names
    for name, answer in results.items():
        right = answer == truth
        cats, dogs = truth == names.index("cat"), truth == names.index("dog")
        lost = answer == len(names) - 1
        print(f"  looks {name:40s} right {right.mean():6.1%}  (cats {right[cats].mean():6.1%}, "
              f"dogs {right[dogs].mean():6.1%})  left as neither {lost.mean():5.1%}")


if __name__ == "__main__":
    as_script(main)
