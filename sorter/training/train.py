"""The `train` use-case: split the labelled photos, train (on the ImageNet backbone, or the
small network from scratch), save MODEL.keras with its int8 MODEL.tflite, measure the int8
model on the validation split the way `sort` runs it, make its reference set of the validation
photos (for `sorter learn`), and write the metadata and curves.
Returns a typed result; never prints."""

from __future__ import annotations

import platform
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING

from sorter import __version__
from sorter.config import CLASS_NAMES, OTHER, as_typed
from sorter.errors import OptionError, UsageError

if TYPE_CHECKING:
    from sorter.model.lite import LiteClassifier
    from sorter.training.datasets import Split
    from sorter.training.distribute import Distribution
    from sorter.training.evaluate import EvalResult
    from sorter.training.loop import TrainState

#: What each backbone trains best with, when the command line does not say.
DEFAULTS = {
    "efficientnet-lite0": {"image_size": 224, "learning_rate": 2e-4, "epochs": 2, "batch_size": 128, "distill": 0.0},
    "none": {"image_size": 144, "learning_rate": 3e-3, "epochs": 40, "batch_size": 64, "distill": 0.0},
}


@dataclass(frozen=True)
class TrainResult:
    model_path: Path
    runtime_path: Path
    metadata_path: Path
    curves_path: Path
    validation: object | None  # evaluation.EvalResult of the int8 model on the validation split
    epochs_run: int
    kept_epoch: int  # whose weights were saved (`TrainState.kept_epoch`)
    seconds: float
    broken: list[str]
    n_train: int
    n_validation: int
    three_way: bool = True  # with non-pets: it can leave a photo in place
    #: Its .tflite ends at the pooled features (a head): what `sorter learn` needs.
    pooled: bool = False
    #: MODEL.reference.npz's photos per class (`sorter.training.reference`); None: none made
    #: (no validation photos, or no pooled features).
    reference: dict[str, int] | None = None
    reference_path: Path | None = None  # MODEL.reference.npz, where made
    #: What the folders read hold that was not read (`not_read.NotRead`): said, as the run went on without them.
    not_read: list = field(default_factory=list)


@dataclass(frozen=True)
class Saved:
    """The model is in place, whole (`publish.staged`): an interrupt from here on cuts short
    only the report, and says so, instead of what it says before (what the run kept to go on)."""

    model: Path


@dataclass(frozen=True)
class Referencing:
    """Making the reference set: `done` of `total` validation photos read."""

    done: int
    total: int


@dataclass(frozen=True)
class WorkerDone:
    """What a worker other than the chief returns: the chief saves the model and its files."""

    index: int
    workers: int
    epochs_run: int
    seconds: float


def with_defaults(config):
    """Fill the options left unset (None) from the backbone's defaults."""
    if config.backbone not in DEFAULTS:
        raise OptionError(f"must be one of: {', '.join(DEFAULTS)} (got {config.backbone})", "--backbone")
    if config.backbone == "none" and config.distill:
        raise OptionError("--distill keeps ImageNet's answers: it needs the pretrained backbone "
                          "(--backbone efficientnet-lite0)", "--distill", "--backbone")
    chosen = {k: v for k, v in DEFAULTS[config.backbone].items() if getattr(config, k) is None}
    return replace(config, **chosen)


def _versions(backbone: str) -> dict[str, str]:
    from importlib.metadata import version

    import cv2
    import keras
    import numpy
    import tensorflow

    versions = {
        "sorter": __version__,
        "python": platform.python_version(),
        "keras": keras.__version__,
        "tensorflow": tensorflow.__version__,
        "ai-edge-litert": version("ai-edge-litert"),
        "opencv": cv2.__version__,
        "numpy": numpy.__version__,
    }
    if backbone != "none":
        from sorter.model.backbone import WEIGHTS_PACKAGE

        versions[WEIGHTS_PACKAGE] = version(WEIGHTS_PACKAGE)
    return versions


def train_command(config) -> str:
    """The command that reproduces this model (every option spelled out)."""
    parts = [
        "sorter", "train", str(config.data_dir), "--out", str(config.out), "--backbone", config.backbone,
    ]
    for folder in config.other:
        parts += ["--other", str(folder)]
    if config.holdout is not None:
        parts += ["--holdout", str(config.holdout)]
    parts += [
        "--epochs", str(config.epochs), "--image-size", str(config.image_size),
        "--validation-split", str(config.validation_split), "--seed", str(config.seed),
        "--batch-size", str(config.batch_size), "--patience", str(config.patience),
        "--learning-rate", str(config.learning_rate),
    ]
    if config.distill:
        parts += ["--distill", str(config.distill)]
    if config.limit is not None:
        parts += ["--limit", str(config.limit)]
    if config.init_from is not None:
        parts += ["--init-from", str(config.init_from)]
    if config.distribute != "none":
        parts += ["--distribute", config.distribute]
    return " ".join(as_typed(part) for part in parts)


def train(
    config,
    *,
    resume: bool = False,
    on_event: Callable = lambda e: None,
    on_cache: Callable[[str, int, int], None] = lambda name, done, total: None,
) -> TrainResult | WorkerDone:
    """Train a model on a PetImages-style folder (plus non-pets, for a three-way model) and
    save it with its metadata JSON. Under `--distribute multi-worker`, only the chief saves
    anything; the other workers return a WorkerDone.

    The run holds its checkpoint folder (`publish.claimed`) from before the photos are listed
    until the model is saved: a second run to the same --out is refused, not mixed in."""
    from sorter.training.checks import check_holdout, check_options, check_outside_photos
    from sorter.training.distribute import process_index, scratch_folder
    from sorter.training.publish import check_out, check_replaceable, claimed
    from sorter.training.resuming import checkpoint_dir

    config = with_defaults(config)
    check_options(config)
    check_holdout(config)
    check_out(config.out)
    check_outside_photos(config)
    index = process_index(config.distribute)
    with claimed(scratch_folder(checkpoint_dir(config.out), index), config.out):
        if index == 0:  # the chief saves the model; the other workers write nothing there
            check_replaceable(config.out)
        return _train(config, resume, on_event, on_cache)


@dataclass(frozen=True)
class _Photos:
    """What a run trains and validates on (`datasets.Split`), and what it makes of the model."""

    parts: Split
    three_way: bool  # with non-pets (an Other/ folder, --other): it can leave a photo in place
    class_names: tuple[str, ...]
    parent: dict | None  # --init-from's summary for the metadata (`checks.parent_model`)
    parent_history: list[dict]  # --init-from's epochs, drawn before this run's


@dataclass(frozen=True)
class _Trained:
    """What the epochs leave: the Keras model, how they went, and where they ran."""

    model: object
    state: TrainState
    weights: object | None  # the backbone's ImageNet weights (`run_transfer`); None from scratch
    dist: Distribution


def _train(config, resume: bool, on_event: Callable, on_cache: Callable) -> TrainResult | WorkerDone:
    """`train`, its options checked and its --out held: the photos, the epochs, then (the chief
    alone) the model and its files, staged so that the old model stays whole until they are."""
    from sorter.model.network import metadata_path, runtime_path
    from sorter.training.publish import staged
    from sorter.training.reference import reference_path
    from sorter.training.resuming import checkpoint_dir

    photos = _photos(config)
    trained = _run_epochs(config, photos, resume, on_event, on_cache)
    dist, state, parts = trained.dist, trained.state, photos.parts
    if not dist.is_chief:
        dist.finish(checkpoint_dir(config.out))
        return WorkerDone(dist.index, dist.workers, state.epoch, state.seconds)
    with staged(config.out, lambda: on_event(Saved(config.out))) as out:  # the old model stays whole until then
        metadata, validation, reference, curves = _write_model(config, photos, trained, out, on_event)
    return TrainResult(
        model_path=config.out,
        runtime_path=runtime_path(config.out),
        metadata_path=metadata_path(config.out),
        curves_path=config.out.with_name(curves.name),
        validation=validation,
        epochs_run=state.epoch,
        kept_epoch=state.kept_epoch,
        seconds=state.seconds,
        broken=state.broken,
        n_train=len(parts.train),
        n_validation=len(parts.validation),
        three_way=photos.three_way,
        pooled="head" in metadata,
        reference=reference,
        reference_path=None if reference is None else reference_path(config.out),
        not_read=parts.not_read + _holdout_not_read(config.holdout),
    )


def _holdout_not_read(holdout: Path | None) -> list:
    """What --holdout holds that its scoring did not read, said with the rest."""
    from sorter.training.not_read import not_read

    return [] if holdout is None else not_read([], (holdout,))


def _photos(config) -> _Photos:
    """The photos split, and what the listing alone can refuse (an --init-from trained on
    another split, non-pets for the from-scratch network, too few photos): before a worker is
    waited for or an epoch runs, so each is one line in seconds."""
    from sorter.training.checks import parent_model
    from sorter.training.datasets import refuse_untrained
    from sorter.training.datasets import split as make_split

    parts = make_split(config.data_dir, config.validation_split, config.seed, config.limit, config.other)
    parent, parent_history = parent_model(config, {k: v for k, v in parts.counts.items() if k != OTHER})
    three_way = OTHER in parts.counts
    if config.backbone == "none" and three_way:
        raise UsageError("non-pets (an Other/ folder): train it with the pretrained backbone "
                         "(--backbone efficientnet-lite0); the from-scratch network knows cats and dogs only")
    refuse_untrained(parts, config.data_dir, config.other, config.validation_split, config.limit)
    class_names = (*CLASS_NAMES, OTHER) if three_way else CLASS_NAMES
    return _Photos(parts, three_way, class_names, parent, parent_history)


def _run_epochs(config, photos: _Photos, resume: bool, on_event: Callable, on_cache: Callable) -> _Trained:
    """The epochs, checkpointed as they go (`loop.run_training` from scratch, `transfer.run_transfer`
    on the backbone), every worker's peers watched and their photos compared first: a peer that
    died, or split other photos, is one line instead of TensorFlow's traceback or shards that overlap."""
    from sorter.training.datasets import refuse_unread
    from sorter.training.distribute import start
    from sorter.training.loop import run_training

    parts = photos.parts
    dist = start(config.distribute, on_event)  # multi-worker: waits here for every worker in TF_CONFIG
    weights = None

    def check_read(read: list[int]) -> None:
        refuse_unread(config.data_dir, config.other, parts.train + parts.validation, read, parts.counts)

    with dist.peers_watched():
        dist.check_same_photos(parts.train + parts.validation)
        if config.backbone == "none":
            model, state = run_training(config, parts.train, parts.validation, resume=resume, on_event=on_event,
                                        dist=dist, check_read=check_read)
        else:
            from sorter.training.transfer import run_transfer

            model, state, weights = run_transfer(
                config, parts.train, parts.validation, len(photos.class_names), resume=resume, on_event=on_event,
                on_cache=on_cache, dist=dist, check_read=check_read,
            )
    return _Trained(model, state, weights, dist)


def _write_model(config, photos: _Photos, trained: _Trained, out: Path,
                 on_event: Callable) -> tuple[dict, EvalResult | None, dict[str, int] | None, Path]:
    """MODEL.keras and its int8 MODEL.tflite at `out` (staged), measured as `sort` runs them,
    with the reference set, the curves and the metadata: the metadata, the validation result,
    the reference set's photos per class (None: none made) and the curves' path."""
    from sorter.model.lite import head_path, save_model
    from sorter.model.network import MODEL_FORMAT, write_metadata
    from sorter.training.loop import calibration_images
    from sorter.training.report import write_training_curves

    parts, state = photos.parts, trained.state
    runtime = save_model(trained.model, out, calibration_images(parts.train, config.image_size, config.seed))
    metadata = {"format": MODEL_FORMAT, "class_names": list(photos.class_names)}
    head = head_path(out)
    if head.is_file():
        metadata["head"] = {"file": head.name, "temperature": 1.0}
    validation, classifier = _measure(config, photos, out, runtime, metadata)
    reference = None
    if parts.validation and "head" in metadata:
        reference = _write_reference(classifier, parts.validation, out, metadata, on_event)
    curves = out.with_name(out.stem + "-curves.png")
    # A fine-tune: its parent's epochs first, then a line where it started.
    parent_history = photos.parent_history
    marker = (len(parent_history) - 1, f"--init-from, {config.image_size} px") if parent_history else None
    write_training_curves(parent_history + state.history, curves, marker)
    metadata.update(_described(config, photos, trained, validation, runtime, head, "head" in metadata))
    write_metadata(out, metadata)
    return metadata, validation, reference, curves


def _measure(config, photos: _Photos, out: Path, runtime: Path,
             metadata: dict) -> tuple[EvalResult | None, LiteClassifier | None]:
    """The int8 model measured on the validation split (and the hold-out) through the inference
    path `sort` and `evaluate` use, its head calibrated and its ImageNet evidence fitted on the
    way (both recorded in `metadata`): the validation result, and the classifier last loaded."""
    from sorter.model.lite import LiteClassifier, head_path, read_head, write_head
    from sorter.training.evaluate import fit_temperature, measure, scene_parts
    from sorter.training.scoring import compose_scenes, score_composed, score_items

    parts, three_way, head = photos.parts, photos.three_way, head_path(out)
    validation = classifier = None
    if parts.validation:
        # Measured on the int8 model through the same inference path `sort` and `evaluate`
        # use, so that `sorter evaluate --split validation` reproduces this number exactly.
        classifier = LiteClassifier.load(runtime, metadata)
        scored = score_items(classifier, parts.validation, kinds=parts.kind_of)
        # Decoded and pasted once, scored as often as the model changes below.
        composed = compose_scenes(config.image_size, *scene_parts(parts), config.seed) if three_way else []
        scenes = score_composed(classifier, composed) if composed else None
        if "head" in metadata:
            # Calibrated on the validation photos (with their pets in scenes): one number that
            # changes no decision, only what the confidence says.
            temperature = fit_temperature(scored.joined(scenes))
            kernel, bias, _ = read_head(head)
            write_head(head, kernel, bias, temperature)
            metadata["head"]["temperature"] = round(temperature, 4)
            if three_way:
                # What ImageNet says of the features, weighed in after the head: fitted on the
                # same photos the network never trained on (sorter.model.evidence).
                from sorter.training.evidence import add_evidence

                metadata["evidence"] = add_evidence(
                    out, LiteClassifier.load(runtime, metadata), parts.validation, composed)
            # Scored again through the calibrated head (and the evidence), so that `sorter
            # evaluate --split validation` reproduces every number recorded here exactly.
            classifier = LiteClassifier.load(runtime, metadata)
            scored = score_items(classifier, parts.validation, kinds=parts.kind_of)
            scenes = score_composed(classifier, composed) if composed else None
        validation = measure(scored, "validation", scenes)
    if config.holdout is not None:
        from sorter.training.evaluate import with_holdout
        from sorter.training.holdout import score_holdout

        final = classifier if parts.validation else LiteClassifier.load(runtime, metadata)  # as it was last loaded
        held_out, held = score_holdout(final, config.holdout)
        metadata["holdout"] = {"folder": str(config.holdout)}
        if validation is not None:
            validation = with_holdout(validation, config.holdout, held_out, held, scored.joined(scenes))
    return validation, classifier


def _write_reference(classifier: LiteClassifier, validation: list, out: Path, metadata: dict,
                     on_event: Callable) -> dict[str, int]:
    """What `sorter learn` tells a named pet from and checks corrections on: this run's
    validation photos, never trained on, through the int8 features just exported. Saved with
    the set, so a run stopped before its end leaves no model without it. Its photos per class."""
    from sorter.training.reference import reference_of, reference_path, write_reference

    made = reference_of(classifier, validation, progress=lambda done, total: on_event(Referencing(done, total)))
    write_reference(reference_path(out), made)
    reference = {name: int((made.labels == i).sum()) for i, name in enumerate(made.class_names)}
    metadata["reference"] = {"file": reference_path(out).name, "photos": reference}
    return reference


def _described(config, photos: _Photos, trained: _Trained, validation: EvalResult | None, runtime: Path, head: Path,
               pooled: bool) -> dict:
    """What the metadata says of the model beyond its files: its input and output, how it was
    trained (the command that reproduces it, the photos, the epochs, where they ran) and what it
    measured, so that a model file alone says what made it and how good it is."""
    parts, state, dist, three_way, class_names = (photos.parts, trained.state, trained.dist, photos.three_way,
                                                  photos.class_names)
    return {
        "output": "softmax probabilities of " + ", ".join(class_names) if three_way else "sigmoid probability of 'dog'",
        "input": {
            "size": config.image_size,
            "channels": "RGB",
            "dtype": "uint8",
            "preprocessing": "sorter.media.images.load_image: EXIF-rotated, whole image stretched "
            "to a square (INTER_AREA), 0..255; rescaling inside the model",
        },
        "runtime": f"{runtime.name}: int8 LiteRT export of the .keras model (sorter.model.lite), the model sort runs"
        + (f"; it ends at the last convolution's map, pooled in float by sorter (the map gives named pets a second "
           f"look, sorter.model.second_look), and {head.name} holds the float softmax layer and its temperature"
           if pooled else ""),
        "backbone": {"name": config.backbone, "weights": trained.weights.to_json() if trained.weights else None},
        "validation_accuracy": validation.accuracy if validation else None,
        "validation_n": validation.n if validation else 0,
        "validation": validation.to_json() if validation else None,
        # The float Keras model's accuracy at its best epoch, before int8 quantisation.
        "validation_accuracy_float": state.history[state.kept_epoch - 1].get("val_accuracy")
        if state.kept_epoch and parts.validation
        else None,
        "training": {
            "command": train_command(config),
            "data_dir": str(config.data_dir),
            "other_dirs": [str(folder) for folder in config.other],
            # Files named as photos, junk too (`Split.counts`): not how many are photos.
            "files_per_class_found": {k: v for k, v in parts.counts.items() if k != OTHER},
            "other_files_found": parts.counts.get(OTHER, 0),
            # Validation holds out whole kinds of non-pet photo: its number is about kinds
            # of things the model never saw.
            "other_kinds": parts.other_kinds,
            "n_train": len(parts.train),
            "n_validation": len(parts.validation),
            "validation_split": config.validation_split,
            "seed": config.seed,
            "limit": config.limit,
            "epochs_requested": config.epochs,
            "epochs_run": state.epoch,
            "best_epoch": state.best_epoch,  # of lowest validation loss
            "kept_epoch": state.kept_epoch,  # saved: the best, or a fine-tune's last
            "batch_size": config.batch_size,  # per replica
            "learning_rate": config.learning_rate,  # before scaling with the replicas
            "distill": config.distill,  # weight of ImageNet's answers kept (sorter.training.distill)
            # How it was trained: tf.distribute strategy, processes, replicas in all, and what
            # a step took (batch × replicas) at what peak learning rate (× replicas).
            "distribute": {
                **dist.to_json(),
                "global_batch_size": dist.global_batch(config.batch_size),
                "peak_learning_rate": dist.learning_rate(config.learning_rate),
            },
            "precision": state.precision,
            "seconds": round(state.seconds, 1),  # the epochs
            "cache_seconds": round(state.cache_seconds, 1),  # caching the backbone's features
            # A fine-tuned model: the run it started from (reproduce that first).
            "init_from": photos.parent,
            "broken_files": state.broken,
            "history": state.history,
        },
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "versions": _versions(config.backbone),
    }
