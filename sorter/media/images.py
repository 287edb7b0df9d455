"""Finding image files and decoding them: the one preprocessing contract shared by
training (`model.train`) and inference (`sort`, `watch`, `evaluate`).

Contract: `load_image(path, size)` returns a `size x size x 3` uint8 array, RGB order, the
whole photo stretched to a square (the training photos were stretched to 200x200 the same
way), EXIF orientation applied. Scaling to 0..1 lives inside the saved model.

OpenCV decodes JPEG, PNG, WebP, BMP and TIFF; HEIC/HEIF/AVIF go through `sorter.media.heif`, with
the same checks first (size from the header, truncation) and the same resize after.
"""

from __future__ import annotations

import os
import re
import stat
import struct
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from sorter.config import (
    MAX_FILE_BYTES,
    MAX_IMAGE_PIXELS,
    MAX_JPEG_SCANS,
)
from sorter.errors import VANISHED, ImageError
from sorter.media import heif
from sorter.media.container import a_video, video_format

# OpenCV reads this once, when cv2 is first imported: it refuses to allocate decoders for
# larger images. We also check the header ourselves (below) in case cv2 was imported first.
os.environ.setdefault("OPENCV_IO_MAX_IMAGE_PIXELS", str(MAX_IMAGE_PIXELS))

import cv2  # noqa: E402
import numpy as np  # noqa: E402

cv2.setNumThreads(1)  # we parallelise across files; per-call threads only fight for 2 cores

#: A file's first bytes that tell a video named as a photo (`container.video_format`): its `ftyp` box, brands and all.
_HEAD_BYTES = 256


@contextmanager
def open_regular(path: Path, opened: int | None = None) -> Iterator[tuple[int, int]]:
    """(fd, size) of a regular file, opened without following a symlink and without ever
    blocking on a FIFO or device (O_NONBLOCK, then fstat before reading). With `opened`, the
    file the caller opened and checked itself (the review's thumbnails): a duplicate of that
    descriptor, never `path` opened again, which may name another file by now."""
    flags = os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(path, flags) if opened is None else os.dup(opened)
    except FileNotFoundError as exc:  # deleted or moved away since it was listed: vanished, not unreadable
        raise ImageError(VANISHED) from exc
    except OSError as exc:
        raise ImageError(f"cannot open: {exc.strerror or exc}") from exc
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise ImageError("not a regular file")
        yield fd, info.st_size
    finally:
        os.close(fd)


def read_image_bytes(path: Path, max_bytes: int = MAX_FILE_BYTES, opened: int | None = None) -> bytes:
    """Read a whole regular file (`open_regular`), from its start whatever `opened`'s offset."""
    try:
        with open_regular(path, opened) as (fd, size):
            if size == 0:
                raise ImageError("empty file")
            if size > max_bytes:
                video = video_format(os.pread(fd, _HEAD_BYTES, 0))  # a video named .jpg: said so, not "too large"
                raise a_video(video, path.suffix) if video else ImageError(f"file too large ({size // 2**20} MiB)")
            chunks = []
            remaining = size
            while remaining > 0:
                chunk = os.pread(fd, min(remaining, 1 << 20), size - remaining)
                if not chunk:
                    break
                chunks.append(chunk)
                remaining -= len(chunk)
            return b"".join(chunks)
    except OSError as exc:
        raise ImageError(f"cannot read: {exc.strerror or exc}") from exc


#: How each format a photo may be in begins (HEIF, AVIF: an ISO box `ftyp` at byte 4).
SIGNATURES = (b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n", b"II*\x00", b"MM\x00*", b"BM", b"GIF87a", b"GIF89a")


def begins_as_image(path: Path) -> bool:
    """The first bytes of `path` are a photo's (one of `SIGNATURES`, WebP's RIFF, or an `ftyp`
    box): one read of 16 bytes, no decode. A text file, an empty one or an HTML page saved as
    `.jpg` is not; a photo cut short after its header still is, and fails only when decoded."""
    try:
        with open_regular(path) as (fd, _):
            head = os.pread(fd, 16, 0)
    except (OSError, ImageError):
        return False
    return head.startswith(SIGNATURES) or (head[:4] == b"RIFF" and head[8:12] == b"WEBP") or head[4:8] == b"ftyp"


@dataclass(frozen=True)
class Header:
    format: str
    width: int
    height: int
    scan_offset: int = 0  # JPEG: where the first scan starts (for the truncation check)
    truncated: str = ""  # HEIF/AVIF: why the file is incomplete, from its boxes ("" when it is not)
    progressive: bool = False  # JPEG: in several scans, each a pass over the whole photo
    bytes_per_pixel: int = 3  # PNG, TIFF: as stored (16-bit RGBA: 8), which a decode holds before it converts


def jpeg_header(data: bytes) -> Header | None:
    pos, width, height, progressive = 2, 0, 0, False
    n = len(data)
    while pos + 4 <= n:
        if data[pos] != 0xFF:
            return None
        marker = data[pos + 1]
        if marker == 0xFF:  # fill byte
            pos += 1
            continue
        if marker in (0xD8, 0x01) or 0xD0 <= marker <= 0xD7:
            pos += 2
            continue
        (length,) = struct.unpack(">H", data[pos + 2 : pos + 4])
        if marker in (0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF):
            if pos + 9 > n:
                return None
            height, width = struct.unpack(">HH", data[pos + 5 : pos + 9])
            progressive = marker in (0xC2, 0xC6, 0xCA, 0xCE)
        if marker == 0xDA:  # start of scan: the header is over
            return Header("jpeg", width, height, pos, progressive=progressive) if width and height else None
        pos += 2 + length
    return None


_MARKER = re.compile(rb"\xff[^\x00\xd0-\xd7\xff]")  # in entropy-coded data FF is stuffed (FF 00) or a restart


def jpeg_scans(data: bytes, scan_offset: int) -> int:
    """How many scans a JPEG has, its first at `scan_offset`: the markers walked to the end of
    the image, each segment skipped by its length (so FF DA in a comment is none), up to one
    more than MAX_JPEG_SCANS."""
    scans, pos = 0, scan_offset
    for _ in range(MAX_JPEG_SCANS * 100):  # a real JPEG has a few markers a scan; millions are a trap too
        if scans > MAX_JPEG_SCANS:
            break
        found = _MARKER.search(data, pos)
        if found is None or data[found.start() + 1] == 0xD9:  # the end of the image
            break
        scans += data[found.start() + 1] == 0xDA
        if found.start() + 4 > len(data):
            break
        pos = found.start() + 2 + int.from_bytes(data[found.start() + 2 : found.start() + 4], "big")
    else:
        return MAX_JPEG_SCANS + 1
    return scans


def tiff_header(data: bytes) -> Header | None:
    """A TIFF's first image: size, samples and bits from its first IFD; None where it does not
    parse (OpenCV's own limit on pixels still applies)."""
    order = "<" if data[:2] == b"II" else ">"
    try:
        (first,) = struct.unpack_from(order + "I", data, 4)
        (count,) = struct.unpack_from(order + "H", data, first)
        tags = {}
        for i in range(min(count, 512)):
            tag, kind, number, value = struct.unpack_from(order + "HHII", data, first + 2 + 12 * i)
            if kind == 3 and number <= 2:  # SHORT values sit in the field's first bytes
                (value,) = struct.unpack_from(order + "H", data, first + 2 + 12 * i + 8)
            elif kind == 3:  # one per sample, elsewhere in the file: they are alike in a photo
                (value,) = struct.unpack_from(order + "H", data, value)
            tags[tag] = value
    except struct.error:
        return None
    width, height = tags.get(256, 0), tags.get(257, 0)
    if not width or not height:
        return None
    return Header("tiff", width, height, bytes_per_pixel=max(1, tags.get(277, 1) * -(-tags.get(258, 1) // 8)))


def read_header(data: bytes) -> Header | None:
    """Dimensions from the header alone, for the formats where that is cheap. None when the
    format is not one of these (OpenCV's own pixel limit still applies to the rest)."""
    if data[4:8] == b"ftyp":
        container = heif.read_container(data)
        return None if container is None else Header(container.format, container.width, container.height,
                                                     truncated=container.truncated)
    if data[:3] == b"\xff\xd8\xff":
        return jpeg_header(data)
    if data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) >= 26:
        width, height, depth, colour = struct.unpack(">IIBB", data[16:26])
        channels = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}.get(colour, 4)
        return Header("png", width, height, bytes_per_pixel=max(1, channels * depth // 8))
    if data[:4] in (b"II*\x00", b"MM\x00*"):
        return tiff_header(data)
    if data[:2] == b"BM" and len(data) >= 26:
        width, height = struct.unpack("<ii", data[18:26])
        return Header("bmp", abs(width), abs(height))
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP" and len(data) >= 30:
        chunk = data[12:16]
        if chunk == b"VP8X":
            width = 1 + int.from_bytes(data[24:27], "little")
            height = 1 + int.from_bytes(data[27:30], "little")
            return Header("webp", width, height)
        if chunk == b"VP8 ":
            width, height = struct.unpack("<HH", data[26:30])
            return Header("webp", width & 0x3FFF, height & 0x3FFF)
        if chunk == b"VP8L":
            bits = int.from_bytes(data[21:25], "little")
            return Header("webp", (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1)
    return None


HEIF_FORMATS = frozenset({"heic", "heif", "avif"})


def decoded_pixels(header: Header, size: int) -> int:
    """How many pixels decoding the image for `size` makes. A baseline JPEG is decoded at 1/2,
    1/4 or 1/8 scale (`_reduced_flag`), row by row: a 200 MP phone photo costs 3 MP and 0.1 s
    at 1/8. A progressive one keeps every coefficient of the whole photo while it decodes, so
    it counts whole, as every other format does."""
    factor = _reduction(header, size) if header.format == "jpeg" and not header.progressive else 1
    return -(-header.width // factor) * -(-header.height // factor)


def check_header(header: Header | None, data: bytes, size: int) -> None:
    """The checks made before any decode, for an input of `size`: raises ImageError for a
    truncated file or one too large to decode safely. Public so that a benchmark can time
    them alone (`benchmarks/profile_sort.py`)."""
    if header is None:
        return
    if header.truncated:
        raise ImageError(f"truncated {header.format.upper()} ({header.truncated})")
    if header.width <= 0 or header.height <= 0:
        raise ImageError("invalid image header")
    if decoded_pixels(header, size) > MAX_IMAGE_PIXELS:
        raise ImageError(
            f"image too large to decode safely ({header.width}x{header.height} pixels)"
        )
    if decoded_pixels(header, size) * header.bytes_per_pixel > MAX_IMAGE_PIXELS * 6:
        # Under the pixel limit, but 16-bit RGBA: a 924 KB TIFF of 10900x10900 held 1.5 GB. A
        # 102 MP 16-bit RGB TIFF (a medium-format camera's) is 611 MB: it passes.
        raise ImageError(f"image too large to decode safely ({header.width}x{header.height} pixels, "
                         f"{header.bytes_per_pixel} bytes each)")
    if header.format == "jpeg":
        # Entropy-coded data never contains FF D9, so an end-of-image marker after the first
        # scan is the cheap, reliable sign that the file is complete.
        if data.rfind(b"\xff\xd9") < header.scan_offset:
            raise ImageError("truncated JPEG (no end-of-image marker)")
        # Each scan of a progressive JPEG is a pass over the whole photo: 10,000 of them in a
        # 1.4 MB file held a core for 89 s. Counting FF DA is cheap (a phone's JPEG is in one
        # scan and skips it) and counts too many only where a trailer follows the photo (a
        # motion photo's video); the marker walk is exact.
        if header.progressive and data.count(b"\xff\xda", header.scan_offset) > MAX_JPEG_SCANS:
            if jpeg_scans(data, header.scan_offset) > MAX_JPEG_SCANS:
                raise ImageError(f"too many progressive scans to decode safely (over {MAX_JPEG_SCANS}; a photo "
                                 "has about ten)")
    elif header.format == "png" and b"IEND" not in data[-64:]:
        raise ImageError("truncated PNG (no IEND chunk)")
    elif header.format == "webp" and len(data) < 8 + int.from_bytes(data[4:8], "little"):
        raise ImageError("truncated WebP (shorter than its RIFF header says)")
    elif header.format == "bmp" and len(data) < int.from_bytes(data[2:6], "little"):
        # Some writers leave the size field 0; it can only be shorter than a complete file.
        raise ImageError("truncated BMP (shorter than its header says)")


def _reduction(header: Header, size: int) -> int:
    """1/8, 1/4 or 1/2 scale (as 8, 4, 2) where the result is still at least `size` on its
    shorter side; 1 otherwise."""
    shorter = min(header.width, header.height)
    return next((factor for factor in (8, 4, 2) if shorter // factor >= size), 1)


def _reduced_flag(header: Header | None, size: int) -> int:
    """Let libjpeg decode at 1/2, 1/4 or 1/8 scale (DCT scaling) when the result is still at
    least `size` on its shorter side: a 12 MP photo then costs a fraction of a full decode."""
    if header is None or header.format != "jpeg":
        return cv2.IMREAD_COLOR
    return {8: cv2.IMREAD_REDUCED_COLOR_8, 4: cv2.IMREAD_REDUCED_COLOR_4, 2: cv2.IMREAD_REDUCED_COLOR_2}.get(
        _reduction(header, size), cv2.IMREAD_COLOR)


def _decode_bgr(data: bytes, size: int, suffix: str = "") -> np.ndarray:
    """Checked, EXIF-rotated 8-bit BGR, at a reduced JPEG scale whose shorter side is still
    at least `size`. `suffix`: the file's extension (".heic"), for the reason a video named as a
    photo gets (`container.a_video`)."""
    header = read_header(data)
    if header is None and (video := video_format(data[:_HEAD_BYTES])) is not None:
        raise a_video(video, suffix)
    check_header(header, data, size)
    if header is not None and header.format in HEIF_FORMATS:
        return cv2.cvtColor(heif.decode(data, header.format, size), cv2.COLOR_RGB2BGR)
    buffer = np.frombuffer(data, dtype=np.uint8)
    try:
        # IMREAD_COLOR: 8-bit BGR whatever the source (grey, alpha, 16-bit), EXIF-rotated.
        image = cv2.imdecode(buffer, _reduced_flag(header, size))
    except cv2.error as exc:
        if "validateInputImageSize" in str(exc):  # a header sorter does not read (TIFF, GIF): OpenCV's own limit
            raise ImageError(f"image too large to decode safely (over {MAX_IMAGE_PIXELS // 1_000_000} MP)") from exc
        raise ImageError(f"cannot decode: {str(exc).strip().splitlines()[-1]}") from exc
    if image is None or image.size == 0:
        raise ImageError("not a readable image (corrupt or unsupported format)")
    if image.ndim == 2:
        image = cv2.cvtColor(image, cv2.COLOR_GRAY2BGR)
    return image


def decode_image(data: bytes, size: int, suffix: str = "") -> np.ndarray:
    """Decode encoded bytes into the model's input: (size, size, 3) uint8 RGB."""
    return square_rgb(_decode_bgr(data, size, suffix), size)


def square_rgb(image: np.ndarray, size: int) -> np.ndarray:
    """A decoded BGR picture as the model's input: stretched to (size, size), RGB."""
    return cv2.cvtColor(_square(image, size), cv2.COLOR_BGR2RGB)


def _square(image: np.ndarray, size: int) -> np.ndarray:
    """The whole picture stretched to size x size: area averaging when shrinking."""
    interpolation = cv2.INTER_AREA if min(image.shape[:2]) >= size else cv2.INTER_LINEAR
    return cv2.resize(image, (size, size), interpolation=interpolation)


def load_image(path: Path, size: int) -> np.ndarray:
    """The preprocessing used everywhere: file -> (size, size, 3) uint8 RGB."""
    return decode_image(read_image_bytes(path), size, path.suffix)


#: Files from this size on get their thumbnail from the decode that feeds the network. A phone
#: photo's decode is most of its cost (33 ms of a 12 MP JPEG's 36, benchmarks/profile_sort.py),
#: and the review page would decode it again; a small photo decodes in 0.16 ms, and making a
#: thumbnail of every one costs more than decoding again the 100 a group the page shows
#: (measured: 2,000 small photos sorted 10-15 % slower with a thumbnail each).
THUMBNAIL_FROM_BYTES = 256 * 1024


@dataclass(frozen=True)
class Picture:
    """A decoded photo: the network's input (`load_image`), the decode it came from (BGR, its
    shorter side at least the input's: 378 px of a 12 MP JPEG at 1/8 scale; at most KEPT_SCALE
    times it), for a closer look at more pixels where the model is unsure
    (`sorter.model.second_look`), and the review page's thumbnail when one was asked for."""

    image: np.ndarray
    source: np.ndarray
    thumbnail: np.ndarray | None = None

    def at(self, size: int) -> np.ndarray:
        """The photo as the network's input at `size`: (size, size, 3) uint8 RGB."""
        return square_rgb(self.source, size)

    def crop(self, box: tuple[float, float, float, float], size: int) -> np.ndarray:
        """The part of the photo in `box` (`in_box`) as the network's input at `size`, cut from
        the decode, which has more pixels than the input where the photo had them."""
        return square_rgb(in_box(self.source, box), size)

    @classmethod
    def of_decode(cls, image: np.ndarray, size: int, thumbnail: np.ndarray | None = None) -> Picture:
        """The picture of a decode (BGR): the network's input at `size`, and the decode as a
        Picture keeps it (`_kept`)."""
        return cls(square_rgb(image, size), _kept(image, size), thumbnail)

    @classmethod
    def of_input(cls, image: np.ndarray) -> Picture:
        """A picture that is no more than the network's input (RGB), as a photo composed in
        memory is: its closer look and its crops stretch the input, as they would a photo that small."""
        return cls(image, np.ascontiguousarray(image[:, :, ::-1]))


def in_box(image: np.ndarray, box: tuple[float, float, float, float]) -> np.ndarray:
    """The part of `image` in `box`: (top, bottom, left, right) as shares of its height and
    width (the same shares on the network's square input, which is the whole photo stretched),
    at least one pixel each way."""
    height, width = image.shape[:2]
    top, bottom, left, right = box
    y0, x0 = int(top * height), int(left * width)
    y1, x1 = max(y0 + 1, round(bottom * height)), max(x0 + 1, round(right * width))
    return image[y0:y1, x0:x1]


#: A Picture keeps its decode at most this many times the input's side (its shorter side):
#: a JPEG is decoded at a reduced scale (378 px high for a 12 MP photo at 1/8), but a PNG, a
#: WebP or a HEIC without a thumbnail decodes whole, 36 MB for 12 MP, and a few hundred photos
#: are in flight. Twice the input is more than the closer look's 288 px and a crop needs.
KEPT_SCALE = 2


def _kept(image: np.ndarray, size: int) -> np.ndarray:
    """The decode as a Picture keeps it: shrunk (area averaging) where its shorter side is over
    KEPT_SCALE x `size`, so that memory stays flat whatever the format."""
    return _scaled_down(image, KEPT_SCALE * size / min(image.shape[:2]))


def decode_picture(data: bytes, size: int, thumbnail: int | None = None, suffix: str = "") -> Picture:
    """`decode_image`, with the decode it came from, and for data of THUMBNAIL_FROM_BYTES or
    more a `thumbnail` no larger than `size` (`load_thumbnail`) from the same reduced decode."""
    image = _decode_bgr(data, size, suffix)
    small = None
    if thumbnail is not None and thumbnail <= size and len(data) >= THUMBNAIL_FROM_BYTES:
        small = shrink(image, thumbnail)
    return Picture.of_decode(image, size, small)


def load_picture(path: Path, size: int, thumbnail: int | None = None) -> Picture:
    """`decode_picture` of the file at `path`."""
    return decode_picture(read_image_bytes(path), size, thumbnail, path.suffix)


def load_thumbnail(path: Path, size: int, opened: int | None = None) -> np.ndarray:
    """A picture for people (the review page): BGR, its longer side at most `size`, the
    aspect ratio kept. Same checks and reduced JPEG decode as `load_image`, so a hostile or
    huge file raises ImageError instead of being decoded. With `opened`, read from that
    descriptor (`open_regular`)."""
    return shrink(_decode_bgr(read_image_bytes(path, opened=opened), size, path.suffix), size)


def shrink(image: np.ndarray, size: int) -> np.ndarray:
    """`image` with its longer side at most `size`, the aspect ratio kept (area averaging)."""
    return _scaled_down(image, size / max(image.shape[:2]))


def _scaled_down(image: np.ndarray, scale: float) -> np.ndarray:
    """`image` scaled by `scale` (area averaging), or as it is when that would not shrink it."""
    if scale >= 1:
        return image
    height, width = image.shape[:2]
    return cv2.resize(image, (max(1, round(width * scale)), max(1, round(height * scale))), interpolation=cv2.INTER_AREA)
