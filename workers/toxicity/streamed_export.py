"""The ONNX export made from the checkpoint a weight at a time.

torch's exporter traces a model that holds its weights, and writes them all into one
protobuf: made that way, the full-size `multilingual` model's export held the
checkpoint, the model and the exporter's copy at once (4.7 GB for a 1.06 GB model).
Here the graph and the weights are made apart:

1. the model's architecture (its transformers class and hf/config.json) is built with
   every weight a single number seen at the weight's shape, and traced with the
   weights as inputs of the graph: a graph of a few megabytes, the model's own;
2. each weight is copied from the checkpoint (`workers.toxicity.checkpoint`) into the
   export's weights file a piece at a time, and the graph's weight inputs become its
   initializers, kept in that file;
3. torch's exporter folds what only depends on weights (a weight transposed for
   MatMul) when it holds the values; here, the values are not there, so those
   transposes are done while copying (one weight matrix at a time, 9 MB at most on
   XLM-R base), and the graph reads the transposed weight as torch's export did.

Each weight traced is a different number, so the exporter's pass that merges equal
weights merges none. The weights are the checkpoint's own, by the names transformers
would load them under (its base model's prefix added or taken off, the old
`gamma`/`beta` of layer norms); a checkpoint whose weights cannot all be found so, or
that is not of torch's zip layout, raises `checkpoint.Unsupported`, and the model is
exported through detoxify, whole, as before.

torch, transformers and onnx are imported by the functions that need them.
"""

from __future__ import annotations

import math
import shutil
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Final

import numpy as np

from workers.toxicity.checkpoint import Index, Unsupported, index
from workers.toxicity.tracing import trace
from workers.toxicity.weights_file import INLINE_BYTES, append

# detoxify's own renames of the training sets' label names (detoxify.load_checkpoint).
_LABEL_NAMES: Final = {
    "toxic": "toxicity",
    "identity_hate": "identity_attack",
    "severe_toxic": "severe_toxicity",
}
_OLD_NAMES: Final = (("gamma", "weight"), ("beta", "bias"))


def labels_of(found: Index) -> list[str]:
    """The checkpoint's label names, as detoxify names them."""
    try:
        classes = found.config["dataset"]["args"]["classes"]
    except (KeyError, TypeError) as exc:
        raise Unsupported("the checkpoint's config names no classes") from exc
    return [_LABEL_NAMES.get(str(name), str(name)) for name in classes]


def export_graph_and_weights(
    checkpoint: Path, hf_dir: Path, model_file: Path, data_file: str
) -> tuple[Any, list[str]]:
    """Export the detoxify checkpoint `checkpoint` (its model's config in `hf_dir`) as
    `model_file`, its weights in `data_file` beside it; returns the model's config and
    its labels. Raises Unsupported when the checkpoint cannot be read so."""
    found = index(checkpoint)
    labels = labels_of(found)
    try:
        model_name = str(found.config["arch"]["args"]["model_name"])
    except (KeyError, TypeError) as exc:
        raise Unsupported("the checkpoint's config names no model class") from exc
    model = skeleton(model_name, hf_dir)
    sources = _sources(model, found.tensors.keys())
    graph = model_file.with_name(model_file.name + ".graph")
    trace(model, graph, weights=False)
    config = model.config
    del model
    attach_weights(
        graph, model_file, data_file, found, {f"model.{k}": v for k, v in sources.items()}
    )
    graph.unlink()
    return config, labels


def skeleton(model_name: str, hf_dir: Path) -> Any:
    """transformers' `model_name` on hf/config.json, in eval mode, each weight one number
    (the i-th weight is i + 1) seen at its shape: nothing of the size of the model is
    allocated. Buffers (position ids) are the class's own."""
    import torch
    import transformers

    model_class = getattr(transformers, model_name, None)
    if model_class is None or not hasattr(model_class, "config_class"):
        raise Unsupported(f"transformers has no model class {model_name!r}")
    config = model_class.config_class.from_pretrained(str(hf_dir), local_files_only=True)
    with _weights_on_meta():
        model = model_class(config)
    for number, (name, weight) in enumerate(list(model.named_parameters()), start=1):
        owner, _, attribute = name.rpartition(".")
        module = model.get_submodule(owner)
        value = torch.tensor(float(number), dtype=torch.float32).expand(weight.shape)
        module._parameters[attribute] = torch.nn.Parameter(value, requires_grad=False)
    return model.eval()


@contextmanager
def _weights_on_meta() -> Iterator[None]:
    """Weights registered while it lasts are put on torch's meta device (shapes, no
    values); buffers are not."""
    import torch

    register = torch.nn.Module.register_parameter

    def on_meta(module: Any, name: str, param: Any) -> None:
        if param is not None:
            param = torch.nn.Parameter(param.to("meta"), requires_grad=False)
        register(module, name, param)

    torch.nn.Module.register_parameter = on_meta  # type: ignore[method-assign,assignment]
    try:
        yield
    finally:
        torch.nn.Module.register_parameter = register  # type: ignore[method-assign]


def _sources(model: Any, stored: Any) -> dict[str, str]:
    """For each of `model`'s weights, the checkpoint tensor transformers would load it from."""
    stored = set(stored)
    prefix = f"{model.base_model_prefix}."
    found: dict[str, str] = {}
    for name, _ in model.named_parameters():
        candidates = [name, name.removeprefix(prefix), prefix + name]
        for old, new in _OLD_NAMES:
            if name.endswith("." + new):
                candidates += [c.removesuffix(new) + old for c in candidates]
        match = next((c for c in candidates if c in stored), None)
        if match is None:
            raise Unsupported(f"the checkpoint has no weight for {name}")
        found[name] = match
    return found


def attach_weights(
    graph_file: Path,
    model_file: Path,
    data_file: str,
    found: Index,
    sources: Mapping[str, str],
) -> None:
    """`graph_file`, traced with its weights as inputs (`sources`: input name ->
    checkpoint tensor), saved as `model_file` with those weights as initializers, kept in
    `data_file` beside it. A weight the graph only transposes (or passes through
    Identity) is stored as the operator's output, which the graph then reads."""
    import onnx

    model = onnx.load(str(graph_file))
    graph = model.graph
    weights = {i.name for i in graph.input if i.name in sources}
    shapes = {i.name: tuple(d.dim_value for d in i.type.tensor_type.shape.dim) for i in graph.input}
    # (initializer name, checkpoint tensor, permutation or None, shape)
    planned: list[tuple[str, str, Sequence[int] | None, tuple[int, ...]]] = []
    folded: list[Any] = []
    readers: dict[str, int] = {}
    for node in graph.node:
        for name in node.input:
            readers[name] = readers.get(name, 0) + 1
    for node in graph.node:
        if node.op_type not in ("Transpose", "Identity") or node.input[0] not in weights:
            continue
        source, shape = sources[node.input[0]], shapes[node.input[0]]
        perm: Sequence[int] | None = None
        if node.op_type == "Transpose":
            perm = next((list(a.ints) for a in node.attribute if a.name == "perm"), None)
            perm = perm or list(reversed(range(len(shape))))
            shape = tuple(shape[axis] for axis in perm)
        planned.append((node.output[0], source, perm, shape))
        folded.append(node)
        readers[node.input[0]] -= 1
    for name in sorted(weights):
        if readers.get(name, 0):
            planned.append((name, sources[name], None, shapes[name]))
    for node in folded:
        graph.node.remove(node)
    kept = [i for i in graph.input if i.name not in weights]
    del graph.input[:]
    graph.input.extend(kept)
    with open(model_file.with_name(data_file), "wb") as data:
        for name, source, perm, shape in planned:
            graph.initializer.append(_write(data, data_file, name, found, source, perm, shape))
    onnx.save_model(model, str(model_file))
    shutil.copymode(model_file, model_file.with_name(data_file))


def _write(
    data: Any,
    data_file: str,
    name: str,
    found: Index,
    source: str,
    perm: Sequence[int] | None,
    shape: tuple[int, ...],
) -> Any:
    """The initializer `name`: checkpoint tensor `source` (transposed by `perm`), of
    `shape`, in the graph when small, else appended to `data` at a page boundary."""
    import onnx

    stored = found.tensors[source]
    expected = shape if perm is None else tuple(shape[perm.index(a)] for a in range(len(shape)))
    if stored.shape != expected:
        raise Unsupported(f"{source} is {stored.shape} in the checkpoint, {expected} in the model")
    tensor = onnx.TensorProto(name=name, data_type=onnx.TensorProto.FLOAT, dims=shape)
    size = math.prod(shape) * 4
    if perm is not None or size < INLINE_BYTES:
        values = found.array(source)
        raw = np.ascontiguousarray(values.transpose(perm) if perm is not None else values)
        if size < INLINE_BYTES:
            tensor.raw_data = raw.tobytes()
            return tensor
        chunks: Any = [raw.tobytes()]
    else:
        chunks = found.chunks(source)
    return append(tensor, data, data_file, chunks)
