"""Files a watch judged unreadable, reported only once they have stayed so. A file written in
closed pieces (`curl >> photo.jpg`, a sync tool appending chunk by chunk) looks complete at
each close, is judged, and is truncated each time until its last piece lands: reported at
each look, one photo made 9 `unreadable: ... truncated` lines in 5 s before it was moved.

So an unreadable result is held, not reported, while its file is unchanged from what was
judged (its inode, size, modification time, mode, owner and group as the watcher handed it out:
`settling.stamp`). A file that changes meanwhile is still being written (or was made readable
by a chmod): its result is dropped without a word, and the watcher judges it again once it
is complete (moved then, or held again). One that stands unchanged for
`WatchSettings.unreadable_wait` is damaged, not growing: its result is reported then, once.
One that goes (renamed away, deleted) is dropped too. The cost: an `lstat` per held file at
each turn of the watch's loop, a few a second.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from sorter.sorting.results import FileResult
from sorter.watching.settling import Signature, stamp


@dataclass(frozen=True)
class _Held:
    result: FileResult
    signature: Signature  # the file as judged (`Watcher.settle`)
    since: float  # when it was first judged unreadable as it is


class Unreadable:
    def __init__(self, wait: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.wait = wait
        self.clock = clock
        self._held: dict[Path, _Held] = {}

    def paths(self) -> list[Path]:
        return list(self._held)

    def hold(self, result: FileResult, signature: Signature) -> None:
        """`result` (unreadable) waits; judged again unchanged (a scan), it keeps its time."""
        held = self._held.get(result.path)
        since = held.since if held is not None and held.signature == signature else self.clock()
        self._held[result.path] = _Held(result, signature, since)

    def drop(self, path: Path) -> None:
        """`path` was judged again, and is moved or left in place for another reason."""
        self._held.pop(path, None)

    def due(self, stopping: bool = False) -> list[FileResult]:
        """The results to report now: of files unchanged for `wait` since judged unreadable
        (`stopping`: unchanged at all, as the watch stops: a file standing damaged is said to
        be, not counted among those still being written)."""
        now, due = self.clock(), []
        for path, held in list(self._held.items()):
            try:
                st = os.lstat(path)
            except OSError:  # gone: nothing left to report
                del self._held[path]
                continue
            if stamp(st)[: len(held.signature)] != held.signature:
                del self._held[path]  # still being written (or made readable): judged again once complete
            elif stopping or now - held.since >= self.wait:
                del self._held[path]
                due.append(held.result)
        return due
