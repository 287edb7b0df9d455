"""The folder a command is given: checked before anything touches it, and the names sorter
owns inside it."""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path

from sorter.config import CLASS_FOLDERS, STATE_DIR
from sorter.errors import UsageError


def output_folders() -> frozenset[str]:
    """Top-level names a scan of the folder never enters: cats/, dogs/ and .sorter/."""
    return frozenset({*CLASS_FOLDERS.values(), STATE_DIR})


def check_folder(root: Path) -> Path:
    if not root.exists():
        raise UsageError(f"folder not found: {root}")
    if not root.is_dir():
        raise UsageError(f"not a folder: {root}")
    for folder in (*CLASS_FOLDERS.values(), STATE_DIR):  # a link here would send sorter's files elsewhere
        target = root / folder
        if target.is_symlink():  # never followed, even to a folder: sorter's files stay in DIR
            raise UsageError(f"{target} is a link (sorter never follows one); rename it so sorter can use it")
        if target.exists() and not target.is_dir():
            raise UsageError(f"{target} exists and is not a folder; rename it so sorter can use it")
    return root.absolute()


def open_own(path: Path, flags: int = os.O_RDONLY) -> int:
    """A file sorter keeps in `.sorter/` (journal, lock, suggestions), opened never through a
    link and never blocking on a FIFO planted in its place (say, by an archive unpacked into
    the folder): anything but a regular file is `OSError` "not a regular file"."""
    fd = os.open(path, flags | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC, 0o644)
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise OSError(errno.EINVAL, "not a regular file", str(path))
    return fd
