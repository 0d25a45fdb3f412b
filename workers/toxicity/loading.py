"""Loading the toxicity model: detoxify, once per process, from a model directory or by download.

With a model directory (`MODERATOR_MODEL_DIR`, see `workers.toxicity.modeldir`) every
file is checked against the manifest before the checkpoint, a pickle, is unpickled,
and the model loads through detoxify's own constructor with the Hugging Face hub
switched off. Without one, detoxify downloads its weights as usual. `load_scorer`
wraps the model in the scorer the runtime asks for: `DetoxifyScorer` (torch, in the
chosen precision) or `OnnxScorer` (ONNX Runtime on its export).

Importing this module is cheap: torch, transformers, detoxify and ONNX Runtime are
imported by the functions that need them.
"""

from __future__ import annotations

import os
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import structlog

from moderator.settings import DEFAULT_THRESHOLDS
from workers.errors import ModelUnavailable
from workers.toxicity import modeldir
from workers.toxicity.export_runner import export_apart
from workers.toxicity.scorer import PRECISIONS, DetoxifyScorer, ModelInfo

log = structlog.get_logger()

# What runs the model: torch; ONNX Runtime on its export; or the cascade, int8 first and
# fp32 where int8 could change a decision (`workers.toxicity.cascade`); `auto`, ONNX
# Runtime where it can be had, torch elsewhere (`_auto`).
RUNTIMES = ("auto", "torch", "onnx", "cascade")
_EXPORTED = ("onnx", "cascade")


def load_scorer(
    model_type: str,
    model_dir: str | None,
    *,
    threads: int | None = None,
    precision: str = "fp32",
    runtime: str = "torch",
    thresholds: Mapping[str, float] | None = None,
    apart: bool = True,
) -> DetoxifyScorer:
    """Load detoxify's `model_type`: from `model_dir` (offline) or by download, in
    `precision` ("fp32", "bf16" or "int8", see `workers.toxicity.scorer`), and set torch's
    threads (default: the CPUs this process may use). Once per process.
    `runtime` "onnx" runs the model in ONNX Runtime on as many threads, in fp32, from an
    export kept in `model_dir` and made at the first start (`workers.toxicity.onnx_runtime`);
    "cascade" also makes an int8 copy and its margins there, and re-scores in fp32 what
    is near `thresholds` (DEFAULT_THRESHOLDS unless given). A missing export is made
    in a process of its own (`workers.toxicity.export_process`) unless `apart` is False
    (that process itself), and the scorer then starts from it.
    Raises ModelUnavailable, saying how to provide weights, when nothing loads."""
    if precision not in PRECISIONS:
        raise ValueError(f"precision must be one of {PRECISIONS}, not {precision!r}")
    if runtime not in RUNTIMES:
        raise ValueError(f"runtime must be one of {RUNTIMES}, not {runtime!r}")
    if runtime in _EXPORTED and precision != "fp32":
        raise ValueError(f"the {runtime} runtime runs the model in fp32, not {precision}")
    if runtime in _EXPORTED and model_dir is None:
        name = "the ONNX runtime" if runtime == "onnx" else "the cascade"
        raise ModelUnavailable(
            f"{name} (MODERATOR_TOXICITY_RUNTIME={runtime}) needs MODERATOR_MODEL_DIR, "
            f"a local model directory, where the export is kept; {modeldir.how_to(model_type)}"
        )
    threads = _thread_count(threads)
    started = time.perf_counter()
    asked = runtime
    if runtime == "auto":
        runtime = _auto(model_type, model_dir, precision)
    make = _maker(runtime, thresholds or DEFAULT_THRESHOLDS)
    scorer: DetoxifyScorer | None = None
    if runtime in _EXPORTED and model_dir is not None:
        scorer, runtime = _start_from_export(
            model_type, Path(model_dir), runtime, threads, make, apart=apart, auto=asked == "auto"
        )
    if scorer is None and runtime in _EXPORTED and model_dir is not None:
        scorer = _export_streamed(model_type, Path(model_dir), threads, make)
    from_export = scorer is not None
    if scorer is None:
        detoxify, sha256 = load_detoxify(model_type, model_dir)
        import torch

        torch.set_num_threads(threads)
        info = ModelInfo(f"detoxify/{model_type}", sha256)
        if runtime in _EXPORTED and model_dir is not None:
            from workers.toxicity.exporting import ensure_exported

            model_root = Path(model_dir) / model_type
            labels = detoxify.class_names
            path = ensure_exported(detoxify.model, model_root, sha256, labels)
            # Takes the torch model out of `detoxify`, freed before ONNX Runtime loads.
            scorer = make(detoxify, info, path, threads)
        else:
            scorer = DetoxifyScorer(detoxify, info, precision=precision)
    log.info(
        "toxicity_model_loaded",
        model=scorer.info.name,
        checkpoint_sha256=scorer.info.checkpoint_sha256,
        from_export=from_export,
        offline=model_dir is not None,
        window=scorer.window,
        runtime=runtime,
        runtime_setting=asked,
        precision=precision,
        threads=threads,
        duration_ms=round((time.perf_counter() - started) * 1000),
    )
    return scorer


def runtime_of(scorer: DetoxifyScorer) -> str:
    """What runs `scorer`'s model: `cascade`, `onnx` or `torch` (what `auto` became)."""
    from workers.toxicity.cascade import CascadeScorer
    from workers.toxicity.onnx_runtime import OnnxScorer

    if isinstance(scorer, CascadeScorer):
        return "cascade"
    return "onnx" if isinstance(scorer, OnnxScorer) else "torch"


def _start_from_export(
    model_type: str,
    model_dir: Path,
    runtime: str,
    threads: int,
    make: Maker,
    *,
    apart: bool,
    auto: bool,
) -> tuple[DetoxifyScorer | None, str]:
    """The scorer on the export (made first, in a process of its own, when missing),
    and the runtime it runs; None when the checkpoint must be loaded here. Under `auto`,
    an export that cannot be made means torch, with a warning."""
    scorer = None
    # A cascade whose int8 copy must be made (first start, another processor family, an
    # older layout) makes it in a process of its own too: measuring its band opens both
    # sessions and runs windows of every length, memory the worker would keep.
    if not (apart and runtime == "cascade" and not _cascade_ready(model_dir / model_type)):
        scorer = _from_export(model_type, model_dir, threads, make)
    if scorer is not None or not apart or model_type not in modeldir.MODEL_TYPES:
        return scorer, runtime
    try:
        export_apart(model_type, model_dir, runtime=runtime, threads=threads)
    except ModelUnavailable as exc:
        if not auto:
            raise
        log.warning("onnx_unavailable", reason=str(exc), runtime="torch")
        return None, "torch"
    return _from_export(model_type, model_dir, threads, make), runtime


def _cascade_ready(model_root: Path) -> bool:
    from workers.toxicity.cascade import ready

    return ready(model_root / "onnx")


def _auto(model_type: str, model_dir: str | None, precision: str) -> str:
    """The runtime `auto` means here: the cascade, the fastest path measured whose
    decisions are the model's own in fp32 (README, Performance), where the model
    directory holds its export and int8 copy or can take them; ONNX Runtime in fp32
    where it holds the export alone and cannot take the copy (read-only, prepared with
    `moderator models check --runtime onnx`); torch otherwise (a download, another
    precision, a read-only directory without an export)."""
    if model_dir is None or precision != "fp32" or model_type not in modeldir.MODEL_TYPES:
        return "torch"
    root = Path(model_dir) / model_type
    export = root / "onnx"
    if os.access(export if export.is_dir() else root, os.W_OK) or _cascade_ready(root):
        return "cascade"
    if (export / "source.json").is_file():
        return "onnx"
    return "torch"


Maker = Callable[[Any, ModelInfo, Path, int], DetoxifyScorer]


def _maker(runtime: str, thresholds: Mapping[str, float]) -> Maker:
    """How a scorer is made on the export: ONNX Runtime fp32, or the cascade."""

    def make(detoxify: Any, info: ModelInfo, path: Path, threads: int) -> DetoxifyScorer:
        if runtime == "cascade":
            from workers.toxicity.cascade import CascadeScorer

            return CascadeScorer(detoxify, info, path, threads=threads, thresholds=thresholds)
        from workers.toxicity.onnx_runtime import OnnxScorer

        return OnnxScorer(detoxify, info, path, threads=threads)

    return make


def _from_export(
    model_type: str, model_dir: Path, threads: int, make: Maker
) -> DetoxifyScorer | None:
    """The scorer on the ONNX export, when one of this checkpoint is there: the manifest
    and hf/ are checked, the export's files against their sha256s, and the checkpoint is
    never read (its sha256 is the manifest's)."""
    from workers.toxicity import onnx_runtime

    if model_type not in modeldir.MODEL_TYPES:
        return None
    manifest = modeldir.verify(model_dir, model_type, checkpoint=False)
    sha256 = manifest.checkpoint_sha256
    info = ModelInfo(f"detoxify/{model_type}", sha256)
    scorer: DetoxifyScorer | None = onnx_runtime.load_exported(
        manifest.directory, sha256, info, threads=threads, make=make
    )
    return scorer


def _export_streamed(
    model_type: str, model_dir: Path, threads: int, make: Maker
) -> DetoxifyScorer | None:
    """The scorer on an export made from the checkpoint a weight at a time
    (`exporting.export_checkpoint`), the checkpoint checked against the manifest first;
    None when the checkpoint cannot be read so (detoxify then loads it whole)."""
    from workers.toxicity.exporting import export_checkpoint

    if model_type not in modeldir.MODEL_TYPES:
        return None
    manifest = modeldir.verify(model_dir, model_type)
    path = export_checkpoint(
        manifest.directory, manifest.checkpoint, manifest.hf_dir, manifest.checkpoint_sha256
    )
    return None if path is None else _from_export(model_type, model_dir, threads, make)


def load_detoxify(model_type: str, model_dir: str | None) -> tuple[Any, str | None]:
    """detoxify's own `Detoxify` object for `model_type`, fp32, and its checkpoint's
    sha256: loaded from `model_dir` (verified, offline) or by download."""
    if model_type not in modeldir.MODEL_TYPES:
        raise ModelUnavailable(
            f"unknown toxicity model {model_type!r}, expected one of {modeldir.MODEL_TYPES}"
        )
    if model_dir is None:
        return _download(model_type)
    manifest = modeldir.verify(Path(model_dir), model_type)
    return _load_offline(manifest), manifest.checkpoint_sha256


def _load_offline(manifest: modeldir.Manifest) -> Any:
    with tempfile.TemporaryDirectory(prefix="moderator-hf-") as scratch:
        hf_home = Path(scratch)
        modeldir.prepare_hub_cache(manifest, hf_home / "hub")
        with _hub_offline(hf_home):
            try:
                from detoxify import Detoxify

                _quiet_transformers()
                return Detoxify(
                    model_type=manifest.model_type,
                    checkpoint=str(manifest.checkpoint),
                    huggingface_config_path=str(manifest.hf_dir),
                    device="cpu",
                )
            except Exception as exc:  # whatever detoxify or transformers raise
                raise ModelUnavailable(
                    f"{manifest.directory} did not load ({type(exc).__name__}: {exc}); "
                    f"hf/ must hold {manifest.base_model}'s tokenizer files and config.json "
                    f"with num_labels equal to the checkpoint's num_classes: "
                    f"`moderator models import --checkpoint FILE --hf DIR` writes them so"
                ) from exc


@contextmanager
def _hub_offline(hf_home: Path) -> Iterator[None]:
    """The Hugging Face hub switched off, its cache in `hf_home`, while loading.

    huggingface_hub reads these variables when it is first imported, so they are set
    before the import; were it imported earlier, its constants are set as well. The
    process stays offline afterwards (HF_HUB_OFFLINE remains set): a worker given a
    model directory never talks to the hub. HF_HOME and HF_HUB_CACHE are put back.
    """
    os.environ["HF_HUB_OFFLINE"] = "1"
    os.environ["TRANSFORMERS_OFFLINE"] = "1"
    scoped = {"HF_HOME": str(hf_home), "HF_HUB_CACHE": str(hf_home / "hub")}
    saved = {name: os.environ.get(name) for name in scoped}
    os.environ.update(scoped)
    from huggingface_hub import constants

    saved_constants = {name: getattr(constants, name) for name in scoped}
    for name, value in scoped.items():
        setattr(constants, name, value)
    constants.HF_HUB_OFFLINE = True
    try:
        yield
    finally:
        for name, value in saved_constants.items():
            setattr(constants, name, value)
        for name, previous in saved.items():
            if previous is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = previous


def _download(model_type: str) -> tuple[Any, str | None]:
    try:
        from detoxify import Detoxify

        _quiet_transformers()
        detoxify = Detoxify(model_type=model_type, device="cpu")
    except Exception as exc:  # no network, no disk space, a proxy...: say what to do
        raise ModelUnavailable(
            f"the detoxify {model_type!r} model could not be downloaded "
            f"({type(exc).__name__}: {exc}); {modeldir.how_to(model_type)}"
        ) from exc
    return detoxify, _downloaded_sha256(model_type)


def _downloaded_sha256(model_type: str) -> str | None:
    """The sha256 of the checkpoint detoxify downloaded into torch's hub cache."""
    import torch
    from detoxify.detoxify import MODEL_URLS

    name = MODEL_URLS[model_type].rsplit("/", 1)[-1]
    path = Path(torch.hub.get_dir()) / "checkpoints" / name
    return modeldir.sha256_file(path) if path.is_file() else None


def _quiet_transformers() -> None:
    """No progress bars on stderr between a worker's JSON log lines."""
    from transformers.utils import logging

    logging.disable_progress_bar()  # type: ignore[no-untyped-call]


def _thread_count(threads: int | None) -> int:
    """`threads`, or the CPUs this process may run on."""
    if threads is None:
        usable = os.sched_getaffinity(0) if hasattr(os, "sched_getaffinity") else ()
        return len(usable) or os.cpu_count() or 1
    if threads < 1:
        raise ValueError(f"threads must be at least 1, not {threads}")
    return threads
