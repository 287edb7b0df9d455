"""Compose pictures made of photos that are neither a cat nor a dog: app screens showing a
grid of photos, collages, film posters and video calls, for `sorter train --other`.

Why: a camera roll holds screenshots of galleries, shops and video calls, and posters, and
the model filed such pictures of people and things as dogs at 90 % and more; no shared set
holds them. They are drawn from the photos given (use only photos of the sources the model
trains on, never its validation's or the hold-out's), from a seed, so anyone gets the same:

    python benchmarks/make_photo_screens.py build/photo-screens --count 1200
    sorter train DATA --other ... --other build/photo-screens
"""

from __future__ import annotations

import argparse
import glob
import random
from pathlib import Path

from arg_types import datasets_dir, positive_int  # this folder is on sys.path
from make_text_graphics import colour, font, words
from PIL import Image, ImageDraw, ImageOps
from running import DATASETS, as_script  # this folder is on sys.path

KINDS = ("galleries", "collages", "posters", "calls")
#: The Caltech-101 kinds the bundled model trains on (its split, seed 1337, holds the others
#: out whole for validation).
CALTECH_TRAINING = """
    Motorbikes airplanes anchor ant barrel bass binocular bonsai brontosaurus buddha
    camera car_side ceiling_fan cellphone chair chandelier crab crocodile_head cup dollar_bill
    dolphin electric_guitar elephant euphonium ewer flamingo flamingo_head gerenuk gramophone grand_piano
    hedgehog helicopter ibis inline_skate joshua_tree kangaroo lamp laptop llama mandolin
    mayfly menorah metronome minaret octopus platypus revolver rhino schooner scorpion
    stapler starfish strawberry tick trilobite umbrella watch windsor_chair wrench yin_yang
""".split()
#: The photos drawn from, as pools under `--shared`: only sources the model trains on (people
#: from the street-fashion set, twice: people are what these pictures show most), never one its
#: validation holds out (BSD68's people and things, the cattle video, Sun-Hays) nor the hold-out.
POOLS = (
    "everyday-not-pets/people/ccp_*",
    "everyday-not-pets/people/ccp_*",
    "everyday-not-pets/places/urban_*,everyday-not-pets/places/bsd_*",
    "everyday-not-pets/things/trash_*,everyday-not-pets/things/grocery_*",
    "everyday-not-pets/animals/whorse_*",
    ",".join(f"caltech101-not-pets/{kind}/*" for kind in CALTECH_TRAINING),
)


def photos_under(shared: Path, patterns: list[str]) -> list[Path]:
    """The photos matching any of the globs under `shared`, in one sorted list."""
    return sorted(Path(p) for pattern in patterns for p in glob.glob(str(shared / pattern)))


class Photos:
    """Photos in pools (one per --photos glob): a pool is drawn first, then a photo in it,
    so that a few hundred people weigh as much as thousands of objects."""

    def __init__(self, pools: list[list[Path]], rng: random.Random):
        self.pools, self.rng = [pool for pool in pools if pool], rng

    def __len__(self) -> int:
        return sum(len(pool) for pool in self.pools)

    def pick(self) -> Path:
        return self.rng.choice(self.rng.choice(self.pools))


def tile(photo: Path, w: int, h: int) -> Image.Image:
    """The photo cut to fill a w×h cell, as a gallery shows it."""
    with Image.open(photo) as image:
        return ImageOps.fit(image.convert("RGB"), (max(w, 1), max(h, 1)))


def gallery(rng: random.Random, photos: Photos, w: int, h: int) -> Image.Image:
    """An app or web page: a bar, maybe a side panel of text, and a grid of photos."""
    dark = rng.random() < 0.5
    image = Image.new("RGB", (w, h), (22, 24, 30) if dark else (248, 248, 248))
    draw = ImageDraw.Draw(image)
    ink = (225, 225, 225) if dark else (30, 30, 30)
    top = h // rng.randint(8, 14)
    draw.rectangle((0, 0, w, top), fill=colour(rng, False) if rng.random() < 0.6 else image.getpixel((0, 0)))
    draw.text((8, top // 4), words(rng, 3).title(), font=font(rng, max(top // 2, 8)), fill=(240, 240, 240))
    left = 0
    if rng.random() < 0.5:  # a panel of text or code beside the photos
        left = int(w * rng.uniform(0.25, 0.45))
        y = top + 10
        while y < h - 12:
            draw.text((8, y), words(rng, rng.randint(2, 5)), font=font(rng, 11), fill=ink)
            y += rng.randint(14, 22)
    cols, rows = rng.randint(2, 4), rng.randint(1, 4)
    gap = rng.randint(2, 10)
    cw, ch = (w - left - gap * (cols + 1)) // cols, (h - top - gap * (rows + 1)) // rows
    for r in range(rows):
        for c in range(cols):
            x, y = left + gap + c * (cw + gap), top + gap + r * (ch + gap)
            image.paste(tile(photos.pick(), cw, ch), (x, y))
            if rng.random() < 0.4:  # a caption under the photo
                draw.text((x + 2, y + ch - 12), words(rng, 2), font=font(rng, 10), fill=(255, 255, 255))
    return image


def collage(rng: random.Random, photos: Photos, w: int, h: int) -> Image.Image:
    """Two to six photos side by side, or a strip of faces with names under them."""
    image = Image.new("RGB", (w, h), colour(rng, rng.random() < 0.6))
    draw = ImageDraw.Draw(image)
    n = rng.randint(2, 6)
    cw = w // n
    ch = int(h * rng.uniform(0.4, 1.0))
    y = (h - ch) // 2
    for i in range(n):
        image.paste(tile(photos.pick(), cw - 4, ch - 16), (i * cw + 2, y))
        draw.text((i * cw + 4, y + ch - 14), words(rng, 1), font=font(rng, 10), fill=(20, 20, 20))
    return image


def poster(rng: random.Random, photos: Photos, w: int, h: int) -> Image.Image:
    """A film poster or cover: one to four photos, a large title, credits."""
    image = Image.new("RGB", (w, h), colour(rng, rng.random() < 0.5))
    n = rng.choice((1, 1, 2, 3, 4))
    band = int(h * rng.uniform(0.55, 0.85))
    for i in range(n):
        image.paste(tile(photos.pick(), w // n, band), (i * (w // n), int(h * 0.12)))
    draw = ImageDraw.Draw(image)
    ink = colour(rng, True) if rng.random() < 0.7 else colour(rng, False)
    draw.text((w * 0.05, h * 0.02), words(rng, 3).upper(), font=font(rng, h // 30), fill=ink)
    draw.text((w * 0.06, h * rng.uniform(0.55, 0.8)), words(rng, 2).title(), font=font(rng, h // 9), fill=ink)
    draw.text((w * 0.05, h * 0.92), words(rng, 8), font=font(rng, h // 40), fill=ink)
    return image


def call(rng: random.Random, photos: Photos, w: int, h: int) -> Image.Image:
    """A video call: two to six people in tiles on a dark screen, a bar of buttons."""
    image = Image.new("RGB", (w, h), (28, 28, 32))
    draw = ImageDraw.Draw(image)
    n = rng.choice((2, 4, 6))
    cols = 2 if n < 6 else 3
    rows = n // cols
    cw, ch = (w - 8) // cols, (h - 40) // rows
    for i in range(n):
        x, y = 4 + (i % cols) * cw, 4 + (i // cols) * ch
        image.paste(tile(photos.pick(), cw - 4, ch - 4), (x, y))
        draw.text((x + 4, y + ch - 18), words(rng, 1).title(), font=font(rng, 11), fill=(255, 255, 255))
    for i in range(4):
        cx = w // 2 + (i - 1.5) * 30
        draw.ellipse((cx - 10, h - 30, cx + 10, h - 10), fill=(200, 40, 40) if i == 3 else (70, 70, 76))
    return image


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("out", type=Path)
    parser.add_argument("--shared", type=datasets_dir, default=DATASETS,
                        help="the shared datasets folder, or the folder holding it (default: ../shared/datasets "
                             "beside the checkout, or SORTER_DATASETS)")
    parser.add_argument("--photos", action="append", help="globs of non-pet photos (comma-separated) under --shared: "
                        "a pool, drawn from as often as each other; repeatable (default: POOLS)")
    parser.add_argument("--count", type=positive_int, default=800, help="pictures in all, shared among the kinds")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    pools = [photos_under(args.shared, pool.split(",")) for pool in args.photos or POOLS]
    photos = Photos(pools, rng)
    if not len(photos):
        parser.error(f"no photo found under {args.shared} (give --shared DIR, or set SORTER_DATASETS=/path/to/datasets)")
    draw = {"galleries": gallery, "collages": collage, "posters": poster, "calls": call}
    for i in range(args.count):
        kind = KINDS[i % len(KINDS)]
        w, h = {"posters": (180, 256), "calls": (256, 160)}.get(kind, rng.choice([(256, 192), (192, 256), (256, 144)]))
        folder = args.out / kind
        folder.mkdir(parents=True, exist_ok=True)
        draw[kind](rng, photos, w * 2, h * 2).resize((w, h), Image.LANCZOS).save(folder / f"{kind}-{i:04d}.jpg", quality=85)
    print(f"{args.count} pictures from {len(photos)} photos in {args.out}")


if __name__ == "__main__":
    as_script(main)
