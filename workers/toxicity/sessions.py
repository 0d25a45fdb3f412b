"""ONNX Runtime sessions on the CPU, and what two sessions of one process can share.

The cascade (`workers.toxicity.cascade`) keeps two sessions, fp32 and int8, that run
one after the other on the same comments. Each would hold its own copy of the weights
both graphs keep in fp32 (XLM-R's embedding table: 768 MB, mapped, read where comments
use it) and its own arena of working memory, which ONNX Runtime keeps at the largest
size it grew to. Shared, they hold the embedding rows once and need the larger of the
two working memories, not the sum.

onnx and onnxruntime are imported by the functions that need them.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import numpy as np


def open_session(
    path: Path,
    threads: int,
    *,
    shared: Mapping[str, Any] | None = None,
    shared_arena: bool = False,
) -> Any:
    """An ONNX Runtime session on `path`, on the CPU, running each call on `threads` threads.
    `shared` (initializer name -> OrtValue) replaces the graph's own copies of those
    weights, so that sessions given the same values hold them once; with `shared_arena`,
    the session takes its working memory from one arena kept for the process
    (`_process_arena`) instead of an arena of its own."""
    import onnxruntime

    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.execution_mode = onnxruntime.ExecutionMode.ORT_SEQUENTIAL
    options.graph_optimization_level = onnxruntime.GraphOptimizationLevel.ORT_ENABLE_ALL
    for name, value in (shared or {}).items():
        options.add_initializer(name, value)
    if shared_arena:
        _process_arena()
        options.add_session_config_entry("session.use_env_allocators", "1")
    return onnxruntime.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


@functools.cache
def _process_arena() -> None:
    """Register, once per process, the CPU arena that sessions opened with `shared_arena`
    share: two sessions run one after the other need the larger of their working
    memories, not the sum (ONNX Runtime's arenas keep what they grew to)."""
    import onnxruntime

    memory = onnxruntime.OrtMemoryInfo(
        "Cpu", onnxruntime.OrtAllocatorType.ORT_ARENA_ALLOCATOR, 0, onnxruntime.OrtMemType.DEFAULT
    )
    onnxruntime.create_and_register_allocator(memory, onnxruntime.OrtArenaCfg(0, -1, -1, -1))


def external_weights(path: Path, min_bytes: int = 0) -> dict[str, Any]:
    """The fp32 initializers of the export `path` kept in its weights file (of at least
    `min_bytes`), each as a read-only array mapped on that file: nothing is read until
    used."""
    import onnx
    from onnx.external_data_helper import ExternalDataInfo

    found: dict[str, Any] = {}
    for tensor in onnx.load(str(path), load_external_data=False).graph.initializer:
        if (
            tensor.data_type != onnx.TensorProto.FLOAT
            or tensor.data_location != onnx.TensorProto.EXTERNAL
            or math.prod(tensor.dims) * 4 < min_bytes
        ):
            continue
        info = ExternalDataInfo(tensor)
        found[tensor.name] = np.memmap(
            path.parent / info.location,
            dtype=np.float32,
            mode="r",
            offset=info.offset or 0,
            shape=tuple(tensor.dims),
        )
    return found


def mapped_weights(path: Path, names: Iterable[str]) -> dict[str, Any]:
    """Initializers `names` of the export `path`, as OrtValues on its weights file mapped
    read-only: given to two sessions (`open_session(shared=...)`), they are held once."""
    import onnxruntime

    wanted = set(names)
    if not wanted:
        return {}
    weights = external_weights(path)
    missing = wanted - weights.keys()
    if missing:
        raise ValueError(f"{path.name} has no external fp32 weights named {sorted(missing)}")
    return {name: onnxruntime.OrtValue.ortvalue_from_numpy(weights[name]) for name in wanted}
