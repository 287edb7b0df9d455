"""Real video clips made from real photos with Debian's ffmpeg, for the video tests and
benchmarks/video_speed.py: each photo in turn (a slideshow), whole at first, then slowly
zoomed into (at most 10 %), encoded as phones encode (H.264 or HEVC, a keyframe a second).
Made in a temporary folder, never kept: the photos are not ours to redistribute."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

FFMPEG = shutil.which("ffmpeg")
needs_ffmpeg = pytest.mark.skipif(
    FFMPEG is None, reason="ffmpeg not found (apt-get install ffmpeg): the video tests need it to make real clips"
)

CODECS = {
    "h264": ["-c:v", "libx264", "-preset", "veryfast", "-x264-params", "log-level=error"],
    "hevc": ["-c:v", "libx265", "-preset", "ultrafast", "-x265-params", "log-level=error", "-tag:v", "hvc1"],
}


def make_clip(
    path: Path, photos: list[Path], *, seconds: float = 2.0, size: tuple[int, int] = (320, 240), fps: int = 10,
    codec: str = "h264", gop: int | None = None, extra: list[str] = (), noise: int = 0,
) -> Path:
    """A slideshow of `photos`, `seconds` each, every one slowly zoomed into (so no two
    frames are alike), `gop` frames between keyframes (default: one a second). Zooming
    further cropped people enough for the photo model to call some of them dogs. `noise`:
    a camera sensor's grain, new in every frame (ffmpeg's noise filter, 0-100), which gives
    a clip a phone's bitrate: without it a still photo zoomed costs next to nothing to code."""
    width, height = size
    inputs, chains = [], []
    for i, photo in enumerate(photos):
        inputs += ["-loop", "1", "-framerate", str(fps), "-t", f"{seconds}", "-i", str(photo)]
        chains.append(
            f"[{i}]scale={width}:{height},setsar=1,"
            f"zoompan=z='min(1+0.002*on,1.1)':d=1:s={width}x{height}:fps={fps},format=yuv420p"
            + (f",noise=alls={noise}:allf=t" if noise else "") + f"[v{i}]"
        )
    graph = ";".join(chains) + ";" + "".join(f"[v{i}]" for i in range(len(photos))) + f"concat=n={len(photos)}[out]"
    subprocess.run(
        [FFMPEG, "-v", "error", "-y", *inputs, "-filter_complex", graph, "-map", "[out]", "-r", str(fps),
         *CODECS[codec], "-g", str(gop or fps), *extra, str(path)],
        check=True, stdin=subprocess.DEVNULL,
    )
    return path
