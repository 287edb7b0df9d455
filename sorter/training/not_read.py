"""Photos in the folders `train` and `evaluate` read that they do not read, said instead of
passed over without a word. In Cat/ and Dog/: those in sub-folders (`Cat/2019/`), those behind a
symbolic link, and hidden ones (`.x.jpg`). In a folder of non-pets (Other/, `--other`,
`--holdout`), whose sub-folders are read (one a kind): those behind a link, hidden ones, and
those in a hidden or system sub-folder (`.cache/`, `@eaDir/`), which the walk never enters.
Only the photos at the top of a pet folder are read: the split that `evaluate --split
validation` draws again is made from that listing, so reading more now would move every model's
split. Counting them costs a walk of the sub-folders (no link followed, so no loop): of a pet
folder, made only where it has one; of a folder of non-pets, a listing of each folder the
training walk lists too."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from sorter.config import entered
from sorter.media.folders import is_image_name
from sorter.wording import counted

#: Sub-folders a note names, at most; the count covers them all.
NAMED_SUB_FOLDERS = 3


@dataclass(frozen=True)
class NotRead:
    """What one pet folder holds that is not read."""

    folder: str
    in_sub_folders: int  # photos anywhere below its sub-folders
    sub_folders: tuple[str, ...]  # the sub-folders that hold them, by name
    links: int  # symbolic links named as photos, never followed
    hidden: int  # photos whose name begins with a dot
    #: A folder of non-pets, whose sub-folders are read: `sub_folders` are those never entered.
    non_pets: bool = False

    def said(self) -> str:
        """`D/Cat has 30 photos in sub-folders (2019/), which are not read`."""
        parts = []
        if self.in_sub_folders:
            named = ", ".join(f"{name}/" for name in self.sub_folders[:NAMED_SUB_FOLDERS])
            more = ", …" if len(self.sub_folders) > NAMED_SUB_FOLDERS else ""
            parts.append(f"{counted(self.in_sub_folders, 'photo')} in sub-folders ({named}{more})")
        if self.links:
            parts.append(f"{counted(self.links, 'symbolic link')} named as photos (never followed)")
        if self.hidden:
            parts.append(f"{counted(self.hidden, 'hidden photo')} (.name)")
        listed = ", ".join(parts[:-1]) + " and " + parts[-1] if len(parts) > 1 else parts[0]
        return f"{self.folder} has {listed}, which {'is' if self.total == 1 else 'are'} not read"

    @property
    def total(self) -> int:
        return self.in_sub_folders + self.links + self.hidden


def _photos_below(folder: Path, every: bool = False) -> int:
    """Photos in `folder` and below it, no link followed (`every`: in hidden sub-folders too, as
    in a hidden folder all are unread); a folder that cannot be read counts none (this is a note,
    not the listing that trains)."""
    n = 0
    for directory, subdirs, names in os.walk(folder):
        subdirs[:] = [d for d in subdirs if every or entered(d)]
        n += sum(1 for name in names if is_image_name(name) and not os.path.islink(os.path.join(directory, name)))
    return n


def _is_hidden_photo(name: str) -> bool:
    """`.x.jpg`; not `._x.jpg`, macOS's resource fork of x.jpg, no photo."""
    return name.startswith(".") and not name.startswith("._") and is_image_name(name.lstrip("."))


def not_read_in(folder: Path, non_pets: bool = False) -> NotRead | None:
    """What `folder` (a Cat/ or Dog/, or `non_pets` a folder of non-pets) holds that is not read,
    or None. In a folder of non-pets the sub-folders the walk enters are looked into as it does."""
    in_sub_folders, sub_folders, links, hidden = 0, [], 0, 0
    below = [folder]
    while below:
        directory = below.pop(0)
        try:
            entries = sorted(os.scandir(directory), key=lambda e: e.name)
        except OSError:
            continue
        for entry in entries:
            if entry.is_symlink():
                links += is_image_name(entry.name)
            elif entry.is_dir():
                if non_pets and entered(entry.name):  # read: looked into as the walk reads it
                    below.append(Path(entry.path))
                elif entered(entry.name) != non_pets:  # Cat/2019/; of non-pets, Other/.cache/ and @eaDir/
                    n = _photos_below(Path(entry.path), every=non_pets)
                    if n:
                        in_sub_folders += n
                        sub_folders.append(os.path.relpath(entry.path, folder))
            elif _is_hidden_photo(entry.name):
                hidden += 1
    found = NotRead(str(folder), in_sub_folders, tuple(sub_folders), links, hidden, non_pets)
    return found if found.total else None


def not_read(folders: list[Path], non_pets: tuple[Path, ...] = ()) -> list[NotRead]:
    """What each of `folders` (Cat/ and Dog/) and `non_pets` (Other/, --other, --holdout) holds
    that is not read, for those that hold any."""
    return [found for folder, is_other in [*((f, False) for f in folders), *((f, True) for f in non_pets)]
            if (found := not_read_in(folder, is_other)) is not None]


def not_read_line(found: list[NotRead]) -> str:
    """One line for all of them: what a run that goes on says."""
    rule = ("only the photos at the top of Cat/ and Dog/ are read" if not any(f.non_pets for f in found) else
            "only the photos at the top of Cat/ and Dog/ are read, and of the non-pets those in sub-folders too, "
            "but never a hidden one nor one behind a link")
    return "; ".join(f.said() for f in found) + f" ({rule})"
