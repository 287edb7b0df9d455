"""Whether a photo may leave its folder, asked before a move across filesystems copies it
(`may_leave`), and the copy taken back where it still would not go (`remove_copy_made`): a move
across filesystems is a copy, then the source's removal, and only that last step met a card
turned read-only or a folder the user may not write in, with the copy made by then. Left there,
it was a second photo in cats/ ("never duplicates a photo"), and each sort again made another.
The same refusal a rename within one disk meets before it moves anything is met here before
anything is copied, and said the same way (`cannot move out of card/: Read-only file system`)."""

from __future__ import annotations

import errno
import filecmp
import os
import stat
from pathlib import Path

from sorter.files.folder import cannot_write
from sorter.files.refused import APPEND_ONLY, IMMUTABLE, flags_of, owner_name


def _identity(info: os.stat_result) -> tuple[int, int, int, int]:
    return (info.st_dev, info.st_ino, info.st_size, info.st_mtime_ns)  # as `moves.judged_as`


def _can_override(capability: int) -> bool:
    """This thread holds `capability` (3: CAP_FOWNER) in its effective set, from its
    /proc/thread-self/status (a review server's thread may hold fewer than the process's first);
    False where that cannot be read."""
    try:
        with open("/proc/thread-self/status", encoding="ascii", errors="replace") as status:
            line = next((line for line in status if line.startswith("CapEff:")), "CapEff:\t0")
        return bool(int(line.split()[1], 16) >> capability & 1)
    except (OSError, ValueError):
        return False


def may_leave(src: Path, src_dir: int | None = None) -> None:
    """Raises the error that removing `src` from its folder would meet, as a rename within one disk
    meets it before it moves anything: a read-only mount (a card's write-protect switch, EROFS), a
    folder the user may not write in (EACCES: its mode, root without CAP_DAC_OVERRIDE), a sticky
    folder (/tmp) where the file and the folder are someone else's (EPERM). Asked before a copy
    across filesystems, which only its last step, the removal, would find refused, with the copy
    made by then. Tried rather than asked, as `folder.cannot_write` does: a file with no name opened
    in the folder (`O_TMPFILE`, which nothing sees and no kill leaves), the mode bits asked only on
    a filesystem without such files. With `src_dir`, `src` is a name in that folder. Then the photo
    itself: one marked immutable or append-only (`chattr +i`, `+a`) is refused as its folder would
    be, its strerror saying why (`pinned`). A removal that fails after the copy all the same (a
    flag set meanwhile) has the copy taken back (`_copy_across`)."""
    folder = "." if src_dir is not None else (os.path.dirname(src) or ".")
    try:
        os.close(os.open(folder, os.O_TMPFILE | os.O_WRONLY | os.O_CLOEXEC, 0o600, dir_fd=src_dir))
    except OSError as exc:
        if exc.errno not in (errno.EOPNOTSUPP, errno.EISDIR, errno.EINVAL):  # EISDIR: a kernel without it
            raise OSError(exc.errno, exc.strerror, str(src)) from None
        if os.statvfs(folder if src_dir is None else src_dir).f_flag & os.ST_RDONLY:
            raise OSError(errno.EROFS, os.strerror(errno.EROFS), str(src)) from None
        if not os.access(folder, os.W_OK | os.X_OK, dir_fd=src_dir, effective_ids=os.access in os.supports_effective_ids):
            raise OSError(errno.EACCES, os.strerror(errno.EACCES), str(src)) from None
    if (why := kept_in(src, os.stat(folder, dir_fd=src_dir), src_dir)) is not None:
        raise OSError(errno.EPERM, why, str(src))


def sticky_for_me(folder: os.stat_result) -> bool:
    """Whether the folder `folder` describes keeps its files to their owners (its sticky bit,
    `chmod +t`: /tmp, a family's shared folder) for this user: one who owns neither the folder nor
    overrides it (root's CAP_FOWNER). Then only the photos this user owns may leave it."""
    return bool(folder.st_mode & stat.S_ISVTX) and os.geteuid() != folder.st_uid and not _can_override(3)


def _name(uid: int) -> str:
    return owner_name(uid, "user {}")  # "user 4242" in a sentence, where refusals' advice says the number


def kept_in(src: Path, folder: os.stat_result, src_dir: int | None = None, named: str | None = None) -> str | None:
    """Why `src` may not leave its folder (`folder`: its stat) whatever the folder's mode allows:
    a sticky folder's rule (`sticky_for_me`) where `src` is another user's, said with who may move
    it ("it belongs to bob, in a sticky folder (only bob or the folder's owner, root, may move it
    out)": no second colon, so the summary counts it whole), where a rename said only "Operation
    not permitted" and a dry run "would move"; else its own flags (`pinned`). One stat of `src`,
    only in such a folder. None where it may go.
    With `src_dir`, `src` is a name in that folder. `named`: a companion's name as the user sees it,
    said in place of "it" (`IMG_0001.MOV belongs to bob, ...`), its photo being the one blamed."""
    if sticky_for_me(folder):
        owner = os.stat(src, dir_fd=src_dir, follow_symlinks=False).st_uid
        if owner != os.geteuid():
            return (f"{named or 'it'} belongs to {_name(owner)}, in a sticky folder (only {_name(owner)} or the"
                    f" folder's owner, {_name(folder.st_uid)}, may move it out)")
    return pinned(src, src_dir, named)


def pinned(src: Path, src_dir: int | None = None, named: str | None = None) -> str | None:
    """Why `src` may not leave its folder whatever the folder allows: its own flags (`lsattr`),
    immutable or append-only, which refuse its rename and its removal alike, even to root (EPERM).
    Said as what to do ("it is marked immutable (chattr -i to free it)"), where a move said only
    "Operation not permitted" and a dry run "would move". None where it has neither flag, or its
    filesystem keeps none. With `src_dir`, `src` is a name in that folder. `named`: a companion's
    name (`IMG_0001.MOV is marked immutable (chattr -i IMG_0001.MOV to free it)`): the line is its
    photo's, which said "it is marked immutable" of a photo that had no flag."""
    return _marked(flags_of(src, src_dir), named or "it", f" {named}" if named else "")


def folder_marked(folder: Path, typed: str, leaving: bool) -> str | None:
    """Why `folder`'s own flags refuse a move out of it (`leaving`: immutable or append-only, which
    let files in but none out) or into it (immutable): "it is marked append-only (chattr -a trip to
    free it)", `typed`: the folder as the user would type it. A move said "Operation not permitted"
    (an append-only folder lets a file be made in it, so trying it found nothing), and a dry run
    "would move". None where it has neither flag, or its filesystem keeps none. One ioctl."""
    flags = flags_of(folder)
    return _marked(flags if leaving else flags & IMMUTABLE, "it", f" {typed}")


def folder_refuses(folder: Path, typed: str, leaving: bool) -> str | None:
    """Why a move out of `folder` (`leaving`) or into it would be refused: its own flags
    (`folder_marked`), then a file tried in it (`folder.cannot_write`: "Read-only file system",
    "Permission denied"), the folder's own error, never the move's. None where it would not be."""
    return folder_marked(folder, typed, leaving) or cannot_write(folder)


def _marked(flags: int, subject: str, typed: str) -> str | None:
    if flags & IMMUTABLE:
        return f"{subject} is marked immutable (chattr -i{typed} to free it)"
    if flags & APPEND_ONLY:
        return f"{subject} is marked append-only (chattr -a{typed} to free it)"
    return None


def remove_copy_made(dst: Path, made: tuple[int, ...], dst_dir: int | None = None, original: Path | None = None) -> bool:
    """The copy a move across filesystems linked in at `dst` and then took back, its source refusing
    to go (`_copy_across`), removed where it is still that file (`made`: its device, inode, size
    and time, as journaled) and, with `original` (recovery, after a kill), where the photo is
    there still, byte for byte: so only ever a second copy, never the photo's one. True when
    removed. With `dst_dir`, `dst` is a name in that folder."""
    try:
        if _identity(os.stat(dst, dir_fd=dst_dir, follow_symlinks=False)) != tuple(made):
            return False
        if original is not None and not (stat.S_ISREG(os.lstat(original).st_mode)
                                         and filecmp.cmp(original, dst, shallow=False)):
            return False
        os.unlink(dst, dir_fd=dst_dir)
        return True
    except OSError:
        return False  # gone, or one it may not remove: left, as a copy that could not be taken back
