"""Whether some process holds a file open for writing, asked of the kernel with a read lease
(Linux `F_SETLEASE`): the watcher's last check before it hands out a file that looks complete
(a writer idle between two pieces is not done). One `open` and two `fcntl` calls a file."""

from __future__ import annotations

import errno
import fcntl
import os
from pathlib import Path

# Not exported by every Python's fcntl module; the value is fixed by the Linux ABI.
_F_SETLEASE = getattr(fcntl, "F_SETLEASE", 1024)


def open_for_writing(path: Path) -> bool | None:
    """True when some process holds `path` open for writing; None when the kernel cannot
    tell (not our file, no lease support: network filesystems). A read lease is refused
    with EAGAIN exactly when a writer has the file open, and we drop it at once."""
    flags = os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(path, flags)
    except OSError:
        return None
    try:
        fcntl.fcntl(fd, _F_SETLEASE, fcntl.F_RDLCK)
    except OSError as exc:
        return True if exc.errno == errno.EAGAIN else None
    else:
        fcntl.fcntl(fd, _F_SETLEASE, fcntl.F_UNLCK)
        return False
    finally:
        os.close(fd)
