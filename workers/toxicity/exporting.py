"""Making the ONNX export a worker on `onnx` or `cascade` runs (`workers.toxicity.onnx_runtime`).

Two ways, one layout (`onnx_runtime`'s docstring):

- `export_checkpoint`, from the checkpoint itself (`workers.toxicity.streamed_export`):
  the graph is traced on the architecture without its weights, which are copied from
  the checkpoint a piece at a time. It holds about half a gigabyte whatever the model's
  size (0.5 GB for the full-size `multilingual` model of 1.06 GB, measured);
- `ensure_exported`, from detoxify's torch model loaded whole: for a checkpoint the first
  way cannot read (`checkpoint.Unsupported`), and for the tests' models given as such.
  torch's exporter then holds the weights several times over (4.7 GB at its peak).

Either way the files are made under a temporary directory in onnx/ and renamed into
place, source.json last, under the directory's lock (`onnx_runtime.exclusive`), so a
process killed midway leaves nothing a later start would trust, and workers sharing
the directory export once.

torch, onnx and onnxruntime are imported by the functions that need them.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Final

import structlog

from workers.errors import ModelUnavailable
from workers.toxicity.checkpoint import Unsupported
from workers.toxicity.onnx_runtime import (
    DATA_FILE,
    LOCK_FILE,
    MODEL_FILE,
    SOURCE_FILE,
    exclusive,
    file_sha256s,
    file_sizes,
    is_current,
    onnx_file,
)
from workers.toxicity.tracing import trace

log = structlog.get_logger()

_PARTIAL: Final = ".partial-"  # prefix of an export in progress (or interrupted)

# Writes MODEL_FILE and DATA_FILE into the directory it is given; returns the model's
# config and labels, for source.json.
Writer = Callable[[Path], tuple[Any, Sequence[str]]]


def export_checkpoint(
    model_root: Path, checkpoint: Path, hf_dir: Path, checkpoint_sha256: str
) -> Path | None:
    """The ONNX file of the checkpoint `checkpoint` (`checkpoint_sha256`, its model's
    config in `hf_dir`), exported a weight at a time when missing or made from another
    checkpoint; None when the checkpoint is not of a layout that can be read so (the
    caller exports detoxify's model, `ensure_exported`). Raises ModelUnavailable as
    `ensure_exported` does."""
    from workers.toxicity.streamed_export import export_graph_and_weights

    def write(staged: Path) -> tuple[Any, Sequence[str]]:
        return export_graph_and_weights(checkpoint, hf_dir, staged / MODEL_FILE, DATA_FILE)

    try:
        return _ensure(model_root, checkpoint_sha256, write, model_root.name)
    except Unsupported as exc:
        log.info("onnx_export_whole", reason=str(exc))
        return None


def ensure_exported(
    model: Any, model_root: Path, checkpoint_sha256: str | None, labels: Sequence[str] = ()
) -> Path:
    """The ONNX file of `model`, detoxify's torch model loaded from `model_root`'s checkpoint
    (`checkpoint_sha256`; None, unknown, makes any earlier export stale): exported first
    when missing or made from another checkpoint. Raises ModelUnavailable when the
    directory cannot be written or the model does not export."""

    def write(staged: Path) -> tuple[Any, Sequence[str]]:
        exported = staged / "exported.onnx"
        trace(model, exported)
        _split_weights(exported, staged / MODEL_FILE)
        exported.unlink()
        return model.config, labels

    name = getattr(getattr(model, "config", None), "model_type", model_root.name)
    return _ensure(model_root, checkpoint_sha256, write, name)


def _ensure(
    model_root: Path, checkpoint_sha256: str | None, write: Writer, model_name: str
) -> Path:
    path = onnx_file(model_root)
    if is_current(path, checkpoint_sha256):
        return path
    try:
        path.parent.mkdir(exist_ok=True)
        with exclusive(path.parent / LOCK_FILE):
            if not is_current(path, checkpoint_sha256):  # or another worker just made it
                _export_into(path.parent, write, checkpoint_sha256, model_name)
    except OSError as exc:
        raise ModelUnavailable(
            f"the ONNX export could not be written to {path.parent} ({type(exc).__name__}: "
            f"{exc}); MODERATOR_TOXICITY_RUNTIME=onnx exports the model there once and reuses "
            f"it: run `moderator models check --runtime onnx --model {model_root.name} "
            f"--dir {model_root.parent}` once with that directory writable, or set "
            f"MODERATOR_TOXICITY_RUNTIME=torch"
        ) from exc
    return path


def _export_into(
    directory: Path, write: Writer, checkpoint_sha256: str | None, model_name: str
) -> None:
    """Export into `directory` with `write`, replacing what is there."""
    started = time.perf_counter()
    for leftover in directory.glob(f"{_PARTIAL}*"):  # of a worker killed while exporting
        shutil.rmtree(leftover, ignore_errors=True)
    with tempfile.TemporaryDirectory(prefix=_PARTIAL, dir=directory) as scratch:
        staged = Path(scratch)
        try:
            config, labels = write(staged)
        except (OSError, Unsupported):
            raise
        except Exception as exc:  # whatever torch's exporter raises
            first_line = (str(exc).splitlines() or [""])[0][:300]  # some hold whole tensors
            raise ModelUnavailable(
                f"{model_name} did not export to ONNX ({type(exc).__name__}: "
                f"{first_line}); set MODERATOR_TOXICITY_RUNTIME=torch"
            ) from exc
        duration_ms = round((time.perf_counter() - started) * 1000)
        source = {
            **_source(checkpoint_sha256, file_sizes(staged), duration_ms),
            "sha256": file_sha256s(staged),
            **_shape(config, labels),
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


def _shape(config: Any, labels: Sequence[str]) -> dict[str, Any]:
    """What a scorer needs of the model besides its graph (`load_exported`); nothing
    when the labels are not known, so that such an export always loads the checkpoint."""
    if not labels:
        return {}
    return {
        "labels": list(labels),
        "config": {
            "model_type": config.model_type,
            "max_position_embeddings": config.max_position_embeddings,
            "pad_token_id": config.pad_token_id,
            "num_labels": config.num_labels,
        },
    }


def _split_weights(exported: Path, path: Path) -> None:
    """The graph of `exported` in `path`, its weights beside it in DATA_FILE."""
    import onnx

    model = onnx.load(str(exported))
    onnx.save_model(model, str(path), save_as_external_data=True, location=DATA_FILE)
    shutil.copymode(path, path.parent / DATA_FILE)  # onnx makes it readable by its owner only
