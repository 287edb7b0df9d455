"""What does centring the review page's thumbnails on the pet cost, and which does it cut?

Runs the bundled model over real photos (../shared/datasets/named-cats: campus cats, often
small in their photos; dogs-vs-cats-200: pets that fill theirs), as sort does, and reports:
- per photo, the time of the pet's box (`second_look.filed_boxes`, the map's weighting),
  beside the time of the batch's `predict_named`;
- per photo, the extra time of handing over a 224-pixel thumbnail instead of 128 (the
  shrink from the decode), and of cutting one for the page (`framing.around_pet`, 128 px);
- how many thumbnails are cut, per folder; with --sheet, a contact sheet (the whole photo
  beside what the page shows) to look at.

    python benchmarks/review_thumbnails.py --sheet /tmp/thumbnails.png
"""

from __future__ import annotations

import argparse
import random
import time
from pathlib import Path

import numpy as np
from arg_types import description, existing_dir, new_file, positive_int  # this folder is on sys.path
from machine import cpu_line
from running import as_script, need_datasets, shared_dataset  # this folder is on sys.path

FOLDERS = (shared_dataset("named-cats"), shared_dataset("dogs-vs-cats-200"))
SUFFIXES = {".jpg", ".jpeg", ".png"}


def photos_in(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.suffix.lower() in SUFFIXES)


def photo_folder(text: str) -> Path:
    """A folder with photos in it: an empty one once ended in numpy's "need at least one array
    to stack", after the model had loaded."""
    folder = existing_dir(text)
    if not any(p.suffix.lower() in SUFFIXES for p in folder.rglob("*")):
        raise argparse.ArgumentTypeError(f"{text}: no photos ({', '.join(sorted(SUFFIXES))}) in it")
    return folder


def main() -> None:
    parser = argparse.ArgumentParser(description=description(__doc__))
    parser.add_argument("folders", nargs="*", type=photo_folder, default=[f for f in FOLDERS if f.is_dir()])
    parser.add_argument("--sheet", type=new_file, help="write a contact sheet of the cut ones here")
    parser.add_argument("--repeat", type=positive_int, default=5, help="runs of each timing (the best counts)")
    parser.add_argument("--photos", type=positive_int, default=300,
                        help="at most this many of each folder (a seeded sample)")
    args = parser.parse_args()
    if not args.folders:  # neither shared set here, and none given
        need_datasets("named-cats")

    from sorter.media.images import shrink
    from sorter.model import lite
    from sorter.review.framing import MAX_ZOOM, square_cut
    from sorter.review.page import THUMB_PX

    classifier = lite.load_classifier(None)
    print(cpu_line(), flush=True)
    tiles = []
    for folder in args.folders:
        paths = photos_in(folder)
        paths = sorted(random.Random(0).sample(paths, min(args.photos, len(paths))))
        wholes, shown, boxes, timings = measure(classifier, paths, args.repeat)
        cut = [i for i, (w, b) in enumerate(zip(wholes, boxes, strict=True))
               if b is not None and square_cut(*w.shape[:2], b, THUMB_PX / MAX_ZOOM) is not None]
        print(f"{folder.name}: {len(paths)} photos, {sum(b is not None for b in boxes)} filed as cat or dog, "
              f"{len(cut)} thumbnails cut")
        print("  ms a photo: " + ", ".join(f"{name} {ms:.3f}" for name, ms in timings.items()))
        tiles += [_tile(shrink(wholes[i], THUMB_PX), shown[i]) for i in cut]
    if args.sheet and tiles:
        import cv2

        rows = [np.hstack(tiles[i:i + 4] + [np.full_like(tiles[0], 255)] * (4 - len(tiles[i:i + 4])))
                for i in range(0, len(tiles), 4)]
        cv2.imwrite(str(args.sheet), np.vstack(rows))
        print(f"contact sheet of the cut ones: {args.sheet}")


def measure(classifier, paths: list[Path], repeat: int):
    """(thumbnails sort hands over, the page's, boxes, {step: ms a photo}) of `paths`, each step timed
    `repeat` times over every photo (the best counts)."""
    import cv2

    from sorter.media.images import _decode_bgr, read_image_bytes, shrink
    from sorter.model import second_look
    from sorter.review.framing import FRAME_PX, around_pet
    from sorter.review.page import THUMB_PX

    size = classifier.image_size
    decoded = [_decode_bgr(read_image_bytes(p), size) for p in paths]
    batch = np.stack([cv2.cvtColor(cv2.resize(d, (size, size), interpolation=cv2.INTER_AREA), cv2.COLOR_BGR2RGB)
                      for d in decoded])
    timings: dict[str, float] = {}

    def timed(name, work, *arguments):
        timings[name] = min(_seconds(work, *arguments) for _ in range(repeat)) / len(paths) * 1000
        return work(*arguments)

    p, boxes = timed("predict_named", _named, classifier, batch)
    maps = np.concatenate([classifier.run_maps(batch[i:i + 64])[1] for i in range(0, len(batch), 64)])
    timed("box", second_look.filed_boxes, classifier, maps, p)
    timed("shrink to 128", lambda: [shrink(d, THUMB_PX) for d in decoded])
    thumbnails = timed("shrink to 224", lambda: [shrink(d, FRAME_PX) for d in decoded])
    shown = timed("cut", lambda: [around_pet(t, b, THUMB_PX) for t, b in zip(thumbnails, boxes, strict=True)])
    return thumbnails, shown, boxes, timings


def _named(classifier, batch: np.ndarray, step: int = 64):
    """Probabilities and boxes, as sort asks for them, a batch of `step` at a time."""
    parts = [classifier.predict_named(batch[i:i + step]) for i in range(0, len(batch), step)]
    return np.concatenate([part[0] for part in parts]), [box for part in parts for box in part[3]]


def _seconds(work, *arguments) -> float:
    start = time.perf_counter()
    work(*arguments)
    return time.perf_counter() - start


def _tile(whole: np.ndarray, shown: np.ndarray) -> np.ndarray:
    tile = np.full((136, 272, 3), 255, np.uint8)
    tile[:whole.shape[0], :whole.shape[1]] = whole
    tile[:shown.shape[0], 136:136 + shown.shape[1]] = shown
    return tile


if __name__ == "__main__":
    as_script(main)
