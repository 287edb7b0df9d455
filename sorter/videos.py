"""Pet videos: what a video's container says, a few of its frames decoded cheaply, and the
frames' predictions combined into one decision (cat, dog or neither).

Checked before anything is decoded, from the file descriptor sorter opened itself
(O_NONBLOCK, never following a link, so a FIFO named `x.mp4` is refused by `fstat`, never
read): an empty file, a container that is not a video's, an MP4/QuickTime box that runs past
the end of the file or a missing `moov` index (a truncated copy, or one still being
written: its index is written last), and what the index declares: more than 8K pixels or
longer than 24 hours. Each is an `ImageError` with the reason, as for photos.

Cheap: a phone's MP4 or QuickTime file (H.264 or HEVC) has a table of its keyframes (`stss`),
so `FRAMES` keyframes spread over the whole clip are read straight from the file, framed as
one small Annex B stream (parameter sets, the keyframe, end of sequence) and decoded by
OpenCV's FFmpeg from memory: 8 pictures decoded instead of the 300 of a 10 s clip at 30 fps.
Seeking with `CAP_PROP_POS_FRAMES` would not do: OpenCV's seek is exact, so each one decodes
from the keyframe before the target up to it, and 8 seeks into a clip with a keyframe a
second cost as much as decoding the whole clip (measured: 0.35 s against 0.39 s for all 300
frames of a 1080p clip). Any other video (Matroska, WebM, AVI, an MP4 with too few
keyframes or another codec) is decoded front to back with `grab()`, the target frames alone
converted with `retrieve()`, under the same time limit.

A time limit (`SECONDS_PER_VIDEO`) bounds every video, and FFmpeg's own open and read
time-outs bound each call into it: a file that makes the decoder crawl is left in place with
a reason, never a hung run.
"""

from __future__ import annotations

import io
import math
import os
import stat
import struct
import time
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from sorter.config import CLASS_NAMES, OTHER, VIDEO_EXTENSIONS
from sorter.errors import ImageError
from sorter.images import cv2  # OpenCV as images.py loads it: its pixel limit set first

#: Frames looked at per video, spread evenly over the whole clip: a pet seen only in its
#: second half still has 4 of them.
FRAMES = 8
#: A video is a pet video when at least this share of its frames show a pet: a pet in a
#: quarter of the clip counts, one odd frame of a room does not.
MIN_PET_SHARE = 0.25
#: A frame shows a pet when cat and dog together hold this much of it. A pet filmed is seen
#: clearly in some frames, and a doubtful frame of a person is the usual mistake: on the test
#: clips (tests/test_videos.py), pet frames held 0.98-1.0, and every person clip filed as a pet
#: with frames voting by their top class (3 of 20) had its pet frames at 0.45-0.75. With 0.8,
#: 20 of 20 pet clips and 20 of 20 clips of people and places went where they belong.
FRAME_PET = 0.8
#: 8K (DCI 8192x4320): above what any phone or camera records; beyond it, refused unread.
MAX_VIDEO_SIDE = 8192
MAX_VIDEO_PIXELS = 8192 * 4320
MAX_VIDEO_SECONDS = 24 * 3600
#: The moov index of a 24 h phone video is about 10 MB (4 bytes a frame, several tables).
MAX_INDEX_BYTES = 64 * 2**20
#: Wall-clock budget for one video; FFmpeg's open and read calls each get at most the same.
SECONDS_PER_VIDEO = 20.0
#: Fewer distinct keyframes than this over the clip: decode front to back instead.
MIN_KEYFRAMES = FRAMES // 2

_MP4_TOP_BOXES = frozenset({b"ftyp", b"moov", b"mdat", b"wide", b"free", b"skip", b"pnot", b"uuid"})


def is_video_name(name: str) -> bool:
    return not name.startswith(".") and os.path.splitext(name)[1].lower() in VIDEO_EXTENSIONS


# --------------------------------------------------------------------------- the container


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


def _open(path) -> int:
    flags = os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(path, flags)
    except OSError as exc:
        raise ImageError(f"cannot open: {exc.strerror or exc}") from exc
    info = os.fstat(fd)
    if not stat.S_ISREG(info.st_mode):
        os.close(fd)
        raise ImageError("not a regular file")
    if info.st_size == 0:
        os.close(fd)
        raise ImageError("empty file")
    return fd


def _read(fd: int, offset: int, size: int) -> bytes:
    if offset + size > os.fstat(fd).st_size:  # before allocating what a hostile index asks for
        raise ImageError("truncated video (shorter than its index says)")
    data = os.pread(fd, size, offset)
    if len(data) < size:
        raise ImageError("truncated video (shorter than its index says)")
    return data


def probe(fd: int) -> VideoInfo:
    """What the container says, checked against the limits; nothing decoded. Raises ImageError."""
    file_size = os.fstat(fd).st_size
    head = os.pread(fd, 16, 0)
    if head[:4] == b"\x1a\x45\xdf\xa3":
        return VideoInfo("matroska")
    if head[:4] == b"RIFF" and head[8:11] == b"AVI":
        return VideoInfo("avi")
    if head[4:8] not in _MP4_TOP_BOXES:
        raise ImageError("not a video (unrecognised container)")
    moov = None
    pos = 0
    while pos + 8 <= file_size:
        size, kind = struct.unpack(">I4s", _read(fd, pos, 8))
        header = 8
        if size == 1:
            (size,) = struct.unpack(">Q", _read(fd, pos + 8, 8))
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
    if moov is None:
        raise ImageError("truncated MP4 (no moov index)")
    if moov[1] - moov[0] > MAX_INDEX_BYTES:
        raise ImageError(f"video index too large ({(moov[1] - moov[0]) // 2**20} MiB)")
    try:
        return _parse_moov(_read(fd, moov[0], moov[1] - moov[0]))
    except (struct.error, IndexError, ValueError) as exc:  # tables that contradict themselves
        raise ImageError("corrupt video index") from exc


def duration(path) -> float | None:
    """Seconds, as the MP4 index says (None for other containers, or a file that will not say)."""
    try:
        fd = _open(path)
    except ImageError:
        return None
    try:
        return probe(fd).seconds
    except (ImageError, OSError):
        return None
    finally:
        os.close(fd)


def incomplete(path) -> str | None:
    """Why a video is not whole yet, from its container (a box running past the end of the
    file, no `moov` index), or None: for `watch`, which must not take a video still being
    recorded or copied. Anything else wrong with it is for the sort to report."""
    try:
        fd = _open(path)
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
        _check(info)
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
    _check(VideoInfo("mp4", width, height))
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


def _check(info: VideoInfo) -> None:
    if info.width > MAX_VIDEO_SIDE or info.height > MAX_VIDEO_SIDE or info.width * info.height > MAX_VIDEO_PIXELS:
        raise ImageError(f"video too large to decode safely ({info.width}x{info.height} pixels)")
    if info.seconds is not None and info.seconds > MAX_VIDEO_SECONDS:
        raise ImageError(f"video too long to look at ({info.seconds / 3600:.0f} h)")


# --------------------------------------------------------------------------- frames


_START = b"\x00\x00\x00\x01"
#: H.264: an end of sequence after each keyframe, so two IDR pictures in a row are never taken
#: for one. HEVC: none, as FFmpeg's HEVC decoder then output only the first of 8 CRA pictures
#: (measured); without it, all 8.
_END_OF_SEQUENCE = {"h264": _START + b"\x0a", "hevc": b""}


def spread(count: int, frames: int = FRAMES) -> list[int]:
    """`frames` positions in 0..count-1, each in the middle of its share of the clip."""
    return sorted({min(count - 1, int((i + 0.5) * count / frames)) for i in range(min(frames, count))})


def _chosen_keyframes(track: Track, frames: int) -> list[int]:
    """For each evenly spread position, the nearest keyframe; each once."""
    keys = track.keyframes
    chosen = set()
    for target in spread(len(track.sizes), frames):
        i = int(np.searchsorted(keys, target))
        near = [keys[j] for j in (i - 1, i) if 0 <= j < len(keys)]
        chosen.add(int(min(near, key=lambda k: abs(k - target))))
    return sorted(chosen)


def _annex_b(fd: int, track: Track, samples: list[int]) -> bytes:
    parts = []
    header = b"".join(_START + s for s in track.parameter_sets)
    for sample in samples:
        data = _read(fd, int(track.offsets[sample]), int(track.sizes[sample]))
        parts.append(header)
        pos, n = 0, track.nal_length
        while pos + n <= len(data):
            length = int.from_bytes(data[pos : pos + n], "big")
            parts += [_START, data[pos + n : pos + n + length]]
            pos += n + length
        parts.append(_END_OF_SEQUENCE[track.codec])
    return b"".join(parts)


def _capture_params(deadline: float) -> list[int]:
    left = max(1, int((deadline - time.monotonic()) * 1000))
    return [cv2.CAP_PROP_OPEN_TIMEOUT_MSEC, left, cv2.CAP_PROP_READ_TIMEOUT_MSEC, left, cv2.CAP_PROP_N_THREADS, 1]


def _small(frame: np.ndarray, size: int, rotation: int = 0) -> np.ndarray:
    """BGR frame -> `size` on its shorter side at most, upright (from here on it is cheap)."""
    height, width = frame.shape[:2]
    whole = min(height, width) // size
    if whole >= 2:
        # Area averaging by a whole factor first, OpenCV's fast path: 2.7 ms for a 1080p frame
        # where one step to 398x224 costs 5.7 (measured, one core); the same averages.
        frame = cv2.resize(frame, (width // whole, height // whole), interpolation=cv2.INTER_AREA)
        height, width = frame.shape[:2]
    scale = size / min(height, width)
    if scale < 1:
        frame = cv2.resize(frame, (max(1, round(width * scale)), max(1, round(height * scale))),
                           interpolation=cv2.INTER_AREA)
    turn = {90: cv2.ROTATE_90_CLOCKWISE, 180: cv2.ROTATE_180, 270: cv2.ROTATE_90_COUNTERCLOCKWISE}.get(rotation)
    return cv2.rotate(frame, turn) if turn is not None else frame


def _over_time(deadline: float) -> None:
    if time.monotonic() > deadline:
        raise ImageError(f"video took too long to decode (over {SECONDS_PER_VIDEO:g} s)")


def _keyframes(fd: int, info: VideoInfo, size: int, frames: int, deadline: float) -> list[np.ndarray]:
    track = info.track
    assert track is not None
    # Held here until the capture is released: OpenCV keeps calling into it (and crashes
    # if it is collected first).
    stream = io.BytesIO(_annex_b(fd, track, _chosen_keyframes(track, frames)))
    capture = cv2.VideoCapture(stream, cv2.CAP_FFMPEG, _capture_params(deadline))
    try:
        pictures = []
        while capture.isOpened() and len(pictures) < frames:
            _over_time(deadline)
            ok, frame = capture.read()
            if not ok:
                break
            pictures.append(_small(frame, size, info.rotation))
        return pictures
    finally:
        capture.release()


def _front_to_back(fd: int, size: int, frames: int, deadline: float) -> list[np.ndarray]:
    """Every frame decoded (`grab`), the ones at evenly spread positions converted (`retrieve`).
    OpenCV opens the descriptor sorter already checked (/proc/self/fd), never the name again."""
    capture = cv2.VideoCapture(f"/proc/self/fd/{fd}", cv2.CAP_FFMPEG, _capture_params(deadline))
    try:
        if not capture.isOpened():
            _over_time(deadline)  # FFmpeg gave up because its time was up: say so
            raise ImageError("not a readable video (corrupt or unsupported format)")
        width, height = int(capture.get(cv2.CAP_PROP_FRAME_WIDTH)), int(capture.get(cv2.CAP_PROP_FRAME_HEIGHT))
        count, fps = int(capture.get(cv2.CAP_PROP_FRAME_COUNT)), capture.get(cv2.CAP_PROP_FPS)
        _check(VideoInfo("", width, height, count / fps if count > 0 and fps > 0 else None))
        # Without a frame count (some Matroska files), one frame a second is kept and thinned out.
        wanted = set(spread(count, frames)) if count > 0 else None
        step = max(1, round(fps)) if fps > 0 else 30
        kept: list[np.ndarray] = []
        index = 0
        while capture.grab():
            _over_time(deadline)
            if (index in wanted) if wanted is not None else index % step == 0:
                ok, frame = capture.retrieve()
                if ok:
                    kept.append(_small(frame, size))  # OpenCV has applied the rotation itself
                if wanted is None and len(kept) >= 8 * frames:
                    kept, step = kept[::2], step * 2
            index += 1
        if wanted is None and kept:
            kept = [kept[i] for i in spread(len(kept), frames)]
        return kept
    finally:
        capture.release()


def _pictures(path, size: int, frames: int) -> list[np.ndarray]:
    """Up to `frames` BGR frames spread over the clip, upright, `size` on their shorter side."""
    deadline = time.monotonic() + SECONDS_PER_VIDEO
    fd = _open(path)
    try:
        info = probe(fd)
        track = info.track
        pictures = []
        if track is not None and len(_chosen_keyframes(track, frames)) >= min(MIN_KEYFRAMES, frames, len(track.sizes)):
            pictures = _keyframes(fd, info, size, frames, deadline)
        if not pictures:  # not an MP4 of H.264/HEVC with keyframes, or FFmpeg made nothing of them
            pictures = _front_to_back(fd, size, frames, deadline)
    except OSError as exc:
        raise ImageError(f"cannot read: {exc.strerror or exc}") from exc
    except cv2.error as exc:
        raise ImageError(f"cannot decode: {str(exc).strip().splitlines()[-1]}") from exc
    finally:
        os.close(fd)
    if not pictures:
        _over_time(deadline)
        raise ImageError("not a readable video (no frame could be decoded)")
    return pictures


def load_frames(path, size: int, frames: int = FRAMES) -> np.ndarray:
    """The model's input for a video: (n, size, size, 3) uint8 RGB, n <= `frames` frames
    spread over the whole clip, each stretched to a square as a photo is. Raises ImageError
    with the reason a video cannot be looked at."""
    return np.stack([
        cv2.cvtColor(cv2.resize(p, (size, size), interpolation=cv2.INTER_AREA if min(p.shape[:2]) >= size
                                else cv2.INTER_LINEAR), cv2.COLOR_BGR2RGB)
        for p in _pictures(path, size, frames)
    ])


def middle_frame(path, size: int) -> np.ndarray:
    """A picture for people (the review page): the keyframe nearest the clip's middle, BGR,
    upright, its longer side at most `size`. Same checks and limits as `load_frames`."""
    frame = _pictures(path, size, 1)[0]
    height, width = frame.shape[:2]
    scale = size / max(height, width)
    if scale >= 1:
        return frame
    return cv2.resize(frame, (max(1, round(width * scale)), max(1, round(height * scale))), interpolation=cv2.INTER_AREA)


# --------------------------------------------------------------------------- the decision


@dataclass(frozen=True)
class Verdict:
    """One video's decision from its frames."""

    label: str  # "cat" | "dog" | OTHER
    confidence: float
    frames: int  # frames looked at
    pet_frames: int  # of which called a cat or a dog


def decide(rows: np.ndarray, class_names: tuple[str, ...]) -> Verdict:
    """Combine the frames' probabilities. A frame shows a pet when cat and dog together hold
    `FRAME_PET` of it; a pet video has at least `MIN_PET_SHARE` of such frames. Then cat or
    dog by the probability those frames give each, and the confidence is that probability
    averaged over them (where the pet is seen, how sure), which --min-confidence applies to
    as to a photo's. Otherwise neither, as sure as the other frames are on average."""
    rows = np.asarray(rows, np.float64)
    names = list(class_names)
    pets = [names.index(n) for n in CLASS_NAMES]
    if OTHER not in names:  # a two-class model: every frame shows a cat or a dog
        shows_pet = np.ones(len(rows), bool)
    else:
        shows_pet = rows[:, pets].sum(axis=1) >= FRAME_PET
    pet_rows = rows[shows_pet]
    if len(pet_rows) >= max(1, math.ceil(len(rows) * MIN_PET_SHARE)):
        best = int(pet_rows[:, pets].sum(axis=0).argmax())
        return Verdict(CLASS_NAMES[best], float(pet_rows[:, pets[best]].mean()), len(rows), len(pet_rows))
    other = rows[~shows_pet][:, names.index(OTHER)]
    return Verdict(OTHER, float(other.mean()), len(rows), len(pet_rows))
