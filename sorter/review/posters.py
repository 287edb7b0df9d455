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
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

from sorter.media.folders import is_video_name  # names only: no OpenCV, no numpy

if TYPE_CHECKING:  # the catalog imports this module: listing a folder must not load OpenCV or numpy
    import numpy as np


def listed(path: Path) -> bool:
    """A file the review lists as a card: a photo, or a video that is no Live Photo's (a video
    beside a photo of its stem goes wherever that photo goes)."""
    from sorter.files.companions import beside_a_photo

    return not is_video_name(path.name) or not beside_a_photo(path)


def picture(name: Path, box: tuple[float, float, float, float] | None, size: int, dir_fd: int) -> np.ndarray:
    """A card's picture (BGR, its longer side at most `size`) of the file `name` in the folder
    `dir_fd`: a video's poster, a photo cut around its pet (`framing.load_framed`). Raises
    ImageError."""
    if is_video_name(name.name):
        from sorter.media.videos import middle_frame

        return middle_frame(name, size, dir_fd)
    from sorter.review import framing

    return framing.load_framed(name, box, size, dir_fd=dir_fd)


def about(root: Path, rel: str) -> dict:
    """What a card says of its file besides the photo's words: whether it is a video, and
    its length in seconds (None for a photo, or a video whose index does not say: Matroska,
    WebM, a damaged one)."""
    if not is_video_name(os.path.basename(rel)):
        return {"video": False, "seconds": None}
    from sorter.files.moves import open_folder_beneath
    from sorter.media.container import duration

    folder, name = os.path.split(rel)
    try:
        fd = open_folder_beneath(root, root / folder)
    except OSError:
        return {"video": True, "seconds": None}
    try:
        return {"video": True, "seconds": duration(name, fd)}
    finally:
        os.close(fd)
