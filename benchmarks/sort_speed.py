"""How fast does `sorter sort` go, next to the tutorial it grew from and the decoding limit?

    python benchmarks/sort_speed.py            # full run (about 5 minutes on 2 idle cores)
    python benchmarks/sort_speed.py --quick    # smoke run (1.5 min on 2 idle cores, 3.5 at load 3-5; rates too noisy)

Everything is measured in one run, on the same files, so the ratios hold even on a busy
machine (the absolute rates do not):

- tutorial: the per-file loop this project grew from (OpenCV grayscale 50x50, one
  `model.predict` per file) on a sample of the small photos;
- decode limit: OpenCV reduced-size JPEG decoding (IMREAD_REDUCED_COLOR_*) plus the resize to
  the model's input size, spread over every core with threads, and nothing else;
- phone photos with EXIF thumbnails: 4032x3024 JPEGs made from real photos (the dataset's last
  16 cats and 16 dogs by name), each carrying a 160x120 EXIF thumbnail as a phone's does;
  sorter judges the thumbnail first and decodes only the photos it is not sure of, so this
  rate may pass the decode limit (measured on the same files);
- sorter: `sorter sort` end to end as a subprocess, really moving the files, on a fresh copy
  of N and of 2N files (copy time excluded); steady-state rate = N / (T(2N) - T(N)), so
  imports and model loading cancel out. Peak RSS comes from wait4() on each run. Where the
  start-up the two fit, 2T(N) - T(2N), is more than 1 s from the one measured on an empty
  folder, the difference was noise: that ratio says "noisy: ..." in place of ok or MISSED.

Inputs are generated in a temporary folder: small photos (200x200) come from
../shared/datasets/dogs-vs-cats-200 when it is there (copied to the temp folder only) and are
synthesised otherwise; phone photos (4032x3024, ~4 MB) are synthesised. The model is the
bundled one when it exists, else an untrained network of the same architecture: speed does
not depend on the weights.
"""

from __future__ import annotations

import importlib.util
import json
import os
import platform
import shlex
import shutil
import sys
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np
from arg_types import new_file, positive_int  # this folder is on sys.path
from decode_limit import reduced_flag, run_decode_limit
from machine import CPU_FEATURES, cpu_features, cpu_model, versions
from made_photos import PHONE_SIZE, make_phone_photos, make_small_photos, make_thumbnailed_photos
from running import (
    REPO,
    SORTER_COMMAND,
    as_script,
    benchmark_parser,
    model_input_size,
    real_model,
    sorter_command,
    steady_state,
    timed,
)

from sorter.config import cpu_cores
from sorter.model.network import runtime_path

HEAVY_MODULES = ("tensorflow", "keras", "numpy", "cv2")

TARGETS = {
    # Issue 11 re-based this from 50x: the ImageNet backbone costs about twice the small
    # from-scratch network per photo. Issue 25: 25x on a CPU with AVX2 only, 40x where int8
    # dot products run in one instruction (VNNI; `small_target`).
    "small_vs_tutorial": 25.0,  # at least
    "small_vs_tutorial_vnni": 40.0,  # at least
    "phone_vs_decode_limit": 0.7,  # at least
    "thumbnailed_vs_decode_limit": 1.0,  # at least (issue 25: photos that carry an EXIF thumbnail)
    "startup_s": 1.0,  # at most
    "light_command_s": 0.5,  # at most
    "peak_rss_mb": 1024.0,  # at most
    "tflite_mb": 6.0,  # at most
}


def small_target(features: list[str]) -> float:
    """The small-photo target for this CPU: the int8 network is ~3x faster with VNNI."""
    vnni = {"avx512_vnni", "avx_vnni", "amx_int8", "asimddp"} & set(features)
    return TARGETS["small_vs_tutorial_vnni"] if vnni else TARGETS["small_vs_tutorial"]


def settled_share(paths: list[Path], model: Path) -> float:
    """Of these photos, the share whose thumbnail sort takes as the answer (never decoded)."""
    from sorter.media.exif_thumbnail import first_look
    from sorter.model.inference import FIRST_LOOK_CONFIDENCE
    from sorter.model.lite import load_classifier

    classifier = load_classifier(model)
    looks = [first_look(path, classifier.image_size) for path in paths]
    if not looks or None in looks:
        return 0.0
    confidence = classifier.predict(np.stack([look.image for look in looks])).max(axis=1)
    return float(np.mean(confidence >= FIRST_LOOK_CONFIDENCE))


# ----------------------------------------------------------------------------- the tutorial


def tutorial_model():
    """The kind of network the tutorial trained: 50x50 grayscale, three conv/pool blocks."""
    from sorter.model.network import import_keras  # TensorFlow without its start-up banners

    keras = import_keras()
    layers = keras.layers

    model = keras.Sequential(
        [
            keras.Input((50, 50, 1)),
            layers.Conv2D(32, 5, activation="relu", padding="same"),
            layers.MaxPooling2D(2),
            layers.Conv2D(64, 5, activation="relu", padding="same"),
            layers.MaxPooling2D(2),
            layers.Conv2D(128, 5, activation="relu", padding="same"),
            layers.MaxPooling2D(2),
            layers.Flatten(),
            layers.Dense(1024, activation="relu"),
            layers.Dense(1, activation="sigmoid"),
        ]
    )
    model.compile(optimizer="adam", loss="binary_crossentropy")
    return model


def run_tutorial(paths: list[Path], chunk: int = 100) -> dict:
    """The per-file loop, timed per `chunk` files; its rate is the fastest chunk's, to match
    the fastest-of-`repeat` runs that sorter gets (a busy machine slows both)."""
    model = tutorial_model()
    model.predict(np.zeros((1, 50, 50, 1), np.float32), verbose=0)  # build before the clock
    rates = []
    for start in range(0, len(paths), chunk):
        batch = paths[start : start + chunk]
        started = time.perf_counter()
        for path in batch:
            image = cv2.resize(cv2.imread(str(path), cv2.IMREAD_GRAYSCALE), (50, 50))
            model.predict(image.reshape(1, 50, 50, 1) / 255.0, verbose=0)
        rates.append(len(batch) / (time.perf_counter() - started))
    return {"files": len(paths), "chunk_rates": rates, "rate": max(rates)}


# ----------------------------------------------------------------------------- light commands


def with_importtime(args: list[str]) -> list[str]:
    return [sys.executable, "-X", "importtime", "-m", "sorter", *args]


def heavy_imports(stderr: str) -> list[str]:
    """Top-level heavy packages in a `python -X importtime` report."""
    names = {line.rsplit("|", 1)[-1].strip() for line in stderr.splitlines() if line.startswith("import time:")}
    return sorted(m for m in HEAVY_MODULES if m in names)


def undo_run(folder: Path, argv: list[str], model: Path) -> dict:
    """Sort `folder`, then time `argv` (an undo of it) putting every file back."""
    before = sorted(os.listdir(folder))
    done = timed([*sorter_command(), "sort", str(folder), "--model", str(model)])
    undo = timed(argv, keep_stderr=True)
    if done["exit_code"] != 0 or undo["exit_code"] != 0 or sorted(os.listdir(folder)) != before:
        raise SystemExit(f"sort + undo did not restore {folder}:\n{done['stderr']}\n{undo['stderr'][-2000:]}")
    return undo


def sample_pets(target: Path, count: int = 20) -> Path:
    """`count` photos that any model worth measuring moves: the repository's sample images
    (pets, and a few that are neither) under new names. The generated photos are noise, which
    a three-way model rightly leaves in place, and an undo of nothing measures nothing."""
    if target.exists():
        shutil.rmtree(target)
    target.mkdir(parents=True)
    samples = sorted(p for p in (REPO / "sample_images").iterdir() if p.suffix.lower() in (".jpg", ".png"))
    for i in range(count):
        source = samples[i % len(samples)]
        shutil.copyfile(source, target / f"{i:03d}-{source.name}")
    return target


def light_commands(work: Path, model: Path) -> dict:
    folder = sample_pets(work / "undo")
    undo = undo_run(folder, [*sorter_command(), "undo", str(folder)], model)
    undo_imports = undo_run(folder, with_importtime(["undo", str(folder)]), model)
    help_ = min((timed([*sorter_command(), "--help"]) for _ in range(3)), key=lambda r: r["seconds"])
    help_imports = timed(with_importtime(["--help"]), keep_stderr=True)
    empty = work / "empty"
    empty.mkdir()
    startup = min(
        (timed([*sorter_command(), "sort", str(empty), "--model", str(model)]) for _ in range(2)),
        key=lambda r: r["seconds"],
    )
    return {
        "help_s": help_["seconds"],
        "undo_s": undo["seconds"],
        "undo_files": 20,
        "startup_empty_folder_s": startup["seconds"],
        "startup_peak_rss_mb": startup["peak_rss_mb"],
        "heavy_imports": {"--help": heavy_imports(help_imports["stderr"]), "undo": heavy_imports(undo_imports["stderr"])},
    }


# ----------------------------------------------------------------------------- report


def ratio(a: float | None, b: float | None) -> float | None:
    return None if a is None or b is None else a / b


def fmt(value: float | None, spec: str, unit: str = "") -> str:
    return "n/a" if value is None else f"{value:{spec}}{unit}"


def at_least(value: float | None, target: float) -> bool | None:
    return None if value is None else value >= target


def at_most(value: float | None, target: float) -> bool | None:
    return None if value is None else value <= target


#: How far the fitted start-up 2T(N) - T(2N) may stray from the measured one (sort on an empty
#: folder) before the rate N / (T(2N) - T(N)) is not worth quoting. The two differ only by loading
#: the model, a few tenths of a second; a QA run on a loaded machine fitted -2.9 s and +2.6 s
#: against 0.33 s measured, and then showed phone photos at 1.86x the decode limit.
NOISE_S = 1.0


def noise_note(sorter: dict, startup_s: float, option: str) -> str | None:
    """Why this steady-state rate cannot be trusted, or None when it can."""
    intercept = sorter["startup_estimate_s"]
    if sorter["rate"] is not None and abs(intercept - startup_s) <= NOISE_S:
        return None
    return (f"noisy: intercept {intercept:.1f} s vs start-up {startup_s:.2f} s; rerun on a quiet machine "
            f"or with larger {option} N")


def verdict(ok: bool | None, noise: str | None = None) -> str:
    return noise or ("" if ok is None else "ok" if ok else "MISSED")


def report(r: dict) -> None:
    s, p, th, light, ratios = r["small"], r["phone"], r["thumbnailed"], r["light"], r["ratios"]
    rss = [*s["sorter"]["peak_rss_mb"].values(), *p["sorter"]["peak_rss_mb"].values(),
           *th["sorter"]["peak_rss_mb"].values()]
    machine = r["machine"]
    print()
    print(f"sorter {machine['versions']['sorter']}: {machine['cores']} cores, load {machine['load_before']:.1f} -> "
          f"{machine['load_after']:.1f}; model: {r['model']} ({r['model_input_size']} px)")
    print(f"CPU: {machine['cpu']}; features: {', '.join(machine['cpu_features']) or 'none of ' + '/'.join(CPU_FEATURES)}")
    print(f"{'':40s}{'files':>8s}{'rate /s':>10s}  notes")
    for name, data in (("small photos 200x200", s), ("phone photos 4032x3024", p),
                       ("phone photos with EXIF thumbnails", th)):
        print(f"{name} ({data['inputs']})")
        if "tutorial" in data and data["tutorial"] is None:
            print(f"  {'tutorial per-file loop':38s}{'':18s}  not run: TensorFlow is not installed here")
        elif "tutorial" in data:
            t = data["tutorial"]
            print(f"  {'tutorial per-file loop':38s}{t['files']:8d}{t['rate']:10.1f}  "
                  f"fastest of {len(t['chunk_rates'])} chunks (slowest {min(t['chunk_rates']):.1f})")
        limit, sorter = data["decode_limit"], data["sorter"]
        print(f"  {'decode limit':38s}{limit['files']:8d}{limit['rate']:10.1f}  {limit['threads']} threads")
        print(f"  {'sorter sort (steady state)':38s}{2 * sorter['n']:8d}{fmt(sorter['rate'], '.1f'):>10s}  "
              f"T(N)={sorter['t_n']:.1f}s T(2N)={sorter['t_2n']:.1f}s, fastest of {sorter['repeat']}")
    print()
    light_s = TARGETS["light_command_s"]
    small = small_target(machine["cpu_features"])
    startup = light["startup_empty_folder_s"]
    noise = {kind: noise_note(data["sorter"], startup, option)
             for kind, data, option in (("small", s, "--small"), ("phone", p, "--phone"),
                                        ("thumbnailed", th, "--thumbnailed"))}
    rows = [
        ("small: sorter / tutorial", fmt(ratios["small_vs_tutorial"], ".1f", "x"),
         f">= {small:g}x", verdict(at_least(ratios["small_vs_tutorial"], small), noise["small"])),
        ("phone: sorter / decode limit", fmt(ratios["phone_vs_decode_limit"], ".2f", "x"),
         f">= {TARGETS['phone_vs_decode_limit']:g}x",
         verdict(at_least(ratios["phone_vs_decode_limit"], TARGETS["phone_vs_decode_limit"]), noise["phone"])),
        ("phone + EXIF thumbnail: sorter / limit", fmt(ratios["thumbnailed_vs_decode_limit"], ".2f", "x"),
         f">= {TARGETS['thumbnailed_vs_decode_limit']:g}x",
         verdict(at_least(ratios["thumbnailed_vs_decode_limit"], TARGETS["thumbnailed_vs_decode_limit"]),
                 noise["thumbnailed"])),
        ("  (photos the thumbnail settles)", f"{100 * th['settled_by_thumbnail']:.0f} %", "", ""),
        ("start-up: sort on an empty folder", f"{startup:.2f} s", f"<= {TARGETS['startup_s']:g} s",
         verdict(at_most(startup, TARGETS["startup_s"]))),
        ("  (fitted start-up 2T(N)-T(2N), s/p/t)", " / ".join(
            f"{d['sorter']['startup_estimate_s']:.1f}" for d in (s, p, th)) + " s", f"start-up±{NOISE_S:g}s",
         "" if not any(noise.values()) else "noisy"),
        ("sorter --help", f"{light['help_s']:.2f} s", f"<= {light_s:g} s", verdict(at_most(light["help_s"], light_s))),
        (f"sorter undo ({light['undo_files']} files)", f"{light['undo_s']:.2f} s", f"<= {light_s:g} s",
         verdict(at_most(light["undo_s"], light_s))),
        ("heavy imports in --help / undo",
         f"{','.join(light['heavy_imports']['--help']) or 'none'} / {','.join(light['heavy_imports']['undo']) or 'none'}",
         "none", verdict(not any(light["heavy_imports"].values()))),
        ("peak RSS small, phone, thumbnailed N/2N", " / ".join(f"{v:.0f}" for v in rss) + " MB",
         f"<= {TARGETS['peak_rss_mb']:g} MB", verdict(at_most(max(rss), TARGETS["peak_rss_mb"]))),
        (".tflite size", f"{r['tflite_mb']:.2f} MB", f"<= {TARGETS['tflite_mb']:g} MB",
         verdict(at_most(r["tflite_mb"], TARGETS["tflite_mb"]))),
    ]
    for name, value, target, status in rows:
        print(f"{name:40s}{value:>24s}  {target:12s}{status}".rstrip())
    if r["quick"]:
        print("quick run: N is too small for steady-state rates to beat start-up noise; smoke test only")
    if None in (s["sorter"]["rate"], p["sorter"]["rate"], th["sorter"]["rate"]):
        print("n/a: T(2N) - T(N) was lost in start-up noise; run with a larger --small/--phone")
    if any(noise.values()):
        print(f"noisy: T(2N) - T(N) fits a start-up more than {NOISE_S:g} s from the one measured, so its rate is "
              "noise as much as speed; its ratio is not an ok or a MISSED")


def main() -> None:
    parser = benchmark_parser(__doc__, "small N for a smoke run")
    parser.add_argument("--small", type=positive_int, help="N for the small photos (2N are generated; default 5000)")
    parser.add_argument("--phone", type=positive_int, help="N for the phone photos (2N are generated; default 100)")
    parser.add_argument("--thumbnailed", type=positive_int,
                        help="N for the phone photos with EXIF thumbnails (default 3 x --phone: they sort faster)")
    parser.add_argument("--tutorial-files", type=positive_int, help="small photos for the tutorial loop (default 500)")
    parser.add_argument("--json-out", type=new_file, help="write the results here as JSON")
    parser.add_argument("--sorter-command", help="how to run sorter (default: the `sorter` beside this Python)")
    args = parser.parse_args()
    if args.sorter_command:
        SORTER_COMMAND.extend(shlex.split(args.sorter_command))
    n_small = args.small or (1000 if args.quick else 5000)
    n_phone = args.phone or (40 if args.quick else 100)
    n_tutorial = args.tutorial_files or (200 if args.quick else 500)
    # A photo its thumbnail settles costs a few ms, not 40: at the phone N, T(2N) - T(N) would be
    # a fraction of a second, lost in start-up noise.
    n_thumbnailed = args.thumbnailed or 3 * n_phone

    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="sorter-bench-") as tmp:
        work = Path(tmp)
        model, model_note = real_model(args.model, work)
        size = model_input_size(model)
        print(f"generating {2 * n_small} small, {2 * n_phone} phone and {2 * n_thumbnailed} phone photos with "
              f"thumbnails in {work} ...", flush=True)
        small_inputs = make_small_photos(work / "small", 2 * n_small, args.seed)
        phone_inputs = make_phone_photos(work / "phone", 2 * n_phone, args.seed)
        thumbnailed_inputs, distinct = make_thumbnailed_photos(work / "thumbnailed", 2 * n_thumbnailed, args.seed)
        small_files = sorted((work / "small").iterdir())
        phone_files = sorted((work / "phone").iterdir())
        thumbnailed_files = sorted((work / "thumbnailed").iterdir())
        settled = settled_share(thumbnailed_files[:distinct], model)

        # The tutorial's loop needs TensorFlow; sorting does not (a machine lent for a speed
        # check may have none): then that one ratio is n/a and everything else is measured.
        tutorial = None
        if importlib.util.find_spec("tensorflow") is not None:
            print("tutorial loop ...", flush=True)
            step = max(1, len(small_files) // n_tutorial)
            tutorial = run_tutorial(small_files[::step][:n_tutorial])
        print("decode limits ...", flush=True)
        small_limit = run_decode_limit(small_files, size, reduced_flag(200, 200, size))
        phone_limit = run_decode_limit(phone_files, size, reduced_flag(*PHONE_SIZE, size))
        thumbnailed_limit = run_decode_limit(thumbnailed_files, size, reduced_flag(*PHONE_SIZE, size))
        print("sorter sort: small photos N and 2N ...", flush=True)
        small_sorter = steady_state(work / "small", n_small, work, model, args.repeat)
        print("sorter sort: phone photos N and 2N ...", flush=True)
        phone_sorter = steady_state(work / "phone", n_phone, work, model, args.repeat)
        print("sorter sort: phone photos with EXIF thumbnails N and 2N ...", flush=True)
        thumbnailed_sorter = steady_state(work / "thumbnailed", n_thumbnailed, work, model, args.repeat)
        print("start-up, --help, undo ...", flush=True)
        light = light_commands(work, model)

    results = {
        "machine": {
            "cores": cpu_cores(),
            "cpu": cpu_model(),
            "cpu_features": cpu_features(),
            "platform": platform.platform(),
            "python": platform.python_version(),
            "load_before": load_before,
            "load_after": os.getloadavg()[0],
            "versions": versions(),
        },
        "model": model_note,
        "model_input_size": size,
        "tflite_mb": runtime_path(model).stat().st_size / 1e6,
        "quick": args.quick,
        "small": {"inputs": small_inputs, "tutorial": tutorial, "decode_limit": small_limit, "sorter": small_sorter},
        "phone": {"inputs": phone_inputs, "decode_limit": phone_limit, "sorter": phone_sorter},
        "thumbnailed": {"inputs": thumbnailed_inputs, "decode_limit": thumbnailed_limit, "sorter": thumbnailed_sorter,
                        "settled_by_thumbnail": settled},
        "light": light,
        "ratios": {
            "small_vs_tutorial": ratio(small_sorter["rate"], tutorial and tutorial["rate"]),
            "small_vs_decode_limit": ratio(small_sorter["rate"], small_limit["rate"]),
            "phone_vs_decode_limit": ratio(phone_sorter["rate"], phone_limit["rate"]),
            "thumbnailed_vs_decode_limit": ratio(thumbnailed_sorter["rate"], thumbnailed_limit["rate"]),
        },
        "targets": TARGETS,
    }
    report(results)
    if args.json_out:
        args.json_out.write_text(json.dumps(results, indent=2) + "\n")
        print(f"\nresults: {args.json_out}")


if __name__ == "__main__":
    as_script(main)
