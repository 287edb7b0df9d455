"""How long after a file is complete does `sorter watch` judge it?

Starts a real `sorter watch` process on a temporary folder, then writes photos into it one
at a time (each closed when written) and times, for each, the moment it is closed to the
moment the watch has acted on its judgement: the photo is in cats/ or dogs/, or the watch's
log says it left it in place (neither, unsure). Prints the median, the 90th percentile and the
worst, and how many were moved.

The photos are the dataset's cats and dogs (../shared/datasets/dogs-vs-cats-200, or under
SORTER_DATASETS) when it is here, scaled to --pixels, else noise, which a three-way model such as
the bundled one rightly leaves in place as neither: timed all the same, as its judgement.

    python benchmarks/watch_latency.py                      # a tiny untrained 32 px model
    python benchmarks/watch_latency.py --model sorter/models/default.keras --pixels 1200
"""

from __future__ import annotations

import argparse
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from arg_types import (  # this folder is on sys.path
    description,
    non_negative_float,
    positive_int,
    sorter_model,
)
from machine import cpu_line
from running import DATASET, as_script, not_found, p90

#: The watch's log line for a photo it judged and left where it is (`cli.results.FileLog.result`):
#: `neither: photo-000.jpg (97%): …`, after the time.
LEFT_IN_PLACE = ("neither", "unsure")


def main() -> None:
    parser = argparse.ArgumentParser(description=description(__doc__))
    parser.add_argument("--model", type=sorter_model, help="MODEL.keras with MODEL.tflite (default: a tiny untrained one)")
    parser.add_argument("--files", type=positive_int, default=25)
    parser.add_argument("--pixels", type=positive_int, default=64, help="height of the test photos (JPEGs, 4:3)")
    parser.add_argument("--gap", type=non_negative_float, default=0.3, help="seconds between files")
    parser.add_argument("--polling", action="store_true")
    args = parser.parse_args()
    print(cpu_line(), flush=True)
    # Removed however the run ends (a watcher that fails, Ctrl-C): each run left ~3.4 MB in /tmp.
    with tempfile.TemporaryDirectory(prefix="watch-latency-") as tmp:
        measure(Path(tmp), args)


def measure(work: Path, args: argparse.Namespace) -> None:
    import cv2
    import numpy as np

    model = args.model
    if model is None:
        from sorter.model.lite import save_model
        from sorter.model.network import build_model

        model = work / "tiny.keras"
        noise = np.random.default_rng(0).integers(0, 256, (32, 32, 32, 3), dtype=np.uint8)
        save_model(build_model(image_size=32), model, noise)
    root = work / "inbox"
    root.mkdir()
    log = work / "stderr"
    command = [sys.executable, "-m", "sorter", "watch", str(root), "--model", str(model)]
    with open(log, "wb") as err:
        process = subprocess.Popen(command + ["--polling"] * args.polling, stderr=err)
    try:
        while b"watching " not in log.read_bytes():
            if process.poll() is not None:
                sys.exit(f"watcher exited:\n{log.read_text()}")
            time.sleep(0.05)
        delays, moved = [], 0
        pets = pet_photos()
        if not pets:  # said before the run, not only in its last line: noise is judged as neither
            print(f"{not_found('dogs-vs-cats-200')}: timing noise instead", flush=True)
        rng = np.random.default_rng(0)
        size = (args.pixels * 4 // 3, args.pixels)  # width, height
        with open(log, "rb") as said:
            said.seek(0, 2)  # lines from here on: the photos written below
            for i in range(args.files):
                if pets:
                    pixels = cv2.resize(cv2.imread(str(pets[i % len(pets)])), size, interpolation=cv2.INTER_AREA)
                else:
                    pixels = rng.integers(0, 256, (size[1], size[0], 3), dtype=np.uint8)
                data = cv2.imencode(".jpg", pixels)[1].tobytes()
                time.sleep(args.gap)
                name = f"photo-{i:03}.jpg"
                (root / name).write_bytes(data)
                complete = time.monotonic()
                left, lines = [f"{status}: {name} ".encode() for status in LEFT_IN_PLACE], b""
                while True:
                    if (root / "cats" / name).exists() or (root / "dogs" / name).exists():
                        moved += 1
                        break
                    lines += said.read()
                    if any(line in lines for line in left):
                        break
                    if time.monotonic() - complete > 30:
                        sys.exit(f"{name} not judged after 30 s:\n{log.read_text()}")
                    time.sleep(0.002)
                delays.append(time.monotonic() - complete)
    finally:
        process.send_signal(signal.SIGTERM)
        code = process.wait(30)
    delays.sort()
    print(
        f"{len(delays)} files ({'pets of ' + DATASET.name if pets else 'noise'}, {size[0]}x{size[1]} JPEG, "
        f"model {model.name}{', polling' if args.polling else ''}): {moved} moved, {len(delays) - moved} left in "
        f"place; median {statistics.median(delays) * 1000:.0f} ms, "
        f"p90 {p90(delays) * 1000:.0f} ms, max {delays[-1] * 1000:.0f} ms; "
        f"watcher exit status {code}"
    )


def pet_photos() -> list[Path]:
    """The dataset's cats and dogs in turn, or none when it is not here."""
    cats, dogs = (sorted((DATASET / kind).glob("*.jpg")) if (DATASET / kind).is_dir() else [] for kind in ("Cat", "Dog"))
    return [p for pair in zip(cats, dogs, strict=False) for p in pair] + cats[len(dogs):] + dogs[len(cats):]


if __name__ == "__main__":
    as_script(main)
