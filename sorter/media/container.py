"""A video's container, read before anything is decoded: the MP4/QuickTime index (`moov`)
that says what the video holds (size, duration, codec, the keyframes' table), and the checks
made on it. Pure byte parsing from a file descriptor sorter opened itself; no decoder.

What it refuses, each an `ImageError` with the reason: an empty file, a container that is
not a video's, a box that runs past the end of the file or a missing `moov` (a truncated
copy, or one still being written: its index is written last), tables that contradict
themselves, and what the index declares beyond the limits below. A HEIC, HEIF or AVIF photo
is ISO-BMFF too (`ftyp`, `meta`, `mdat`, no `moov`): one named as a video (a tool that saved a
Live Photo's still as IMG_1234.MOV) is said to be the photo it is, not a truncated MP4; so is a
JPEG, PNG, GIF, WebP, BMP or TIFF photo under a video's name, by its first bytes.
"""

from __future__ import annotations

import math
import os
import stat
import struct
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from sorter.errors import VANISHED, ImageError
from sorter.media.heif import IMAGE_BRANDS, ftyp_brands, image_format

#: 8K (DCI 8192x4320): above what any phone or camera records; beyond it, refused unread.
MAX_VIDEO_SIDE = 8192
MAX_VIDEO_PIXELS = 8192 * 4320
MAX_VIDEO_SECONDS = 24 * 3600
#: The moov index of a 24 h phone video is about 10 MB (4 bytes a frame, several tables).
MAX_INDEX_BYTES = 64 * 2**20
#: A Live Photo's video lasts about 3 s (1.5 s each side of the photo): one whose index says it
#: is longer is a video of its own (`may_be_live_photos`).
LIVE_PHOTO_SECONDS = 5.0

_MP4_TOP_BOXES = frozenset({b"ftyp", b"moov", b"mdat", b"wide", b"free", b"skip", b"pnot", b"uuid"})
#: Bytes of an `ftyp` box read for its brands: a real one lists a handful (28-40 bytes).
_FTYP_BYTES = 256


@dataclass(frozen=True)
class Track:
    """What the MP4 index says of the video track, enough to read its keyframes from the file."""

    codec: str  # "h264" | "hevc" | another sample entry's four characters
    nal_length: int  # bytes before each NAL unit in a sample
    parameter_sets: tuple[bytes, ...]  # SPS/PPS (and VPS) from avcC/hvcC
    keyframes: np.ndarray  # sample numbers (0-based) of the sync samples
    offsets: np.ndarray  # file offset of every sample
    sizes: np.ndarray  # size of every sample


@dataclass(frozen=True)
class VideoInfo:
    container: str  # "mp4" | "matroska" | "avi"
    width: int = 0
    height: int = 0
    seconds: float | None = None
    rotation: int = 0  # degrees clockwise to display upright
    track: Track | None = None


def _printable(kind: bytes) -> str:
    """A box's type for a reason: a hostile file's bytes never reach a terminal raw."""
    return "".join(c if c.isprintable() else "?" for c in kind.decode("latin-1"))


class _Boxes:
    """ISO BMFF boxes within one buffer: (type, payload start, payload end)."""

    def __init__(self, data: bytes, start: int = 0, end: int | None = None) -> None:
        self.data, self.start, self.end = data, start, len(data) if end is None else end

    def __iter__(self) -> Iterator[tuple[bytes, int, int]]:
        pos, data = self.start, self.data
        while pos + 8 <= self.end:
            size, kind = struct.unpack(">I4s", data[pos : pos + 8])
            header = 8
            if size == 1:
                if pos + 16 > self.end:
                    return
                (size,) = struct.unpack(">Q", data[pos + 8 : pos + 16])
                header = 16
            elif size == 0:
                size = self.end - pos
            if size < header or pos + size > self.end:
                raise ImageError(f"corrupt video index: a '{_printable(kind)}' box overruns its parent")
            yield kind, pos + header, pos + size
            pos += size

    def find(self, kind: bytes) -> tuple[int, int] | None:
        for k, start, end in self:
            if k == kind:
                return start, end
        return None

    def path(self, *kinds: bytes) -> _Boxes | None:
        boxes: _Boxes | None = self
        for kind in kinds:
            found = boxes.find(kind) if boxes is not None else None
            if found is None:
                return None
            boxes = _Boxes(self.data, *found)
        return boxes


_EMPTY = "empty file"


def open_video(path, dir_fd: int | None = None, opened: int | None = None) -> int:
    """The video at `path` (relative to the folder `dir_fd` with it), opened without following a
    link or blocking on a FIFO: a regular file, not empty, or ImageError. With `opened`, the file
    the caller opened and checked itself: a duplicate of it, never `path` opened again."""
    flags = os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(path, flags, dir_fd=dir_fd) if opened is None else os.dup(opened)
    except FileNotFoundError as exc:  # deleted or moved away since it was listed: vanished, not unreadable
        raise ImageError(VANISHED) from exc
    except OSError as exc:
        raise ImageError(f"cannot open: {exc.strerror or exc}") from exc
    info = os.fstat(fd)
    if not stat.S_ISREG(info.st_mode):
        os.close(fd)
        raise ImageError("not a regular file")
    if info.st_size == 0:
        os.close(fd)
        raise ImageError(_EMPTY)
    return fd


def read_at(fd: int, offset: int, size: int) -> bytes:
    if offset + size > os.fstat(fd).st_size:  # before allocating what a hostile index asks for
        raise ImageError("truncated video (shorter than its index says)")
    data = os.pread(fd, size, offset)
    if len(data) < size:
        raise ImageError("truncated video (shorter than its index says)")
    return data


def _image_format(fd: int, head: bytes) -> tuple[str, bool] | None:
    """The HEIF image format ("heic", "heif", "avif") the file's `ftyp` names, and whether its
    major brand does; None for a video's brands (isom, mp42, "qt  " ...)."""
    if head[4:8] != b"ftyp":
        return None
    (size,) = struct.unpack(">I", head[:4])
    ftyp = os.pread(fd, min(max(size, 16), _FTYP_BYTES), 0)
    brands = ftyp_brands(ftyp, 8, size)
    found = image_format(brands)
    return None if found is None else (found, brands[0] in IMAGE_BRANDS)


#: A photo's first bytes, as the image decoder tells its format (never by the name), and the
#: extension that makes sorter take it as one. `RIFF` is WebP's only with `WEBP` at byte 8.
_PHOTO_MAGIC = ((b"\xff\xd8\xff", "jpeg"), (b"\x89PNG\r\n\x1a\n", "png"), (b"GIF87a", "gif"), (b"GIF89a", "gif"),
                (b"II*\x00", "tiff"), (b"MM\x00*", "tiff"), (b"BM", "bmp"))
_RENAMED = {"jpeg": "jpg"}
#: What `inside` says of a file that is neither an MP4/QuickTime container nor a photo: an
#: empty file, unrecognised data, or another container (Matroska, AVI), no Live Photo's video.
NOT_MP4 = "not mp4"


def _a_photo(image: str, suffix: str) -> ImageError:
    """What a photo named as a video is: the true reason, and what makes sorter take it as a photo."""
    article = "an" if image == "avif" else "a"
    named = f" named {suffix}" if suffix else ""
    rename = _RENAMED.get(image, image)
    return ImageError(f"not a video: {article} {image.upper()} photo{named} (rename it .{rename} to sort it)")


def video_format(head: bytes) -> str | None:
    """The extension a video goes by ("mp4", "mov", "mkv", "avi"), from its first bytes (with its
    `ftyp` box, for its brands): a video named as a photo (`a_video`); None for anything else, an
    HEIF or AVIF photo's `ftyp` included."""
    if head[:4] == b"\x1a\x45\xdf\xa3":
        return "mkv"
    if head[:4] == b"RIFF" and head[8:11] == b"AVI":
        return "avi"
    if head[4:8] == b"ftyp" and len(head) >= 12:
        (size,) = struct.unpack(">I", head[:4])
        brands = ftyp_brands(head, 8, size)
        return None if image_format(brands) is not None else "mov" if brands[0] == b"qt  " else "mp4"
    return "mov" if head[4:8] in (b"moov", b"mdat", b"wide") else None  # an old QuickTime file, no `ftyp`


#: How a video named as a photo's reason begins (`a_video`), and a file's named as a video that
#: holds none: a photo (`_a_photo`), an MP4 of sound alone ("no video track"), a broken container.
A_VIDEO, NO_VIDEO = "not a photo: a video", "not a video"


def a_video(video: str, suffix: str) -> ImageError:
    """What a video named as a photo is (`video_format`), and what makes sorter take it as a video:
    the reverse of a photo named as a video (`_a_photo`)."""
    named = f" named {suffix}" if suffix else ""
    return ImageError(f"{A_VIDEO}{named} (rename it .{video} to sort it)")


def said_a_video(reason: str | None) -> bool | None:
    """What a file's reason says it is: True for a video named as a photo (`A_VIDEO`), False for a
    file named as a video that holds none (`NO_VIDEO`), None where the reason does not say."""
    if reason is None:
        return None
    return True if reason.startswith(A_VIDEO) else False if reason.startswith(NO_VIDEO) else None


def _photo_magic(head: bytes) -> str | None:
    """The format of a photo that is no ISO-BMFF file (JPEG, PNG, ...), by its first bytes."""
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "webp"
    return next((image for magic, image in _PHOTO_MAGIC if head.startswith(magic)), None)


def _photo_inside(fd: int, head: bytes) -> str | None:
    """The HEIF image format of an ISO-BMFF file that is a photo, not a video: an image's major
    brand (heic, mif1, avif) makes it one, whole or cut short; a video may list an image brand
    among its compatible ones, and is a photo only without a `moov`."""
    image = _image_format(fd, head)
    if image is None or image[1]:
        return image and image[0]
    return image[0] if _moov(fd) is None else None


#: A video's top-level boxes are a handful (ftyp, moov, mdat, free), or two a fragment in a
#: fragmented MP4 (moof, mdat: a day at one-second fragments is 172,800). More is a file made
#: of tiny boxes, whose walk would cost seconds (32 MiB of 8-byte boxes: 7 s) at every look.
MAX_TOP_BOXES = 200_000


def _moov(fd: int) -> tuple[int, int] | None:
    """Where the `moov` index is (its payload's start and end), from the top-level boxes; None
    without one. Raises ImageError for boxes that do not add up to the file."""
    file_size = os.fstat(fd).st_size
    moov = None
    pos = 0
    for _ in range(MAX_TOP_BOXES):
        if pos + 8 > file_size:
            break
        size, kind = struct.unpack(">I4s", read_at(fd, pos, 8))
        header = 8
        if size == 1:
            (size,) = struct.unpack(">Q", read_at(fd, pos + 8, 8))
            header = 16
        elif size == 0:
            size = file_size - pos
        if size < header:
            raise ImageError("not a video (corrupt MP4 box)")
        if pos + size > file_size:
            raise ImageError(f"truncated MP4 (its '{_printable(kind)}' box runs past the end of the file)")
        if kind == b"moov":
            moov = (pos + header, pos + size)
        pos += size
    else:
        if pos + 8 <= file_size:
            raise ImageError(f"not a video (more than {MAX_TOP_BOXES:,} top-level MP4 boxes)")
    return moov


def photo_inside(path, dir_fd: int | None = None) -> str | None:
    """"heic", "jpeg", "png" ... for a photo named as a video (the file `probe` refuses as "not
    a video: a HEIC photo named .MOV"), None for anything else (`inside`)."""
    found = inside(path, dir_fd)
    return None if found == NOT_MP4 else found


def inside(path, dir_fd: int | None = None) -> str | None:
    """What a file named as a video holds where that is no MP4/QuickTime container, which no Live
    Photo's video is: a photo's format (`photo_inside`), or `NOT_MP4` (empty, unrecognised data,
    Matroska or AVI). None for an MP4/QuickTime container, whole or cut short (a copy still being
    written), or a file that will not open (`probe` says why when the video is read). A few small
    reads: the first 16 bytes, the `ftyp` box, and the top-level boxes only where a video's brands
    name an image's too."""
    try:
        fd = open_video(path, dir_fd)
    except ImageError as exc:
        return NOT_MP4 if str(exc) == _EMPTY else None
    try:
        head = os.pread(fd, 16, 0)
        if head[4:8] in _MP4_TOP_BOXES:
            return _photo_inside(fd, head)
        return _photo_magic(head) or NOT_MP4
    except (ImageError, OSError):
        return None
    finally:
        os.close(fd)


def probe(fd: int, suffix: str = "") -> VideoInfo:
    """What the container says, checked against the limits; nothing decoded. Raises ImageError.
    `suffix`: the file's extension (".mov"), for the reason a photo named as a video gets."""
    head = os.pread(fd, 16, 0)
    if head[:4] == b"\x1a\x45\xdf\xa3":
        return VideoInfo("matroska")
    if head[:4] == b"RIFF" and head[8:11] == b"AVI":
        return VideoInfo("avi")
    if head[4:8] not in _MP4_TOP_BOXES:
        image = _photo_magic(head)
        raise _a_photo(image, suffix) if image else ImageError("not a video (unrecognised container)")
    image = _photo_inside(fd, head)
    if image is not None:
        raise _a_photo(image, suffix)
    moov = _moov(fd)
    if moov is None:
        raise ImageError("truncated MP4 (no moov index)")
    if moov[1] - moov[0] > MAX_INDEX_BYTES:
        raise ImageError(f"video index too large ({(moov[1] - moov[0]) // 2**20} MiB)")
    try:
        return _parse_moov(read_at(fd, moov[0], moov[1] - moov[0]))
    except (struct.error, IndexError, ValueError) as exc:  # tables that contradict themselves
        raise ImageError("corrupt video index") from exc


def duration(path, dir_fd: int | None = None) -> float | None:
    """Seconds, as the MP4 index says (None for other containers, or a file that will not say)."""
    try:
        fd = open_video(path, dir_fd)
    except ImageError:
        return None
    try:
        return probe(fd).seconds
    except (ImageError, OSError):
        return None
    finally:
        os.close(fd)


def may_be_live_photos(path) -> bool:
    """`path`, a video, may be a Live Photo's for all its index says (`LIVE_PHOTO_SECONDS`; one
    that will not say may be, but not a file that is no MP4/QuickTime: `inside`): the one rule by
    which `watch` waits for its photo and a late one (`sorting.latecomers`) joins a photo sorted
    before it, rather than be judged on its own."""
    seconds = duration(path)
    if seconds is None:  # no index to say, or no MP4 at all: a photo named .MOV, or junk, is no one's companion
        return inside(path) is None
    return seconds <= LIVE_PHOTO_SECONDS


def incomplete(path) -> str | None:
    """Why a video is not whole yet, from its container (a box running past the end of the
    file, no `moov` index), or None: for `watch`, which must not take a video still being
    recorded or copied. Anything else wrong with it is for the sort to report."""
    try:
        fd = open_video(path)
    except ImageError:
        return None
    try:
        probe(fd)
    except ImageError as exc:
        return str(exc) if str(exc).startswith("truncated") else None
    except OSError:
        return None
    finally:
        os.close(fd)
    return None


def _u32(data: bytes, pos: int) -> int:
    return struct.unpack(">I", data[pos : pos + 4])[0]


def _table(data: bytes, box: tuple[int, int] | None, fields: int, width: int = 4) -> np.ndarray:
    """A full box's table of `fields` big-endian integers per entry (after version, flags, count)."""
    if box is None:
        return np.zeros((0, fields), np.int64)
    start, end = box
    count = _u32(data, start + 4)
    if start + 8 + count * fields * width > end:
        raise ImageError("corrupt video index: a sample table overruns its box")
    raw = np.frombuffer(data, f">u{width}", count * fields, start + 8)
    return raw.astype(np.int64).reshape(count, fields)


def _parse_moov(moov: bytes) -> VideoInfo:
    boxes = _Boxes(moov)
    seconds = None
    mvhd = boxes.find(b"mvhd")
    if mvhd is not None:
        start = mvhd[0]
        if moov[start] == 1:
            timescale, duration = struct.unpack(">IQ", moov[start + 20 : start + 32])
        else:
            timescale, duration = struct.unpack(">II", moov[start + 12 : start + 20])
        seconds = duration / timescale if timescale else None
    for kind, start, end in boxes:
        if kind != b"trak":
            continue
        trak = _Boxes(moov, start, end)
        hdlr = trak.path(b"mdia")
        handler = hdlr.find(b"hdlr") if hdlr is not None else None
        if handler is None or moov[handler[0] + 8 : handler[0] + 12] != b"vide":
            continue
        tkhd = trak.find(b"tkhd")
        width = height = rotation = 0
        if tkhd is not None and tkhd[1] - tkhd[0] >= 84:
            end_tkhd = tkhd[1]
            width, height = (v >> 16 for v in struct.unpack(">II", moov[end_tkhd - 8 : end_tkhd]))
            a, b = struct.unpack(">ii", moov[end_tkhd - 44 : end_tkhd - 36])
            rotation = round(math.degrees(math.atan2(b, a))) % 360
        info = VideoInfo("mp4", width, height, seconds, rotation if rotation in (90, 180, 270) else 0,
                         _track(moov, trak))
        check_limits(info)
        return info
    raise ImageError("not a video (no video track)")


def _track(moov: bytes, trak: _Boxes) -> Track | None:
    """The keyframe tables of an H.264/HEVC track; None for anything else (decoded front to back)."""
    stbl = trak.path(b"mdia", b"minf", b"stbl")
    if stbl is None:
        return None
    stsd = stbl.find(b"stsd")
    if stsd is None or _u32(moov, stsd[0] + 4) < 1:
        return None
    entry = _Boxes(moov, stsd[0] + 8, stsd[1])
    first = next(iter(entry), None)
    if first is None:
        return None
    kind, start, end = first
    # The VisualSampleEntry's fixed fields take 78 bytes; its boxes (avcC, hvcC) follow.
    config_boxes = _Boxes(moov, start + 78, end)
    width, height = struct.unpack(">HH", moov[start + 24 : start + 28])
    check_limits(VideoInfo("mp4", width, height))
    if kind in (b"avc1", b"avc3"):
        config = config_boxes.find(b"avcC")
        codec = "h264"
    elif kind in (b"hvc1", b"hev1"):
        config = config_boxes.find(b"hvcC")
        codec = "hevc"
    else:
        return None
    if config is None:
        return None
    nal_length, parameter_sets = _parameter_sets(moov[config[0] : config[1]], codec)
    sizes_box = stbl.find(b"stsz")
    if sizes_box is None:
        return None
    uniform, count = struct.unpack(">II", moov[sizes_box[0] + 4 : sizes_box[0] + 12])
    if uniform:
        sizes = np.full(count, uniform, np.int64)
    else:
        sizes = _table(moov, (sizes_box[0] + 4, sizes_box[1]), 1).ravel()
    co64 = stbl.find(b"co64")
    chunks = _table(moov, co64, 1, 8).ravel() if co64 is not None else _table(moov, stbl.find(b"stco"), 1).ravel()
    runs = _table(moov, stbl.find(b"stsc"), 3)  # first chunk (1-based), samples per chunk, entry
    if not len(sizes) or not len(chunks) or not len(runs):
        return None
    # Samples per chunk, chunk by chunk: each run lasts until the next run's first chunk.
    starts = np.clip(runs[:, 0] - 1, 0, len(chunks))
    per_chunk = np.repeat(runs[:, 1], np.diff(np.append(starts, len(chunks))))  # ValueError if unordered
    # Only as many chunks as hold the samples, each at most all of them: a hostile table that
    # claims billions of samples a chunk costs nothing more.
    per_chunk = np.minimum(per_chunk, len(sizes))
    per_chunk = per_chunk[: int(np.searchsorted(np.cumsum(per_chunk), len(sizes))) + 1]
    chunk_of = np.repeat(np.arange(len(per_chunk)), per_chunk)[: len(sizes)]
    if len(chunk_of) < len(sizes):
        return None
    first_in_chunk = np.concatenate([[0], np.cumsum(per_chunk)[:-1]])
    ends = np.cumsum(sizes)
    before = ends - sizes  # bytes of all earlier samples
    offsets = chunks[chunk_of] + before - before[first_in_chunk[chunk_of]]
    sync = stbl.find(b"stss")
    keyframes = _table(moov, sync, 1).ravel() - 1 if sync is not None else np.arange(len(sizes))
    keyframes = keyframes[(keyframes >= 0) & (keyframes < len(sizes))]
    return Track(codec, nal_length, parameter_sets, keyframes, offsets, sizes)


def _parameter_sets(config: bytes, codec: str) -> tuple[int, tuple[bytes, ...]]:
    sets = []
    try:
        if codec == "h264":
            nal_length = (config[4] & 3) + 1
            pos, count = 6, config[5] & 31
            for table in range(2):  # SPS, then PPS
                if table:
                    count, pos = config[pos], pos + 1
                for _ in range(count):
                    (n,) = struct.unpack(">H", config[pos : pos + 2])
                    sets.append(config[pos + 2 : pos + 2 + n])
                    pos += 2 + n
        else:
            nal_length = (config[21] & 3) + 1
            pos, arrays = 23, config[22]
            for _ in range(arrays):
                (count,) = struct.unpack(">H", config[pos + 1 : pos + 3])
                pos += 3
                for _ in range(count):
                    (n,) = struct.unpack(">H", config[pos : pos + 2])
                    sets.append(config[pos + 2 : pos + 2 + n])
                    pos += 2 + n
    except (IndexError, struct.error) as exc:
        raise ImageError("corrupt video index: codec configuration") from exc
    return nal_length, tuple(sets)


def check_limits(info: VideoInfo) -> None:
    if info.width > MAX_VIDEO_SIDE or info.height > MAX_VIDEO_SIDE or info.width * info.height > MAX_VIDEO_PIXELS:
        raise ImageError(f"video too large to decode safely ({info.width}x{info.height} pixels)")
    if info.seconds is not None and info.seconds > MAX_VIDEO_SECONDS:
        raise ImageError(f"video too long to look at ({info.seconds / 3600:.0f} h)")
