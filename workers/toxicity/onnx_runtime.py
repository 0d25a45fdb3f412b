"""The toxicity model run by ONNX Runtime (`MODERATOR_TOXICITY_RUNTIME=onnx`).

detoxify's transformers model is exported to ONNX once and kept in the model
directory, beside the checkpoint it was made from:

```
<MODERATOR_MODEL_DIR>/<model_type>/onnx/
  model.onnx        the graph
  model.onnx.data   its fp32 weights, which ONNX Runtime maps rather than reads
  source.json       {"checkpoint_sha256", "files": {name: bytes}, "sha256": {name: hex},
                    "labels", "config" (what the scorer needs of the model), versions,
                    "duration_ms"}
  .lock             taken by the worker exporting
```

A later start reuses it when source.json names the same checkpoint and both files have
the sizes and sha256s recorded; otherwise (another checkpoint, a missing, short or
changed file) it is exported again. Such a start (`load_exported`) never reads the
torch checkpoint: the tokenizer comes from hf/, the labels and the model's settings
from source.json, so the worker holds one copy of the weights, ONNX Runtime's.
Files are written under temporary names in onnx/ and renamed into
place, source.json last, so a worker killed midway leaves nothing a later start would
trust. Workers sharing the directory take turns through a lock file: the first
exports, the others find the export made. A worker exports in a process of its own
(`workers.toxicity.export_process`); `workers.toxicity.exporting` makes the files.

Mapped weights cost memory only where read: most of XLM-R's 250,000-word embedding
table never is, and the session opens without a second copy of the weights. When it
opens, ONNX Runtime fuses GELU and layer norms itself; its offline transformer
optimizer, which also fuses attention, added no speed on the full-size model for
a longer first start and much more memory, and is not used.

`OnnxScorer` is `DetoxifyScorer` with its forward pass in ONNX Runtime: the same
windows, batches and highest score per label, in fp32 (`moderator bench scoring
--runtime onnx` measures its speed and its agreement with torch). It keeps the
tokenizer and the model's settings, not the torch model.

torch, onnx and onnxruntime are imported by the functions that need them.
"""

from __future__ import annotations

import fcntl
import gc
import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np

from workers.toxicity.modeldir import sha256_file
from workers.toxicity.scorer import BATCH_SIZE, BATCH_TOKENS, STEP_TOKENS, DetoxifyScorer, ModelInfo
from workers.toxicity.sessions import open_session

ONNX_DIR = "onnx"
MODEL_FILE = "model.onnx"
DATA_FILE = "model.onnx.data"
SOURCE_FILE = "source.json"
LOCK_FILE = ".lock"


def onnx_file(model_root: Path) -> Path:
    """Where the export of `model_root`'s model (`<MODERATOR_MODEL_DIR>/<model_type>`) is kept."""
    return model_root / ONNX_DIR / MODEL_FILE


class OnnxScorer(DetoxifyScorer):
    """A `ToxicityScorer` running `path`, the export of `detoxify.model` (`ensure_exported`).

    `detoxify` is taken apart: the scorer keeps its labels, tokenizer and the model's
    settings, and sets `detoxify.model` to None so that the torch model is freed before
    the session opens (a caller must not hold it either): the two never share memory.
    """

    def __init__(
        self,
        detoxify: Any,
        info: ModelInfo,
        path: Path,
        *,
        threads: int,
        batch_size: int = BATCH_SIZE,
        batch_tokens: int = BATCH_TOKENS,
        step_tokens: int = STEP_TOKENS,
    ) -> None:
        super().__init__(
            detoxify,
            info,
            batch_size=batch_size,
            batch_tokens=batch_tokens,
            step_tokens=step_tokens,
        )
        self._model = None
        detoxify.model = None
        gc.collect()
        self._session = self._open(path, threads)

    def _open(self, path: Path, threads: int) -> Any:
        """The session on the export (the cascade shares weights and memory with its
        int8 copy's)."""
        return open_session(path, threads)

    def _probabilities(self, windows: list[list[int]]) -> list[list[float]]:
        ids = np.full((len(windows), max(map(len, windows))), self._pad_id, dtype=np.int64)
        mask = np.zeros_like(ids)
        for row, window in enumerate(windows):
            ids[row, : len(window)] = window
            mask[row, : len(window)] = 1
        (logits,) = self._session.run(["logits"], {"input_ids": ids, "attention_mask": mask})
        # The sigmoid of DetoxifyScorer, as 1 / (1 + e^-x) written not to overflow.
        head = np.asarray(logits[:, : len(self.labels)], dtype=np.float64)
        probabilities: list[list[float]] = np.exp(-np.logaddexp(0.0, -head)).tolist()
        return probabilities


def load_exported(
    model_root: Path,
    checkpoint_sha256: str | None,
    info: ModelInfo,
    *,
    threads: int,
    make: Callable[[Any, ModelInfo, Path, int], Any] | None = None,
) -> Any:
    """A scorer on the current export of the checkpoint `checkpoint_sha256`, without the
    torch checkpoint (nor torch's model code); None when there is no such export (or it
    was made before exports recorded what this needs): the caller loads the checkpoint."""
    path = onnx_file(model_root)
    if not is_current(path, checkpoint_sha256):
        return None
    source = json.loads((path.parent / SOURCE_FILE).read_text(encoding="utf-8"))
    if not {"labels", "config", "sha256"} <= source.keys():
        return None
    tokenizer = _tokenizer(model_root / "hf")
    shape = _ModelShape(SimpleNamespace(**source["config"]))
    detoxify = SimpleNamespace(class_names=source["labels"], model=shape, tokenizer=tokenizer)
    if make is not None:  # another scorer on the export (the cascade)
        return make(detoxify, info, path, threads)
    return OnnxScorer(detoxify, info, path, threads=threads)


def _tokenizer(hf_dir: Path) -> Any:
    """The model's tokenizer, from `hf_dir`. Read as the fast tokenizer its tokenizer.json
    describes (what `moderator models import` saves), which gives the same token ids as
    transformers' AutoTokenizer and does not import torch: importing torch, as
    AutoTokenizer does through transformers' model configurations, adds about 260 MB to
    a worker that never runs it (a quarter of the full-size model)."""
    if (hf_dir / "tokenizer.json").is_file():
        from transformers import PreTrainedTokenizerFast

        return PreTrainedTokenizerFast.from_pretrained(str(hf_dir), local_files_only=True)
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(str(hf_dir), local_files_only=True)


class _ModelShape:
    """What the scorer reads of a model it does not run: its settings."""

    def __init__(self, config: SimpleNamespace) -> None:
        self.config = config

    def eval(self) -> None:
        pass


def is_current(path: Path, checkpoint_sha256: str | None) -> bool:
    """Whether `path` and its weights are a whole, unchanged export of the checkpoint
    `checkpoint_sha256` (the files' sha256s checked where the export recorded them)."""
    if checkpoint_sha256 is None:
        return False
    try:
        source = json.loads((path.parent / SOURCE_FILE).read_text(encoding="utf-8"))
        sizes = file_sizes(path.parent)
    except (OSError, ValueError):  # missing, unreadable, not JSON
        return False
    if not (
        isinstance(source, dict)
        and source.get("checkpoint_sha256") == checkpoint_sha256
        and source.get("files") == sizes
    ):
        return False
    recorded = source.get("sha256")
    return not isinstance(recorded, dict) or recorded == file_sha256s(path.parent)


def file_sha256s(directory: Path) -> dict[str, str]:
    return {name: sha256_file(directory / name) for name in (MODEL_FILE, DATA_FILE)}


def file_sizes(directory: Path) -> dict[str, int]:
    return {name: (directory / name).stat().st_size for name in (MODEL_FILE, DATA_FILE)}


@contextmanager
def exclusive(lock: Path) -> Iterator[None]:
    """One exporter at a time; the lock goes with the process however it ends."""
    with lock.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        yield
