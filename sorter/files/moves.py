"""The only code that moves a user's file. Every move is atomic and never replaces an
existing file: `renameat2(RENAME_NOREPLACE)` where the kernel has it, else hard-link then
unlink (the link fails if the name exists), and across filesystems copy, fsync, verify,
then unlink. Never check-then-rename, which races.

Inside a sorted folder the folders on both sides are opened one name at a time without
following symbolic links, and the move is made relative to them: a `cats/` swapped for a
link to somewhere else between the scan and the move makes that move fail, instead of
sending the photo out of the folder."""

from __future__ import annotations

import ctypes
import ctypes.util
import errno
import filecmp
import os
import shutil
import stat
from pathlib import Path

_AT_FDCWD = -100
_RENAME_NOREPLACE = 1
_libc = None
_renameat2_works = True


def _renameat2(src: Path, dst: Path, src_dir: int = _AT_FDCWD, dst_dir: int = _AT_FDCWD) -> bool:
    """True when done; False when the kernel/filesystem lacks the call (use a fallback).
    With folder descriptors, `src` and `dst` are names inside them."""
    global _libc, _renameat2_works
    if not _renameat2_works:
        return False
    if _libc is None:
        try:
            _libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
            _libc.renameat2  # noqa: B018 - AttributeError when libc lacks it
        except (OSError, AttributeError):
            _renameat2_works = False
            return False
    result = _libc.renameat2(src_dir, os.fsencode(src), dst_dir, os.fsencode(dst), _RENAME_NOREPLACE)
    if result == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.ENOSYS, errno.EINVAL, errno.ENOTSUP):
        _renameat2_works = False
        return False
    raise OSError(code, os.strerror(code), str(dst))


def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def interrupt_behind(exc: OSError) -> KeyboardInterrupt | None:
    """The Ctrl-C (or SIGTERM, `signals.sigterm_as_ctrl_c`) that `exc` was raised while handling,
    if any: clean-up that failed on a Ctrl-C's way out (a descriptor closed twice, a copy that
    could not be removed). That is no file that would not move, but the interrupt, which ends the
    command: taken for a file's failure (undo's `kept: ...`, a sort's `cannot move: ...`), it was
    swallowed and the command went on to its end."""
    seen = exc.__context__
    while seen is not None and not isinstance(seen, KeyboardInterrupt):
        seen = seen.__context__
    return seen


def _copy_across(src: Path, dst: Path) -> None:
    """`src` copied to the new file `dst`, fsync'd and verified, then `src` unlinked; on any
    failure, or a Ctrl-C, `dst` is removed and `src` stays. A Ctrl-C that lands as the open that
    made `dst` returns (Python raises it there, before `fd` is set) made it too: an empty file was
    left where the photo was going, which no recovery nor undo removes (not equal to the photo,
    it is "a different file, not ours": `finish_fallback_move`)."""
    try:
        fd = os.open(dst, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)  # O_EXCL: never replace
    except OSError:
        raise  # nothing made: a file at `dst` is someone else's
    except BaseException:
        _remove_empty(dst)  # its descriptor went with the interrupt
        raise
    try:
        with open(src, "rb") as reader, os.fdopen(fd, "wb") as writer:
            shutil.copyfileobj(reader, writer, 1 << 20)
            writer.flush()
            os.fsync(writer.fileno())
        shutil.copystat(src, dst)
        if not filecmp.cmp(src, dst, shallow=False):
            raise OSError(errno.EIO, "copy verification failed", str(dst))
    except BaseException:
        dst.unlink(missing_ok=True)
        raise
    os.unlink(src)


def _remove_empty(path: Path) -> None:
    """`path` removed where it is an empty file: what an open a Ctrl-C cut off as it returned
    made. (A Ctrl-C raised inside the open, on a slow disk's EINTR, made none: a file there then
    is someone else's, made in that instant, and removed only if it is empty too.)"""
    try:
        if stat.S_ISREG((info := os.lstat(path)).st_mode) and info.st_size == 0:
            os.unlink(path)
    except OSError:
        pass


#: Folder descriptors need POSIX `openat` semantics (not on Windows).
_DIR_FDS = hasattr(os, "O_DIRECTORY") and hasattr(os, "O_NOFOLLOW") and os.link in os.supports_dir_fd


def open_folder_beneath(root: Path, folder: Path) -> int:
    """A descriptor of `folder`, which lies inside `root`: `root` is opened as given (the
    user named it), every name below it without following a symbolic link (ELOOP or
    ENOTDIR if one is there now).

    `fd` names the one descriptor still to close at every instant: it takes the folder below
    before the one above is closed. Closed first, a Ctrl-C that landed just after that close
    (Python raises it there) had `fd` closed a second time on its way out: the interrupt
    became "Bad file descriptor", which an undo took for one file that would not move back
    (`kept: cats/c1831.jpg: cannot move back (Bad file descriptor)`) and went on to exit 0."""
    fd = os.open(root, os.O_RDONLY | os.O_DIRECTORY)
    try:
        for name in folder.relative_to(root).parts:
            try:
                inner = os.open(name, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW, dir_fd=fd)
            except OSError as exc:
                if exc.errno in (errno.ELOOP, errno.ENOTDIR):
                    raise OSError(exc.errno, f"{name} is no longer a folder (a symbolic link or a file now)") from None
                raise
            fd, above = inner, fd
            os.close(above)
    except BaseException:
        os.close(fd)
        raise
    return fd


#: What a moved file must still be, when given: (device, inode, size, modification time).
Judged = tuple[int, int, int, int]


#: Why a photo replaced or written to since it was judged did not move (a watcher judges it again).
CHANGED_SINCE_JUDGED = "changed since it was judged (replaced or written to); left for the next sort"
#: Why a photo replaced by a folder (or a link) since it was judged did not move.
NOT_A_FILE = "not a file any more (replaced since it was judged)"


def judged_as(info: os.stat_result) -> Judged:
    return (info.st_dev, info.st_ino, info.st_size, info.st_mtime_ns)


def move_no_replace(src: Path, dst: Path, root: Path | None = None, same_as: Judged | None = None) -> None:
    """Move `src` to `dst`. Raises FileExistsError if `dst` exists; never overwrites.
    With `root` (the sorted folder both lie in), no symbolic link below it is followed.
    `same_as`: the file as it was judged; one replaced or rewritten since stays put (a sync
    client that replaces a photo by a rename would have the new one filed by the old one's
    verdict).

    The directories are not fsync'd here: callers batch that with `sync_dirs`."""
    if root is None or not _DIR_FDS:
        return _move(src, dst, same_as=same_as)
    src_dir = open_folder_beneath(root, src.parent)
    try:
        dst_dir = src_dir if dst.parent == src.parent else open_folder_beneath(root, dst.parent)
        try:
            _move(Path(src.name), Path(dst.name), src_dir, dst_dir, (src, dst), same_as)
        finally:
            if dst_dir != src_dir:
                os.close(dst_dir)
    finally:
        os.close(src_dir)


def _move(src: Path, dst: Path, src_dir: int | None = None, dst_dir: int | None = None, paths=None,
          same_as: Judged | None = None) -> None:
    """The move itself; with folder descriptors, `src` and `dst` are names inside them. Only a
    file moves: a photo replaced by a folder (or a link) since it was judged stays put, and
    with `same_as` one replaced or rewritten since."""
    info = os.stat(src, dir_fd=src_dir, follow_symlinks=False)
    if not stat.S_ISREG(info.st_mode):
        raise OSError(errno.EINVAL, NOT_A_FILE, str(src))
    if same_as is not None and judged_as(info) != same_as:
        raise OSError(errno.EINVAL, CHANGED_SINCE_JUDGED, str(src))
    at = (_AT_FDCWD if src_dir is None else src_dir, _AT_FDCWD if dst_dir is None else dst_dir)
    if sys_platform_is_linux() and _renameat2(src, dst, *at):
        return
    try:
        os.link(src, dst, src_dir_fd=src_dir, dst_dir_fd=dst_dir, follow_symlinks=False)
    except OSError as exc:
        if exc.errno == errno.EXDEV:
            # A mount point inside the sorted folder: rare enough to copy by full path.
            _copy_across(*(paths or (src, dst)))
            return
        if exc.errno in (errno.EPERM, errno.ENOTSUP, errno.EMLINK) and not _lexists(dst, dst_dir):
            # Filesystems without hard links: fall back to a plain rename, re-checking
            # the name right before (the only non-atomic path, and only on such filesystems).
            os.rename(src, dst, src_dir_fd=src_dir, dst_dir_fd=dst_dir)
            return
        raise
    os.unlink(src, dir_fd=src_dir)


def _lexists(name: Path, dir_fd: int | None) -> bool:
    try:
        os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
    except FileNotFoundError:
        return False
    return True


def finish_fallback_move(src: Path, dst: Path) -> bool:
    """After a crash inside a fallback move, the file may be at both names: one inode (killed
    between the link and the unlink) or two equal files (killed between a copy to another
    filesystem, verified and synced, and the unlink of its source). Drop the source, so the
    photo is there once. True when that was the case; a different file at `dst` is not ours."""
    try:
        a, b = os.stat(src, follow_symlinks=False), os.stat(dst, follow_symlinks=False)
    except OSError:
        return False
    same_inode = (a.st_dev, a.st_ino) == (b.st_dev, b.st_ino)
    copied = (not same_inode and a.st_dev != b.st_dev and stat.S_ISREG(a.st_mode) and stat.S_ISREG(b.st_mode)
              and a.st_size == b.st_size and filecmp.cmp(src, dst, shallow=False))
    if same_inode or copied:
        os.unlink(src)
        return True
    return False


def sync_dirs(paths) -> None:
    """Make renames durable: fsync each directory once per batch of moves."""
    for path in set(paths):
        _fsync_dir(path)


def sys_platform_is_linux() -> bool:
    import sys

    return sys.platform.startswith("linux")
