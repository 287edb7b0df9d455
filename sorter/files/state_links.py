"""sorter's own files in `.sorter/` made the folder's own before sorter writes into one.

A copy made with hard links (`cp -al`, a backup tool that links the files unchanged since the
last backup) gives each file two names, one in each folder, `.sorter/` files too: a record
appended to the journal in one folder would be in the other's as well, whose `undo` would take
back a run made elsewhere and miss its own (QA: `undo H` undid the sort of its copy H2, and
H2's photos were left sorted with no record). So before sorter appends to the journal, or
writes its pid into a lock file (`lock`, `watching`), a file with more than one name
(`st_nlink`) is copied to a new file beside it, fsync'd and renamed over its name in this
folder: the other names keep the file as it was, this folder has one of its own, and the
first write in either folder after the copy breaks the link, so neither holds a record of the
other's. Each is done where the folder is sorter's alone: the journal under the folder's lock,
a lock file under its own `flock`, which the copy holds before it is in place.

The other files in `.sorter/` need nothing: `suggestions.json` and `review.html` are written
whole under another name and renamed into place (a new file), and `turn` is never written, only
locked (shared by a linked copy, a watcher there gives way to a review here, for 10 s at most).
Cost: an `lstat` and an `fstat` a journal write (two a batch), the `fstat` the writer's own too
(the journal's size, where it appends); a copy (one read of the file) once per link broken.
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

from sorter.files.folder import opened_own


def own_file(path: Path, fd: int, flags: int) -> tuple[int, os.stat_result]:
    """The descriptor to write the state file at `path` through, opened as `flags`, and its
    `fstat` (the journal's writer reads the size it appends at from it): `fd` while it is that
    file, with no other name; else a copy of its own (`unshared`). Where another sorter of this
    folder made it its own meanwhile (a review beside a watcher, whose journal stays open), the
    file at `path` now: `fd`'s is the other folder's alone. The caller holds the folder's lock.
    Removed (a complete undo): `fd` still, as before. `fd` is never closed here: a new
    descriptor returned is the caller's to take before it closes `fd` (`unshared`)."""
    try:
        here = os.lstat(path)
    except FileNotFoundError:
        return fd, os.fstat(fd)
    st = os.fstat(fd)
    current = fd  # then the one to close on the way out, where it is not the caller's `fd`
    if not os.path.samestat(here, st):
        current, st = opened_own(path, flags)
    try:
        mine = unshared(path, current, flags, st=st)
        if mine != current:
            current, old = mine, current
            if old != fd:
                os.close(old)
            st = os.fstat(current)  # a copy: once per link broken
    except BaseException:
        if current != fd:
            os.close(current)
        raise
    return current, st


def unshared(path: Path, fd: int, flags: int, *, locked: bool = False, st: os.stat_result | None = None) -> int:
    """`fd` (open on the file at `path`) where its file has no other name; else `path` made a file
    of its own: a copy, fsync'd, renamed over it, and opened as `flags` (the other names keep the
    file `fd` is open on). `locked`: the copy is `flock`ed exclusively before it is at `path` (the
    caller holds `fd`'s lock: a sorter that opens `path` then waits for ours, and one that opened
    the old file checks it is still there, `still_open_there`). `st`: `fd`'s `fstat`, where the
    caller has it (`own_file`).

    `fd` stays open: the caller takes the copy before it closes `fd` (`fd, old = mine, fd`, then
    `os.close(old)`), so one name holds the descriptor still to close at every instant. Closed
    here, a Ctrl-C that landed as that close returned (Python raises it there) had the caller's
    clean-up close `fd` a second time: "Bad file descriptor" in place of the interrupt, and the
    copy, which holds the lock, left open (a lock taken again was refused: "another sorter")."""
    from sorter.files.moves import sync_dirs

    st = st or os.fstat(fd)
    if st.st_nlink <= 1:
        return fd
    temporary = path.with_name(f".{path.name}.own")
    temporary.unlink(missing_ok=True)  # left by a crash: the folder's lock is ours
    mine = os.open(temporary, flags | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, st.st_mode & 0o777)
    try:
        offset = 0
        while chunk := os.pread(fd, 1 << 20, offset):
            view = memoryview(chunk)
            while view:
                view = view[os.pwrite(mine, view, offset + len(chunk) - len(view)):]
            offset += len(chunk)
        os.fsync(mine)
        if locked:
            fcntl.flock(mine, fcntl.LOCK_EX | fcntl.LOCK_NB)  # a new file: nobody else has it open
        os.replace(temporary, path)
        sync_dirs([path.parent])
    except BaseException:
        os.close(mine)
        temporary.unlink(missing_ok=True)
        raise
    return mine
