"""HEIC, HEIF and AVIF: what their container says before any pixel is decoded, and the
decode itself (pillow-heif for HEVC, Pillow's own libavif plugin for AV1), imported only when
such a file is decoded.

Both formats are ISO-BMFF: top-level boxes (`ftyp`, `meta`, `mdat`) whose sizes add up to
the file, and image items whose bytes `iloc` places in the file. The checks here need
nothing but those bytes: a file shorter than its boxes or its items say is truncated, and an
image's size is in its `ispe` property (a tiled image's also in its `grid` descriptor), so a
HEIC claiming 20000x20000 is refused before libheif allocates anything.

Orientation: the HEIF standard makes the `irot`/`imir` properties the orientation and an
EXIF orientation tag only informative (an iPhone writes both, saying the same thing), so
the transforms are applied once and the tag is ignored, as libheif and browsers do.
"""

from __future__ import annotations

import io
import struct
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache

import numpy as np

from sorter.config import MAX_IMAGE_PIXELS
from sorter.errors import ImageError

HEVC_BRANDS = frozenset({b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"hevm", b"hevs"})
AV1_BRANDS = frozenset({b"avif", b"avis"})
IMAGE_BRANDS = HEVC_BRANDS | AV1_BRANDS | {b"mif1", b"msf1"}


@dataclass(frozen=True)
class Container:
    format: str  # "heic", "heif" (HEIF with no HEVC brand) or "avif"
    width: int  # of the largest image the file holds (the primary image, or the grid it is tiled into)
    height: int
    truncated: str = ""  # why the file is incomplete ("" when it is not)


def _boxes(data: bytes, start: int, end: int) -> Iterator[tuple[bytes, int, int]]:
    """(type, body start, box end) of each box in data[start:end]; a box may end past `end`
    (that is how a truncated file shows), and then it is the last one."""
    pos = start
    while pos + 8 <= end:
        size, kind = struct.unpack_from(">I4s", data, pos)
        body = pos + 8
        if size == 1 and pos + 16 <= end:
            (size,) = struct.unpack_from(">Q", data, pos + 8)
            body = pos + 16
        elif size == 0:  # extends to the end of the file
            size = end - pos
        if size < body - pos:
            raise ImageError("invalid HEIF box")
        yield kind, body, pos + size
        pos += size
    if pos < end:  # the start of a box header: the rest of the file is missing
        yield b"", pos, pos + 8


def _uint(data: bytes, pos: int, size: int) -> int:
    return int.from_bytes(data[pos : pos + size], "big") if size else 0


def _item_locations(data: bytes, body: int, end: int, idat: int) -> dict[int, tuple[int, int]]:
    """`iloc`: item id -> (first byte, end) of its bytes in `data`; items built from other
    items (construction method 2) are left out, their parts are items of their own. Counts
    that claim more entries than the box holds are refused, not looped over."""
    version = data[body]
    sizes = data[body + 4] << 8 | data[body + 5]
    offset_size, length_size, base_size = sizes >> 12, sizes >> 8 & 15, sizes >> 4 & 15
    index_size = sizes & 15 if version in (1, 2) else 0
    wide = 4 if version == 2 else 2
    count, pos = _uint(data, body + 6, wide), body + 6 + wide
    locations = {}
    for _ in range(count):
        if pos > end:
            raise IndexError("iloc entries past the end of the box")
        item, pos = _uint(data, pos, wide), pos + wide
        method = 0
        if version in (1, 2):
            method, pos = _uint(data, pos, 2) & 15, pos + 2
        base = _uint(data, pos + 2, base_size)
        extents, pos = _uint(data, pos + 2 + base_size, 2), pos + 4 + base_size
        first, last = len(data), 0
        if pos + extents * (index_size + offset_size + length_size) > end:
            raise IndexError("iloc extents past the end of the box")
        for _ in range(extents):
            pos += index_size
            offset, length = _uint(data, pos, offset_size), _uint(data, pos + offset_size, length_size)
            pos += offset_size + length_size
            start = base + offset + (idat if method == 1 else 0)
            first, last = min(first, start), max(last, start + length)
        if method in (0, 1) and extents:
            locations[item] = (first, last)
    return locations


def _item_types(data: bytes, body: int, end: int) -> dict[int, bytes]:
    """`iinf`: item id -> item type (b"hvc1", b"av01", b"grid", b"Exif", ...)."""
    wide = 4 if data[body] else 2
    types = {}
    for kind, start, _ in _boxes(data, body + 4 + wide, end):
        if kind == b"infe" and data[start] >= 2:
            item_size = 4 if data[start] == 3 else 2
            item = _uint(data, start + 4, item_size)
            types[item] = data[start + 4 + item_size + 2 : start + 4 + item_size + 6]
    return types


def ftyp_brands(data: bytes, body: int, end: int) -> list[bytes]:
    """The brands an `ftyp` box names (its body from `body`, the box ending at `end` or where
    `data` does): the major brand first, then the compatible ones."""
    return [data[body : body + 4], *(data[i : i + 4] for i in range(body + 8, min(end, len(data)) - 3, 4))]


def image_format(brands: list[bytes]) -> str | None:
    """"heic", "heif" or "avif" for the brands of an HEIF image file; None for any other
    ISO-BMFF file (an MP4 or a QuickTime video)."""
    found = set(brands)
    if not found & IMAGE_BRANDS:
        return None
    return "avif" if found & AV1_BRANDS else "heic" if found & HEVC_BRANDS else "heif"


def read_container(data: bytes) -> Container | None:
    """What an HEIF/AVIF file says about itself, from its boxes alone; None for other files
    (a video's `ftyp` brands are not image brands)."""
    if data[4:8] != b"ftyp":
        return None
    try:
        return _read_container(data)
    except (struct.error, IndexError) as exc:  # a box that claims more than its parent holds
        raise ImageError("invalid HEIF header") from exc


def _read_container(data: bytes) -> Container | None:
    boxes = list(_boxes(data, 0, len(data)))
    _, body, end = boxes[0]
    name = image_format(ftyp_brands(data, body, end))
    if name is None:
        return None
    complete = boxes[-1][2] <= len(data)
    sizes: list[tuple[int, int]] = []
    metas = [(body, end) for kind, body, end in boxes if kind == b"meta" and end <= len(data)]
    for body, end in metas:
        meta = {child: (start, stop) for child, start, stop in _boxes(data, body + 4, end)}
        for child, start, stop in _boxes(data, *meta.get(b"iprp", (0, 0))):
            if child == b"ipco":
                sizes += [struct.unpack_from(">II", data, s + 4) for k, s, _ in _boxes(data, start, stop) if k == b"ispe"]
        locations = _item_locations(data, *meta[b"iloc"], meta.get(b"idat", (0, 0))[0]) if b"iloc" in meta else {}
        complete = complete and all(last <= len(data) for _, last in locations.values())
        types = _item_types(data, *meta[b"iinf"]) if b"iinf" in meta else {}
        sizes += [_grid_size(data, first) for item, (first, last) in locations.items()
                  if types.get(item) == b"grid" and last - first >= 8 and last <= len(data)]
        # An AV1 item decodes at its sequence header's size, whatever `ispe` says (a crafted
        # 100x100 `ispe` over a 16384x16384 frame had dav1d allocate 400 MB).
        sizes += [_av1_frame_size(data, first, last) for item, (first, last) in locations.items()
                  if types.get(item) == b"av01" and last <= len(data)]
    width, height = max(sizes, key=lambda size: size[0] * size[1], default=(0, 0))
    if not complete:
        return Container(name, width, height, "shorter than its boxes say")
    if not metas:  # every HEIF/AVIF image file has one; a writer that puts it last has not got there
        return Container(name, width, height, "no meta box")
    return Container(name, width, height)


def _grid_size(data: bytes, pos: int) -> tuple[int, int]:
    """A grid descriptor's output size: libheif allocates this, whatever `ispe` says."""
    wide = 4 if data[pos + 1] & 1 else 2
    return _uint(data, pos + 4, wide), _uint(data, pos + 4 + wide, wide)


def _av1_frame_size(data: bytes, start: int, end: int) -> tuple[int, int]:
    """The largest frame an AV1 item's sequence header allows (AV1 spec 5.5), (0, 0) when its
    first OBUs hold none; at most 16 OBUs are looked at."""
    pos = start
    for _ in range(16):
        if pos >= end:
            break
        header = data[pos]
        kind, extension, has_size = header >> 3 & 15, header >> 2 & 1, header >> 1 & 1
        pos += 1 + extension
        size = end - pos
        if has_size:  # leb128
            size = 0
            for i in range(8):
                byte = data[pos]
                size |= (byte & 0x7F) << (7 * i)
                pos += 1
                if not byte & 0x80:
                    break
        if kind == 1:  # OBU_SEQUENCE_HEADER
            return _sequence_header_size(_Bits(data, pos, min(end, pos + size)))
        pos += size
    return (0, 0)


class _Bits:
    def __init__(self, data: bytes, start: int, end: int) -> None:
        self.data, self.bit, self.end = data, start * 8, end * 8

    def __call__(self, n: int) -> int:
        if self.bit + n > self.end:
            raise IndexError("AV1 sequence header past its OBU")
        value = 0
        for _ in range(n):
            value = value << 1 | self.data[self.bit >> 3] >> (7 - (self.bit & 7)) & 1
            self.bit += 1
        return value

    def uvlc(self) -> int:
        zeros = 0
        while not self(1):
            zeros += 1
            if zeros >= 32:
                return (1 << 32) - 1
        return self(zeros) + (1 << zeros) - 1


def _sequence_header_size(f: _Bits) -> tuple[int, int]:
    f(3)  # seq_profile
    f(1)  # still_picture
    if f(1):  # reduced_still_picture_header
        f(5)  # seq_level_idx[0]
    else:
        decoder_model_info = False
        if f(1):  # timing_info_present_flag
            f(32), f(32)  # num_units_in_display_tick, time_scale
            if f(1):  # equal_picture_interval
                f.uvlc()
            decoder_model_info = bool(f(1))
            if decoder_model_info:
                delay_bits = f(5) + 1
                f(32), f(5), f(5)
        initial_display_delay = f(1)
        for _ in range(f(5) + 1):  # operating points
            f(12)  # operating_point_idc
            if f(5) > 7:  # seq_level_idx
                f(1)  # seq_tier
            if decoder_model_info and f(1):
                f(delay_bits), f(delay_bits), f(1)
            if initial_display_delay and f(1):
                f(4)
    width_bits, height_bits = f(4) + 1, f(4) + 1
    return f(width_bits) + 1, f(height_bits) + 1


@cache
def _pillow():
    """Pillow with pillow-heif registered, set up once: one decoding thread per file (we
    decode several files at once), no depth maps or auxiliary images, and Pillow's own
    decompression-bomb limit at ours (we checked the header already)."""
    import pillow_heif
    from PIL import AvifImagePlugin, Image, ImageOps

    pillow_heif.register_heif_opener(decode_threads=1, depth_images=False, aux_images=False, thumbnails=True)
    AvifImagePlugin.DEFAULT_MAX_THREADS = 1
    Image.MAX_IMAGE_PIXELS = MAX_IMAGE_PIXELS
    return Image, ImageOps


def decode(data: bytes, fmt: str, size: int) -> np.ndarray:
    """Decode to uint8 RGB, the right way up. For HEIC/HEIF, the smallest stored thumbnail
    whose sides are both at least `size` when there is one (an iPhone stores a 320x240 one
    beside its 4032x3024 photo), else the primary image."""
    try:
        Image, ImageOps = _pillow()
    except ImportError as exc:  # a broken install: one file's reason, not a crash
        raise ImageError(f"cannot decode {fmt.upper()}: {exc}") from exc
    try:
        with Image.open(io.BytesIO(data), formats=["AVIF" if fmt == "avif" else "HEIF"]) as image:
            # pillow-heif picks the thumbnail in `draft`, and only one that is a scaled copy of
            # the image (same aspect ratio, crop and rotation). Pillow's AVIF plugin has no draft.
            image.draft("RGB", (size, size))
            # AVIF: Pillow reports irot/imir as an EXIF orientation (replacing the file's own
            # tag) for this to apply. HEIC: libheif applied them and pillow-heif resets the tag.
            ImageOps.exif_transpose(image, in_place=True)
            return np.asarray(image if image.mode == "RGB" else image.convert("RGB"))
    except (OSError, SyntaxError, ValueError, EOFError, RuntimeError) as exc:
        reason = str(exc).strip().splitlines()[-1] if str(exc).strip() else type(exc).__name__
        if reason.startswith("cannot identify image file"):  # Pillow names its buffer: <_io.BytesIO object at 0x...>
            reason = "not a readable image (corrupt or unsupported)"
        raise ImageError(f"cannot decode {fmt.upper()}: {reason}") from exc
