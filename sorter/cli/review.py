"""`sorter review`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from sorter.cli.console import as_error, err, fail, shown
from sorter.cli.options import ModelOption, folder_argument, port_number
from sorter.cli.results import not_entered_line
from sorter.config import as_typed
from sorter.errors import SorterError
from sorter.wording import counted


def review_command(
    directory: Annotated[Path, folder_argument("A folder sorted by `sorter sort` or `sorter watch`.")],
    port: Annotated[int, typer.Option(parser=port_number, metavar="PORT",
                                      help="Port on 127.0.0.1 and ::1 (0: any free one).")] = 0,
    no_browser: Annotated[bool, typer.Option("--no-browser", help="Print the URL; do not open a browser.")] = False,
    model: ModelOption = None,
) -> None:
    """Look through a sort in the browser and put it right: a local page with the folder's
    photos grouped as the review page groups them, least confident first, each with Cat, Dog
    and Neither buttons (keys c, d, n; u takes back the last), and Name... (key p) to put it
    into a named pet's folder, cats/Luna/. A click moves the photo, with its companions, at
    once: journaled, and undone by `sorter undo` like any move. First come the photos a sort
    noted your named pets might be ("Might be cats/Luna/"): p, Enter names one; "Not Luna" says
    it is not her (`sorter undo` takes those answers back too). "Learn from my corrections"
    runs `sorter learn` on the folder (with --model) and shows its report.

    Prints the page's URL (with its secret token) as the first line, opens it, and serves
    until Ctrl-C. Only this machine can reach it (127.0.0.1 and ::1).

    Examples:

      sorter review ~/Pictures/pets

      sorter review ~/Pictures/pets --port 8765 --no-browser
    """
    from sorter.review.server import serve

    def ready(started) -> None:
        print(started.url, flush=True)
        videos = f" and {counted(started.videos, 'video')}" if started.videos else ""
        err.print(f"Reviewing {shown(str(started.folder))}: {counted(started.photos - started.videos, 'photo')}{videos}. "
                  "Stop with Ctrl-C.",
                  soft_wrap=True)
        # No `review --recursive`: a sort --recursive judges them, and the page then shows them all.
        passed = not_entered_line(started.not_entered, f"sorter sort --recursive {as_typed(started.folder)} "
                                                       "sorts them, then review shows them.")
        if passed is not None:
            err.print(passed, markup=False, soft_wrap=True)

    try:
        serve(directory, port=port, open_browser=not no_browser, model=model, on_ready=ready)
    except (SorterError, OSError) as exc:
        raise fail(as_error(exc, directory)) from None
