"""The only code that moves a user's file. Every move is atomic and never replaces an
existing file: `renameat2(RENAME_NOREPLACE)` where the kernel has it, else hard-link then
unlink (the link fails if the name exists), where a disk has neither (exFAT) an empty file
made at the name (O_EXCL) and the file renamed onto it (`_rename_onto_claim`), and across
filesystems copy (under a hidden name beside the destination), fsync, verify, link, then
unlink. Never check-then-rename, which races. A kill at any instant leaves the file at its old
name, its new one, or both (one inode, or two equal files on two filesystems), and at most a
hidden part-copy of sorter's, by name, or the empty file that held the name, by its journaled
identity: the move's recovery settles each (`finish_fallback_move`, `remove_copy_left`,
`remove_placeholder`).

Inside a sorted folder the folders on both sides are opened one name at a time without
following symbolic links, and the move is made relative to them: a `cats/` swapped for a
link to somewhere else between the scan and the move makes that move fail, instead of
sending the photo out of the folder."""

from __future__ import annotations

import ctypes
import ctypes.util
import errno
import filecmp
import hashlib
import os
import shutil
import stat
from collections.abc import Callable
from pathlib import Path

from sorter.files.leaving import may_leave, remove_copy_made

_AT_FDCWD = -100
_RENAME_NOREPLACE = 1
_libc = None
#: False where libc or the kernel has no renameat2 (ENOSYS): then for every disk.
_renameat2_works = True
#: The devices (st_dev) whose filesystem refuses the no-replace flag (EINVAL, ENOTSUP: exfat-fuse,
#: and FUSE before 4.x), learnt at the first refusal on each. Known process-wide, the first refusal
#: on a card sent every later move on ext4 in that process (a watch of a folder with a card
#: mounted inside, `sort --recursive` across a mount) to link-then-unlink.
_refused_on: set[int] = set()


def _device_of(dst: Path, dst_dir: int) -> int | None:
    """The device of the folder `dst` goes into (a name in `dst_dir`, or a path); None where it
    cannot be told (the call is then tried, as on a disk not yet known to refuse it)."""
    try:
        return os.fstat(dst_dir).st_dev if dst_dir != _AT_FDCWD else os.stat(os.path.dirname(dst) or ".").st_dev
    except OSError:
        return None


def _renameat2(src: Path, dst: Path, src_dir: int = _AT_FDCWD, dst_dir: int = _AT_FDCWD) -> bool:
    """True when done; False when the kernel/filesystem lacks the call, or `src` and `dst` are
    on two filesystems (use a fallback: `_move`). With folder descriptors, `src` and `dst` are names
    inside them. A filesystem's refusal is remembered for its device alone (`_refused_on`): one
    `fstat` a move, and only once some disk has refused."""
    global _libc, _renameat2_works
    if not _renameat2_works or (_refused_on and _device_of(dst, dst_dir) in _refused_on):
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
    if code == errno.ENOSYS:
        _renameat2_works = False
        return False
    if code in (errno.EINVAL, errno.ENOTSUP):
        if (device := _device_of(dst, dst_dir)) is not None:
            _refused_on.add(device)
        return False
    if code == errno.EXDEV:
        # Two filesystems (a `cats/` mounted in the folder, an undo back across it): no rename
        # can do it, but the next same-filesystem move can, so the call stays on. Raised, it
        # was "cannot move: Invalid cross-device link" and the copy below was never reached.
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


#: The end of the hidden name a copy across filesystems is made under (`copy_beside`).
COPY_SUFFIX = ".sorter.tmp"


def copy_beside(dst: Path) -> Path:
    """The name beside `dst` under which a move across filesystems makes its copy: hidden, so no
    scan (sort, watch, the review, learn) takes it for a photo, and sorter's by that exact name,
    so the recovery of the move removes one a kill left. A name too long to take the suffix
    (255 bytes) is replaced by its digest: the copy's name is still `dst`'s alone."""
    name = f".{dst.name}{COPY_SUFFIX}"
    if len(os.fsencode(name)) > 255:
        name = f".{hashlib.sha256(os.fsencode(dst.name)).hexdigest()[:32]}{COPY_SUFFIX}"
    return dst.with_name(name)


def remove_copy_left(dst: Path, dst_dir: int | None = None) -> bool:
    """The copy a move to `dst` across filesystems was making (`copy_beside`), removed where a
    kill (or a Ctrl-C as it was made) left one: that exact name, and only a regular file. Part
    made, it is no photo; whole and linked already, `dst` keeps the file. True when removed.
    With `dst_dir`, `dst` is a name in that folder."""
    copy = copy_beside(dst)
    try:
        if stat.S_ISREG(os.stat(copy, dir_fd=dst_dir, follow_symlinks=False).st_mode):
            os.unlink(copy, dir_fd=dst_dir)
            return True
    except OSError:
        pass  # none there, or one it may not remove: the move is settled as if none were
    return False


def _same_bytes(a, b) -> bool:
    a.seek(0)
    b.seek(0)
    while True:
        chunk = a.read(1 << 20)
        if chunk != b.read(len(chunk) or 1):
            return False
        if not chunk:
            return True


def _copy_across(src: Path, dst: Path, src_dir: int | None = None, dst_dir: int | None = None,
                 claimed: Claimed | None = None, uncopied: Uncopied | None = None) -> None:
    """`src` copied to the new file `dst`: made under a hidden name beside it (`copy_beside`),
    fsync'd and verified there, linked as `dst` (never replacing a file there), then
    `src` unlinked once `dst`'s folder is fsync'd. On any failure, or a Ctrl-C, the copy is
    removed and `src` stays. With folder descriptors (`move_no_replace`), `src` and `dst` are
    names in them, as for a rename: made by full path, a `cats/Luna/` swapped for a link
    meanwhile had the photo copied wherever the link led, and removed from the sorted folder.

    Made at `dst` itself, a kill in the middle of the copy left part of the photo under its
    final name, which recovery cannot tell from a different file (not equal to the photo: "a
    different file, not ours", `finish_fallback_move`): it stayed for good, and the next sort
    filed the photo as `IMG (1).jpg` beside it. Now a kill leaves at most the hidden copy, which
    the move's recovery removes (`remove_copy_left`); killed after the link, the photo is at
    both names, two equal files, which recovery settles to one."""
    copy = copy_beside(dst)
    may_leave(src, src_dir)  # before anything is made: else the copy stays beside the photo that could not go
    remove_copy_left(dst, dst_dir)  # one a failed clean-up left behind, where no recovery came
    try:
        fd = os.open(copy, os.O_RDWR | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o644, dir_fd=dst_dir)
    except OSError:
        raise  # nothing made
    except BaseException:
        remove_copy_left(dst, dst_dir)  # a Ctrl-C as the open returned: its descriptor went with the interrupt
        raise
    try:
        with os.fdopen(fd, "wb+") as writer:
            with open(os.open(src, os.O_RDONLY | os.O_NOFOLLOW, dir_fd=src_dir), "rb") as reader:
                shutil.copyfileobj(reader, writer, 1 << 20)
                writer.flush()
                shutil.copystat(reader.fileno(), writer.fileno())  # its times, mode and attributes
                os.fsync(writer.fileno())
                made = judged_as(os.fstat(writer.fileno()))  # the copy's, which the link and a rename keep
                if not _same_bytes(reader, writer):
                    raise OSError(errno.EIO, "copy verification failed", str(dst))
        try:
            os.link(copy, dst, src_dir_fd=dst_dir, dst_dir_fd=dst_dir, follow_symlinks=False)  # EEXIST: never replaced
        except OSError as exc:
            if exc.errno not in NO_LINKS:
                raise
            _rename_onto_claim(copy, dst, dst_dir, dst_dir, claimed)  # no hard links (FAT): as `_move` does
    except BaseException:
        try:
            os.unlink(copy, dir_fd=dst_dir)
        except FileNotFoundError:
            pass
        raise
    try:
        os.unlink(copy, dir_fd=dst_dir)  # `dst` holds the file now (gone already where renamed)
    except OSError:
        pass  # a hidden name left: the next copy to `dst` removes it
    if dst_dir is None:
        _fsync_dir(dst.parent)  # `dst` durable before the photo's only other name goes
    else:
        try:
            os.fsync(dst_dir)
        except OSError:
            pass
    try:
        os.unlink(src, dir_fd=src_dir)
    except OSError as exc:
        # Its folder let it go when asked (`may_leave`), and now will not (a card turned read-only
        # since, a filesystem that refuses what it allowed): the copy, sorter's and verified equal,
        # is taken back, journaled first (`uncopied`) so a kill before its removal has recovery remove
        # it, never the photo. Kept, it was a second photo in cats/, and each sort again made another.
        # Only while the photo is at its source still: gone meanwhile, the copy is the photo now.
        try:
            os.stat(src, dir_fd=src_dir, follow_symlinks=False)
        except OSError:
            raise exc from None
        if uncopied is not None:
            try:
                uncopied(made)
            except OSError:
                pass  # a journal that takes no record: a kill now leaves two equal files, which
                # recovery settles as for a kill before the record (`finish_fallback_move`)
        remove_copy_made(dst, made, dst_dir)
        if dst_dir is not None:
            try:
                os.fsync(dst_dir)
            except OSError:
                pass
        raise


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


#: What `os.link` fails with where a disk keeps no hard links (FAT, exFAT), or no more for a file.
NO_LINKS = frozenset({errno.EPERM, errno.ENOTSUP, errno.EMLINK})
#: Told the identity of the empty file a move made to hold its destination's name
#: (`_rename_onto_claim`), and of the file it moves there, as it is then.
Claimed = Callable[[Judged, Judged], None]
#: Told the identity of the copy a move across filesystems linked in at its destination and is
#: about to take back, the source refusing to go (`_copy_across`).
Uncopied = Callable[[Judged], None]


def _rename_onto_claim(src: Path, dst: Path, src_dir: int | None, dst_dir: int | None,
                       claimed: Claimed | None) -> None:
    """The move on a disk with neither a no-replace rename nor hard links (exFAT with FUSE: EINVAL,
    then EPERM): `dst` is claimed first, made as an empty file that no one else can take then
    (O_EXCL: FileExistsError where it is taken, never replaced), then the photo renamed onto it.
    Checked for a free name and renamed, another program's file made at the name in between was
    replaced: a QA racer making files at the names the journal announced lost 3 to 8 of 100.

    The claim's identity goes to `claimed` (the journal: a kill before the rename leaves the
    empty file, and recovery removes it by that identity only, `remove_placeholder`, never a
    file of someone else's at the name), with the photo's as it is then: after a remount, which
    numbers both anew, that tells recovery the claim's inode number no longer can. It is held
    open to the rename, so its inode number stays (exfat-fuse numbers a file anew once the
    kernel forgets it), and checked to be still ours, the empty file made, right before: the one
    window left is between that check and the rename, and only for a program that removes
    sorter's file and makes its own there, which nothing can close where the rename itself
    replaces. On any failure the claim is removed."""
    fd = os.open(dst, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o644, dir_fd=dst_dir)
    mine: Judged | None = None
    try:
        mine = judged_as(os.fstat(fd))
        if claimed is not None:
            claimed(mine, judged_as(os.stat(src, dir_fd=src_dir, follow_symlinks=False)))
        if not is_placeholder(os.stat(dst, dir_fd=dst_dir, follow_symlinks=False), mine):
            raise FileExistsError(errno.EEXIST, os.strerror(errno.EEXIST), str(dst))
        os.rename(src, dst, src_dir_fd=src_dir, dst_dir_fd=dst_dir)
    except BaseException:
        if mine is not None:
            remove_placeholder(dst, mine, dst_dir)  # the photo, where the rename was made, is no placeholder
        raise
    finally:
        os.close(fd)


def is_placeholder(info: os.stat_result, claim: Judged, renumbered: bool = False) -> bool:
    """`info` is of the empty file a move made to hold a name (`_rename_onto_claim`), as it was made.
    `renumbered`: on a disk that numbers its files anew at each mount (`identities.inodes_last`),
    after a remount: an empty file with the claim's time to the nanosecond, whatever its device
    and inode (the caller vouches for the rest: `remove_placeholder`)."""
    if not (stat.S_ISREG(info.st_mode) and info.st_size == 0):
        return False
    return judged_as(info) == tuple(claim) or (renumbered and info.st_mtime_ns == claim[3])


def remove_placeholder(dst: Path, claim: Judged, dst_dir: int | None = None, renumbered: bool = False) -> bool:
    """The empty file a move made at `dst` to hold the name (`_rename_onto_claim`) removed, where
    it is there still, as made: a file of anyone else's there (the claim gone, or a photo renamed
    onto it) stays. `renumbered` (`is_placeholder`): only for recovery, which passes it where the
    file the move was moving is at its other name still, so none was renamed onto this one. True
    when removed."""
    try:
        if is_placeholder(os.stat(dst, dir_fd=dst_dir, follow_symlinks=False), claim, renumbered):
            os.unlink(dst, dir_fd=dst_dir)
            return True
    except OSError:
        pass  # gone already, or one it may not remove: left as it is
    return False


def move_no_replace(src: Path, dst: Path, root: Path | None = None, same_as: Judged | None = None,
                    claimed: Claimed | None = None, uncopied: Uncopied | None = None) -> None:
    """Move `src` to `dst`. Raises FileExistsError if `dst` exists; never overwrites.
    With `root` (the sorted folder both lie in), no symbolic link below it is followed.
    `same_as`: the file as it was judged; one replaced or rewritten since stays put (a sync
    client that replaces a photo by a rename would have the new one filed by the old one's
    verdict). `claimed`: told the identity of the empty file a move on a disk without hard links
    makes at `dst` to hold the name (`_rename_onto_claim`), for the journal: recovery removes it
    by that, where a kill left it. `uncopied`: told the identity of the copy a move across
    filesystems takes back where its source will not go (`_copy_across`), for the journal too.

    The directories are not fsync'd here: callers batch that with `sync_dirs`."""
    if root is None or not _DIR_FDS:
        return _move(src, dst, same_as=same_as, claimed=claimed, uncopied=uncopied)
    src_dir = open_folder_beneath(root, src.parent)
    try:
        dst_dir = src_dir if dst.parent == src.parent else open_folder_beneath(root, dst.parent)
        try:
            _move(Path(src.name), Path(dst.name), src_dir, dst_dir, same_as, claimed, uncopied)
        finally:
            if dst_dir != src_dir:
                os.close(dst_dir)
    finally:
        os.close(src_dir)


def _move(src: Path, dst: Path, src_dir: int | None = None, dst_dir: int | None = None,
          same_as: Judged | None = None, claimed: Claimed | None = None, uncopied: Uncopied | None = None) -> None:
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
            _copy_across(src, dst, src_dir, dst_dir, claimed, uncopied)  # a mount point inside the sorted folder
            return
        if exc.errno in NO_LINKS:
            _rename_onto_claim(src, dst, src_dir, dst_dir, claimed)  # FAT, exFAT: no link, no no-replace rename
            return
        raise
    os.unlink(src, dir_fd=src_dir)


def _mount_of(folder: Path) -> str | None:
    """The mount point `folder` is under, from /proc/self/mountinfo (Linux): a bind mount is a
    mount of its own there, though its files bear its filesystem's device number. None where
    that cannot be read."""
    from sorter.files.mounts import mounts

    real = os.path.realpath(folder)
    try:
        points = [mount.point for mount in mounts()]
    except OSError:
        return None
    under = [p for p in points if real == p or real.startswith(p.rstrip("/") + "/")]
    return max(under, key=len, default=None)


def finish_fallback_move(src: Path, dst: Path, or_back: bool = False) -> bool:
    """After a crash inside a fallback move, the file may be at both names: one inode (killed
    between the link and the unlink) or two equal files (killed between the link of a copy to
    another filesystem or across a bind mount, verified and synced, and the unlink of its source).
    Drop the source, so the photo is there once. True when that was the case; a different file at `dst` is not ours
    (a copy cut short is never at `dst`, but under its hidden name: `remove_copy_left`).
    `or_back` (recovery): where the source will not go (its card read-only now, the folder's
    mode), `dst`, the second name or the equal copy, goes instead, and False: the move taken back,
    as the move itself takes it back (`_copy_across`). Raised, it ended the command."""
    try:
        a, b = os.stat(src, follow_symlinks=False), os.stat(dst, follow_symlinks=False)
    except OSError:
        return False
    same_inode = (a.st_dev, a.st_ino) == (b.st_dev, b.st_ino)
    # Only a move across two mounts copies. Asked for two devices alone, one across a bind mount
    # (one filesystem at two places: one device, yet no rename or link crosses) stayed at both
    # names. The mount table is read last, and only for two equal-sized files on one device.
    copied = (not same_inode and stat.S_ISREG(a.st_mode) and stat.S_ISREG(b.st_mode) and a.st_size == b.st_size
              and (a.st_dev != b.st_dev or _mount_of(src.parent) != _mount_of(dst.parent))
              and filecmp.cmp(src, dst, shallow=False))
    if same_inode or copied:
        try:
            os.unlink(src)
        except OSError:
            if not or_back:
                raise
            try:
                os.unlink(dst)
            except OSError:
                pass  # neither will go: both stay, the photo's own name first
            return False
        return True
    return False


def sync_dirs(paths) -> None:
    """Make renames durable: fsync each directory once per batch of moves."""
    for path in set(paths):
        _fsync_dir(path)


def sys_platform_is_linux() -> bool:
    import sys

    return sys.platform.startswith("linux")
