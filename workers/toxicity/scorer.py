"""The toxicity scorer: detoxify, loaded once per process, scoring batches of comments.

With a model directory (`MODERATOR_MODEL_DIR`, see `workers.toxicity.modeldir`) every file is
checked against the manifest before the checkpoint, a pickle, is unpickled, and the
model loads through detoxify's own constructor with the Hugging Face hub switched
off. Without one, detoxify downloads its weights as usual.

A comment longer than the model's window (512 tokens) is scored over its whole
length: overlapping windows, each scored, the highest score per label kept. Within
one `score()` call windows run shortest first, in batches of similar length chosen
so that padding costs less than the extra forward passes it saves (`padded_batches`).

Precision (`MODERATOR_TOXICITY_PRECISION`), set once at load on the encoder's linear
layers, where nearly all the time goes; embeddings, attention, layer norms and the
classifier head stay fp32. "fp32" is detoxify's own arithmetic. "bf16" multiplies in
bfloat16 (weights converted once, inputs cast on the way in, outputs back to fp32).
"int8" is torch's dynamic quantisation: int8 weights, activations quantised per call.
`moderator bench scoring` measures the speed and the agreement of each.

Importing this module is cheap: torch, transformers and detoxify are imported by
the functions that need them, so the HTTP service never loads them.
"""

from __future__ import annotations

import os
import tempfile
import threading
import time
import warnings
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import structlog

from workers.errors import ModelUnavailable
from workers.toxicity import modeldir

log = structlog.get_logger()

OVERLAP_TOKENS = 128  # shared by consecutive windows of a long comment
BATCH_SIZE = 32  # windows per forward pass at most
BATCH_TOKENS = 8192  # and at most this many tokens, padding included
# What one more forward pass costs, in tokens' worth of work (reading every weight
# once, Python overhead): measured on base-size models on 2 cores, 20 to 30.
STEP_TOKENS = 24
PRECISIONS = ("fp32", "bf16", "int8")
RUNTIMES = ("torch", "onnx")  # what runs the model: torch, or ONNX Runtime on its export
_ROBERTA_LIKE = frozenset({"roberta", "xlm-roberta", "camembert"})


@dataclass(frozen=True, slots=True)
class ModelInfo:
    """The model behind a score, recorded in every decision."""

    name: str  # "detoxify/multilingual"
    checkpoint_sha256: str | None  # None: downloaded, and not found in torch's hub cache

    def to_dict(self) -> dict[str, str | None]:
        return {"name": self.name, "checkpoint_sha256": self.checkpoint_sha256}


class ToxicityScorer(Protocol):
    info: ModelInfo
    labels: tuple[str, ...]

    def score(self, texts: Sequence[str]) -> list[dict[str, float]]:
        """Blocking: one dict per text, label -> score in [0, 1], in the order given."""
        ...


def length_batches(lengths: Sequence[int], *, max_items: int, max_tokens: int) -> list[list[int]]:
    """Indexes into `lengths`, shortest first, grouped into batches of similar length:
    at most `max_items` per batch, and `max_tokens` once padded to the longest."""
    batches: list[list[int]] = []
    batch: list[int] = []
    for index in sorted(range(len(lengths)), key=lengths.__getitem__):
        padded = (len(batch) + 1) * lengths[index]
        if batch and (len(batch) == max_items or padded > max_tokens):
            batches.append(batch)
            batch = []
        batch.append(index)
    if batch:
        batches.append(batch)
    return batches


def padded_batches(
    lengths: Sequence[int], *, max_items: int, max_tokens: int, step_tokens: int = STEP_TOKENS
) -> list[list[int]]:
    """Indexes into `lengths`, shortest first, grouped into the batches that cost least:
    each costs `step_tokens` plus its size times its longest length (the padded tokens),
    within `max_items` per batch and `max_tokens` padded tokens (a single longer one
    goes alone). Sorted lengths make the best grouping a run of neighbours: found
    exactly by dynamic programming over where each batch ends."""
    order = sorted(range(len(lengths)), key=lengths.__getitem__)
    best = [0] * (len(order) + 1)  # best[end]: least cost of the first `end` windows
    start_of = [0] * (len(order) + 1)
    for end in range(1, len(order) + 1):
        longest = lengths[order[end - 1]]
        best[end] = best[end - 1] + step_tokens + longest
        start_of[end] = end - 1
        for start in range(end - 2, max(-1, end - 1 - max_items), -1):
            if (end - start) * longest > max_tokens:
                break
            cost = best[start] + step_tokens + (end - start) * longest
            if cost < best[end]:
                best[end], start_of[end] = cost, start
    batches: list[list[int]] = []
    end = len(order)
    while end:
        batches.append(order[start_of[end] : end])
        end = start_of[end]
    return batches[::-1]


class DetoxifyScorer:
    """A `ToxicityScorer` around a loaded `detoxify.Detoxify`.

    `score()` may be called from several threads: calls run one at a time, each
    using torch's intra-op threads (and the tokenizer is not safe to share).
    A `precision` other than "fp32" converts `detoxify.model` in place.
    """

    def __init__(
        self,
        detoxify: Any,
        info: ModelInfo,
        *,
        precision: str = "fp32",
        overlap: int = OVERLAP_TOKENS,
        batch_size: int = BATCH_SIZE,
        batch_tokens: int = BATCH_TOKENS,
        step_tokens: int = STEP_TOKENS,
    ) -> None:
        if precision not in PRECISIONS:
            raise ValueError(f"precision must be one of {PRECISIONS}, not {precision!r}")
        self.info = info
        self.precision = precision
        self.labels: tuple[str, ...] = tuple(detoxify.class_names)
        self._model = detoxify.model
        self._model.eval()
        if precision != "fp32":
            _set_precision(self._model, precision)
        self._tokenizer = detoxify.tokenizer
        config = self._model.config
        if config.num_labels < len(self.labels):
            raise ModelUnavailable(
                f"{info.name}: the model has {config.num_labels} outputs "
                f"for {len(self.labels)} labels"
            )
        self.window = _window(config, self._tokenizer)
        self._stride = min(overlap, self.window // 2)
        self._pad_id = self._tokenizer.pad_token_id
        self._batch_size = batch_size
        self._batch_tokens = max(batch_tokens, self.window)
        self._step_tokens = step_tokens
        self._lock = threading.Lock()

    def score(self, texts: Sequence[str]) -> list[dict[str, float]]:
        if not texts:
            return []
        with self._lock:
            windows, owners = self._windows(texts)
            best = [[0.0] * len(self.labels) for _ in texts]
            lengths = [len(window) for window in windows]
            for batch in padded_batches(
                lengths,
                max_items=self._batch_size,
                max_tokens=self._batch_tokens,
                step_tokens=self._step_tokens,
            ):
                rows = self._probabilities([windows[i] for i in batch])
                for index, row in zip(batch, rows, strict=True):
                    owner = owners[index]
                    best[owner] = [max(a, b) for a, b in zip(best[owner], row, strict=True)]
        return [dict(zip(self.labels, row, strict=True)) for row in best]

    def windows(self, text: str) -> list[list[int]]:
        """The token windows `text` is scored over: one unless it is longer than the
        model's window, then overlapping by `overlap` tokens and covering all of it."""
        with self._lock:
            return self._windows([text])[0]

    def _windows(self, texts: Sequence[str]) -> tuple[list[list[int]], list[int]]:
        """Every text's token windows, special tokens included, and the text each is from."""
        encoded = self._tokenizer(
            list(texts),
            truncation=True,
            max_length=self.window,
            stride=self._stride,
            return_overflowing_tokens=True,
            return_attention_mask=False,
            return_token_type_ids=False,
        )
        return encoded["input_ids"], encoded["overflow_to_sample_mapping"]

    def _probabilities(self, windows: list[list[int]]) -> list[list[float]]:
        import torch

        ids = torch.full((len(windows), max(map(len, windows))), self._pad_id, dtype=torch.long)
        mask = torch.zeros_like(ids)
        for row, window in enumerate(windows):
            ids[row, : len(window)] = torch.tensor(window, dtype=torch.long)
            mask[row, : len(window)] = 1
        with torch.inference_mode():
            logits = self._model(input_ids=ids, attention_mask=mask).logits
        # Like detoxify's predict: a sigmoid per label; the unbiased models have
        # identity outputs after their labels, which detoxify does not report either.
        probabilities: list[list[float]] = torch.sigmoid(logits[:, : len(self.labels)]).tolist()
        return probabilities


def load_scorer(
    model_type: str,
    model_dir: str | None,
    *,
    threads: int | None = None,
    precision: str = "fp32",
    runtime: str = "torch",
) -> DetoxifyScorer:
    """Load detoxify's `model_type`: from `model_dir` (offline) or by download, in
    `precision` ("fp32", "bf16" or "int8", see the module's docstring), and set torch's
    threads (default: the CPUs this process may use). Once per process.
    `runtime` "onnx" runs the model in ONNX Runtime on as many threads, in fp32, from an
    export kept in `model_dir` and made at the first start (`workers.toxicity.onnx_runtime`).
    Raises ModelUnavailable, saying how to provide weights, when nothing loads."""
    if precision not in PRECISIONS:
        raise ValueError(f"precision must be one of {PRECISIONS}, not {precision!r}")
    if runtime not in RUNTIMES:
        raise ValueError(f"runtime must be one of {RUNTIMES}, not {runtime!r}")
    if runtime == "onnx" and precision != "fp32":
        raise ValueError(f"the onnx runtime runs the model in fp32, not {precision}")
    if runtime == "onnx" and model_dir is None:
        raise ModelUnavailable(
            "the ONNX runtime (MODERATOR_TOXICITY_RUNTIME=onnx) needs MODERATOR_MODEL_DIR, "
            f"a local model directory, where the export is kept; {modeldir.how_to(model_type)}"
        )
    threads = _thread_count(threads)
    started = time.perf_counter()
    detoxify, sha256 = load_detoxify(model_type, model_dir)
    import torch

    torch.set_num_threads(threads)
    info = ModelInfo(f"detoxify/{model_type}", sha256)
    if runtime == "onnx" and model_dir is not None:
        from workers.toxicity import onnx_runtime

        model_root = Path(model_dir) / model_type
        path = onnx_runtime.ensure_exported(detoxify.model, model_root, sha256)
        # Takes the torch model out of `detoxify`, freed before ONNX Runtime loads.
        scorer: DetoxifyScorer = onnx_runtime.OnnxScorer(detoxify, info, path, threads=threads)
    else:
        scorer = DetoxifyScorer(detoxify, info, precision=precision)
    log.info(
        "toxicity_model_loaded",
        model=scorer.info.name,
        checkpoint_sha256=sha256,
        offline=model_dir is not None,
        window=scorer.window,
        runtime=runtime,
        precision=precision,
        threads=threads,
        duration_ms=round((time.perf_counter() - started) * 1000),
    )
    return scorer


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


def _set_precision(model: Any, precision: str) -> None:
    """Convert the linear layers of `model`'s encoder, in place (see the module's docstring)."""
    import torch

    encoder = model.base_model.encoder
    if precision == "int8":
        with warnings.catch_warnings():
            # torch marks its eager-mode quantisation deprecated in favour of torchao,
            # which has no fast CPU path without torch.compile; it still works in 2.13.
            warnings.simplefilter("ignore", DeprecationWarning)
            warnings.filterwarnings("ignore", "torch.quantize_per_tensor", UserWarning)
            torch.ao.quantization.quantize_dynamic(  # type: ignore[no-untyped-call]
                encoder, {torch.nn.Linear}, dtype=torch.qint8, inplace=True
            )
        return
    for layer in encoder.modules():
        if isinstance(layer, torch.nn.Linear):
            layer.to(torch.bfloat16)
            layer.register_forward_pre_hook(_to_bfloat16)
            layer.register_forward_hook(_to_float32)


def _to_bfloat16(layer: Any, inputs: tuple[Any, ...]) -> tuple[Any, ...]:
    import torch

    return tuple(x.to(torch.bfloat16) for x in inputs)


def _to_float32(layer: Any, inputs: tuple[Any, ...], output: Any) -> Any:
    return output.float()


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


def _window(config: Any, tokenizer: Any) -> int:
    """The longest input, special tokens included, the model takes."""
    limit: int = config.max_position_embeddings
    if config.model_type in _ROBERTA_LIKE:
        limit -= config.pad_token_id + 1  # positions are numbered after the padding index
    return min(limit, int(tokenizer.model_max_length))
