"""What to do where sorter's own files refuse a write: `.sorter/`, or a file in it (`watching`,
`lock`, the journal). The user never made these, so the one `Error:` line every command stops
with (`refused_start`) says what refuses them and what to do: `sort`, `undo`, `review` and
`learn` said only `cannot write in DIR/.sorter: Operation not permitted` while `watch` said
`chattr -i`. The folder a command is given is the user's own, and is named bare.

Each is a `UsageError` (exit 2), as every unwritable folder is: a watch's `.sorter/watching`
refused as it opened it was an OSError, exit 1, so a service manager saw two statuses for one
problem."""

from __future__ import annotations

import errno
import fcntl
import os
import struct
from pathlib import Path

from sorter.config import as_typed
from sorter.errors import UsageError

#: `FS_IOC_GETFLAGS` (linux/fs.h) and the flags `chattr` sets: read, not guessed, so the line
#: says "immutable" only of a file that is (EPERM is also a FUSE or network disk's own refusal).
GETFLAGS, IMMUTABLE, APPEND_ONLY = 0x80086601, 0x10, 0x20


def flags_of(path: Path, dir_fd: int | None = None) -> int:
    """`path`'s inode flags (as `lsattr` shows them), 0 where the filesystem keeps none. With
    `dir_fd`, `path` is a name in that folder."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC, dir_fd=dir_fd)
    except OSError:
        return 0
    try:
        return struct.unpack("l", fcntl.ioctl(fd, GETFLAGS, struct.pack("l", 0)))[0]
    except OSError:
        return 0
    finally:
        os.close(fd)


def advice(path: Path, why: str) -> str:
    """What to do about `path` refusing a write for `why` (its strerror), as a clause."""
    typed = as_typed(path)
    if why == os.strerror(errno.EROFS):
        return "its disk is mounted read-only (a card's write-protect switch?): make it writable"
    if why == os.strerror(errno.EACCES):
        return f"its permissions refuse this user: chmod u+w {typed} as its owner, or run sorter as a user who can write it"
    flags = flags_of(path)
    if flags & IMMUTABLE:
        return f"it is immutable: chattr -i {typed} (as root) lets sorter write it"
    if flags & APPEND_ONLY:
        return f"it is append-only: chattr -a {typed} (as root) lets sorter write it"
    return f"its disk refuses it (lsattr -d {typed} shows an i for immutable, removed by chattr -i as root)"


def refused_start(path: Path, why: str, *, sorters: bool = True) -> UsageError:
    """The error a command stops with, before any work, where `path` refuses a write for `why`
    (its strerror, "Operation not permitted"): why, and what to do where it is sorter's own
    (`sorters`); the folder the user gave (`sorters=False`) is theirs, and named bare."""
    return UsageError(f"cannot write in {path}: {why}" + (f"; {advice(path, why)}" if sorters else ""))
