"""Draw text graphics that are neither a cat nor a dog: slides, pages of text, charts and
app-like screens, in sub-folders (one per kind), for `sorter train --other`.

Why: the web images and screenshots of a camera roll (a slide, a receipt, a meme's caption, a
chat) were filed as dogs at high confidence; the shared non-pet sets hold few of them (177
documents). Drawn with Pillow from a seed, so anyone gets the same pictures:

    python benchmarks/make_text_graphics.py build/text-graphics --count 800
    sorter train DATA --other ... --other build/text-graphics
"""

from __future__ import annotations

import argparse
import random
from pathlib import Path

from arg_types import positive_int  # this folder is on sys.path
from PIL import Image, ImageDraw, ImageFont
from running import as_script  # this folder is on sys.path

WORDS = (
    "the of and to in is you that it he was for on are as with his they at be this have from or one had by "
    "word but not what all were we when your can said there use an each which she do how their if will up other "
    "about out many then them these so some her would make like him into time has look two more write go see "
    "number no way could people my than first water been call who oil its now find long down day did get come "
    "made may part meeting invoice total receipt order delivery account password settings profile message "
    "download update weather calendar report quarterly revenue growth team project deadline agenda summary"
).split()
FONTS = ("DejaVuSans.ttf", "DejaVuSans-Bold.ttf", "DejaVuSerif.ttf", "DejaVuSansMono.ttf", "DejaVuSansCondensed.ttf")
KINDS = ("slides", "pages", "charts", "screens")


def font(rng: random.Random, size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    for name in rng.sample(FONTS, len(FONTS)):
        try:
            return ImageFont.truetype(name, size)
        except OSError:
            continue
    return ImageFont.load_default(size)  # Pillow's own font, where DejaVu is not installed


def words(rng: random.Random, n: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(n))


def colour(rng: random.Random, light: bool) -> tuple[int, int, int]:
    low, high = (170, 255) if light else (0, 110)
    return tuple(rng.randint(low, high) for _ in range(3))


def slide(rng: random.Random, w: int, h: int) -> Image.Image:
    dark = rng.random() < 0.4
    image = Image.new("RGB", (w, h), colour(rng, not dark))
    draw = ImageDraw.Draw(image)
    ink = colour(rng, dark)
    draw.text((w * 0.06, h * 0.06), words(rng, rng.randint(2, 5)).title(), font=font(rng, h // 10), fill=ink)
    y = h * 0.28
    for _ in range(rng.randint(2, 6)):
        draw.text((w * 0.1, y), "• " + words(rng, rng.randint(3, 8)), font=font(rng, h // 18), fill=ink)
        y += h // 9
    return image


def page(rng: random.Random, w: int, h: int) -> Image.Image:
    image = Image.new("RGB", (w, h), colour(rng, True))
    draw = ImageDraw.Draw(image)
    size = rng.randint(9, 16)
    ink = colour(rng, False)
    y = rng.randint(4, 20)
    while y < h - size:
        line = words(rng, rng.randint(4, 12))
        if rng.random() < 0.15:  # a receipt's price column
            line = f"{words(rng, 2):<24} {rng.randint(1, 99)}.{rng.randint(0, 99):02d}"
        draw.text((rng.randint(4, 20), y), line, font=font(rng, size), fill=ink)
        y += size + rng.randint(2, 8)
    return image.rotate(rng.uniform(-4, 4), expand=False, fillcolor=colour(rng, True))


def chart(rng: random.Random, w: int, h: int) -> Image.Image:
    image = Image.new("RGB", (w, h), (255, 255, 255) if rng.random() < 0.7 else colour(rng, True))
    draw = ImageDraw.Draw(image)
    draw.text((10, 6), words(rng, 4).title(), font=font(rng, 16), fill=(20, 20, 20))
    bars = rng.randint(3, 10)
    left, bottom, width = 30, h - 30, (w - 50) / bars
    draw.line((left, 30, left, bottom, w - 10, bottom), fill=(40, 40, 40), width=2)
    for i in range(bars):
        top = rng.randint(40, bottom - 10)
        draw.rectangle((left + i * width + 4, top, left + (i + 1) * width - 4, bottom), fill=colour(rng, False))
        draw.text((left + i * width + 4, bottom + 4), rng.choice(WORDS)[:4], font=font(rng, 11), fill=(40, 40, 40))
    return image


def screen(rng: random.Random, w: int, h: int) -> Image.Image:
    dark = rng.random() < 0.3
    image = Image.new("RGB", (w, h), (24, 24, 28) if dark else (250, 250, 250))
    draw = ImageDraw.Draw(image)
    bar = colour(rng, False)
    draw.rectangle((0, 0, w, h // 9), fill=bar)
    draw.text((10, h // 40), words(rng, 2).title(), font=font(rng, h // 22), fill=(255, 255, 255))
    y = h // 8
    ink = (230, 230, 230) if dark else (30, 30, 30)
    while y < h - 30:
        if rng.random() < 0.3:  # a chat bubble or a button
            x0 = rng.randint(5, w // 3)
            draw.rounded_rectangle((x0, y, x0 + rng.randint(w // 3, w - x0 - 5), y + 26), 10, fill=colour(rng, not dark))
            draw.text((x0 + 8, y + 6), words(rng, 3), font=font(rng, 12), fill=ink)
        else:
            draw.ellipse((8, y, 30, y + 22), fill=colour(rng, True))
            draw.text((38, y + 4), words(rng, rng.randint(3, 7)), font=font(rng, 13), fill=ink)
        y += rng.randint(30, 44)
    return image


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("out", type=Path)
    parser.add_argument("--count", type=positive_int, default=800, help="pictures in all, shared among the kinds")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    draw = {"slides": slide, "pages": page, "charts": chart, "screens": screen}
    for i in range(args.count):
        kind = KINDS[i % len(KINDS)]
        # Screens are tall like a phone's, slides wide; pages and charts either.
        w, h = {"slides": (256, 144), "screens": (144, 256)}.get(kind, rng.choice([(256, 192), (192, 256)]))
        folder = args.out / kind
        folder.mkdir(parents=True, exist_ok=True)
        draw[kind](rng, w * 2, h * 2).resize((w, h), Image.LANCZOS).save(folder / f"{kind}-{i:04d}.jpg", quality=85)
    print(f"{args.count} pictures in {args.out}")


if __name__ == "__main__":
    as_script(main)
