"""The `train` use-case: split the labelled photos, train (on the ImageNet backbone, or the
small network from scratch), save MODEL.keras with its int8 MODEL.tflite, measure the int8
model on the validation split the way `sort` runs it, make its reference set of the validation
photos (for `sorter learn`), and write the metadata and curves.
Returns a typed result; never prints."""

from __future__ import annotations

import platform
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from pathlib import Path

from sorter import __version__
from sorter.config import CLASS_NAMES, OTHER, as_typed
from sorter.errors import OptionError, UsageError

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


def check_holdout(config) -> None:
    """A hold-out folder is for validation only: it may share no photo with the training data
    (checked here, before training: it is scored after)."""
    from sorter.training.holdout import check_holdout as check

    if config.holdout is not None:
        check(config.holdout, (config.data_dir, *config.other),
              "training photos", "a hold-out is for validation only, never trained on")


def check_outside_photos(config) -> None:
    """`--out` may not be in a folder whose photos training reads: its curves (a PNG) and
    checkpoints would be taken for photos by the next run (`--out data/Cat/m.keras` made
    m-curves.png a cat). DATA_DIR itself is fine, since only its Cat/, Dog/ and Other/ are read
    (`sorter train . --out model.keras` in a PetImages folder), but no folder of those names
    there, made or not yet, nor anything in --other or --holdout."""
    from sorter.training.datasets import FOLDER_NAMES

    folder = config.out.parent.resolve()
    data = config.data_dir.resolve()
    if folder.is_relative_to(data) and folder != data:
        top = folder.relative_to(data).parts[0]
        if any(top.lower() in names for names in FOLDER_NAMES.values()):
            raise UsageError(f"--out {config.out} is inside {config.data_dir / top}, whose photos training reads: "
                             "its curves and checkpoints would be taken for photos; save it outside the photos")
    for option, root in [*(("--other", other) for other in config.other), ("--holdout", config.holdout)]:
        if root is not None and folder.is_relative_to(root.resolve()):
            raise UsageError(f"--out {config.out} is inside {option} {root}, whose photos are read: its curves and "
                             "checkpoints would be taken for photos; save it outside the photos")


def check_options(config) -> None:
    """What the command line alone makes wrong, refused before a folder is read: a bad value,
    or options that exclude each other (`OptionError`). What depends on the files (--init-from
    missing or trained on another split, an Other/ folder with --backbone none) is found later."""
    from sorter.training.datasets import check_validation_split
    from sorter.training.distribute import check_mode
    from sorter.training.limits import NUMBERS, WHOLE_NUMBERS, not_a_number, number_within, wanted, whole_number_from

    if config.out.suffix.lower() != ".keras":
        raise OptionError(f"must end in .keras (got {config.out.name})", "--out")
    for name, (option, low, high) in WHOLE_NUMBERS.items():  # as the command line checks them
        value = getattr(config, name)
        if (value is not None or name == "epochs") and not whole_number_from(value, low, high):
            raise OptionError(wanted(low, high, value), option)
    for name, (option, low, high) in NUMBERS.items():
        value = getattr(config, name)
        if value is not None and not number_within(value, low, high):
            raise OptionError(not_a_number(low, high, value), option)
    check_validation_split(config.validation_split)
    check_mode(config.distribute)
    if config.backbone == "none" and config.other:
        raise OptionError("the from-scratch network knows cats and dogs only: train non-pets with the pretrained "
                          "backbone (--backbone efficientnet-lite0)", "--other", "--backbone")
    path = config.init_from
    if path is None:
        return
    if config.backbone != "none":
        raise OptionError("fine-tunes the from-scratch network: use it with --backbone none", "--init-from",
                          "--backbone")
    if path.suffix.lower() != ".keras":
        raise OptionError(f"expected a MODEL.keras written by `sorter train` (got {path.name})", "--init-from")
    if path.resolve() == config.out.resolve():
        raise OptionError(f"{path} is also --out: the run would overwrite the model it starts from",
                          "--init-from", "--out")


def _parent_model(config, counts: dict[str, int]) -> tuple[dict | None, list[dict]]:
    """What `--init-from` starts from (a summary for the metadata, and its epochs for the
    curves), checked to have trained on this run's training photos only: with another split,
    this run's validation photos would include photos that model learned, and the accuracy
    recorded here would flatter it."""
    from sorter.model.network import metadata_path, read_metadata

    path = config.init_from
    if path is None:
        return None, []
    if not path.is_file():  # its name and its pairing with the other options: `check_options`
        raise UsageError(f"--init-from {path}: expected a MODEL.keras written by `sorter train`")
    parent = read_metadata(path)
    training = parent.get("training")
    if not training:
        raise UsageError(f"--init-from {path}: no {metadata_path(path).name} beside it to check its training split")
    from sorter.training.datasets import recorded_counts

    # Its files per class under the name its version recorded them by (`recorded_counts`), said by this one's.
    record = training | {"files_per_class_found": recorded_counts(training)[0]}
    ours = {"seed": config.seed, "validation_split": config.validation_split, "limit": config.limit,
            "files_per_class_found": counts}
    for key, value in ours.items():  # a key its record lacks differs too: no split to compare
        if record.get(key) != value:
            raise UsageError(f"--init-from {path}: trained on another split ({key} {record.get(key)}, here "
                             f"{value}); its training photos would leak into this run's validation")
    return {
        "model": str(path),
        "image_size": parent.get("input", {}).get("size"),
        "validation_accuracy": parent.get("validation_accuracy"),
        "command": training.get("command"),
        "epochs_run": training.get("epochs_run"),
        "seconds": training.get("seconds"),
        "init_from": training.get("init_from"),
    }, list(training.get("history") or [])


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


def _train(config, resume: bool, on_event: Callable, on_cache: Callable) -> TrainResult | WorkerDone:
    """`train`, its options checked and its --out held."""
    from sorter.model.lite import LiteClassifier, head_path, read_head, save_model, write_head
    from sorter.model.network import MODEL_FORMAT, metadata_path, runtime_path, write_metadata
    from sorter.training.datasets import refuse_unread, refuse_untrained
    from sorter.training.datasets import split as make_split
    from sorter.training.distribute import start
    from sorter.training.evaluate import fit_temperature, measure, scene_parts
    from sorter.training.loop import calibration_images, run_training
    from sorter.training.publish import staged
    from sorter.training.reference import reference_of, reference_path, write_reference
    from sorter.training.report import write_training_curves
    from sorter.training.resuming import checkpoint_dir
    from sorter.training.scoring import compose_scenes, score_composed, score_items

    parts = make_split(config.data_dir, config.validation_split, config.seed, config.limit, config.other)
    parent, parent_history = _parent_model(config, {k: v for k, v in parts.counts.items() if k != OTHER})
    three_way = OTHER in parts.counts
    if config.backbone == "none" and three_way:
        raise UsageError("non-pets (an Other/ folder): train it with the pretrained backbone "
                         "(--backbone efficientnet-lite0); the from-scratch network knows cats and dogs only")
    refuse_untrained(parts, config.data_dir, config.other, config.validation_split, config.limit)
    class_names = (*CLASS_NAMES, OTHER) if three_way else CLASS_NAMES
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
                config, parts.train, parts.validation, len(class_names), resume=resume, on_event=on_event,
                on_cache=on_cache, dist=dist, check_read=check_read,
            )
    if not dist.is_chief:
        dist.finish(checkpoint_dir(config.out))
        return WorkerDone(dist.index, dist.workers, state.epoch, state.seconds)
    with staged(config.out, lambda: on_event(Saved(config.out))) as out:  # the old model stays whole until then
        runtime = save_model(model, out, calibration_images(parts.train, config.image_size, config.seed))
        metadata = {"format": MODEL_FORMAT, "class_names": list(class_names)}
        head = head_path(out)
        if head.is_file():
            metadata["head"] = {"file": head.name, "temperature": 1.0}
        validation = None
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
        reference = None
        if parts.validation and "head" in metadata:
            # What `sorter learn` tells a named pet from and checks corrections on: this run's
            # validation photos, never trained on, through the int8 features just exported. Saved
            # with the set, so a run stopped before its end leaves no model without it.
            made = reference_of(classifier, parts.validation, progress=lambda done, total: on_event(
                Referencing(done, total)))
            write_reference(reference_path(out), made)
            reference = {name: int((made.labels == i).sum()) for i, name in enumerate(made.class_names)}
            metadata["reference"] = {"file": reference_path(out).name, "photos": reference}
        curves = out.with_name(out.stem + "-curves.png")
        # A fine-tune: its parent's epochs first, then a line where it started.
        marker = (len(parent_history) - 1, f"--init-from, {config.image_size} px") if parent_history else None
        write_training_curves(parent_history + state.history, curves, marker)
        metadata.update({
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
               if "head" in metadata else ""),
            "backbone": {"name": config.backbone, "weights": weights.to_json() if weights else None},
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
                "init_from": parent,
                "broken_files": state.broken,
                "history": state.history,
            },
            "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "versions": _versions(config.backbone),
        })
        write_metadata(out, metadata)
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
        three_way=three_way,
        pooled="head" in metadata,
        reference=reference,
        reference_path=None if reference is None else reference_path(config.out),
    )
