"""Late companions in `sorter sort`: a Live Photo's `.MOV`, an `.AAE` or an `.xmp` copied into
the folder after an earlier sort (or watch) moved its photo joins the photo where it went,
under its group's name, by the rules a watch joins one by (`latecomers.Latecomers`, loaded
from the journal as a watch loads it when it starts): by the stem only within `STEM_WINDOW`
of the photo's move, by the photo's whole name whenever; not when the photo was undone,
moved on by hand or put back. A file that joins no photo for sure is the sort's as before late
companions joined, as a watch has it: a video (of two photos of its stem, or over 5 s: no Live
Photo's) is judged on its own, an `.AAE` or `.xmp` left alone.

Found while the sort counts the folder (`taking`), so it costs no listing of its own: a
folder without a journal costs nothing more; otherwise a name that could be a companion's
(`could_be_companion`) is looked at only when its photo is not beside it (the `lstat` calls
`companions` makes for it), and the journal is read for `Latecomers` only once such a file
is met, or a `.MOV` or `.MP4` beside a photo where the journal was written within the day:
one of a photo of its stem sorted then is of two photos (the JPG copied in after the HEIC was
sorted), judged on its own.
Memory: the files that join, and `Latecomers`' bound (`LIMIT`).
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

from sorter.files.companions import beside_a_photo, could_be_companion, pairing_stems
from sorter.files.identities import lstat_of
from sorter.files.journal import journal_path
from sorter.media.folders import Skipped, is_image_name, is_video_name
from sorter.sorting.alone import LeftAlone, a_photos_video
from sorter.sorting.latecomers import STEM_WINDOW, Filed, Latecomers


class LateCompanions:
    """The companions of photos sorted before that a sort meets, and where each goes."""

    def __init__(self, root: Path, state, back, alone: LeftAlone) -> None:
        """`state`: the journal as the sort's recovery left it (`journal.scan`); `back`: its
        photos put back (`put_backs.put_back`), which `Latecomers` needs and the sort has read;
        `alone`: the sort's videos judged on their own beside a photo, to hold those of two."""
        self.root = root
        self._alone = alone
        self._state = state
        self._back = back
        self._latecomers: Latecomers | None = None
        self._lately: bool | None = None  # `_moved_lately`, once looked at
        #: Each companion that joins -> (its photo's `Filed`, where it goes).
        self.found: dict[Path, tuple[Filed, Path]] = {}

    def taking(self, scan: Callable[[Callable[[str], bool]], Iterable]) -> Iterator:
        """What `scan(also)` (`folders.scan_folder`, names that `also` accepts listed too) finds
        with companions' names, less those that join a photo sorted before (into `found`) and
        the other files that are no photo or video."""
        for entry in scan(could_be_companion):
            name = entry.path.name if isinstance(entry, Skipped) else entry.name
            media = is_image_name(name) or is_video_name(name)
            if isinstance(entry, Skipped):
                if media or not could_be_companion(name):  # a link named IMG_1.AAE: the sort never sees it
                    yield entry
            elif is_image_name(name) or (self._left(entry) and media):
                yield entry

    def _left(self, path: Path) -> bool:
        """`path` is the sort's as before: no companion of a photo sorted before (which joins
        it: `found`). Where it cannot join one for sure (`Latecomers.destination`), a video is
        judged on its own, as a watch judges it: never left out of the sort and its counts."""
        if not self._state.runs or not could_be_companion(path.name):
            return True
        if self._back.was(path, lstat_of(path)) is not None:
            return True  # taken back out of dogs/ by the user: put back (said so, a video), no late companion
        if _photo_beside(path):
            if a_photos_video(path.name) and self._moved_lately() and self._loaded().of_a_photo_moved(path):
                self._alone.hold(path)  # of that photo and of this one: judged on its own
            return True
        found = self._loaded().destination(path)
        if found is not None:
            self.found[path] = found
        return found is None

    def _moved_lately(self) -> bool:
        """The journal was written within `STEM_WINDOW`: a photo may have moved lately. One `stat`,
        so a Live Photo beside its photo costs a folder sorted days ago no read of its journal
        (90 ms for 2,000 moves)."""
        if self._lately is None:
            try:
                self._lately = time.time() - os.stat(journal_path(self.root)).st_mtime <= STEM_WINDOW
            except OSError:
                self._lately = True  # let the journal's reading say
        return self._lately

    def _loaded(self) -> Latecomers:
        if self._latecomers is None:
            self._latecomers = Latecomers()
            self._latecomers.load(self.root, self._state, self._back)
        return self._latecomers

    def without(self, entries) -> Iterator:
        """`entries` less those that join a photo (in a dry run they are still there)."""
        return (entry for entry in entries if entry not in self.found)

    def late(self) -> list[tuple[Path, Filed, Path]]:
        """(path, its photo's `Filed`, destination) of each, as `Sorter.join` takes them."""
        return [(path, photo, destination) for path, (photo, destination) in self.found.items()]


def _photo_beside(path: Path) -> bool:
    """A photo `path` may be the companion of is beside it: it goes with that photo (or stays
    with it), as a sort always had it. By the stem (`beside_a_photo`), or by a whole name
    (`IMG_1.HEIC` beside `IMG_1.HEIC.xmp`)."""
    return beside_a_photo(path) or any(os.path.lexists(path.with_name(stem)) for stem in pairing_stems(path.name)[1:])
