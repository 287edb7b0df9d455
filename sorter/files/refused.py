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
import stat
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


def advice(path: Path, why: str, also: tuple[Path, ...] = ()) -> str:
    """What to do about `path` refusing a write for `why` (its strerror), as a clause. `also`:
    folders the command goes on to write that refuse this user too (`Permission denied`), named
    in the same chmod where they are the same owner's, in this user's group."""
    typed = as_typed(path)
    if why == os.strerror(errno.EROFS):
        return "its disk is mounted read-only (a card's write-protect switch?): make it writable"
    if why == os.strerror(errno.EACCES):
        return _not_this_users(path, typed, also)
    flags = flags_of(path)
    if flags & IMMUTABLE:
        return f"it is immutable: chattr -i {typed} (as root) lets sorter write it"
    if flags & APPEND_ONLY:
        return f"it is append-only: chattr -a {typed} (as root) lets sorter write it"
    return f"its disk refuses it (lsattr -d {typed} shows an i for immutable, removed by chattr -i as root)"


def _not_this_users(path: Path, typed: Path, also: tuple[Path, ...] = ()) -> str:
    """What helps where `path`'s permissions refuse this user. "chmod u+w as its owner" was the
    advice to everyone, false where the owner may write it and the one refused is another user
    (a family's shared folder, another member's `.sorter/lock`): the owner is named, and the
    bits its group lacks where this user is in that group."""
    subject = "it"
    try:
        st = os.lstat(path)
    except PermissionError:  # in a folder this user may not enter (`.sorter/`, made under umask 077)
        subject, path = "its folder", path.parent
        typed = as_typed(path)
        try:
            st = os.lstat(path)
        except OSError:
            st = None
    except OSError:
        st = None
    if st is None or st.st_uid == os.geteuid():
        return f"its permissions refuse this user: chmod u+w {typed} as its owner, or run sorter as a user who can write it"
    owner = owner_name(st.st_uid)
    if _in_groups(st.st_gid):
        lacking = _lacking(st)
        if lacking:
            group = group_name(st.st_gid)
            # A family folder sorted under umask 022: `.sorter/`, cats/ and dogs/ all 2755. Only
            # `.sorter/` named, the next try was refused on cats/, one folder at a time.
            others = [(other, info) for other in also if (info := _lstat(other)) is not None
                      and info.st_uid == st.st_uid and _in_groups(info.st_gid) and _lacking(info)]
            if others:
                lacking = "".join(bit for bit in "rwx" if bit in lacking + "".join(_lacking(i) for _, i in others))
                names = " and ".join(", ".join(str(as_typed(other)) for other, _ in others).rsplit(", ", 1))
                return (f"{subject} belongs to {owner}, as {names} do, and their group {group} (this user's too) "
                        f"lacks {lacking}: chmod -R g+{lacking} {typed} {' '.join(str(as_typed(o)) for o, _ in others)}"
                        f" (by {owner} or root) lets sorter use them")
            return (f"{subject} belongs to {owner}, and its group {group} (this user's too) lacks {lacking}: "
                    f"chmod g+{lacking} {typed} (by {owner} or root) lets sorter use it")
    return (f"{subject} belongs to {owner}, and this user may not use it: run sorter as {owner}, or ask {owner} "
            "(or root) to let this user in")


def _in_groups(gid: int) -> bool:
    return gid == os.getegid() or gid in os.getgroups()


def _lacking(st: os.stat_result) -> str:
    """The group bits a file (rw) or a folder (rwx) lacks for this user to use it."""
    needed = "rwx" if stat.S_ISDIR(st.st_mode) else "rw"
    bits = {"r": stat.S_IRGRP, "w": stat.S_IWGRP, "x": stat.S_IXGRP}
    return "".join(bit for bit in needed if not st.st_mode & bits[bit])


def _lstat(path: Path) -> os.stat_result | None:
    try:
        return os.lstat(path)
    except OSError:
        return None


def owner_name(uid: int, unknown: str = "{}") -> str:
    """The user `uid` is, by name (`unknown` with its number where the system knows no such user)."""
    import pwd

    try:
        return pwd.getpwuid(uid).pw_name
    except (KeyError, OverflowError):
        return unknown.format(uid)


def group_name(gid: int) -> str:
    """The group `gid` is, by name (its number where the system knows no such group)."""
    import grp

    try:
        return grp.getgrgid(gid).gr_name
    except (KeyError, OverflowError):
        return str(gid)


def refused_reading(path: Path, why: str, needed_by: str) -> UsageError:
    """The error a command stops with where sorter's own `path` cannot be read (`why`), which
    `needed_by` (the command) needs: a dry run of a folder whose journal another user keeps to
    themselves (umask 077) ended on a bare `Error: DIR/.sorter/journal.jsonl: Permission denied`."""
    return UsageError(f"cannot read {path}: {why}; {advice(path, why)}; {needed_by} needs it")


def refused_start(path: Path, why: str, *, sorters: bool = True, also: tuple[Path, ...] = ()) -> UsageError:
    """The error a command stops with, before any work, where `path` refuses a write for `why`
    (its strerror, "Operation not permitted"): why, and what to do where it is sorter's own
    (`sorters`), `also` the folders it would go on to be refused in (`advice`); the folder the
    user gave (`sorters=False`) is theirs, and named bare."""
    return UsageError(f"cannot write in {path}: {why}" + (f"; {advice(path, why, also)}" if sorters else ""))
