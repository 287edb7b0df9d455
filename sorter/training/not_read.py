"""Photos in Cat/ and Dog/ that `train` and `evaluate` do not read, said instead of passed over
without a word: those in sub-folders (`Cat/2019/`), those behind a symbolic link, and hidden
ones (`.x.jpg`). Only the photos at the top of a pet folder are read: the split that
`evaluate --split validation` draws again is made from that listing, so reading more now would
move every model's split. Counting them costs a walk of the sub-folders (no link followed, so
no loop), made only where a pet folder has one."""

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


def _photos_below(folder: Path) -> int:
    """Photos in `folder` and below it, no link followed; a folder that cannot be read counts none
    (this is a note, not the listing that trains)."""
    n = 0
    for directory, subdirs, names in os.walk(folder):
        subdirs[:] = [d for d in subdirs if entered(d)]
        n += sum(1 for name in names if is_image_name(name) and not os.path.islink(os.path.join(directory, name)))
    return n


def not_read_in(folder: Path) -> NotRead | None:
    """What `folder` (a Cat/ or Dog/) holds that is not read, or None."""
    in_sub_folders, sub_folders, links, hidden = 0, [], 0, 0
    try:
        entries = sorted(os.scandir(folder), key=lambda e: e.name)
    except OSError:
        return None
    for entry in entries:
        if entry.is_symlink():
            links += is_image_name(entry.name)
        elif entry.is_dir():
            if entered(entry.name):  # not a hidden one, nor a NAS's thumbnails (@eaDir)
                n = _photos_below(Path(entry.path))
                if n:
                    in_sub_folders += n
                    sub_folders.append(entry.name)
        elif entry.name.startswith(".") and not entry.name.startswith("._") and is_image_name(entry.name.lstrip(".")):
            hidden += 1  # `._x.jpg` is macOS's resource fork of x.jpg, no photo
    found = NotRead(str(folder), in_sub_folders, tuple(sub_folders), links, hidden)
    return found if found.total else None


def not_read(folders: list[Path]) -> list[NotRead]:
    """What each of `folders` holds that is not read, for those that hold any."""
    return [found for folder in folders if (found := not_read_in(folder)) is not None]


def not_read_line(found: list[NotRead]) -> str:
    """One line for all of them: what a run that goes on says."""
    return "; ".join(f.said() for f in found) + " (only the photos at the top of Cat/ and Dog/ are read)"
