"""Keras only: build the network, save and load it safely, predict in batches.

TensorFlow is imported lazily (inside functions) so that commands that never touch a model
(`--help`, `undo`) start instantly.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from sorter.config import CLASS_NAMES, cpu_cores
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


def import_keras():
    _quiet_tensorflow()
    import sys

    if "keras" not in sys.modules:
        # TensorFlow's C++ runtime prints start-up banners (absl, oneDNN) straight to file
        # descriptor 2, past Python's logging: hide them for the import only.
        saved = os.dup(2)
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 2)
        # Keras imports matplotlib.pyplot, when installed, for plotting helpers sorter never
        # calls: 0.5 s of a 2.5 s start. Hidden for this import only (`report` imports it).
        hide_matplotlib = "matplotlib" not in sys.modules
        if hide_matplotlib:
            sys.modules["matplotlib"] = None
        try:
            import tensorflow  # noqa: F401
        finally:
            if hide_matplotlib:
                del sys.modules["matplotlib"]
            os.dup2(saved, 2)
            os.close(saved)
            os.close(devnull)
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
    outputs = layers.Dense(1, activation="sigmoid", name="p_dog")(x)
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


def metadata_path(model_path: Path) -> Path:
    return model_path.with_suffix(".json")


def check_model_path(path: Path) -> None:
    suffix = path.suffix.lower()
    if suffix in REFUSED_SUFFIXES:
        raise ModelError(f"{path}: {REFUSED_SUFFIXES[suffix]}")
    if suffix != ".keras":
        raise ModelError(f"{path}: not a Keras 3 model (expected a .keras file)")
    if not path.is_file():
        raise ModelError(f"model not found: {path}")


def read_metadata(path: Path) -> dict[str, Any]:
    meta_file = metadata_path(path)
    if not meta_file.is_file():
        return {}
    try:
        return json.loads(meta_file.read_text())
    except (OSError, ValueError) as exc:
        raise ModelError(f"{meta_file}: unreadable model metadata ({exc})") from exc


class Classifier(Protocol):
    """What `sort`, `watch` and `evaluate` need from a model (tests use a fake)."""

    image_size: int

    def predict(self, batch) -> Any:
        """(n, size, size, 3) uint8 RGB -> (n,) float probabilities of 'dog'."""
        ...


class KerasClassifier:
    def __init__(self, model, metadata: dict[str, Any]) -> None:
        import threading

        self.model = model
        self.metadata = metadata
        self.image_size = int(model.input_shape[1])
        self._call = None
        self._lock = threading.Lock()

    def _compiled(self):
        """The network as one graph with its weights frozen into constants, traced on first
        use (an empty folder never pays for it). Frozen, Grappler folds each BatchNorm into
        the convolution before it: ~1.3x the throughput of calling through variables, with
        probabilities equal to within ~1e-6 (float rounding; no label changed on 1,000
        photos with a trained checkpoint). One graph for every batch size: per-call
        `model.predict` costs ~30 ms of overhead, which is what made the tutorial slow."""
        with self._lock:  # `classify` predicts from several threads
            if self._call is None:
                import tensorflow as tf
                from tensorflow.python.framework.convert_to_constants import convert_variables_to_constants_v2

                model = self.model
                spec = tf.TensorSpec([None, self.image_size, self.image_size, 3], tf.uint8)
                traced = tf.function(lambda x: model(tf.cast(x, tf.float32), training=False)).get_concrete_function(spec)
                self._call = convert_variables_to_constants_v2(traced)
            return self._call

    @staticmethod
    def _one_thread_per_call() -> None:
        """`classify` runs one model call per core at once; each call then does best on one
        thread (measured on 2 cores: ~10% more than two calls of two threads fighting).
        Only possible before TensorFlow starts its runtime, i.e. before the first model
        loads; a process that already runs TensorFlow (training) keeps its settings."""
        import tensorflow as tf

        try:
            tf.config.threading.set_intra_op_parallelism_threads(1)
            tf.config.threading.set_inter_op_parallelism_threads(max(2, cpu_cores()))
        except RuntimeError:  # runtime already initialised
            pass

    @classmethod
    def load(cls, path: Path) -> KerasClassifier:
        check_model_path(path)
        metadata = read_metadata(path)
        keras = import_keras()
        cls._one_thread_per_call()
        try:
            model = keras.saving.load_model(path, compile=False, safe_mode=True)
        except Exception as exc:  # keras raises many types for a bad file
            first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise ModelError(f"{path}: cannot load model ({first_line[:200]})") from exc
        shape = model.input_shape
        if len(shape) != 4 or shape[1] != shape[2] or shape[3] != 3 or model.output_shape[-1] != 1:
            raise ModelError(f"{path}: not a sorter model (input {shape}, output {model.output_shape})")
        return cls(model, metadata)

    def predict(self, batch):
        import numpy as np

        if len(batch) == 0:
            return np.zeros((0,), dtype=np.float32)
        import tensorflow as tf

        outputs = self._compiled()(tf.constant(batch))
        if isinstance(outputs, (list, tuple)):
            outputs = outputs[0]
        return outputs.numpy().reshape(-1)
