"""The terminal: stdout for results, stderr for diagnostics and progress, and the one place
a `SorterError` becomes a one-line `Error: ...` and its exit code."""

from __future__ import annotations

import io
import os
import sys
from contextlib import contextmanager
from pathlib import Path
from typing import TextIO

import typer
from rich.console import Console

from sorter.config import as_shown
from sorter.errors import OptionError, SorterError


class _Console(Console):
    """rich meets a closed pipe by pointing *stdout* at /dev/null and exiting with status 1,
    whichever stream it was writing to: a sort whose reader left (`sorter sort DIR -v 2>&1 |
    head -1`) ended there, its summary and its status lost. Here the stream it wrote to goes to
    /dev/null (`lost`), the rest of what it says is dropped, and the command goes on to its own
    status; `gone` keeps why, for a log that says so (`results.FileLog`)."""

    gone: OSError | None = None

    def on_broken_pipe(self) -> None:
        self.gone = sys.exc_info()[1]  # the BrokenPipeError rich is handling
        lost(self.file)


out = _Console(highlight=False)
err = _Console(stderr=True, highlight=False)


def lost(stream: TextIO) -> None:
    """`stream` is gone: its pipe closed by the reader (`sorter watch DIR 2>&1 | head`), its
    terminal hung up. It and any standard stream that went to the same place now go to
    /dev/null, so that nothing written to them later fails (rich, Python's last-resort
    messages, TensorFlow's C++ logs), and nothing buffered fails again at exit."""
    try:
        gone = os.fstat(stream.fileno())
        devnull = os.open(os.devnull, os.O_WRONLY)
    except (OSError, ValueError):  # not a file descriptor's stream (a test's capture): nothing to do
        return
    try:
        for same in {sys.stdout, sys.stderr, stream}:
            try:
                fd = same.fileno()
                if os.path.samestat(os.fstat(fd), gone):
                    os.dup2(devnull, fd)
            except (OSError, ValueError, AttributeError):
                continue
    finally:
        os.close(devnull)


class _Dropping:
    """stdout, less its broken pipe: where the reader went away (`sorter sort DIR | head -1`,
    `sorter --help | head -1`), what is written from then on goes to /dev/null (`lost`), and
    the command finishes what it began (a sort its moves, which the journal already holds)
    and ends with its own status. Python's `print` (`--json`, `--jsonl`, `--version`) raised
    BrokenPipeError, which stopped a `--jsonl` sort at the next photo, and click turned it into
    status 1, without a word. Only EPIPE: a reader that left chose to; a disk that filled up
    under `--json > report.json` still fails the command. Everything else is the stream's."""

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream

    def write(self, text: str) -> int:
        try:
            return self._stream.write(text)
        except BrokenPipeError:
            lost(self._stream)
            return len(text)

    def flush(self) -> None:
        try:
            self._stream.flush()
        except BrokenPipeError:
            lost(self._stream)

    def __getattr__(self, name: str):
        return getattr(self._stream, name)


class _WholeWrites(io.RawIOBase):
    """stdout's file descriptor, each write written whole: Python 3.11's buffered stdout lost the
    rest of a write that a signal cut short. A write into a pipe whose reader is slower than the
    writer blocks once the pipe is full, and a signal then ends it after the bytes that fit (write(2)
    returns how many); the handler run and nothing raised (a finished sort's summary holds its
    signals, `signals_held`), the buffer went on without the rest: a `--json` sort into a 4 KiB pipe
    sent a Ctrl-C as it was read wrote 4,097 bytes of its 6,970, and exited 0 (QA 42). Here the rest
    is written after; a handler that raises (a sort cut short) stops it there, as it stops the sort."""

    def __init__(self, fd: int) -> None:
        super().__init__()
        self._fd = fd

    def writable(self) -> bool:
        return True

    def fileno(self) -> int:
        return self._fd

    def isatty(self) -> bool:
        return os.isatty(self._fd)

    def write(self, data) -> int:
        whole = memoryview(data).cast("B")
        written = 0
        while written < len(whole):
            written += os.write(self._fd, whole[written:])
        return written


def _written_whole(stream: TextIO) -> TextIO:
    """`stream` (stdout) as a text stream with no buffer of its own over `_WholeWrites`, each
    write said at once, as print's `flush=True` asked; one without a file descriptor (a test's
    capture) as it is."""
    try:
        fd = stream.fileno()
        stream.flush()
    except (OSError, ValueError, AttributeError):
        return stream
    return io.TextIOWrapper(_WholeWrites(fd), encoding=stream.encoding, errors=stream.errors,  # type: ignore[arg-type]
                            line_buffering=getattr(stream, "line_buffering", False), write_through=True)


def standard_streams() -> None:
    """stdin, stdout and stderr as a command needs them, set once as it starts (`cli.main`).
    One closed by the shell (`sorter sort DIR >&-`, `2>&-`) was None to Python, and the
    command ended in a traceback at its first line, or at its end: its descriptor now points at
    /dev/null, and what is written there is dropped. Left closed, its number would go to the
    next file opened (the journal, a photo being copied), which C code writing to fd 2 (an
    image decoder, TensorFlow) would then write into. stdout drops a broken pipe (`_Dropping`), and
    writes what a signal cut short whole (`_WholeWrites`)."""
    for fd, name in ((0, "stdin"), (1, "stdout"), (2, "stderr")):
        if getattr(sys, name) is not None:
            continue
        try:
            os.fstat(fd)
        except OSError:  # closed: /dev/null in its place
            devnull = os.open(os.devnull, os.O_RDONLY if fd == 0 else os.O_WRONLY)
            if devnull != fd:
                os.dup2(devnull, fd)
                os.close(devnull)
        setattr(sys, name, open(fd, "r" if fd == 0 else "w", encoding="utf-8", errors="backslashreplace",
                                closefd=False, buffering=1 if fd == 2 else -1))
    if not isinstance(sys.stdout, _Dropping):
        sys.stdout = _Dropping(_written_whole(sys.stdout))


def escaping_what_cannot_be_written() -> None:
    """stdout (and stderr) write a character their encoding has no bytes for as an escape
    (`Zo\\xeb` on an ASCII or Latin-1 terminal, `PYTHONIOENCODING=ascii`), where stdout raised
    UnicodeEncodeError: a traceback for a pet's or a file's name. Python's stderr already does;
    a stream set otherwise than strict (surrogateescape, in a C locale) is left as it is."""
    for stream in (sys.stdout, sys.stderr):
        if getattr(stream, "errors", None) == "strict" and hasattr(stream, "reconfigure"):
            stream.reconfigure(errors="backslashreplace")


def escape(text: str) -> str:
    """File names are data, not rich markup (a name like `x[/]` must print as itself)."""
    from rich.markup import escape as rich_escape

    return rich_escape(text)


def printable(text: str) -> str:
    """`text`, naming a file or a folder, as the terminal shows it: control characters escaped
    (`nl\\ndir`: no name starts a line of its own), bytes that are not UTF-8 as bytes."""
    return as_shown(text)


def shown(line: str) -> str:
    """`printable`, for rich: markup as text."""
    return escape(printable(line))


def fail(exc: SorterError) -> typer.Exit | typer.BadParameter:
    """What a command raises for `exc`: the `Exit` after its one `Error: ...` line; for an
    `OptionError` (raised below the CLI), typer's own `BadParameter`, which the group says with
    the help to read (`fail_usage`), as the option errors the CLI finds itself."""
    if isinstance(exc, OptionError):
        return typer.BadParameter(exc.reason, param_hint=list(exc.options))
    _ended()
    err.print(f"[red]Error:[/red] {shown(str(exc))}", soft_wrap=True)
    return typer.Exit(exc.exit_code)


def _ended() -> None:
    """The command ends with this error: a Ctrl-C noted inside an import is said instead (it
    came first), and a signal from now on changes nothing. One that came as the line was written
    or Python unwound after it (a CI run's SIGTERM, 80 ms after the start) added `Interrupted.`
    under it, the error line written twice, and ended with 143, not 2."""
    from sorter.signals import command_returned, interrupt_pending

    interrupt_pending()
    command_returned()


def fail_usage(exc: typer.TyperException) -> typer.Exit:
    """A usage error (a missing folder, an unknown option, a value out of range) as one line,
    like every other error, with where to read more; typer's own is a usage line and a box."""
    ctx = getattr(exc, "ctx", None)
    if getattr(exc, "possibilities", None):  # an unknown option: click's suggestions, the close ones alone
        exc.possibilities = _close(exc.option_name, exc.possibilities)
    message = exc.format_message().rstrip(".")
    if ctx is not None and ctx.help_option_names:
        message += f" (see '{ctx.command_path} {ctx.help_option_names[0]}')"
    _ended()
    err.print(f"[red]Error:[/red] {shown(message)}", soft_wrap=True)
    return typer.Exit(getattr(exc, "exit_code", 2))


def _close(typed: str, options: list[str]) -> list[str]:
    """The options like `typed`, as difflib measures it (0.6, its own cut-off) on the names alone:
    click measures `--bogus` with its dashes, and the two it shares with every option made
    `--verbose` a suggestion; `--dry-rn` is still one for `--dry-run` (0.92)."""
    from difflib import SequenceMatcher

    name = typed.lstrip("-")
    return [option for option in options if SequenceMatcher(None, name, option.lstrip("-")).ratio() >= 0.6]


class MissingArgument(typer.BadParameter):
    """An argument a command needs but typer cannot require (`sorter learn --forget` takes
    none), said as typer says a missing one: `Missing argument 'DIRECTORY': why`."""

    def format_message(self) -> str:
        return f"Missing argument {self.param_hint}: {self.message}"


def as_error(exc: SorterError | OSError, where: Path) -> SorterError:
    """An OSError (disk full, permissions) as the one-line error it is for the user."""
    return exc if isinstance(exc, SorterError) else SorterError(f"{exc.filename or where}: {exc.strerror or exc}")


def stopped_part_way(exc: SorterError | OSError, where: Path, then: str) -> SorterError:
    """`as_error`, and for a disk that filled up or turned read-only part way (a command that
    moves photos stops there), what was done is journaled and `then`, what to do."""
    import errno

    error = as_error(exc, where)
    if isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT, errno.EROFS):
        return SorterError(f"{error}; {then}")
    return error


def show_table(console: Console, table) -> None:
    """`table` on `console`, no word in it cut. Where a table is wider than the terminal, rich
    narrows its widest columns to any width and cuts what no longer fits (`--min-confi…` in
    sort's summary at 40 columns, a count `10…` and a header `pre…` in evaluate's matrix): an
    option name that cannot be copied, a number that cannot be read. Here each column keeps
    its longest word and shares the width left as its longest line asks; on a terminal too
    narrow for even that, each row is a line of its own, `header: value; ...`, wrapped at words."""
    from rich.measure import Measurement

    wide = console.options.update_width(10**6)
    ranges = [[Measurement.get(console, wide, cell) for cell in (column.header, *column.cells)]
              for column in table.columns]
    least = [max(r.minimum for r in column) for column in ranges]
    most = [max(r.maximum for r in column) for column in ranges]
    borders = Measurement.get(console, wide, table).maximum - sum(most)  # and each cell's padding
    room = console.width - borders - sum(least)
    if sum(most) - sum(least) <= room:  # fits as it is
        console.print(table)
    elif room >= 0:
        slack = sum(most) - sum(least)
        for column, low, high in zip(table.columns, least, most, strict=True):
            column.width = low + room * (high - low) // slack
        console.print(table)
    else:
        if table.title:
            console.print(table.title)
        from rich.text import Text

        cells = [(column.header, list(column.cells)) for column in table.columns]
        for index, row in enumerate(table.rows):
            # Each header held to its value's first word (`_GLUE`): `files:` never ends a line, its
            # count alone on the next (at 30 columns, `result: moved to cats/; files:` / `3`).
            line = "; ".join(f"{header}:{_GLUE}{column[index]}" for header, column in cells if column[index])
            say(console, Text.from_markup(line).plain, style=str(row.style or ""))


_GLUE = "\x00"  # a space `say` never breaks a line at (a control character no shown text holds: `printable`)


def say(console: Console, text: str, style: str = "") -> None:
    """Plain `text` wrapped at words to the terminal, no line ending in the space it was broken
    at (rich keeps it: `Dry run: nothing was changed. Every ` / `file's plan: --verbose.`), and
    no word broken: one wider than the terminal (a path) is a line of its own, the terminal's to wrap.
    `_GLUE` is a space that joins the words either side of it into one."""
    import textwrap

    lines = [line.replace(_GLUE, " ")
             for line in textwrap.wrap(text, console.width, break_long_words=False, break_on_hyphens=False)]
    console.print("\n".join(lines), markup=False, soft_wrap=True, style=style)


class NullProgress:
    def start(self) -> None:
        pass

    def stop(self) -> None:
        pass

    def update(self, *args, **kwargs) -> None:
        pass

    def advance(self, *args, **kwargs) -> None:
        pass

    console = err


@contextmanager
def progress_bar(enabled: bool, *, started: bool = True):
    """A progress bar on stderr, where it is a terminal. `started=False`: drawn from its
    `start()` on, which a command calls once its checks are passed: `sort /nonexist` drew
    "classifying 0/?" for a moment before its Error line."""
    if not enabled or not err.is_terminal:
        yield NullProgress(), None
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    progress = Progress(
        TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
        console=err, transient=True,
    )
    task = progress.add_task("classifying", total=None)
    if started:
        progress.start()
    try:
        yield progress, task
    finally:
        progress.stop()  # nothing to undo where it never started
