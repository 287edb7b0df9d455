"""argparse `type=` functions the benchmarks share (and the --help text they show), so that a bad
option is argparse's one-line usage error (exit 2) before anything is generated or run, never a
traceback minutes later nor a silent default (`--small 0` once meant 5000).

Only strings typed on the command line pass through these: a default that is a `Path` (the
dataset, the bundled model) is not checked here, so a machine without it still runs the rows
that do not need it.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path

from sorter.errors import ModelError
from sorter.model.network import check_model_path  # json and paths only: no TensorFlow at parse time


def description(doc: str | None) -> str:
    """A benchmark's docstring's first paragraph, joined into one line: its first line alone cut
    --help mid-sentence ("Does the model sort a camera roll, and does its judgment hold on")."""
    return " ".join((doc or "").strip().split("\n\n")[0].split())


def _whole(text: str, least: int) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < least:
        raise argparse.ArgumentTypeError(f"{text} is not at least 1" if least == 1 else f"{text} is below {least}")
    return value


def positive_int(text: str) -> int:
    return _whole(text, 1)


def at_least(least: int) -> Callable[[str], int]:
    """A whole number of at least `least`: `--epochs 1` where the first epoch is not timed."""
    def whole(text: str) -> int:
        return _whole(text, least)
    return whole


def non_negative_int(text: str) -> int:
    """0 or more: for counts where none is the baseline (no pets, no sub-folders)."""
    return _whole(text, 0)


def non_negative_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not value >= 0:  # also refuses nan
        raise argparse.ArgumentTypeError(f"{text} is below 0")
    return value


def fraction(text: str) -> float:
    """A number from 0 to 1, as sort's --min-confidence takes."""
    value = non_negative_float(text)
    if value > 1:
        raise argparse.ArgumentTypeError(f"{text} is above 1")
    return value


def positive_ints(text: str) -> str:
    """A comma-separated list of positive whole numbers, e.g. `100000,400000`; returned as typed
    (the benchmark splits it), as its string default is."""
    for part in text.split(","):
        positive_int(part.strip())
    return text


def datasets_dir(text: str) -> Path:
    """The shared datasets folder, or the folder holding it as `datasets/` (`--shared
    /work/shared` once found no photo, wanting /work/shared/datasets)."""
    path = existing_dir(text)
    return path / "datasets" if (path / "datasets").is_dir() else path


def existing_file(text: str) -> Path:
    path = Path(text)
    if not path.is_file():
        raise argparse.ArgumentTypeError(f"{text}: no such file")
    return path


def sorter_model(text: str) -> Path:
    """A model as `sorter sort --model` takes it, checked as sort checks it before any work (its
    .tflite beside it, its .json metadata readable and of this version's format): `--model
    README.md` once ran minutes before a traceback."""
    path = existing_file(text)
    try:
        check_model_path(path)
    except ModelError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return path


def existing_dir(text: str) -> Path:
    path = Path(text)
    if not path.is_dir():
        raise argparse.ArgumentTypeError(f"{text}: no such folder")
    return path


def new_file(text: str) -> Path:
    """A file to write: its folder must exist, so a typo fails before the run, not after it."""
    path = Path(text)
    if not path.parent.is_dir():
        raise argparse.ArgumentTypeError(f"{text}: no folder {path.parent} to write it in")
    if path.is_dir():
        raise argparse.ArgumentTypeError(f"{text} is a folder, not a file")
    return path


def width_by_height(text: str) -> str:
    """WIDTHxHEIGHT in pixels, both positive; returned as typed (the benchmarks split it)."""
    parts = text.lower().split("x")
    if len(parts) != 2 or not all(p.isdigit() and int(p) > 0 for p in parts):
        raise argparse.ArgumentTypeError(f"{text!r} is not WIDTHxHEIGHT, e.g. 1600x1200")
    return text
