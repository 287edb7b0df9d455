"""The `sorter` command: parse, call one service function, render with rich.

The only module that imports typer and rich. Errors are translated here, once: a
`SorterError` becomes one `Error: ...` line on stderr and its exit code; never a traceback.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console

from sorter import __version__
from sorter.errors import SorterError, UsageError

app = typer.Typer(
    help="Sort a folder of photos into cats/ and dogs/ with a small neural network.",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode="rich",
    context_settings={"help_option_names": ["-h", "--help"]},
)
out = Console(highlight=False)
err = Console(stderr=True, highlight=False)


def escape(text: str) -> str:
    """File names are data, not rich markup (a name like `x[/]` must print as itself)."""
    from rich.markup import escape as rich_escape

    return rich_escape(text)


def fail(exc: SorterError) -> typer.Exit:
    err.print(f"[red]Error:[/red] {escape(str(exc))}", soft_wrap=True)
    return typer.Exit(exc.exit_code)


def as_error(exc: SorterError | OSError, where: Path) -> SorterError:
    """An OSError (disk full, permissions) as the one-line error it is for the user."""
    return exc if isinstance(exc, SorterError) else SorterError(f"{exc.filename or where}: {exc.strerror or exc}")


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


ModelOption = Annotated[
    Optional[Path],
    typer.Option(
        "--model", "-m", help="MODEL.keras from `sorter train` (runs its int8 MODEL.tflite; default: the bundled model)."
    ),
]


# --------------------------------------------------------------------------- train


@app.command()
def train(
    data_dir: Annotated[
        Path, typer.Argument(help="Folder with Cat/ and Dog/ (or cats/, dogs/) subfolders, and optionally Other/.")
    ],
    out_path: Annotated[Path, typer.Option("--out", "-o", help="Where to save the .keras model.")] = Path("model.keras"),
    other: Annotated[
        Optional[list[Path]],
        typer.Option(help="Photos that are neither cats nor dogs (sub-folders per kind), for a third outcome; "
                     "repeat it for several folders. Default: DATA_DIR/Other/ when there is one."),
    ] = None,
    backbone: Annotated[
        str,
        typer.Option(help="efficientnet-lite0: start from ImageNet weights (needs sorter\\[train]); "
                     "none: the small network, from random weights (cats and dogs only)."),
    ] = "efficientnet-lite0",
    epochs: Annotated[
        Optional[int], typer.Option(min=1, help="Maximum epochs (early stopping may end sooner). (default: 2 / 40)")
    ] = None,
    image_size: Annotated[
        Optional[int], typer.Option(min=32, max=512, help="Input size in pixels (square). (default: 224 / 144)")
    ] = None,
    validation_split: Annotated[float, typer.Option(min=0.0, max=0.9, help="Fraction held out for validation.")] = 0.2,
    seed: Annotated[int, typer.Option(help="Seed for the split, shuffling and initial weights.")] = 1337,
    batch_size: Annotated[Optional[int], typer.Option(min=1, help="Images per training step. (default: 128 / 64)")] = None,
    patience: Annotated[int, typer.Option(min=1, help="Stop after this many epochs without a better validation loss.")] = 8,
    limit: Annotated[Optional[int], typer.Option(min=1, help="Use at most this many images per class.")] = None,
    resume: Annotated[bool, typer.Option("--resume", help="Continue an interrupted run from its last checkpoint.")] = False,
    learning_rate: Annotated[
        Optional[float],
        typer.Option(min=1e-6, max=1.0, help="Peak learning rate (warm-up, then cosine decay). (default: 2e-4 / 3e-3)"),
    ] = None,
    init_from: Annotated[
        Optional[Path],
        typer.Option(help="With --backbone none: fine-tune MODEL.keras (trained on the same split) instead of "
                     "starting from random weights."),
    ] = None,
    distribute: Annotated[
        str,
        typer.Option(help="tf.distribute. none: one device. mirrored: every GPU of this machine. multi-worker: "
                     "one process per machine, the cluster in TF_CONFIG (worker 0, or the chief, saves). Under a "
                     "strategy --batch-size is per replica and the peak learning rate is multiplied by the number "
                     "of replicas."),
    ] = "none",
) -> None:
    """Train a model on a labelled folder: cat or dog, and with non-pets (--other, or an
    Other/ folder) a third outcome, neither. Defaults are given as backbone / none.

    The default backbone starts from EfficientNet-Lite0's ImageNet weights: the frozen part
    runs once over every photo (cached in MODEL.checkpoints/), then the top block and the
    classifier are fine-tuned. Non-pets are validated on whole kinds held out of training.

    Saves MODEL.keras, MODEL.tflite (the int8 model that sort runs), MODEL.json (metadata)
    and MODEL-curves.png; checkpoints go to MODEL.checkpoints/ after every epoch, so an
    interrupted run continues with --resume (on several machines: every worker again with
    --resume, and they continue from the chief's checkpoint).

    Example:

      sorter train ../shared/datasets/dogs-vs-cats-200 --out model.keras
        --other ../shared/datasets/caltech101-not-pets
    """
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    from sorter import trainer
    from sorter.trainer import WorkerDone
    from sorter.training import BatchDone, EpochDone, TrainConfig

    config = TrainConfig(
        data_dir=data_dir, out=out_path, epochs=epochs, image_size=image_size,
        validation_split=validation_split, seed=seed, batch_size=batch_size,
        patience=patience, limit=limit, learning_rate=learning_rate, init_from=init_from,
        backbone=backbone, other=tuple(other or ()), distribute=distribute,
    )
    with Progress(
        TextColumn("{task.fields[what]}"), BarColumn(),
        MofNCompleteColumn(), TimeRemainingColumn(), console=err, transient=True,
    ) as progress:
        task = progress.add_task("train", total=None, what="starting")

        def on_cache(name: str, done: int, total: int) -> None:
            progress.update(task, completed=done, total=total, what=f"caching features of {name} (chunks)")

        def on_event(event) -> None:
            if isinstance(event, BatchDone):
                progress.update(task, completed=event.batch, total=event.batches,
                                what=f"epoch {event.epoch}/{config.epochs or '?'}")
            elif isinstance(event, EpochDone):
                m = event.metrics
                star = " *" if event.best else ""
                progress.console.print(
                    f"epoch {event.epoch:>3}/{event.epochs}  loss {m.get('loss', 0):.4f}  "
                    f"acc {m.get('accuracy', 0):.4f}  val_loss {m.get('val_loss', float('nan')):.4f}  "
                    f"val_acc {m.get('val_accuracy', float('nan')):.4f}  {event.seconds:.0f}s{star}"
                )
                progress.reset(task, total=None, what=f"epoch {event.epoch + 1}/{event.epochs}")

        try:
            result = trainer.train(config, resume=resume, on_event=on_event, on_cache=on_cache)
        except SorterError as exc:
            raise fail(exc) from None
    if isinstance(result, WorkerDone):
        out.print(f"Worker {result.index} of {result.workers} done ({result.epochs_run} epochs, "
                  f"{result.seconds / 60:.1f} min); the chief saves the model")
        return
    if result.broken:
        err.print(f"skipped {len(result.broken)} unreadable file(s):")
        for line in result.broken[:20]:
            err.print(f"  {line}", soft_wrap=True)
    accuracy = f"{result.validation.accuracy:.2%} on {result.validation.n}" if result.validation else "n/a"
    out.print(f"Saved {result.model_path} ({result.epochs_run} epochs, best {result.best_epoch}, "
              f"{result.seconds / 60:.1f} min); validation accuracy {accuracy}")
    if result.validation is not None:
        for line in result.validation.rate_lines() + result.validation.calibration_lines():
            out.print(f"  {line}")
    out.print(f"Int8 model for sorting {result.runtime_path}; metadata {result.metadata_path}; curves {result.curves_path}")


# --------------------------------------------------------------------------- evaluate


@app.command()
def evaluate(
    data_dir: Annotated[
        Path, typer.Argument(help="Labelled folder with Cat/ and Dog/ subfolders, and optionally Other/ (non-pets).")
    ],
    model: ModelOption = None,
    split: Annotated[
        str,
        typer.Option(help="all: every image; validation/training: the split recorded in the model's metadata."),
    ] = "all",
    report: Annotated[
        Optional[Path], typer.Option(help="Write confusion.png and mistakes.png (contact sheet) here.")
    ] = None,
    other: Annotated[
        Optional[list[Path]],
        typer.Option(help="Non-pet photos to include instead of DATA_DIR/Other/, repeatable (with --split: "
                     "default, the folders the model trained with)."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object on stdout.")] = False,
    no_personal: NoPersonalOption = False,
) -> None:
    """Measure a model on a labelled folder: accuracy, precision/recall, confusion matrix.
    With an Other/ folder (photos that are neither, in subfolders if you like): the 3x3
    matrix, pet accuracy, non-pets left out and pets lost to neither.

    Examples:

      sorter evaluate ../shared/datasets/dogs-vs-cats-200 --split validation

      sorter evaluate photos/ --json --report report/
    """
    from rich.table import Table

    from sorter import evaluation

    if split not in ("all", "validation", "training"):
        raise typer.BadParameter("must be one of: all, validation, training", param_hint="--split")
    try:
        with _progress(not as_json) as (progress, task):
            result = evaluation.evaluate(
                data_dir, model, split=split, report_dir=report, other=tuple(other or ()), personal=not no_personal,
                progress=lambda done, total: progress.update(task, completed=done, total=total),
            )
    except SorterError as exc:
        raise fail(exc) from None
    for line in result.unreadable:
        err.print(f"unreadable: {line}", soft_wrap=True)
    if as_json:
        print(json.dumps(result.to_json()))
        return
    out.print(f"[bold]{result.accuracy:.2%}[/bold] accuracy on {result.n} images (split: {split})")
    columns = list(next(iter(result.confusion.values())))
    table = Table("true \\ predicted", *columns, "precision", "recall")
    for label, row in result.confusion.items():
        table.add_row(label, *(str(row[c]) for c in columns),
                      f"{result.precision[label]:.2%}", f"{result.recall[label]:.2%}")
    out.print(table)
    for line in result.rate_lines() + result.calibration_lines():
        out.print(line, markup=False)
    if result.by_kind:
        kinds = Table("kind", "belongs", "photos", "where it belongs", title="by kind")
        where = {"cat": "cats/", "dog": "dogs/", "other": "left in place"}
        for kind in result.by_kind:
            kinds.add_row(escape(kind.kind), where[kind.expected], str(kind.n), f"{kind.rate:.1%}")
        out.print(kinds)
    if report is not None:
        out.print(f"Report: {report / 'confusion.png'}, {report / 'mistakes.png'}")


# --------------------------------------------------------------------------- sort


class _NullProgress:
    def update(self, *args, **kwargs) -> None:
        pass

    def advance(self, *args, **kwargs) -> None:
        pass

    console = err


from contextlib import contextmanager  # noqa: E402


@contextmanager
def _progress(enabled: bool):
    if not enabled or not err.is_terminal:
        yield _NullProgress(), None
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    with Progress(
        TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
        console=err, transient=True,
    ) as progress:
        yield progress, progress.add_task("classifying", total=None)


STATUS_STYLE = {
    "moved": "green", "planned": "cyan", "neither": "blue", "unsure": "yellow", "unreadable": "red",
    "skipped": "dim", "vanished": "yellow", "failed": "red",
}
#: Rows of reasons for files left in place in the summary table, so it fits on a screen
#: whatever the folder: the most frequent, then one row for the rest.
MAX_REASON_ROWS = 8

NoPersonalOption = Annotated[
    bool,
    typer.Option("--no-personal", help="Ignore the personal model `sorter learn` made: the model's own decisions."),
]

LogFileOption = Annotated[
    Optional[Path], typer.Option("--log-file", help="Also append a line per file, timestamped, to this file.")
]


def _detail(result) -> str:
    """What the model said about a file it left in place: (dog, 61%) when unsure, (97%)
    when neither."""
    if result.status == "unsure":
        return f" ({_video(result)}{result.label}, {result.confidence:.0%})"
    if result.status == "neither":
        return f" ({_video(result)}{result.confidence:.0%})"
    return " (video)" if result.is_video else ""


def _with_companions(result) -> str:
    """ (+ IMG_1.MOV, IMG_1.AAE) for a photo that moves with its companions."""
    names = [path.name for path, dst in result.companions if dst is not None]
    return f" (+ {', '.join(names)})" if names else ""


def _video(result) -> str:
    """"video, 8 frames, " before a video's label and confidence."""
    if not result.is_video or not result.frames:
        return ""
    return f"video, {result.frames} frame{'s' if result.frames > 1 else ''}, "


def _videos_line(videos: dict[str, int], dry_run: bool) -> str:
    """Videos: 3 moved, 2 left in place (neither: 1, unreadable: 1)."""
    moved = videos.get("planned" if dry_run else "moved", 0)
    left = {status: n for status, n in videos.items() if status not in ("moved", "planned")}
    split = ", ".join(f"{status}: {n}" for status, n in sorted(left.items()))
    return (f"Videos: {moved} {'would move' if dry_run else 'moved'}, {sum(left.values())} left in place"
            + (f" ({split})" if split else ""))


class _FileLog:
    """One line per file: rich on a terminal, plain on a pipe (journald adds its own
    timestamps), and plain timestamped lines appended to --log-file. `echo=False` writes the
    file alone (sort without --verbose); `clock` puts the time before terminal lines (watch)."""

    def __init__(self, root: Path, log_file: Path | None, *, echo: bool = True, clock: bool = True) -> None:
        self.root = root
        try:
            # surrogateescape: a file name that is not UTF-8 is logged as its bytes, not a crash.
            self.file = open(log_file, "a", encoding="utf-8", errors="surrogateescape") if log_file is not None else None
        except OSError as exc:
            raise fail(SorterError(f"cannot open log file {log_file}: {exc.strerror or exc}")) from None
        self.echo = echo
        self.clock = clock
        self.rich = err.is_terminal

    def __enter__(self) -> _FileLog:
        return self

    def __exit__(self, *exc_info) -> None:
        if self.file is not None:
            self.file.close()

    def fail(self, exc: SorterError | OSError, directory: Path) -> typer.Exit:
        """`fail()` for an error that ends the command, after noting it in the log file (the
        terminal or journal gets it from `fail`)."""
        error = as_error(exc, directory)
        self.to_file(f"Error: {error}")
        return fail(error)

    def line(self, plain: str, styled: str | None = None) -> None:
        if self.echo and self.rich:
            from datetime import datetime

            clock = f"[dim]{datetime.now():%H:%M:%S}[/] " if self.clock else ""
            err.print(f"{clock}{styled or escape(plain)}", soft_wrap=True)
        elif self.echo:
            sys.stderr.write(plain + "\n")
            sys.stderr.flush()
        self.to_file(plain)

    def to_file(self, plain: str) -> None:
        from datetime import datetime

        if self.file is not None:
            self.file.write(f"{datetime.now().isoformat(sep=' ', timespec='seconds')} {plain}\n")
            self.file.flush()

    def _rel(self, path: Path) -> str:
        try:
            return str(path.relative_to(self.root))
        except ValueError:
            return str(path)

    def result(self, result) -> None:
        if not self.echo and self.file is None:
            return
        name = self._rel(result.path)
        if result.status == "joined":  # watch: a companion that came after its photo
            where = self._rel(result.destination)
            self.line(f"joined {name} -> {where} (its photo went there before it came)",
                      f"[green]joined[/] {escape(name)} -> {escape(where)} [dim](its photo went there before it came)[/]")
        elif result.status in ("moved", "planned"):
            verb = "moved" if result.status == "moved" else "would move"
            where = self._rel(result.destination)
            detail = f"({_video(result)}{result.label}, {result.confidence:.0%})"
            group = name + _with_companions(result)
            self.line(f"{verb} {group} -> {where} {detail}",
                      f"[{STATUS_STYLE[result.status]}]{verb}[/] {escape(group)} -> {escape(where)} [dim]{detail}[/]")
        else:
            plain = f"{result.status}: {name}{_detail(result)}: {result.reason}"
            self.line(plain, f"[{STATUS_STYLE.get(result.status, '')}]{result.status}[/]: {escape(plain.split(': ', 1)[1])}")
        # What the decoder printed about the file ("Corrupt JPEG data: ..."), under its line.
        for warning in result.warnings:
            self.line(f"warning: {name}: {warning}", f"[yellow]warning[/]: {escape(name)}: {escape(warning)}")

    def notice(self, notice) -> None:
        self.line(notice.message, f"[yellow]{escape(notice.message)}[/]" if notice.warning else None)


def _moved(moved_to: dict[str, int], verb: str = "moved") -> str:
    split = ", ".join(f"{folder}: {n}" for folder, n in sorted(moved_to.items()))
    return f"{verb} {sum(moved_to.values())} file(s){f' ({split})' if split else ''}"


def _reason_rows(reasons: dict[tuple[str, str], int]) -> list[tuple[str, str, int]]:
    """(status, reason, files) rows for what was left in place: the MAX_REASON_ROWS most
    frequent reasons in status order, then "N other reasons" with the files of the rest."""
    from sorter.planning import LEFT_IN_PLACE

    order = {status: i for i, status in enumerate(LEFT_IN_PLACE)}
    by_count = sorted(reasons.items(), key=lambda item: (-item[1], order.get(item[0][0], len(order)), item[0]))
    shown, rest = by_count[:MAX_REASON_ROWS], by_count[MAX_REASON_ROWS:]
    if len(rest) == 1:  # a row saying "1 other reason" is no shorter than the reason itself
        shown, rest = by_count, []
    shown.sort(key=lambda item: (order.get(item[0][0], len(order)), -item[1], item[0]))
    rows = [(status, kind, files) for (status, kind), files in shown]
    if rest:
        rows.append(("", f"{len(rest)} other reasons", sum(files for _, files in rest)))
    return rows


def _summary_table(summary):
    from rich.table import Table

    table = Table()
    table.add_column("result")
    table.add_column("reason")
    table.add_column("files", justify="right")
    verb = "would move to" if summary.dry_run else "moved to"
    for folder in ("cats", "dogs"):
        table.add_row(f"{verb} {folder}/", "", str(summary.moved_to.get(folder, 0)))
        for named in sorted(f for f in summary.moved_to if f.startswith(folder + "/")):
            table.add_row(f"{verb} {escape(named)}/", "named pet", str(summary.moved_to[named]))
    if summary.companions:
        moved = "would move with their photos" if summary.dry_run else "moved with their photos"
        table.add_row(moved, "companions", str(summary.companions))
    for status, reason, files in _reason_rows(summary.reasons):
        table.add_row(f"left in place: {status}" if status else "left in place", escape(reason), str(files),
                      style=STATUS_STYLE.get(status, ""))
    return table


@app.command("sort")
def sort_command(
    directory: Annotated[Path, typer.Argument(help="The folder to sort.", show_default=False)],
    model: ModelOption = None,
    recursive: Annotated[bool, typer.Option("--recursive", "-r", help="Also sort images in subfolders.")] = False,
    dry_run: Annotated[bool, typer.Option("--dry-run", "-n", help="Show the plan; change nothing.")] = False,
    min_confidence: Annotated[
        float, typer.Option(min=0.0, max=1.0, help="Leave images the model is less sure about (0.5-1) in place.")
    ] = 0.0,
    verbose: Annotated[
        bool, typer.Option("--verbose", "-v", help="Print a line for every file (on stderr), not just the summary.")
    ] = False,
    log_file: LogFileOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object on stdout and nothing else.")] = False,
    as_jsonl: Annotated[
        bool,
        typer.Option("--jsonl", help="Print one JSON object per file as it is done, then a summary line (any folder size)."),
    ] = False,
    no_personal: NoPersonalOption = False,
) -> None:
    """Move every cat photo in DIRECTORY into DIRECTORY/cats/ and every dog photo into
    DIRECTORY/dogs/; photos of neither (with a three-class model) stay where they are.
    Nothing is ever overwritten; `sorter undo` reverses a run.

    Prints a progress bar and a summary, with the files left in place counted by reason;
    DIRECTORY/.sorter/review.html shows every group as thumbnails, least confident first.

    Examples:

      sorter sort ~/Pictures/pets

      sorter sort ~/Pictures/pets --dry-run --verbose --min-confidence 0.9

      sorter sort ~/Pictures/pets --recursive --json > report.json

      sorter sort /mnt/archive --recursive --jsonl > report.jsonl
    """
    from sorter import service

    if as_json and as_jsonl:
        raise fail(UsageError("--json and --jsonl: choose one"))
    results = []
    with _FileLog(directory.absolute(), log_file, echo=verbose, clock=False) as log:
        try:
            with _progress(not (as_json or as_jsonl)) as (progress, task):

                def on_start(total: int) -> None:
                    progress.update(task, total=total)

                def on_result(result) -> None:
                    progress.advance(task)
                    if as_jsonl:
                        print(json.dumps(result.to_json()), flush=True)
                    elif as_json:
                        results.append(result.to_json())
                    log.result(result)

                summary = service.sort_folder(
                    directory, model=model, recursive=recursive, dry_run=dry_run,
                    min_confidence=min_confidence, on_start=on_start, on_result=on_result, personal=not no_personal,
                )
        except (SorterError, OSError) as exc:
            raise log.fail(exc, directory) from None
        left = sum(summary.reasons.values())
        verb = "would move" if dry_run else "moved"
        log.to_file(f"{'planned' if dry_run else 'sorted'} {summary.folder}: {_moved(summary.moved_to, verb)}"
                    + (f"; left {left} in place" if left else "")
                    + (f"; review: {summary.review_page}" if summary.review_page else ""))
    if summary.review_error:
        err.print(f"[yellow]{escape(summary.review_error)}[/]", soft_wrap=True)
    totals = {
        "folder": str(summary.folder), "dry_run": dry_run, "counts": summary.counts,
        "moved_to": summary.moved_to, "companions": summary.companions, "videos": summary.videos,
        "review_page": None if summary.review_page is None else str(summary.review_page), "model": summary.model,
    }
    if as_jsonl:
        print(json.dumps({"summary": totals}))
        return
    if as_json:
        print(json.dumps({**totals, "files": results}))
        return
    # The folder on its own line: as a table title, rich would wrap a long path to the table's width.
    out.print(f"{'Plan for' if dry_run else 'Sorted'} {summary.folder}", markup=False, soft_wrap=True)
    if " + " in summary.model:  # a personal model: say so (the bundled model alone goes without saying)
        out.print(f"With {summary.model}", markup=False, soft_wrap=True)
    out.print(_summary_table(summary))
    if summary.videos:
        out.print(_videos_line(summary.videos, dry_run))
    if summary.recovered:
        out.print(f"Finished {summary.recovered} move(s) interrupted by an earlier crash.")
    if dry_run:
        out.print("Dry run: nothing was changed." + ("" if verbose else " Every file's plan: --verbose."))
    if summary.review_page is not None:
        out.print(f"Review: {summary.review_page}", markup=False, soft_wrap=True)
    if summary.moved_to and not dry_run:
        out.print(f"Undo with: sorter undo {summary.folder}", markup=False, soft_wrap=True)


# --------------------------------------------------------------------------- undo


@app.command()
def undo(
    directory: Annotated[Path, typer.Argument(help="A folder sorted by `sorter sort` or `sorter watch`.")],
    all_runs: Annotated[bool, typer.Option("--all", help="Undo every run in the journal, not just the latest.")] = False,
) -> None:
    """Put files back where they were before the latest run (or every run, with --all).
    Never overwrites: a file that now occupies an old path is reported and kept.

    Examples:

      sorter undo ~/Pictures/pets

      sorter undo ~/Pictures/pets --all
    """
    from sorter import restore

    try:
        result = restore.undo(directory, all_runs=all_runs)
    except (SorterError, OSError) as exc:
        raise fail(as_error(exc, directory)) from None
    # File names are escaped: "[b].jpg" is a fine photo name and not rich markup.
    for line in result.conflicts:
        err.print(f"[yellow]kept[/]: {escape(line)}", soft_wrap=True)
    for line in result.missing:
        err.print(f"[yellow]missing[/]: {escape(line)}", soft_wrap=True)
    for more, what in ((result.more_conflicts, "kept"), (result.more_missing, "missing")):
        if more:
            err.print(f"[yellow]{what}[/]: {more} more file(s)", soft_wrap=True)
    runs = "run" if result.runs == 1 else "runs"
    out.print(
        f"Restored {result.restored} file(s) from {result.runs} {runs} in {result.folder}.",
        soft_wrap=True, markup=False,
    )


# --------------------------------------------------------------------------- watch


@app.command("watch")
def watch_command(
    directory: Annotated[Path, typer.Argument(help="The folder to watch.", show_default=False)],
    model: ModelOption = None,
    recursive: Annotated[
        bool, typer.Option("--recursive", "-r", help="Also sort images in (and arriving in) subfolders.")
    ] = False,
    min_confidence: Annotated[
        float, typer.Option(min=0.0, max=1.0, help="Leave images the model is less sure about (0.5-1) in place.")
    ] = 0.0,
    log_file: Annotated[
        Optional[Path], typer.Option("--log-file", help="Also append each decision, timestamped, to this file.")
    ] = None,
    polling: Annotated[
        bool,
        typer.Option("--polling", help="List the folder every second instead of using file events (network shares)."),
    ] = False,
    print_unit: Annotated[
        bool, typer.Option("--print-systemd-unit", help="Print a systemd user unit running this command, and exit.")
    ] = False,
    no_personal: NoPersonalOption = False,
) -> None:
    """Sort the photos already in DIRECTORY, then every photo that arrives, until stopped
    with Ctrl-C or SIGTERM. A file is moved only once it is complete: closed by its writer
    or unchanged for a moment; downloads (.part, .crdownload) wait for their final name.
    Photos of neither (with a three-class model) stay where they are.

    Examples:

      sorter watch ~/Pictures/inbox

      sorter watch /mnt/camera-share --polling --log-file ~/sorter-watch.log

      sorter watch ~/Pictures/inbox --print-systemd-unit > ~/.config/systemd/user/sorter-watch.service
    """
    from sorter import service
    from sorter.planning import NEITHER_REASON

    if print_unit:
        try:
            folder = service.check_folder(directory)
            from sorter.lite import resolve_model_path

            args = ["--model", str(resolve_model_path(model).absolute())] if model is not None else []
        except SorterError as exc:
            raise fail(exc) from None
        args += ["--recursive"] * recursive + ["--polling"] * polling + ["--no-personal"] * no_personal
        if min_confidence:
            args += ["--min-confidence", f"{min_confidence:g}"]
        if log_file is not None:
            args += ["--log-file", str(log_file.absolute())]
        from sorter.systemd import systemd_unit

        print(systemd_unit(folder, args), end="")  # not rich: no markup, emoji codes or wrapping
        return

    with _FileLog(directory.absolute(), log_file) as log:
        try:
            summary = service.watch_folder(
                directory, model=model, recursive=recursive, min_confidence=min_confidence, polling=polling,
                on_result=log.result, on_notice=log.notice, personal=not no_personal,
            )
        except (SorterError, OSError) as exc:
            raise log.fail(exc, directory) from None
        neither, joined = summary.counts.get("neither", 0), summary.counts.get("joined", 0)
        log.line(f"stopped watching {summary.folder}: {_moved(summary.moved_to)}"
                 + (f"; left {neither} in place: {NEITHER_REASON}" if neither else "")
                 + (f"; {joined} companion(s) joined their photo" if joined else "")
                 + (f"; {_videos_line(summary.videos, False).lower()}" if summary.videos else "")
                 + (f"; undo with: sorter undo {summary.folder}" if summary.moved_to else ""))



# --------------------------------------------------------------------------- review


@app.command("review")
def review_command(
    directory: Annotated[Path, typer.Argument(help="A folder sorted by `sorter sort` or `sorter watch`.")],
    port: Annotated[int, typer.Option(min=0, max=65535, help="Port on 127.0.0.1 and ::1 (0: any free one).")] = 0,
    no_browser: Annotated[bool, typer.Option("--no-browser", help="Print the URL; do not open a browser.")] = False,
    model: ModelOption = None,
) -> None:
    """Look through a sort in the browser and put it right: a local page with the folder's
    photos grouped as the review page groups them, least confident first, each with Cat, Dog
    and Neither buttons (keys c, d, n; u takes back the last). A click moves the photo, with
    its companions, at once: journaled, and undone by `sorter undo` like any move. "Learn from
    my corrections" runs `sorter learn` on the folder (with --model) and shows its report.

    Prints the page's URL (with its secret token) as the first line, opens it, and serves
    until Ctrl-C. Only this machine can reach it (127.0.0.1 and ::1).

    Examples:

      sorter review ~/Pictures/pets

      sorter review ~/Pictures/pets --port 8765 --no-browser
    """
    from sorter.reviewer.server import serve

    def ready(started) -> None:
        print(started.url, flush=True)
        err.print(f"Reviewing {escape(str(started.folder))}: {started.photos:,} photo(s). Stop with Ctrl-C.",
                  soft_wrap=True)

    try:
        serve(directory, port=port, open_browser=not no_browser, model=model, on_ready=ready)
    except (SorterError, OSError) as exc:
        raise fail(as_error(exc, directory)) from None


# --------------------------------------------------------------------------- learn


@app.command()
def learn(
    directory: Annotated[
        Optional[Path], typer.Argument(help="A sorted folder whose mistakes you put right.", show_default=False)
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

    Prints the corrections by kind, how many of them the personal model places right when each
    is held out of the fit, and how its decisions on the model's reference pets move; a model
    that would put more than 0.5% of them in the wrong place is refused (exit 1).

    Examples:

      sorter learn ~/Pictures/roll

      sorter learn --forget
    """
    from sorter import learning

    if forget:
        removed = learning.forget()
        out.print(f"Forgot the personal model ({', '.join(str(p) for p in removed)})" if removed
                  else "There was no personal model to forget.", markup=False, soft_wrap=True)
        return
    if directory is None:
        raise fail(UsageError("give the folder to learn from (or --forget)"))
    try:
        with _progress(True) as (progress, task):
            result = learning.learn(
                directory, model=model,
                progress=lambda what, done, total: progress.update(task, description=what, completed=done, total=total),
            )
    except (SorterError, OSError) as exc:
        raise fail(as_error(exc, directory)) from None
    for line in result.unreadable:
        err.print(f"unreadable: {escape(line)}", soft_wrap=True)
    for line in learning.report_lines(result):
        out.print(line, markup=False, soft_wrap=True)
    if result.refused:
        raise fail(SorterError(f"refused: {result.refused}"))


def main() -> None:
    import os

    code: int | str | None = 0
    try:
        app()
    except SystemExit as exc:
        code = exc.code
    except KeyboardInterrupt:
        err.print("Interrupted.")
        code = 130
    if isinstance(code, str):  # a message passed to sys.exit
        err.print(code, markup=False)
        code = 1
    sys.stdout.flush()
    sys.stderr.flush()
    # Everything the run wrote is closed and fsync'd by now; skipping interpreter teardown
    # saves about a second of TensorFlow shutting down its thread pools.
    os._exit(code or 0)
