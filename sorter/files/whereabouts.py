"""Where a file sorter moved is now, once it is no longer where sorter put it: `undo` finds it
by its identity (a pet's folder renamed, cats/Luna -> cats/Lulu, took her photos with it).

A move's intent holds what the file was before it moved (`journal.Move.same`: device, inode,
size, modification time), which a rename or a plain `mv` within the filesystem keeps; a move
journaled before intents held it has its photo's "seen" record instead (a sort's or a watch's;
its companions, and a review's moves then, have nothing to be found by).

Looked for only where something is missing, with one listing per undo, made at the first such
file: the files at the top of the folder and in the trees of cats/ and dogs/ (not hidden
folders nor .sorter/, no link followed), by identity. A photo taken out of those into a folder
of the user's own, or out of the folder, is left there: reported missing as a deleted one is.
Only where cats/ or dogs/ itself is gone (renamed: cats/ -> kitties/) are the folder's other
trees listed too, once (not one sorted on its own, with a journal of its own).

A file is the photo when it is that very file, device, inode, size and time alike (a copy is
another inode, the photo edited since has another time); two names of one inode there (a hard
link) make which one is the photo a guess, and none is taken. On a filesystem whose inode
numbers are made up at each mount (FAT, exFAT, FUSE: `verdicts.inodes_last`) it is told by its
size and time alone, only where one file there has them (a copy kept its time too: `cp -p`).
Memory: an entry per file listed (about 160 bytes), only while an undo that missed one runs.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable
from pathlib import Path

from sorter.config import CLASS_FOLDERS, JOURNAL_NAME, REVIEW_RUN_PREFIX, STATE_DIR, entered, excluded_by_case
from sorter.files.verdicts import SameFile, inodes_last, same_file

_SORTED = frozenset(CLASS_FOLDERS.values())
#: Two files have the key: which one is the photo would be a guess.
_TWO = ""


class Unlisted(Exception):
    """The file was not found, and a folder it may be in could not be listed: `undo` keeps its
    move, to look again next time, as it does where it cannot look at the file's own place."""


class Whereabouts:
    """Finds the files of the moves of `runs` (undo's) where they are now."""

    def __init__(self, root: Path, runs: set[str]) -> None:
        self.root = root
        self._runs = runs
        #: hash of a key (`_key`) -> relative path, or _TWO: a hash, not the key, is half the memory,
        #: and `find` checks the file it names (a collision finds nothing, 1 in 2**64 a pair).
        self._listed: dict[int, str] | None = None
        self._wide = False  # the folder's other trees listed too
        self._lasting: bool | None = None  # inode numbers last across mounts (`verdicts.inodes_last`)
        self._seen: dict[tuple[str, int], SameFile] | None = None
        self._unlisted: str | None = None  # why a folder there could not be listed

    def find(self, move) -> str | None:
        """Where the file `move` (a `journal.Move` done and not undone) put is now, relative to
        the folder, when that is elsewhere and certain; else None. Raises Unlisted."""
        same = move.same or self._seen_as(move)
        if same is None:
            return None
        if self._listed is None:
            self._list(self._sorted_tree, files=True)
        where = self._listed.get(hash(self._key(same)))
        if where is None and not self._wide and "/" in move.dst and not _is_folder(self.root / move.dst.split("/")[0]):
            self._wide = True  # its cats/ or dogs/ is gone: renamed, say
            self._list(self._other_tree)
            where = self._listed.get(hash(self._key(same)))
        if where is None and self._unlisted is not None:
            raise Unlisted(self._unlisted)
        if not where:
            return None
        try:  # listed earlier in this undo: still that file?
            st = os.lstat(self.root / where)
        except OSError:
            return None
        return where if stat.S_ISREG(st.st_mode) and self._key(same_file(st)) == self._key(same) else None

    def elsewhere(self, move, there: os.stat_result) -> str | None:
        """Where the file `move` put is now, when the file `there`, at its first place, is not it
        (a new photo of its name) and it is found elsewhere; else None: `there` is the file, put
        back (by hand, or by an undo cut short), or the file is nowhere else to be found."""
        same = move.same or self._seen_as(move)
        if same is None or self._key(same_file(there)) == self._key(same):
            return None
        try:
            return self.find(move)
        except Unlisted:
            return None

    def _key(self, same: SameFile) -> tuple:
        if self._lasting is None:
            self._lasting = inodes_last(self.root)
        return same if self._lasting else same[2:]  # (size, mtime) where inode numbers do not last

    def _sorted_tree(self, name: str) -> bool:
        """The top-level folder `name` is cats/ or dogs/ (`Cats/` where names fold together)."""
        return name in _SORTED or excluded_by_case(self.root, name, _SORTED)

    def _other_tree(self, name: str) -> bool:
        """Another top-level folder, entered as a scan enters one, that is not sorted on its own."""
        return (not self._sorted_tree(name) and entered(name)
                and not os.path.lexists(self.root / name / STATE_DIR / JOURNAL_NAME))

    def _list(self, trees: Callable[[str], bool], files: bool = False) -> None:
        """Take into the listing the trees of the folder's top-level folders that `trees` names,
        and with `files` the folder's own files."""
        self._listed = {} if self._listed is None else self._listed
        base = os.path.join(self.root, "")
        try:
            top = os.listdir(self.root)
        except OSError as exc:
            self._unlisted = f"{self.root} cannot be listed ({exc.strerror or exc})"
            return
        for folder, subfolders, names in self._walk([name for name in top if trees(name)], top if files else []):
            subfolders[:] = [d for d in subfolders if entered(d)]
            for name in names:
                path = os.path.join(folder, name)
                try:
                    st = os.lstat(path)
                except OSError:
                    continue
                if stat.S_ISREG(st.st_mode):
                    key = hash(self._key(same_file(st)))
                    self._listed[key] = _TWO if key in self._listed else path[len(base):]

    def _walk(self, trees: list[str], files: list[str]):
        """The folder's own `files` (names), then the trees of its folders named in `trees`, top
        down, no link followed (`os.walk` does not go into one; `lstat` tells one from a file)."""
        yield str(self.root), [], files

        def unlisted(exc: OSError) -> None:
            where = os.path.relpath(exc.filename, self.root) if exc.filename else "a folder"
            self._unlisted = self._unlisted or f"{where} cannot be listed ({exc.strerror or exc})"

        for name in trees:
            if _is_folder(self.root / name):
                yield from os.walk(self.root / name, onerror=unlisted)

    def _seen_as(self, move) -> SameFile | None:
        """A move journaled before intents held identities: its photo's, as the run's "seen"
        record of it gives it (read once, for the runs being undone)."""
        if move.seq != move.group or move.run.startswith(REVIEW_RUN_PREFIX):
            return None
        if self._seen is None:
            from sorter.files.journal import seen_of

            self._seen = {(s.run, s.seq): (*s.identity, s.mtime_ns) for s in seen_of(self.root)
                          if s.run in self._runs and s.seq is not None and s.mtime_ns is not None}
        return self._seen.get((move.run, move.seq))


def _is_folder(path: Path) -> bool:
    """A folder itself, not a link to one (`os.walk` would list where it leads)."""
    try:
        return stat.S_ISDIR(os.lstat(path).st_mode)
    except OSError:
        return False
