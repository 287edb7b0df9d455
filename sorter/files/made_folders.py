"""A folder sorter made (cats/, cats/Luna/), told from any other folder once renamed or moved: its
journaled identity, which `undo` follows to remove the folder once empty, as at its first name.

A rename keeps a folder's device and inode number, but the number is no proof on its own: ext4
(and XFS) give a folder made after one was deleted the deleted one's number, almost always, so a
folder the user made after the sort's was deleted would be taken for it and removed by undo once
empty. What the number cannot tell, the inode's generation does: ext4, XFS, btrfs and f2fs give
each inode a new one when its number is used again (`FS_IOC_GETVERSION`, read through the
folder). Where that call is refused (tmpfs, overlayfs, NFS), the folder's birth time (`statx`)
tells it, to the nanosecond. Where neither can be had, the record says so (`NONE`), and undo
removes the folder only at the path the sort made it, never following a rename. A journal from
before the generation was recorded holds the device and inode alone: followed as it always was.
At the path the sort made it, too, a folder goes only where it is the one made (not one the user
made there since: `rm -rf cats; mkdir cats`), told as a folder renamed is (`NONE`: by device and
inode), or where undo took the run's photos back from it (`Whereabouts.made_here`). Where device
and inode do not tell it (FAT and exFAT number inodes anew at each mount), the birth time does
where the driver gives one; else, and where no identity was journaled (an older sorter's, a
command killed at its `mkdir`), the folder is kept unless undo took the run's photos from it:
a folder of the user's own, made where sorter's was, would go with it. Not even then where it was an
undo's own `mkdir` that was cut short (`RunState.unproven`): the next undo puts the photo back into
whatever folder is there, and takes it on from it, which proves nothing.
The sorted folder's own identity is recorded the same way by each journal writer (`of_folder`), to
tell the folder, moved or renamed, from a copy of it on its disk (`is_folder`: `journal.py`).
Cost: an `open`, an `ioctl` and a `close` per folder made, per folder undo took photos back from,
and per folder made that undo would remove where it was made (a `statx` more where the `ioctl` is
refused)."""

from __future__ import annotations

import ctypes
import fcntl
import os
import struct
from pathlib import Path

#: `_IOR('v', 1, long)`: the inode's generation, as the kernel's `FS_IOC_GETVERSION` (its
#: 32-bit userspace's, `FS_IOC32_GETVERSION`, where a `long` is 4 bytes).
_GETVERSION = 0x80007601 | struct.calcsize("l") << 16
#: `statx` asked for the birth time, of the link itself (`AT_SYMLINK_NOFOLLOW`), relative to the
#: working folder (`AT_FDCWD`), or of an open file itself (`AT_EMPTY_PATH`); `struct statx` is
#: 256 bytes, its `stx_btime` at byte 80.
_AT_FDCWD, _AT_SYMLINK_NOFOLLOW, _STATX_BTIME, _STATX_SIZE, _BTIME_AT = -100, 0x100, 0x800, 256, 80
_AT_EMPTY_PATH = 0x1000
#: Recorded where neither a generation nor a birth time can be had: a generation is a 32-bit
#: number, a birth time nanoseconds since 1970, never negative.
NONE = -1


def identity(path: Path | str) -> list[int] | None:
    """What the journal records of the folder at `path` (not followed), once made: its device,
    inode and what tells that inode from one given its number since (`_tell`); None where nothing
    is there to record (one removed at once by someone else)."""
    try:
        st = os.lstat(path)
    except OSError:
        return None
    return [st.st_dev, st.st_ino, _tell(path)]


def of_folder(root: Path | str) -> list[int] | None:
    """`identity` of the folder `root` itself, a link to it followed (`DIR/.`: a folder named
    through a link is the folder): what each journal writer records of the folder it writes in."""
    return identity(os.path.join(root, "."))


def is_folder(record: tuple[int, ...], root: Path | str) -> bool:
    """The folder `root` is the one `record` (`of_folder`) was taken of: moved or renamed since
    (`mv DIR DIR2` keeps device, inode and generation), not a copy of it (`cp -a`, `rsync -a`, a
    backup restored, `cp -al`: another inode; or the same number given again, with another
    generation) nor one made anew at its path. An `lstat`, and where device and inode agree an
    `open`, an `ioctl` and a `close`."""
    path = os.path.join(root, ".")
    try:
        st = os.lstat(path)
    except OSError:
        return False
    return same(record, path, st, here=True)


def same(record: tuple[int, ...], path: Path | str, st: os.stat_result, *, here: bool = False) -> bool:
    """The folder at `path` (`st`, its `lstat`) is the one `record` (`identity`, as journaled) was
    taken of; `here`: `path` is where it was made. A record of an older journal holds the device
    and inode alone, which are trusted as they always were; a record with `NONE` is never taken
    for a folder elsewhere, and where it was made is told by those two alone, as undo did before."""
    if record[:2] != (st.st_dev, st.st_ino):
        return False
    return len(record) == 2 or (here and record[2] == NONE) or (record[2] != NONE and record[2] == _tell(path))


def born_as(record: tuple[int, ...], path: Path | str) -> bool:
    """The folder at `path` has what `record` (`identity`) holds besides its device and inode, where
    those no longer tell it (FAT and exFAT number inodes anew at each mount; a copy on another
    disk): its birth time, or its generation, as read now. Never where none was recorded
    (`NONE`, or an older journal's device and inode alone): a folder at that path may be one the
    user made since. A `statx`, with an `open`, an `ioctl` and a `close` first."""
    return len(record) > 2 and record[2] != NONE and record[2] == _tell(path)


def _tell(path: Path | str) -> int:
    generation = _generation(path)
    if generation is not None:
        return generation
    born = birth(path)
    return NONE if born is None else born


def _generation(path: Path | str) -> int | None:
    try:
        fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW)
    except OSError:
        return None
    try:  # the kernel writes an `int` into the `long` asked for: the first 4 bytes, either byte order
        return struct.unpack("I", fcntl.ioctl(fd, _GETVERSION, bytes(8))[:4])[0]
    except OSError:  # ENOTTY: a filesystem without generations
        return None
    finally:
        os.close(fd)


_statx = None


def birth(path: Path | str | int) -> int | None:
    """The folder's birth time in nanoseconds (a file's too: `identities.born_after` and
    `born_before`, which sort, watch, undo and the review page ask), where the C library has
    `statx` (glibc 2.28) and the filesystem keeps one; else None. `path` may be an open file's
    descriptor, as `os.stat` takes one: the birth of the very file opened (the review page's
    thumbnail, `Catalog.is_listed`), not of one renamed over its name since."""
    global _statx
    if _statx is None:
        try:
            _statx = ctypes.CDLL(None, use_errno=True).statx
        except (OSError, AttributeError):
            _statx = False
    if not _statx:
        return None
    buffer = ctypes.create_string_buffer(_STATX_SIZE)
    at, name, flags = ((path, b"", _AT_EMPTY_PATH) if isinstance(path, int)
                       else (_AT_FDCWD, os.fsencode(path), _AT_SYMLINK_NOFOLLOW))
    if _statx(at, name, flags, _STATX_BTIME, buffer) != 0:
        return None
    (mask,) = struct.unpack_from("=I", buffer, 0)
    if not mask & _STATX_BTIME:
        return None
    seconds, nanoseconds = struct.unpack_from("=qI", buffer, _BTIME_AT)
    return seconds * 10**9 + nanoseconds
