"""The int8 copy of an ONNX export, made a weight at a time (the cascade's fast model).

The copy is what ONNX Runtime's dynamic quantisation makes (`quantize_dynamic` with
int8 weights per channel, MatMul only): each MatMul whose second input is a weight
becomes DynamicQuantizeLinear on its input (once per input), MatMulInteger, Cast and
two Mul, the pattern ONNX Runtime fuses into its int8 kernel when the session opens;
each weight column is quantised by ONNX Runtime's own `quantize_data`, so the values
are the ones `quantize_dynamic` computes. What is not done its way is the memory:
`quantize_dynamic` loads the whole model, and held 2 to 3 times the full-size model's
1.1 GB; here one weight matrix is read at a time (9 MB at most on XLM-R base), and
the weights kept in fp32 (the embedding tables, biases, layer norms) are copied from
file to file a piece at a time.

onnx and onnxruntime are imported by the function that needs them.
"""

from __future__ import annotations

import math
import shutil
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any, Final

import numpy as np

from workers.toxicity.weights_file import INLINE_BYTES, append

CHUNK: Final = 1 << 24


def quantize(fp32: Path, out: Path, *, reduce_range: bool) -> dict[str, int]:
    """Write `out` (its weights in `<out>.data`), the int8 copy of the export `fp32`;
    with `reduce_range`, weights in 7 bits (`workers.toxicity.cascade.int8_kernel`).
    Returns the float32 weights it keeps as they are in `fp32`'s weights file (the
    embedding tables, biases, layer norms), with their sizes in bytes: copied byte for
    byte, both sessions of the cascade can be given one mapping of them."""
    import onnx
    from onnx import numpy_helper

    # With the shapes of its tensors, as ONNX Runtime's quantiser first infers them: the
    # session then fuses the int8 products as it does on `quantize_dynamic`'s copy,
    # which without them gave logits up to 0.5 apart (full-size model, same weights).
    model = onnx.shape_inference.infer_shapes(onnx.load(str(fp32), load_external_data=False))
    graph = model.graph
    stored = {tensor.name: _detached(tensor) for tensor in graph.initializer}
    # Weights to quantise: name -> (initializer, transposed), as ONNX Runtime names them.
    weights: dict[str, tuple[str, bool]] = {}
    nodes = _quantized_nodes(_without_gemm(graph.node, stored, weights), stored, weights)
    del graph.node[:]
    graph.node.extend(nodes)
    read = {name for node in nodes for name in node.input}
    data_name = out.name + ".data"
    del graph.initializer[:]
    unchanged: dict[str, int] = {}
    with open(out.with_name(data_name), "wb") as data:
        for name, tensor in stored.items():
            if name not in read:
                continue
            if tensor.data_location == onnx.TensorProto.EXTERNAL:
                unchanged[name] = math.prod(tensor.dims) * 4
            graph.initializer.append(_copied(tensor, fp32.parent, data, data_name))
        for name, (source, transposed) in weights.items():
            values = _values(stored[source], fp32.parent)
            q, scale, zero = _per_channel(
                values.T if transposed else values, reduce_range=reduce_range
            )
            for tensor in (
                numpy_helper.from_array(q, f"{name}_quantized"),
                numpy_helper.from_array(scale, f"{name}_scale"),
                numpy_helper.from_array(zero, f"{name}_zero_point"),
            ):
                graph.initializer.append(_placed(tensor, data, data_name))
    onnx.save_model(model, str(out))
    shutil.copymode(fp32, out)
    shutil.copymode(fp32, out.with_name(data_name))
    return unchanged


def _without_gemm(
    nodes: Iterable[Any], stored: Mapping[str, Any], weights: dict[str, tuple[str, bool]]
) -> Iterator[Any]:
    """`nodes` with each Gemm of a weight (the classifier's head) as MatMul and Add, as
    ONNX Runtime's quantiser rewrites it; its weight transposed (`transB`) is named
    `<weight>_Transposed`, recorded in `weights`."""
    from onnx import helper

    for node in nodes:
        settings = {a.name: helper.get_attribute_value(a) for a in node.attribute}
        if (
            node.op_type != "Gemm"
            or settings.get("alpha", 1.0) != 1.0
            or settings.get("beta", 1.0) != 1.0
            or settings.get("transA", 0) != 0
            or node.input[1] not in stored
        ):
            yield node
            continue
        weight = node.input[1]
        if settings.get("transB", 0) == 1:
            weights[f"{weight}_Transposed"] = (weight, True)
            weight = f"{weight}_Transposed"
        product = node.output[0] + ("_MatMul" if len(node.input) > 2 else "")
        yield helper.make_node("MatMul", [node.input[0], weight], [product], f"{node.name}_MatMul")
        if len(node.input) > 2:
            yield helper.make_node("Add", [product, node.input[2]], node.output, f"{node.name}_Add")


def _quantized_nodes(
    nodes: Iterable[Any], stored: Mapping[str, Any], weights: dict[str, tuple[str, bool]]
) -> list[Any]:
    """`nodes` with each MatMul of an activation by a 2-D float32 weight quantised
    dynamically, as ONNX Runtime's quantiser writes it (node and tensor names included);
    the weights to quantise are added to `weights`."""
    from onnx import TensorProto, helper

    def is_weight(name: str) -> bool:
        if name in weights:
            return True
        tensor = stored.get(name)
        return (
            tensor is not None and tensor.data_type == TensorProto.FLOAT and len(tensor.dims) == 2
        )

    quantized: set[str] = set()  # activations already given DynamicQuantizeLinear
    out: list[Any] = []
    for node in nodes:
        if node.op_type != "MatMul" or node.input[0] in stored or not is_weight(node.input[1]):
            out.append(node)
            continue
        source, name = node.input[0], node.input[1]
        weights.setdefault(name, (name, False))
        if source not in quantized:
            quantized.add(source)
            out.append(
                helper.make_node(
                    "DynamicQuantizeLinear",
                    [source],
                    [f"{source}_quantized", f"{source}_scale", f"{source}_zero_point"],
                    f"{source}_QuantizeLinear",
                )
            )
        step, product = f"{node.name}_quant", f"{node.output[0]}_output_quantized"
        zero_points = (f"{source}_zero_point", f"{name}_zero_point")
        out += [
            helper.make_node(
                "MatMulInteger",
                [f"{source}_quantized", f"{name}_quantized", *zero_points],
                [product],
                step,
            ),
            helper.make_node(
                "Cast",
                [product],
                [f"{product}_cast_output"],
                f"{product}_cast",
                to=TensorProto.FLOAT,
            ),
            helper.make_node(
                "Mul",
                [f"{source}_scale", f"{name}_scale"],
                [f"{step}_scales_mul:0"],
                f"{step}_scales_mul",
            ),
            helper.make_node(
                "Mul",
                [f"{product}_cast_output", f"{step}_scales_mul:0"],
                node.output,
                f"{step}_output_scale_mul",
            ),
        ]
    return out


def _per_channel(
    values: np.ndarray[Any, Any], *, reduce_range: bool
) -> tuple[np.ndarray[Any, Any], np.ndarray[Any, Any], np.ndarray[Any, Any]]:
    """`values` ([in, out]) quantised symmetrically per output column, as ONNX Runtime
    does (`quantize_data`, int8): the int8 matrix, its scales and zero points."""
    from onnx import TensorProto
    from onnxruntime.quantization.quant_utils import quantize_data

    columns, scales, zeros = [], [], []
    for column in range(values.shape[1]):
        zero, scale, q = quantize_data(
            values[:, column].flatten(), TensorProto.INT8, True, reduce_range=reduce_range
        )
        columns.append(np.asarray(q, dtype=np.int8))
        scales.append(scale)
        zeros.append(zero)
    return (
        np.stack(columns, axis=1),
        np.hstack(scales).astype(values.dtype),
        np.hstack(zeros).astype(np.int8),
    )


def _detached(tensor: Any) -> Any:
    import onnx

    copy = onnx.TensorProto()
    copy.CopyFrom(tensor)
    return copy


def _values(tensor: Any, base: Path) -> np.ndarray[Any, Any]:
    """A float32 weight's values, read from the export's weights file when kept there."""
    import onnx
    from onnx import numpy_helper
    from onnx.external_data_helper import ExternalDataInfo

    if tensor.data_location != onnx.TensorProto.EXTERNAL:
        return numpy_helper.to_array(tensor)
    info = ExternalDataInfo(tensor)
    raw = b"".join(_read(base / info.location, info.offset or 0, info.length))
    return np.frombuffer(raw, dtype="<f4").reshape(tuple(tensor.dims))


def _copied(tensor: Any, base: Path, data: Any, data_name: str) -> Any:
    """`tensor` as it is, its values moved from the export's weights file to `data`."""
    import onnx
    from onnx.external_data_helper import ExternalDataInfo

    if tensor.data_location != onnx.TensorProto.EXTERNAL:
        return tensor
    info = ExternalDataInfo(tensor)
    chunks = _read(base / info.location, info.offset or 0, info.length)
    return append(tensor, data, data_name, chunks)


def _placed(tensor: Any, data: Any, data_name: str) -> Any:
    """`tensor` (its values in it), kept in `data` when large."""
    if len(tensor.raw_data) < INLINE_BYTES:
        return tensor
    chunks = iter([bytes(tensor.raw_data)])
    tensor.ClearField("raw_data")
    return append(tensor, data, data_name, chunks)


def _read(path: Path, offset: int, length: int | None) -> Iterator[bytes]:
    with open(path, "rb") as source:
        source.seek(offset)
        left = length if length is not None else math.inf
        while left:
            chunk = source.read(int(min(CHUNK, left)))
            if not chunk:
                break
            left -= len(chunk)
            yield chunk
