"""How large is the review page, and what does writing it cost?

Copies a seeded sample of labelled photos (and non-pets, where that folder is there) into a
temporary folder, optionally enlarged to phone size, runs `sorter sort --json` on it, then
reports the page's size and thumbnails, and times writing the page again from the run's
results (what the sort spent on it).

    python benchmarks/review_page.py                        # 400 pets + 40 non-pets, 200x200
    python benchmarks/review_page.py --photos 200 --size 4032x3024
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

from arg_types import description, fraction, positive_int, width_by_height  # this folder is on sys.path
from machine import cpu_line
from running import DATASET, as_script, need_datasets, shared_dataset, sorter_command  # this folder is on sys.path

OTHER = shared_dataset("caltech101-not-pets")


def main() -> None:
    parser = argparse.ArgumentParser(description=description(__doc__))
    parser.add_argument("--photos", type=positive_int, default=400,
                        help="pets (half cats, half dogs); a tenth as many non-pets")
    parser.add_argument("--size", type=width_by_height,
                        help="WIDTHxHEIGHT: enlarge each photo to this (a phone's is 4032x3024)")
    parser.add_argument("--min-confidence", type=fraction, default=0.9, help="as sort's (default 0.9)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    import cv2

    from sorter.review.page import ReviewPage, page_path
    from sorter.sorting.results import FileResult

    need_datasets("dogs-vs-cats-200")
    print(cpu_line(), flush=True)
    rng = random.Random(args.seed)
    sources = [DATASET / kind / f"{i}.jpg" for kind in ("Cat", "Dog") for i in rng.sample(range(10000), args.photos // 2)]
    if OTHER.is_dir():
        others = sorted(p for p in OTHER.rglob("*.jpg"))
        sources += rng.sample(others, min(len(others), args.photos // 10))
    work = Path(tempfile.mkdtemp(prefix="review-page-"))
    try:
        for n, path in enumerate(sources):
            target = work / f"{n:05d}-{path.parent.name}.jpg"
            if args.size:
                width, height = (int(v) for v in args.size.split("x"))
                big = cv2.resize(cv2.imread(str(path)), (width, height), interpolation=cv2.INTER_CUBIC)
                cv2.imwrite(str(target), big, [cv2.IMWRITE_JPEG_QUALITY, 92])
            else:
                shutil.copyfile(path, target)
        started = time.perf_counter()
        run = subprocess.run([*sorter_command(), "sort", str(work), "--json", "--min-confidence", str(args.min_confidence)],
                             capture_output=True, text=True, check=True)
        sort_seconds = time.perf_counter() - started
        results = json.loads(run.stdout)
        page = page_path(work)
        size = page.stat().st_size
        thumbnails = page.read_text().count("data:image/jpeg;base64,")

        again = ReviewPage(work)
        for f in results["files"]:
            destination = None if f["destination"] is None else Path(f["destination"])
            again.add(FileResult(Path(f["path"]), f["status"], f["label"], f["confidence"], destination, f["reason"]))
        started = time.perf_counter()
        again.write()
        write_seconds = time.perf_counter() - started

        print(f"{len(sources)} photos{f' enlarged to {args.size}' if args.size else ''}: counts {results['counts']}, "
              f"moved to {results['moved_to']}")
        print(f"sort {sort_seconds:.1f} s, of which writing the page about {write_seconds:.2f} s "
              f"({thumbnails} thumbnails, {1000 * write_seconds / max(1, thumbnails):.1f} ms each)")
        print(f"review.html: {size / 1024:.0f} KiB ({size / max(1, thumbnails) / 1024:.1f} KiB per thumbnail)")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    as_script(main)
