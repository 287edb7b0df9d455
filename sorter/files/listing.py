"""The folder's files keyed by their identity: what `undo` looks a file up in once it is not where
sorter put it (`whereabouts`), listed only in an undo where one is missing.

Listed in two steps, each at its first need: the files at the top of the folder and in the trees
of cats/ and dogs/ (`paths`), then, once, the folder's other trees (`widen`: cats/ renamed to
kitties/; a folder of the user's own). Never a hidden folder nor .sorter/, no link followed, never
a folder sorted on its own (with a journal of its own: its photos are its own undo's). A folder
that cannot be listed is said (`unlisted`), so that a file not found is not taken for gone. The
listing follows the files undo moves back (`moved`), so that `undo --all` finds a photo where a
newer run's undo put it.

One listing per way of telling a file (by its identity, where its record lasts; by its size and
time, where it does not: `identities.Identities`), each keyed by a hash of the key, not the key:
half the memory, and `whereabouts` checks each file it names (a collision finds nothing, 1 in
2**64 a pair). Keyed by size and time alone, a photo among 2,000 files of one size and time (a
sidecar exported with the photos) had each look check 2,000 (31 s, not 0.6).
Memory: an entry per file listed (about 160 bytes).
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable
from pathlib import Path

from sorter.config import CLASS_FOLDERS, JOURNAL_NAME, STATE_DIR, entered, excluded_by_case
from sorter.files.identities import SameFile, same_file

_SORTED = frozenset(CLASS_FOLDERS.values())
#: A third way of telling a file (`lasting`'s): its device and inode alone, as a file touched or
#: edited in place keeps them (`whereabouts.Whereabouts._touched_away` and `_put_back_touched`,
#: which check each one found).
INODE = "inode"
Way = bool | str  # True: by identity; False: by size and time; INODE


class Listing:
    """The files of the folder `root`, keyed by identity (`lasting`: True) or by size and time."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._base = os.path.join(root, "")  # paths joined as strings: a Path costs 5 us, an lstat 1.6
        #: Per way of telling a file, a hash of its key (`_key`) -> relative path, or the paths where
        #: several files have it.
        self._listed: dict[Way, dict[int, str | list[str]]] = {}
        self._wide: set[Way] = set()  # the folder's other trees listed too
        self.unlisted: str | None = None  # why a folder there could not be listed

    def paths(self, same: SameFile, lasting: Way) -> list[str]:
        """The listed paths of the files with `same`'s key (`lasting`'s), unchecked: cats/, dogs/
        and the top of the folder listed at the first call, the other trees once `widen`ed."""
        if lasting not in self._listed:
            self._list(lasting, self.sorted_tree, files=True)
        paths = self._listed[lasting].get(hash(_key(same, lasting)))
        return [paths] if isinstance(paths, str) else paths or []  # the listing's own: read, not changed

    def widen(self, lasting: Way) -> bool:
        """Take the folder's other trees into the listing (`lasting`'s), once: False where they
        were already."""
        if lasting in self._wide:
            return False
        self._wide.add(lasting)
        self._list(lasting, self._other_tree)
        return True

    def moved(self, old: str, new: str) -> None:
        """Undo moved the file at `old` to `new`: the listing follows it, so that an older run's
        move of the same photo (`undo --all`) finds it there."""
        if not self._listed:
            return
        try:
            st = os.lstat(self._base + new)
        except OSError:
            return
        for lasting, listed in self._listed.items():
            key = hash(_key(same_file(st), lasting))
            paths = listed.get(key)
            if isinstance(paths, list) and old in paths:
                paths.remove(old)
            elif paths == old:
                del listed[key]
            _add(listed, key, new)

    def sorted_tree(self, name: str) -> bool:
        """The top-level folder `name` is cats/ or dogs/ (`Cats/` where names fold together)."""
        return name in _SORTED or excluded_by_case(self.root, name, _SORTED)

    def _other_tree(self, name: str) -> bool:
        """Another top-level folder, entered as a scan enters one."""
        return not self.sorted_tree(name) and entered(name)

    def _list(self, lasting: Way, trees: Callable[[str], bool], files: bool = False) -> None:
        """Take into the listing (`lasting`'s) the trees of the folder's top-level folders that
        `trees` names, and with `files` the folder's own files; not a folder sorted on its own,
        nor below it."""
        listed = self._listed.setdefault(lasting, {})
        try:
            top = os.listdir(self.root)
        except OSError as exc:
            self.unlisted = f"{self.root} cannot be listed ({exc.strerror or exc})"
            return
        for folder, subfolders, names in self._walk([name for name in top if trees(name)], top if files else []):
            if STATE_DIR in subfolders and os.path.lexists(os.path.join(folder, STATE_DIR, JOURNAL_NAME)):
                subfolders.clear()  # its photos are its own journal's to undo
                continue
            subfolders[:] = [d for d in subfolders if entered(d)]
            for name in names:
                path = os.path.join(folder, name)
                try:
                    st = os.lstat(path)
                except OSError:
                    continue
                if stat.S_ISREG(st.st_mode):
                    _add(listed, hash(_key(same_file(st), lasting)), path[len(self._base):])

    def _walk(self, trees: list[str], files: list[str]):
        """The folder's own `files` (names), then the trees of its folders named in `trees`, top
        down, no link followed (`os.walk` does not go into one; `lstat` tells one from a file)."""
        yield str(self.root), [], files

        def unlisted(exc: OSError) -> None:
            where = os.path.relpath(exc.filename, self.root) if exc.filename else "a folder"
            self.unlisted = self.unlisted or f"{where} cannot be listed ({exc.strerror or exc})"

        for name in trees:
            if is_folder_itself(self.root / name):
                yield from os.walk(self.root / name, onerror=unlisted)


def is_folder_itself(path: Path) -> bool:
    """A folder itself, not a link to one (`os.walk` would list where it leads)."""
    try:
        return stat.S_ISDIR(os.lstat(path).st_mode)
    except OSError:
        return False


def _key(same: SameFile, lasting: Way) -> tuple[int, ...]:
    if lasting == INODE:
        return tuple(same[:2])
    return same if lasting else same[2:]  # (size, mtime) where the record does not last


def _add(listed: dict[int, str | list[str]], key: int, path: str) -> None:
    paths = listed.setdefault(key, path)
    if paths == path:
        return
    if isinstance(paths, str):
        listed[key] = [paths, path]
    elif path not in paths:
        paths.append(path)
