"""One sorter per folder: an exclusive `flock` on `DIR/.sorter/lock`. The kernel drops it
when the holder dies (even on kill -9), so a stale lock is taken over automatically."""

from __future__ import annotations

import fcntl
import os
import time
from pathlib import Path

from sorter.config import STATE_DIR
from sorter.errors import FolderLocked


class FolderLock:
    def __init__(self, root: Path, wait: float = 0.0) -> None:
        self.path = root / STATE_DIR / "lock"
        self.wait = wait
        self._fd: int | None = None

    def acquire(self) -> None:
        deadline = time.monotonic() + self.wait
        while True:
            self.path.parent.mkdir(exist_ok=True)
            try:
                fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
            except FileNotFoundError:  # .sorter removed between the two lines (undo)
                continue
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    holder = os.pread(fd, 64, 0).decode(errors="replace").strip() or "unknown"
                    os.close(fd)
                    raise FolderLocked(
                        f"another sorter (pid {holder}) is working on {self.path.parent.parent}; "
                        "wait for it to finish or stop it"
                    ) from None
                os.close(fd)
                time.sleep(0.1)
                continue
            if self._is_current(fd):
                break
            # The previous holder removed .sorter/ (a complete undo does) while we waited: a
            # lock on an unlinked file excludes nobody, so lock the file that is there now.
            os.close(fd)
        os.ftruncate(fd, 0)
        os.pwrite(fd, str(os.getpid()).encode(), 0)
        self._fd = fd

    def _is_current(self, fd: int) -> bool:
        try:
            here = os.stat(self.path, follow_symlinks=False)
        except FileNotFoundError:
            return False
        mine = os.fstat(fd)
        return (here.st_dev, here.st_ino) == (mine.st_dev, mine.st_ino)

    def release(self) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None

    def __enter__(self) -> FolderLock:
        self.acquire()
        return self

    def __exit__(self, *exc) -> None:
        self.release()
