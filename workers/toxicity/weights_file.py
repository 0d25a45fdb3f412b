"""An ONNX graph's weights kept in a file beside it, written a piece at a time.

What the export (`workers.toxicity.streamed_export`) and the int8 copy
(`workers.toxicity.int8`) share: each weight of INLINE_BYTES or more is appended to
the weights file at a page boundary, so that ONNX Runtime maps it as it is, and the
graph's initializer names its place; smaller ones stay in the graph, as
`onnx.save_model` keeps them. onnx is imported by the function that needs it.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import IO, Any, Final

INLINE_BYTES: Final = 1024  # smaller weights stay in the graph (onnx.save_model's default)
ALIGN: Final = 4096  # each weight starts on a page of the file


def append(tensor: Any, data: IO[bytes], location: str, chunks: Iterable[bytes]) -> Any:
    """`tensor` (an initializer without its values) with `chunks`, its values, appended
    to `data`, the file named `location` beside the graph."""
    import onnx

    data.write(b"\0" * (-data.tell() % ALIGN))
    offset = data.tell()
    for chunk in chunks:
        data.write(chunk)
    del tensor.external_data[:]
    for key, value in (
        ("location", location),
        ("offset", offset),
        ("length", data.tell() - offset),
    ):
        entry = tensor.external_data.add()
        entry.key, entry.value = key, str(value)
    tensor.data_location = onnx.TensorProto.EXTERNAL
    return tensor
