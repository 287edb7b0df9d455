"""Does a sort cost the same per file in a folder of 400,000 as in one of 100,000?

    python benchmarks/large_folder.py                          # 100k and 400k (about 15 min on 2 cores)
    python benchmarks/large_folder.py --sizes 10000,40000      # a quick look (ratios noisier)

For each size, one folder of that many small generated JPEGs (a few hundred bytes each, a
few dozen distinct pictures written round-robin) is sorted by `sorter sort --jsonl` as a
subprocess, with the bundled model (or --model), really moving every file. Measured in one
run, so the ratios hold on a busy machine where the absolute rates do not:

- peak RSS of the sort (wait4 on the process alone), and files per second end to end;
- `sorter undo --all` of the largest folder: wall time, and that every file is back.

Targets (issue 13): peak RSS at the largest size at most 1.2x that at the smallest; files/s
at least 0.9x; undo of the 400k run at most 2 minutes on 2 cores.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

from arg_types import existing_dir, existing_file, new_file, positive_ints  # this folder is on sys.path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import cv2  # noqa: E402, I001
import numpy as np  # noqa: E402
from sort_speed import cpu_features, cpu_model, real_model, sorter_command, timed  # noqa: E402

from sorter.config import cpu_cores  # noqa: E402

TARGETS = {"rss_ratio_max": 1.2, "rate_ratio_min": 0.9, "undo_400k_s_max": 120.0}


def make_folder(folder: Path, count: int, seed: int = 0) -> float:
    """`count` small JPEGs in one flat folder; returns the seconds it took (not measured)."""
    started = time.perf_counter()
    folder.mkdir(parents=True)
    rng = np.random.default_rng(seed)
    blobs = []
    for _ in range(48):
        picture = cv2.resize(rng.integers(0, 256, (4, 4, 3), dtype=np.uint8), (48, 36), interpolation=cv2.INTER_CUBIC)
        ok, data = cv2.imencode(".jpg", picture, [cv2.IMWRITE_JPEG_QUALITY, 85])
        assert ok
        blobs.append(data.tobytes())
    for i in range(count):
        with open(folder / f"IMG_{i:07d}.jpg", "wb") as f:
            f.write(blobs[i % len(blobs)])
    return time.perf_counter() - started


def left_in_root(folder: Path) -> int:
    with os.scandir(folder) as listing:
        return sum(1 for entry in listing if entry.is_file(follow_symlinks=False))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=positive_ints, default="100000,400000",
                        help="comma-separated folder sizes, smallest first")
    parser.add_argument("--model", type=existing_file, help="MODEL.keras (default: the bundled model)")
    parser.add_argument("--workdir", type=existing_dir, help="where to generate the folders (default: a temp dir)")
    parser.add_argument("--json", type=new_file, help="also write the results here")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    work = Path(tempfile.mkdtemp(prefix="sorter-large-", dir=args.workdir))
    print(f"CPU: {cpu_model()} ({cpu_cores()} cores for this process); features: {' '.join(cpu_features()) or '?'}")
    try:
        model, model_note = real_model(args.model, work)
        print(f"model: {model_note}")
        runs = []
        for count in sizes:
            folder = work / f"folder-{count}"
            made = make_folder(folder, count)
            print(f"{count:>9,} files generated in {made:.0f} s; sorting ...", flush=True)
            sort = timed([*sorter_command(), "sort", str(folder), "--model", str(model), "--jsonl"])
            if sort["exit_code"] != 0:
                raise SystemExit(f"sorter sort failed ({sort['exit_code']}):\n{sort['stderr']}")
            sorted_files = count - left_in_root(folder)
            journal_mb = (folder / ".sorter" / "journal.jsonl").stat().st_size / 2**20
            run = {
                "files": count, "sorted": sorted_files, "seconds": round(sort["seconds"], 1),
                "files_per_s": round(count / sort["seconds"], 1), "peak_rss_mb": round(sort["peak_rss_mb"], 1),
                "journal_mb": round(journal_mb, 1),
            }
            print(f"{count:>9,} files: {run['files_per_s']:.1f} files/s, peak RSS {run['peak_rss_mb']:.0f} MB, "
                  f"{sorted_files:,} moved into cats/ and dogs/, journal {journal_mb:.0f} MB", flush=True)
            runs.append((run, folder))
        largest, folder = runs[-1]
        undo = timed([*sorter_command(), "undo", str(folder), "--all"])
        back = left_in_root(folder)
        undo_result = {"files": largest["files"], "seconds": round(undo["seconds"], 1),
                       "peak_rss_mb": round(undo["peak_rss_mb"], 1), "all_back": back == largest["files"]
                       and not (folder / ".sorter").exists() and undo["exit_code"] == 0}
        print(f"undo --all of {largest['files']:,} files: {undo_result['seconds']:.1f} s, "
              f"peak RSS {undo_result['peak_rss_mb']:.0f} MB, every file back: {undo_result['all_back']}")
        small = runs[0][0]
        ratios = {
            "rss_ratio": round(largest["peak_rss_mb"] / small["peak_rss_mb"], 3),
            "rate_ratio": round(largest["files_per_s"] / small["files_per_s"], 3),
        }
        verdict = {
            "rss_ratio": ratios["rss_ratio"] <= TARGETS["rss_ratio_max"],
            "rate_ratio": ratios["rate_ratio"] >= TARGETS["rate_ratio_min"],
            "undo_s": undo_result["seconds"] <= TARGETS["undo_400k_s_max"] * largest["files"] / 400_000,
        }
        print(f"peak RSS {largest['files']:,} / {small['files']:,}: {ratios['rss_ratio']:.3f}x "
              f"(target <= {TARGETS['rss_ratio_max']}x) {'met' if verdict['rss_ratio'] else 'MISSED'}")
        print(f"files/s  {largest['files']:,} / {small['files']:,}: {ratios['rate_ratio']:.3f}x "
              f"(target >= {TARGETS['rate_ratio_min']}x) {'met' if verdict['rate_ratio'] else 'MISSED'}")
        print(f"undo --all: {undo_result['seconds']:.1f} s (target <= {TARGETS['undo_400k_s_max']:.0f} s per 400k) "
              f"{'met' if verdict['undo_s'] else 'MISSED'}")
        report = {"cpu": cpu_model(), "features": cpu_features(), "cores": cpu_cores(), "model": model_note,
                  "runs": [r for r, _ in runs], "undo": undo_result, "ratios": ratios, "targets": TARGETS,
                  "met": verdict}
        if args.json:
            args.json.write_text(json.dumps(report, indent=2))
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
