"""The network: build it (Keras), find a saved one and its metadata safely, and the
interface sort, watch and evaluate use to run it (implemented by `sorter.model.lite`).

TensorFlow is imported lazily (inside functions): only training needs it.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from sorter.config import CLASS_NAMES
from sorter.errors import ModelError

# Keras releases before 3.12 have known safe_mode bypasses in .keras loading (2025 CVEs).
MIN_KERAS = (3, 12)
REFUSED_SUFFIXES = {
    ".h5": "legacy HDF5 (.h5) models are refused: they can run arbitrary code; "
    "re-save the model in the Keras 3 .keras format",
    ".hdf5": "legacy HDF5 models are refused; re-save the model in the Keras 3 .keras format",
    ".pkl": "pickled models are refused: loading a pickle runs arbitrary code",
    ".pickle": "pickled models are refused: loading a pickle runs arbitrary code",
    ".pb": "TensorFlow SavedModel files are refused; use a Keras 3 .keras model",
}


def _quiet_tensorflow() -> None:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    os.environ.setdefault("KERAS_BACKEND", "tensorflow")


@contextmanager
def quiet_stderr() -> Iterator[None]:
    """TensorFlow and LiteRT print banners and converter logs (absl, oneDNN, XNNPACK)
    straight to file descriptor 2, past Python's logging: hide what they print inside."""
    saved = os.dup(2)
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 2)
    try:
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


def import_keras():
    _quiet_tensorflow()
    import sys

    if "keras" not in sys.modules:
        # Keras imports matplotlib.pyplot, when installed, for plotting helpers sorter never
        # calls: 0.5 s of a 2.5 s start. Hidden for this import only (`report` imports it).
        hide_matplotlib = "matplotlib" not in sys.modules
        if hide_matplotlib:
            sys.modules["matplotlib"] = None
        try:
            with quiet_stderr():
                import tensorflow  # noqa: F401
        finally:
            if hide_matplotlib:
                del sys.modules["matplotlib"]
    import keras

    version = tuple(int(p) for p in keras.__version__.split(".")[:2])
    if version < MIN_KERAS:
        raise ModelError(
            f"Keras {keras.__version__} is too old to load models safely; "
            f"install keras>={MIN_KERAS[0]}.{MIN_KERAS[1]}"
        )
    return keras


def build_model(image_size: int, width: int = 1):
    """A small residual network of separable convolutions (an Xception-style net sized for
    a CPU). Input: raw uint8-range RGB pixels; rescaling lives inside the model so every
    caller feeds the output of `images.load_image` unchanged."""
    keras = import_keras()
    layers = keras.layers

    inputs = keras.Input(shape=(image_size, image_size, 3), name="pixels")
    x = layers.Rescaling(1.0 / 255)(inputs)
    # Two strided full convolutions first: at 1/4 resolution the separable blocks below are
    # compute-bound instead of memory-bound, which is what makes this net cheap on a CPU.
    for filters in (24, 48):
        x = layers.Conv2D(filters * width, 3, strides=2, padding="same", use_bias=False)(x)
        x = layers.BatchNormalization()(x)
        x = layers.Activation("relu")(x)
    previous = x
    for filters in (96, 192, 384):
        filters *= width
        x = layers.SeparableConv2D(filters, 3, padding="same", use_bias=False)(x)
        x = layers.BatchNormalization()(x)
        x = layers.Activation("relu")(x)
        x = layers.SeparableConv2D(filters, 3, padding="same", use_bias=False)(x)
        x = layers.BatchNormalization()(x)
        x = layers.MaxPooling2D(3, strides=2, padding="same")(x)
        residual = layers.Conv2D(filters, 1, strides=2, padding="same", use_bias=False)(previous)
        residual = layers.BatchNormalization()(residual)
        x = layers.add([x, residual])
        x = layers.Activation("relu")(x)
        previous = x
    x = layers.SeparableConv2D(512 * width, 3, padding="same", use_bias=False)(x)
    x = layers.BatchNormalization()(x)
    x = layers.Activation("relu")(x)
    x = layers.GlobalAveragePooling2D()(x)
    x = layers.Dropout(0.3)(x)
    # float32 even under mixed precision: a bfloat16 sigmoid rounds probabilities near 0 and
    # 1, which the loss then sees.
    outputs = layers.Dense(1, activation="sigmoid", name="p_dog", dtype="float32")(x)
    return keras.Model(inputs, outputs, name="sorter_cnn")


def augmenter(seed: int):
    """Augmentation as Keras preprocessing layers, applied in the training pipeline only."""
    keras = import_keras()
    layers = keras.layers
    return keras.Sequential(
        [
            layers.RandomFlip("horizontal", seed=seed),
            layers.RandomRotation(0.06, fill_mode="reflect", seed=seed),
            layers.RandomZoom((-0.2, 0.05), fill_mode="reflect", seed=seed),
            layers.RandomTranslation(0.06, 0.06, fill_mode="reflect", seed=seed),
            layers.RandomContrast(0.2, seed=seed),
            layers.RandomBrightness(0.15, value_range=(0, 255), seed=seed),
        ],
        name="augment",
    )


@dataclass(frozen=True)
class ModelInfo:
    """The metadata JSON saved beside every model."""

    image_size: int
    class_names: tuple[str, ...] = CLASS_NAMES
    extra: dict[str, Any] = field(default_factory=dict)


#: The layout of MODEL.json and the files beside it that this version of sorter reads and writes.
#: Every version of sorter writes "sorter-model/N" (a newer one's model is still a sorter model).
FORMAT_FAMILY = "sorter-model/"
MODEL_FORMAT = FORMAT_FAMILY + "1"
#: What MODEL.json says while `sorter train` moves a new set's files into place (`training.publish`):
#: a set left so by a kill is no model to run, and the next run replaces it as a sorter model's.
SAVING_FORMAT = FORMAT_FAMILY + "saving"


def metadata_path(model_path: Path) -> Path:
    return model_path.with_suffix(".json")


def runtime_path(model_path: Path) -> Path:
    """The int8 model that `sorter train` writes beside MODEL.keras, and that sort runs."""
    return model_path.with_suffix(".tflite")


def checkpoint_dir(model_path: Path) -> Path:
    """Where `sorter train` keeps the checkpoints of the model it saves at `model_path`."""
    return model_path.with_name(model_path.stem + ".checkpoints")


def has_checkpoint(model_path: Path) -> bool:
    """A checkpoint of the run that saves `model_path` is there: `--resume` goes on from it."""
    ckpt = checkpoint_dir(model_path)
    # os.path's: an --out whose name is too long has no checkpoint, and says so without a traceback
    return os.path.isfile(ckpt / "state.json") and os.path.isfile(ckpt / "last.keras")


def saved_again(model_path: Path) -> str:
    """What saves again a model whose save was cut short: with its run's checkpoint still
    there, `--resume`, which has no epoch left to run and goes straight to the save."""
    if has_checkpoint(model_path):
        return f"run the same `sorter train` with --resume to save it again from {checkpoint_dir(model_path)}/"
    return "train it again"


def check_model_path(path: Path) -> Path:
    """A model given by the user (MODEL.keras or its MODEL.tflite) -> the file to run."""
    suffix = path.suffix.lower()
    if path.is_dir():
        raise ModelError(f"{path} is a folder; give the model's file (MODEL.keras from `sorter train`)")
    if suffix in REFUSED_SUFFIXES:
        raise ModelError(f"{path}: {REFUSED_SUFFIXES[suffix]}")
    if suffix not in (".keras", ".tflite"):
        if not path.exists():  # a name mistyped (`--model zzz`) is not there, whatever it would have been
            raise ModelError(f"model not found: {path}")
        raise ModelError(f"{path}: not a sorter model (expected MODEL.keras from `sorter train`, or its MODEL.tflite)")
    read_metadata(path)  # a save cut short names itself before any of its files is found missing
    if not path.is_file():
        raise ModelError(f"model not found: {path}")
    runtime = runtime_path(path)
    if runtime.is_dir():  # something is there: "not found" would send the user looking for it
        raise ModelError(f"{runtime}: a folder, not a model file; `sorter train` writes it")
    if not runtime.is_file():
        raise ModelError(f"{runtime.name} not found beside {path}: `sorter train` writes it (the model sort runs)")
    return runtime


def read_metadata(path: Path) -> dict[str, Any]:
    """MODEL.json ({} when there is none: an early cat/dog model), refused when written in a
    format this version does not know: a newer sorter's model may mean other things by the
    same files, and would be run wrong without a word."""
    meta_file = metadata_path(path)
    # Only a missing one is an early model's: one that is there but does not read (a folder)
    # is named, not taken for none, which let the network's shape be blamed instead.
    if not meta_file.exists():
        return {}
    try:
        metadata = json.loads(meta_file.read_text())
    except OSError as exc:
        raise ModelError(f"{meta_file}: unreadable model metadata ({exc.strerror or exc})") from exc
    except ValueError as exc:
        raise ModelError(f"{meta_file}: unreadable model metadata ({exc})") from exc
    if not isinstance(metadata, dict):
        raise ModelError(f"{meta_file}: not a sorter model's metadata (a JSON object)")
    written = metadata.get("format", MODEL_FORMAT)  # the earliest models' have none
    if written == SAVING_FORMAT:
        raise ModelError(f"{meta_file}: the save of this model was cut short (its `sorter train` was stopped, or "
                         f"its disk failed, while moving it into place); {saved_again(path)}")
    if written != MODEL_FORMAT:
        raise ModelError(f"{meta_file}: written by another version of sorter (format {written!r}; this one reads "
                         f"{MODEL_FORMAT!r}); use that version, or train the model again")
    return metadata


def write_metadata(path: Path, metadata: dict[str, Any]) -> None:
    """MODEL.json of the model at `path`, written whole (write-then-rename)."""
    meta_file = metadata_path(path)
    temporary = meta_file.with_name(meta_file.name + ".tmp")
    temporary.write_text(json.dumps(metadata, indent=2) + "\n")
    temporary.replace(meta_file)


class Classifier(Protocol):
    """What `sort`, `watch` and `evaluate` need from a model (tests use a fake)."""

    image_size: int
    #: ("cat", "dog") or ("cat", "dog", "other"): the columns `predict` returns.
    class_names: tuple[str, ...]

    def predict(self, batch) -> Any:
        """(n, size, size, 3) uint8 RGB -> (n, len(class_names)) float32 probabilities,
        each row summing to 1."""
        ...
