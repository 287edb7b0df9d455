"""A set of 64-bit hashes in 8 bytes each: what `undo` keeps of every journaled move's photo to
tell another move's photo from one saved over (`Whereabouts.anothers`), where a `set` of ints
would hold about 70 bytes each."""

from __future__ import annotations

from array import array
from bisect import bisect_left
from collections.abc import Iterable


class Hashes:
    """A set of hashes (`hash` of a tuple: 64 bits) held in 8 bytes each, where a `set` holds
    about 70 (an int object and its slot): sorted arrays, one per low byte of the hash, so that
    sorting one holds a list of a 256th of them at a time."""

    def __init__(self, hashes: Iterable[int]) -> None:
        self._sorted = [array("q") for _ in range(256)]
        for value in hashes:
            self._sorted[value & 255].append(value)
        for i, bucket in enumerate(self._sorted):
            self._sorted[i] = array("q", sorted(bucket))

    def __contains__(self, value: int) -> bool:
        bucket = self._sorted[value & 255]
        i = bisect_left(bucket, value)
        return i < len(bucket) and bucket[i] == value
