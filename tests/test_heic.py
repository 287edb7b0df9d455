"""HEIC, HEIF and AVIF, as phones and cameras write them, under the same contract as JPEG:
the size checked from the header, truncation detected before decoding, the orientation
applied once, FIFOs never opened, and no more pixels decoded than the network needs.

Every file here is written by pillow-heif (HEVC) or Pillow (AV1) themselves."""

from __future__ import annotations

import functools
import io
import json
import os
import re
import struct
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pillow_heif
import pytest
from conftest import FakeClassifier, tree
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import ExifTags, Image, features
from typer.testing import CliRunner

from sorter.cli import app
from sorter.errors import ImageError
from sorter.media.folders import Skipped, is_image_name, scan_folder
from sorter.media.images import load_image, read_header
from sorter.model import lite

pillow_heif.register_heif_opener()

needs_hevc_encoder = pytest.mark.skipif(
    not pillow_heif.libheif_info()["HEIF"], reason="this libheif build has no HEVC encoder to write test HEICs with"
)
needs_avif = pytest.mark.skipif(not features.check("avif"), reason="this Pillow was built without AVIF (libavif)")
FORMATS = [
    pytest.param(".heic", marks=needs_hevc_encoder),
    pytest.param(".HEIF", marks=needs_hevc_encoder),
    pytest.param(".avif", marks=needs_avif),
]
RED, GREEN, BLUE, WHITE = (255, 0, 0), (0, 255, 0), (0, 0, 255), (255, 255, 255)  # RGB


def picture(*colours: tuple[int, int, int], height: int = 48, width: int = 64) -> np.ndarray:
    """An RGB picture: one colour, or four quadrants (top-left, top-right, bottom-left,
    bottom-right) so that every rotation and mirroring looks different."""
    image = np.zeros((height, width, 3), np.uint8)
    if len(colours) == 1:
        image[:] = colours[0]
    else:
        for (rows, cols), colour in zip([(0, 0), (0, 1), (1, 0), (1, 1)], colours, strict=True):
            image[rows * height // 2 : (rows + 1) * height // 2, cols * width // 2 : (cols + 1) * width // 2] = colour
    return image


def write(path: Path, pixels: np.ndarray, orientation: int = 1, **options) -> Path:
    """A real file, its format from the extension. An EXIF orientation becomes what the
    writer makes of it: pillow-heif stores irot/imir and keeps the EXIF tag (as iPhones do),
    Pillow's AVIF writer stores irot/imir."""
    if orientation != 1:
        exif = Image.Exif()
        exif[ExifTags.Base.Orientation] = orientation
        options["exif"] = exif.tobytes()
    fmt = {".avif": "AVIF", ".jpg": "JPEG"}.get(path.suffix.lower(), "HEIF")
    Image.fromarray(pixels).save(path, format=fmt, quality=90, **options)
    return path


def quadrants(image: np.ndarray) -> np.ndarray:
    h, w = image.shape[0] // 2, image.shape[1] // 2
    return np.array([image[r * h : (r + 1) * h, c * w : (c + 1) * w].mean(axis=(0, 1)) for r in (0, 1) for c in (0, 1)])


@pytest.mark.parametrize("suffix", FORMATS)
def test_heic_heif_and_avif_decode_to_rgb(tmp_path: Path, suffix: str) -> None:
    path = write(tmp_path / f"photo{suffix}", picture(RED, GREEN, BLUE, WHITE))

    image = load_image(path, 32)

    assert image.shape == (32, 32, 3) and image.dtype == np.uint8
    assert np.abs(quadrants(image) - [RED, GREEN, BLUE, WHITE]).max() < 40


@pytest.mark.parametrize("suffix", FORMATS)
@pytest.mark.parametrize("orientation", [2, 3, 6, 8])
def test_orientation_is_applied_once_like_a_jpeg_with_the_same_exif_tag(
    tmp_path: Path, suffix: str, orientation: int
) -> None:
    """A HEIC that is both irot'ed and EXIF-tagged (as an iPhone writes it) is turned once,
    not twice: it comes out as OpenCV turns a JPEG with that EXIF orientation."""
    pixels = picture(RED, GREEN, BLUE, WHITE, height=48, width=96)
    heic = write(tmp_path / f"turned{suffix}", pixels, orientation)
    jpeg = write(tmp_path / "turned.jpg", pixels, orientation)

    assert np.abs(quadrants(load_image(heic, 32)) - quadrants(load_image(jpeg, 32))).max() < 40


def _claiming(data: bytes, width: int, height: int) -> bytes:
    """The same file with every `ispe` property (each image's size) claiming width x height."""
    out = bytearray(data)
    at = out.find(b"ispe")
    while at >= 0:
        out[at + 8 : at + 16] = struct.pack(">II", width, height)
        at = out.find(b"ispe", at + 4)
    return bytes(out)


@pytest.mark.parametrize("suffix", FORMATS)
def test_a_header_claiming_20000_x_20000_is_refused_before_decoding(tmp_path: Path, suffix: str) -> None:
    small = write(tmp_path / f"small{suffix}", picture(RED))
    bomb = tmp_path / f"bomb{suffix}"
    bomb.write_bytes(_claiming(small.read_bytes(), 20000, 20000))

    with pytest.raises(ImageError, match=r"^image too large to decode safely \(20000x20000 pixels\)$"):
        load_image(bomb, 32)


@needs_hevc_encoder
def test_a_tiled_heic_whose_grid_claims_more_than_its_ispe_is_refused(tmp_path: Path) -> None:
    """libheif allocates what the grid descriptor says (rows x columns of tiles, output
    width and height), so that is checked too, not only `ispe`."""
    data = write(tmp_path / "tiled.heic", picture(RED, height=400, width=600), tile_size=256).read_bytes()
    descriptor = data.find(b"idat") + 4  # version, flags, rows - 1, columns - 1, width, height
    assert data[descriptor + 4 : descriptor + 8] == struct.pack(">HH", 600, 400)
    bomb = tmp_path / "bomb.heic"
    bomb.write_bytes(data[:descriptor + 4] + struct.pack(">HH", 60000, 40000) + data[descriptor + 8 :])

    assert read_header(data).width == 600
    with pytest.raises(ImageError, match=r"too large to decode safely \(60000x40000 pixels\)"):
        load_image(bomb, 32)


@needs_avif
def test_an_avif_is_measured_by_its_av1_sequence_header_not_only_its_ispe(tmp_path: Path) -> None:
    """libavif decodes the frame the AV1 stream holds, whatever `ispe` says: a file whose
    `ispe` understates it (100x100 over a 16384x16384 frame had dav1d allocate 400 MB) is
    measured, and refused, by the larger."""
    data = write(tmp_path / "photo.avif", picture(RED, height=480, width=640)).read_bytes()
    understated = _claiming(data, 16, 12)
    header = read_header(understated)
    assert (header.width, header.height) == (640, 480)
    # the first OBUs of every AV1 item damaged anywhere: a size or a reason, never another exception
    for at in range(len(data) - 200, len(data)):
        for value in (0, 0x0A, 0xFF):
            try:
                read_header(understated[:at] + bytes([value]) + understated[at + 1 :])
            except ImageError:
                pass


@pytest.mark.parametrize("suffix", FORMATS)
@pytest.mark.parametrize(
    "where, reason",
    [
        ("the last byte of the image data", "shorter than its boxes say"),
        ("half", "shorter than its boxes say"),
        ("inside the meta box", "shorter than its boxes say"),
        ("inside the meta box's header", "shorter than its boxes say"),
        ("right after the ftyp box", "no meta box"),
    ],
)
def test_truncated_files_are_reported_as_truncated(tmp_path: Path, suffix: str, where: str, reason: str) -> None:
    """What a copy or a download cut short leaves: the file is left in place, with a reason."""
    data = write(tmp_path / f"whole{suffix}", picture(RED, BLUE, GREEN, WHITE, height=64, width=64)).read_bytes()
    (ftyp,) = struct.unpack(">I", data[:4])
    cut = {
        "the last byte of the image data": len(data) - 1,
        "half": len(data) // 2,
        "inside the meta box": ftyp + 40,
        "inside the meta box's header": ftyp + 4,
        "right after the ftyp box": ftyp,
    }[where]
    path = tmp_path / f"cut{suffix}"
    path.write_bytes(data[:cut])
    name = "AVIF" if suffix == ".avif" else "HEIC"

    with pytest.raises(ImageError, match=rf"^truncated {name} \({reason}\)$"):
        load_image(path, 32)


@needs_hevc_encoder
@settings(max_examples=300, deadline=None)
@given(edits=st.lists(st.tuples(st.integers(0, 2000), st.integers(0, 255)), min_size=1, max_size=8))
def test_a_damaged_header_gives_a_size_or_a_reason_and_nothing_else(edits: list[tuple[int, int]]) -> None:
    """Bytes overwritten anywhere in the boxes (sizes, counts, offsets) either still parse or
    raise ImageError: never another exception, never a loop over counts the file cannot hold."""
    data = bytearray(small_tiled_heic())
    for at, value in edits:
        data[at % len(data)] = value
    try:
        read_header(bytes(data))
    except ImageError:
        pass


@pytest.mark.parametrize("count", [b"\xff\xff", b"\x7f\xff"])
@needs_hevc_encoder
def test_an_item_count_the_box_cannot_hold_is_refused_at_once(count: bytes) -> None:
    data = small_tiled_heic()
    iloc = data.find(b"iloc") + 4
    assert data[iloc] in (0, 1)  # 16-bit item count after version, flags and the field sizes
    with pytest.raises(ImageError, match="^invalid HEIF header$"):
        read_header(data[: iloc + 6] + count + data[iloc + 8 :])


@functools.cache
def small_tiled_heic() -> bytes:
    """A 600x400 HEIC in 256 px tiles with a thumbnail: every box this module reads."""
    buffer = io.BytesIO()
    Image.fromarray(picture(RED, GREEN, BLUE, WHITE, height=400, width=600)).save(
        buffer, format="HEIF", quality=50, tile_size=256, thumbnails=[128]
    )
    return buffer.getvalue()


def _box(kind: bytes, *parts: bytes, version: int | None = None) -> bytes:
    body = (b"" if version is None else bytes([version, 0, 0, 0])) + b"".join(parts)
    return struct.pack(">I", 8 + len(body)) + kind + body


def _coded(pixels: np.ndarray) -> tuple[bytes, bytes]:
    """pillow-heif's HEVC coding of a picture: its decoder configuration (the `hvcC` box)
    and its bitstream (all of `mdat`, the only item in the file)."""
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format="HEIF", quality=90, save_nclx_profile=False)
    data = buffer.getvalue()
    at = data.find(b"hvcC") - 4
    mdat = data.rfind(b"mdat") + 4
    return data[at : at + struct.unpack(">I", data[at : at + 4])[0]], data[mdat:]


def heic_with_thumbnail(path: Path, primary: np.ndarray, thumbnail: np.ndarray) -> Path:
    """A HEIC laid out as an iPhone's is (a primary image, and a smaller one that `iref`
    marks as its thumbnail), put together box by box so that the thumbnail can show another
    colour than the photo: whichever colour comes out tells which of the two was decoded."""
    items = [_coded(primary), _coded(thumbnail)]
    sizes = [(primary.shape[1], primary.shape[0]), (thumbnail.shape[1], thumbnail.shape[0])]
    u16, u32 = (lambda v: struct.pack(">H", v)), (lambda v: struct.pack(">I", v))

    def meta(mdat_at: int) -> bytes:
        offsets = [mdat_at + 8, mdat_at + 8 + len(items[0][1])]
        return _box(
            b"meta",
            _box(b"hdlr", u32(0), b"pict", bytes(13), version=0),
            _box(b"pitm", u16(1), version=0),
            _box(b"iinf", u16(2), *(_box(b"infe", u16(i), u16(0), b"hvc1", b"\0", version=2) for i in (1, 2)), version=0),
            _box(b"iref", _box(b"thmb", u16(2), u16(1), u16(1)), version=0),
            _box(b"iloc", b"\x44\x00", u16(2), *(u16(i + 1) + u16(0) + u16(1) + u32(offsets[i]) + u32(len(items[i][1]))
                                                for i in (0, 1)), version=0),
            _box(b"iprp",
                 _box(b"ipco", items[0][0], _box(b"ispe", u32(sizes[0][0]), u32(sizes[0][1]), version=0),
                      items[1][0], _box(b"ispe", u32(sizes[1][0]), u32(sizes[1][1]), version=0)),
                 _box(b"ipma", u32(2), u16(1), bytes([2, 0x81, 0x02]), u16(2), bytes([2, 0x83, 0x04]), version=0)),
            version=0,
        )

    ftyp = _box(b"ftyp", b"heic", u32(0), b"mif1heic")
    head = ftyp + meta(0)
    head = ftyp + meta(len(head))
    path.write_bytes(head + _box(b"mdat", items[0][1], items[1][1]))
    return path


@needs_hevc_encoder
def test_a_stored_thumbnail_that_covers_the_input_size_is_decoded_instead_of_the_photo(tmp_path: Path) -> None:
    photo, thumbnail = picture(RED, height=480, width=640), picture(BLUE, height=240, width=320)
    path = heic_with_thumbnail(tmp_path / "IMG_0001.HEIC", photo, thumbnail)

    covered = load_image(path, 224)  # the 320x240 thumbnail covers 224x224
    too_small = load_image(path, 256)  # it does not cover 256x256: the photo itself

    assert covered[..., 2].mean() > 200 and covered[..., 0].mean() < 50  # blue: the thumbnail
    assert too_small[..., 0].mean() > 200 and too_small[..., 2].mean() < 50  # red: the primary image


def test_phone_and_camera_extensions_are_images_in_any_case() -> None:
    assert all(is_image_name(name) for name in ("IMG_0001.HEIC", "a.heic", "b.HEIF", "DSCF0001.HIF", "c.AVIF"))


@needs_hevc_encoder
def test_a_fifo_named_heic_is_skipped_and_never_opened_for_a_blocking_read(tmp_path: Path) -> None:
    fifo = tmp_path / "x.heic"
    os.mkfifo(fifo)

    assert list(scan_folder(tmp_path)) == [Skipped(fifo, "not a regular file")]
    with pytest.raises(ImageError, match="not a regular file"):
        load_image(fifo, 32)


@needs_hevc_encoder
@needs_avif
def test_sort_moves_heic_and_avif_photos(tmp_path: Path, monkeypatch) -> None:
    """The whole command, with the fake network (red is a dog, blue a cat)."""
    monkeypatch.setattr(lite, "load_classifier", lambda model: FakeClassifier())
    write(tmp_path / "IMG_0001.HEIC", picture(RED), orientation=6)
    write(tmp_path / "IMG_0002.avif", picture(BLUE))
    write(tmp_path / "IMG_0003.heif", picture(BLUE))
    (tmp_path / "IMG_0004.HEIC").write_bytes(_claiming((tmp_path / "IMG_0003.heif").read_bytes(), 20000, 20000))
    os.mkfifo(tmp_path / "pipe.heic")

    result = CliRunner().invoke(app, ["sort", str(tmp_path), "--json"])

    assert result.exit_code == 0, result.output
    assert set(tree(tmp_path)) == {"dogs/IMG_0001.HEIC", "cats/IMG_0002.avif", "cats/IMG_0003.heif", "IMG_0004.HEIC"}
    files = {Path(f["path"]).name: f for f in json.loads(result.stdout)["files"]}
    assert files["IMG_0004.HEIC"]["reason"] == "image too large to decode safely (20000x20000 pixels)"
    assert files["pipe.heic"]["reason"] == "not a regular file"


def test_jpeg_only_runs_never_import_pillow_or_pillow_heif(tmp_path: Path) -> None:
    jpeg = tmp_path / "a.jpg"
    cv2.imwrite(str(jpeg), np.zeros((8, 8, 3), np.uint8))
    code = (
        "import sys; from pathlib import Path; from sorter.media.images import load_image\n"
        f"load_image(Path({str(jpeg)!r}), 8)\n"
        "print(sorted(m for m in ('PIL', 'pillow_heif') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


@pytest.mark.parametrize(
    ("suffix", "name", "reason"),
    [
        pytest.param(".heic", "IMG_0005.MOV", "not a video: a HEIC photo named .MOV (rename it .heic to sort it)",
                     marks=needs_hevc_encoder),
        pytest.param(".avif", "clip.mp4", "not a video: an AVIF photo named .mp4 (rename it .avif to sort it)",
                     marks=needs_avif),
    ],
)
def test_a_photo_named_as_a_video_is_said_to_be_the_photo_it_is_never_a_truncated_mp4(
    tmp_path: Path, monkeypatch, suffix: str, name: str, reason: str,
) -> None:
    """An HEIF image is ISO-BMFF as an MP4 is (ftyp, meta, mdat), without a moov index: one
    named .MOV (a tool that saved a Live Photo's still under its video's name) was "truncated
    MP4 (no moov index)", and `watch` waited a minute for the rest of it. It is left in place
    with the true reason and what to do, whole or cut short, and counted among the photos (it
    was "unreadable: IMG_0005.MOV (video)", under "Videos: 0 moved, 2 left in place" and "kind":
    "video" in --json); renamed so, it is sorted as a photo."""
    from sorter.media import container

    monkeypatch.setattr(lite, "load_classifier", lambda model: FakeClassifier())
    folder = tmp_path / "roll"
    folder.mkdir()
    data = write(tmp_path / f"photo{suffix}", picture(RED)).read_bytes()  # red: a dog to the fake
    (folder / name).write_bytes(data)
    cut = folder / f"cut{Path(name).suffix}"
    cut.write_bytes(data[: len(data) // 2])

    result = CliRunner().invoke(app, ["sort", str(folder), "--verbose"])

    assert result.exit_code == 0, result.output
    assert f"unreadable: {name}: {reason}" in result.stderr
    assert f"unreadable: {cut.name}: {reason}" in result.stderr  # cut short: still a photo, not a truncated video
    assert "truncated" not in result.stderr
    assert "Videos:" not in result.stdout
    # The summary says the whole reason, what to do included, not "not a video" alone.
    wide = CliRunner(env={"COLUMNS": "200"}).invoke(app, ["sort", str(folder)])
    assert re.search(rf"│ left in place: unreadable +│ {re.escape(reason)} +│ +2 │", wide.stdout), wide.stdout
    report = json.loads(CliRunner().invoke(app, ["sort", str(folder), "--json"]).stdout)
    assert [(f["kind"], f["frames"], f["status"]) for f in report["files"]] == [("photo", None, "unreadable")] * 2
    assert report["counts"] == {"unreadable": 2} and report["videos"] == {}
    assert set(tree(folder)) == {name, cut.name}
    assert container.incomplete(folder / name) is None  # whole as it is: `watch` takes it at once
    (folder / name).rename(folder / f"{Path(name).stem}{suffix}")
    assert CliRunner().invoke(app, ["sort", str(folder)]).exit_code == 0
    assert set(tree(folder)) == {f"dogs/{Path(name).stem}{suffix}", cut.name}
