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
import time
from dataclasses import dataclass

import numpy as np

from sorter.config import CLASS_NAMES, OTHER
from sorter.errors import ImageError
from sorter.media.container import Track, VideoInfo, check_limits, open_video, probe, read_at
from sorter.media.images import cv2  # OpenCV as images.py loads it: its pixel limit set first

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
#: Wall-clock budget for one video; FFmpeg's open and read calls each get at most the same.
SECONDS_PER_VIDEO = 20.0
#: Fewer distinct keyframes than this over the clip: decode front to back instead.
MIN_KEYFRAMES = FRAMES // 2



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


def _annex_b(fd: int, track: Track, samples: list[int], deadline: float) -> bytes:
    """The chosen samples as one Annex B stream (start codes instead of lengths). A doctored
    index is the only check on their sizes: samples never overlap or run past the end in a real
    file, so together they fit in it, and a NAL unit of length 0 ends its sample (a 16 MB file of zeros indexed
    as 8 keyframes of 16 MB each was 4 million empty units, 44 s and 5.8 GB)."""
    length = os.fstat(fd).st_size
    if (sum(int(track.sizes[sample]) for sample in samples) > length
            or any(int(track.offsets[sample]) + int(track.sizes[sample]) > length for sample in samples)):
        raise ImageError("not a readable video (its index says its frames are larger than the file)")
    parts = []
    header = b"".join(_START + s for s in track.parameter_sets)
    for sample in samples:
        _over_time(deadline)
        data = read_at(fd, int(track.offsets[sample]), int(track.sizes[sample]))
        parts.append(header)
        pos, n = 0, track.nal_length
        while pos + n <= len(data):
            length = int.from_bytes(data[pos : pos + n], "big")
            if length == 0:
                break
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
    stream = io.BytesIO(_annex_b(fd, track, _chosen_keyframes(track, frames), deadline))
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
        check_limits(VideoInfo("", width, height, count / fps if count > 0 and fps > 0 else None))
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


def _pictures(path, size: int, frames: int, opened: int | None = None) -> list[np.ndarray]:
    """Up to `frames` BGR frames spread over the clip, upright, `size` on their shorter side.
    `opened`: the file already opened and checked by the caller (`container.open_video`)."""
    deadline = time.monotonic() + SECONDS_PER_VIDEO
    fd = open_video(path, opened=opened)
    try:
        info = probe(fd, os.path.splitext(os.fspath(path))[1])
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


def middle_frame(path, size: int, opened: int | None = None) -> np.ndarray:
    """A picture for people (the review pages): the keyframe nearest the clip's middle, BGR,
    upright, its longer side at most `size`. Same checks and limits as `load_frames`."""
    frame = _pictures(path, size, 1, opened)[0]
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
