"""Classify a stream of files: decode on a thread pool (OpenCV releases the GIL) while the
model runs on the previous batch. Memory stays flat: at most a few batches are in flight."""

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

    return max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else 2)


def classify(
    classifier: Classifier,
    paths: Iterable[Path],
    *,
    batch_size: int = DEFAULT_BATCH_SIZE,
    workers: int | None = None,
) -> Iterator[Prediction]:
    """Yield one Prediction per path, in input order, batch by batch."""
    size = classifier.image_size
    iterator = iter(paths)
    with ThreadPoolExecutor(max_workers=workers or default_workers()) as pool:
        pending: deque[list[tuple[Path, Future]]] = deque()

        def submit_next() -> bool:
            chunk = list(islice(iterator, batch_size))
            if chunk:
                pending.append([(p, pool.submit(_decode, p, size)) for p in chunk])
            return bool(chunk)

        # Two batches in flight: the pool decodes batch k+1 while the model runs batch k.
        submit_next()
        submit_next()
        while pending:
            batch = pending.popleft()
            submit_next()
            decoded = [(path, future.result()) for path, future in batch]
            images = [d for _, d in decoded if isinstance(d, np.ndarray)]
            probabilities = iter(classifier.predict(np.stack(images)) if images else [])
            for path, result in decoded:
                if isinstance(result, np.ndarray):
                    yield Prediction(path, float(next(probabilities)))
                else:
                    yield Prediction(path, None, result)
