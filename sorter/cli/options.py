"""Options several commands share."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

ModelOption = Annotated[
    Optional[Path],
    typer.Option(
        "--model", "-m", help="MODEL.keras from `sorter train` (runs its int8 MODEL.tflite; default: the bundled model)."
    ),
]


NoPersonalOption = Annotated[
    bool,
    typer.Option("--no-personal", help="Ignore the personal model `sorter learn` made: the model's own decisions."),
]

LogFileOption = Annotated[
    Optional[Path], typer.Option("--log-file", help="Also append a line per file, timestamped, to this file.")
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
