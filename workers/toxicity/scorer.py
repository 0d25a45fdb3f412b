"""The toxicity scorer: detoxify's model scoring batches of comments, once loaded.

`workers.toxicity.loading` loads the model (once per process) and makes the
scorer; this module is what scores.

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

Importing this module is cheap: torch is imported by the functions that need it,
so the HTTP service never loads it.
"""

from __future__ import annotations

import threading
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from workers.errors import ModelUnavailable

OVERLAP_TOKENS = 128  # shared by consecutive windows of a long comment
BATCH_SIZE = 32  # windows per forward pass at most
BATCH_TOKENS = 8192  # and at most this many tokens, padding included
# and at most this many windows times their padded length squared: the attention
# scores a batch holds grow with the square of its length. 16 windows of 512 tokens
# (8192) grew ONNX Runtime's working memory by 0.7 GB on XLM-R base; 4 by 0.4 GB, in
# the same time (measured on the cascade's calibration, full-size model).
BATCH_ATTENTION = 4 * 512 * 512
# What one more forward pass costs, in tokens' worth of work (reading every weight
# once, Python overhead), as measured on base-size models.
STEP_TOKENS = 24
PRECISIONS = ("fp32", "bf16", "int8")
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
    lengths: Sequence[int],
    *,
    max_items: int,
    max_tokens: int,
    step_tokens: int = STEP_TOKENS,
    max_attention: int | None = None,
) -> list[list[int]]:
    """Indexes into `lengths`, shortest first, grouped into the batches that cost least:
    each costs `step_tokens` plus its size times its longest length (the padded tokens),
    within `max_items` per batch, `max_tokens` padded tokens and, when given,
    `max_attention` windows times longest length squared (a single longer one goes
    alone). Sorted lengths make the best grouping a run of neighbours: found
    exactly by dynamic programming over where each batch ends."""
    order = sorted(range(len(lengths)), key=lengths.__getitem__)
    best = [0] * (len(order) + 1)  # best[end]: least cost of the first `end` windows
    start_of = [0] * (len(order) + 1)
    for end in range(1, len(order) + 1):
        longest = lengths[order[end - 1]]
        best[end] = best[end - 1] + step_tokens + longest
        start_of[end] = end - 1
        for start in range(end - 2, max(-1, end - 1 - max_items), -1):
            if (end - start) * longest > max_tokens or (
                max_attention is not None and (end - start) * longest * longest > max_attention
            ):
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
                max_attention=BATCH_ATTENTION,
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

        logits = self._logits(windows)
        # Like detoxify's predict: a sigmoid per label; the unbiased models have
        # identity outputs after their labels, which detoxify does not report either.
        probabilities: list[list[float]] = torch.sigmoid(logits[:, : len(self.labels)]).tolist()
        return probabilities

    def _logits(self, windows: list[list[int]]) -> Any:
        """The model's outputs for `windows`, padded into one forward pass."""
        import torch

        ids = torch.full((len(windows), max(map(len, windows))), self._pad_id, dtype=torch.long)
        mask = torch.zeros_like(ids)
        for row, window in enumerate(windows):
            ids[row, : len(window)] = torch.tensor(window, dtype=torch.long)
            mask[row, : len(window)] = 1
        with torch.inference_mode():
            return self._model(input_ids=ids, attention_mask=mask).logits


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


def _window(config: Any, tokenizer: Any) -> int:
    """The longest input, special tokens included, the model takes."""
    limit: int = config.max_position_embeddings
    if config.model_type in _ROBERTA_LIKE:
        limit -= config.pad_token_id + 1  # positions are numbered after the padding index
    return min(limit, int(tokenizer.model_max_length))
