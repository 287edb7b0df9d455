"""Where a correction files a photo, and under which names: the folder a button sends it to
(`target_folder`: cats/, cats/Luna/, or back where sorter found it for "Neither", if that is
still a real folder, `real_folder`), and names free there (`reserve`), "Neither" giving back
the ones sorter found it under (`found_names`). A listing and a few `lstat` calls; the
folder's lock is the caller's (`locking.folder_lock`), so the names it reserves stay free.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Literal

from sorter.config import CLASS_FOLDERS
from sorter.review.catalog import Photo

Choice = Literal["cat", "dog", "neither"]


def names_taken(folder: Path):
    """The names in `folder`, casefolded as `planning.free_names` compares them. Listed for
    every correction (about 5 ms for 10,000 names) rather than kept: a kept index would go
    stale as photos leave the folder, and a photo moved out and back would come back as
    `name (1).jpg`."""
    from sorter.files.planning import NameIndex

    try:
        with os.scandir(folder) as listing:
            return NameIndex(entry.name for entry in listing)
    except FileNotFoundError:
        return NameIndex()


def reserve(folder: Path, names: list[str]) -> list[str]:
    from sorter.files.planning import free_names

    return free_names(names, names_taken(folder))


def found_names(photo: Photo, members: list[Path]) -> list[str]:
    """The names `members` (the photo, then its companions) had where sorter found the photo
    (`origin`), which "Neither" gives back: filed beside another `dup.jpg` as `cats/dup (1).jpg`
    (its `.xmp` alike), or a 255-byte name cut to fit " (1)", each is the group's stem renamed.
    Their names now where that is not so (a companion that does not start with the stem)."""
    now = [m.name for m in members]
    if not photo.origin:
        return now
    found, stem = os.path.basename(photo.origin), os.path.splitext(now[0])[0]
    was = [found, *(os.path.splitext(found)[0] + name[len(stem):] for name in now[1:])]
    fits = all(name.startswith(stem) for name in now) and all(len(os.fsencode(name)) <= 255 for name in was)
    return was if fits else now


def real_folder(root: Path, rel: str) -> bool:
    """`rel` (relative to `root`) is a folder reached through real folders only."""
    path = root
    for part in Path(rel).parts:
        path = path / part
        try:
            if not stat.S_ISDIR(os.lstat(path).st_mode):
                return False
        except OSError:
            return False
    return True


def target_folder(root: Path, photo: Photo, choice: Choice, pet: str | None = None) -> Path | None:
    """The folder a correction sends the photo to (cats/, or cats/Luna/ with `pet`); None
    when it is there already. "Cat" takes a photo out of a named pet's folder."""
    if choice != "neither":
        folder = CLASS_FOLDERS[choice] + (f"/{pet}" if pet else "")
        return None if os.path.dirname(photo.path) == folder else root / folder
    if photo.current == "neither":
        return None
    # Back where sorter found it, if that folder is still a real one; else the top.
    origin = os.path.dirname(photo.origin or "")
    return root / origin if origin and real_folder(root, origin) else root
