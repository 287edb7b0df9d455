"""Videos judged on their own beside a photo of their stem (`IMG_1.MOV` beside both
`IMG_1.HEIC` and `IMG_1.JPG`, which no photo takes: `companions.goes_with_a_photo`): which
entries a sort judges (`judged`), and those it left in place, which no photo planned later
takes along (`LeftAlone`).

A sort plans both photos in one run; a watch plans each batch on its own, so the photo that
comes last (the JPG still being copied) met the video alone beside it, its companion by the
rule, and took it along into its folder over its own verdict (unsure, neither).

Nor does a video judged on its own and left in place before a photo of its stem came (`clip.MOV`
alone, unsure; `clip.jpg` copied in later): it is no Live Photo's video of that photo, which had
taken it along over its own verdict. A sort or watch of that run holds it as it was judged
(`LeftAlone.note`); a later one, by its "seen" record (`LeftInPlace`), unchanged since.

A HEIC photo named `.MOV` (a tool that saved a Live Photo's still under its video's name) is a
photo, no video: judged on its own, a second photo of its stem (`companion_video`,
`apart_from_photos`); so is a JPEG or PNG photo so named. Nor is any other file that is no
MP4/QuickTime container (empty, unrecognised data), nor one whose container is not whole (still
being written, or cut short), a photo's video: judged on its own, it is left in place with its
reason, and the photo goes without it; once whole it joins the photo (`latecomers`).

Nor does a companion the user put back (`LeftAlone.put_back`: a video sorter moved, taken back out
of dogs/ by hand): the user's word, left where it is, as a photo put back is, whatever photo of its
stem comes later.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from pathlib import Path

from sorter.config import IMAGE_EXTENSIONS, VIDEO_EXTENSIONS
from sorter.files.companions import STEM_EXTENSIONS, beside_a_photo, goes_with_a_photo, regular_file, spellings
from sorter.files.moves import Judged, judged_as
from sorter.media.folders import Skipped, is_video_name
from sorter.sorting.left_before import KEPT

#: The videos a photo takes by its stem: a Live Photo's .MOV, .MP4.
_PAIRED_VIDEOS = tuple(ext for ext in STEM_EXTENSIONS if ext in VIDEO_EXTENSIONS)


def companion_video(path: Path, inside=None) -> bool:
    """`path` is a photo's video (a Live Photo's .MOV beside its one photo: `goes_with_a_photo`),
    which goes with the photo, never judged nor counted on its own; an MP4/QuickTime container,
    not a photo named .MOV (HEIC, JPEG, ...), which is a photo itself, nor an empty file or other
    data (`container.inside`, or `inside`, its answers kept: `LeftAlone.inside`; one small read,
    for such a video only), nor one whose container is not whole (`container.incomplete`: cut short,
    or still being written). Such a file had gone along with the photo, unjudged."""
    from sorter.media import container

    return goes_with_a_photo(path) and (inside or container.inside)(path) is None and not container.incomplete(path)


def judged(entries, left_alone: LeftAlone | None = None):
    """The entries to judge: all but a Live Photo's video, which goes with its photo and is
    never judged itself (and, gone by the time it is reached, went with its photo already).
    Checked as each entry is reached, so a photo moved meanwhile is seen gone. A video no
    photo takes (`companion_video`: `IMG_1.m4v`, a `.MOV` of two photos' stem, a HEIC photo
    named .MOV) is judged, and so is one `left_alone` holds beside the one photo left of two."""
    inside = None if left_alone is None else left_alone.inside
    for entry in entries:
        if isinstance(entry, Skipped) or not is_video_name(entry.name):
            yield entry
        elif ((not companion_video(entry, inside) or (left_alone is not None and left_alone.holds(entry)))
              and os.path.lexists(entry)):
            yield entry


def a_photos_video(name: str) -> bool:
    """`name` is one a photo takes as its video by the stem (`IMG_1.MOV`, `IMG_1.mp4`)."""
    return os.path.splitext(name)[1].lower() in _PAIRED_VIDEOS


def apart_from_photos(photo: Path, companions: tuple[Path, ...], inside=None) -> tuple[Path, ...]:
    """`companions` of `photo` less those by its stem where one of them is a photo named .MOV
    (a HEIC, a JPEG: `container.photo_inside`): a second photo of its stem, judged on its own, so
    the rest (`IMG_1.AAE`) belong to neither for sure (`companions`' rule); and less a .MOV or
    .MP4 that is no MP4/QuickTime container (empty, other data: `container.inside`), judged on its
    own too, and no photo; and less one whose container is not whole (`container.incomplete`), still
    being written or cut short: judged on its own, said truncated, left in place (taken along, a
    writer that reopens it for each piece made a new file of the rest in its place: two broken
    halves). Each was carried along unjudged as the photo's video. One small read
    for each .MOV or .MP4 among them (none where `inside`, `LeftAlone.inside`, read it as it is
    already)."""
    from sorter.media import container

    inside = inside or container.inside
    found = {c: inside(c) for c in companions if a_photos_video(c.name)}
    if any(kind not in (None, container.NOT_MP4) for kind in found.values()):
        whole = photo.name.casefold() + "."
        return tuple(c for c in companions if c.name.casefold().startswith(whole))
    return tuple(c for c in companions if found.get(c) is None and not (c in found and container.incomplete(c)))


class LeftAlone:
    """The videos judged on their own and left in place while a photo of their stem was beside
    them, each as it was judged (a watch's, for as long as it runs), and those a photo of their
    stem moved without, for another beside them (`passed_over`). Only these: a few files in a
    folder, whatever its size. A video changed or replaced since is no longer one of them.
    Also keeps what `container.inside` said of the videos it was asked about (`inside`)."""

    #: `photo_inside` answers kept at most (the oldest dropped first).
    INSIDE_KEPT = 16_384

    def __init__(self, put_back: Callable[[Path], bool] | None = None) -> None:
        self._videos: dict[Path, Judged] = {}
        self._inside: dict[Path, tuple[Judged, str | None]] = {}
        #: Whether a file is one sorter moved that the user put back (a sort's `PutBacks.was`, a
        #: watch's `Latecomers.put_back`): asked only of a photo's companions, an `lstat` each.
        self.put_back = put_back

    def judged_before(self, videos: dict[Path, Judged]) -> None:
        """`videos`, judged on their own and left in place by an earlier sort or watch
        (`LeftInPlace`), as they were: no photo of their stem come since takes one unchanged."""
        for video, was in videos.items():
            self._videos.setdefault(video, was)

    def photo_inside(self, path: Path) -> str | None:
        """`container.photo_inside(path)`, as `inside` keeps it."""
        from sorter.media.container import NOT_MP4

        found = self.inside(path)
        return None if found == NOT_MP4 else found

    def inside(self, path: Path) -> str | None:
        """`container.inside(path)`, read once for the file as it is (one `lstat` after): a Live
        Photo's .MOV was opened and read by the sort's count, by its sort, and again as its
        photo's companion."""
        from sorter.media.container import inside

        try:
            now = judged_as(os.lstat(path))
        except OSError:
            return inside(path)
        kept = self._inside.get(path)
        if kept is not None and kept[0] == now:
            return kept[1]
        found = inside(path)
        self._inside.pop(path, None)
        if len(self._inside) >= self.INSIDE_KEPT:
            del self._inside[next(iter(self._inside))]
        self._inside[path] = (now, found)
        return found

    def note(self, video: Path, was: Judged | None, left: bool) -> None:
        """`video` was judged as `was`, and `left` in place (or moved)."""
        if left and was is not None and is_video_name(video.name):  # beside a photo of its stem, or before one
            self._videos[video] = was
        else:
            self._videos.pop(video, None)

    def passed_over(self, photo: Path, taken: tuple[Path, ...]) -> None:
        """`photo` moved without a .MOV or .MP4 of its stem beside it (not in `taken`) for the
        other photo of that stem still there (a JPG being copied when the HEIC's batch went):
        the video belongs to neither, and is judged on its own (`judged`) as a sort of the three
        judges it, not taken along by that photo once complete, nor joined to this one
        (`latecomers`). It had joined the HEIC, or gone with the JPG. A few `lstat` calls."""
        stem = os.path.splitext(photo.name)[0]
        for ext in _PAIRED_VIDEOS:
            for video in (photo.with_name(stem + spelling) for spelling in spellings(ext)):
                if video not in taken:
                    self.hold(video)

    def hold(self, video: Path) -> None:
        """`video`, a .MOV or .MP4 of two photos' stem (one beside it, one moved: `passed_over`,
        `Latecomers.of_a_photo_moved`), as it is now: judged on its own, no photo takes it."""
        if a_photos_video(video.name) and (st := regular_file(video)) is not None and beside_a_photo(video):
            self._videos[video] = judged_as(st)

    def holds(self, path: Path) -> bool:
        """`path` is judged on its own, beside a photo of its stem: a video left where it was judged
        alone, unchanged since, or one the user put back (`put_back`) beside a photo that is not
        (a cat `kitty.jpg` copied in beside it: the video is said put back). One put back with its
        photo goes with it, said in the photo's line, as before."""
        if self._left(path):
            return True
        if self.put_back is None or not self.put_back(path):
            return False
        stem = os.path.splitext(path.name)[0]
        return not any(self.put_back(photo) for photo in (path.with_name(stem + spelling) for ext in IMAGE_EXTENSIONS
                                                          for spelling in spellings(ext)) if regular_file(photo))

    def keeps(self, path: Path) -> bool:
        """No photo takes `path` along: a video left where it was judged alone, unchanged since, or a
        companion the user put back (whatever photo is beside it)."""
        return self._left(path) or (self.put_back is not None and self.put_back(path))

    def _left(self, path: Path) -> bool:
        """`path` is a video left where it was judged alone, unchanged since."""
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


class LeftInPlace:
    """The videos whose latest "seen" record (`journal.Seen`) left them in place, judged on their
    own (neither, unsure, unreadable), as they were then (`LeftAlone.judged_before`): fed the
    "seen" records in journal order by the pass a sort makes anyway for the photos put back
    (`put_backs.put_back`'s `reader`, a `SeenReader`), which parses only a video's (`wants`), so
    a sort reads the journal once. A second pass read them all at the first Live Photo's video the sort met: 1.9-2.3 s
    CPU at 200,000 moves on top of the put-backs' 2.2-2.8 s (benchmarks/journal_size.py's journal),
    where the one pass takes 2.5-2.9 s."""

    #: A video's name closing a string of the line: every video's "seen" record has one (its
    #: path), and few others do. Its extension is ASCII, never escaped by JSON.
    _A_VIDEO = re.compile(rb"\.(?:" + b"|".join(re.escape(ext[1:].encode()) for ext in sorted(VIDEO_EXTENSIONS))
                          + rb')"', re.IGNORECASE)

    def __init__(self) -> None:
        self._videos: dict[Path, Judged] = {}  # relative paths, as `Path`s: spelt as the folder's files are

    @classmethod
    def wants(cls, line: bytes) -> bool:
        """The journal's `line` may be a video's record: those of no video's are not parsed for it."""
        return cls._A_VIDEO.search(line) is not None

    def take(self, seen) -> None:
        """A "seen" record, in journal order; only a video's counts (others hold none to forget)."""
        if seen.status in KEPT and seen.mtime_ns is not None and is_video_name(seen.path):
            self._videos[Path(seen.path)] = (*seen.identity, seen.mtime_ns)
        else:
            self._videos.pop(Path(seen.path), None)

    def videos(self, root: Path) -> dict[Path, Judged]:
        return {root / path: was for path, was in self._videos.items()}
