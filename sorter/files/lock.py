"""One sorter per folder: an exclusive `flock` on `DIR/.sorter/lock`. The kernel drops it
when the holder dies (even on kill -9), so a stale lock is taken over automatically.

`sorter watch` runs for days, so it holds the lock only while it sorts a batch, and holds
`DIR/.sorter/watching` (`Watching`) for as long as it runs: `sorter sort`, `undo` and a second
watcher are refused while a watcher runs, and `sorter review` (`beside_watcher`) takes the lock
between two batches, so a person can put a watched folder right without stopping the watcher."""

from __future__ import annotations

import fcntl
import os
import time
from pathlib import Path

from sorter.config import STATE_DIR
from sorter.errors import FolderLocked


def _open(path: Path) -> int:
    """A lock file, made if new (truncated and written with a pid: `open_own`)."""
    from sorter.files.folder import open_own

    return open_own(path, os.O_RDWR | os.O_CREAT)


def _holder(fd: int) -> str:
    """The pid a lock file holds."""
    return os.pread(fd, 64, 0).decode(errors="replace").strip() or "unknown"


def _claim(fd: int) -> int:
    """The lock taken on `fd`: it holds our pid, for the message another sorter gets."""
    os.ftruncate(fd, 0)
    os.pwrite(fd, str(os.getpid()).encode(), 0)
    return fd


def _let_go(fd: int | None) -> None:
    if fd is not None:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)


def _is_current(path: Path, fd: int) -> bool:
    """`fd` is the file at `path` still: not one unlinked under it (a complete undo, or `rm -rf
    DIR/*`, removes `.sorter/`), whose lock would exclude nobody."""
    try:
        here = os.stat(path, follow_symlinks=False)
    except FileNotFoundError:
        return False
    mine = os.fstat(fd)
    return (here.st_dev, here.st_ino) == (mine.st_dev, mine.st_ino)


def _refused(root: Path, holder: str) -> FolderLocked:
    return FolderLocked(f"another sorter (pid {holder}) is working on {root}; wait for it to finish or stop it")


class FolderLock:
    """`beside_watcher`: taken also while `sorter watch` runs on the folder (its batches and the
    review server's corrections); without it, a running watcher refuses the lock."""

    def __init__(self, root: Path, wait: float = 0.0, beside_watcher: bool = False) -> None:
        self.path = root / STATE_DIR / "lock"
        self.wait = wait
        self.beside_watcher = beside_watcher
        self._fd: int | None = None

    def acquire(self) -> None:
        deadline = time.monotonic() + self.wait
        while True:
            self.path.parent.mkdir(exist_ok=True)
            try:
                fd = _open(self.path)
            except FileNotFoundError:  # .sorter removed between the two lines (undo)
                continue
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    holder = _holder(fd)
                    os.close(fd)
                    raise _refused(self.path.parent.parent, holder) from None
                os.close(fd)
                # Beside a watcher, often: it lets go for a moment between two batches of a burst.
                time.sleep(0.02 if self.beside_watcher else 0.1)
                continue
            if _is_current(self.path, fd):
                break
            # The previous holder removed .sorter/ (a complete undo does) while we waited: a
            # lock on an unlinked file excludes nobody, so lock the file that is there now.
            os.close(fd)
        watcher = None if self.beside_watcher else Watching.holder(self.path.parent.parent)
        if watcher is not None:  # between two of its batches: the folder is still its
            os.close(fd)
            raise _refused(self.path.parent.parent, watcher)
        self._fd = _claim(fd)

    def release(self) -> None:
        _let_go(self._fd)
        self._fd = None

    def __enter__(self) -> FolderLock:
        self.acquire()
        return self

    def __exit__(self, *exc) -> None:
        self.release()


class Watching:
    """Held by `sorter watch` for as long as it runs (an exclusive `flock` on
    `DIR/.sorter/watching`, holding its pid): a second watcher is refused, and so is every
    `FolderLock` not taken `beside_watcher`."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.path = root / STATE_DIR / "watching"
        self._fd: int | None = None

    def acquire(self) -> None:
        self.path.parent.mkdir(exist_ok=True)
        fd = _open(self.path)
        deadline = time.monotonic() + 0.08  # `holder` looking, for a moment, is not a watcher
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    holder = _holder(fd)
                    os.close(fd)
                    raise _refused(self.root, holder) from None
                time.sleep(0.02)
        self._fd = _claim(fd)

    def is_current(self) -> bool:
        """False once `.sorter/` was emptied under it (`rm -rf DIR/*`)."""
        return self._fd is not None and _is_current(self.path, self._fd)

    def release(self) -> None:
        _let_go(self._fd)
        self._fd = None

    @staticmethod
    def holder(root: Path) -> str | None:
        """The pid of the watcher running on `root`, or None when none is."""
        from sorter.files.folder import open_own

        try:
            fd = open_own(root / STATE_DIR / "watching")
        except OSError:
            return None
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            return _holder(fd)
        finally:
            os.close(fd)  # closing drops a shared lock taken just to look
        return None
