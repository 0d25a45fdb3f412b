"""A cascade that keeps fp32's decisions at int8's speed (`MODERATOR_TOXICITY_RUNTIME=cascade`).

Every comment is scored by an int8 copy of the ONNX export (ONNX Runtime's dynamic
quantisation, weights per channel, made a weight at a time: `workers.toxicity.int8`);
a comment is scored again in fp32 only when,
for some label, its int8 logit lies within that label's margin of the threshold's
logit. The comparison is in logit space, before the sigmoid, where quantisation
moves every value by about the same amount; in probability space the same error
is large near 0.5 and tiny near 0 or 1.

The margin is measured when the int8 copy is made, per label, over a calibration
corpus (`calibration_texts`: the shipped labelled comments in every language of the
site, their first few words and several joined, so that windows of every length the
model reads are measured). int8 errs to one side more than the other (a label's int8
logit was 0.8 above fp32's on average, measured on full-size random weights), so the
differences int8 - fp32 are kept as a band: its centre, the `offset`, is taken off every
int8 logit, and its half-width times HEADROOM (at least MIN_MARGIN) is the `margin`. The
band is half as wide as the largest difference either way would make it, and fewer
comments go back to fp32 (21% of the bench's instead of 31%, same model). Both are kept
beside the copy with the sha256s of both models (`cascade.json`), so a threshold changed
later (a setting, a promoted policy) uses the same band. A comment's decision then is
fp32's, as long as no int8 logit errs beyond the band measured: `moderator bench scoring
--runtime cascade` counts identical decisions and the share re-scored in fp32. Each
score says which path made it (`fast` or `fp32`), and the decision record keeps it; a
fast score is the int8 logit less its offset, on the same side of every threshold as
fp32's.

Both the int8 error and the kernels that make it depend on the processor: without
VNNI (AVX2 only, or AVX-512 not exposed), ONNX Runtime's int8 products add pairs in
16 bits that saturate, and errors of 5 to 11 logits were measured where VNNI gave
1.5. There the weights are quantised to 7 bits (`reduce_range`), which keeps the sums
in range (2.3 logits, measured). The kernel family is kept in cascade.json: a
directory moved to a processor of another family is quantised and measured again.

```
<MODERATOR_MODEL_DIR>/<model_type>/onnx/
  model.int8.onnx        the int8 copy of model.onnx (its graph)
  model.int8.onnx.data   its weights, mapped by ONNX Runtime (embedded, the copy
                         held 1.1 GB of the full-size model's memory; mapped, 0.36)
  cascade.json      {"fp32_sha256", "int8_sha256", "int8_data_sha256", "int8_kernel",
                     "offsets": {label: logit}, "margins": {label: logit},
                     "calibration": {...}, "headroom", "quantization"}
```
"""

from __future__ import annotations

import functools
import gc
import json
import math
import os
import platform
import stat
import tempfile
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Final

import numpy as np
import structlog

from workers.toxicity.modeldir import sha256_file
from workers.toxicity.onnx_runtime import DATA_FILE, MODEL_FILE, OnnxScorer, exclusive
from workers.toxicity.payoff import Payoff
from workers.toxicity.scorer import BATCH_ATTENTION, padded_batches
from workers.toxicity.sessions import mapped_weights, open_session

log = structlog.get_logger()

FAST_FILE: Final = "model.int8.onnx"
# Its weights, apart, as the fp32 export keeps its own: ONNX Runtime maps them, so
# the embedding table's rows that no comment uses are never read into memory.
FAST_DATA_FILE: Final = FAST_FILE + ".data"
CASCADE_FILE: Final = "cascade.json"
HEADROOM: Final = 1.5  # the margin is this times the half-width of the band measured
MIN_MARGIN: Final = 0.05  # in logits
SHARED_MIN_BYTES: Final = 1 << 14  # weights both sessions share: tables, not biases
CALIBRATION_COMMENTS: Final = 256  # shipped comments; then cuts of half, and joins of 8
FIRST_WORDS: Final = (2, 3, 4, 5, 6)  # the cuts keep this many words, in turn
SEED_COMMENTS: Final = Path(__file__).resolve().parent.parent / "data" / "seed_comments.jsonl"
VNNI_FLAGS: Final = frozenset({"avx512_vnni", "avx_vnni", "amx_int8"})


class CascadeScorer(OnnxScorer):
    """`OnnxScorer` (fp32) with an int8 pass in front; `thresholds` (label -> score) are
    the ones decisions are taken on, set again when a promoted policy changes them."""

    def __init__(
        self,
        detoxify: Any,
        info: Any,
        path: Path,
        *,
        threads: int,
        thresholds: Mapping[str, float],
    ) -> None:
        known = _current(path.parent, _fp32_sha256(path.parent))
        # The weights both graphs keep in fp32 (the embedding tables), mapped once.
        self._shared = mapped_weights(path, known.get("shared", ()) if known else ())
        super().__init__(detoxify, info, path, threads=threads)
        self.thresholds = dict(thresholds)
        self.offsets, self.margins, self._fast = self._prepare(path.parent, threads, known)
        self.rescored = 0  # comments scored in fp32 (again, or alone), since the start
        self.scored = 0
        self.alone = 0  # of them, scored in fp32 alone (`payoff`)
        self.payoff = Payoff()  # whether int8 first pays, on the comments seen

    def score(self, texts: Sequence[str]) -> list[dict[str, float]]:
        return self.score_with_paths(texts)[0]

    def score_with_paths(self, texts: Sequence[str]) -> tuple[list[dict[str, float]], list[str]]:
        """The scores (fp32's wherever int8 could change a decision) and each one's path:
        `fast`, or `fp32` when scored again in fp32 or in fp32 alone (`payoff`)."""
        if not texts:
            return [], []
        with self._lock:
            windows, owners = self._windows(texts)
            if self.payoff.through_int8():
                best, near = self._cascaded(windows, owners, len(texts))
            else:
                best = self._timed_fp32(windows, owners, len(texts))
                near = list(range(len(texts)))
                self.alone += len(texts)
            self.scored += len(texts)
            self.rescored += len(near)
        scores = [
            dict(zip(self.labels, (1.0 / (1.0 + math.exp(-x)) for x in row), strict=True))
            for row in best
        ]
        again_in_fp32 = set(near)
        paths = ["fp32" if i in again_in_fp32 else "fast" for i in range(len(texts))]
        return scores, paths

    def _cascaded(
        self, windows: list[list[int]], owners: list[int], count: int
    ) -> tuple[list[list[float]], list[int]]:
        """Per comment, its logits (int8's less the offsets, fp32's where near a
        threshold), and which comments went back to fp32."""
        started = time.perf_counter()
        best = [
            [logit - self.offsets[label] for label, logit in zip(self.labels, row, strict=True)]
            for row in self._best(self._fast, windows, owners, count)
        ]
        took = time.perf_counter() - started
        near = [i for i, row in enumerate(best) if self._near(row)]
        self.payoff.saw_int8(took, sum(map(len, windows)), len(near) / count)
        if near:
            slot = {index: position for position, index in enumerate(near)}
            picked = [w for w, owner in enumerate(owners) if owner in slot]
            again = self._timed_fp32(
                [windows[w] for w in picked], [slot[owners[w]] for w in picked], len(near)
            )
            for index, position in slot.items():
                best[index] = again[position]
        return best, near

    def _timed_fp32(
        self, windows: list[list[int]], owners: Sequence[int], count: int
    ) -> list[list[float]]:
        started = time.perf_counter()
        best = self._best(self._session, windows, owners, count)
        self.payoff.saw_fp32(time.perf_counter() - started, sum(map(len, windows)))
        return best

    def _open(self, path: Path, threads: int) -> Any:
        return open_session(path, threads, shared=self._shared, shared_arena=True)

    def _near(self, logits: Sequence[float]) -> bool:
        """Whether some label's int8 logit (less its offset) is within its margin of its
        threshold."""
        for label, logit in zip(self.labels, logits, strict=True):
            threshold = self.thresholds.get(label)
            if threshold is not None and abs(logit - _logit(threshold)) <= self.margins[label]:
                return True
        return False

    def _best(
        self, session: Any, windows: list[list[int]], owners: Sequence[int], count: int
    ) -> list[list[float]]:
        """Per comment, the highest logit of each label over its windows."""
        best = [[-math.inf] * len(self.labels) for _ in range(count)]
        logits = self._run_logits(session, windows)
        for row, owner in zip(logits, owners, strict=True):
            best[owner] = [max(a, b) for a, b in zip(best[owner], row, strict=True)]
        return best

    def _run_logits(self, session: Any, windows: list[list[int]]) -> list[list[float]]:
        out: list[list[float]] = [[] for _ in windows]
        lengths = [len(window) for window in windows]
        for batch in padded_batches(
            lengths,
            max_items=self._batch_size,
            max_tokens=self._batch_tokens,
            max_attention=BATCH_ATTENTION,
        ):
            part = [windows[i] for i in batch]
            ids = np.full((len(part), max(map(len, part))), self._pad_id, dtype=np.int64)
            mask = np.zeros_like(ids)
            for row, window in enumerate(part):
                ids[row, : len(window)] = window
                mask[row, : len(window)] = 1
            (logits,) = session.run(["logits"], {"input_ids": ids, "attention_mask": mask})
            head = np.asarray(logits[:, : len(self.labels)], dtype=np.float64).tolist()
            for index, row in zip(batch, head, strict=True):
                out[index] = row
        return out

    def _prepare(
        self, directory: Path, threads: int, cascade: dict[str, Any] | None
    ) -> tuple[dict[str, float], dict[str, float], Any]:
        """The offsets, the margins and the int8 session, from `cascade` (cascade.json as
        the start found it), or made (once, under the export's lock) when it is None:
        missing or made from another fp32 export."""
        if cascade is None:
            fp32_sha256 = _fp32_sha256(directory)
            with exclusive(directory / ".lock"):
                cascade = _current(directory, fp32_sha256)
                if cascade is None:
                    cascade = self._make(directory, fp32_sha256, threads)
        offsets = {label: float(cascade["offsets"][label]) for label in self.labels}
        margins = {label: float(cascade["margins"][label]) for label in self.labels}
        shared = self._shared or mapped_weights(directory / MODEL_FILE, cascade.get("shared", ()))
        fast = open_session(directory / FAST_FILE, threads, shared=shared, shared_arena=True)
        return offsets, margins, fast

    def _make(self, directory: Path, fp32_sha256: str, threads: int) -> dict[str, Any]:
        from workers.toxicity.int8 import quantize

        started = time.perf_counter()
        kernel = int8_kernel()
        with tempfile.TemporaryDirectory(prefix=".partial-", dir=directory) as scratch:
            staged = Path(scratch) / FAST_FILE
            unchanged = quantize(
                directory / MODEL_FILE, staged, reduce_range=kernel == "x86-no-vnni"
            )
            shared = sorted(n for n, size in unchanged.items() if size >= SHARED_MIN_BYTES)
            # Measured as the worker will run them: the fp32 session opened again on the
            # weights both keep, mapped once (each mapping of the embedding rows read
            # counts in the process's memory).
            self._session = None
            gc.collect()
            self._shared = mapped_weights(directory / MODEL_FILE, shared)
            self._session = self._open(directory / MODEL_FILE, threads)
            fast = open_session(staged, threads, shared=self._shared, shared_arena=True)
            texts = calibration_texts()
            windows, _ = self._windows(texts)
            diffs = np.asarray(self._run_logits(fast, windows)) - np.asarray(
                self._run_logits(self._session, windows)
            )
            low, high = diffs.min(axis=0), diffs.max(axis=0)
            cascade = {
                "fp32_sha256": fp32_sha256,
                "int8_sha256": sha256_file(staged),
                "int8_data_sha256": sha256_file(staged.with_name(FAST_DATA_FILE)),
                "int8_kernel": kernel,
                "offsets": {
                    label: round(float(lo + hi) / 2, 4)
                    for label, lo, hi in zip(self.labels, low, high, strict=True)
                },
                "margins": {
                    label: round(max(MIN_MARGIN, float(hi - lo) / 2 * HEADROOM), 4)
                    for label, lo, hi in zip(self.labels, low, high, strict=True)
                },
                "headroom": HEADROOM,
                "shared": shared,
                "calibration": {
                    "texts": len(texts),
                    "windows": len(windows),
                    "diff_range": {
                        label: [round(float(lo), 4), round(float(hi), 4)]
                        for label, lo, hi in zip(self.labels, low, high, strict=True)
                    },
                    "mean_abs_diff": round(float(np.abs(diffs).mean()), 4),
                },
                "quantization": {
                    "engine": "onnxruntime dynamic, a weight at a time (workers.toxicity.int8)",
                    "weights": "int8, per channel"
                    + (", 7 bits" if kernel == "x86-no-vnni" else ""),
                    "operators": ["MatMul"],
                    "kept_in_fp32": "embeddings (Gather), layer norms, softmax, activations",
                },
                "duration_ms": round((time.perf_counter() - started) * 1000),
            }
            data = staged.with_name(FAST_DATA_FILE)
            # ONNX's writer makes it readable by its owner alone; workers of another user
            # read the export (made beforehand, mounted read-only): as the graph's file.
            data.chmod(stat.S_IMODE(staged.stat().st_mode))
            os.replace(data, directory / FAST_DATA_FILE)
            os.replace(staged, directory / FAST_FILE)
        (directory / CASCADE_FILE).write_text(json.dumps(cascade, indent=2) + "\n", "utf-8")
        log.info(
            "cascade_made",
            offsets=cascade["offsets"],
            margins=cascade["margins"],
            calibration=cascade["calibration"],
        )
        return cascade


def calibration_texts() -> list[str]:
    """The texts the int8 error is measured on: CALIBRATION_COMMENTS shipped labelled
    comments spread over the file (every language of the site), the first FIRST_WORDS
    words of every other one, and runs of 8 joined. The shipped comments are of 2 to 89
    words; readers also write "Bravo!" and whole pages, and int8 errs on those too: on
    full-size random weights, the largest error in windows under 30 tokens was 4.2
    logits against 2.5 measured on the comments alone."""
    lines = SEED_COMMENTS.read_text(encoding="utf-8").splitlines()
    step = max(1, len(lines) // CALIBRATION_COMMENTS)
    comments = [str(json.loads(line)["body"]) for line in lines[::step][:CALIBRATION_COMMENTS]]
    cuts = [
        " ".join(text.split()[: FIRST_WORDS[i % len(FIRST_WORDS)]])
        for i, text in enumerate(comments[::2])
    ]
    joined = [" ".join(comments[i : i + 8]) for i in range(0, len(comments), 8)]
    return [*comments, *cuts, *joined]


def int8_kernel() -> str:
    """The family of int8 kernels ONNX Runtime picks here: `x86-vnni`, `x86-no-vnni`
    (whose 16-bit sums saturate without 7-bit weights), or the machine's name. An x86
    processor whose flags cannot be read counts as without VNNI: 7 bits are safe on both."""
    machine = platform.machine().lower()
    if machine not in {"x86_64", "amd64", "i386", "i686"}:
        return machine or "unknown"
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("flags"):
                    flags = set(line.partition(":")[2].split())
                    return "x86-vnni" if flags & VNNI_FLAGS else "x86-no-vnni"
    except OSError:
        pass
    return "x86-no-vnni"


def ready(directory: Path) -> bool:
    """Whether `directory` (an ONNX export) holds an int8 copy and margins this start can
    use as they are."""
    try:
        return _current(directory, _fp32_sha256(directory)) is not None
    except (OSError, ValueError):
        return False


def _fp32_sha256(directory: Path) -> str:
    source = json.loads((directory / "source.json").read_text(encoding="utf-8"))
    recorded = source.get("sha256") or {}
    return str(recorded.get(DATA_FILE) or sha256_file(directory / DATA_FILE))


def _current(directory: Path, fp32_sha256: str) -> dict[str, Any] | None:
    """cascade.json when it was made from this fp32 export, on a processor of this
    kernel family, and the int8 files are whole. A copy made before its weights were
    kept apart (no `int8_data_sha256`) or before its band was measured (no `offsets`)
    is made again."""
    try:
        cascade = json.loads((directory / CASCADE_FILE).read_text(encoding="utf-8"))
        if (
            cascade.get("fp32_sha256") == fp32_sha256
            and "offsets" in cascade
            and cascade.get("int8_kernel") == int8_kernel()
            and _sha256(directory / FAST_FILE) == cascade.get("int8_sha256")
            and _sha256(directory / FAST_DATA_FILE) == cascade.get("int8_data_sha256")
        ):
            return dict(cascade)
    except (OSError, ValueError, AttributeError):
        pass
    return None


@functools.lru_cache(maxsize=8)
def _file_sha256(path: Path, size: int, modified_ns: int) -> str:
    return sha256_file(path)


def _sha256(path: Path) -> str:
    """`sha256_file`, once per version of the file in this process: a start checks the
    int8 copy (770 MB on the full-size model) before and after choosing its process."""
    stat = path.stat()
    return _file_sha256(path, stat.st_size, stat.st_mtime_ns)


def _logit(p: float) -> float:
    p = min(max(p, 1e-12), 1 - 1e-12)
    return math.log(p / (1 - p))
