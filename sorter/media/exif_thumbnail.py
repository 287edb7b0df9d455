"""A phone JPEG's first look: the 160x120 thumbnail its EXIF carries, read from the first
64 KB of the file and decoded in a fraction of a millisecond, instead of the 12 MP photo
(35 ms of a core even at 1/8 scale, benchmarks/profile_sort.py). The model's answer on it is
only taken when it is sure (`sorter.model.inference`); otherwise the photo is decoded whole.

Where the thumbnail is: EXIF is a small TIFF inside the APP1 segment; its second image file
directory (IFD1) gives the offset and length of a JPEG (JPEGInterchangeFormat/Length, tags
0x0201/0x0202) relative to the TIFF header, and its first (IFD0) the photo's orientation (tag
0x0112), which the thumbnail shares: it is stored as the sensor saw it, like the photo.

What makes a thumbnail usable (anything else is None, and the photo is decoded as before):
- the file passes the checks a full decode makes first (regular file, size, the photo's own
  header and pixel limit) and its end-of-image marker is there (a JPEG cut off while it was
  copied must stay "truncated", not be sorted by its intact thumbnail);
- the EXIF parses: every offset and count inside the segment, or no thumbnail (never a traceback);
- it was written for this photo: the EXIF gives the photo's size (PixelXDimension and
  PixelYDimension, as phones and cameras write them) and the photo is that size; a photo cropped
  by a tool that kept the camera's EXIF has the camera's thumbnail, of what was cut away, and an
  EXIF without the size (a tool that dropped those tags and kept the rest) cannot say it was
  written for this photo, so its thumbnail is not used either;
- it is a scaled copy of the photo: the same aspect ratio (some cameras store a 160x120
  thumbnail of a 3:2 or 16:9 photo, letterboxed) and no black bars at two opposite edges;
- the photo is large enough that its decode costs more than the look (MIN_PIXELS).
"""

from __future__ import annotations

import os
import struct
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from sorter.config import MAX_FILE_BYTES, MAX_IMAGE_PIXELS
from sorter.errors import ImageError
from sorter.media.images import decoded_pixels, jpeg_header, open_regular, shrink, square_rgb

#: Read first: APP1 (EXIF with its thumbnail) is at most 64 KB and comes right after the start
#: of image. A photo whose main header is further on (large ICC or maker segments) is read up
#: to HEAD_MAX_BYTES before giving up on the first look.
HEAD_BYTES = 64 * 1024
HEAD_MAX_BYTES = 256 * 1024
#: Read last: the end-of-image marker. Phones may append a trailer after it (Samsung's, a
#: gain map's own JPEG, which ends with one too); one longer than this (a motion photo's
#: video) sends the file down the full decode, which searches the whole file.
TAIL_BYTES = 64 * 1024
#: Only photos this large: a first look costs a network pass (2.4 ms on the EPYC), wasted on
#: every photo it does not settle, and a 12 MP JPEG costs 35 ms to decode at 1/8 scale where a
#: 1 MP one costs about 3 ms at 1/2 (its decode is then about as cheap as the look).
MIN_PIXELS = 2_000_000
#: The thumbnails phones and cameras write are 160x120 (EXIF's own suggestion); smaller ones
#: were never measured, and a "thumbnail" larger than this is no cheap first look.
MIN_THUMBNAIL_SIDE, MAX_THUMBNAIL_SIDE = 160, 1024
#: How far the thumbnail's aspect ratio may be from the photo's: 160x107 of a 6000x4000
#: photo is 0.3 % off (rounding); a 160x120 of a 3:2 photo is 11 % off.
ASPECT_TOLERANCE = 0.03
#: Letterboxing: both edge bands this share of a side deep, no pixel brighter than BAR_LEVEL,
#: while the middle is lit (a night photo, dark all over, is not letterboxed).
BAR_SHARE, BAR_LEVEL, LIT_MEAN = 0.06, 24, 40


@dataclass(frozen=True)
class Exif:
    orientation: int  # 1..8 as EXIF numbers them; 1 when absent or out of range
    thumbnail: tuple[int, int] | None  # (start, end) of the thumbnail JPEG in the file's bytes
    #: The photo's size as the EXIF says it (PixelXDimension, PixelYDimension of the Exif IFD), or None.
    pixels: tuple[int, int] | None = None


@dataclass(frozen=True)
class FirstLook:
    """What a thumbnail gives: the network's input and, when asked for, a picture for people."""

    image: np.ndarray  # (size, size, 3) uint8 RGB, as `images.decode_image` gives
    thumbnail: np.ndarray | None  # BGR, longer side at most the size asked for


def _exif_segment(data: bytes) -> tuple[int, int] | None:
    """Where the TIFF inside the APP1 "Exif" segment starts and the segment ends, among the
    segments before the scan."""
    pos, n = 2, len(data)
    while pos + 4 <= n and data[pos] == 0xFF:
        marker = data[pos + 1]
        if marker == 0xFF:
            pos += 1
            continue
        if marker == 0xDA:
            return None
        (length,) = struct.unpack_from(">H", data, pos + 2)
        if marker == 0xE1 and data[pos + 4 : pos + 10] == b"Exif\x00\x00":
            return pos + 10, min(len(data), pos + 2 + length)
        pos += 2 + length
    return None


def read_exif(data: bytes) -> Exif | None:
    """The orientation and the IFD1 thumbnail of a JPEG's EXIF, from its first bytes; None when
    there is no EXIF or it does not parse. A thumbnail that runs past its segment is none."""
    segment = _exif_segment(data)
    if segment is None:
        return None
    tiff, end = segment
    try:
        return _read_tiff(data[:end], tiff)
    except (struct.error, ValueError, IndexError):  # an offset or count past the segment
        return None


def _read_tiff(data: bytes, tiff: int) -> Exif | None:
    order = {b"II": "<", b"MM": ">"}.get(data[tiff : tiff + 2])
    if order is None or struct.unpack_from(order + "H", data, tiff + 2)[0] != 42:
        return None

    def ifd(offset: int) -> tuple[dict[int, int], int]:
        """An IFD's entries (tag -> first value, for SHORT and LONG values) and the next one's offset."""
        (count,) = struct.unpack_from(order + "H", data, tiff + offset)
        if tiff + offset + 2 + 12 * count + 4 > len(data):
            raise ValueError("IFD past the data")
        entries = {}
        for i in range(count):
            tag, kind, _, value = struct.unpack_from(order + "HHII", data, tiff + offset + 2 + 12 * i)
            if kind == 3:  # SHORT: the value sits in the first two bytes of the field
                (value,) = struct.unpack_from(order + "H", data, tiff + offset + 2 + 12 * i + 8)
            entries[tag] = value
        (following,) = struct.unpack_from(order + "I", data, tiff + offset + 2 + 12 * count)
        return entries, following

    (first,) = struct.unpack_from(order + "I", data, tiff + 4)
    ifd0, second = ifd(first)
    orientation = ifd0.get(0x0112, 1)
    orientation = orientation if 1 <= orientation <= 8 else 1
    pixels = None
    if ifd0.get(0x8769):  # the Exif IFD: the size of the photo the EXIF (and its thumbnail) was written for
        try:
            exif_ifd, _ = ifd(ifd0[0x8769])
        except (struct.error, ValueError):
            exif_ifd = {}
        if exif_ifd.get(0xA002) and exif_ifd.get(0xA003):
            pixels = (exif_ifd[0xA002], exif_ifd[0xA003])
    if not second or second == first:  # no IFD1, or one that loops back
        return Exif(orientation, None, pixels)
    ifd1, _ = ifd(second)
    start, length = ifd1.get(0x0201), ifd1.get(0x0202)
    if not start or not length or tiff + start + length > len(data) or ifd1.get(0x0103, 6) != 6:
        return Exif(orientation, None, pixels)  # absent, cut off, or an uncompressed (TIFF) thumbnail
    return Exif(orientation, (tiff + start, tiff + start + length), pixels)


def orient(image: np.ndarray, orientation: int) -> np.ndarray:
    """The picture the right way up, for an EXIF orientation 1..8 (as OpenCV applies it to a photo)."""
    if orientation == 2:
        return cv2.flip(image, 1)
    if orientation == 3:
        return cv2.rotate(image, cv2.ROTATE_180)
    if orientation == 4:
        return cv2.flip(image, 0)
    if orientation == 5:
        return cv2.transpose(image)
    if orientation == 6:
        return cv2.rotate(image, cv2.ROTATE_90_CLOCKWISE)
    if orientation == 7:
        return cv2.flip(cv2.transpose(image), -1)
    if orientation == 8:
        return cv2.rotate(image, cv2.ROTATE_90_COUNTERCLOCKWISE)
    return image


def letterboxed(image: np.ndarray) -> bool:
    """Black bars along two opposite edges of a lit picture: a thumbnail padded to a shape
    that is not the photo's (whatever its pixel size says). The bands first: rarely dark, and
    their maxima cost microseconds where the whole picture's would cost a third of a look."""
    height, width = image.shape[:2]
    rows, columns = max(1, round(height * BAR_SHARE)), max(1, round(width * BAR_SHARE))

    def dark(band: np.ndarray) -> bool:
        return int(band.max()) <= BAR_LEVEL

    bars = (dark(image[:rows]) and dark(image[-rows:])) or (dark(image[:, :columns]) and dark(image[:, -columns:]))
    return bars and float(image.mean()) >= LIT_MEAN


def look(head: bytes, size: int, thumbnail: int | None = None, min_pixels: int = MIN_PIXELS) -> FirstLook | None:
    """The first look from a JPEG's first bytes (the caller checked that the file is complete),
    or None where the thumbnail is absent, broken or not a scaled copy of the photo."""
    header = jpeg_header(head)
    if header is None:
        return None
    if not (min_pixels <= header.width * header.height and decoded_pixels(header, size) <= MAX_IMAGE_PIXELS):
        return None  # too small to be worth it, or a hostile header: the full decode refuses it
    exif = read_exif(head)
    if exif is None or exif.thumbnail is None:
        return None
    if exif.pixels is None or sorted(exif.pixels) != sorted((header.width, header.height)):
        # The EXIF was written for another photo: this one edited (cropped, resized) by a tool
        # that kept the camera's EXIF, thumbnail and all. Its thumbnail shows what was cut away.
        # Without the size there is no telling, and a stale thumbnail must never file a photo.
        return None
    start, end = exif.thumbnail
    embedded = head[start:end]
    inner = jpeg_header(embedded) if embedded[:3] == b"\xff\xd8\xff" else None
    if inner is None or max(inner.width, inner.height) > MAX_THUMBNAIL_SIDE:
        return None
    if max(inner.width, inner.height) < MIN_THUMBNAIL_SIDE or embedded.rfind(b"\xff\xd9") < inner.scan_offset:
        return None
    if abs(inner.width * header.height / (inner.height * header.width) - 1) > ASPECT_TOLERANCE:
        return None
    try:  # the thumbnail carries no orientation of its own that counts: the photo's is applied
        picture = cv2.imdecode(np.frombuffer(embedded, np.uint8), cv2.IMREAD_COLOR | cv2.IMREAD_IGNORE_ORIENTATION)
    except cv2.error:
        return None
    if picture is None or picture.shape[:2] != (inner.height, inner.width) or letterboxed(picture):
        return None
    picture = orient(picture, exif.orientation)
    # The picture for people even when it is smaller than asked (160 px for the review page's cut
    # at 224): decoding the 12 MP photo again for the page would cost 34 ms, the thumbnail nothing.
    small = shrink(picture, thumbnail) if thumbnail is not None else None
    return FirstLook(square_rgb(picture, size), small)


def first_look(path: Path, size: int, thumbnail: int | None = None) -> FirstLook | None:
    """`look` at a file, reading its first HEAD_BYTES (up to HEAD_MAX_BYTES when the photo's
    header is further on) and its last TAIL_BYTES, never the rest. None sends the photo down
    the full decode, which reports whatever is wrong with the file."""
    try:
        with open_regular(path) as (fd, length):
            if length > MAX_FILE_BYTES or length < 4:
                return None
            head = os.pread(fd, HEAD_BYTES, 0)
            if head[:3] != b"\xff\xd8\xff":
                return None
            if jpeg_header(head) is None and length > len(head):
                head = os.pread(fd, HEAD_MAX_BYTES, 0)
            tail_at = max(0, length - TAIL_BYTES)
            tail = os.pread(fd, TAIL_BYTES, tail_at)
    except (ImageError, OSError):
        return None
    header = jpeg_header(head)
    # An end-of-image marker after the photo's first scan: the file is whole (as `images.check_header`
    # asks of a full decode; entropy-coded data never holds FF D9, the thumbnail before it does).
    marker = tail.rfind(b"\xff\xd9")
    if header is None or marker < 0 or tail_at + marker < header.scan_offset:
        return None
    return look(head, size, thumbnail)


def with_exif(jpeg: bytes, thumbnail: bytes, orientation: int = 1, *, little_endian: bool = False,
              pixels: tuple[int, int] | None = None) -> bytes:
    """`jpeg` with an APP1 EXIF segment holding `orientation` (IFD0), `thumbnail`, a JPEG
    (IFD1), and with `pixels` the photo's size (the Exif IFD's PixelX/YDimension), as a phone
    writes it: for tests and benchmarks, which need such files and have no exiftool. The
    thumbnail must fit the segment (64 KB with the TIFF around it)."""
    order = "<" if little_endian else ">"
    entries0 = 2 if pixels else 1
    ifd0_at = 8
    ifd1_at = ifd0_at + 2 + 12 * entries0 + 4
    exif_at = ifd1_at + 2 + 3 * 12 + 4
    data_at = exif_at + (2 + 2 * 12 + 4 if pixels else 0)
    tiff = (
        (b"II*\x00" if little_endian else b"MM\x00*") + struct.pack(order + "I", ifd0_at)
        + struct.pack(order + "HHHIHH", entries0, 0x0112, 3, 1, orientation, 0)
        + (struct.pack(order + "HHII", 0x8769, 4, 1, exif_at) if pixels else b"")
        + struct.pack(order + "I", ifd1_at)
        + struct.pack(order + "H", 3)
        + struct.pack(order + "HHIHH", 0x0103, 3, 1, 6, 0)
        + struct.pack(order + "HHII", 0x0201, 4, 1, data_at)
        + struct.pack(order + "HHII", 0x0202, 4, 1, len(thumbnail))
        + struct.pack(order + "I", 0)
        + (struct.pack(order + "HHHIIHHII", 2, 0xA002, 4, 1, pixels[0], 0xA003, 4, 1, pixels[1]) + struct.pack(
            order + "I", 0) if pixels else b"")
        + thumbnail
    )
    body = b"Exif\x00\x00" + tiff
    if len(body) + 2 > 0xFFFF:
        raise ValueError(f"thumbnail too large for an APP1 segment ({len(thumbnail)} bytes)")
    return jpeg[:2] + b"\xff\xe1" + struct.pack(">H", len(body) + 2) + body + jpeg[2:]
