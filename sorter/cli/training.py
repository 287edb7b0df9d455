"""`sorter train` and `sorter evaluate`."""

from __future__ import annotations

import json
import signal
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Optional

import typer

from sorter.cli.console import err, fail, out, printable, progress_bar, show_table, shown
from sorter.cli.options import (
    ModelOption,
    NoPersonalOption,
    folder_argument,
    number_from,
    path_option,
    whole_number,
)
from sorter.errors import SorterError
from sorter.training.limits import (
    LARGEST_BATCH,
    LARGEST_DISTILL,
    LARGEST_IMAGE,
    LARGEST_LEARNING_RATE,
    LARGEST_SEED,
    LEAST_LEARNING_RATE,
    MOST_EPOCHS,
    MOST_PER_CLASS,
    SMALLEST_IMAGE,
)
from sorter.wording import counted

if TYPE_CHECKING:
    from sorter.training.train import TrainResult, WorkerDone



def train(
    data_dir: Annotated[
        Path, folder_argument("Folder with Cat/ and Dog/ (or cats/, dogs/) subfolders, and optionally Other/.")
    ],
    out_path: Annotated[Path, path_option("--out", "-o", help="Where to save the .keras model.")] = Path("model.keras"),
    other: Annotated[
        Optional[list[Path]],
        path_option(help="Photos that are neither cats nor dogs (sub-folders per kind), for a third outcome; "
                    "repeat it for several folders. Default: DATA_DIR/Other/ when there is one."),
    ] = None,
    holdout: Annotated[
        Optional[Path],
        path_option(help="Non-pets from sources the training photos do not share (sub-folders per kind), scored "
                    "after training and recorded: validation only, never trained on."),
    ] = None,
    backbone: Annotated[
        str,
        typer.Option(metavar="NAME",  # the two names, each said in the help: a metavar of both wrapped as "no ne"
                     help="efficientnet-lite0: start from ImageNet weights (needs sorter\\[train]); "
                     "none: the small network, from random weights (cats and dogs only)."),
    ] = "efficientnet-lite0",
    epochs: Annotated[
        Optional[int], typer.Option(parser=whole_number(1, MOST_EPOCHS), metavar="INTEGER",
                                    help=f"Epochs, from 1 to {MOST_EPOCHS} (the small network may stop sooner). "
                                    "(default: 2 / 40)")
    ] = None,
    image_size: Annotated[
        Optional[int], typer.Option(parser=whole_number(SMALLEST_IMAGE, LARGEST_IMAGE), metavar="INTEGER",
                                    help=f"Input size in pixels (square), from {SMALLEST_IMAGE} to {LARGEST_IMAGE}. "
                                    "(default: 224 / 144)")
    ] = None,
    validation_split: Annotated[
        float, typer.Option(parser=number_from(0.0, 0.9), metavar="FLOAT",
                            help="Fraction held out for validation, from 0 to 0.9.")
    ] = 0.2,
    seed: Annotated[int, typer.Option(parser=whole_number(0, LARGEST_SEED), metavar="INTEGER",
                                      help="Seed for the split, shuffling and initial weights, from 0 to "
                                      f"{LARGEST_SEED}.")] = 1337,
    batch_size: Annotated[Optional[int], typer.Option(parser=whole_number(1, LARGEST_BATCH), metavar="INTEGER",
                                                      help=f"Images per training step, from 1 to {LARGEST_BATCH}. "
                                                      "(default: 128 / 64)")] = None,
    patience: Annotated[int, typer.Option(parser=whole_number(1, MOST_EPOCHS), metavar="INTEGER", help=(
        f"Stop after this many epochs without a better validation loss, from 1 to {MOST_EPOCHS} (the small "
        "network; a fine-tune runs every epoch and keeps the last)."))] = 8,
    limit: Annotated[Optional[int], typer.Option(
        parser=whole_number(1, MOST_PER_CLASS), metavar="INTEGER",
        help=f"Use at most this many images per class, from 1 to {MOST_PER_CLASS}.")] = None,
    resume: Annotated[bool, typer.Option("--resume", help="Continue an interrupted run from its last checkpoint.")] = False,
    learning_rate: Annotated[
        Optional[float],
        typer.Option(parser=number_from(LEAST_LEARNING_RATE, LARGEST_LEARNING_RATE), metavar="FLOAT",
                     help=f"Peak learning rate (warm-up, then cosine decay), from {LEAST_LEARNING_RATE:g} to "
                     f"{LARGEST_LEARNING_RATE:g}. (default: 2e-4 / 3e-3)"),
    ] = None,
    distill: Annotated[
        Optional[float],
        typer.Option(parser=number_from(0.0, LARGEST_DISTILL), metavar="FLOAT",
                     help="How much keeping the pretrained network's ImageNet answers weighs "
                     "beside the classes while fine-tuning (learning without forgetting), from 0 (not at all) to "
                     f"{LARGEST_DISTILL:g}. (default: 0)"),
    ] = None,
    init_from: Annotated[
        Optional[Path],
        path_option(help="With --backbone none: fine-tune MODEL.keras (trained on the same split) instead of "
                    "starting from random weights."),
    ] = None,
    distribute: Annotated[
        str,
        typer.Option(metavar="<none|mirrored|multi-worker>",
                     help="tf.distribute. none: one device. mirrored: every GPU of this machine. multi-worker: "
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

    Saves MODEL.keras, MODEL.tflite (the int8 model that sort runs), MODEL.head.npz (its
    softmax), MODEL.evidence.npz (with non-pets), MODEL.reference.npz (validation photos'
    features, which sorter learn needs for named pets), MODEL.json (metadata) and
    MODEL-curves.png, all at once when the model is whole: the model saved before stays until then. The cache
    and a checkpoint after every epoch go to MODEL.checkpoints/, so an interrupted run
    continues with --resume (on several machines: every worker again with --resume, and they
    continue from the chief's checkpoint).

    Example:

      sorter train PetImages/ --out model.keras --other not-pets/
    """
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    from sorter.model.network import metadata_path
    from sorter.signals import interrupt_lost, sigterm_interrupts
    from sorter.training import train as trainer
    from sorter.training.distribute import Joining
    from sorter.training.loop import BatchDone, EpochDone, TrainConfig
    from sorter.training.resuming import resume_hint
    from sorter.training.train import Referencing, Saved
    from sorter.training.transfer import Recached

    if out_path.suffix.lower() != ".keras":  # an option error, said before anything loads
        raise typer.BadParameter(f"must end in .keras (got {out_path})", param_hint="'--out'")
    config = TrainConfig(
        data_dir=data_dir, out=out_path, epochs=epochs, image_size=image_size,
        validation_split=validation_split, seed=seed, batch_size=batch_size,
        patience=patience, limit=limit, learning_rate=learning_rate, init_from=init_from,
        backbone=backbone, other=tuple(other or ()), distribute=distribute, holdout=holdout,
        distill=distill,
    )
    saved: list[Path] = []  # the model, once it is in place whole (`Saved`)
    finished: list[int] = []  # this run's epochs checkpointed (`EpochDone`): before one, the checkpoint is another run's
    with sigterm_interrupts() as terminated:
        try:
            with Progress(
                TextColumn("{task.fields[what]}"), BarColumn(),
                MofNCompleteColumn(), TimeRemainingColumn(), console=err, transient=True,
                disable=not err.is_terminal,  # a log or a pipe gets the epoch lines, not a bar's last frame (a blank line)
            ) as progress:
                task = progress.add_task("train", total=None, what="starting")

                def bar() -> Progress:
                    """The bar, drawn again after the wait to join a cluster (`Joining`) stopped it."""
                    if not progress.live.is_started:
                        progress.start()
                    return progress

                def on_cache(name: str, done: int, total: int) -> None:
                    bar().update(task, completed=done, total=total, what=f"caching features of {name} (chunks)")

                def on_event(event) -> None:
                    if isinstance(event, BatchDone):
                        interrupt_lost(terminated)
                        bar().update(task, completed=event.batch, total=event.batches,
                                     what=f"epoch {event.epoch}/{config.epochs or '?'}")
                    elif isinstance(event, (Joining, Recached)):
                        progress.console.print(shown(event.line()), soft_wrap=True)
                        if isinstance(event, Joining):  # Ctrl-C may end the wait at once: the bar gone, the cursor shown
                            progress.stop()
                    elif isinstance(event, EpochDone):
                        finished.append(event.epoch)
                        m = event.metrics
                        star = " *" if event.best else ""
                        # `--validation-split 0`: no validation photos, no val_loss to print (it read "nan").
                        validation = (f"val_loss {m['val_loss']:.4f}  val_acc {m.get('val_accuracy', 0):.4f}"
                                      if "val_loss" in m else "no validation photos")
                        progress.console.print(
                            f"epoch {event.epoch:>3}/{event.epochs}  loss {m.get('loss', 0):.4f}  "
                            f"acc {m.get('accuracy', 0):.4f}  {validation}  {event.seconds:.0f}s{star}"
                        )
                        bar().reset(task, total=None, what=f"epoch {event.epoch + 1}/{event.epochs}"
                                    if event.epoch < event.epochs
                                    else "saving the model, exporting it to int8 and measuring it")
                    elif isinstance(event, Referencing):
                        bar().update(task, completed=event.done, total=event.total,
                                     what="making the reference set for sorter learn")
                    elif isinstance(event, Saved):
                        saved.append(event.model)

                try:
                    result = trainer.train(config, resume=resume, on_event=on_event, on_cache=on_cache)
                except SorterError as exc:
                    raise fail(exc) from None
            _report(result)
        except KeyboardInterrupt:  # Ctrl-C, or SIGTERM (`kill`): what was kept, and what goes on from it
            if saved:  # only the report was cut short: the exit status still says the run was stopped
                said = (f"Interrupted after the model was saved: {saved[0]} is whole (its validation numbers "
                        f"are in {metadata_path(saved[0])}).")
            else:
                said = f"Interrupted. {resume_hint(out_path, ours=resume or bool(finished))}"
            err.print(shown(said), soft_wrap=True)
            raise typer.Exit(143 if signal.SIGTERM in terminated else 130) from None


def _report(result: TrainResult | WorkerDone) -> None:
    """What a run that ended says: the model saved, its validation numbers and files."""
    from sorter.training.train import WorkerDone

    if isinstance(result, WorkerDone):
        out.print(f"Worker {result.index} of {result.workers} done ({counted(result.epochs_run, 'epoch')}, "
                  f"{result.seconds / 60:.1f} min); the chief saves the model")
        return
    if result.not_read:
        from sorter.training.not_read import not_read_line

        err.print(f"note: {shown(not_read_line(result.not_read))}", soft_wrap=True)
    if result.broken:
        err.print(f"skipped {counted(len(result.broken), 'unreadable file')}:")
        for line in result.broken[:20]:
            err.print(f"  {shown(line)}", soft_wrap=True)
    n = result.validation.n if result.validation else 0
    accuracy = f"{result.validation.accuracy:.2%} on {counted(n, 'photo')}" if result.validation else "n/a"
    took = f"{result.seconds:.0f} s" if result.seconds < 90 else f"{result.seconds / 60:.1f} min"
    out.print(f"Saved {shown(str(result.model_path))} ({counted(result.epochs_run, 'epoch')}, "
              f"kept epoch {result.kept_epoch}, {took}); validation accuracy {accuracy}", soft_wrap=True)
    if result.validation is None:
        err.print("warning: no photo was held out for validation (too few photos, or --validation-split 0): "
                  "nothing says how well this model does", soft_wrap=True)
    if not result.three_way:
        err.print("note: trained without non-pets (--other): this model files every photo as a cat or a dog, "
                  "never leaving one in place", soft_wrap=True)
    if result.validation is not None:
        for line in result.validation.rate_lines() + result.validation.calibration_lines():
            out.print(f"  {line}")
        if result.validation.holdout:
            out.print(f"  held-out sources ({shown(result.validation.holdout_dir or '')}):", soft_wrap=True)
            for line in result.validation.holdout_lines():
                out.print(f"    {printable(line)}", markup=False, soft_wrap=True)
            for line in result.validation.threshold_lines():
                out.print(f"  {line}", markup=False)
    out.print(f"Int8 model for sorting {shown(str(result.runtime_path))}; metadata {shown(str(result.metadata_path))}; "
              f"curves {shown(str(result.curves_path))}", soft_wrap=True)
    if result.reference is not None:
        photos = ", ".join(counted(n, "non-pet" if name == "other" else name) for name, n in result.reference.items())
        out.print(f"Reference set for sorter learn {shown(str(result.reference_path))} "
                  f"({photos} of the validation photos)", soft_wrap=True)
    elif result.pooled:
        err.print("note: no reference set made (no validation photos): sorter learn cannot learn named pets with "
                  "this model, nor check corrections against reference pets", soft_wrap=True)


def evaluate(
    data_dir: Annotated[
        Path, folder_argument("Labelled folder with Cat/ and Dog/ subfolders, and optionally Other/ (non-pets).")
    ],
    model: ModelOption = None,
    split: Annotated[
        str,
        typer.Option(metavar="<all|validation|training>",
                     help="all: every image; validation/training: the split recorded in the model's metadata."),
    ] = "all",
    report: Annotated[
        Optional[Path], path_option(help="Write confusion.png and mistakes.png (contact sheet) here.")
    ] = None,
    other: Annotated[
        Optional[list[Path]],
        path_option(help="Non-pet photos to include instead of DATA_DIR/Other/, repeatable (with --split: "
                    "default, the folders the model trained with)."),
    ] = None,
    holdout: Annotated[
        Optional[Path],
        path_option(help="Non-pets from other sources (sub-folders per kind), scored by kind: how the model does "
                    "on photos like none it trained on. With --split validation: default, the folder the model's "
                    "metadata records."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object on stdout.")] = False,
    no_personal: NoPersonalOption = False,
) -> None:
    """Measure a model on a labelled folder: accuracy, precision/recall, confusion matrix.
    With an Other/ folder (photos that are neither, in subfolders if you like): the 3x3
    matrix, pet accuracy, non-pets left out and pets lost to neither. `--split validation`
    draws the model's own validation split again, which needs every folder it trained with
    (for the bundled model, the two folders README's training command makes first with
    benchmarks/make_text_graphics.py and benchmarks/make_photo_screens.py).

    Examples:

      sorter evaluate photos/ --json --report report/

      sorter evaluate PetImages/ --other not-pets/

      sorter evaluate PetImages/ --split validation
    """
    from rich.table import Table

    from sorter.training import evaluate as evaluation

    if split not in ("all", "validation", "training"):
        raise typer.BadParameter(f"must be one of: all, validation, training (got {split})", param_hint="'--split'")
    try:
        with progress_bar(not as_json) as (progress, task):
            result = evaluation.evaluate(
                data_dir, model, split=split, report_dir=report, other=tuple(other or ()), personal=not no_personal,
                holdout=holdout,
                progress=lambda done, total: progress.update(task, completed=done, total=total),
            )
    except SorterError as exc:
        raise fail(exc) from None
    for line in result.unreadable:
        err.print(f"unreadable: {shown(line)}", soft_wrap=True)
    if result.not_read:
        from sorter.training.not_read import not_read_line

        err.print(f"note: {shown(not_read_line(result.not_read))}", soft_wrap=True)
    if as_json:
        from sorter.model.lite import resolve_model_path

        print(json.dumps({"model": str(resolve_model_path(model)), **result.to_json()}))
        return
    if " + " in result.judged_by:  # a personal model: say so, as sort does
        out.print(f"With {result.judged_by}", markup=False, soft_wrap=True)
    out.print(f"[bold]{result.accuracy:.2%}[/bold] accuracy on {counted(result.n, 'image')} (split: {split})")
    columns = list(next(iter(result.confusion.values())))
    table = Table("true \\ predicted", *columns, "precision", "recall")
    for label, row in result.confusion.items():
        table.add_row(label, *(str(row[c]) for c in columns),
                      f"{result.precision[label]:.2%}", f"{result.recall[label]:.2%}")
    show_table(out, table)
    for line in result.rate_lines() + result.calibration_lines():
        out.print(line, markup=False)
    if result.by_kind:
        kinds = Table("kind", "belongs", "photos", "where it belongs", title="by kind")
        where = {"cat": "cats/", "dog": "dogs/", "other": "left in place"}
        for kind in result.by_kind:
            kinds.add_row(shown(kind.kind), where[kind.expected], str(kind.n), f"{kind.rate:.1%}")
        show_table(out, kinds)
    if result.holdout:
        held = Table("kind", "photos", "left in place", "into dogs/", "into cats/",
                     title=f"held-out sources: {shown(result.holdout_dir or '')}")
        for k in result.holdout:
            held.add_row(shown(k.kind), str(k.n), f"{k.rate:.1%}", str(k.to_dogs), str(k.to_cats))
        show_table(out, held)
        for line in result.threshold_lines():
            out.print(line, markup=False)
    if report is not None:
        out.print(f"Report: {shown(str(report / 'confusion.png'))}, {shown(str(report / 'mistakes.png'))}", soft_wrap=True)
