"""The ONNX export made from the checkpoint a weight at a time (`workers.toxicity.exporting`,
`streamed_export`, `checkpoint`): the same graph's outputs as torch's export of the whole
model, for each architecture detoxify ships; a checkpoint it cannot read is exported whole."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from structlog.testing import capture_logs

from tests.model_factory import build_model_dir, restored_process_state
from workers.toxicity import modeldir
from workers.toxicity.checkpoint import Unsupported, index
from workers.toxicity.exporting import ensure_exported, export_checkpoint
from workers.toxicity.loading import load_detoxify, load_scorer
from workers.toxicity.onnx_runtime import onnx_file
from workers.toxicity.sessions import open_session
from workers.toxicity.streamed_export import skeleton

ARCHITECTURES = ["multilingual", "original", "unbiased-small"]  # XLM-R, BERT, ALBERT


@pytest.fixture(scope="module", autouse=True)
def _hub_state() -> Iterator[None]:
    with restored_process_state():
        yield


@pytest.fixture(scope="module")
def models(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("models")
    for model_type in ARCHITECTURES:
        build_model_dir(root, model_type)
    return root


def logits(path: Path, ids: np.ndarray[Any, Any], mask: np.ndarray[Any, Any]) -> Any:
    session = open_session(path, threads=1)
    return session.run(["logits"], {"input_ids": ids, "attention_mask": mask})[0]


def inputs(vocab: int) -> list[tuple[np.ndarray[Any, Any], np.ndarray[Any, Any]]]:
    rng = np.random.default_rng(7)
    found = []
    for rows, length in [(1, 5), (3, 17), (2, 64)]:
        ids = rng.integers(5, vocab, size=(rows, length)).astype(np.int64)
        mask = np.ones_like(ids)
        mask[-1, length // 2 :] = 0  # a padded row
        found.append((ids, mask))
    return found


@pytest.mark.parametrize("model_type", ARCHITECTURES)
def test_the_streamed_export_gives_the_whole_models_logits(
    models: Path, model_type: str, tmp_path: Path
) -> None:
    """Bit for bit the logits of torch's export of the loaded model, and of the same
    labels and settings in source.json."""
    manifest = modeldir.verify(models, model_type)
    for root in ("streamed", "whole"):
        (tmp_path / root).mkdir()
    streamed = export_checkpoint(
        tmp_path / "streamed", manifest.checkpoint, manifest.hf_dir, manifest.checkpoint_sha256
    )
    assert streamed is not None
    detoxify, sha256 = load_detoxify(model_type, str(models))
    whole = ensure_exported(detoxify.model, tmp_path / "whole", sha256, detoxify.class_names)
    for ids, mask in inputs(detoxify.model.config.vocab_size):
        assert np.array_equal(logits(streamed, ids, mask), logits(whole, ids, mask))
    ours, theirs = (json.loads((p.parent / "source.json").read_text()) for p in (streamed, whole))
    assert (ours["labels"], ours["config"]) == (theirs["labels"], theirs["config"])
    assert ours["checkpoint_sha256"] == theirs["checkpoint_sha256"] == sha256


def test_the_checkpoint_is_read_without_its_weights(models: Path) -> None:
    """The index holds where each tensor lies; its values, read a piece at a time, are
    torch's."""
    import torch

    path = models / "multilingual" / modeldir.CHECKPOINT
    found = index(path)
    loaded = torch.load(path, weights_only=False)
    assert (
        found.config["dataset"]["args"]["classes"] == loaded["config"]["dataset"]["args"]["classes"]
    )
    assert found.tensors.keys() == loaded["state_dict"].keys()
    for name, tensor in loaded["state_dict"].items():
        assert found.tensors[name].shape == tuple(tensor.shape)
        if tensor.is_floating_point():
            assert np.array_equal(found.array(name), tensor.numpy())


def test_the_traced_architecture_holds_no_weights(models: Path) -> None:
    """Each weight is one number seen at its shape: nothing of the model's size."""
    model = skeleton("XLMRobertaForSequenceClassification", models / "multilingual" / "hf")
    values = {float(p.flatten()[0]) for p in model.parameters()}
    assert len(values) == len(list(model.parameters()))  # none the exporter would merge
    assert all(p.untyped_storage().nbytes() == 4 for p in model.parameters())


def test_a_checkpoint_in_torchs_old_format_is_exported_whole(models: Path, tmp_path: Path) -> None:
    """torch's pickle before its zip format is not read a weight at a time: the model is
    loaded through detoxify and exported as before, and the scores are the same."""
    import torch

    root = tmp_path / "models"
    source = models / "multilingual"
    checkpoint = tmp_path / "old.ckpt"
    torch.save(
        torch.load(source / modeldir.CHECKPOINT, weights_only=False),
        checkpoint,
        _use_new_zipfile_serialization=False,
    )
    modeldir.write_layout(root, "multilingual", checkpoint=checkpoint, hf_dir=source / "hf")
    with pytest.raises(Unsupported):
        index(root / "multilingual" / modeldir.CHECKPOINT)
    with capture_logs() as logs:
        scorer = load_scorer("multilingual", str(root), threads=1, runtime="onnx", apart=False)
    assert [e["event"] for e in logs if e["event"].startswith("onnx_export")] == [
        "onnx_export_whole",
        "onnx_exported",
    ]
    reference = load_scorer("multilingual", str(models), threads=1, runtime="onnx", apart=False)
    texts = ["Très bon article, merci.", "هاد المقال زوين بزاف"]
    assert scorer.score(texts) == reference.score(texts)
    assert onnx_file(root / "multilingual").is_file()
