"""Which named cat is it? Pooled features against matching the map's cells, closed-set.

Issue 24's named pets fail most between look-alikes (two black cats, three tabby-and-whites):
the pooled features that name a pet (the mean of the photo's and its pet crop's, what `sorter
learn` fits on) average the fur pattern away. The int8 network already computes the 7×7 map
before the pool, for the photo and its crop: 98 cells of 1280 numbers. This measures telling
the named cats apart by those cells: a photo's 25 strongest cells (by their norm), each matched
to its most similar cell among a named cat's example photos (cosine), averaged; the cat with
the highest score is the one. Against it, the pooled features' nearest centroid (cosine).

Four named cats of `../shared/datasets/named-cats` at a time (look-alikes together), 10 photos
of each as examples, their other photos to name; three draws of the examples. Closed-set:
every photo to name is one of the four, so this is the ceiling of the choice between them, not
of telling them from strangers (`benchmarks/named_cats.py` measures that, as a user lives it).

    python benchmarks/named_cats_cells.py [--model MODEL.keras]
"""

from __future__ import annotations

import argparse
import random
import sys
from pathlib import Path

import numpy as np
from arg_types import description, existing_dir, sorter_model  # this folder is on sys.path
from running import as_script, not_found, shared_dataset  # this folder is on sys.path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

NAMED_CATS = shared_dataset("named-cats")
GROUPS = (("fred", "kit", "putu", "plum"), ("belle", "toothless", "oreo", "kit"),
          ("ashy", "lily", "m33y_thai", "plum"), ("toothless", "fred", "oreo", "putu"))
EXAMPLES = 10
CELLS = 25
DRAWS = 3


def looks(classifier, images: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(pooled features, maps) of the photos and of their pet crops, side by side."""
    from sorter.config import OTHER
    from sorter.model import second_look
    from sorter.model.pet_heads import normalised

    def run(batch):
        pairs = [second_look.first_look(classifier, batch[i : i + 32]) for i in range(0, len(batch), 32)]
        return np.vstack([f for f, _ in pairs]), np.vstack([m for _, m in pairs])

    features, maps = run(images)
    pets = [i for i, name in enumerate(classifier.class_names) if name != OTHER]
    boxes = second_look.pet_boxes(maps, second_look.pet_rows(classifier.head[0], features, pets))
    crop_features, crop_maps = run(second_look.crops(images, boxes))
    cells = np.concatenate([maps.reshape(len(images), -1, maps.shape[-1]),
                            crop_maps.reshape(len(images), -1, maps.shape[-1])], axis=1).astype(np.float32)
    return normalised((features + crop_features) / 2), cells


def main() -> None:
    parser = argparse.ArgumentParser(description=description(__doc__))
    parser.add_argument("--model", type=sorter_model, default=None, help="default: the bundled model")
    parser.add_argument("--photos", type=existing_dir, default=NAMED_CATS)
    args = parser.parse_args()
    if not args.photos.is_dir():
        sys.exit(not_found("named-cats", args.photos, "--photos"))
    from sorter.media.images import load_image
    from sorter.model.lite import load_classifier
    from sorter.model.pet_heads import normalised

    classifier = load_classifier(args.model)
    if getattr(classifier, "run_maps", None) is None:
        sys.exit("this model's .tflite ends at pooled features: it has no map (benchmarks/reexport.py)")
    paths = sorted(args.photos.glob("*/*.jpg"))
    who = [p.parent.name for p in paths]
    pooled, cells = looks(classifier, np.stack([load_image(p, classifier.image_size) for p in paths]))
    strongest = np.argsort(-np.linalg.norm(cells, axis=-1), axis=1)[:, :CELLS]
    cells = normalised(cells)
    queries = np.take_along_axis(cells, strongest[:, :, None], axis=1)

    print(f"{'named cats':<38} {'photos':>6} {'pooled':>7} {'cells':>6}")
    totals = np.zeros(3)
    for named in GROUPS:
        right = np.zeros(2)
        n = 0
        for draw in range(DRAWS):
            rng = random.Random(draw)
            examples = {}
            for cat in named:
                mine = [i for i, w in enumerate(who) if w == cat]
                rng.shuffle(mine)
                examples[cat] = mine[:EXAMPLES]
            used = {i for chosen in examples.values() for i in chosen}
            others = [i for i, w in enumerate(who) if w in named and i not in used]
            centroids = normalised(np.stack([pooled[examples[c]].mean(axis=0) for c in named]))
            their_cells = [cells[examples[c]].reshape(-1, cells.shape[-1]) for c in named]
            for i in others:
                truth = named.index(who[i])
                right[0] += int(np.argmax(centroids @ pooled[i]) == truth)
                right[1] += int(np.argmax([(queries[i] @ e.T).max(axis=1).mean() for e in their_cells]) == truth)
            n += len(others)
        totals += [n, *right]
        print(f"{', '.join(named):<38} {n:>6} {right[0] / n:>7.1%} {right[1] / n:>6.1%}")
    print(f"{'all':<38} {int(totals[0]):>6} {totals[1] / totals[0]:>7.1%} {totals[2] / totals[0]:>6.1%}")


if __name__ == "__main__":
    as_script(main)
