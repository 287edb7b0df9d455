"""Does a first look at a JPEG's EXIF thumbnail give the answer the whole photo gives, and how
often is it sure enough to be the answer? (Issue 25: choose `FIRST_LOOK_CONFIDENCE`.)

    python benchmarks/first_look.py                  # the bundled model, every table (~2 min)
    python benchmarks/first_look.py --every 4        # a quarter of each table, for a smoke run

Each photo of each table becomes, in memory, a phone-like JPEG with an EXIF thumbnail: the
photo at 4:3 (a square pet photo stretched to it, as a phone's sensor is; others keep their
shape) at JPEG quality 92, and in its APP1 segment a thumbnail whose longer side is 160 px
(160x120 for 4:3) at quality THUMBNAIL_QUALITY, written with `exif_thumbnail.with_exif`. Then
the model judges the photo twice, as sort would: whole (`images.decode_image`, the full path)
and from its thumbnail alone (`exif_thumbnail.look`, the first look). For each rule (how sure
of a cat or dog, how sure of neither), the cascade's answer is the first look's where it is
that sure, else the whole photo's; its accuracy on each table is set beside the full path's, with how many photos
the thumbnail settled and how many of its answers differ from the whole photo's.

Tables: the model's validation pets and validation non-pets (its own split, from its metadata),
those pets pasted into those non-pets' scenes (as `sorter train` scores them), and the
hold-out non-pets. The photos are 200-256 px, so the whole photo here has less detail than a
12 MP phone photo reduced to 224 px has; the thumbnail has the same (160x120 of the scene).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterable
from pathlib import Path

import cv2
import numpy as np
from arg_types import description, positive_int, sorter_model  # this folder is on sys.path
from running import DATASET, as_script, need_datasets, recorded_others, shared_dataset  # this folder is on sys.path

from sorter.config import OTHER
from sorter.media.exif_thumbnail import look, with_exif
from sorter.media.images import decode_image, decode_picture, read_image_bytes
from sorter.model.inference import FIRST_LOOK_CONFIDENCE, FIRST_LOOK_NEITHER, Prediction, SureEnough
from sorter.wording import counted

HOLDOUT = shared_dataset("holdout-not-pets")
THUMBNAIL_QUALITY = 85
NEVER = 1.01  # no confidence reaches it
#: The rules compared: one threshold for every answer, then a cat or dog and neither apart.
#: Each once: sort's own rule (0.99 / 0.9999) is in both of the last two sweeps.
RULES = tuple(dict.fromkeys((
    *(SureEnough(t, t) for t in (0.0, 0.8, 0.9, 0.95, 0.99)),
    *(SureEnough(FIRST_LOOK_CONFIDENCE, t) for t in (0.999, 0.9995, 0.9999, 0.99995, NEVER)),
    *(SureEnough(t, FIRST_LOOK_NEITHER) for t in (0.9, 0.95, 0.97, 0.98, 0.99, 0.995)),
)))


def phone_like(image: np.ndarray) -> bytes:
    """A BGR photo as a phone-like JPEG: 4:3 when square, a 160 px EXIF thumbnail of itself."""
    height, width = image.shape[:2]
    if height == width:
        image = cv2.resize(image, (round(width * 4 / 3), height), interpolation=cv2.INTER_CUBIC)
        height, width = image.shape[:2]
    scale = 160 / max(height, width)
    thumb = cv2.resize(image, (max(1, round(width * scale)), max(1, round(height * scale))), interpolation=cv2.INTER_AREA)
    main = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, 92])[1].tobytes()
    small = cv2.imencode(".jpg", thumb, [cv2.IMWRITE_JPEG_QUALITY, THUMBNAIL_QUALITY])[1].tobytes()
    return with_exif(main, small, pixels=(width, height))


def tables(size: int, metadata: dict, every: int) -> dict[str, list[tuple[np.ndarray, str]]]:
    """(BGR photo, true label) of each table that has any: one without (its folders not here,
    `running.recorded_others` names them) is left out with a line saying so, not judged empty."""
    from sorter.training.datasets import ALL_CLASSES, split
    from sorter.training.evaluate import scene_parts
    from sorter.training.scoring import compose_scenes

    training = metadata["training"]
    parts = split(DATASET, float(training["validation_split"]), int(training["seed"]), training.get("limit"),
                  recorded_others(training))

    def read(paths: Iterable[tuple[Path, str]]) -> list[tuple[np.ndarray, str]]:
        out = []
        for path, label in paths:
            image = cv2.imdecode(np.frombuffer(read_image_bytes(path), np.uint8), cv2.IMREAD_COLOR)
            if image is not None:
                out.append((image, label))
        return out

    pets = [(p, ALL_CLASSES[y]) for p, y in parts.validation if ALL_CLASSES[y] != OTHER]
    non_pets = [(p, OTHER) for p, y in parts.validation if ALL_CLASSES[y] == OTHER]
    holdout = sorted(p for p in HOLDOUT.rglob("*") if p.suffix.lower() in (".jpg", ".jpeg", ".png"))
    scene_pets, backdrops = scene_parts(parts)
    scenes = [(cv2.cvtColor(image, cv2.COLOR_RGB2BGR), ALL_CLASSES[y])
              for image, y in compose_scenes(size, scene_pets, backdrops, int(training["seed"]))]
    found = {
        "validation pets": read(pets[::every]),
        "validation non-pets": read(non_pets[::every]),
        "pets in scenes": scenes[::every],
        "hold-out non-pets": read([(p, OTHER) for p in holdout[::every]]),
    }
    for name in [name for name, photos in found.items() if not photos]:
        print(f"{name}: no photos here; this table is left out", file=sys.stderr, flush=True)
        del found[name]
    return found


def judge(classifier, images, run=None, closer=None) -> list[Prediction]:
    """Predictions of `images` in batches of 64: by `run` (probabilities of a batch), by
    default the classifier's own `predict`, given each photo's `Picture` for a closer look
    where there is one (`closer`: a whole photo's, as sort's; none for a thumbnail)."""
    names, run = tuple(classifier.class_names), run or classifier.predict
    rows = np.concatenate([run(np.stack(images[i : i + 64]), *([closer[i : i + 64]] if closer else []))
                           for i in range(0, len(images), 64)])
    return [Prediction(Path(), tuple(row.tolist()), names) for row in rows]


def cascade(rule: SureEnough, first: list[Prediction], full: list[Prediction], truth: list[str]):
    """The first look's answer where `rule` finds it sure enough, else the full look's: (how
    many the first look settled, the cascade's accuracy and the full look's in %, answers changed)."""
    settled = [rule(f) for f in first]
    answers = [f if s else w for f, w, s in zip(first, full, settled, strict=True)]
    accuracy = 100 * np.mean([p.label == t for p, t in zip(answers, truth, strict=True)])
    baseline = 100 * np.mean([p.label == t for p, t in zip(full, truth, strict=True)])
    return sum(settled), accuracy, baseline, sum(a.label != w.label for a, w in zip(answers, full, strict=True))


def main() -> None:
    parser = argparse.ArgumentParser(description=description(__doc__))
    parser.add_argument("--model", type=sorter_model, help="MODEL.keras with MODEL.tflite (default: bundled)")
    parser.add_argument("--every", type=positive_int, default=1, help="take every n-th photo of each table")
    args = parser.parse_args()
    need_datasets("dogs-vs-cats-200", "holdout-not-pets")
    from sorter.model.lite import load_classifier

    classifier = load_classifier(args.model)
    size = classifier.image_size
    print(f"model: {args.model or 'bundled'} ({size} px); thumbnails 160 px, JPEG q{THUMBNAIL_QUALITY}", flush=True)
    results = {}
    for name, photos in tables(size, classifier.metadata, args.every).items():
        files = [phone_like(image) for image, _ in photos]
        pictures = [decode_picture(data, size) for data in files]
        full = judge(classifier, [picture.image for picture in pictures], closer=pictures)
        looks = [look(data, size, min_pixels=0) for data in files]
        # A thumbnail refused (the photo itself has black bars at two edges) is no first look:
        # confidence 0 settles nothing, and the whole photo answers, as in sort.
        first = judge(classifier, [full_image if first is None else first.image
                                   for first, full_image in zip(looks, (decode_image(d, size) for d in files), strict=True)])
        first = [Prediction(f.path, tuple(0.0 for _ in f.probabilities), f.class_names) if seen is None else f
                 for f, seen in zip(first, looks, strict=True)]
        results[name] = ([label for _, label in photos], full, first)
        print(f"{name}: {counted(len(photos), 'photo')}, {counted(sum(seen is None for seen in looks), 'thumbnail')} "
              "refused", flush=True)
    print()
    print(f"{'pet / neither':>16s}  " + "  ".join(f"{name:>34s}" for name in results))
    print(f"{'':>16s}  " + "  ".join(f"{'settled  acc cascade/full  changed':>34s}" for _ in results))
    for rule in RULES:
        cells = []
        for truth, full, first in results.values():
            settled, accuracy, baseline, changed = cascade(rule, first, full, truth)
            cells.append(f"{100 * settled / len(first):6.1f} %  {accuracy:6.2f}/{baseline:6.2f} "
                         f"{accuracy - baseline:+5.2f}  {changed:5d}")
        mark = "  <- sort's" if rule == SureEnough() else ""
        print(f"{rule.pet:>7g} / {rule.neither:<6g}  " + "  ".join(f"{cell:>34s}" for cell in cells) + mark)
    total = sum(len(t) for t, _, _ in results.values())
    settled = sum(SureEnough()(f) for _, _, first in results.values() for f in first)
    print(f"\nsort's rule (cat or dog at {FIRST_LOOK_CONFIDENCE}, neither at {FIRST_LOOK_NEITHER}): the thumbnail "
          f"settles {settled} of {total} photos ({100 * settled / total:.1f} %)")


if __name__ == "__main__":
    as_script(main)
