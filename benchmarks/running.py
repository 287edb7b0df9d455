"""Running sorter as a user does, and timing it: where the repository, the shared datasets
(`shared_dataset`, with the one line a benchmark exits with when one is missing), the non-pet
folders a model records (`recorded_others`) and the bundled model are; the model to run (the
bundled one, else an untrained network of the same architecture: speed does not depend on the
weights); the `sorter` command; a launcher that
measures one command alone (wall time, exit code, CPU time, peak RSS); `sorter sort` on a
fresh copy of N and of 2N photos, whose difference gives a steady-state rate in which imports
and model loading cancel out; and a benchmark's `main` run as a script (`as_script`: Ctrl-C and
SIGTERM end it with its folders removed)."""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from arg_types import description, positive_int, sorter_model  # this folder is on sys.path

# Set before `real_model` imports Keras, and inherited by every sorter a benchmark starts:
# TensorFlow's C++ start-up banners would bury a benchmark's output.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")

REPO = Path(__file__).resolve().parent.parent
#: The shared photo sets, a folder each: `../shared/datasets` beside the checkout, else the folder
#: SORTER_DATASETS names (a checkout elsewhere, a git worktree, may have no ../shared). tests/conftest.py reads the
#: same variables.
DATASETS = Path(os.environ.get("SORTER_DATASETS") or REPO.parent / "shared" / "datasets")
#: The older variables README documents, each naming one set, still honoured.
ONE_SET = {"dogs-vs-cats-200": "SORTER_DATASET", "caltech101-not-pets": "SORTER_OTHER"}


def shared_dataset(name: str) -> Path:
    """Where the shared set `name` is looked for: its own variable, else under DATASETS."""
    own = os.environ.get(ONE_SET.get(name, ""))
    return Path(own) if own else DATASETS / name


def not_found(name: str, path: Path | None = None, option: str = "") -> str:
    """The one line a benchmark exits with when a shared set is missing: where it looked, and
    how to point it elsewhere (`option`, the benchmark's own, first when it has one)."""
    ways = "set SORTER_DATASETS=/path/to/datasets" + (f" or {ONE_SET[name]}=/path/to/{name}" if name in ONE_SET else "")
    if option:
        ways = f"give {option} DIR, or {ways}"
    return f"the {name} photos are not found at {path or shared_dataset(name)} ({ways})"


def need_datasets(*names: str) -> None:
    """Exit with status 1 and `not_found`'s line for the first of `names` that is not here."""
    for name in names:
        if not shared_dataset(name).is_dir():
            sys.exit(not_found(name))


DATASET = shared_dataset("dogs-vs-cats-200")
BUNDLED_MODEL = REPO / "sorter" / "models" / "default.keras"
#: The non-pet sets drawn rather than shared (under build/, as README's Training says), with the
#: script in this folder that draws each again, byte for byte, from its seed.
DRAWN = {"text-graphics": ["make_text_graphics.py"], "photo-screens": ["make_photo_screens.py", "--count", "1200"],
         "animal-scenes": ["make_animal_scenes.py", "--count", "1200"]}


def recorded_folder(folder: Path) -> Path:
    """A non-pet folder a model's metadata records, where it is here: as `sorter evaluate` finds
    it (`evaluate.found_from`: one under `../shared/datasets/` is in SORTER_DATASETS where set,
    another relative one relative to the repository, build/ where the drawn sets go), and a shared
    set that its own variable names (SORTER_OTHER) there."""
    from sorter.training.evaluate import found_from

    if not folder.is_absolute() and folder.parts[:3] == ("..", "shared", "datasets") and len(folder.parts) > 3:
        if os.environ.get(ONE_SET.get(folder.parts[3], "")):
            return shared_dataset(folder.parts[3]).joinpath(*folder.parts[4:])
    return found_from(folder, REPO)


def recorded_others(training: dict) -> tuple[Path, ...]:
    """The non-pet folders a model's metadata ("training") records that are here. Each one that
    is not is named, with how to draw it where it is drawn, in one line on stderr: the benchmark
    goes on without it (each folder is split on its own, so the others' split is the model's),
    its tables of non-pets the smaller for it. Never a folder dropped without a word."""
    from sorter.training.datasets import recorded_other_dirs

    folders = [recorded_folder(folder) for folder in recorded_other_dirs(training)]
    missing = [folder for folder in folders if not folder.is_dir()]
    if missing:
        ways = [" ".join(["python", f"benchmarks/{DRAWN[f.name][0]}", str(f), *DRAWN[f.name][1:]])
                for f in missing if f.name in DRAWN]
        if any(f.name not in DRAWN for f in missing):
            ways.append("set SORTER_DATASETS=/path/to/datasets")
        print(f"the model's non-pets from {', '.join(map(str, missing))} are not found here, and are left out "
              f"({'; '.join(ways)})", file=sys.stderr, flush=True)
    return tuple(folder for folder in folders if folder.is_dir())


def p90(values: list[float]) -> float:
    """The 90th percentile by nearest rank: the smallest value at least 90 % of them reach. As
    `ordered[int(0.9 * (n - 1))]` it was the smallest of two, below their median."""
    ordered = sorted(values)
    return ordered[max(0, -(-9 * len(ordered) // 10) - 1)]


class Terminated(KeyboardInterrupt):
    """SIGTERM (`kill`, `timeout`), raised where the benchmark is, as Ctrl-C raises its
    KeyboardInterrupt: Python's default for SIGTERM ends it at once, its temporary folders left
    behind (232 MB from `timeout 60 python benchmarks/undo_whereabouts.py`)."""


def _terminated(signum: int, frame: object) -> None:
    signal.signal(signal.SIGTERM, signal.SIG_IGN)  # a second one, while the folders go, waits for them
    raise Terminated


def as_script(main: Callable[[], int | None]) -> None:
    """Run a benchmark's `main` and exit with its status. Ctrl-C says `interrupted` and exits
    130, SIGTERM the same with 143, as a shell reports a command either signal ended, not a
    traceback: by then the `with` and `finally` blocks the interrupt passed through have removed
    its folders and stopped its subprocesses."""
    signal.signal(signal.SIGTERM, _terminated)
    try:
        code = main()
    except KeyboardInterrupt as stop:
        print("interrupted", file=sys.stderr)
        code = 143 if isinstance(stop, Terminated) else 130
    sys.exit(code)


def benchmark_parser(doc: str, quick: str) -> argparse.ArgumentParser:
    """The options the benchmarks that run `sorter sort` share; `quick` says what --quick does."""
    parser = argparse.ArgumentParser(description=description(doc))
    parser.add_argument("--quick", action="store_true", help=quick)
    parser.add_argument("--model", type=sorter_model,
                        help="MODEL.keras with MODEL.tflite (default: bundled, else untrained)")
    parser.add_argument("--repeat", type=positive_int, default=2,
                        help="runs of sorter sort at N and at 2N; the fastest counts")
    parser.add_argument("--seed", type=int, default=0)
    return parser


# ----------------------------------------------------------------------------- the model


def real_model(explicit: Path | None, workdir: Path) -> tuple[Path, str]:
    if explicit is not None:
        return explicit, str(explicit)
    if BUNDLED_MODEL.is_file():
        return BUNDLED_MODEL, "bundled sorter/models/default.keras"
    import keras
    import numpy as np

    from sorter.model.backbone import build_backbone
    from sorter.model.lite import save_model

    backbone = build_backbone(192)
    network = keras.Model(backbone.input, keras.layers.Dense(3, activation="softmax")(backbone.output))
    path = workdir / "untrained.keras"
    save_model(network, path, np.random.default_rng(0).integers(0, 256, (64, 192, 192, 3), dtype=np.uint8))
    return path, "untrained EfficientNet-Lite0 at 192 px (no bundled model; speed does not depend on weights)"


def model_input_size(path: Path) -> int:
    from sorter.model.lite import load_classifier

    return load_classifier(path).image_size


# ----------------------------------------------------------------------------- subprocesses


SORTER_COMMAND: list[str] = []  # --sorter-command


def sorter_command() -> list[str]:
    if SORTER_COMMAND:
        return SORTER_COMMAND
    script = Path(sys.executable).parent / "sorter"
    return [str(script)] if script.exists() else [sys.executable, "-m", "sorter"]


# Started from this (TensorFlow-sized) process, a command's ru_maxrss would count this
# process's peak too: Linux charges the memory of the forked copy it exec'd from. So a tiny
# launcher starts it, and measures it: wall time, exit code, CPU time and peak RSS (wait4).
# It also reads the CPU time of the command's main thread every 10 ms (Linux: /proc/PID/task/PID),
# the last reading before the end: the part of the work that no other core can take.
LAUNCHER = """
import json, os, subprocess, sys, time
started = time.perf_counter()
child = subprocess.Popen(sys.argv[1:], stdout=subprocess.DEVNULL)
main_thread, tick = None, os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
while True:
    pid, status, usage = os.wait4(child.pid, os.WNOHANG)
    if pid:
        break
    try:
        with open(f"/proc/{child.pid}/task/{child.pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        main_thread = (int(fields[11]) + int(fields[12])) / tick  # utime + stime
    except (OSError, IndexError, ValueError):
        pass
    time.sleep(0.01)
rss = usage.ru_maxrss / (1024 if sys.platform == "darwin" else 1)
print(json.dumps({"seconds": time.perf_counter() - started, "exit_code": os.waitstatus_to_exitcode(status),
                  "peak_rss_mb": rss / 1024, "cpu_s": usage.ru_utime + usage.ru_stime,
                  "main_thread_cpu_s": main_thread}))
"""


def timed(argv: list[str], keep_stderr: bool = False) -> dict:
    """Run a command: wall time, exit code, CPU time and peak RSS of that process alone."""
    proc = subprocess.run([sys.executable, "-c", LAUNCHER, *argv], capture_output=True, text=True, check=True)
    result = json.loads(proc.stdout)
    result["stderr"] = proc.stderr if keep_stderr else proc.stderr[-2000:]
    return result


def fresh_copy(source: Path, count: int, target: Path) -> Path:
    if target.exists():
        shutil.rmtree(target)
    target.mkdir(parents=True)
    for path in sorted(source.iterdir())[:count]:
        shutil.copyfile(path, target / path.name)
    return target


def sort_run(source: Path, count: int, work: Path, model: Path) -> dict:
    folder = fresh_copy(source, count, work / "run")
    result = timed([*sorter_command(), "sort", str(folder), "--model", str(model)], keep_stderr=True)
    if result["exit_code"] != 0:
        raise SystemExit(f"sorter sort failed ({result['exit_code']}):\n{result['stderr']}")
    moved = sum(len(os.listdir(folder / name)) for name in ("cats", "dogs") if (folder / name).is_dir())
    # A photo the model judges neither a cat nor a dog is classified and left in place (every
    # input is a readable photo, JPEG or HEIC, so that is the only reason one stays). Counted
    # whatever its extension: only .sorter/, cats/ and dogs/ are folders here.
    with os.scandir(folder) as listing:
        neither = sum(1 for entry in listing if entry.is_file(follow_symlinks=False))
    if moved + neither != count:
        raise SystemExit(f"sorter sort moved {moved} and left {neither} of {count} files:\n{result['stderr']}")
    result["files"], result["neither"] = count, neither
    return result


def steady_state(source: Path, n: int, work: Path, model: Path, repeat: int) -> dict:
    """Fastest of `repeat` runs at N and at 2N (alternating, so drifting load hits both)."""
    runs: dict[int, list[dict]] = {n: [], 2 * n: []}
    for _ in range(repeat):
        for count in runs:
            runs[count].append(sort_run(source, count, work, model))
    small, large = (min(runs[count], key=lambda r: r["seconds"]) for count in runs)
    extra = large["seconds"] - small["seconds"]
    return {
        "n": n,
        "repeat": repeat,
        "t_n": small["seconds"],
        "t_2n": large["seconds"],
        "rate": n / extra if extra > 0 else None,  # None: noise swamped the difference; raise N
        "startup_estimate_s": 2 * small["seconds"] - large["seconds"],  # T(N) - N / rate
        "peak_rss_mb": {"n": small["peak_rss_mb"], "2n": large["peak_rss_mb"]},
        "cpu_s": {"n": small["cpu_s"], "2n": large["cpu_s"]},
    }
