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
(`workers.toxicity.export_process`), which runs `ensure_exported` and exits.

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
import os
import shutil
import tempfile
import time
import warnings
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import structlog

from workers.errors import ModelUnavailable
from workers.toxicity.modeldir import sha256_file
from workers.toxicity.scorer import BATCH_SIZE, BATCH_TOKENS, STEP_TOKENS, DetoxifyScorer, ModelInfo
from workers.toxicity.sessions import open_session

log = structlog.get_logger()

ONNX_DIR = "onnx"
MODEL_FILE = "model.onnx"
DATA_FILE = "model.onnx.data"
SOURCE_FILE = "source.json"
OPSET = 17
_LOCK_FILE = ".lock"
_PARTIAL = ".partial-"  # prefix of an export in progress (or interrupted)


def onnx_file(model_root: Path) -> Path:
    """Where the export of `model_root`'s model (`<MODERATOR_MODEL_DIR>/<model_type>`) is kept."""
    return model_root / ONNX_DIR / MODEL_FILE


def ensure_exported(
    model: Any, model_root: Path, checkpoint_sha256: str | None, labels: Sequence[str] = ()
) -> Path:
    """The ONNX file of `model`, detoxify's torch model loaded from `model_root`'s checkpoint
    (`checkpoint_sha256`; None, unknown, makes any earlier export stale): exported first
    when missing or made from another checkpoint. Raises ModelUnavailable when the
    directory cannot be written or the model does not export."""
    path = onnx_file(model_root)
    if _is_current(path, checkpoint_sha256):
        return path
    try:
        path.parent.mkdir(exist_ok=True)
        with exclusive(path.parent / _LOCK_FILE):
            if not _is_current(path, checkpoint_sha256):  # or another worker just made it
                _export_into(path.parent, model, checkpoint_sha256, labels)
    except OSError as exc:
        raise ModelUnavailable(
            f"the ONNX export could not be written to {path.parent} ({type(exc).__name__}: "
            f"{exc}); MODERATOR_TOXICITY_RUNTIME=onnx exports the model there once and reuses "
            f"it: run `moderator models check --runtime onnx --model {model_root.name} "
            f"--dir {model_root.parent}` once with that directory writable, or set "
            f"MODERATOR_TOXICITY_RUNTIME=torch"
        ) from exc
    return path


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
    if not _is_current(path, checkpoint_sha256):
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


def _is_current(path: Path, checkpoint_sha256: str | None) -> bool:
    """Whether `path` and its weights are a whole, unchanged export of the checkpoint
    `checkpoint_sha256` (the files' sha256s checked where the export recorded them)."""
    if checkpoint_sha256 is None:
        return False
    try:
        source = json.loads((path.parent / SOURCE_FILE).read_text(encoding="utf-8"))
        sizes = _sizes(path.parent)
    except (OSError, ValueError):  # missing, unreadable, not JSON
        return False
    if not (
        isinstance(source, dict)
        and source.get("checkpoint_sha256") == checkpoint_sha256
        and source.get("files") == sizes
    ):
        return False
    recorded = source.get("sha256")
    return not isinstance(recorded, dict) or recorded == _sha256s(path.parent)


def _sha256s(directory: Path) -> dict[str, str]:
    return {name: sha256_file(directory / name) for name in (MODEL_FILE, DATA_FILE)}


def _sizes(directory: Path) -> dict[str, int]:
    return {name: (directory / name).stat().st_size for name in (MODEL_FILE, DATA_FILE)}


@contextmanager
def exclusive(lock: Path) -> Iterator[None]:
    """One exporter at a time; the lock goes with the process however it ends."""
    with lock.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        yield


def _export_into(
    directory: Path, model: Any, checkpoint_sha256: str | None, labels: Sequence[str]
) -> None:
    """Export `model` into `directory`, replacing what is there."""
    started = time.perf_counter()
    for leftover in directory.glob(f"{_PARTIAL}*"):  # of a worker killed while exporting
        shutil.rmtree(leftover, ignore_errors=True)
    with tempfile.TemporaryDirectory(prefix=_PARTIAL, dir=directory) as scratch:
        staged = Path(scratch)
        exported = staged / "exported.onnx"
        try:
            _export(model, exported)
        except OSError:
            raise
        except Exception as exc:  # whatever torch's exporter raises
            first_line = (str(exc).splitlines() or [""])[0][:300]  # some hold whole tensors
            raise ModelUnavailable(
                f"{model.config.model_type} did not export to ONNX ({type(exc).__name__}: "
                f"{first_line}); set MODERATOR_TOXICITY_RUNTIME=torch"
            ) from exc
        _split_weights(exported, staged / MODEL_FILE)
        exported.unlink()
        duration_ms = round((time.perf_counter() - started) * 1000)
        source = {
            **_source(checkpoint_sha256, _sizes(staged), duration_ms),
            "sha256": _sha256s(staged),
            **_shape(model, labels),
        }
        (staged / SOURCE_FILE).write_text(json.dumps(source, indent=2) + "\n", encoding="utf-8")
        # Untrusted first, source.json last: a stop in between leaves no source.json.
        (directory / SOURCE_FILE).unlink(missing_ok=True)
        for name in (DATA_FILE, MODEL_FILE, SOURCE_FILE):
            os.replace(staged / name, directory / name)
    log.info(
        "onnx_exported",
        path=str(directory / MODEL_FILE),
        checkpoint_sha256=checkpoint_sha256,
        duration_ms=duration_ms,
    )


def _source(
    checkpoint_sha256: str | None, files: dict[str, int], duration_ms: int
) -> dict[str, Any]:
    import onnx
    import onnxruntime
    import torch

    return {
        "checkpoint_sha256": checkpoint_sha256,
        "files": files,
        "torch": torch.__version__,
        "onnx": onnx.__version__,
        "onnxruntime": onnxruntime.__version__,
        "duration_ms": duration_ms,
    }


def _shape(model: Any, labels: Sequence[str]) -> dict[str, Any]:
    """What a scorer needs of the model besides its graph (`load_exported`); nothing
    when the labels are not known, so that such an export always loads the checkpoint."""
    if not labels:
        return {}
    config = model.config
    return {
        "labels": list(labels),
        "config": {
            "model_type": config.model_type,
            "max_position_embeddings": config.max_position_embeddings,
            "pad_token_id": config.pad_token_id,
            "num_labels": config.num_labels,
        },
    }


def _export(model: Any, path: Path) -> None:
    """`model`'s logits as an ONNX graph, from batches of any size and length.

    Traced on two rows, the second padded, so that the attention mask is traced as an
    input rather than as all ones; with eager attention, plain operators that export
    cleanly.
    The model's attention implementation and training flag are put back after."""
    import torch

    class Logits(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.model = model  # a submodule: its weights are exported as weights

        def forward(self, input_ids: Any, attention_mask: Any) -> Any:
            return self.model(input_ids=input_ids, attention_mask=attention_mask).logits

    ids = torch.full((2, 8), model.config.pad_token_id or 0, dtype=torch.long)
    ids[0, :], ids[1, :5] = torch.arange(5, 13), torch.arange(5, 10)
    mask = (torch.arange(8) < torch.tensor([[8], [5]])).long()
    attention, training = model.config._attn_implementation, model.training
    model.set_attn_implementation("eager")
    model.eval()
    try:
        with _quiet():
            torch.onnx.export(
                # In eval mode: the exporter puts back the flag of the module it is given,
                # and with it its submodules', the model's included.
                Logits().eval(),
                (ids, mask),
                str(path),
                dynamo=False,
                opset_version=OPSET,
                input_names=["input_ids", "attention_mask"],
                output_names=["logits"],
                dynamic_axes={
                    "input_ids": {0: "batch", 1: "sequence"},
                    "attention_mask": {0: "batch", 1: "sequence"},
                    "logits": {0: "batch"},
                },
            )
    finally:
        model.set_attn_implementation(attention)
        model.train(training)


def _split_weights(exported: Path, path: Path) -> None:
    """The graph of `exported` in `path`, its weights beside it in DATA_FILE."""
    import onnx

    model = onnx.load(str(exported))
    onnx.save_model(model, str(path), save_as_external_data=True, location=DATA_FILE)
    shutil.copymode(path, path.parent / DATA_FILE)  # onnx makes it readable by its owner only


@contextmanager
def _quiet() -> Iterator[None]:
    """Without the exporter's warnings (deprecation, tracing, opset notes: about code
    paths the tests check), which would land in a worker's log."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield
