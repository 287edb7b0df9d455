"""How long after a file is complete does `sorter watch` move it?

Starts a real `sorter watch` process on a temporary folder, then writes photos into it one
at a time (each closed when written) and times, for each, the moment it is closed to the
moment it appears in cats/ or dogs/. Prints the median, the 90th percentile and the worst.

    python benchmarks/watch_latency.py                      # a tiny untrained 32 px model
    python benchmarks/watch_latency.py --model build/default.keras --pixels 1200
"""

from __future__ import annotations

import argparse
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from arg_types import (  # this folder is on sys.path
    description,
    non_negative_float,
    positive_int,
    sorter_model,
)
from machine import cpu_line


def main() -> None:
    parser = argparse.ArgumentParser(description=description(__doc__))
    parser.add_argument("--model", type=sorter_model, help="MODEL.keras with MODEL.tflite (default: a tiny untrained one)")
    parser.add_argument("--files", type=positive_int, default=25)
    parser.add_argument("--pixels", type=positive_int, default=64, help="height of the test photos (noise JPEGs)")
    parser.add_argument("--gap", type=non_negative_float, default=0.3, help="seconds between files")
    parser.add_argument("--polling", action="store_true")
    args = parser.parse_args()
    print(cpu_line(), flush=True)
    # Removed however the run ends (a watcher that fails, Ctrl-C): each run left ~3.4 MB in /tmp.
    with tempfile.TemporaryDirectory(prefix="watch-latency-") as tmp:
        measure(Path(tmp), args)


def measure(work: Path, args: argparse.Namespace) -> None:
    import cv2
    import numpy as np

    model = args.model
    if model is None:
        from sorter.model.lite import save_model
        from sorter.model.network import build_model

        model = work / "tiny.keras"
        noise = np.random.default_rng(0).integers(0, 256, (32, 32, 32, 3), dtype=np.uint8)
        save_model(build_model(image_size=32), model, noise)
    root = work / "inbox"
    root.mkdir()
    log = work / "stderr"
    command = [sys.executable, "-m", "sorter", "watch", str(root), "--model", str(model)]
    with open(log, "wb") as err:
        process = subprocess.Popen(command + ["--polling"] * args.polling, stderr=err)
    try:
        while b"watching " not in log.read_bytes():
            if process.poll() is not None:
                sys.exit(f"watcher exited:\n{log.read_text()}")
            time.sleep(0.05)
        delays = []
        rng = np.random.default_rng(0)
        for i in range(args.files):
            pixels = rng.integers(0, 256, (args.pixels, args.pixels * 4 // 3, 3), dtype=np.uint8)
            data = cv2.imencode(".jpg", pixels)[1].tobytes()
            time.sleep(args.gap)
            name = f"photo-{i:03}.jpg"
            (root / name).write_bytes(data)
            complete = time.monotonic()
            while not ((root / "cats" / name).exists() or (root / "dogs" / name).exists()):
                if time.monotonic() - complete > 30:
                    sys.exit(f"{name} not sorted after 30 s:\n{log.read_text()}")
                time.sleep(0.002)
            delays.append(time.monotonic() - complete)
    finally:
        process.send_signal(signal.SIGTERM)
        code = process.wait(30)
    delays.sort()
    print(
        f"{len(delays)} files ({args.pixels}x{args.pixels * 4 // 3} JPEG, model {model.name}"
        f"{', polling' if args.polling else ''}): median {statistics.median(delays) * 1000:.0f} ms, "
        f"p90 {delays[int(0.9 * (len(delays) - 1))] * 1000:.0f} ms, max {delays[-1] * 1000:.0f} ms; "
        f"watcher exit status {code}"
    )


if __name__ == "__main__":
    main()
