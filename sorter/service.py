"""Use-cases: train, evaluate, sort, undo, watch. Each returns typed results (or reports
progress through a callback); none of them prints. Heavy modules are imported inside the
functions that need them so `undo` and `--help` never load TensorFlow."""

from __future__ import annotations

import json
import platform
import threading
import time
from collections.abc import Callable
from contextlib import contextmanager, nullcontext
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING

from sorter import __version__
from sorter.config import BUNDLED_MODEL, CLASS_NAMES
from sorter.errors import UsageError

Progress = Callable[[int, int], None]


def _no_progress(done: int, total: int) -> None:
    pass


# --------------------------------------------------------------------------- models


def resolve_model_path(model: Path | None) -> Path:
    """The model the user named (or the bundled one), checked before any work starts."""
    from sorter.model import check_model_path

    path = model if model is not None else BUNDLED_MODEL
    check_model_path(path)
    return path


def load_classifier(model: Path | None):
    from sorter.lite import LiteClassifier
    from sorter.model import read_metadata, runtime_path

    path = resolve_model_path(model)
    return LiteClassifier.load(runtime_path(path), read_metadata(path))


# --------------------------------------------------------------------------- evaluate


@dataclass(frozen=True)
class Mistake:
    path: str
    true_label: str
    predicted: str
    confidence: float


@dataclass(frozen=True)
class EvalResult:
    n: int
    accuracy: float
    confusion: dict[str, dict[str, int]]  # confusion[true][predicted]
    precision: dict[str, float]
    recall: dict[str, float]
    unreadable: list[str]
    mistakes: list[Mistake] = field(default_factory=list)  # most confident first
    split: str = "all"

    def to_json(self) -> dict:
        data = asdict(self)
        data["mistakes"] = data["mistakes"][:50]
        return data


def evaluate_items(
    classifier, items: list[tuple[Path, int]], progress: Progress = _no_progress, split: str = "all"
) -> EvalResult:
    from sorter.inference import classify

    confusion = {t: dict.fromkeys(CLASS_NAMES, 0) for t in CLASS_NAMES}
    unreadable: list[str] = []
    mistakes: list[Mistake] = []
    labels = dict(items)
    done = 0
    for prediction in classify(classifier, [p for p, _ in items]):
        done += 1
        progress(done, len(items))
        if prediction.label is None:
            unreadable.append(f"{prediction.path}: {prediction.error}")
            continue
        true = CLASS_NAMES[labels[prediction.path]]
        confusion[true][prediction.label] += 1
        if prediction.label != true:
            mistakes.append(
                Mistake(str(prediction.path), true, prediction.label, prediction.confidence)
            )
    n = sum(sum(row.values()) for row in confusion.values())
    correct = sum(confusion[c][c] for c in CLASS_NAMES)
    precision, recall = {}, {}
    for c in CLASS_NAMES:
        predicted = sum(confusion[t][c] for t in CLASS_NAMES)
        actual = sum(confusion[c].values())
        precision[c] = confusion[c][c] / predicted if predicted else 0.0
        recall[c] = confusion[c][c] / actual if actual else 0.0
    mistakes.sort(key=lambda m: -m.confidence)
    return EvalResult(
        n=n,
        accuracy=correct / n if n else 0.0,
        confusion=confusion,
        precision=precision,
        recall=recall,
        unreadable=unreadable,
        mistakes=mistakes,
        split=split,
    )


def evaluate(
    data_dir: Path,
    model: Path | None,
    split: str = "all",
    report_dir: Path | None = None,
    progress: Progress = _no_progress,
) -> EvalResult:
    from sorter.datasets import list_labelled
    from sorter.datasets import split as make_split

    classifier = load_classifier(model)
    if split == "all":
        files = list_labelled(data_dir)
        items = [(p, CLASS_NAMES.index(label)) for label, paths in files.items() for p in paths]
    else:
        meta = classifier.metadata.get("training", {})
        if "seed" not in meta:
            raise UsageError("this model's metadata does not record its split; use --split all")
        parts = make_split(
            data_dir, float(meta["validation_split"]), int(meta["seed"]), meta.get("limit")
        )
        items = parts.validation if split == "validation" else parts.train
    if not items:
        raise UsageError(f"no images to evaluate in {data_dir} (split: {split})")
    result = evaluate_items(classifier, items, progress, split)
    if report_dir is not None:
        from sorter.report import write_evaluation_report

        write_evaluation_report(result, report_dir, classifier.image_size)
    return result


# --------------------------------------------------------------------------- train


@dataclass(frozen=True)
class TrainResult:
    model_path: Path
    runtime_path: Path
    metadata_path: Path
    curves_path: Path
    validation: EvalResult | None
    epochs_run: int
    best_epoch: int
    seconds: float
    broken: list[str]
    n_train: int
    n_validation: int


def _versions() -> dict[str, str]:
    from importlib.metadata import version

    import cv2
    import keras
    import numpy
    import tensorflow

    return {
        "sorter": __version__,
        "python": platform.python_version(),
        "keras": keras.__version__,
        "tensorflow": tensorflow.__version__,
        "ai-edge-litert": version("ai-edge-litert"),
        "opencv": cv2.__version__,
        "numpy": numpy.__version__,
    }


def _train_command(config) -> str:
    """The command that reproduces this model (every option spelled out)."""
    import shlex

    parts = [
        "sorter", "train", str(config.data_dir), "--out", str(config.out), "--epochs", str(config.epochs),
        "--image-size", str(config.image_size), "--validation-split", str(config.validation_split),
        "--seed", str(config.seed), "--batch-size", str(config.batch_size), "--patience", str(config.patience),
        "--learning-rate", str(config.learning_rate),
    ]
    if config.limit is not None:
        parts += ["--limit", str(config.limit)]
    if config.init_from is not None:
        parts += ["--init-from", str(config.init_from)]
    return shlex.join(parts)


def _parent_model(config, counts: dict[str, int]) -> tuple[dict | None, list[dict]]:
    """What `--init-from` starts from (a summary for the metadata, and its epochs for the
    curves), checked to have trained on this run's training photos only: with another split,
    this run's validation photos would include photos that model learned, and the accuracy
    recorded here would flatter it."""
    from sorter.model import metadata_path, read_metadata

    path = config.init_from
    if path is None:
        return None, []
    if path.suffix.lower() != ".keras" or not path.is_file():
        raise UsageError(f"--init-from {path}: expected a MODEL.keras written by `sorter train`")
    if path.resolve() == config.out.resolve():
        raise UsageError(f"--init-from {path} is also --out: the run would overwrite the model it starts from")
    parent = read_metadata(path)
    training = parent.get("training")
    if not training:
        raise UsageError(f"--init-from {path}: no {metadata_path(path).name} beside it to check its training split")
    ours = {"seed": config.seed, "validation_split": config.validation_split, "limit": config.limit,
            "images_per_class_found": counts}
    for key, value in ours.items():
        if training.get(key) != value:
            raise UsageError(
                f"--init-from {path}: trained on another split ({key} {training.get(key)}, here {value}); "
                "its training photos would leak into this run's validation"
            )
    return {
        "model": str(path),
        "image_size": parent.get("input", {}).get("size"),
        "validation_accuracy": parent.get("validation_accuracy"),
        "command": training.get("command"),
        "epochs_run": training.get("epochs_run"),
        "seconds": training.get("seconds"),
        "init_from": training.get("init_from"),
    }, list(training.get("history") or [])


def train(config, *, resume: bool = False, on_event=lambda e: None) -> TrainResult:
    """Train a model on a PetImages-style folder and save it with its metadata JSON."""
    from sorter.datasets import split as make_split
    from sorter.lite import LiteClassifier, save_model
    from sorter.model import metadata_path
    from sorter.report import write_training_curves
    from sorter.training import calibration_images, run_training

    if config.out.suffix.lower() != ".keras":
        raise UsageError(f"--out must end in .keras (got {config.out.name})")
    if config.epochs < 1:
        raise UsageError("--epochs must be at least 1")
    parts = make_split(config.data_dir, config.validation_split, config.seed, config.limit)
    parent, parent_history = _parent_model(config, parts.counts)
    model, state = run_training(
        config, parts.train, parts.validation, resume=resume, on_event=on_event
    )
    config.out.parent.mkdir(parents=True, exist_ok=True)
    runtime = save_model(model, config.out, calibration_images(parts.train, config.image_size, config.seed))
    validation = None
    if parts.validation:
        # Measured on the int8 model through the same inference path `sort` and `evaluate`
        # use, so that `sorter evaluate --split validation` reproduces this number exactly.
        validation = evaluate_items(LiteClassifier.load(runtime), parts.validation, split="validation")
    curves = config.out.with_name(config.out.stem + "-curves.png")
    # A fine-tune: its parent's epochs first, then a line where it started.
    marker = (len(parent_history) - 1, f"--init-from, {config.image_size} px") if parent_history else None
    write_training_curves(parent_history + state.history, curves, marker)
    metadata = {
        "format": "sorter-model/1",
        "class_names": list(CLASS_NAMES),
        "output": "sigmoid probability of 'dog'",
        "input": {
            "size": config.image_size,
            "channels": "RGB",
            "dtype": "uint8",
            "preprocessing": "sorter.images.load_image: EXIF-rotated, whole image stretched "
            "to a square (INTER_AREA), 0..255; rescaling inside the model",
        },
        "runtime": f"{runtime.name}: int8 LiteRT export of the .keras model (sorter.lite), the model sort runs",
        "validation_accuracy": validation.accuracy if validation else None,
        "validation_n": validation.n if validation else 0,
        # The float Keras model's accuracy at its best epoch, before int8 quantisation.
        "validation_accuracy_float": state.history[state.best_epoch - 1].get("val_accuracy")
        if state.best_epoch and parts.validation
        else None,
        "training": {
            "command": _train_command(config),
            "data_dir": str(config.data_dir),
            "images_per_class_found": parts.counts,
            "n_train": len(parts.train),
            "n_validation": len(parts.validation),
            "validation_split": config.validation_split,
            "seed": config.seed,
            "limit": config.limit,
            "epochs_requested": config.epochs,
            "epochs_run": state.epoch,
            "best_epoch": state.best_epoch,
            "batch_size": config.batch_size,
            "learning_rate": config.learning_rate,
            "precision": state.precision,
            "seconds": round(state.seconds, 1),
            # A fine-tuned model: the run it started from (reproduce that first).
            "init_from": parent,
            "broken_files": state.broken,
            "history": state.history,
        },
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "versions": _versions(),
    }
    meta_file = metadata_path(config.out)
    meta_file.write_text(json.dumps(metadata, indent=2) + "\n")
    return TrainResult(
        model_path=config.out,
        runtime_path=runtime,
        metadata_path=meta_file,
        curves_path=curves,
        validation=validation,
        epochs_run=state.epoch,
        best_epoch=state.best_epoch,
        seconds=state.seconds,
        broken=state.broken,
        n_train=len(parts.train),
        n_validation=len(parts.validation),
    )


# --------------------------------------------------------------------------- sort

FileStatus = str  # "moved" | "planned" | "unsure" | "unreadable" | "skipped" | "vanished" | "failed"


@dataclass(frozen=True)
class FileResult:
    path: Path
    status: FileStatus
    label: str | None = None
    confidence: float | None = None
    destination: Path | None = None
    reason: str | None = None

    def to_json(self) -> dict:
        return {
            "path": str(self.path),
            "status": self.status,
            "label": self.label,
            "confidence": None if self.confidence is None else round(self.confidence, 4),
            "destination": None if self.destination is None else str(self.destination),
            "reason": self.reason,
        }


@dataclass(frozen=True)
class SortSummary:
    folder: Path
    dry_run: bool
    counts: dict[str, int]  # status -> files
    moved_to: dict[str, int]  # "cats"/"dogs" -> files moved (or planned, in a dry run)
    recovered: int = 0
    seconds: float = 0.0


@dataclass
class Tally:
    """Counts per status and per destination folder, shared by `sort` and `watch`."""

    counts: dict[str, int] = field(default_factory=dict)
    moved_to: dict[str, int] = field(default_factory=dict)

    def add(self, result: FileResult) -> None:
        self.counts[result.status] = self.counts.get(result.status, 0) + 1
        if result.destination is not None:
            folder = result.destination.parent.name
            self.moved_to[folder] = self.moved_to.get(folder, 0) + 1


def output_folders() -> frozenset[str]:
    from sorter.config import CLASS_FOLDERS, STATE_DIR

    return frozenset({*CLASS_FOLDERS.values(), STATE_DIR})


def _existing_names(root: Path) -> dict[str, set[str]]:
    import os

    from sorter.config import CLASS_FOLDERS

    names: dict[str, set[str]] = {}
    for folder in CLASS_FOLDERS.values():
        try:
            names[folder] = set(os.listdir(root / folder))
        except (FileNotFoundError, NotADirectoryError):
            names[folder] = set()
    return names


def check_folder(root: Path) -> Path:
    if not root.exists():
        raise UsageError(f"folder not found: {root}")
    if not root.is_dir():
        raise UsageError(f"not a folder: {root}")
    from sorter.config import CLASS_FOLDERS

    for folder in CLASS_FOLDERS.values():
        target = root / folder
        if target.is_symlink() or (target.exists() and not target.is_dir()):
            raise UsageError(f"{target} exists and is not a folder; rename it so sorter can use it")
    return root.absolute()


class Sorter:
    """Sorts files of one folder through one loaded classifier. Used by `sort_folder` once
    and by the watcher for every batch that arrives; the caller holds the folder lock."""

    def __init__(self, root: Path, classifier, *, min_confidence: float = 0.0, dry_run: bool = False) -> None:
        self.root = root
        self.classifier = classifier
        self.min_confidence = min_confidence
        self.dry_run = dry_run
        self._journal = None
        self._planner = None

    def close(self) -> None:
        if self._journal is not None:
            self._journal.close()
            self._journal = None
        self._planner = None  # the folder may have changed under us (emptied, say): list it again

    def journal(self):
        from sorter.journal import Journal

        if self._journal is None:
            self._journal = Journal(self.root)
        return self._journal

    def planner(self):
        """One planner for the Sorter's life: the watcher does not list cats/ and dogs/
        again for every batch. Names taken behind its back are still safe: the move is
        no-replace, and a collision re-plans (see `_apply`)."""
        from sorter.planning import Planner

        if self._planner is None:
            self._planner = Planner(self.root, _existing_names(self.root), self.min_confidence)
        return self._planner

    def sort_entries(self, entries, batch_size: int | None = None):
        """Classify, plan and move image paths; yield one FileResult per entry. Entries the
        scan already skipped (`images.Skipped`) are reported as such, first."""
        from sorter.config import DEFAULT_BATCH_SIZE
        from sorter.images import Skipped
        from sorter.inference import classify

        batch_size = batch_size or DEFAULT_BATCH_SIZE
        paths = []
        for entry in entries:
            if isinstance(entry, Skipped):
                yield FileResult(entry.path, "skipped", reason=entry.reason)
            else:
                paths.append(entry)
        planner = self.planner()
        chunk = []
        for prediction in classify(self.classifier, paths, batch_size=batch_size):
            chunk.append(planner.decide(prediction.path, prediction.label, prediction.confidence, prediction.error))
            if len(chunk) >= batch_size:
                yield from self._apply(chunk, planner)
                chunk = []
        yield from self._apply(chunk, planner)

    def _apply(self, decisions, planner):
        """Journal a batch of intents (one fsync), move, then mark them done (one fsync)."""
        from sorter.moves import move_no_replace, sync_dirs

        moves = [d for d in decisions if d.status == "move"]
        results: dict[Path, FileResult] = {}
        if moves and not self.dry_run:
            journal = self.journal()
            for folder in {d.destination.parent for d in moves}:
                if not folder.is_dir():
                    # Journaled first: a crash right after mkdir must not leave an empty
                    # cats/ that undo does not know it may remove.
                    journal.append("mkdir", path=folder.name)
                    folder.mkdir(exist_ok=True)
            pending = [(d, d.destination) for d in moves]
            while pending:
                seqs = journal.intents([(d.source, dst) for d, dst in pending])
                done, abandoned, retry = [], [], []
                for (decision, dst), seq in zip(pending, seqs, strict=True):
                    try:
                        move_no_replace(decision.source, dst, self.root)
                    except FileExistsError:
                        # Someone created that name since we listed the folder: pick another.
                        abandoned.append(seq)
                        retry.append((decision, dst.parent / planner.reserve(dst.parent.name, dst.name)))
                        continue
                    except FileNotFoundError:
                        abandoned.append(seq)
                        results[decision.source] = FileResult(
                            decision.source, "vanished", decision.label, decision.confidence,
                            reason="file disappeared before it could be moved",
                        )
                        continue
                    except OSError as exc:
                        abandoned.append(seq)
                        results[decision.source] = FileResult(
                            decision.source, "failed", decision.label, decision.confidence,
                            reason=f"cannot move: {exc.strerror or exc}",
                        )
                        continue
                    done.append(seq)
                    results[decision.source] = FileResult(
                        decision.source, "moved", decision.label, decision.confidence, dst
                    )
                sync_dirs([dst.parent for _, dst in pending] + [d.source.parent for d, _ in pending])
                journal.mark("done", done)
                journal.mark("abandon", abandoned)
                pending = retry
        for d in decisions:
            if d.source in results:
                yield results[d.source]
            elif d.status == "move":
                yield FileResult(d.source, "planned", d.label, d.confidence, d.destination)
            else:
                yield FileResult(d.source, d.status, d.label, d.confidence, None, d.reason)


def sort_folder(
    root: Path,
    *,
    model: Path | None = None,
    recursive: bool = False,
    dry_run: bool = False,
    min_confidence: float = 0.0,
    classifier=None,
    on_start: Callable[[int], None] = lambda total: None,
    on_result: Callable[[FileResult], None] = lambda result: None,
    lock_wait: float = 0.0,
) -> SortSummary:
    """Sort the images of `root` into `root/cats` and `root/dogs`."""
    from sorter.images import scan_folder
    from sorter.journal import recover
    from sorter.lock import FolderLock

    started = time.monotonic()
    root = check_folder(root)
    if not 0.0 <= min_confidence <= 1.0:
        raise UsageError("--min-confidence must be between 0 and 1")
    if classifier is None:
        resolve_model_path(model)  # a wrong --model fails before anything else happens
    tally = Tally()
    lock = FolderLock(root, wait=lock_wait)
    recovered = 0
    if not dry_run:
        lock.acquire()  # before the (slow) model load: a second sorter is refused at once
    try:
        if classifier is None:
            classifier = load_classifier(model)
        if not dry_run:
            recovered_info = recover(root)
            recovered = recovered_info.completed
        entries = list(scan_folder(root, recursive=recursive, exclude=output_folders()))
        on_start(len(entries))
        sorter = Sorter(root, classifier, min_confidence=min_confidence, dry_run=dry_run)
        try:
            for result in sorter.sort_entries(entries):
                tally.add(result)
                on_result(result)
        finally:
            sorter.close()
    finally:
        lock.release()
    return SortSummary(root, dry_run, tally.counts, tally.moved_to, recovered, time.monotonic() - started)


# --------------------------------------------------------------------------- undo


@dataclass(frozen=True)
class UndoResult:
    folder: Path
    runs: int
    restored: list[tuple[Path, Path]]  # (from, back to)
    conflicts: list[str]  # kept where they are: something else occupies the old path
    missing: list[str]  # no longer where sorter put them


def _remove_if_empty(root: Path, folders) -> None:
    """Remove folders sorter created (cats/, dogs/) once empty: only then were they ours."""
    for folder in dict.fromkeys(folders):
        try:
            (root / folder).rmdir()
        except OSError:
            pass


def _forget(root: Path) -> None:
    """Everything sorter did in `root` is reversed: remove the folders it created (when
    empty, whichever run created them, crashed runs included) and its state, so the folder
    is path-for-path as it was found."""
    import shutil

    from sorter.journal import journal_path, read_runs, state_dir

    _remove_if_empty(root, (f for run in read_runs(root) for f in run.created_dirs))
    # The journal goes first: a crash part-way leaves at most an empty-of-meaning .sorter/,
    # which the next undo removes.
    journal_path(root).unlink(missing_ok=True)
    shutil.rmtree(state_dir(root), ignore_errors=True)


def undo(root: Path, *, all_runs: bool = False, lock_wait: float = 0.0) -> UndoResult:
    """Move files back where the journal says they came from, newest first, never
    overwriting. Plain undo reverses the latest run; `all_runs` every run in the journal."""
    import os

    from sorter.journal import Journal, read_runs, recover, state_dir
    from sorter.lock import FolderLock
    from sorter.moves import finish_link_move, move_no_replace, sync_dirs

    root = check_folder(root)
    if not state_dir(root).is_dir():
        raise UsageError(f"nothing to undo: {root} has no sorter journal")
    restored: list[tuple[Path, Path]] = []
    conflicts: list[str] = []
    missing: list[str] = []
    with FolderLock(root, wait=lock_wait):
        recover(root)
        runs = [r for r in read_runs(root) if any(m.done and not m.undone for m in r.moves)]
        if not runs:
            _forget(root)  # e.g. a run that moved nothing, or an undo killed while tidying up
            raise UsageError(f"nothing to undo in {root}")
        chosen = runs if all_runs else runs[-1:]
        with Journal(root, run="undo") as journal:
            for run in reversed(chosen):
                journal.run = run.run
                undone: list[int] = []
                marked = 0
                for move in sorted(run.moves, key=lambda m: -m.seq):
                    if not move.done or move.undone:
                        continue
                    src, dst = root / move.src, root / move.dst
                    if os.path.lexists(src) and os.path.lexists(dst):
                        if finish_link_move(dst, src):  # crash inside an earlier undo
                            undone.append(move.seq)
                        else:
                            conflicts.append(f"{move.dst}: {move.src} exists again; left in place")
                        continue
                    if os.path.lexists(src):  # an earlier undo moved it, then crashed
                        undone.append(move.seq)
                        continue
                    if not os.path.lexists(dst):
                        missing.append(f"{move.dst}: no longer there (was {move.src})")
                        continue
                    try:
                        src.parent.mkdir(parents=True, exist_ok=True)  # a subfolder since removed
                        move_no_replace(dst, src, root)
                    except FileExistsError:
                        conflicts.append(f"{move.dst}: {move.src} exists again; left in place")
                        continue
                    except OSError as exc:
                        conflicts.append(f"{move.dst}: cannot move back ({exc.strerror or exc})")
                        continue
                    undone.append(move.seq)
                    restored.append((dst, src))
                    if len(undone) - marked >= 256:  # one fsync per 256 files, not per file
                        sync_dirs([root, *{p.parent for pair in restored[-256:] for p in pair}])
                        journal.mark("undo", undone[marked:])
                        marked = len(undone)
                sync_dirs([root, *{p.parent for pair in restored for p in pair}])
                journal.mark("undo", undone[marked:])
                _remove_if_empty(root, run.created_dirs)
        remaining = any(m.done and not m.undone for r in read_runs(root) for m in r.moves)
        if not remaining and not conflicts and not missing:
            _forget(root)
    return UndoResult(root, len(chosen), restored, conflicts, missing)


# --------------------------------------------------------------------------- watch

if TYPE_CHECKING:  # watchdog is imported only when a watch starts
    from sorter.watch import WatchSettings


@dataclass(frozen=True)
class WatchNotice:
    """Something the watcher wants the user to know that is not about one file."""

    message: str
    warning: bool = False


@dataclass(frozen=True)
class WatchSummary:
    folder: Path
    counts: dict[str, int]  # status -> files
    moved_to: dict[str, int]  # "cats"/"dogs" -> files moved
    mode: str  # how changes were noticed: "inotify", "polling every 1 s", ...
    seconds: float


@contextmanager
def _stop_on_signals(stop: threading.Event):
    """SIGINT/SIGTERM set `stop`; the loop finishes the batch in hand and returns. A second
    signal abandons the batch (KeyboardInterrupt): the journal makes that safe too.

    The handler only calls `stop.set()`, and the main thread never waits on `stop` (it
    polls `is_set()`), so the handler cannot block on a lock the main thread holds."""
    import signal

    if threading.current_thread() is not threading.main_thread():
        yield  # signals are delivered to the main thread only; the caller owns `stop`
        return

    def handler(signum, frame) -> None:
        if stop.is_set():
            signal.signal(signal.SIGINT, signal.default_int_handler)
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
            raise KeyboardInterrupt
        stop.set()

    previous = {sig: signal.signal(sig, handler) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


class _State:
    """Keeps the lock and journal real while the folder is watched for days: if someone
    empties the folder (`rm -rf DIR/*` takes `.sorter/` too), the lock and journal would
    live on as deleted files, and a concurrent `sorter sort` or a later `undo` would not
    see them."""

    def __init__(self, root: Path, lock) -> None:
        self.root = root
        self.lock = lock
        self._lock_inode = self._inode(lock.path)

    @staticmethod
    def _inode(path: Path) -> int | None:
        try:
            return path.stat().st_ino
        except OSError:
            return None

    def check(self, sorter: Sorter) -> None:
        from sorter.journal import journal_path
        from sorter.lock import FolderLock

        if self._inode(self.lock.path) != self._lock_inode:
            fresh = FolderLock(self.root)
            fresh.acquire()  # FolderLocked if another sorter got in meanwhile: we stop
            self.lock.release()
            self.lock, self._lock_inode = fresh, self._inode(fresh.path)
        if not journal_path(self.root).exists():
            sorter.close()  # the next move opens a new journal (and a new run)


def watch_folder(
    root: Path,
    *,
    model: Path | None = None,
    recursive: bool = False,
    min_confidence: float = 0.0,
    polling: bool = False,
    classifier=None,
    on_result: Callable[[FileResult], None] = lambda result: None,
    on_notice: Callable[[WatchNotice], None] = lambda notice: None,
    stop: threading.Event | None = None,
    settings: WatchSettings | None = None,
    batch_size: int | None = None,
) -> WatchSummary:
    """Sort the images of `root`, then every image that arrives, until `stop` is set (or
    SIGINT/SIGTERM, when called from the main thread without `stop`).

    Holds the folder lock throughout, so `sorter sort`/`undo` on the same folder are
    refused while it runs. Files already there go through the same completeness check as
    new ones: a download in progress when the watcher starts is not moved half-written.
    """
    from sorter.config import DEFAULT_BATCH_SIZE
    from sorter.journal import recover
    from sorter.lock import FolderLock
    from sorter.watch import Watcher, WatchSettings

    started = time.monotonic()
    root = check_folder(root)
    if not 0.0 <= min_confidence <= 1.0:
        raise UsageError("--min-confidence must be between 0 and 1")
    batch_size = batch_size or DEFAULT_BATCH_SIZE
    tally = Tally()
    mode = ""

    def report(result: FileResult, watcher: Watcher) -> None:
        tally.add(result)  # watch never plans without moving: a destination means moved
        if result.status in ("unsure", "unreadable", "skipped", "failed"):
            watcher.settle(result.path)  # left in place: look again only once it changes
        on_result(result)

    own_stop = stop is None
    stop = threading.Event() if stop is None else stop
    with _stop_on_signals(stop) if own_stop else nullcontext():
        # The lock before the model: a second watcher on this folder fails in milliseconds.
        lock = FolderLock(root)
        lock.acquire()
        state = _State(root, lock)
        try:
            recovered = recover(root)
            if recovered.completed or recovered.rolled_back:
                on_notice(WatchNotice(
                    f"settled {recovered.completed + recovered.rolled_back} move(s) "
                    "interrupted by an earlier crash"
                ))
            if classifier is None:
                classifier = load_classifier(model)
            import numpy as np

            # Trace the model's graph now rather than on the first file to arrive (~0.5 s).
            size = classifier.image_size
            classifier.predict(np.zeros((1, size, size, 3), np.uint8))
            sorter = Sorter(root, classifier, min_confidence=min_confidence)

            def notify(message: str) -> None:
                on_notice(WatchNotice(message, warning=True))

            try:
                with Watcher(
                    root, recursive=recursive, polling=polling,
                    settings=settings or WatchSettings(), on_notice=notify,
                ) as watcher:
                    first_scan = True
                    while not stop.is_set():
                        found = watcher.scan_if_due()
                        if first_scan and found is not None:
                            first_scan = False
                            on_notice(WatchNotice(
                                f"watching {root} ({watcher.mode}); {found} image(s) already there"
                            ))
                        batch = watcher.take_ready(batch_size)
                        if not batch:
                            watcher.wait()
                            continue
                        state.check(sorter)
                        try:
                            for result in sorter.sort_entries(batch, batch_size=batch_size):
                                report(result, watcher)
                        except OSError as exc:
                            # Disk full, permissions on cats/, ...: not fatal to a service; the
                            # files are still in place and the next scan offers them again.
                            notify(f"could not sort {len(batch)} file(s): {exc}; retrying at the next scan")
                    mode = watcher.mode  # after the loop: the observer may have fallen back to polling
            finally:
                sorter.close()
        finally:
            state.lock.release()
    return WatchSummary(root, tally.counts, tally.moved_to, mode, time.monotonic() - started)

