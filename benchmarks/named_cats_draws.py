"""Named pets on real photos, many draws: the curve of a named cat's photos found against other
cats named, for the pet head alone and with the photo's likeness to the pet's own photos.

`benchmarks/named_cats.py` sorts as a user would, four rotations, the first k photos of each cat
as its examples: one point of the curve, on 83 photos at k = 10. This measures the whole curve
on more photos, with features held in memory: four-cat groups of `../shared/datasets/named-cats`
(look-alikes together), k random photos of each as examples, three draws; each draw fits the pet
head as `sorter learn` does (`learning.pets.fit_pets`, against the bundled model's reference
set) and scores every other photo: the named cats' other photos, the other campus cats, Kaggle
cats and dogs of the validation split that are not in the reference set, and the hold-out's
non-pets. sort asks a pet head about every photo whatever it is filed as, so filing plays no
part. Printed: photos of named cats found (named, and as the right cat) at 1 / 2 / 3 % of the
other campus cats named, and at the shipped threshold, for the head's own word and for its
word with the likeness (`model.pet_heads.named_chances`).

    python benchmarks/named_cats_draws.py [--examples 10] [--model MODEL.keras]

Progress goes to stderr: the features of 1,518 photos (each photo and its crop), then each of
the 18 draws with the time so far. Measured on the 2 shared cores at a load of 2.5-4 (nice 10):
130 s at 10 examples (features 9 s, draws 1-22 s each, the most while the load rose), 62 s
at 5 (features 22 s, draws 1-2 s each). 5 examples is no slower: it leaves more photos to
score, but scoring is a product of arrays; what takes the time is fitting each head and the
heads of its held-out folds, one fold per example up to 10 (`learning.pets.FOLDS`), so half as
many at 5. Belle and oreo, with fewer than 12 photos, are named only at 5.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
from arg_types import description, positive_int, sorter_model  # this folder is on sys.path
from running import as_script, need_datasets, shared_dataset  # this folder is on sys.path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))
from named_cats import KAGGLE, cat_photos  # noqa: E402  (after the path above)

HOLDOUT = shared_dataset("holdout-not-pets")
GROUPS = (("fred", "kit", "putu", "plum"), ("belle", "toothless", "oreo", "kit"),
          ("ashy", "lily", "m33y_thai", "plum"), ("toothless", "fred", "oreo", "putu"), ("fred", "kit"),
          ("lily", "m33y_thai", "ashy"))
DRAWS = 3
RATES = (0.01, 0.02, 0.03)


def photos(model: Path | None) -> list[tuple[Path, str]]:
    """(path, who): every named cat's photo by its name; Kaggle cats and dogs of the model's
    validation split left out of its reference set (`make_reference` keeps every other one of
    each class, from the first); the hold-out's non-pets."""
    from sorter.model import lite
    from sorter.model.network import read_metadata
    from sorter.training.datasets import split

    meta = read_metadata(lite.resolve_model_path(model)).get("training", {})
    parts = split(KAGGLE, float(meta.get("validation_split", 0.2)), int(meta.get("seed", 1337)), meta.get("limit"), ())
    chosen = [(p, name) for name, paths in cat_photos().items() for p in paths]
    for label, who in ((0, "kaggle cat"), (1, "kaggle dog")):
        chosen += [(p, who) for p in [p for p, k in parts.validation if k == label][1::2][:450]]
    return chosen + [(p, "hold-out") for p in sorted(HOLDOUT.rglob("*.jpg"))]


def say(line: str) -> None:
    """Progress, on stderr so that stdout stays the result alone."""
    print(line, file=sys.stderr, flush=True)


def pet_features(classifier, paths: list[Path], margin: float) -> np.ndarray:
    """The features that name a pet, as `sorter learn` and sort compute them (cut as the
    reference set's were: `margin`)."""
    from sorter.model.inference import features

    rows, started = [], time.perf_counter()
    for _, result in features(classifier, paths, pets=True, margin=margin):
        rows.append(result)
        if len(rows) % 250 == 0 or len(rows) == len(paths):
            say(f"features: {len(rows)} of {len(paths)} photos, {time.perf_counter() - started:.0f} s")
    return np.stack([r[1] if isinstance(r, np.ndarray) else np.full(rows[0].shape[1], np.nan) for r in rows])


def draw(who: np.ndarray, pet: np.ndarray, names: tuple[str, ...], k: int, seed: int, anchor, check):
    """Fit the named cats' head on k random photos each; per other photo: (who, best name, the
    head's own word for it, its word with the likeness)."""
    from sorter.learning.pets import fit_pets
    from sorter.model.personal import Examples
    from sorter.model.pet_heads import normalised

    rng = np.random.default_rng(seed)
    examples = {name: rng.permutation(np.flatnonzero(who == name))[:k] for name in names}
    rows = np.concatenate(list(examples.values()))
    n = len(rows)
    learnt = Examples("draw", np.zeros((n, 3), np.int64), pet[rows].astype(np.float32), np.full(n, "cat"),
                      np.repeat(names, [len(examples[name]) for name in names]), np.full(n, ""), np.full(n, ""),
                      pet[rows].astype(np.float32))
    heads, _ = fit_pets(learnt, anchor, check, lambda *_: None, anchor.pet_margin)
    head = heads[0]
    rest = np.setdiff1d(np.arange(len(who)), rows)
    own_word = head.head.probabilities(normalised(pet[rest]))[:, head.others:]
    with_likeness = head.chances(pet[rest])
    order = [head.names.index(name) for name in names]
    return who[rest], np.array(names), own_word[:, order], with_likeness[:, order], head.threshold


def curve(results, scores: int, threshold: float | None) -> str:
    kinds, right, best = [], [], []
    for who, names, *p, _ in results:
        chance = p[scores]
        kinds.append(np.where(np.isin(who, names), "own", np.where(np.char.startswith(who, "kaggle")
                                                                    | (who == "hold-out"), who, "other cat")))
        right.append(names[chance.argmax(axis=1)] == who)
        best.append(chance.max(axis=1))
    kind, right, best = np.concatenate(kinds), np.concatenate(right), np.concatenate(best)
    others = np.sort(best[kind == "other cat"])[::-1]
    cells = []
    for rate in RATES:
        cut = others[int(rate * len(others))]
        cells.append(f"{(right & (best > cut) & (kind == 'own')).sum():>4}")
    if threshold is not None:
        named = best >= threshold
        cells.append(f"{(right & named & (kind == 'own')).sum():>4} at {named[kind == 'other cat'].mean():.1%}")
        cells += [f"{named[kind == k].mean():.1%}" for k in ("kaggle cat", "kaggle dog", "hold-out")]
    return "  ".join(cells) + f"  (of {(kind == 'own').sum()})"


def main() -> None:
    parser = argparse.ArgumentParser(description=description(__doc__))
    parser.add_argument("--model", type=sorter_model, help="MODEL.keras with pooled features (default: the bundled model)")
    parser.add_argument("--examples", type=positive_int, default=10, help="photos of each named cat (default 10)")
    args = parser.parse_args()
    need_datasets("named-cats", "dogs-vs-cats-200", "holdout-not-pets")
    from sorter.learning.pets import PET_THRESHOLD
    from sorter.model import lite
    from sorter.training.reference import read_reference

    classifier = lite.load_classifier(args.model)
    reference = read_reference(lite.resolve_model_path(args.model))
    if reference is None:
        sys.exit("this model has no reference set (benchmarks/make_reference_set.py)")
    anchor, check = reference.halves()
    chosen = photos(args.model)
    started = time.perf_counter()
    say(f"features of {len(chosen)} photos (each photo and its pet crop), then {DRAWS * len(GROUPS)} draws")
    who = np.array([w for _, w in chosen])
    pet = pet_features(classifier, [p for p, _ in chosen], reference.pet_margin)
    keep = ~np.isnan(pet).any(axis=1)
    who, pet = who[keep], pet[keep]
    results, drawn = [], time.perf_counter()
    for seed in range(DRAWS):
        for group in GROUPS:
            names = tuple(n for n in group if (who == n).sum() >= args.examples + 2)
            results.append(draw(who, pet, names, args.examples, 100 + seed, anchor, check))
            say(f"draw {len(results)} of {DRAWS * len(GROUPS)} ({', '.join(names)}): "
                f"{time.perf_counter() - drawn:.0f} s")
    say(f"done in {time.perf_counter() - started:.0f} s")
    print(f"{args.examples} examples a cat, {DRAWS} draws of {len(GROUPS)} groups; a named cat's photos found at "
          + " / ".join(f"{r:.0%}" for r in RATES) + " of the other campus cats named; then at the threshold "
          "(other campus cats named), Kaggle cats, Kaggle dogs, hold-out named")
    print(f"  the head's own word:    {curve(results, 0, PET_THRESHOLD)}")
    print(f"  with the likeness:      {curve(results, 1, results[0][-1])}")


if __name__ == "__main__":
    as_script(main)
