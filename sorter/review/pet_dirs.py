"""The folders in cats/ and dogs/ as a review page was listed: what tells a click naming a pet that
one was made, renamed or removed by hand since, which the page's list of pets does not show.

With cats/Luna renamed cats/Lulu by hand and the page open, "lulu" made cats/lulu/ beside
cats/Lulu/ (a name one pet's but for case is that pet, `pet_names`), and "Luna" made cats/Luna/
again: the page's list was the old one. A learnt pet's folder renamed is told by the personal
model (`loading.KnownPets`); any other pet's folder, by this. A file moved in or out of cats/ (a
watcher's new arrivals) changes its time but not its folders: one `stat`, and a listing of cats/
only once its time changed.
"""

from __future__ import annotations

import os
from pathlib import Path

from sorter.config import CLASS_FOLDERS


def folders_in(folder: Path) -> frozenset[str]:
    """The names of the folders (and links, which a name could mean) in `folder`; none where it is not there."""
    try:
        with os.scandir(folder) as listing:
            return frozenset(e.name for e in listing if e.is_dir(follow_symlinks=False) or e.is_symlink())
    except OSError:
        return frozenset()


def _time(folder: Path) -> tuple:
    try:
        st = os.stat(folder)
    except OSError:
        return ()
    return (st.st_dev, st.st_ino, st.st_mtime_ns)


def pets_changed(kind: str) -> str:
    return f"the pets' folders in {kind}/ changed since this page was loaded; reload the page"


class PetDirs:
    """The folders in each of cats/ and dogs/ as last seen (listed, or changed by the review's own clicks)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.touch()

    def changed(self, kind: str) -> bool:
        """A folder made, renamed or removed in `kind`/ (cats) since it was last seen."""
        time, folders = self._seen[kind]
        now = _time(self.root / kind)
        if now == time:
            return False
        if folders_in(self.root / kind) != folders:
            return True
        self._seen[kind] = (now, folders)  # files moved in or out: its folders are as they were
        return False

    def same(self) -> bool:
        """Every kind's folders as last seen (a page reload)."""
        return not any(self.changed(kind) for kind in self._seen)

    def touch(self) -> None:
        """Listed; again after the review's own click made or removed a folder (cats/Luna/): taken as seen."""
        self._seen = {kind: (_time(self.root / kind), folders_in(self.root / kind)) for kind in CLASS_FOLDERS.values()}
