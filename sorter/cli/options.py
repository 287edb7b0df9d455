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

