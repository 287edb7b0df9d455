"""A quick look at a smaller input before the full one: does it pay? (Issue 25: "a first look
at a smaller input (e.g. 128 or 160 px) through the same weights, and the full 224 px look only
for photos the first look is not sure of"; accuracy within 0.3 points of the full model.)

    python benchmarks/quick_look.py                   # the bundled model, every table (~3 min)
    python benchmarks/quick_look.py --every 4         # a quarter of each table, for a smoke run
    python benchmarks/quick_look.py --sizes 128 --refit

The network is convolutional up to its pooling, so the same int8 weights run at any input size
(`LiteClassifier` resizes its interpreters' input to each batch). For each size this shrinks the
model's own 224 px input of every photo to it, judges it (the float head and ImageNet's
evidence, no second look), and sets the answer beside the full look's (224 px with the second
look: what sort runs). With `--refit`, the quick look's head is instead fitted again on the
training split's features at that size (and its pets in scenes), starting from the model's
head: a head made for that size's features.

For each rule (how sure of a cat or dog, how sure of neither), the cascade's answer is the quick
look's where it is that sure, else the full look's. Printed per table: the share the quick look
settled, the cascade's accuracy, its difference from the full look's, and the answers changed;
then the network's time per photo in the cascade, measured in this run on one core (the quick
look for every photo, the full look for the unsettled), against the full look alone.

Tables as in benchmarks/first_look.py: the model's validation pets and non-pets, those pets in
those non-pets' scenes, the hold-out non-pets.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import cv2
import numpy as np
from arg_types import description, positive_int, sorter_model  # this folder is on sys.path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from first_look import DATASET, cascade, judge, tables  # noqa: E402
from input_sizes import per_image_ms  # noqa: E402
from machine import cpu_line  # noqa: E402
from running import as_script, need_datasets, recorded_others  # noqa: E402

from sorter.media.images import square_rgb  # noqa: E402
from sorter.model.inference import SureEnough  # noqa: E402

RULES = (
    *(SureEnough(t, t) for t in (0.9, 0.99)),
    *(SureEnough(t, 0.9999) for t in (0.95, 0.98, 0.99, 0.995, 0.999)),
    *(SureEnough(0.99, t) for t in (0.999, 0.9995, 0.99995)),
)


def shrunk(batch: np.ndarray, size: int) -> np.ndarray:
    """The model's input (n, s, s, 3) shrunk to (n, size, size, 3) by area averaging."""
    return np.stack([cv2.resize(image, (size, size), interpolation=cv2.INTER_AREA) for image in batch])


def cost(classifier, size: int) -> float:
    """ms a photo of the network alone at `size`, one core, batches of 64."""
    return per_image_ms(classifier, size, batch=64, run=classifier.run)


def refitted(classifier, size: int):
    """A head for `size`'s features: the model's, fitted again (L2 10, classes weighed alike) on
    the training split's photos and pets in scenes made of them, shrunk to `size`."""
    from sorter.config import OTHER
    from sorter.model.heads import Head, fit_softmax, one_hot
    from sorter.model.inference import features
    from sorter.training.datasets import ALL_CLASSES, split
    from sorter.training.evaluate import SCENE_KINDS
    from sorter.training.scoring import compose_scenes

    training = classifier.metadata["training"]
    parts = split(DATASET, float(training["validation_split"]), int(training["seed"]), training.get("limit"),
                  recorded_others(training))

    class AtSize:  # decodes as the model does, runs the network at `size`
        image_size = classifier.image_size

        def run(self, batch):
            return classifier.run(shrunk(batch, size))

    labels = dict(parts.train)
    rows = [(found, labels[path]) for path, found in features(AtSize(), list(labels)) if not isinstance(found, str)]
    pets = [(p, y) for p, y in parts.train if ALL_CLASSES[y] != OTHER]
    backdrops = [p for p, y in parts.train if ALL_CLASSES[y] == OTHER and parts.kind_of.get(p) in SCENE_KINDS]
    scenes = compose_scenes(classifier.image_size, pets, backdrops, 1)
    pictures = np.stack([image for image, _ in scenes])
    x = np.vstack([np.stack([f for f, _ in rows]),
                   *(AtSize().run(pictures[i : i + 64]) for i in range(0, len(pictures), 64))])
    y = np.array([label for _, label in rows] + [label for _, label in scenes])
    weights = len(y) / (3 * np.bincount(y, minlength=3))
    kernel, bias, temperature = classifier.head
    head = fit_softmax(x, one_hot(y, 3), weights[y], Head(kernel, bias, temperature, classifier.evidence), l2=10.0)
    print(f"  head refitted at {size} px on {len(y)} training photos and scenes", flush=True)
    return head.probabilities


def speed(ratio: float) -> str:
    """The cascade against the full look alone: a ratio below 1 is slower, not "0.54x faster"."""
    return f"{ratio:.2f}x faster" if ratio >= 1 else f"{1 / ratio:.2f}x slower"


def main() -> None:
    parser = argparse.ArgumentParser(description=description(__doc__))
    parser.add_argument("--model", type=sorter_model, help="MODEL.keras with MODEL.tflite (default: bundled)")
    parser.add_argument("--every", type=positive_int, default=1, help="take every n-th photo of each table")
    parser.add_argument("--sizes", type=positive_int, nargs="+", default=[96, 112, 128, 160])
    parser.add_argument("--refit", action="store_true", help="fit the quick look's head again at each size")
    args = parser.parse_args()
    need_datasets("dogs-vs-cats-200", "holdout-not-pets")  # first_look's tables
    from sorter.model.lite import load_classifier

    classifier = load_classifier(args.model)
    size = classifier.image_size
    print(cpu_line())
    print(f"model: {args.model or 'bundled'} ({size} px); quick looks at {args.sizes} px"
          f"{', heads refitted' if args.refit else ''}", flush=True)
    judges = {n: refitted(classifier, n) if args.refit else (lambda f: classifier.judge(f)[0]) for n in args.sizes}
    full, quick = {}, {n: {} for n in args.sizes}
    for name, photos in tables(size, classifier.metadata, args.every).items():
        images = np.stack([square_rgb(image, size) for image, _ in photos])
        full[name] = ([label for _, label in photos], judge(classifier, images))
        for n in args.sizes:
            quick[n][name] = judge(classifier, images, lambda b, n=n: judges[n](classifier.run(shrunk(b, n))))
        print(f"{name}: {len(photos)} photos", flush=True)
    full_cost = cost(classifier, size)
    total = sum(len(truth) for truth, _ in full.values())
    for n in args.sizes:
        quick_cost = cost(classifier, n)
        print(f"\nquick look at {n} px: {quick_cost:.2f} ms a photo (the full look: {full_cost:.2f} ms, "
              "and a second look for its unsure)")
        print(f"{'pet / neither':>16s}  " + "  ".join(f"{name:>30s}" for name in full) + "   network, ms a photo")
        for rule in RULES:
            cells, settled_all = [], 0
            for name, (truth, whole) in full.items():
                settled, accuracy, baseline, changed = cascade(rule, quick[n][name], whole, truth)
                settled_all += settled
                cells.append(f"{100 * settled / len(truth):5.1f} % {accuracy:6.2f} {accuracy - baseline:+5.2f} {changed:4d}")
            network = quick_cost + (1 - settled_all / total) * full_cost
            print(f"{rule.pet:>7g} / {rule.neither:<6g}  " + "  ".join(f"{c:>30s}" for c in cells)
                  + f"   {network:5.2f} ({speed(full_cost / network)})")
    print("\n(each cell: settled by the quick look, the cascade's accuracy, its difference from the full look's, "
          "answers changed)")


if __name__ == "__main__":
    as_script(main)
