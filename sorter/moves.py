"""The only code that moves a user's file. Every move is atomic and never replaces an
existing file: `renameat2(RENAME_NOREPLACE)` where the kernel has it, else hard-link then
unlink (the link fails if the name exists), and across filesystems copy, fsync, verify,
then unlink. Never check-then-rename, which races."""

from __future__ import annotations

import ctypes
import ctypes.util
import errno
import filecmp
import os
import shutil
from pathlib import Path

_AT_FDCWD = -100
_RENAME_NOREPLACE = 1
_libc = None
_renameat2_works = True


def _renameat2(src: Path, dst: Path) -> bool:
    """True when done; False when the kernel/filesystem lacks the call (use a fallback)."""
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
    result = _libc.renameat2(_AT_FDCWD, os.fsencode(src), _AT_FDCWD, os.fsencode(dst), _RENAME_NOREPLACE)
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


def _copy_across(src: Path, dst: Path) -> None:
    fd = os.open(dst, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)  # O_EXCL: never replace
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


def move_no_replace(src: Path, dst: Path) -> None:
    """Move `src` to `dst`. Raises FileExistsError if `dst` exists; never overwrites.

    The directories are not fsync'd here: callers batch that with `sync_dirs`."""
    if not (sys_platform_is_linux() and _renameat2(src, dst)):
        try:
            os.link(src, dst, follow_symlinks=False)
        except OSError as exc:
            if exc.errno == errno.EXDEV:
                _copy_across(src, dst)
                return
            if exc.errno in (errno.EPERM, errno.ENOTSUP, errno.EMLINK) and not os.path.lexists(dst):
                # Filesystems without hard links: fall back to a plain rename, re-checking
                # the name right before (the only non-atomic path, and only on such filesystems).
                os.rename(src, dst)
                return
            raise
        os.unlink(src)


def finish_link_move(src: Path, dst: Path) -> bool:
    """After a crash inside the link fallback both names may point at one inode: drop the
    source. True when that was the case."""
    try:
        a, b = os.stat(src, follow_symlinks=False), os.stat(dst, follow_symlinks=False)
    except OSError:
        return False
    if (a.st_dev, a.st_ino) == (b.st_dev, b.st_ino):
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
