"""The videos `sorter review` lists, and what it shows of one: its poster (the keyframe nearest
the clip's middle, as the sort's own page shows it) and its length.

A sorted video is a card like a photo's: in cats/, dogs/ or left in place with its verdict from
the journal, the same buttons, and a correction moves it with its own companions (.THM, .LRV,
.SRT, .xmp: `files.companions`). A Live Photo's .MOV is no card of its own: it is its photo's
companion, never judged, and moves with that photo.

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
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from sorter.media.folders import is_video_name  # names only: no OpenCV, no numpy

if TYPE_CHECKING:  # the catalog imports this module: listing a folder must not load OpenCV or numpy
    import numpy as np

T = TypeVar("T")


def listed(path: Path) -> bool:
    """A file the review lists as a card: a photo, or a video that is no Live Photo's (a video
    that goes with a photo of its stem goes wherever that photo goes: `goes_with_a_photo`)."""
    from sorter.files.companions import goes_with_a_photo

    return not is_video_name(path.name) or not goes_with_a_photo(path)


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
