"""Options several commands share."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from sorter.training.limits import not_a_number, number_within, wanted, whole_number_from


def _path(value: str | Path) -> Path:
    """A path option as typed: "" (`--report "$UNSET"`) is refused, not taken for the current
    folder, which is what `Path("")` means (evaluate wrote its PNGs there; `--log-file ''` said
    `cannot open log file .: Is a directory`)."""
    if isinstance(value, Path):  # a default
        return value
    if not value:
        raise typer.BadParameter("an empty path (a variable that is not set?)")
    return Path(value)


def path_option(*names: str, **options) -> typer.Option:
    """An option naming a file or a folder (`_path`), for `Annotated[Path, ...]`."""
    return typer.Option(*names, parser=_path, metavar=options.pop("metavar", "<path>"), **options)


ModelOption = Annotated[
    Optional[Path],
    path_option(
        "--model", "-m", help="MODEL.keras from `sorter train` (runs its int8 MODEL.tflite; default: the bundled model)."
    ),
]


NoPersonalOption = Annotated[
    bool,
    typer.Option("--no-personal", help="Ignore the personal model `sorter learn` made: the model's own decisions."),
]

LogFileOption = Annotated[
    Optional[Path], path_option("--log-file", help="Also append a line per file, timestamped, to this file.")
]


def number_from(low: float, high: float):
    """A parser for a number from `low` to `high`. Click's own range check lets "nan" through to
    "should be less than or equal to 1" (every comparison with nan is false) and takes "inf" for
    a number; both are refused here as what they are."""

    def parse(value: str | float) -> float:
        try:
            number = float(value)
        except ValueError:
            raise typer.BadParameter(f"{value!r} is not a number; give one from {low:g} to {high:g}") from None
        if not number_within(number, low, high):
            raise typer.BadParameter(not_a_number(low, high, value))
        return number

    return parse


def whole_number(low: int, high: int):
    """A parser for a whole number from `low` to `high`, whose error reads as train's own option
    errors (`errors.OptionError`: `must be ... (got 0)`), where click's range check said
    `Input should be greater than or equal to 1`, and its type check `Input should be a valid
    integer, unable to parse string as an integer`. Every one has a `high`: without one,
    `--epochs 99999999999999999999` reached TensorFlow ("Failed to convert elements ... to
    Tensor"), a traceback after MODEL.checkpoints/ was made."""

    def parse(value: str | int) -> int:
        try:
            number = int(value)
        except ValueError:
            number = None
        if not whole_number_from(number, low, high):
            raise typer.BadParameter(wanted(low, high, value))
        return number

    return parse


def port_number(value: str | int) -> int:
    """--port as the other ranges are checked (`70000 is not a port number (0-65535)`), where
    click's own check said `Input should be less than or equal to 65535`."""
    try:
        port = int(value)
    except ValueError:
        port = -1
    if not 0 <= port <= 65535:
        # quoted where it would not be seen: `--port ''` said ":  is not a port number"
        shown = value if str(value) and not any(c.isspace() for c in str(value)) else repr(value)
        raise typer.BadParameter(f"{shown} is not a port number (0-65535)")
    return port


MinConfidenceOption = Annotated[
    float,
    typer.Option(
        parser=number_from(0.0, 1.0), metavar="FLOAT",
        help="Leave images the model is less sure about in place: from 0 (file every one) to 1; 0.9: under 90 %.",
    ),
]


def _folder(value: str) -> Path:
    """A folder argument as typed: "" (`sorter sort "$UNSET"`) is refused, not taken for the
    current folder, which is what `Path("")` means."""
    if not value:
        raise typer.BadParameter("an empty path (a variable that is not set?); give a folder, or . for this one")
    return Path(value)


def folder_argument(help: str, **options):
    """A folder argument (`_folder`), for `Annotated[Path, ...]`."""
    return typer.Argument(help=help, parser=_folder, **options)
