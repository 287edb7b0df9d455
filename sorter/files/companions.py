"""Files that belong with a photo and move with it: a Live Photo's video (`IMG_1234.MOV`
beside `IMG_1234.HEIC`), Apple's edits (`IMG_1234.AAE`), the sidecars of Lightroom,
darktable and digiKam (`IMG_1234.xmp`, `IMG_1234.HEIC.xmp`), Google Takeout's metadata
(`IMG_1234.jpg.json`) and a camera's raw file (`IMG_1234.CR2` beside `IMG_1234.JPG`), with
the sidecar named after it (`IMG_1234.CR2.xmp`).

Found by looking up each candidate name beside the photo (a few `lstat` calls), never by
listing the folder, so the cost per photo is the same in a folder of ten files or of a
million. A companion named by the stem alone (`IMG_1234.MOV`) belongs to a photo only when
no other photo shares that stem: with `IMG_1234.HEIC` and `IMG_1234.JPG` side by side,
which one the video belongs to is a guess, so neither takes it: the sort judges it as the
video it is (`goes_with_a_photo`), and an `.AAE` or `.xmp` of that stem stays where it is.
"""

from __future__ import annotations

import os
import stat
import threading
from pathlib import Path

from sorter.config import IMAGE_EXTENSIONS, VIDEO_EXTENSIONS

#: Companions that share the photo's stem: IMG_1234.HEIC -> IMG_1234.MOV.
STEM_EXTENSIONS = (
    ".mov", ".mp4", ".aae", ".xmp",
    ".dng", ".cr2", ".cr3", ".nef", ".arw", ".raf", ".orf", ".rw2",
)
#: Companions that share a video's stem: an action camera's thumbnail and low-resolution copy
#: (.THM, .LRV), a drone's subtitles of its flight data (.SRT), a sidecar.
VIDEO_STEM_EXTENSIONS = (".thm", ".lrv", ".srt", ".xmp")
#: Companions named after the photo's whole name: IMG_1234.HEIC -> IMG_1234.HEIC.xmp.
NAME_SUFFIXES = (".xmp", ".json", ".supplemental-metadata.json")


def spellings(suffix: str) -> list[str]:
    # Cameras write upper case, most tools lower case, and a file renamed by hand or by some
    # phones' apps often has `.Jpg` or `.Mov`; other mixtures are too rare to probe. (The
    # watcher folds the case of a late companion, so what sort pairs it pairs too.)
    return list(dict.fromkeys((suffix, suffix.upper(), suffix[:2].upper() + suffix[2:])))


def regular_file(path: str | os.PathLike) -> os.stat_result | None:
    """What `lstat` says of `path` when it is a regular file (never a link, a FIFO or a folder)."""
    try:
        info = os.lstat(path)
    except OSError:
        return None
    return info if stat.S_ISREG(info.st_mode) else None


# Names are joined as strings, not `Path.with_name`: a photo costs about 45 look-ups, and
# building Path objects for them took a quarter of the time (0.29 -> 0.22 ms a photo; the
# lstat calls are the rest).

def _one_file(folder: str, name: str, info: os.stat_result, other: str, other_info: os.stat_result) -> bool:
    """Two spellings of one file's name in `folder`. On a case-insensitive filesystem `IMG_1.jpg`
    opens the photo `IMG_1.JPG`: the kernel's exFAT gives both one inode, but exfat-fuse (as every
    FUSE driver) gives each spelling its own, so names that differ in case only and a file of
    one size and times are one file there, if a third spelling opens it too (one more `lstat`).
    On a case-sensitive disk two such files are two (`IMG_1.xmp` and `IMG_1.XMP` written in one
    clock tick): taken for one, one of them was left behind and the other's name given to both."""
    if (info.st_dev, info.st_ino) == (other_info.st_dev, other_info.st_ino):
        return True
    if name.casefold() != other.casefold() or _times(info) != _times(other_info):
        return False
    third = _third_spelling(name, other)
    found = None if third is None else regular_file(os.path.join(folder, third))
    return found is not None and _times(found) == _times(info)


def _third_spelling(name: str, other: str) -> str | None:
    """A spelling of `name` that is neither it nor `other` (one letter's case changed), if any."""
    flipped = (name[:i] + name[i].swapcase() + name[i + 1:] for i in range(len(name)) if name[i].swapcase() != name[i])
    return next((spelt for spelt in flipped if spelt != other), None)


def _times(info: os.stat_result) -> tuple[int, int, int]:
    return info.st_size, info.st_mtime_ns, info.st_ctime_ns


def named_after(path: Path, name: str) -> bool:
    """`path` is a companion named after the whole name `name` (`IMG_1.JPG` -> `IMG_1.JPG.xmp`)
    as a look-up beside the photo finds it (`find_companions`): by that name, or, on a
    case-insensitive filesystem, in another case, which the look-up opens (`_one_file`):
    `IMG_1.jpg.xmp` beside `IMG_1.JPG` on an SD card."""
    if path.name.startswith(name):
        return True
    if not path.name.casefold().startswith(name.casefold()):
        return False
    looked_up = name + path.name[len(name):]
    info, found = regular_file(path), regular_file(os.path.join(os.path.dirname(path), looked_up))
    return info is not None and found is not None and _one_file(os.path.dirname(path), path.name, info, looked_up, found)


def _shares_stem_with_another(photo: Path, stem: str, extensions) -> bool:
    """Another photo (or video) of `photo`'s stem is beside it. On a case-insensitive
    filesystem (an SD card's exFAT) `IMG_1.jpg` finds the photo `IMG_1.JPG` itself, which is
    no other photo (`_one_file`): every SD card's sidecars and Live Photo videos were left behind."""
    folder = os.path.dirname(photo)
    itself = None
    for ext in sorted(extensions):
        for name in (stem + spelling for spelling in spellings(ext)):
            if name == photo.name or (found := regular_file(os.path.join(folder, name))) is None:
                continue
            itself = itself or regular_file(str(photo))
            if itself is None or not _one_file(folder, photo.name, itself, name, found):
                return True
    return False


def beside_a_photo(path: Path) -> bool:
    """True when a photo with the stem of `path` (a companion's name) is beside it."""
    return _shares_stem_with_another(path, os.path.splitext(path.name)[0], IMAGE_EXTENSIONS)


def goes_with_a_photo(video: Path) -> bool:
    """True when `video` is a photo's companion (a Live Photo's .MOV), never judged on its own:
    a video a photo takes by the stem (.MOV, .MP4: `STEM_EXTENSIONS`) beside exactly one photo
    of its stem (`find_companions` takes it then, and only then). Any other video of a photo's
    stem is no one's companion and is judged as a video: `IMG_1.m4v` (no photo takes it), or
    `IMG_1.MOV` beside `IMG_1.HEIC` and `IMG_1.JPG` (of which, a guess). Was `beside_a_photo`:
    such a video was neither judged nor moved, in no line or count, until a later run."""
    stem, extension = os.path.splitext(video.name)
    if extension.lower() not in STEM_EXTENSIONS:
        return False
    folder = os.path.dirname(video)
    photos: list[tuple[str, os.stat_result]] = []
    for ext in sorted(IMAGE_EXTENSIONS):
        for name in dict.fromkeys(stem + spelling for spelling in spellings(ext)):
            found = regular_file(os.path.join(folder, name))
            # On a case-insensitive filesystem each spelling finds the one photo (`_one_file`).
            if found is not None and not any(_one_file(folder, name, found, other, seen) for other, seen in photos):
                photos.append((name, found))
                if len(photos) > 1:
                    return False
    return len(photos) == 1


def find_companions(photo: Path) -> tuple[Path, ...]:
    """The companions of `photo` (or of a video) present beside it now, in a stable order."""
    folder, name = os.path.split(photo)
    stem, extension = os.path.splitext(name)
    video = extension.lower() in VIDEO_EXTENSIONS
    by_name = [os.path.join(folder, name + s) for suffix in NAME_SUFFIXES for s in spellings(suffix)]
    stems = VIDEO_STEM_EXTENSIONS if video else STEM_EXTENSIONS
    by_stem = [os.path.join(folder, stem + s) for ext in stems for s in spellings(ext)]
    found = [(p, info) for p in by_name if (info := regular_file(p)) is not None]
    shared = [(p, info) for p in by_stem if (info := regular_file(p)) is not None]
    # A video's .SRT beside another video of its stem (GX01.MP4 and GX01.MOV) is as much a guess.
    if shared and not _shares_stem_with_another(photo, stem, IMAGE_EXTENSIONS | (VIDEO_EXTENSIONS if video else set())):
        found += shared
        # A companion's own sidecar (DSC_0001.NEF.xmp, darktable's for the raw file) goes with it.
        found += [(p, info) for path, _ in shared for suffix in NAME_SUFFIXES for s in spellings(suffix)
                  if (info := regular_file(p := path + s)) is not None]
    # On a case-insensitive filesystem each spelling finds the same file: keep it once (`_one_file`),
    # under the name the folder holds it by (`_REAL_NAMES`), not the spelling looked up first.
    unique: list[tuple[str, os.stat_result]] = []
    folded = False
    for path, info in found:
        name = os.path.basename(path)
        if any(_one_file(folder, name, info, other, seen) for other, seen in unique):
            folded = True
        else:
            unique.append((name, info))
    if folded:
        return tuple(photo.with_name(_REAL_NAMES.of(folder, name) or name) for name, _ in unique)
    return tuple(photo.with_name(name) for name, _ in unique)


class _RealNames:
    """The names a case-insensitive folder holds its companions by, casefolded -> as held: a
    lookup of `IMG_1.mov` opens `IMG_1.MOV` there, and moving it by the name looked up would
    have renamed it. The folder is listed once and again only for a name it did not hold then
    (a file come since); only names a companion may have are kept (a Mac's folder of 100,000
    Live Photos: some 30 MB). Asked only where spellings folded together (`find_companions`): a
    name the folder holds as it is spelt is kept so (a hard link `IMG_1.mov` of `IMG_1.MOV`)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()  # lookups run on threads past 2 cores (`Sorter._companions`)
        self._folder: str | None = None
        self._names: dict[str, list[str]] = {}

    def of(self, folder: str, name: str) -> str | None:
        with self._lock:
            if self._folder != folder or name.casefold() not in self._names:
                try:
                    listed = os.listdir(folder)
                except OSError:
                    listed = []
                self._folder = folder
                self._names = {}
                for held in listed:
                    if could_be_companion(held, hidden=True):
                        self._names.setdefault(held.casefold(), []).append(held)
            held = self._names.get(name.casefold())
            return None if held is None else name if name in held else held[0]


def could_be_companion(name: str, hidden: bool = False) -> bool:
    """A name a photo's or a video's companion may have (.MOV, .AAE, .xmp, .json, .SRT, ...);
    a hidden one (`.IMG_1.MOV`) only with `hidden` (a listing of real names keeps them)."""
    folded = name.casefold()
    return ((hidden or not name.startswith("."))
            and (os.path.splitext(folded)[1] in _BY_STEM or folded.endswith(NAME_SUFFIXES)))


_BY_STEM = frozenset({*STEM_EXTENSIONS, *VIDEO_STEM_EXTENSIONS})
_REAL_NAMES = _RealNames()


def pairing_stems(name: str) -> list[str]:
    """The stems by which a file pairs with others (`would_pair`): IMG_1.MOV -> IMG_1,
    IMG_1.jpg.xmp -> IMG_1.jpg (and IMG_1.jpg.supplemental-metadata.json -> IMG_1.jpg)."""
    folded = name.casefold()
    stems = [os.path.splitext(name)[0]]
    stems += [name[: -len(suffix)] for suffix in NAME_SUFFIXES if folded.endswith(suffix)]
    return stems


def would_pair(names: list[str]) -> list[str]:
    """The names of files that, beside the group `names` (a photo's or a video's first, then its
    companions') in a folder, would be one group with it there: a companion of its stem
    (IMG_1.MOV beside the photo IMG_1.jpg, a photo beside the video IMG_1.MOV), a sidecar named
    after one of its files (IMG_1.jpg.xmp) and, where the group has companions by its stem,
    another photo (or video) of its stem, which would make them a guess (`_shares_stem_with_another`).
    Two photos of a stem with nothing by it are no group: IMG_1.HEIC and IMG_1.jpg may lie side by side."""
    stem, extension = os.path.splitext(names[0])
    video = extension.lower() in VIDEO_EXTENSIONS
    by_stem = {*VIDEO_STEM_EXTENSIONS, *IMAGE_EXTENSIONS} if video else {*STEM_EXTENSIONS, *VIDEO_EXTENSIONS}
    if any(os.path.splitext(name)[0] == stem for name in names[1:]):  # companions by its stem
        by_stem |= VIDEO_EXTENSIONS if video else IMAGE_EXTENSIONS
    ours = {name.casefold() for name in names}
    pairing = [stem + ext for ext in sorted(by_stem)] + [name + s for name in names for s in NAME_SUFFIXES]
    return [name for name in pairing if name.casefold() not in ours]


#: The longest file name most filesystems take, in bytes.
NAME_MAX = 255


def renamed(name: str, stem: str, n: int, group: tuple[str, ...] = ()) -> str:
    """`name` (which starts with `stem`) as the n-th free variant of its group's names:
    IMG_1234.MOV with n=1 -> IMG_1234 (1).MOV; n=0 leaves it as it is. A name already near
    NAME_MAX bytes has its stem shortened so that " (n)" fits, alike for every name of the
    `group` (so that its members still share a stem); else it could never be moved."""
    if n == 0:
        return name
    tails = [member[len(stem):] for member in group or (name,)]
    room = NAME_MAX - len(f" ({n})") - max(len(os.fsencode(tail)) for tail in tails)
    short = stem
    while short and len(os.fsencode(short)) > room:
        short = short[:-1]
    return f"{short} ({n}){name[len(stem):]}"
