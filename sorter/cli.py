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
from sorter.errors import SorterError

app = typer.Typer(
    help="Sort a folder of photos into cats/ and dogs/ with a small neural network.",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode="rich",
    context_settings={"help_option_names": ["-h", "--help"]},
)
out = Console(highlight=False)
err = Console(stderr=True, highlight=False)


def fail(exc: SorterError) -> typer.Exit:
    err.print(f"[red]Error:[/red] {exc}", soft_wrap=True)
    return typer.Exit(exc.exit_code)


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
    typer.Option("--model", "-m", help="A .keras model trained by `sorter train` (default: the bundled model)."),
]


# --------------------------------------------------------------------------- train


@app.command()
def train(
    data_dir: Annotated[Path, typer.Argument(help="Folder with Cat/ and Dog/ (or cats/, dogs/) subfolders.")],
    out_path: Annotated[Path, typer.Option("--out", "-o", help="Where to save the .keras model.")] = Path("model.keras"),
    epochs: Annotated[int, typer.Option(min=1, help="Maximum epochs (early stopping may end sooner).")] = 40,
    image_size: Annotated[int, typer.Option(min=32, max=512, help="Input size in pixels (square).")] = 128,
    validation_split: Annotated[float, typer.Option(min=0.0, max=0.9, help="Fraction held out for validation.")] = 0.2,
    seed: Annotated[int, typer.Option(help="Seed for the split, shuffling and initial weights.")] = 1337,
    batch_size: Annotated[int, typer.Option(min=1, help="Images per training step.")] = 64,
    patience: Annotated[int, typer.Option(min=1, help="Stop after this many epochs without a better validation loss.")] = 8,
    limit: Annotated[Optional[int], typer.Option(min=1, help="Use at most this many images per class.")] = None,
    resume: Annotated[bool, typer.Option("--resume", help="Continue an interrupted run from its last checkpoint.")] = False,
) -> None:
    """Train a cats-vs-dogs model on a labelled folder.

    Saves MODEL.keras, MODEL.json (metadata) and MODEL-curves.png; checkpoints go to
    MODEL.checkpoints/ after every epoch, so an interrupted run continues with --resume.

    Example:

      sorter train ../shared/datasets/dogs-vs-cats-200 --out model.keras --epochs 30
    """
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    from sorter import service
    from sorter.training import BatchDone, EpochDone, TrainConfig

    config = TrainConfig(
        data_dir=data_dir, out=out_path, epochs=epochs, image_size=image_size,
        validation_split=validation_split, seed=seed, batch_size=batch_size,
        patience=patience, limit=limit,
    )
    with Progress(
        TextColumn("epoch {task.fields[epoch]}/{task.fields[epochs]}"), BarColumn(),
        MofNCompleteColumn(), TimeRemainingColumn(), console=err, transient=True,
    ) as progress:
        task = progress.add_task("train", total=None, epoch=1, epochs=epochs)

        def on_event(event) -> None:
            if isinstance(event, BatchDone):
                progress.update(task, completed=event.batch, total=event.batches, epoch=event.epoch)
            elif isinstance(event, EpochDone):
                m = event.metrics
                star = " *" if event.best else ""
                progress.console.print(
                    f"epoch {event.epoch:>3}/{event.epochs}  loss {m.get('loss', 0):.4f}  "
                    f"acc {m.get('accuracy', 0):.4f}  val_loss {m.get('val_loss', float('nan')):.4f}  "
                    f"val_acc {m.get('val_accuracy', float('nan')):.4f}  {event.seconds:.0f}s{star}"
                )
                progress.reset(task, total=None, epoch=event.epoch + 1, epochs=event.epochs)

        try:
            result = service.train(config, resume=resume, on_event=on_event)
        except SorterError as exc:
            raise fail(exc) from None
    if result.broken:
        err.print(f"skipped {len(result.broken)} unreadable file(s):")
        for line in result.broken[:20]:
            err.print(f"  {line}", soft_wrap=True)
    accuracy = f"{result.validation.accuracy:.2%} on {result.validation.n}" if result.validation else "n/a"
    out.print(f"Saved {result.model_path} ({result.epochs_run} epochs, best {result.best_epoch}, "
              f"{result.seconds / 60:.1f} min); validation accuracy {accuracy}")
    out.print(f"Metadata {result.metadata_path}; curves {result.curves_path}")


# --------------------------------------------------------------------------- evaluate


@app.command()
def evaluate(
    data_dir: Annotated[Path, typer.Argument(help="Labelled folder with Cat/ and Dog/ subfolders.")],
    model: ModelOption = None,
    split: Annotated[
        str,
        typer.Option(help="all: every image; validation/training: the split recorded in the model's metadata."),
    ] = "all",
    report: Annotated[
        Optional[Path], typer.Option(help="Write confusion.png and mistakes.png (contact sheet) here.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object on stdout.")] = False,
) -> None:
    """Measure a model on a labelled folder: accuracy, precision/recall, confusion matrix.

    Examples:

      sorter evaluate ../shared/datasets/dogs-vs-cats-200 --split validation

      sorter evaluate photos/ --json --report report/
    """
    from rich.table import Table

    from sorter import service

    if split not in ("all", "validation", "training"):
        raise typer.BadParameter("must be one of: all, validation, training", param_hint="--split")
    try:
        with _progress(not as_json) as (progress, task):
            result = service.evaluate(
                data_dir, model, split=split, report_dir=report,
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
    table = Table("true \\ predicted", "cat", "dog", "precision", "recall")
    for label in ("cat", "dog"):
        row = result.confusion[label]
        table.add_row(label, str(row["cat"]), str(row["dog"]),
                      f"{result.precision[label]:.2%}", f"{result.recall[label]:.2%}")
    out.print(table)
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
    "moved": "green", "planned": "cyan", "unsure": "yellow", "unreadable": "red",
    "skipped": "dim", "vanished": "yellow", "failed": "red",
}


@app.command("sort")
def sort_command(
    directory: Annotated[Path, typer.Argument(help="The folder to sort.", show_default=False)],
    model: ModelOption = None,
    recursive: Annotated[bool, typer.Option("--recursive", "-r", help="Also sort images in subfolders.")] = False,
    dry_run: Annotated[bool, typer.Option("--dry-run", "-n", help="Print the plan; change nothing.")] = False,
    min_confidence: Annotated[
        float, typer.Option(min=0.0, max=1.0, help="Leave images the model is less sure about (0.5-1) in place.")
    ] = 0.0,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object on stdout and nothing else.")] = False,
) -> None:
    """Move every cat photo in DIRECTORY into DIRECTORY/cats/ and every dog photo into
    DIRECTORY/dogs/. Nothing is ever overwritten; `sorter undo` reverses a run.

    Examples:

      sorter sort ~/Pictures/pets

      sorter sort ~/Pictures/pets --dry-run --min-confidence 0.9

      sorter sort ~/Pictures/pets --recursive --json > report.json
    """
    from rich.table import Table

    from sorter import service

    results = []
    try:
        with _progress(not as_json) as (progress, task):

            def on_start(total: int) -> None:
                progress.update(task, total=total)

            def on_result(result) -> None:
                progress.advance(task)
                if as_json:
                    results.append(result.to_json())
                elif dry_run and result.status == "planned":
                    progress.console.print(
                        f"would move {result.path.name} -> {result.destination.parent.name}/"
                        f"{result.destination.name} ({result.label}, {result.confidence:.0%})",
                        soft_wrap=True, markup=False,
                    )
                elif result.status not in ("moved", "planned"):
                    detail = f" ({result.label}, {result.confidence:.0%})" if result.status == "unsure" else ""
                    progress.console.print(
                        f"[{STATUS_STYLE.get(result.status, '')}]{result.status}[/]: "
                        f"{result.path}{detail}: {result.reason}",
                        soft_wrap=True,
                    )

            summary = service.sort_folder(
                directory, model=model, recursive=recursive, dry_run=dry_run,
                min_confidence=min_confidence, on_start=on_start, on_result=on_result,
            )
    except SorterError as exc:
        raise fail(exc) from None
    except OSError as exc:
        raise fail(SorterError(f"{exc.filename or directory}: {exc.strerror or exc}")) from None
    if as_json:
        print(json.dumps({
            "folder": str(summary.folder), "dry_run": dry_run, "counts": summary.counts,
            "moved_to": summary.moved_to, "files": results,
        }))
        return
    table = Table(title=f"{'Plan for' if dry_run else 'Sorted'} {summary.folder}", title_justify="left")
    table.add_column("result")
    table.add_column("files", justify="right")
    for folder in ("cats", "dogs"):
        verb = "would move to" if dry_run else "moved to"
        table.add_row(f"{verb} {folder}/", str(summary.moved_to.get(folder, 0)))
    for status in ("unsure", "unreadable", "skipped", "vanished", "failed"):
        if summary.counts.get(status):
            table.add_row(f"left in place: {status}", str(summary.counts[status]), style=STATUS_STYLE[status])
    out.print(table)
    if summary.recovered:
        out.print(f"Finished {summary.recovered} move(s) interrupted by an earlier crash.")
    if dry_run:
        out.print("Dry run: nothing was changed.")
    elif summary.moved_to:
        out.print(f"Undo with: sorter undo {summary.folder}", markup=False)


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
    from sorter import service

    try:
        result = service.undo(directory, all_runs=all_runs)
    except SorterError as exc:
        raise fail(exc) from None
    except OSError as exc:
        raise fail(SorterError(f"{exc.filename or directory}: {exc.strerror or exc}")) from None
    for line in result.conflicts:
        err.print(f"[yellow]kept[/]: {line}", soft_wrap=True)
    for line in result.missing:
        err.print(f"[yellow]missing[/]: {line}", soft_wrap=True)
    runs = "run" if result.runs == 1 else "runs"
    out.print(f"Restored {len(result.restored)} file(s) from {result.runs} {runs} in {result.folder}.")


def main() -> None:
    try:
        app()
    except KeyboardInterrupt:
        err.print("Interrupted.")
        sys.exit(130)
