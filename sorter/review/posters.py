"""The videos `sorter review` lists, and what it shows of one: its poster (the keyframe nearest
the clip's middle, as the sort's own page shows it) and its length.

A sorted video is a card like a photo's: in cats/, dogs/ or left in place with its verdict from
the journal, the same buttons, and a correction moves it with its own companions (.THM, .LRV,
.SRT, .xmp: `files.companions`). A Live Photo's .MOV is no card of its own: it is its photo's
companion, never judged, and moves with that photo; of a photo sorter moved, only the one the
journal moved with it is (a user's IMG_1.MOV put beside a sorted IMG_1.jpg is a card of its own),
and of another photo only an MP4/QuickTime file, as sort pairs them (`listed`, `companions`).

Reading a video is bounded as reading a photo is: the poster comes through the session's
decode slots (`session.DECODES_AT_ONCE`), from the file opened beneath the folder without
following a link, with the checks and the time limit of `media.videos` (a phone's MP4: one
keyframe read by its index and decoded); its length is read from the MP4 index alone.

A HEIC, HEIF or AVIF photo named .MOV or .mp4 (a tool that saved a Live Photo's still under its
video's name) is no video here either: `sort` left it in place as "not a video: a HEIC photo
named .MOV (rename it .heic to sort it)", and the page shows it as the photo it is (`is_video`).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from sorter.media.folders import is_video_name  # names only: no OpenCV, no numpy

if TYPE_CHECKING:  # the catalog imports this module: listing a folder must not load OpenCV or numpy
    import numpy as np

T = TypeVar("T")


@dataclass(frozen=True)
class Journaled:
    """What the journal says a folder's photos went with: the photos sorter moved and is still where
    it put them, and the companions it moved with them (paths relative to `root`)."""

    root: Path
    photos: frozenset[str] = frozenset()
    companions: frozenset[str] = frozenset()


def listed(path: Path, journaled: Journaled | None = None) -> bool:
    """A file the review lists as a card: a photo, or a video that is no Live Photo's (a video
    that goes with a photo of its stem goes wherever that photo goes: `goes_with_a_photo`). Of a
    photo sorter moved, only the video the journal moved with it is its (`IMG_1.MOV` put beside
    a sorted `IMG_1.jpg` by hand is a card of its own); of another, an MP4/QuickTime video, as sort
    pairs one (`container.inside`)."""
    from sorter.files.companions import goes_with_a_photo

    if not is_video_name(path.name) or not goes_with_a_photo(path):
        return True
    if journaled is None:
        return False
    rel = os.path.relpath(path, journaled.root)
    if rel in journaled.companions:
        return False
    if _photo_of(rel) & journaled.photos:
        return True
    return not _a_video(path)


def companions(root: Path, photo) -> tuple[Path, ...]:
    """What goes with `photo` (a catalog `Photo`) now, shown on its card and moved with it:
    `files.companions`' files, less a video of its stem that is not its (`listed`): of a photo
    sorter moved, one the journal did not move with it (`Photo.moved_with`)."""
    from sorter.files.companions import find_companions

    found = find_companions(root / photo.path)
    if is_video_name(photo.path):
        return found  # a video's companions (.THM, .SRT) are no videos
    moved_with = photo.moved_with
    return tuple(
        c for c in found
        if not _stem_video(c.name) or (os.path.relpath(c, root) in moved_with if moved_with is not None else _a_video(c))
    )


def _stem_video(name: str) -> bool:
    """A video a photo takes by its stem (`IMG_1.MOV`, `IMG_1.mp4`: `companions.STEM_EXTENSIONS`)."""
    from sorter.files.companions import STEM_EXTENSIONS

    return is_video_name(name) and os.path.splitext(name)[1].lower() in STEM_EXTENSIONS


def _a_video(path: Path) -> bool:
    """An MP4/QuickTime container, whole, as sort pairs a video with a photo (`sorting.alone.companion_video`):
    one cut short or still being written is left in place on its own, not moved with the photo."""
    from sorter.media.container import incomplete, inside

    return inside(path) is None and not incomplete(path)


def _photo_of(rel: str) -> set[str]:
    """Every spelling of a photo's path of the video `rel`'s stem (`IMG_1.jpg`, `IMG_1.JPG`, ...)."""
    from sorter.config import IMAGE_EXTENSIONS
    from sorter.files.companions import spellings

    stem = os.path.splitext(rel)[0]
    return {stem + s for ext in IMAGE_EXTENSIONS for s in spellings(ext)}


def is_video(root: Path, rel: str) -> bool:
    """A file the page shows as a video: a video's name, and no photo inside (its `ftyp` box
    read, `container.photo_inside`: 55 µs a file on a local disk, measured on 2,000 clips)."""
    if not is_video_name(os.path.basename(rel)):
        return False
    from sorter.media.container import photo_inside

    return _read_beneath(root, rel, photo_inside) is None


def picture(name: Path, box: tuple[float, float, float, float] | None, size: int, opened: int,
            video: bool) -> np.ndarray:
    """A card's picture (BGR, its longer side at most `size`) of the file `name`, read from
    `opened`, the descriptor the caller checked (never the name opened again): a video's
    poster, a photo cut around its pet (`framing.load_framed`). Raises ImageError."""
    if video:
        from sorter.media.videos import middle_frame

        return middle_frame(name, size, opened)
    from sorter.review import framing

    return framing.load_framed(name, box, size, opened)


def seconds(root: Path, rel: str) -> float | None:
    """A video's length, as its index says (None where it does not: Matroska, WebM, a damaged one)."""
    from sorter.media.container import duration

    return _read_beneath(root, rel, duration)


def _read_beneath(root: Path, rel: str, read: Callable[[str, int], T | None]) -> T | None:
    """`read(name, folder_fd)` of the file `rel`, its folder opened beneath `root` without
    following a link (`moves.open_folder_beneath`); None where that folder will not open."""
    from sorter.files.moves import open_folder_beneath

    folder, name = os.path.split(rel)
    try:
        fd = open_folder_beneath(root, root / folder)
    except OSError:
        return None
    try:
        return read(name, fd)
    finally:
        os.close(fd)
