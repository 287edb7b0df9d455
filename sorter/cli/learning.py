"""`sorter learn`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from sorter.cli.console import MissingArgument, as_error, err, fail, out, progress_bar, shown
from sorter.cli.options import ModelOption, folder_argument
from sorter.errors import OptionError, SorterError


def learn(
    directory: Annotated[
        Optional[Path], folder_argument("A sorted folder whose mistakes you put right.", show_default=False)
    ] = None,
    model: ModelOption = None,
    forget: Annotated[
        bool, typer.Option("--forget", help="Delete the personal model and everything it learnt, and exit.")
    ] = False,
) -> None:
    """Learn from the photos you put right in DIRECTORY since sorter sorted it: a photo moved
    from dogs/ to cats/ (or out of both: neither), a photo left in place that you filed, photos
    you put into cats/ or dogs/ yourself, and your named pets (cats/Luna/ with 5 or more photos).
    From then on sort, watch and evaluate use the personal model (--no-personal ignores it).

    Prints the corrections by kind, how many of them `sort --no-personal` files right and how
    many a sort with the personal model files right when each is held out of the fit, and how
    its decisions on the model's reference pets move; corrections whose learning
    would put more than 0.5% more of them in the wrong place are kept, not learnt yet.

    Examples:

      sorter learn ~/Pictures/roll

      sorter learn --forget
    """
    from sorter.learning import learn as learning
    from sorter.learning.report import report_lines

    if forget and directory is not None:
        # `--forget DIR/cats/Kit` read as "forget Kit" deleted every pet and correction, silently.
        raise fail(OptionError(
            "deletes the whole personal model (every named pet, every correction) and takes no "
            "folder; to forget one pet, move her folder out of cats/ or dogs/ and run `sorter learn` on "
            "the folder she was learnt in", "--forget"))
    if forget and model is not None:  # the personal model is one, whatever model it was learnt on
        raise fail(OptionError("deletes the whole personal model, whichever model it was learnt on: "
                               "give one or the other", "--forget", "--model"))
    if forget:
        try:  # after a learn that is running (it would save what was forgotten again), said once
            removed = learning.forget(lambda *_: err.print("Waiting for another `sorter learn` to finish…", markup=False))
        except SorterError as exc:
            raise fail(exc) from None
        out.print(shown(f"Forgot the personal model: deleted {', '.join(str(p) for p in removed)}" if removed
                        else "There was no personal model to forget."), soft_wrap=True)
        return
    if directory is None:
        raise MissingArgument("give the folder to learn from, or --forget", param_hint="'DIRECTORY'")
    try:
        with progress_bar(True) as (progress, task):
            result = learning.learn(
                directory, model=model,
                progress=lambda what, done, total: progress.update(task, description=what, completed=done, total=total),
            )
    except (SorterError, OSError) as exc:
        raise fail(as_error(exc, directory)) from None
    # As sort shows a file's name: its controls escaped, bytes that are not UTF-8 as bytes.
    for line in result.unreadable:
        err.print(f"unreadable: {shown(line)}", soft_wrap=True)
    for line in report_lines(result):
        out.print(shown(line), soft_wrap=True)
