"""How fast are phone HEICs read, next to phone JPEGs and the decode limit?

    python benchmarks/heic_speed.py            # about 6 minutes on 2 cores
    python benchmarks/heic_speed.py --quick    # about 3 minutes; rates too noisy to quote

The phone pictures of sort_speed.py (4032x3024, same seed), written four ways: JPEG q94 (as
there, about 4 MB), HEIC as an iPhone writes it (512 px tiles, about 2.5 MB) with its stored
320x240 thumbnail and without one, and AVIF (Pillow's default quality). For each, in one run:

- ms per file on one thread through sorter's `load_image` (read, header checks, decode, resize);
- files/s through `load_image` on one thread per core, over sort_speed's phone decode limit
  (OpenCV's reduced JPEG decode plus the resize on every core, and nothing else);
- `sorter sort` end to end, steady state as sort_speed measures it (N / (T(2N) - T(N))),
  over the same decode limit: sort_speed's "phone: sorter / decode limit", one row a format.
"""

from __future__ import annotations

import io
import os
import platform
import statistics
import tempfile
import time
from pathlib import Path

import pillow_heif
from arg_types import positive_int  # this folder is on sys.path
from decode_limit import on_every_core, reduced_flag, run_decode_limit
from machine import CPU_FEATURES, cpu_features, cpu_model
from made_photos import PHONE_SIZE, make_phone_photos
from PIL import Image
from running import as_script, benchmark_parser, model_input_size, real_model, steady_state

from sorter.config import cpu_cores
from sorter.media.images import load_image

pillow_heif.register_heif_opener()
HEIC_QUALITY = 50  # x265 at 50 gives about the bytes per pixel of an iPhone HEIC on these pictures


def pillow_writer(fmt: str, **options):
    """An `encode` for make_phone_photos: BGR picture -> file bytes, written by Pillow
    (pillow-heif for HEIF)."""

    def encode(image) -> bytes:
        buffer = io.BytesIO()
        Image.fromarray(image[..., ::-1]).save(buffer, format=fmt, **options)
        return buffer.getvalue()

    return encode


FORMATS = {  # name: (suffix, encode or None for made_photos' JPEG q94)
    "JPEG q94": (".jpg", None),
    "HEIC, 320x240 thumbnail": (".heic", pillow_writer("HEIF", quality=HEIC_QUALITY, tile_size=512, thumbnails=[320])),
    "HEIC, no thumbnail": (".heic", pillow_writer("HEIF", quality=HEIC_QUALITY, tile_size=512, thumbnails=[])),
    "AVIF": (".avif", pillow_writer("AVIF")),  # Pillow's default quality (75)
}


def rendition(path: Path, size: int) -> str:
    """The size of what is decoded for an input of `size`: the stored thumbnail or the photo."""
    with Image.open(path) as image:
        image.draft("RGB", (size, size))
        return "x".join(map(str, image.size))


def one_thread_ms(paths: list[Path], size: int) -> float:
    """Median ms per file through load_image on this thread."""
    load_image(paths[0], size)
    times = []
    for path in paths:
        started = time.perf_counter()
        load_image(path, size)
        times.append(time.perf_counter() - started)
    return 1000 * statistics.median(times)


def main() -> None:
    parser = benchmark_parser(__doc__, "fewer files and pictures, for a smoke run")
    parser.add_argument("--files", type=positive_int, help="files per format for the decode rows (default 40)")
    parser.add_argument("--phone", type=positive_int, help="N for sorter sort (2N are sorted; default 24)")
    args = parser.parse_args()
    files = args.files or (12 if args.quick else 40)
    n_sort = args.phone or (8 if args.quick else 24)
    distinct = 1 if args.quick else 2
    count = max(files, 2 * n_sort)

    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="sorter-heic-bench-") as tmp:
        work = Path(tmp)
        model, model_note = real_model(args.model, work)
        size = model_input_size(model)
        inputs = {}
        for name, (suffix, encode) in FORMATS.items():
            print(f"writing {count} photos: {name} ...", flush=True)
            folder = work / name.replace(",", "").replace(" ", "-")
            options = {} if encode is None else {"encode": encode, "suffix": suffix}
            inputs[name] = (folder, make_phone_photos(folder, count, args.seed, distinct, **options))
        jpegs = sorted(inputs["JPEG q94"][0].iterdir())
        print("decode limit ...", flush=True)
        limit = run_decode_limit(jpegs[:files], size, reduced_flag(*PHONE_SIZE, size))
        print(f"decode limit: {limit['rate']:.1f} files/s", flush=True)
        # Each row is printed as soon as it is measured, so a run cut short (or one whose sort
        # rows fail minutes in) still shows what it found; the table at the end gathers them.
        rows = {}
        for name, (folder, note) in inputs.items():
            print(f"decoding: {name} ...", flush=True)
            paths = sorted(folder.iterdir())[:files]
            rows[name] = {
                "note": note,
                "decoded": "reduced DCT" if name.startswith("JPEG") else rendition(paths[0], size),
                "ms": one_thread_ms(paths[: max(4, files // 4)], size),
                "rate": on_every_core(lambda path: load_image(path, size), paths)["rate"],
            }
            print(f"  {name}: {rows[name]['ms']:.1f} ms/file on one thread, {rows[name]['rate']:.1f} files/s "
                  f"({rows[name]['rate'] / limit['rate']:.2f}x the decode limit)", flush=True)
        for name in ("JPEG q94", "HEIC, 320x240 thumbnail", "HEIC, no thumbnail"):
            print(f"sorter sort: {name}, N and 2N ...", flush=True)
            rate = rows[name]["sort"] = steady_state(inputs[name][0], n_sort, work, model, args.repeat)["rate"]
            print(f"  {name}: " + (f"{rate:.1f} files/s ({rate / limit['rate']:.2f}x the decode limit)" if rate
                                   else "n/a (noise swamped the difference; raise --phone)"), flush=True)

    print()
    print(f"{cpu_cores()} cores, load {load_before:.1f} -> {os.getloadavg()[0]:.1f}; {platform.platform()}; "
          f"model: {model_note} ({size} px)")
    print(f"CPU: {cpu_model()}; features: {', '.join(cpu_features()) or 'none of ' + '/'.join(CPU_FEATURES)}")
    print(f"decode limit (phone JPEG, OpenCV reduced decode + resize, {limit['threads']} threads): "
          f"{limit['rate']:.1f} files/s")
    print()
    print(f"{'4032x3024 photos':26s}{'decoded':>13s}{'ms/file':>9s}{'files/s':>9s}{'/limit':>8s}"
          f"{'sort/s':>9s}{'/limit':>8s}  file size")
    for name, row in rows.items():
        sort_rate = row.get("sort")
        sort_cells = (f"{sort_rate:9.1f}{sort_rate / limit['rate']:7.2f}x" if sort_rate
                      else f"{'n/a' if 'sort' in row else '':>9s}{'':8s}")
        print(f"{name:26s}{row['decoded']:>13s}{row['ms']:9.1f}{row['rate']:9.1f}{row['rate'] / limit['rate']:7.2f}x"
              f"{sort_cells}  {row['note'].split(', ')[-1]}")
    if args.quick:
        print("quick run: too few files for rates worth quoting; smoke test only")


if __name__ == "__main__":
    as_script(main)
