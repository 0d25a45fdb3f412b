"""The cascade's int8 copy made a weight at a time (`workers.toxicity.int8`): the tensors,
names and logits ONNX Runtime's `quantize_dynamic` gives, without loading the model."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from tests.model_factory import build_spread_model_dir, restored_process_state
from workers.toxicity import modeldir
from workers.toxicity.exporting import export_checkpoint
from workers.toxicity.int8 import quantize
from workers.toxicity.sessions import open_session


@pytest.fixture(scope="module", autouse=True)
def _hub_state() -> Iterator[None]:
    with restored_process_state():
        yield


@pytest.fixture(scope="module")
def export(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The export of a model whose head reads the text (its logits differ by comment)."""
    root = build_spread_model_dir(tmp_path_factory.mktemp("spread"), ["un", "deux", "trois"])
    manifest = modeldir.verify(root, "multilingual")
    path = export_checkpoint(
        manifest.directory, manifest.checkpoint, manifest.hf_dir, manifest.checkpoint_sha256
    )
    assert path is not None
    return path


def tensors(path: Path) -> dict[str, Any]:
    import onnx
    from onnx import numpy_helper

    model = onnx.load(str(path))
    return {t.name: numpy_helper.to_array(t) for t in model.graph.initializer}


@pytest.mark.parametrize("reduce_range", [False, True], ids=["8 bits", "7 bits"])
def test_the_copy_is_onnx_runtimes_dynamic_quantisation(
    export: Path, tmp_path: Path, reduce_range: bool
) -> None:
    from onnxruntime.quantization import QuantType, quantize_dynamic

    ours, theirs = tmp_path / "ours.onnx", tmp_path / "theirs.onnx"
    unchanged = quantize(export, ours, reduce_range=reduce_range)
    logging.disable(logging.WARNING)
    try:
        quantize_dynamic(
            export,
            theirs,
            per_channel=True,
            reduce_range=reduce_range,
            weight_type=QuantType.QInt8,
            op_types_to_quantize=["MatMul"],
            use_external_data_format=True,
        )
    finally:
        logging.disable(logging.NOTSET)
    mine, onnxruntimes = tensors(ours), tensors(theirs)
    assert mine.keys() == onnxruntimes.keys()
    for name, values in onnxruntimes.items():
        assert mine[name].dtype == values.dtype and np.array_equal(mine[name], values), name
    rng = np.random.default_rng(3)
    for rows, length in [(1, 4), (3, 19), (2, 70)]:
        ids = rng.integers(5, 100, size=(rows, length)).astype(np.int64)
        mask = np.ones_like(ids)
        mask[-1, length // 2 :] = 0
        feed = {"input_ids": ids, "attention_mask": mask}
        ((a,), (b,)) = (open_session(p, threads=1).run(["logits"], feed) for p in (ours, theirs))
        assert np.array_equal(a, b)
    # What it copied as it was: the fp32 weights it kept, the embedding tables among them.
    assert "model.roberta.embeddings.word_embeddings.weight" in unchanged
    assert not any(name.endswith("_quantized") for name in unchanged)
    fp32 = tensors(export)
    for name in unchanged:
        assert np.array_equal(mine[name], fp32[name])
