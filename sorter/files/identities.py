"""A file's identity, and whether a record of it still tells it here: its device, inode, size
and time as a journal record keeps them (`Identity`, `SameFile`), the filesystems whose inode
numbers do not last across mounts (`inodes_last`), a folder copied to another disk or on its
own (`Identities`), and the `lstat` helpers every part that looks at a photo shares."""

from __future__ import annotations

import functools
import itertools
import os
import stat
from pathlib import Path

#: A file's identity as a "seen" record keeps it (`journal.Seen.identity`): a rename or a plain
#: `mv` within the filesystem keeps it, so sorter finds a photo the user moved.
Identity = tuple[int, int, int]  # st_dev, st_ino, st_size


def identity_of(st: os.stat_result) -> Identity:
    return (st.st_dev, st.st_ino, st.st_size)


#: The identity and the modification time: this very file, not a new one given a freed inode
#: number (its size and time differ), nor the photo edited since. A rename keeps all four.
SameFile = tuple[int, int, int, int]


def same_file(st: os.stat_result) -> SameFile:
    return (*identity_of(st), st.st_mtime_ns)


#: Filesystems whose inode numbers are made up at each mount (FAT and exFAT in the kernel, as
#: numbered positions; every FUSE driver, in the order names are looked up): after a card is
#: taken out and put back, a photo's (device, inode) is another, its size and time are not.
_INODES_MADE_UP = ("vfat", "msdos", "exfat", "fuseblk", "fuse")


def inodes_last(path: Path | str) -> bool:
    """The filesystem holding `path` keeps a file's inode number across mounts: yes unless Linux's
    mount table says it is one of `_INODES_MADE_UP` (elsewhere, and on any doubt, yes)."""
    from sorter.files.mounts import mounts

    try:
        st = os.stat(path)
        table = mounts()
    except OSError:
        return True
    device = f"{os.major(st.st_dev)}:{os.minor(st.st_dev)}"
    for mount in table:
        if mount.device == device:
            return not (mount.kind in _INODES_MADE_UP or mount.kind.startswith("fuse."))
    return True


#: Files (and folders) looked at in each of the folder's top, cats/ and dogs/ for the devices its
#: files are on (`Identities.devices`): a copy's files are on one, an overlay's on one a layer.
PROBED = 64
#: The device a record is taken to be on where it was made before the folder was copied on its
#: disk (`Identities.of`): none is (a device number is never negative).
COPIED = -1


class Identities:
    """Whether an identity on record (an `Identity` or a `SameFile`, device first) still tells
    its file in the folder `root`: only where the filesystem keeps inode numbers across mounts
    (`inodes_last`) and the record was taken on a device the folder's files are on now
    (`devices`). A folder copied to another disk (`cp -a`, `rsync -a`, a backup restored there),
    or its disk mounted again under another device number, keeps its files' names, sizes and
    times, not their devices and inodes: there, as on FAT, a file is told by what a copy keeps,
    its size and time (its size alone, for an `Identity`). Each record is judged by its own
    device, so a journal older than this check is judged as well, and a copy sorted again has
    its new records told by inode. A copy on the folder's own disk keeps the device: there the
    journal tells the runs journaled before the folder was copied (`copied`), and their records
    are judged as another disk's (`of`); `mv DIR DIR2` keeps the folder, and its records' trust."""

    def __init__(self, root: Path | str, state=None) -> None:
        self._root = root
        self._state = state  # the folder's journal, scanned (`journal.scan`); None: no run is a copy's

    @functools.cached_property
    def copied(self) -> frozenset[str]:
        """The runs journaled before the folder was copied on its disk (`JournalState.copied`):
        an `lstat` of the folder, with an `ioctl` where it may be the folder a writer recorded."""
        from sorter.files import made_folders

        if self._state is None or not self._state.folders:
            return frozenset()
        return self._state.copied(lambda folder: made_folders.is_folder(folder, self._root))

    def of(self, run: str, record: tuple[int, ...] | None) -> tuple[int, ...] | None:
        """`record` (device first), journaled by `run`, as it tells its file here: as it is, or,
        journaled before the folder was copied on its disk (`copied`), on no device (`COPIED`),
        so that it is judged as a record of another disk's is: by size and time."""
        return elsewhere(record) if record is not None and run in self.copied else record

    @functools.cached_property
    def kept(self) -> bool:
        """The folder's filesystem keeps inode numbers across mounts (`inodes_last`)."""
        return inodes_last(self._root)

    @functools.cached_property
    def devices(self) -> set[int]:
        """The devices the folder's files are on now: the folder's own, those of the files at its
        top and in cats/ and dogs/ (the first `PROBED` entries of each), and of each file looked
        at since (`saw`). Not the folder's alone: on overlayfs with layers on other filesystems
        (a live USB's), and on some FUSE and btrfs set-ups, a file reports another device than
        its folder, and every record would be judged as of a copy."""
        return _devices_of(self._root)

    def saw(self, st: os.stat_result | None) -> None:
        """`st` is of a file in the folder (at a move's place): its device is one of `devices`."""
        if is_a_file(st):
            self.devices.add(st.st_dev)

    def last(self, record: tuple[int, ...]) -> bool:
        """`record` (device first) still tells its file by its device and inode here."""
        return record[0] in self.devices and self.kept

    def key(self, record: tuple[int, ...]) -> tuple[int, ...]:
        """What tells `record`'s file here: all of it, or what survives a copy (`last`)."""
        return record if self.last(record) else record[2:]

    def match(self, record: tuple[int, ...], st: os.stat_result) -> bool:
        """The file `st` is the one `record` (`Identity` or `SameFile`) was taken of, as told here."""
        now = same_file(st)[:len(record)]
        return now == record if self.last(record) else now[2:] == record[2:]

    def back_key(self, record: tuple[int, ...]) -> tuple[int, ...]:
        """What tells a photo put back (`record`, a `SameFile`) here: its device, inode and size
        where they last, not its time (a `touch`, a viewer setting it, leaves the user's word
        standing; a photo rewritten in place at its exact size is far rarer, and left in place is
        the safe failure), else its size and time (`key`)."""
        return record[:3] if self.last(record) else record[2:]

    def moved_key(self, record: tuple[int, ...]) -> tuple[int, ...]:
        """What `PutBacks.moved` keeps a photo sorter moved (`record`, a `SameFile`) by: its
        device, inode and size where they last (`back_key`: a photo taken back out under another
        name, then touched, is still put back, as one under its own name is), else, on FAT, exFAT
        or FUSE, all of it, as before, and in a folder copied since (`copied_key`) its size and
        time, what a copy keeps (as a photo put back under its own name is told there)."""
        return record[:3] if self.last(record) else self.copied_key(record) or record

    def copied_key(self, record: tuple[int, ...]) -> tuple[int, ...] | None:
        """`record`'s size and time where it was taken on no device of the folder's (a folder
        copied since, `of`): a copy gives its file a new device and inode, keeps those. Else None."""
        return record[2:] if record[0] not in self.devices else None

    def is_back(self, record: tuple[int, ...], st: os.stat_result) -> bool:
        """The file `st` is the photo that `record` (`SameFile`) was taken of, touched since or not
    (`back_key`): one put back where sorter found it, or one still where sorter filed it (the
    review page's card keeps its label)."""
        now = same_file(st)
        return now[:3] == tuple(record[:3]) if self.last(record) else now[2:] == tuple(record[2:])


def born_after(path: Path | str, when: float | None) -> bool:
    """The file at `path` was created after `when` (a journaled move's time, seconds), so it is
    not the photo (or companion) that move took, whatever its device, inode and size: a new file
    of its size saved after the photo was deleted, given its freed inode number (ext4 and tmpfs
    give one again at once). A rename, sorter's or the user's, keeps a file's birth time, and the
    journal has a move's time before the move is made. False where `when` is not known (a journal
    from before moves had times) or the file's birth time cannot be read (no `statx`, a
    filesystem without one): the file is told by its inode as before, left in place if anything.
    A `statx`; only where a file was told by its inode."""
    from sorter.files.made_folders import birth

    if when is None:
        return False
    born = birth(path)
    return born is not None and born > when * 1e9


def born_before(path: Path | str, when: float | None) -> bool:
    """The file at `path` is known to have been created no later than `when` (a journaled move's
    time, seconds): `born_after`'s other side where a file is to be found, not kept, by its inode
    (`whereabouts`: a photo touched since, found away from where it was). False where either time
    is not known: not found so, rather than a new file given a deleted photo's inode number taken
    for it."""
    return when is not None and born_by(path, when * 1e9)


def born_by(path: Path | str | int, ns: float | None) -> bool:
    """The file at `path` is known to have been created no later than `ns` (nanoseconds): `born_before`
    to the nanosecond, for a time the journal keeps in nanoseconds (a photo's ctime when it was
    judged, `judged.is_the_file`), which the float seconds of `born_before` round: a photo is born
    at its first ctime, and one rounded a few nanoseconds below it was taken for a new file. False
    where either time is not known. `path` may be an open file's descriptor (`made_folders.birth`)."""
    from sorter.files.made_folders import birth

    if ns is None:
        return False
    born = birth(path)
    return born is not None and born <= ns


def elsewhere(record: tuple[int, ...]) -> tuple[int, ...]:
    """`record` (device first) taken on no device of the folder's (`COPIED`): told by what a copy keeps."""
    return (COPIED, *record[1:])


def _devices_of(root: Path | str) -> set[int]:
    """`Identities.devices` as the folder's top, cats/ and dogs/ (not a link to one) have them."""
    from sorter.config import CLASS_FOLDERS

    devices: set[int] = set()
    for folder in (root, *(os.path.join(root, name) for name in CLASS_FOLDERS.values())):
        try:
            st = os.lstat(folder)
            if not stat.S_ISDIR(st.st_mode):
                continue
            devices.add(st.st_dev)
            with os.scandir(folder) as entries:
                for entry in itertools.islice(entries, PROBED):
                    if entry.is_file(follow_symlinks=False):
                        devices.add(entry.stat(follow_symlinks=False).st_dev)
        except OSError:
            continue
    return devices


def same_file_of(path: Path | str) -> SameFile | None:
    try:
        return same_file(os.lstat(path))
    except OSError:
        return None


def lstat_of(path: Path | str) -> os.stat_result | None:
    """What is at `path` (not followed), or None where nothing can be looked at."""
    try:
        return os.lstat(path)
    except OSError:
        return None


def is_a_file(st: os.stat_result | None) -> bool:
    """`st` (`lstat_of`) is of a file itself, not a link, a folder or nothing."""
    return st is not None and stat.S_ISREG(st.st_mode)
