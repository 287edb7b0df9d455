"""Videos judged on their own beside a photo of their stem (`IMG_1.MOV` beside both
`IMG_1.HEIC` and `IMG_1.JPG`, which no photo takes: `companions.goes_with_a_photo`): which
entries a sort judges (`judged`), and those it left in place, which no photo planned later
takes along (`LeftAlone`).

A sort plans both photos in one run; a watch plans each batch on its own, so the photo that
comes last (the JPG still being copied) met the video alone beside it, its companion by the
rule, and took it along into its folder over its own verdict (unsure, neither).
"""

from __future__ import annotations

import os
from pathlib import Path

from sorter.files.moves import Judged, judged_as


def judged(entries):
    """The entries to judge: all but a Live Photo's video, which goes with its photo and is
    never judged itself (and, gone by the time it is reached, went with its photo already).
    Checked as each entry is reached, so a photo moved meanwhile is seen gone. A video no
    photo takes (`goes_with_a_photo`: `IMG_1.m4v`, a `.MOV` of two photos' stem) is judged."""
    from sorter.files.companions import goes_with_a_photo
    from sorter.media.folders import Skipped, is_video_name

    for entry in entries:
        if isinstance(entry, Skipped) or not is_video_name(entry.name):
            yield entry
        elif not goes_with_a_photo(entry) and os.path.lexists(entry):
            yield entry


class LeftAlone:
    """The videos judged on their own and left in place while a photo of their stem was beside
    them, each as it was judged (a watch's, for as long as it runs). Only these: a few files in
    a folder, whatever its size. A video changed or replaced since is no longer one of them."""

    def __init__(self) -> None:
        self._videos: dict[Path, Judged] = {}

    def note(self, video: Path, was: Judged | None, left: bool) -> None:
        """`video` was judged as `was`, and `left` in place (or moved)."""
        from sorter.files.companions import beside_a_photo
        from sorter.media.folders import is_video_name

        if left and was is not None and is_video_name(video.name) and beside_a_photo(video):
            self._videos[video] = was
        else:
            self._videos.pop(video, None)

    def holds(self, path: Path) -> bool:
        """`path` is a video left where it was judged alone, unchanged since: no photo takes it."""
        was = self._videos.get(path)
        if was is None:
            return False
        try:
            if judged_as(os.lstat(path)) == was:
                return True
        except OSError:
            pass
        del self._videos[path]
        return False
