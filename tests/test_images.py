"""The preprocessing contract: every supported format decodes to (size, size, 3) uint8
RGB; broken and hostile files fail fast with a one-line reason."""

from __future__ import annotations

import io
import os
import struct
import time
import zlib
from pathlib import Path

import cv2
import numpy as np
import pytest
from conftest import DATASET, needs_dataset, write_image

from sorter.errors import ImageError
from sorter.media.folders import Skipped, is_image_name, scan_folder
from sorter.media.images import load_image, read_header


@pytest.mark.parametrize("name", ["a.jpg", "b.JPEG", "c.png", "d.webp", "e.bmp", "f.tif", "g.TIFF", "h.gif"])
def test_every_supported_format_decodes_to_rgb(tmp_path: Path, name: str) -> None:
    path = write_image(tmp_path / name, colour=(255, 0, 0))  # BGR blue
    image = load_image(path, 32)
    assert image.shape == (32, 32, 3) and image.dtype == np.uint8
    assert image[..., 2].mean() > 200 and image[..., 0].mean() < 50  # RGB order: blue last


def test_greyscale_alpha_and_16_bit_images(tmp_path: Path) -> None:
    grey = tmp_path / "grey.png"
    cv2.imwrite(str(grey), np.full((40, 50), 128, np.uint8))
    alpha = tmp_path / "alpha.png"
    cv2.imwrite(str(alpha), np.dstack([np.full((40, 50, 3), 200, np.uint8), np.zeros((40, 50), np.uint8)]))
    deep = tmp_path / "deep.png"
    cv2.imwrite(str(deep), np.full((40, 50, 3), 65535, np.uint16))
    for path in (grey, alpha, deep):
        image = load_image(path, 24)
        assert image.shape == (24, 24, 3) and image.dtype == np.uint8
    assert load_image(deep, 24).min() == 255


def test_exif_orientation_is_applied(tmp_path: Path) -> None:
    # A 40x80 (portrait) JPEG whose EXIF says "rotate 90": it must come out landscape-rotated.
    image = np.zeros((80, 40, 3), np.uint8)
    image[:40] = (0, 0, 255)  # top half red (BGR)
    ok, jpeg = cv2.imencode(".jpg", image)
    orientation_entry = struct.pack(">HHIHH", 0x0112, 3, 1, 6, 0)  # tag 0x0112 = 6
    exif = b"Exif\x00\x00" + b"MM\x00\x2a\x00\x00\x00\x08" + struct.pack(">H", 1) + orientation_entry + b"\x00\x00\x00\x00"
    app1 = b"\xff\xe1" + struct.pack(">H", len(exif) + 2) + exif
    data = jpeg.tobytes()
    rotated = tmp_path / "rotated.jpg"
    rotated.write_bytes(data[:2] + app1 + data[2:])
    plain = tmp_path / "plain.jpg"
    plain.write_bytes(data)
    a, b = load_image(rotated, 16), load_image(plain, 16)
    # Plain: red on top. Orientation 6 (rotate 90 clockwise): red on the right.
    assert b[:8, :, 0].mean() > 200 and b[8:, :, 0].mean() < 50
    assert a[:, 8:, 0].mean() > 200 and a[:, :8, 0].mean() < 50


def test_large_jpeg_is_decoded_at_reduced_size_with_the_same_result(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    big = cv2.resize(rng.integers(0, 255, (30, 40, 3), dtype=np.uint8), (4000, 3000), interpolation=cv2.INTER_CUBIC)
    path = tmp_path / "phone.jpg"
    cv2.imwrite(str(path), big)
    fast = load_image(path, 128)
    full = cv2.cvtColor(cv2.resize(cv2.imread(str(path)), (128, 128), interpolation=cv2.INTER_AREA), cv2.COLOR_BGR2RGB)
    assert np.abs(fast.astype(int) - full.astype(int)).mean() < 3


def _png_chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def test_decompression_bomb_is_refused_from_its_header(tmp_path: Path) -> None:
    ihdr = struct.pack(">IIBBBBB", 20000, 20000, 8, 2, 0, 0, 0)
    bomb = tmp_path / "bomb.png"
    bomb.write_bytes(
        b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", ihdr)
        + _png_chunk(b"IDAT", zlib.compress(b"\x00" * 100_000)) + _png_chunk(b"IEND", b"")
    )
    started = time.monotonic()
    with pytest.raises(ImageError, match="too large to decode safely"):
        load_image(bomb, 64)
    assert time.monotonic() - started < 1.0
    assert read_header(bomb.read_bytes()).width == 20000
    # A TIFF's header, read too; a GIF's, not: OpenCV's own limit refuses it, in the same words.
    tiff = tmp_path / "bomb.tif"
    tags = [(256, 4, 60000), (257, 4, 60000), (258, 3, 8), (259, 3, 1), (262, 3, 1), (273, 4, 8 + 2 + 9 * 12 + 4),
            (277, 3, 1), (278, 4, 60000), (279, 4, 100)]
    tiff.write_bytes(b"II*\x00" + struct.pack("<IH", 8, len(tags))
                     + b"".join(struct.pack("<HHII", tag, kind, 1, value) for tag, kind, value in tags)
                     + struct.pack("<I", 0) + bytes(100))
    with pytest.raises(ImageError, match=r"^image too large to decode safely \(60000x60000 pixels\)$"):
        load_image(tiff, 64)
    from PIL import Image

    small = io.BytesIO()
    Image.new("RGB", (8, 8), (200, 30, 30)).save(small, "GIF")
    gif = bytearray(small.getvalue())
    gif[6:10] = struct.pack("<HH", 60000, 60000)  # the screen
    descriptor = gif.find(b",", 13)
    gif[descriptor + 5:descriptor + 9] = struct.pack("<HH", 60000, 60000)  # and the image in it
    (tmp_path / "bomb.gif").write_bytes(bytes(gif))
    with pytest.raises(ImageError, match=r"^image too large to decode safely \(over 120 MP\)$"):
        load_image(tmp_path / "bomb.gif", 64)
    # Under the pixel limit, but 16-bit RGBA: 950 MB as stored, 1.5 GB while it decoded.
    deep = tmp_path / "deep.png"
    deep.write_bytes(b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", struct.pack(">IIBBBBB", 10900, 10900, 16, 6, 0, 0, 0))
                     + _png_chunk(b"IDAT", zlib.compress(b"\x00" * 1000)) + _png_chunk(b"IEND", b""))
    with pytest.raises(ImageError, match=r"^image too large to decode safely \(10900x10900 pixels, 8 bytes each\)$"):
        load_image(deep, 64)


@pytest.mark.parametrize("progressive", [False, True])
def test_a_200_mp_phone_jpeg_is_decoded_at_an_eighth_and_a_progressive_one_refused(
    tmp_path: Path, progressive: bool
) -> None:
    """A phone's 200 MP JPEG (16320x12240) costs 3 MP at 1/8 scale, decoded row by row; a
    progressive JPEG keeps every coefficient of the whole photo while it decodes."""
    small = cv2.imencode(".jpg", np.full((64, 64, 3), 128, np.uint8), [cv2.IMWRITE_JPEG_PROGRESSIVE, int(progressive)])
    data = bytearray(small[1].tobytes())
    frame = data.find(b"\xff\xc2" if progressive else b"\xff\xc0")
    data[frame + 5:frame + 9] = struct.pack(">HH", 12240, 16320)  # the header of a 200 MP photo
    photo = tmp_path / "IMG_200MP.jpg"
    photo.write_bytes(bytes(data))
    if progressive:
        with pytest.raises(ImageError, match=r"too large to decode safely \(16320x12240 pixels\)"):
            load_image(photo, 224)
    else:
        assert load_image(photo, 224).shape == (224, 224, 3)


@pytest.mark.parametrize(
    "content, reason",
    [
        (b"", "empty file"),
        (b"this is not an image", "not a readable image"),
        (".jpg", "truncated JPEG"),
        (".png", "truncated PNG"),
        (".webp", "truncated WebP"),
        (".bmp", "truncated BMP"),
    ],
)
def test_broken_files_raise_one_line_reasons(tmp_path: Path, content, reason: str) -> None:
    path = tmp_path / "broken.jpg"
    if isinstance(content, str):  # the first half of a photo, as a writer paused mid-file leaves it
        noise = np.random.default_rng(1).integers(0, 255, (200, 200, 3), dtype=np.uint8)
        content = cv2.imencode(content, noise)[1].tobytes()
        content = content[: len(content) // 2]
    path.write_bytes(content)
    with pytest.raises(ImageError, match=reason) as info:
        load_image(path, 32)
    assert "\n" not in str(info.value)


def test_fifo_is_never_opened_for_a_blocking_read(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe.jpg"
    os.mkfifo(fifo)
    with pytest.raises(ImageError, match="not a regular file"):
        load_image(fifo, 32)


def test_scan_skips_links_and_special_files_and_never_enters_outputs(tmp_path: Path) -> None:
    write_image(tmp_path / "a.jpg")
    write_image(tmp_path / "cats" / "old.jpg")
    write_image(tmp_path / "sub" / "b.png")
    (tmp_path / "notes.txt").write_text("hi")
    (tmp_path / "link.jpg").symlink_to(tmp_path / "a.jpg")
    os.mkfifo(tmp_path / "fifo.jpg")
    (tmp_path / "linkdir").symlink_to(tmp_path / "sub")
    flat = list(scan_folder(tmp_path, exclude=frozenset({"cats"})))
    assert [p.name for p in flat if isinstance(p, Path)] == ["a.jpg"]
    assert sorted(s.path.name for s in flat if isinstance(s, Skipped)) == ["fifo.jpg", "link.jpg"]
    deep = [p for p in scan_folder(tmp_path, recursive=True, exclude=frozenset({"cats"})) if isinstance(p, Path)]
    assert sorted(p.relative_to(tmp_path).as_posix() for p in deep) == ["a.jpg", "sub/b.png"]


def test_image_names() -> None:
    assert is_image_name("IMG_0001.JPG") and is_image_name("x.jpeg") and is_image_name("y.WebP")
    assert not is_image_name(".hidden.jpg") and not is_image_name("a.jpg.part") and not is_image_name("a.txt")


@needs_dataset
def test_training_and_sorting_preprocess_a_file_identically(tmp_path: Path) -> None:
    """The tf.data training pipeline and `sort` share one function: same file, same tensor."""
    import tensorflow as tf

    from sorter.training.loop import TrainConfig, _dataset

    path = DATASET / "Cat" / "0.jpg"
    config = TrainConfig(data_dir=DATASET, out=tmp_path / "m.keras", image_size=64, batch_size=1)
    (batch, _), = _dataset([(path, 0)], config, training=False, broken=[]).take(1)
    expected = load_image(path, 64)
    assert batch.dtype == tf.uint8
    np.testing.assert_array_equal(batch.numpy()[0], expected)


def test_a_picture_keeps_its_decode_for_a_closer_look_and_a_sharper_crop(tmp_path: Path) -> None:
    from sorter.media.images import load_picture

    # 400 x 300, a different colour in each quarter, lossless.
    photo = np.zeros((300, 400, 3), np.uint8)
    photo[:150, :200] = (255, 0, 0)  # BGR: blue, top left
    photo[:150, 200:] = (0, 255, 0)
    photo[150:, :200] = (0, 0, 255)  # red, bottom left
    path = tmp_path / "quarters.png"
    cv2.imwrite(str(path), photo)

    picture = load_picture(path, 224)
    assert np.array_equal(picture.image, load_image(path, 224))  # the network's input, as ever
    assert picture.source.shape == (300, 400, 3) and picture.thumbnail is None
    assert picture.at(288).shape == (288, 288, 3)
    # A box is in shares of the photo's height and width, as on the square input.
    top_left = picture.crop((0.0, 0.5, 0.0, 0.5), 224)
    assert top_left.shape == (224, 224, 3) and (top_left == (0, 0, 255)).all()  # RGB: blue
    bottom_left = picture.crop((0.5, 1.0, 0.0, 0.5), 224)
    assert (bottom_left == (255, 0, 0)).all()  # RGB: red


def test_a_large_photo_that_decodes_whole_is_kept_at_twice_the_input_at_most(tmp_path: Path) -> None:
    from sorter.media.images import KEPT_SCALE, load_image, load_picture

    # A PNG has no reduced decode: 2000 x 1500 decodes whole, 9 MB; a few hundred in flight.
    path = tmp_path / "large.png"
    cv2.imwrite(str(path), np.random.default_rng(0).integers(0, 255, (1500, 2000, 3), dtype=np.uint8))
    picture = load_picture(path, 224)
    assert picture.source.shape == (KEPT_SCALE * 224, round(2000 * KEPT_SCALE * 224 / 1500), 3)
    assert np.array_equal(picture.image, load_image(path, 224))  # the input from the whole decode, as ever


def progressive_jpeg(scans_more: int = 0, trailer: bytes = b"") -> bytes:
    """A progressive JPEG (about ten scans), its smallest scan repeated `scans_more` times
    more (what libjpeg decodes as more passes over the photo), then `trailer` after its end."""
    data = cv2.imencode(".jpg", np.full((64, 64, 3), 128, np.uint8), [cv2.IMWRITE_JPEG_PROGRESSIVE, 1])[1].tobytes()
    scans, pos = [], 2
    while data[pos + 1] != 0xD9:
        length = int.from_bytes(data[pos + 2:pos + 4], "big")
        if data[pos + 1] != 0xDA:
            pos += 2 + length
            continue
        end = pos + 2 + length
        while not (data[end] == 0xFF and data[end + 1] != 0 and not 0xD0 <= data[end + 1] <= 0xD7):
            end += 1
        scans.append((pos, end))
        pos = end
    start, stop = min(scans, key=lambda scan: scan[1] - scan[0])
    return data[:pos] + data[start:stop] * scans_more + data[pos:] + trailer


def test_a_jpeg_of_thousands_of_scans_is_refused_before_it_holds_a_core(tmp_path: Path) -> None:
    """Each scan of a progressive JPEG is a pass over the whole photo: 10,000 of them in a
    1.4 MB file held a core for 89 s."""
    trap = tmp_path / "trap.jpg"
    trap.write_bytes(progressive_jpeg(scans_more=2000))
    with pytest.raises(ImageError, match=r"^too many progressive scans to decode safely \(over 100; a photo has"):
        load_image(trap, 32)
    # Nor does counting them cost seconds: two million empty comments among them are walked no further.
    data = progressive_jpeg(scans_more=200)
    first_scan = data.index(b"\xff\xda")
    trap.write_bytes(data[:first_scan + 2] + data[first_scan + 2:].replace(b"\xff\xda", b"\xff\xfe\x00\x02" * 2_000_000
                                                                            + b"\xff\xda", 1))
    started = time.monotonic()
    with pytest.raises(ImageError, match=r"^too many progressive scans"):
        load_image(trap, 32)
    assert time.monotonic() - started < 1.0
    # A real progressive JPEG, and one followed by a motion photo's video whose bytes hold FF DA
    # by chance (a trailer is not scanned), decode as always.
    for name, trailer in (("plain.jpg", b""), ("motion.jpg", b"ftypmp42" + b"\xff\xda\x00" * 500)):
        (tmp_path / name).write_bytes(progressive_jpeg(trailer=trailer))
        assert load_image(tmp_path / name, 32).shape == (32, 32, 3)
