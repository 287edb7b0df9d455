"""How many photos should one network call take? Speed and memory of the int8 network by batch.

    python benchmarks/network_batch.py              # batches of 64 down to 2, on 1 thread and on every core
    python benchmarks/network_batch.py --workers 16 # memory as 16 interpreters would take it

`sort` runs one LiteRT interpreter per core, each on one thread, each on its own batch
(`sorter.model.lite.LiteClassifier`). An interpreter keeps the memory of the largest batch it
has run, so with many cores, large batches cost gigabytes; this prints, in one run on one
machine, the milliseconds a photo costs at each batch size (wall time over all threads) and the
memory that `--workers` interpreters hold at that size. `sorter.model.inference.network_batch`
is chosen from it.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
from arg_types import description, positive_int, sorter_model  # this folder is on sys.path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from machine import cpu_features, cpu_model  # noqa: E402
from running import BUNDLED_MODEL, as_script  # noqa: E402

from sorter.config import cpu_cores  # noqa: E402
from sorter.model import lite  # noqa: E402
from sorter.model.inference import network_batch  # noqa: E402

BATCHES = (64, 32, 16, 8, 4, 2)


def resident_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * 4096 / 1e6


def speed(classifier, threads: int, batch: int, photos: int) -> float:
    """Milliseconds of wall time a photo, `threads` interpreters each running its own batches."""
    x = np.random.default_rng(0).integers(0, 256, (batch, classifier.image_size, classifier.image_size, 3), np.uint8)
    calls = max(2, photos // batch) * threads
    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(lambda _: classifier.run(x), range(threads)))  # each interpreter at this size first
        started = time.perf_counter()
        list(pool.map(lambda _: classifier.run(x), range(calls)))
        return 1000 * (time.perf_counter() - started) / (calls * batch)


def memory(model: Path, workers: int, batch: int) -> float:
    """MB that `workers` interpreters hold once each has run a batch of `batch` photos, measured
    in a fresh process (a freed arena stays with the allocator and would hide the next one)."""
    out = subprocess.run([sys.executable, __file__, "--model", str(model), "--workers", str(workers),
                          "--memory-of", str(batch)], capture_output=True, text=True, check=True).stdout
    return float(out.split()[-1])


def held(model: Path, workers: int, batch: int) -> float:
    before = resident_mb()
    classifier = lite.load_classifier(model, workers)
    speed(classifier, workers, batch, photos=batch)
    return resident_mb() - before


def main() -> None:
    parser = argparse.ArgumentParser(description=description(__doc__))
    parser.add_argument("--model", type=sorter_model, default=BUNDLED_MODEL)
    parser.add_argument("--workers", type=positive_int, default=16, help="interpreters for the memory column (default 16)")
    parser.add_argument("--photos", type=positive_int, default=512, help="photos per thread and batch size (default 512)")
    parser.add_argument("--memory-of", type=positive_int, help=argparse.SUPPRESS)  # one batch size's memory, in a child
    args = parser.parse_args()
    if args.memory_of:
        print(held(args.model, args.workers, args.memory_of))
        return
    cores = cpu_cores()
    print(f"CPU: {cpu_model()}; features: {', '.join(cpu_features()) or 'unknown'}; {cores} cores")
    classifier = lite.load_classifier(args.model)
    print(f"{'batch':>6} {'1 thread':>12} {f'{cores} threads':>12} {f'{args.workers} interpreters':>18}")
    for batch in BATCHES:
        one = speed(classifier, 1, batch, args.photos)
        every = speed(classifier, cores, batch, args.photos)
        print(f"{batch:>6} {one:>9.3f} ms {every:>9.3f} ms {memory(args.model, args.workers, batch):>15.0f} MB", flush=True)
    print(f"(ms: wall time per photo over all threads; sort takes batches of {network_batch(cores)} on {cores} cores, "
          f"{network_batch(args.workers)} on {args.workers})")


if __name__ == "__main__":
    as_script(main)
