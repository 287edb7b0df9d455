"""The folder a command is given: checked before anything touches it, and the names sorter
owns inside it."""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path

from sorter.config import (
    CLASS_FOLDERS,
    JOURNAL_NAME,
    STATE_DIR,
    as_typed,
    excluded_by_case,
    library_of,
    names_a_pet,
)
from sorter.errors import UsageError
from sorter.files.refused import refused_reading, refused_start


def output_folders() -> frozenset[str]:
    """Top-level names a scan of the folder never enters: cats/, dogs/ and .sorter/."""
    return frozenset({*CLASS_FOLDERS.values(), STATE_DIR})


def check_folder(root: Path, *, moving_in: bool = False, filing: bool = False, command: str = "sort",
                 missing_ok: bool = False, writing: bool = False, journaling: bool = False,
                 class_folders: bool = True) -> Path:
    """`root` as a command may use it, or a one-line UsageError. `moving_in`: sort and watch,
    which move photos they have not moved before, refuse a folder inside a photo library.
    `filing`: sort (its dry run too), watch, review and learn, which work on `root`'s cats/ and
    dogs/, refuse what an earlier sort made (cats/, dogs/, a pet's folder, .sorter/), saying
    to run `command` on the folder above instead. `missing_ok`: a folder not there now passes
    the checks its path allows (the unit of a watch of a share not mounted yet). `writing`: sort,
    watch, review and undo, which move photos out of `root` and keep `.sorter/` and its journal
    in it, refuse a folder, a `.sorter/` or a journal they cannot write in (`unwritable`) before
    any work. `journaling` (implied by `writing`): learn, which takes its lock in `.sorter/`,
    refuses a `.sorter/` it cannot write in, as the others do: undo restored every photo, then
    failed on its review page, exit 1. Sorter's own files are refused with what to do
    (`refused.refused_start`), in the words every command says. `class_folders`: a cats/ or dogs/
    that is a link or a file refuses the folder (undo with nothing journaled needs neither)."""
    try:
        there = root.exists()
    except OSError as exc:  # a folder above it that cannot be entered: its path cannot be looked up
        raise UsageError(f"cannot read {root}: {exc.strerror or exc}") from None
    if not there:
        if not missing_ok:
            raise UsageError(f"folder not found: {root}")
    elif not root.is_dir():
        raise UsageError(f"not a folder: {root}")
    else:
        _readable(root)
    if filing:
        made = _made_by_a_sort(root.absolute(), command)
        if made is not None:
            raise UsageError(made)
    # A link here would send sorter's files elsewhere.
    for folder in (*(CLASS_FOLDERS.values() if class_folders else ()), STATE_DIR):
        target = root / folder
        # Undo's own reason: a sort's or a watch's is plain (they would file photos in it).
        why = f", where undo looks for the photos sorter moved into {folder}/" if (
            command == "undo" and folder != STATE_DIR) else ""
        if target.is_symlink():  # never followed, even to a folder: sorter's files stay in DIR
            raise UsageError(f"{as_on_disk(target)} is a link (sorter never follows one){why}; rename it so sorter "
                             "can use it")
        if target.exists() and not target.is_dir():
            raise UsageError(f"{as_on_disk(target)} exists and is not a folder{why}; rename it so sorter can use it")
    if moving_in:
        for part in {*root.absolute().parts, *root.resolve().parts}:
            library = library_of(part)
            if library is not None:
                raise UsageError(f"{root} is inside {library} ({part}): its app keeps track of these photos, and "
                                 "moving one breaks the library; export them from the app, then sort the export")
    if writing or journaling:
        refused = unwritable(root, itself=writing, journal=writing)
        if refused is not None:
            also = _refused_below(root) if class_folders and refused[0] != root else ()
            raise refused_start(*refused, sorters=refused[0] != root, also=also)
    return named(root)


def _refused_below(root: Path) -> tuple[Path, ...]:
    """`root`'s cats/ and dogs/, or where one may be written, its pets' folders, that refuse
    this user (`Permission denied`): the folders a sort files photos in and an undo takes them
    out of, named with `.sorter/` in one refusal (`refused.advice`)."""
    denied = os.strerror(errno.EACCES)
    found: list[Path] = []
    for name in CLASS_FOLDERS.values():
        folder = root / name
        if folder.is_symlink() or not folder.is_dir():
            continue
        if cannot_write(folder) == denied:
            found.append(folder)
            continue
        try:
            pets = sorted(p for p in folder.iterdir() if names_a_pet(p.name) and not p.is_symlink() and p.is_dir())
        except OSError:
            continue
        found += [pet for pet in pets if cannot_write(pet) == denied]
    return tuple(found)


def as_on_disk(path: Path) -> Path:
    """`path` with its last name as its folder holds it: on a case-insensitive disk (exFAT, NTFS)
    `cats` finds a file `Cats`, and a refusal of "DIR/cats" named a file the user could not see.
    A listing of the folder, made only on the way to such a refusal; `path` where none matches."""
    try:
        names = os.listdir(path.parent)
    except OSError:
        return path
    if path.name in names:
        return path
    folded = path.name.casefold()
    return next((path.with_name(name) for name in sorted(names) if name.casefold() == folded), path)


def named(path: Path) -> Path:
    """`path` absolute, with `.` and `..` taken out, as sorter shows a folder (README: "a link
    you named kept: not where it points now"): `watch W1/dogs/..` said "watching
    /tmp/W1/dogs/..". Only where the short path names the same folder, or neither names one: a
    `..` after a link goes up from where the link points (`link/..`), and is kept there."""
    full = path.absolute()
    plain = Path(os.path.normpath(full))
    return plain if plain == full or identity(plain) == identity(full) else full


def _readable(root: Path) -> None:
    """`root` can be listed and entered, or a one-line UsageError naming it. A folder that can
    be neither (`chmod 000`) was refused naming a `cats/` it does not have (`U/cats: Permission
    denied`, exit 1), and one entered but not listed (`chmod 311`) was sorted as a folder holding
    one file it could not read, itself, with `.sorter/` left in it. Tried rather than asked
    (`os.access`): the kernel's answer, root's powers and a network disk's rules included."""
    try:
        fd = os.open(root, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)  # read: listed
        try:
            os.stat(".", dir_fd=fd)  # a name looked up in it: entered
        finally:
            os.close(fd)
    except OSError as exc:
        raise UsageError(f"cannot read {root}: {exc.strerror or exc}") from None


#: Errors of a folder or file that may not be written (its mode, `chattr +i`, a read-only disk).
REFUSED = frozenset({errno.EACCES, errno.EPERM, errno.EROFS})


#: The hidden name `cannot_write` tries a folder with where its filesystem has no unnamed file
#: (exFAT, NFS): one name, never a random one, so that a probe left there (a kill between its
#: making and its removal, a removal the disk refused) is the next probe's to remove.
PROBE_NAME = f"{STATE_DIR}.probe"


def _remove_probe(folder: Path) -> None:
    """The probe at `folder`'s `PROBE_NAME` removed, where there is one: an empty file (one left,
    or another sorter's, trying the folder this instant, which takes a name gone for done). Any
    other thing by that name is the user's and stays."""
    try:
        info = os.lstat(folder / PROBE_NAME)
        if stat.S_ISREG(info.st_mode) and info.st_size == 0:
            os.unlink(folder / PROBE_NAME)
    except FileNotFoundError:
        pass


def remove_probe_left(folder: Path) -> None:
    """A probe a kill left in `folder` (`_remove_probe`), removed by a command that writes there
    whether or not it tries the folder by the probe (`undo`: on a disk with unnamed files, or of
    a folder with nothing to undo, it never did, and the probe stayed). One `lstat`; a folder
    that will not let it go keeps it, for the next try: the command's work is not this."""
    try:
        _remove_probe(folder)
    except OSError:
        pass


def _close_left_open(path: Path) -> None:
    """A descriptor of `path` that this process holds, closed (found in /proc/self/fd, Linux).
    On a FUSE disk (exfat-fuse) and NFS a file removed while open is renamed, not removed, until
    it is closed: `.fuse_hidden0000000200000001`, `.nfs000000000abc`."""
    try:
        fds = os.listdir("/proc/self/fd")
    except OSError:
        return
    target = os.path.realpath(path)
    for fd in fds:
        try:
            if os.readlink(f"/proc/self/fd/{fd}") == target:
                os.close(int(fd))
        except OSError:
            pass  # the listing's own descriptor, gone already


def _probe(folder: Path) -> str | None:
    """`cannot_write` by a hidden file (`PROBE_NAME`) made and removed. Made under a random name
    (`tempfile.mkstemp`), one left stayed for good: a kill (or a Ctrl-C, as the file was made or
    closed) between its making and its removal, or a removal that failed (an I/O error; the
    error escaped as well), left `.sorter-k2j4x9ab` in the user's folder, which nothing looked
    for again. Now a probe left is removed by the next one (each sort, watch, review and undo
    tries its folder first), a Ctrl-C closes and removes it on its way out (open, a FUSE or NFS
    disk keeps it as `.fuse_hidden…` until closed), and a removal that fails is
    the answer: photos could not leave that folder either."""
    probe = folder / PROBE_NAME
    try:
        for _ in range(3):  # a probe there: left before (removed here), or another sorter's
            _remove_probe(folder)
            try:
                fd = os.open(probe, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
            except FileExistsError:
                continue
            try:
                os.close(fd)
            finally:
                try:
                    os.unlink(probe)
                except FileNotFoundError:
                    pass  # another sorter's `_remove_probe` took it
            return None
    except OSError as exc:
        if exc.errno == errno.ENOENT and folder.is_dir():  # procfs: no new name in it ("No such file")
            return "its filesystem makes no new files"
        return exc.strerror or str(exc)
    except BaseException:
        _close_left_open(probe)  # a Ctrl-C as its open returned took the descriptor with it
        _remove_probe(folder)  # a Ctrl-C as it was made, or before it was removed
        raise
    # A file of the user's by that name (a folder, not empty): the folder is asked instead.
    return None if os.access(folder, os.W_OK) else os.strerror(errno.EACCES)


def cannot_write(folder: Path) -> str | None:
    """Why nothing can be written in `folder` (its error: "Permission denied", "Read-only file
    system"), or None when it can. Read but not written, a sort was refused naming a `.sorter/`
    the user never made (`DIR/.sorter: Permission denied`, exit 1). Tried rather than asked
    (`os.access` answers by the mode bits, wrong for root and on a network disk): a file with
    no name is opened in it (`O_TMPFILE`), which nothing else sees and no crash leaves behind;
    where the filesystem has no such file (exFAT, NFS), a hidden one is made and removed at once
    (`_probe`), and one a crash left is removed by the next."""
    try:
        os.close(os.open(folder, os.O_TMPFILE | os.O_WRONLY | os.O_CLOEXEC, 0o600))
        return None
    except OSError as exc:
        if exc.errno not in (errno.EOPNOTSUPP, errno.EISDIR, errno.EINVAL):  # EISDIR: a kernel without it
            return exc.strerror or str(exc)
    return _probe(folder)


def unwritable(root: Path, *, itself: bool = True, journal: bool = True) -> tuple[Path, str] | None:
    """The first of `root` (`itself`), its `.sorter/` and its journal (`journal`) that sorter
    cannot write in, and why ("Operation not permitted"), or None: what a sort, a watch, a
    review or an undo is refused up front, and a dry run says a sort would be. Each only where
    it is: `.sorter/` and the journal are made when missing. An immutable journal (`chattr +i`)
    in a writable `.sorter/` ended a sort and an undo at their first record (exit 1), kept a watch
    retrying at each scan, and a review page answered no click."""
    for folder in ([root] if itself else []) + [root / STATE_DIR]:
        if folder.is_dir() and (why := cannot_write(folder)) is not None:
            return folder, why
    # Each opened as it is used, and closed unwritten; never made. The lock is written (its
    # holder's pid), the turn only held (`lock._take_turn`), so read: another user's, left by a
    # refused command or a stale one, refused a learn or a review with a bare "Permission denied".
    state = root / STATE_DIR
    for path, flags in ((state / JOURNAL_NAME, os.O_WRONLY | os.O_APPEND),) * journal + (
            (state / "lock", os.O_RDWR), (state / "turn", os.O_RDONLY)):
        try:
            os.close(os.open(path, flags | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC))
        except OSError as exc:
            # Only a refusal: a link, a FIFO or a folder in its place is the file's own open's
            # to name, and none there is one not made yet.
            if exc.errno in REFUSED:
                return path, exc.strerror or str(exc)
    return None


def journal_readable(root: Path, needed_by: str) -> None:
    """`root`'s journal, where there is one, can be read, or a one-line UsageError
    (`refused.refused_reading`): `needed_by` plans with it."""
    path = root / STATE_DIR / JOURNAL_NAME
    try:
        os.close(os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC))
    except OSError as exc:
        if exc.errno in REFUSED:  # a link or a FIFO there is the journal's own open's to name
            raise refused_reading(path, exc.strerror or str(exc), needed_by) from None


def _made_by_a_sort(root: Path, command: str) -> str | None:
    """Why `root` is no folder to sort, when an earlier sort made it: its cats/ sorted again
    would fill cats/cats/ and cats/dogs/, which neither that sort's undo nor its review knows.
    Judged on the real path (a link to cats/, `cats/Luna/..`) and, on an SD card, whatever the
    case it is spelled in (`CATS`)."""
    try:
        real = root.resolve()
    except OSError:
        real = root.absolute()
    if real.name == STATE_DIR or excluded_by_case(real.parent, real.name, frozenset({STATE_DIR})):
        return f"{real} is where sorter keeps its journal for {real.parent}: nothing in it is to be sorted"
    own = frozenset(CLASS_FOLDERS.values())
    for above in (real.parent, real.parent.parent):
        inside = real.relative_to(above).parts  # () at /
        if not inside or not (above / STATE_DIR / JOURNAL_NAME).is_file():
            continue
        if inside[0] in own or excluded_by_case(above, inside[0], own):
            folder = next(f for f in own if f.casefold() == inside[0].casefold())
            if len(inside) == 1:
                what = f"the {folder}/ folder"
            else:
                what = f"a named pet's folder in {folder}/" if names_a_pet(inside[1]) else f"a folder in {folder}/"
            return f"{real} is {what} of a sort of {above}: sorter {command} {as_typed(above)} itself"
    return None


def identity(folder: Path) -> tuple[int, int] | None:
    """A folder's (device, inode), or None when it is gone."""
    try:
        info = os.stat(folder)
    except OSError:
        return None
    return info.st_dev, info.st_ino


class HeldFolder:
    """The folder a long-running command (a watch, a review page) works in, held open for as
    long as it runs, to tell it renamed away with another made in its place, or a disk mounted
    or unmounted there. Held, because a FUSE driver (exfat-fuse) numbers a folder afresh once
    the kernel forgets it: compared by path alone, a review page's folder looked replaced after
    the page cache was dropped."""

    def __init__(self, folder: Path) -> None:
        self.path = folder
        self._fd: int | None = os.open(folder, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
        info = os.fstat(self._fd)
        self.identity = (info.st_dev, info.st_ino)

    def here(self) -> bool:
        """The path still names this folder (not another, not none)."""
        return identity(self.path) == self.identity

    def replaced(self) -> bool:
        """The path names another folder now (False while it names none: gone is the caller's)."""
        now = identity(self.path)
        return now is not None and now != self.identity

    def where(self) -> Path | None:
        """Where the folder is now, moved (or its parent renamed) while held, as Linux tells of
        an open folder; None when no path names it (deleted, or hidden under a disk mounted
        there) or the system cannot tell."""
        if self._fd is None:
            return None
        try:
            now = Path(os.readlink(f"/proc/self/fd/{self._fd}"))
        except OSError:
            return None
        return now if identity(now) == self.identity else None

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


def open_own(path: Path, flags: int = os.O_RDONLY) -> int:
    """A file sorter keeps in `.sorter/` (journal, lock, suggestions), opened never through a
    link and never blocking on a FIFO planted in its place (say, by an archive unpacked into
    the folder): anything but a regular file is `OSError` "not a regular file"."""
    return opened_own(path, flags)[0]


def opened_own(path: Path, flags: int = os.O_RDONLY) -> tuple[int, os.stat_result]:
    """`open_own`, and the `fstat` it checks the file with: for a caller that needs the file's
    identity or size too (`journal.scan`, a journal write), without asking twice. Made (`O_CREAT`)
    0666 less the umask, as every Unix tool makes a file: made 0644, a family's folder (umask 002,
    a setgid group folder) was sorted by one and its `journal.jsonl` and `lock` refused the other."""
    fd = os.open(path, flags | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC, 0o666)
    st = os.fstat(fd)
    if not stat.S_ISREG(st.st_mode):
        os.close(fd)
        raise OSError(errno.EINVAL, "not a regular file", str(path))
    return fd, st


def first_bytes(path: Path, size: int) -> bytes:
    """The first `size` bytes (fewer in a shorter file) of a file sorter keeps (`open_own`)."""
    fd = open_own(path)
    try:
        return os.pread(fd, size, 0)
    finally:
        os.close(fd)


#: Bytes read for a journal's first record: two paths of PATH_MAX (4,096 bytes), escaped.
FIRST_RECORD_BYTES = 64 * 1024


def first_run(root: Path) -> str:
    """The run that began `root`'s journal ("20240601T101500-3f9a2c", its first record's): it goes
    with the folder wherever it is moved or copied (`.sorter/` with it), and no other folder's
    journal begins with it. "" where there is no journal, or its first record cannot be read."""
    import json

    try:
        first = first_bytes(root / STATE_DIR / JOURNAL_NAME, FIRST_RECORD_BYTES).partition(b"\n")[0]
        run = json.loads(first.decode("utf-8", "surrogateescape")).get("run", "")
    except (OSError, ValueError, AttributeError):
        return ""
    return run if isinstance(run, str) else ""
