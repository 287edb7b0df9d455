"""The decode limit: how many photos a second OpenCV's reduced-size JPEG decoding
(IMREAD_REDUCED_COLOR_*) plus the resize to the model's input size gets through, spread over
every core with threads, and nothing else. sorter's rate over it says how much the rest of
sorting (the network, filing, the journal) costs beside the decode it cannot avoid."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import cv2
import numpy as np

from sorter.config import cpu_cores


def reduced_flag(width: int, height: int, size: int) -> int:
    for factor, flag in ((8, cv2.IMREAD_REDUCED_COLOR_8), (4, cv2.IMREAD_REDUCED_COLOR_4), (2, cv2.IMREAD_REDUCED_COLOR_2)):
        if min(width, height) // factor >= size:
            return flag
    return cv2.IMREAD_COLOR


def run_decode_limit(paths: list[Path], size: int, flag: int) -> dict:
    cv2.setNumThreads(1)  # parallel across files, like sorter

    def decode(path: Path) -> None:
        image = cv2.imdecode(np.frombuffer(path.read_bytes(), np.uint8), flag)
        cv2.resize(image, (size, size), interpolation=cv2.INTER_AREA)

    return on_every_core(decode, paths)


def on_every_core(work, paths: list[Path]) -> dict:
    """`work(path)` for every path, on one thread per core (as sorter decodes): files/s."""
    threads = cpu_cores()
    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(work, paths[:threads]))  # warm the pool
        started = time.perf_counter()
        list(pool.map(work, paths))
        seconds = time.perf_counter() - started
    return {"files": len(paths), "threads": threads, "seconds": seconds, "rate": len(paths) / seconds}
