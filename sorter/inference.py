"""Classify a stream of files: one worker thread per core, each decoding a batch and running
the model on it (OpenCV and TensorFlow both release the GIL), so every core is busy with its own
batch and no core waits on another. Memory stays flat: at most workers + 1 batches are in
flight."""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from itertools import islice
from pathlib import Path

import numpy as np

from sorter.config import DEFAULT_BATCH_SIZE
from sorter.errors import ImageError
from sorter.images import load_image
from sorter.model import Classifier


@dataclass(frozen=True)
class Prediction:
    path: Path
    p_dog: float | None  # None when the file could not be decoded
    error: str | None = None

    @property
    def label(self) -> str | None:
        if self.p_dog is None:
            return None
        return "dog" if self.p_dog >= 0.5 else "cat"

    @property
    def confidence(self) -> float | None:
        if self.p_dog is None:
            return None
        return max(self.p_dog, 1.0 - self.p_dog)


def _decode(path: Path, size: int) -> np.ndarray | str:
    try:
        return load_image(path, size)
    except ImageError as exc:
        return str(exc)
    except Exception as exc:  # a decoder bug must cost one file, not the run
        return f"cannot decode: {type(exc).__name__}: {exc}"


def default_workers() -> int:
    import os

    return max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 2)


def _classify_batch(classifier: Classifier, paths: list[Path], size: int) -> list[Prediction]:
    decoded = [(path, _decode(path, size)) for path in paths]
    images = [d for _, d in decoded if isinstance(d, np.ndarray)]
    probabilities = iter(classifier.predict(np.stack(images)) if images else [])
    return [
        Prediction(path, float(next(probabilities))) if isinstance(result, np.ndarray) else Prediction(path, None, result)
        for path, result in decoded
    ]


def classify(
    classifier: Classifier,
    paths: Iterable[Path],
    *,
    batch_size: int = DEFAULT_BATCH_SIZE,
    workers: int | None = None,
) -> Iterator[Prediction]:
    """Yield one Prediction per path, in input order, batch by batch.

    `classifier.predict` is called from several threads at once. Measured on 2 cores
    (benchmarks/sort_speed.py): decode-and-predict per core beats a decode pool feeding one
    model call that spreads over both cores, because the two never wait for each other.
    """
    size = classifier.image_size
    workers = workers or default_workers()
    iterator = iter(paths)
    with ThreadPoolExecutor(max_workers=workers) as pool:
        pending: deque[Future[list[Prediction]]] = deque()

        def submit_next() -> None:
            batch = list(islice(iterator, batch_size))
            if batch:
                pending.append(pool.submit(_classify_batch, classifier, batch, size))

        # One batch queued beyond the busy workers, so no core idles while results are used.
        for _ in range(workers + 1):
            submit_next()
        try:
            while pending:
                results = pending.popleft().result()
                submit_next()
                yield from results
        finally:
            for future in pending:  # stopped early (Ctrl-C, an error): drop the queued work
                future.cancel()
