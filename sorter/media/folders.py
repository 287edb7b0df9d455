"""A folder's entries as sort, watch, learn and the review page see them: which are photos and
videos to look at, and which folders a recursive look never enters (sorter's own output, hidden
and system folders, another app's photo library, another sorted folder). Names and `lstat`
only: nothing here opens a file."""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from sorter.config import (  # excluded_by_case: the files wing needs it too
    IMAGE_EXTENSIONS,
    JOURNAL_NAME,
    STATE_DIR,
    TEMPORARY_SUFFIXES,
    VIDEO_EXTENSIONS,
    entered,
    excluded_by_case,
    library_of,
)


def is_image_name(name: str) -> bool:
    """True for names with an image extension (any case) that are not hidden/temporary."""
    if name.startswith("."):
        return False
    suffix = os.path.splitext(name)[1].lower()
    return suffix in IMAGE_EXTENSIONS and suffix not in TEMPORARY_SUFFIXES


def is_video_name(name: str) -> bool:
    """A name sort and watch take for a video (the container is checked when it is read)."""
    return not name.startswith(".") and os.path.splitext(name)[1].lower() in VIDEO_EXTENSIONS


#: A sub-folder with a `.sorter/` of its own: sorted (or watched) on its own; a recursive sort
#: above it moved its cats/ and dogs/ out from under its journal.
SORTED_ON_ITS_OWN = "sorted on its own (it has a .sorter/ journal), not entered"


def sorted_on_its_own(folder: Path) -> bool:
    """`folder` has a journal of its own (a `.sorter/` alone is a review's or a watcher's that
    never moved a photo: a folder like any other)."""
    try:
        return stat.S_ISREG(os.lstat(folder / STATE_DIR / JOURNAL_NAME).st_mode)
    except OSError:
        return False


#: Folders of software, not photos, that a recursive look does not enter: their images are the
#: software's (a package's icons, a project's test pictures), and moved, the software breaks. By
#: name, what a package manager or Python makes, as it spells it:
SOFTWARE_NAMES: dict[str, str] = {
    "node_modules": "JavaScript packages", "site-packages": "Python packages",
    "__pycache__": "Python's compiled files",
}
#: ... and by a name it holds (an `lstat` each): a Python virtual environment, and a source
#: checkout (`.git`, a folder, or a file in a worktree or submodule). The folder sorted itself is
#: never judged so (a home folder under git for its dotfiles is sorted as any other).
SOFTWARE_MARKERS: dict[str, str] = {
    "pyvenv.cfg": "a Python virtual environment (it has pyvenv.cfg)", ".git": "a source checkout (it has .git)",
}


def software_of(folder: Path) -> str | None:
    """Why the sub-folder `folder` holds software, not photos (see SOFTWARE_NAMES), or None."""
    if folder.name in SOFTWARE_NAMES:
        return f"{SOFTWARE_NAMES[folder.name]} ({folder.name})"
    for marker, what in SOFTWARE_MARKERS.items():
        try:
            os.lstat(folder / marker)
            return what
        except OSError:
            continue
    return None


def kept_apart(folder: Path) -> str | None:
    """Why a recursive look does not enter the sub-folder `folder` (which `entered` lets by), or None."""
    if sorted_on_its_own(folder):
        return SORTED_ON_ITS_OWN
    software = software_of(folder)
    return None if software is None else f"software, not photos, not entered: {software}"


#: A symbolic link to a folder, which a recursive look reports as it reports the folders it does
#: not enter (a link followed would sort photos that live elsewhere, and a link to `..` loops).
FOLDER_LINK = "symbolic link to a folder, not followed"


@dataclass
class Passed:
    """What a scan passed by besides photos, for `sort`'s line of a folder without one: whether a
    file of another kind (a note, a PDF, a link that is no photo's; not a hidden one), said left
    alone only where some are; and whether a recursive scan entered a sub-folder (a link to a
    folder alone, not followed, is none entered: "no photos in it", not "in the sub-folders it
    entered")."""

    others: bool = False
    entered: bool = False


@dataclass(frozen=True)
class Skipped:
    path: Path
    reason: str
    folder: bool = False  # a sub-folder not entered (said once by a watch), not a file left in place


@dataclass
class NotEntered:
    """The sub-folders a scan without `recursive` passed by that a recursive one would enter
    (not hidden, a system's, a library, nor sorted on its own) and find a photo or video in: how
    many, and the first NAMED names. Filled as the scan's one listing goes by (`scan_folder(...,
    not_entered=)`), so that `sort` can say what it did not look into without listing the folder
    again. An empty sub-folder, or one of notes, hidden files and empty folders only, was named
    too ("--recursive sorts them too"), where --recursive sorts nothing; so was one it cannot
    list or enter (mode 000, no search permission), which --recursive says it cannot list, or
    whose photos it cannot open."""

    NAMED = 3
    #: Entries listed, in all, to tell whether the sub-folders passed by hold a photo: each is
    #: looked into until its first (one entry, mostly), and a tree without one to its end. Past
    #: this, a sub-folder is named without a look, as all were. 10,000 entries: 4 ms on a local
    #: disk (100 folders of 100 notes each), a fraction of what loading the model takes.
    LOOKS = 10_000
    count: int = 0
    names: list[str] = field(default_factory=list)
    looks: int = field(default_factory=lambda: NotEntered.LOOKS)  # left to list

    def add(self, name: str) -> None:
        """Counted; named if among the NAMED first by name (as `ls` shows them), not the first
        listed: the folder's own order named b/, c/, nested/ and left a/ out."""
        self.count += 1
        self.names.append(name)
        self.names.sort()
        del self.names[self.NAMED:]

    def passed(self, folder: Path, videos: bool) -> None:
        """`folder` passed by: counted if it holds a photo (a video, with `videos`) that a recursive
        scan would find and could open, or cannot be told cheaply (`looks` spent)."""
        if self._holds_a_photo(folder, videos):
            self.add(folder.name)

    def _holds_a_photo(self, folder: Path, videos: bool) -> bool:
        folders = [folder]
        while folders:
            try:
                with os.scandir(folders.pop()) as listing:
                    for entry in listing:
                        if self.looks <= 0:
                            return True
                        self.looks -= 1
                        if entry.is_dir(follow_symlinks=False):
                            if entered(entry.name) and kept_apart(Path(entry.path)) is None:
                                folders.append(Path(entry.path))
                        elif (is_image_name(entry.name) or (videos and is_video_name(entry.name))) and (
                                entry.is_file(follow_symlinks=False)):
                            # Listed is not entered: of a folder without search (x) permission
                            # the names come, the files do not open. An `lstat`, the first photo's only.
                            entry.stat(follow_symlinks=False)
                            return True
            except OSError:  # a folder that cannot be listed or entered: --recursive cannot sort it either
                continue
        return False


#: Folders entered by a recursive scan, by (st_dev, st_ino): the path each was first entered by.
Visited = dict[tuple[int, int], Path]


#: The longest path the system takes (Linux: 4096 bytes, the final NUL counted).
PATH_MAX = os.pathconf("/", "PC_PATH_MAX") if hasattr(os, "pathconf") else 4096


def cannot_list(exc: OSError) -> str:
    """Why a folder could not be listed, in words: a path too long is said as one, not as the
    system's "File name too long" (no name in it is)."""
    if exc.errno == errno.ENAMETOOLONG:
        return f"cannot list folder: its path is longer than the system allows ({PATH_MAX} bytes)"
    return f"cannot list folder: {exc.strerror or exc}"


def cannot_enter(folder: Path) -> str | None:
    """Why the folder `folder`, listed, cannot be entered (read, no search permission: `chmod
    644`), or None: its names are listed, but none of its files opens, and each of its photos
    was said `unreadable | cannot open: Permission denied`. One `stat` of `folder/.` a sub-folder."""
    try:
        os.stat(os.path.join(folder, "."))  # pathlib would drop the "."
    except OSError as exc:
        return f"cannot enter folder: {exc.strerror or exc}"
    return None


def same_folder(path: Path, root: Path, visited: Visited) -> str | None:
    """Why the sub-folder `path` is not entered: it is a folder entered already, the root or an
    ancestor included, seen again by another path (a bind mount of the tree inside itself, a
    second mount of one disk), whose photos would be seen twice, and moved across mount points
    by the second path (a copy, which undo puts back by that path). Else None, and it is noted
    as visited. An `lstat` a sub-folder (a mount point's is the mounted folder's)."""
    try:
        info = os.lstat(path)
    except OSError:
        return None  # gone, or not to be looked at: its listing says which
    if info.st_ino == 0:  # a filesystem that numbers no folder: nothing to tell them apart by
        return None
    first = visited.setdefault((info.st_dev, info.st_ino), path)
    return None if first == path else f"the same folder as {os.path.relpath(first, root)} (a bind mount)"


def scan_folder(
    root: Path, *, recursive: bool = False, exclude: frozenset[str] = frozenset(), videos: bool = False,
    also: Callable[[str], bool] | None = None, not_entered: NotEntered | None = None,
    others: Passed | None = None, at_work: Callable[[Path], str | None] | None = None,
) -> Iterator[Path | Skipped]:
    """Yield image paths (and video paths, with `videos`: sort and watch; other names that `also`
    accepts: watch, for companions that come after their photo) under `root` as the
    filesystem lists them (no sorting: a folder of a million names is never held in memory),
    and `Skipped` for entries that look like images but must not be touched (symlinks, FIFOs,
    devices).

    Never follows symlinks, never opens a file. Top-level names in `exclude` (the output
    folders, `.sorter`) are not entered. Files may be moved out of a folder while it is
    listed (that is what sorting does): POSIX still lists every other entry exactly once.
    `not_entered`: without `recursive`, counts the sub-folders it did not look into that hold a
    photo (an `lstat` each, for a journal of its own, and a listing until their first photo:
    `NotEntered.passed`). `others`: notes whether it passed by a file of another kind, or entered a sub-folder.
    With `recursive`, a symbolic link to a folder is `Skipped` as a folder (`FOLDER_LINK`): a
    `stat` of each link that is not named as a photo, the one look past a link; so is a folder
    that cannot be listed or entered (`cannot_enter`), and one entered already by another path (`same_folder`): each
    folder is entered once. `at_work`: why a sub-folder is not entered because another sorter is at
    work on it, or None (passed in by the sorting wing, whose files wing knows the locks: this wing
    may not import it); a sort of the sub-folder loading its model has no journal yet, and the two
    judged the same photos (`vanished`).
    """
    visited: Visited = {}
    if recursive:
        try:
            info = os.stat(root)
            visited[(info.st_dev, info.st_ino)] = root
        except OSError:
            pass  # its listing says why
    yield from _scan(root, root, recursive=recursive, exclude=exclude, videos=videos, also=also,
                     not_entered=not_entered, others=others, visited=visited, at_work=at_work)


def _scan(
    folder: Path, root: Path, *, recursive: bool, exclude: frozenset[str], videos: bool,
    also: Callable[[str], bool] | None, not_entered: NotEntered | None, others: Passed | None, visited: Visited,
    at_work: Callable[[Path], str | None] | None = None,
) -> Iterator[Path | Skipped]:
    """`scan_folder` of `folder`, a folder under `root` (or `root` itself), noting in `visited` the folders it enters."""
    def wanted(name: str) -> bool:
        return (is_image_name(name) or (videos and is_video_name(name))
                or (also is not None and also(name)))

    try:
        listing = os.scandir(folder)
    except OSError as exc:
        yield Skipped(folder, cannot_list(exc), folder=True)
        return
    if folder != root and (refused := cannot_enter(folder)) is not None:
        listing.close()
        yield Skipped(folder, refused, folder=True)
        return
    with listing:
        for entry in listing:
            if entry.name in exclude or excluded_by_case(folder, entry.name, exclude):
                continue
            path = Path(entry.path)
            try:
                if others is not None and not others.others and not entry.name.startswith(".") and not (
                        is_image_name(entry.name) or is_video_name(entry.name)) and not entry.is_dir():
                    others.others = True  # is_dir follows a link: a link to a folder is no file
                if entry.is_symlink():
                    if wanted(entry.name):
                        yield Skipped(path, "symbolic link, not followed")
                    elif recursive and entered(entry.name) and entry.is_dir():  # follows the link, opens nothing
                        yield Skipped(path, FOLDER_LINK, folder=True)
                    continue
                if entry.is_dir(follow_symlinks=False):
                    library = library_of(entry.name) if recursive else None
                    if library is not None:  # its photos are that app's to move: said once, not entered
                        yield Skipped(path, f"another app's library, not entered: {library}", folder=True)
                    elif recursive and entered(entry.name):
                        if (apart := kept_apart(path) or (at_work is not None and at_work(path))
                                or same_folder(path, root, visited)) is not None:
                            yield Skipped(path, apart, folder=True)
                        else:
                            if others is not None:
                                others.entered = True
                            yield from _scan(path, root, recursive=True, exclude=frozenset(), videos=videos,
                                             also=also, not_entered=None, others=others, visited=visited,
                                             at_work=at_work)
                    elif not recursive and not_entered is not None and entered(entry.name) and (
                            kept_apart(path) is None):
                        not_entered.passed(path, videos)
                    continue
                if not wanted(entry.name):
                    continue
                if not entry.is_file(follow_symlinks=False):
                    yield Skipped(path, "not a regular file")
                    continue
            except OSError as exc:  # vanished or unreadable while listing
                yield Skipped(path, f"cannot inspect: {exc.strerror or exc}")
                continue
            yield path
