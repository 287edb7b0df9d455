"""Photos made for a benchmark, the same for the same seed: small 200x200 JPEGs (the dataset's
real ones when it is here), 4032x3024 phone photos (grainy, so they compress and decode like
real ones, in any format an `encode` writes), and phone photos that carry a 160x120 EXIF
thumbnail, as a phone's do. Each maker fills a new folder and says what it made."""

from __future__ import annotations

import shutil
from pathlib import Path

import cv2
import numpy as np
from running import DATASET  # this folder is on sys.path

PHONE_SIZE = (4032, 3024)  # width, height of a 12 MP phone photo


def make_small_photos(folder: Path, count: int, seed: int) -> str:
    """`count` 200x200 JPEGs: real photos when the dataset is here (each copied several times
    when it holds fewer than `count`, as a subset carried to another machine does), else
    synthetic ones."""
    folder.mkdir(parents=True)
    cats = sorted((DATASET / "Cat").glob("*.jpg")) if (DATASET / "Cat").is_dir() else []
    dogs = sorted((DATASET / "Dog").glob("*.jpg")) if (DATASET / "Dog").is_dir() else []
    if cats or dogs:
        pairs = [p for pair in zip(cats, dogs, strict=False) for p in pair] + cats[len(dogs):] + dogs[len(cats):]
        for i in range(count):
            shutil.copyfile(pairs[i % len(pairs)], folder / f"{i:06d}.jpg")
        repeated = f", each {count / len(pairs):.1f} times" if len(pairs) < count else ""
        return f"{DATASET.name} (copied{repeated})"
    # Synthetic: random crops of a few smooth noise pictures with colour shifts, JPEG q90
    # (about the size and entropy of the real 200x200 photos).
    rng = np.random.default_rng(seed)
    bases = [
        cv2.resize(rng.integers(0, 256, (24, 24, 3), dtype=np.uint8), (400, 400), interpolation=cv2.INTER_CUBIC)
        for _ in range(8)
    ]
    for i in range(count):
        base = bases[i % len(bases)]
        y, x = rng.integers(0, 200, 2)
        crop = base[y : y + 200, x : x + 200].astype(np.int16) + rng.integers(-40, 40, 3, dtype=np.int16)
        crop += rng.integers(-12, 13, crop.shape, dtype=np.int16)
        ok, data = cv2.imencode(".jpg", np.clip(crop, 0, 255).astype(np.uint8), [cv2.IMWRITE_JPEG_QUALITY, 90])
        assert ok
        (folder / f"{i:06d}.jpg").write_bytes(data.tobytes())
    return "synthetic"


def jpeg_q94(image: np.ndarray) -> bytes:
    ok, data = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, 94])
    assert ok
    return data.tobytes()


def make_phone_photos(
    folder: Path, count: int, seed: int, distinct: int = 4, encode=jpeg_q94, suffix: str = ".jpg"
) -> str:
    """`count` 4032x3024 photos (JPEGs of about 4 MB by default): a few distinct pictures
    (upscaled with grain, so they compress like real photos), written under many names.
    `encode` turns a BGR picture into a file's bytes; the same seed gives the same pictures."""
    folder.mkdir(parents=True)
    rng = np.random.default_rng(seed)
    encoded = []
    for _ in range(distinct):
        small = rng.integers(0, 256, (60, 80, 3), dtype=np.uint8)
        encoded.append(encode(grainy_phone_picture(cv2.GaussianBlur(small, (5, 5), 0), rng)))
    for i in range(count):
        (folder / f"IMG_{i:04d}{suffix}").write_bytes(encoded[i % distinct])
    return f"synthetic, {np.mean([len(d) for d in encoded]) / 2**20:.1f} MiB each"


def grainy_phone_picture(picture: np.ndarray, rng) -> np.ndarray:
    """A picture at PHONE_SIZE with grain, so it compresses (and decodes) like a real photo."""
    width, height = PHONE_SIZE
    image = cv2.resize(picture, (width, height), interpolation=cv2.INTER_CUBIC)
    return np.clip(image.astype(np.int16) + rng.integers(-12, 13, image.shape, dtype=np.int16), 0, 255).astype(np.uint8)


def make_thumbnailed_photos(folder: Path, count: int, seed: int, distinct: int = 32) -> tuple[str, int]:
    """`count` phone photos as `make_phone_photos` makes them, but of real cats and dogs (the
    dataset's last names) when the dataset is here, each with a
    160x120 EXIF thumbnail of itself (JPEG q85). Returns a description and how many are distinct
    (the first names hold one of each)."""
    from sorter.media.exif_thumbnail import with_exif

    folder.mkdir(parents=True)
    rng = np.random.default_rng(seed)
    sources = [path for kind in ("Cat", "Dog") if (DATASET / kind).is_dir()
               for path in sorted((DATASET / kind).glob("*.jpg"))[-distinct // 2:]]
    pictures = [cv2.imread(str(path)) for path in sources] or [
        cv2.GaussianBlur(rng.integers(0, 256, (60, 80, 3), dtype=np.uint8), (5, 5), 0) for _ in range(4)]
    encoded = []
    for picture in pictures:
        image = grainy_phone_picture(picture, rng)
        thumbnail = cv2.imencode(".jpg", cv2.resize(image, (160, 120), interpolation=cv2.INTER_AREA),
                                 [cv2.IMWRITE_JPEG_QUALITY, 85])[1].tobytes()
        encoded.append(with_exif(jpeg_q94(image), thumbnail, pixels=(image.shape[1], image.shape[0])))
    for i in range(count):
        (folder / f"IMG_{i:04d}.jpg").write_bytes(encoded[i % len(encoded)])
    kind = f"{len(sources)} cats and dogs of {DATASET.name}" if sources else "synthetic"
    return f"{kind}, {np.mean([len(d) for d in encoded]) / 2**20:.1f} MiB each, 160x120 EXIF thumbnails", len(encoded)
