"""A detoxify checkpoint read without loading its weights.

detoxify's checkpoints are torch's zip format: a pickle (`data.pkl`) of
`{"config": ..., "state_dict": {name: tensor}}` whose tensors point at raw, uncompressed
storages (`data/<key>`) beside it. `index` unpickles that pickle with every tensor
replaced by where its values lie, so that the ONNX export
(`workers.toxicity.streamed_export`) copies each weight from the file to its own file
a piece at a time: the full-size `multilingual` checkpoint is 1.06 GB, and torch's
`torch.load` would hold all of it.

The unpickler builds only plain containers and these records: any other object the
pickle names (a training framework's hyper-parameters) is read as an empty stand-in,
and no code of the checkpoint runs. A checkpoint that is not of this format (an old
torch pickle, compressed storages) raises `Unsupported`, and the caller loads it
through detoxify as before.
"""

from __future__ import annotations

import collections
import math
import pickle
import zipfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, Final

import numpy as np

CHUNK: Final = 1 << 24  # bytes copied at a time (16 MB)
# torch's storage types, as its pickles name them, and the values they hold (bfloat16,
# which numpy lacks, is read as the upper halves of float32s).
_STORAGES: Final[dict[str, np.dtype[Any]]] = {
    "FloatStorage": np.dtype("<f4"),
    "HalfStorage": np.dtype("<f2"),
    "BFloat16Storage": np.dtype("<u2"),
    "DoubleStorage": np.dtype("<f8"),
    "LongStorage": np.dtype("<i8"),
    "IntStorage": np.dtype("<i4"),
    "ShortStorage": np.dtype("<i2"),
    "CharStorage": np.dtype("i1"),
    "ByteStorage": np.dtype("u1"),
    "BoolStorage": np.dtype("?"),
}


class Unsupported(Exception):
    """The checkpoint is not laid out as `index` reads it."""


@dataclass(frozen=True, slots=True)
class StoredTensor:
    """Where a tensor's values lie in the checkpoint: `member` of the zip, from element
    `offset`, `shape` in row-major order."""

    member: str
    storage: str  # torch's name for its storage type, e.g. FloatStorage
    offset: int
    shape: tuple[int, ...]
    stride: tuple[int, ...]

    @property
    def dtype(self) -> np.dtype[Any]:
        return _STORAGES[self.storage]

    @property
    def size(self) -> int:
        return math.prod(self.shape)

    @property
    def contiguous(self) -> bool:
        expected, step = [], 1
        for dim in reversed(self.shape):
            expected.append(step)
            step *= dim
        return all(
            dim == 1 or stride == want
            for dim, stride, want in zip(self.shape, self.stride, reversed(expected), strict=True)
        )


@dataclass(frozen=True, slots=True)
class Index:
    """A checkpoint's `config` (plain values) and its `state_dict`, by name."""

    path: Path
    config: Mapping[str, Any]
    tensors: Mapping[str, StoredTensor]

    def chunks(self, name: str) -> Iterator[bytes]:
        """Tensor `name`'s values as float32 bytes, in row-major order, CHUNK at a time."""
        tensor = self.tensors[name]
        if not tensor.contiguous:
            raise Unsupported(f"{name} is not stored in row-major order")
        itemsize = tensor.dtype.itemsize
        with zipfile.ZipFile(self.path) as archive, archive.open(tensor.member) as stored:
            _skip(stored, tensor.offset * itemsize)
            left = tensor.size * itemsize
            while left:
                raw = stored.read(min(CHUNK - CHUNK % itemsize, left))
                if not raw:
                    raise Unsupported(f"{tensor.member} ends before {name}")
                left -= len(raw)
                yield as_float32(np.frombuffer(raw, dtype=tensor.dtype), tensor.storage).tobytes()

    def array(self, name: str) -> np.ndarray[Any, np.dtype[np.float32]]:
        """Tensor `name` whole, as float32 (for the small ones a graph transposes)."""
        values = np.frombuffer(b"".join(self.chunks(name)), dtype=np.float32)
        return values.reshape(self.tensors[name].shape)


def as_float32(values: np.ndarray[Any, Any], storage: str) -> np.ndarray[Any, Any]:
    if storage == "BFloat16Storage":
        return (values.astype(np.uint32) << 16).view(np.float32)
    return values.astype(np.float32, copy=False)


def index(path: Path) -> Index:
    """The checkpoint `path`'s config and where each of its state_dict's tensors lies.
    Raises Unsupported when it is not a zip of torch's layout with uncompressed
    storages holding such a dictionary."""
    try:
        with zipfile.ZipFile(path) as archive:
            pickles = [name for name in archive.namelist() if name.endswith("/data.pkl")]
            if len(pickles) != 1:
                raise Unsupported(f"{path.name} holds {len(pickles)} data.pkl, not one")
            prefix = pickles[0].removesuffix("data.pkl")
            storages = {
                info.filename: info
                for info in archive.infolist()
                if info.filename.startswith(prefix + "data/")
            }
            if any(info.compress_type != zipfile.ZIP_STORED for info in storages.values()):
                raise Unsupported(f"{path.name} has compressed storages")
            with archive.open(pickles[0]) as data:
                loaded = _Unpickler(data, prefix).load()
    except (zipfile.BadZipFile, pickle.UnpicklingError, EOFError) as exc:
        raise Unsupported(f"{path.name} is not torch's zip format ({exc})") from exc
    if not isinstance(loaded, dict) or not isinstance(loaded.get("state_dict"), dict):
        raise Unsupported(f"{path.name} holds no state_dict")
    tensors = {
        name: value
        for name, value in loaded["state_dict"].items()
        if isinstance(value, StoredTensor)
    }
    missing = {tensor.member for tensor in tensors.values()} - storages.keys()
    if missing:
        raise Unsupported(f"{path.name} lacks the storages {sorted(missing)[:3]}")
    config = loaded.get("config")
    return Index(path, config if isinstance(config, dict) else {}, tensors)


@dataclass(frozen=True, slots=True)
class _Storage:
    member: str
    storage: str


class _Opaque:
    """What any object the pickle names, other than tensors and plain containers, becomes."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        pass

    def __setstate__(self, state: Any) -> None:
        pass


def _tensor(storage: Any, offset: int, shape: Any, stride: Any, *rest: Any) -> Any:
    if not isinstance(storage, _Storage) or storage.storage not in _STORAGES:
        return _Opaque()
    return StoredTensor(storage.member, storage.storage, offset, tuple(shape), tuple(stride))


def _parameter(data: Any, *rest: Any) -> Any:
    return data


class _Unpickler(pickle.Unpickler):
    def __init__(self, file: IO[bytes], prefix: str) -> None:
        super().__init__(file)
        self._prefix = prefix

    def find_class(self, module: str, name: str) -> Any:
        if module == "torch._utils" and name == "_rebuild_tensor_v2":
            return _tensor
        if module == "torch._utils" and name == "_rebuild_parameter":
            return _parameter
        if module == "torch" and name.endswith("Storage"):
            return name
        if module == "collections" and name == "OrderedDict":
            return collections.OrderedDict
        return _Opaque

    def persistent_load(self, pid: Any) -> Any:
        if isinstance(pid, tuple) and len(pid) >= 3 and pid[0] == "storage":
            return _Storage(f"{self._prefix}data/{pid[2]}", str(pid[1]))
        raise pickle.UnpicklingError(f"unknown persistent id {pid!r}")


def _skip(stream: IO[bytes], count: int) -> None:
    while count:
        skipped = len(stream.read(min(CHUNK, count)))
        if not skipped:
            raise Unsupported("a storage ends early")
        count -= skipped
