"""cli: the `sorter` command, a module per command family, each thin: parse, call one
use-case, render with rich. The only code that imports typer and rich.

Errors are translated here, once (`console.fail`): a `SorterError` becomes one `Error: ...`
line on stderr and its exit code; never a traceback.

May import: every wing and use-case below it (lazily, inside the command, so `--help`
loads none of them), `sorter.config`, `sorter.errors`.
"""

from __future__ import annotations

import sys
from typing import Annotated

import typer
from typer.core import TyperArgument, TyperCommand, TyperGroup, TyperOption

from sorter import __version__
from sorter.cli import learning, review, sorting, training, watching
from sorter.cli.console import err, escaping_what_cannot_be_written, fail_usage
from sorter.cli.help import help_text


class _PlainHelp:
    """Help that shows options and arguments as they are typed, for `sorter` and each command.
    typer 0.29 (pyproject allows any 0.x from it) writes `<bool>` after every flag, as if it
    took a value (`--dry-run true` is then a usage error, exit 2): a flag shows none. An
    argument is its name in capitals, as the text names it (DIRECTORY) and as errors say it
    (`Missing argument 'DIRECTORY'`). Its examples fit the terminal, its lines end without
    rich's padding, and its first line is the usage, not a blank one (`cli.help`)."""

    def format_help(self, ctx, formatter):
        from rich.console import Console
        from typer import rich_utils

        from sorter.cli.help import Captured, examples_fitted, without_leading_blank, without_trailing_spaces

        # The width rich draws the help at (typer's TERMINAL_WIDTH, else COLUMNS or the
        # terminal's), less the text's margin of a column on each side.
        width = Console(width=rich_utils.MAX_WIDTH).width - 2
        written, shown, stdout = self.help, Captured(sys.stdout), sys.stdout
        try:
            self.help = examples_fitted(written, width) if written else written
            sys.stdout = shown  # where rich's console writes, read as it prints
            super().format_help(ctx, formatter)
        finally:
            sys.stdout, self.help = stdout, written
        stdout.write(without_leading_blank(without_trailing_spaces(shown.getvalue())))

    def get_params(self, ctx):
        params = super().get_params(ctx)
        for param in params:
            if isinstance(param, TyperOption) and param.is_flag:
                param.metavar = ""
            elif isinstance(param, TyperArgument) and param.metavar is None:
                param.metavar = param.name.upper()
        return params


class _Command(_PlainHelp, TyperCommand):
    """A command whose usage line names its argument as its text does (`sorter sort [OPTIONS]
    DIRECTORY`, `sorter learn [OPTIONS] [DIRECTORY]`), not typer's `{directory}`."""

    def parse_args(self, ctx, args):
        try:
            return super().parse_args(ctx, args)
        except typer.TyperException as exc:
            # typer's parser raises "Option '--log-file' requires an argument" and "Option '--all'
            # does not take a value" without the command: said without the help to read.
            if getattr(exc, "ctx", None) is None:
                exc.ctx = ctx
            raise

    def invoke(self, ctx):
        from sorter.signals import command_returned, interrupt_pending

        interrupt_pending()  # a Ctrl-C received as the options were read, inside an import
        try:
            return super().invoke(ctx)
        finally:  # its result said (or its Interrupted line to say): a signal now changes nothing
            command_returned()

    def collect_usage_pieces(self, ctx):
        pieces = [self.options_metavar] if self.options_metavar else []
        for param in self.get_params(ctx):
            if isinstance(param, TyperArgument):
                pieces.append(param.metavar if param.required else f"[{param.metavar}]")
        return pieces


class _OneLineErrors(_PlainHelp, TyperGroup):
    """The `sorter` group, whose usage errors (its own and its commands', which are parsed
    inside its `invoke`) are one `Error: ...` line."""

    def make_context(self, info_name, args, parent=None, **extra):
        alone = not args  # read now: the parser takes the options out of `args` as it goes
        try:
            return super().make_context(info_name, args, parent, **extra)
        except typer.TyperException as exc:
            if alone:  # `sorter` alone: no_args_is_help shows the help, as it should
                raise
            raise fail_usage(exc) from None
        except KeyboardInterrupt:  # while the options are read: the same as in the command
            raise _interrupted() from None

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except typer.TyperException as exc:
            raise fail_usage(exc) from None
        except KeyboardInterrupt:
            raise _interrupted() from None


def _interrupted() -> typer.Exit:
    """Ctrl-C in the group's parsing or a command: not left to typer, which ends with status 130
    and not a word."""
    err.print("Interrupted.")
    return typer.Exit(130)


app = typer.Typer(
    cls=_OneLineErrors,
    help="Sort a folder of photos into cats/ and dogs/ with a small neural network.",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode="rich",
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(value: bool) -> None:
    if value:
        print(f"sorter {__version__}")
        raise typer.Exit()


@app.callback()
def main_options(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Show the version and exit.")
    ] = False,
) -> None:
    """Sort a folder of photos into cats/ and dogs/ with a small neural network.

    Examples:

      sorter sort ~/Pictures/pets

      sorter sort ~/Pictures/pets --dry-run

      sorter undo ~/Pictures/pets
    """
    escaping_what_cannot_be_written()


def _command(function, short_help: str, name: str | None = None) -> None:
    # One short line each in `sorter --help`; the whole text is in `sorter COMMAND --help`.
    app.command(name, cls=_Command, short_help=short_help, help=help_text(function.__doc__))(function)


_command(training.train, "Train a model on labelled photos (cats, dogs, and what is neither).")
_command(training.evaluate, "Measure a model on photos it never trained on.")
_command(sorting.sort_command, "Move a folder's photos into cats/ and dogs/.", "sort")
_command(sorting.undo, "Put back what a sort moved.")
_command(watching.watch_command, "Keep a folder sorted as photos arrive.", "watch")
_command(review.review_command, "Check and correct a sort in the browser.", "review")
_command(learning.learn, "Learn from the corrections you made.")


def main() -> None:
    import os
    import shutil
    import tempfile

    from sorter.cli.console import standard_streams
    from sorter.signals import sigterm_as_ctrl_c, terminated

    standard_streams()  # before any file is opened: a closed stdout's number is not the journal's
    sigterm_as_ctrl_c()  # set already by the entry point (`sorter.__main__`); kept for a caller of this one
    code: int | str | None = 0
    try:
        # This process's temporary files in a folder of its own, removed at the end: TensorFlow's
        # autograph leaves 5 source files in /tmp a training run (removed at interpreter exit,
        # which `os._exit` below skips: 1,000 had piled up here).
        try:
            tempfile.tempdir = tempfile.mkdtemp(prefix="sorter-")
        except OSError:
            pass  # no writable temporary folder: whatever needs one says so
        app()
    except SystemExit as exc:
        code = exc.code
    except KeyboardInterrupt:
        err.print("Interrupted.")
        code = 130
    if code == 130 and terminated():  # stopped as Ctrl-C stops it, and said so, but by SIGTERM
        code = 143
    if isinstance(code, str):  # a message passed to sys.exit
        err.print(code, markup=False)
        code = 1
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except OSError:  # stderr's reader gone as the command ended: its status is said all the same
            pass
    if tempfile.tempdir and os.path.basename(tempfile.tempdir).startswith("sorter-"):
        shutil.rmtree(tempfile.tempdir, ignore_errors=True)
    # Everything the run wrote is closed and fsync'd by now; skipping interpreter teardown
    # saves about a second of TensorFlow shutting down its thread pools.
    os._exit(code or 0)
