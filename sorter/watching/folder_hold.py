"""A watch's hold on its folder (`FolderHold`): `.sorter/watching` for as long as it runs, the
folder's lock only while it sorts a batch, each taken anew where the folder was emptied under
it, and `.sorter/` left tidy at the end."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from sorter.errors import SorterError

if TYPE_CHECKING:
    from sorter.files.journal import JournalState
    from sorter.sorting.batches import Sorter

#: Seconds a batch waits for the folder's lock while `sorter review` moves a photo (milliseconds).
BATCH_LOCK_WAIT = 30.0
#: Seconds the end of a watch waits for the lock to tidy `.sorter/` (a review's click holds it for
#: milliseconds): a stop is not held up for lock files left behind.
TIDY_WAIT = 1.0


class FolderHold:
    """The watcher's hold on the folder. It holds `.sorter/watching` for as long as it runs
    (a second watcher, `sort` and `undo` are refused), and the folder's lock only while it
    sorts a batch, so that `sorter review` can put the folder right between two batches.
    Both stay real while the folder is watched for days: if someone empties it (`rm -rf DIR/*`
    takes `.sorter/` too), they would live on as deleted files that exclude nobody."""

    def __init__(self, root: Path, recursive: bool = False) -> None:
        from sorter.files.lock import FolderLock
        from sorter.files.watching_note import Watching

        self.root = root
        self.recursive = recursive  # its batches hold the lock so: a sort of a sub-folder waits them out
        self.watching = Watching(root)
        self.watching.acquire()  # a second watcher fails here, in milliseconds
        self.lock: FolderLock | None = FolderLock(root, watcher=True, recursive=recursive)
        try:
            self.lock.acquire()  # a `sort` running: refused at once, before the model loads
        except BaseException:
            self.watching.release()
            raise

    def busy(self, sorter: Sorter) -> None:
        """The lock taken again for a batch (waiting out a review's correction)."""
        from sorter.files.journal import journal_path
        from sorter.files.watching_note import Watching

        self._hold(BATCH_LOCK_WAIT)
        # A hard-linked copy made of the folder meanwhile: its sorters go on (`Watching.own`).
        if not self.watching.own():  # `.sorter/` emptied under it (`rm -rf DIR/*`): taken anew
            fresh = Watching(self.root)
            fresh.acquire()  # FolderLocked if another watcher got in meanwhile: we stop
            self.watching.release()
            self.watching = fresh
        if not journal_path(self.root).exists():
            sorter.close()  # the next move opens a new journal (and a new run)

    def _hold(self, wait: float) -> None:
        """The folder's lock, taken where this watch does not hold it now (waiting `wait` s)."""
        from sorter.files.lock import FolderLock

        if self.lock is None:
            lock = FolderLock(self.root, wait=wait, watcher=True, recursive=self.recursive)
            lock.acquire()
            self.lock = lock

    def settled(self) -> JournalState:
        """The journal once the moves a second Ctrl-C cut in two are settled, as the next command
        would settle them (`recover`; not killed: the watch says their undo), under the folder's
        lock, taken where the batch in hand did not hold it."""
        from sorter.files.recovery import recover

        self._hold(TIDY_WAIT)
        return recover(self.root, killed=False).state

    def idle(self) -> None:
        """Nothing to sort: the lock is let go until the next batch."""
        if self.lock is not None:
            self.lock.release()
            self.lock = None

    def release(self) -> None:
        """The end of the watch. Where it wrote nothing in `.sorter/` but its lock files (it
        judged no photo), it leaves none, as a sort of such a folder does: removed under the
        lock, while the folder is still this watch's (`Watching.own`)."""
        try:
            if self.watching.own():
                self._hold(TIDY_WAIT)
                self.lock.tidy = True
        except (SorterError, OSError):
            pass  # a review's click holding it, the folder gone: `.sorter/` stays as it is
        self.idle()
        self.watching.release()
