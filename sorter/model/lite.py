"""The model that sort, watch and evaluate run: the trained Keras network, quantised to int8
and run by LiteRT (XNNPACK).

Why: on 2 CPU cores the float network in TensorFlow cost ~1.8 ms per 128 px image, four
times what decoding the photo costs, so the network, not decoding, limited `sorter sort`.
The int8 model runs ~3x faster (VNNI/AVX-512 integer kernels), its probabilities stay
within a few hundredths of the float model's, and loading it needs no TensorFlow: `sort`
starts in a fraction of a second. `sorter train` writes it beside the .keras model
(MODEL.tflite); the .keras stays the source of truth for resuming and re-exporting.

Exporting needs TensorFlow (train time only); running needs only `ai_edge_litert` and numpy.
"""

from __future__ import annotations

import hashlib
import queue
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from sorter.config import BUNDLED_MODEL, CLASS_NAMES, OTHER, cpu_cores
from sorter.errors import ModelError
from sorter.model.arrays import opened
from sorter.model.evidence import Evidence, read_evidence
from sorter.model.network import (
    check_model_path,
    import_keras,
    metadata_path,
    quiet_stderr,
    read_metadata,
    runtime_path,
)
from sorter.model.second_look import Box, Closer, filed_boxes, judged_again


def head_path(model_path: Path) -> Path:
    """The float softmax layer (and its temperature) of a model whose .tflite ends at the
    pooled features: MODEL.head.npz beside MODEL.keras."""
    return model_path.with_suffix(".head.npz")


def evidence_path(model_path: Path) -> Path:
    """ImageNet's classifier and how its word is weighed (`sorter.model.evidence`): MODEL.evidence.npz."""
    return model_path.with_suffix(".evidence.npz")


def companion(model_path: Path, metadata: dict[str, Any], part: str, by_stem: Callable[[Path], Path]) -> Path:
    """The file of `part` ("head", "evidence") that MODEL.json names, which `train` named after
    its `--out`: the set's own (MODEL.head.npz, as its reference set and `publish` find theirs)
    first, so a set copied or renamed whole (default.* as x.*) reads its own files, not the
    ones its .json still names (which were missing, or another set's beside it); else the one
    named, as a set whose .keras, .tflite and .json alone were renamed had it."""
    own = by_stem(model_path)
    named = model_path.with_name(metadata[part]["file"])
    return named if not own.exists() and named.exists() else own


def save_model(model, path: Path, calibration) -> Path:
    """Save a Keras model as sorter models are saved: MODEL.keras (for resuming and
    re-exporting) and beside it MODEL.tflite, its int8 export that sorting runs. Returns
    the .tflite path. `calibration`: see `export_int8`.

    A model on the backbone is exported up to its pooled features ("features"), and its
    softmax layer ("classes") is written beside it as MODEL.head.npz, run in float by
    `LiteClassifier`. Why: an int8 softmax output has 256 steps, so its confidence saturated
    at 255/256 = 99.6 % for almost every photo, and neither --min-confidence nor the review
    page could tell a doubtful photo from a sure one; in float, with a temperature fitted on
    validation photos (`write_head`), the confidence means what it says. The features are
    also what a personal head would be fitted on."""
    model.save(path)
    if has_features(model):
        kernel, bias = model.get_layer("classes").get_weights()
        write_head(head_path(path), kernel, bias, 1.0)
        return export_features(model, calibration, runtime_path(path))
    return export_int8(model, calibration, runtime_path(path))


def has_features(model) -> bool:
    """A model on the backbone: pooled features ("features") under a softmax layer ("classes")."""
    return {"features", "classes"} <= {layer.name for layer in model.layers}


def export_features(model, calibration, path: Path) -> Path:
    """The int8 network up to the last convolution's map (7 x 7 x 1280 at 224 px), the input
    of the pooling layer: `LiteClassifier.run` averages it in float, which is the pooled
    features the head was trained on, and `LiteClassifier.run_maps` also hands over the map,
    whose weighting by a row of the head (a class activation map) says where the pet is for
    a second look (`sorter.model.second_look`). Pooling after the int8 output instead of
    inside it averages 49 quantised values in float, a finer number than one int8 mean."""
    keras = import_keras()
    return export_int8(keras.Model(model.input, model.get_layer("features").input), calibration, path)


def write_head(path: Path, kernel: np.ndarray, bias: np.ndarray, temperature: float) -> None:
    """Written whole (write-then-rename); plain arrays, read back with allow_pickle=False."""
    temporary = path.with_name(path.name + ".tmp.npz")
    np.savez(temporary, kernel=np.asarray(kernel, np.float32), bias=np.asarray(bias, np.float32),
             temperature=np.float32(temperature))
    temporary.replace(path)


def read_head(path: Path) -> tuple[np.ndarray, np.ndarray, float]:
    def damaged(why: str) -> ModelError:
        return ModelError(f"{path}: unreadable model head ({why})")

    with opened(path, damaged) as data:
        if data is None:
            raise damaged("no such file")
        kernel, bias, temperature = data["kernel"], data["bias"], float(data["temperature"])
    if kernel.ndim != 2 or bias.shape != (kernel.shape[1],) or not temperature > 0:
        raise ModelError(f"{path}: not a sorter model head (kernel {kernel.shape}, bias {bias.shape})")
    return kernel.astype(np.float64), bias.astype(np.float64), temperature


def softmax(logits: np.ndarray, temperature: float = 1.0) -> np.ndarray:
    z = np.asarray(logits, np.float64) / temperature
    z -= z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def export_int8(model, calibration, path: Path) -> Path:
    """Quantise a Keras model (uint8 RGB in, p_dog out) to a full-integer LiteRT model.

    `calibration` is a (n, size, size, 3) uint8 array of typical *unaugmented* training
    photos: the converter runs them through the network to choose each layer's int8 range,
    so a few hundred real photos matter more than many. Written write-then-rename."""
    import_keras()
    import tensorflow as tf
    from tensorflow.python.framework.convert_to_constants import convert_variables_to_constants_v2

    size = int(model.input_shape[1])
    spec = tf.TensorSpec([None, size, size, 3], tf.uint8)
    traced = tf.function(lambda x: model(tf.cast(x, tf.float32), training=False)).get_concrete_function(spec)
    # Frozen first: the converter then sees constants it can quantise, not variables.
    frozen = convert_variables_to_constants_v2(traced)

    def representative():
        for start in range(0, len(calibration), 8):
            yield [calibration[start : start + 8]]

    converter = tf.lite.TFLiteConverter.from_concrete_functions([frozen], model)
    converter.optimizations = [tf.lite.Optimize.DEFAULT]
    converter.representative_dataset = representative
    with quiet_stderr(), warnings.catch_warnings():
        # "Statistics for quantized inputs were expected": the uint8 input is cast to float
        # inside the graph, so there is no input range to give.
        warnings.simplefilter("ignore", UserWarning)
        data = converter.convert()
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_bytes(data)
    temporary.replace(path)
    return path


#: The class lists a model may have: two-class models output one sigmoid column, p(dog);
#: three-class models a softmax row in this order.
KNOWN_CLASS_NAMES = (CLASS_NAMES, (*CLASS_NAMES, OTHER))

#: A TFLite flatbuffer's file identifier, bytes 4-8 of every MODEL.tflite `sorter train` writes.
TFLITE_MARK = b"TFL3"


def class_names_of(metadata: dict[str, Any]) -> tuple[str, ...]:
    """The model's classes, from its metadata JSON (models without one are cat/dog)."""
    names = tuple(metadata.get("class_names") or CLASS_NAMES)
    if names not in KNOWN_CLASS_NAMES:
        expected = " or ".join(str(list(known)) for known in KNOWN_CLASS_NAMES)
        raise ModelError(f"unsupported class_names {list(names)} in its metadata (expected {expected})")
    return names


class OutputMismatch(ModelError):
    """The network loads, but its output is not what its metadata says it is (its classes, its head)."""


class LiteClassifier:
    """A LiteRT interpreter per core, each on one thread: `inference.classify` runs one
    batch per core at once (measured on 2 cores: ~10% more than one call on both cores)
    and an interpreter must not be shared between threads, so a call borrows a free one."""

    def __init__(
        self,
        model_bytes: bytes,
        metadata: dict[str, Any],
        workers: int | None = None,
        head: tuple[np.ndarray, np.ndarray, float] | None = None,
        evidence: Evidence | None = None,
    ) -> None:
        from ai_edge_litert.interpreter import Interpreter

        self.metadata = metadata
        #: Which network this is, for the personal model fitted on its features (`sorter.model.personal`).
        self.fingerprint = hashlib.sha256(model_bytes).hexdigest()[:32]
        #: (kernel, bias, temperature) of a model whose .tflite ends at its pooled features.
        self.head = head
        #: What ImageNet says of the features, weighed in after the head (`sorter.model.evidence`).
        self.evidence = evidence
        self.class_names = class_names_of(metadata)
        self._free: queue.SimpleQueue = queue.SimpleQueue()
        # XNNPACK is applied at the first allocation, which prints "INFO: Created TensorFlow
        # Lite XNNPACK delegate for CPU." to descriptor 2: allocate here, quietly.
        with quiet_stderr():
            for _ in range(workers or cpu_cores()):
                interpreter = Interpreter(model_content=model_bytes, num_threads=1)
                interpreter.allocate_tensors()
                self._free.put([interpreter, None])  # None: no batch shape allocated yet
        details = interpreter.get_input_details()[0]
        shape, outputs = [int(d) for d in details["shape"]], interpreter.get_output_details()
        if len(shape) != 4 or shape[1] != shape[2] or shape[3] != 3 or len(outputs) != 1:
            raise ModelError(f"not a sorter model (input {shape}, {len(outputs)} outputs)")
        if details["dtype"] is not np.uint8:
            raise ModelError(f"not a sorter model (input type {details['dtype'].__name__}, expected uint8)")
        output_shape = [int(d) for d in outputs[0]["shape"]]
        columns = output_shape[1:]
        #: (rows, columns) of the last convolution's map when the .tflite ends there
        #: (`export_features`), pooled here; None for one that ends at pooled features.
        self.map_size: tuple[int, int] | None = None
        if head is not None and len(columns) == 3:
            self.map_size, columns = (columns[0], columns[1]), columns[2:]
        # One column is an old sigmoid model, p(dog); otherwise one probability per class, or
        # the pooled features its float head turns into them.
        if head is not None:
            if columns != [head[0].shape[0]] or head[0].shape[1] != len(self.class_names):
                raise OutputMismatch(f"not a sorter model (output {output_shape}, head {list(head[0].shape)} "
                                     f"for classes {list(self.class_names)})")
        elif columns not in ([1], [len(self.class_names)]) or (columns == [1] and self.class_names != CLASS_NAMES):
            raise OutputMismatch(f"not a sorter model (output {output_shape} for classes {list(self.class_names)})")
        if evidence is not None and (head is None or evidence.kernel.shape[0] != head[0].shape[0]
                                     or evidence.weights.shape[1:] != (len(self.class_names),)):
            raise ModelError(f"not a sorter model (evidence {list(evidence.kernel.shape)} "
                             f"and {list(evidence.weights.shape)} for output {output_shape})")
        self._sigmoid = columns == [1]
        self.image_size = int(shape[1])
        self._input, self._output = details["index"], outputs[0]["index"]

    @classmethod
    def load(cls, path: Path, metadata: dict[str, Any] | None = None, workers: int | None = None) -> LiteClassifier:
        """`path`: MODEL.tflite; its MODEL.head.npz beside it when the metadata names one;
        one interpreter per core, or `workers` of them."""
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise ModelError(f"{path}: cannot read model ({exc.strerror})") from exc
        if not data:  # LiteRT's own word for it: "`model_path` or `model_content` must be specified"
            raise ModelError(f"{path}: cannot load model (an empty file)")
        if data[4:8] != TFLITE_MARK:  # LiteRT's word: "The model is not a valid Flatbuffer buffer"
            raise ModelError(f"{path}: cannot load model (not a file sorter wrote)")
        metadata = metadata or {}
        head = read_head(companion(path, metadata, "head", head_path)) if metadata.get("head") else None
        evidence = (read_evidence(companion(path, metadata, "evidence", evidence_path))
                    if metadata.get("evidence") else None)
        try:
            return cls(data, metadata, workers, head=head, evidence=evidence)
        except ModelError as exc:
            raise type(exc)(f"{path}: {exc}") from exc
        except Exception as exc:  # LiteRT raises ValueError/RuntimeError for a bad file
            if "not a valid Flatbuffer" in str(exc):  # the marker is there, the rest is not
                raise ModelError(f"{path}: cannot load model (cut short or damaged)") from exc
            first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise ModelError(f"{path}: cannot load model ({first_line[:200]})") from exc

    def predict(self, batch, closer: Sequence[Closer | None] | None = None):
        """(n, size, size, 3) uint8 RGB -> (n, len(class_names)) float32 probabilities.
        `closer`: per row, the photo for a closer look where the model is unsure, or None."""
        return self.predict_named(batch, closer)[0]

    def predict_named(
        self, batch, closer: Sequence[Closer | None] | None = None,
    ) -> tuple[np.ndarray, list[str | None], list[str | None], list[Box | None], list[None]]:
        """Probabilities per class, the named pet of each photo (none: only a personal model
        names pets, and says how close one came: `PersonalClassifier.predict_named`), what
        ImageNet sees in it ("ox"), where the model carries its evidence, and where the pet is
        in a photo filed as a cat or dog (`second_look.filed_boxes`)."""
        if self.head is None:
            output = self.run(batch)
            p = np.stack([1.0 - output[:, 0], output[:, 0]], axis=1) if self._sigmoid else output
            return p, [None] * len(output), [None] * len(output), [None] * len(output), [None] * len(output)
        features, maps = self.run_maps(batch)
        p, looks = self.judge(features)
        # Photos the first look is unsure of look again at the pet (`sorter.model.second_look`).
        p = judged_again(self, batch, features, maps, p, closer)
        return p.astype(np.float32), [None] * len(p), looks, filed_boxes(self, maps, p), [None] * len(p)

    def judge(self, features: np.ndarray) -> tuple[np.ndarray, list[str | None]]:
        """Pooled features -> probabilities (the float head, its temperature, ImageNet's
        evidence) and what ImageNet sees in each photo (None without the evidence)."""
        kernel, bias, temperature = self.head
        p = softmax(features @ kernel + bias, temperature)
        if self.evidence is None:
            return p, [None] * len(p)
        return self.evidence.judge(p, features)

    def run(self, batch) -> np.ndarray:
        """The .tflite's own output: probabilities, or the pooled features of a model with a head."""
        return self.run_maps(batch)[0]

    def run_maps(self, batch) -> tuple[np.ndarray, np.ndarray | None]:
        """(pooled features, the last convolution's map (n, rows, columns, features) or None
        when the .tflite ends at pooled features)."""
        output = self._invoke(batch)
        return (output.mean(axis=(1, 2)), output) if output.ndim == 4 else (output, None)

    def _invoke(self, batch) -> np.ndarray:
        batch = np.ascontiguousarray(batch, dtype=np.uint8)
        if len(batch) == 0:
            columns = self.head[0].shape[0] if self.head is not None else 1 if self._sigmoid else len(self.class_names)
            shape = (0, *self.map_size, columns) if self.map_size is not None else (0, columns)
            return np.zeros(shape, dtype=np.float32)
        slot = self._free.get()
        try:
            interpreter, allocated = slot
            # Batches differ in length, and in size where one runs at another input size
            # (benchmarks/quick_look.py).
            if allocated != batch.shape:
                interpreter.resize_tensor_input(self._input, batch.shape)
                interpreter.allocate_tensors()
                slot[1] = batch.shape
            interpreter.set_tensor(self._input, batch)
            interpreter.invoke()
            output = interpreter.get_tensor(self._output)
            shape = output.shape[1:] if self.map_size else (-1,)
            output = output.reshape(len(batch), *shape).astype(np.float32, copy=False)
        finally:
            self._free.put(slot)
        return output


def resolve_model_path(model: Path | None) -> Path:
    """The model the user named (or the bundled one), checked before any work starts."""
    path = model if model is not None else BUNDLED_MODEL
    check_model_path(path)
    return path


def load_classifier(model: Path | None, workers: int | None = None) -> LiteClassifier:
    """The int8 model sort, watch and evaluate run: MODEL.tflite beside the named MODEL.keras
    (or the bundled one), with the class names its metadata records; one interpreter per core,
    or `workers` of them."""
    path = resolve_model_path(model)
    metadata = read_metadata(path)
    try:
        return LiteClassifier.load(runtime_path(path), metadata, workers)
    except OutputMismatch:
        if metadata or metadata_path(path).exists():
            raise
        # Without its MODEL.json only an early cat/dog model loads: for any later one, the
        # missing file is what is wrong, not the network's shape the error would name.
        raise ModelError(f"{metadata_path(path).name} not found beside {path}: `sorter train` writes it (the "
                         "model's classes and its head); copy it with the model") from None
