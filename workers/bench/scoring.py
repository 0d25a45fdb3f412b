"""`moderator bench scoring`: the worker's toxicity scoring against detoxify's own `predict()`.

In one process, on the same model directory and the same corpus: detoxify's
`Detoxify.predict(text)`, one comment at a time in fp32 (the baseline), and the
worker's path, `DetoxifyScorer.score` on batches of `--batch-size` comments in the
chosen precision and runtime (torch, or ONNX Runtime on the exported model), loaded
by `load_scorer` as a worker loads it. Printed: comments/s
of each and their ratio, the largest score difference per label, and how many
decisions agree: the policy's toxicity thresholds (`MODERATOR_THRESHOLD_*`) applied to
both paths' scores, the same status and the same reasons.

The corpus is made from a seed (`workers.bench.corpus`): comments of mixed lengths
in French, English, Arabic and Darija in both scripts.

The two paths run round by round, one worker batch at a time (the baseline on those
comments, then the scorer on them), each round `--repeat` times keeping the fastest:
other processes on a shared machine then slow both alike, and a burst of theirs
is dropped. CPU seconds are reported beside wall time.

`--random-weights` builds, offline and in a temporary directory, a full-size model
of the real architecture with random weights (`workers.bench.random_model`). Its
speed is representative; its scores are meaningless, yet the comparison still
holds: both paths score with the same weights.
"""

from __future__ import annotations

import argparse
import json
import math
import platform
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from moderator import entry
from moderator.settings import TOXICITY_MODELS, Settings
from workers.bench.corpus import corpus
from workers.bench.random_model import SCORE_SHAPES, build_random_model_dir
from workers.bench.shapes import bands, comments_between
from workers.errors import ModelUnavailable
from workers.language import Language
from workers.policy import Checks, Policy
from workers.spam.signals import SpamResult
from workers.toxicity.loading import RUNTIMES, load_detoxify, load_scorer, runtime_of
from workers.toxicity.scorer import PRECISIONS, DetoxifyScorer
from workers.wordlists import WordList


@dataclass
class Timing:
    """What one path took: wall and CPU seconds, the fastest of each round summed."""

    wall_s: float = 0.0
    cpu_s: float = 0.0

    def to_dict(self, count: int) -> dict[str, float]:
        return {
            "wall_s": round(self.wall_s, 3),
            "cpu_s": round(self.cpu_s, 3),
            "comments_per_s": round(count / self.wall_s, 2) if self.wall_s else 0.0,
        }


Scores = dict[str, float]


def measure(
    detoxify: Any,
    scorer: DetoxifyScorer,
    comments: Sequence[str],
    *,
    batch_size: int,
    repeat: int,
    progress: Callable[[str], None],
) -> tuple[list[Scores], list[Scores], Timing, Timing]:
    """Both paths' scores for every comment and their times, round by round."""
    baseline_scores: list[Scores] = []
    worker_scores: list[Scores] = []
    baseline, worker = Timing(), Timing()
    detoxify.predict(comments[0])  # first calls allocate: not counted
    scorer.score(comments[:batch_size])
    starts = range(0, len(comments), batch_size)

    def predict(texts: Sequence[str]) -> list[Scores]:
        return [detoxify.predict(text) for text in texts]

    for number, start in enumerate(starts, 1):
        batch = comments[start : start + batch_size]
        baseline_scores += _fastest(predict, batch, repeat, baseline)
        worker_scores += _fastest(scorer.score, batch, repeat, worker)
        progress(
            f"round {number}/{len(starts)}: {start + len(batch)} comments, "
            f"baseline {baseline.wall_s:.1f} s, worker {worker.wall_s:.1f} s"
        )
    return baseline_scores, worker_scores, baseline, worker


def _fastest(
    run: Callable[[Sequence[str]], list[Scores]], texts: Sequence[str], repeat: int, into: Timing
) -> list[Scores]:
    best_wall = best_cpu = math.inf
    for _ in range(repeat):
        wall, cpu = time.perf_counter(), time.process_time()
        result = run(texts)
        best_wall = min(best_wall, time.perf_counter() - wall)
        best_cpu = min(best_cpu, time.process_time() - cpu)
    into.wall_s += best_wall
    into.cpu_s += best_cpu
    return result


def compare(baseline: Sequence[Scores], worker: Sequence[Scores], policy: Policy) -> dict[str, Any]:
    """Largest score difference per label, and decisions: same status, same reasons."""
    labels = list(baseline[0])
    decided = [
        (_decision(policy, b), _decision(policy, w)) for b, w in zip(baseline, worker, strict=True)
    ]
    identical = sum(b == w for b, w in decided)
    return {
        "max_abs_diff": {
            label: round(
                max(abs(b[label] - w[label]) for b, w in zip(baseline, worker, strict=True)), 6
            )
            for label in labels
        },
        "decisions": {
            "count": len(decided),
            "identical": identical,
            "agreement_pct": round(100 * identical / len(decided), 2),
            "held_baseline": sum(b[0] != "published" for b, _ in decided),
            "held_worker": sum(w[0] != "published" for _, w in decided),
        },
    }


def _decision(policy: Policy, scores: Scores) -> tuple[str, tuple[str, ...]]:
    checks = Checks(language=Language("und", "none"), toxicity=scores, spam=SpamResult(0.0, ()))
    status, reasons = policy.decide(checks)
    return status.value, tuple(sorted(reason.code for reason in reasons))


def describe(comments: Sequence[str], scorer: DetoxifyScorer) -> dict[str, Any]:
    """The corpus as the model sees it: words and tokens per comment."""
    words = [len(text.split()) for text in comments]
    windows = [scorer.windows(text) for text in comments]
    tokens = [sum(map(len, w)) for w in windows]
    return {
        "count": len(comments),
        "words_min": min(words),
        "words_median": statistics.median(words),
        "words_max": max(words),
        "tokens_mean": round(statistics.mean(tokens), 1),
        "tokens_max": max(tokens),
        "longer_than_window": sum(len(w) > 1 for w in windows),
    }


def _rescored(scorer: Any) -> dict[str, float | None]:
    """The cascade's shares of comments scored in fp32, again or alone (int8 first not
    paying: `workers.toxicity.payoff`); None for other runtimes."""
    scored = getattr(scorer, "scored", 0)
    if not scored:
        return {"rescored_fp32": None, "fp32_alone": None}
    return {
        "rescored_fp32": round(scorer.rescored / scored, 4),
        "fp32_alone": round(scorer.alone / scored, 4),
    }


def cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def table(report: Mapping[str, Any]) -> str:
    corpus_, base, work = report["corpus"], report["baseline"], report["worker"]
    decisions = report["decisions"]
    runtime = {"onnx": " (ONNX Runtime)", "cascade": " (cascade: int8, fp32 near thresholds)"}.get(
        report.get("runtime") or "", ""
    )
    worker_path = (
        f"worker score(), batches of {report['batch_size']}, {report['precision']}{runtime}"
    )
    lines = [
        f"{report['model']} ({'random weights' if report['random_weights'] else 'model dir'}), "
        f"{report['cpu']}, {report['threads']} threads, torch {report['torch']}",
        f"corpus: {corpus_['count']} comments, seed {report['seed']}, "
        f"{corpus_['words_min']}-{corpus_['words_max']} words (median {corpus_['words_median']}), "
        f"{corpus_['tokens_mean']} tokens on average; fastest of {report['repeat']} per round",
        "",
        f"{'path':<58} {'comments/s':>10} {'wall s':>8} {'CPU s':>8}",
        f"{'detoxify predict(), one at a time, fp32':<58} "
        f"{base['comments_per_s']:>10.2f} {base['wall_s']:>8.1f} {base['cpu_s']:>8.1f}",
        f"{worker_path:<58} "
        f"{work['comments_per_s']:>10.2f} {work['wall_s']:>8.1f} {work['cpu_s']:>8.1f}",
        "",
        f"ratio: {report['ratio']:.2f}x (CPU time: {report['cpu_ratio']:.2f}x)"
        + (
            f"; re-scored in fp32: {report['rescored_fp32']:.1%} ({report['fp32_alone']:.1%} alone)"
            if report.get("rescored_fp32") is not None
            else ""
        ),
        "scores (baseline, every label): "
        + ", ".join(f"{band} {share:.1%}" for band, share in report["score_bands"].items())
        + f"; comments with some label between 0.2 and 0.9: {report['comments_between']:.1%}"
        + (f" [--score-shape {report['score_shape']}]" if report.get("score_shape") else ""),
        "max |score difference|: "
        + ", ".join(f"{label} {diff:.2g}" for label, diff in report["max_abs_diff"].items()),
        f"decisions identical: {decisions['identical']}/{decisions['count']} "
        f"({decisions['agreement_pct']:.2f}%); held: baseline {decisions['held_baseline']}, "
        f"worker {decisions['held_worker']}",
    ]
    if corpus_["longer_than_window"]:
        lines.append(
            f"{corpus_['longer_than_window']} comments are longer than the window: "
            f"detoxify reads their first {report['window']} tokens, the worker all of them"
        )
    return "\n".join(lines)


def parse(argv: Sequence[str] | None, settings: Settings) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="moderator bench scoring",
        description="The worker's toxicity scoring against detoxify's own predict(), "
        "one comment at a time in fp32: comments/s, ratio, agreement of decisions.",
    )
    parser.add_argument("--model", choices=TOXICITY_MODELS, default=settings.toxicity_model)
    parser.add_argument(
        "--dir", metavar="MODEL_DIR", default=settings.model_dir, help="default MODERATOR_MODEL_DIR"
    )
    parser.add_argument(
        "--random-weights",
        action="store_true",
        help="a full-size model of the real architecture with random weights, built offline "
        "in a temporary directory: representative speed, meaningless scores",
    )
    parser.add_argument(
        "--score-shape",
        choices=SCORE_SHAPES,
        default="straddle",
        help="with --random-weights, how its scores fall: straddle every threshold (the "
        "harsh case, default), or realistic (most near 0, about 5%% between 0.2 and 0.9)",
    )
    parser.add_argument("--count", type=int, default=200, help="comments (default 200)")
    parser.add_argument("--seed", type=int, default=2026, help="of the corpus and random weights")
    parser.add_argument(
        "--precision",
        choices=PRECISIONS,
        default=settings.toxicity_precision,
        help="of the worker's path (default MODERATOR_TOXICITY_PRECISION)",
    )
    parser.add_argument(
        "--runtime",
        choices=RUNTIMES,
        default=settings.toxicity_runtime,
        help="of the worker's path: torch, or onnx (exported once into the model directory, "
        "fp32 only; default MODERATOR_TOXICITY_RUNTIME)",
    )
    parser.add_argument(
        "--batch-size",
        type=int,
        default=settings.worker_batch_size,
        help="comments per score() call (default MODERATOR_WORKER_BATCH_SIZE)",
    )
    parser.add_argument("--threads", type=int, help="torch threads (default: usable CPUs)")
    parser.add_argument("--repeat", type=int, default=2, help="runs per round, fastest kept")
    parser.add_argument("--json", metavar="FILE", help="also write the results as JSON")
    args = parser.parse_args(argv)
    for name in ("count", "batch_size", "repeat"):
        if getattr(args, name) < 1:
            parser.error(f"--{name.replace('_', '-')} must be at least 1")
    if args.runtime == "onnx" and args.precision != "fp32":
        parser.error("--runtime onnx runs the model in fp32: use --precision fp32")
    if args.runtime in ("onnx", "cascade") and not (args.dir or args.random_weights):
        parser.error(
            f"--runtime {args.runtime} needs --dir (or --random-weights): the export is kept there"
        )
    return args


@contextmanager
def model_root(args: argparse.Namespace) -> Iterator[str | None]:
    """The model directory to load from: built for --random-weights, else --dir."""
    if not args.random_weights:
        yield args.dir
        return
    with tempfile.TemporaryDirectory(prefix="moderator-bench-") as scratch:
        print(f"building a random-weights {args.model} model in {scratch}", file=sys.stderr)
        built = build_random_model_dir(
            Path(scratch), args.model, seed=args.seed, shape=args.score_shape
        )
        yield str(built)


def run(args: argparse.Namespace, settings: Settings) -> dict[str, Any]:
    with model_root(args) as root:
        detoxify, _ = load_detoxify(args.model, root)
        scorer = load_scorer(
            args.model,
            root,
            threads=args.threads,
            precision=args.precision,
            runtime=args.runtime,
            thresholds=settings.thresholds,
        )
    import torch

    comments = corpus(args.count, args.seed)
    print(f"scoring {len(comments)} comments both ways", file=sys.stderr)
    baseline_scores, worker_scores, baseline, worker = measure(
        detoxify,
        scorer,
        comments,
        batch_size=args.batch_size,
        repeat=args.repeat,
        progress=lambda line: print(line, file=sys.stderr),
    )
    policy = Policy(
        thresholds=dict(settings.thresholds),
        spam_hold=settings.spam_hold_threshold,
        spam_reject=settings.spam_reject_threshold,
        model_type=args.model,
        language_not_covered="score",
        banned=WordList(()),
        suspect=WordList(()),
    )
    return {
        "model": f"detoxify/{args.model}",
        "random_weights": args.random_weights,
        "score_shape": args.score_shape if args.random_weights else None,
        "score_bands": bands(baseline_scores),
        "comments_between": comments_between(baseline_scores),
        "cpu": cpu_name(),
        "threads": torch.get_num_threads(),
        "torch": torch.__version__,
        "seed": args.seed,
        "repeat": args.repeat,
        "precision": args.precision,
        "runtime": runtime_of(scorer),
        "batch_size": args.batch_size,
        "window": scorer.window,
        "corpus": describe(comments, scorer),
        "baseline": baseline.to_dict(len(comments)),
        "worker": worker.to_dict(len(comments)),
        "ratio": round(baseline.wall_s / worker.wall_s, 2),
        "cpu_ratio": round(baseline.cpu_s / worker.cpu_s, 2),
        **_rescored(scorer),
        **compare(baseline_scores, worker_scores, policy),
    }


def main(argv: Sequence[str] | None = None) -> int:
    settings = entry.start(
        "moderator bench scoring", service="moderator-bench", stream=sys.stderr, level="warning"
    )
    if settings is None:
        return entry.CONFIG_ERROR
    args = parse(argv, settings)
    try:
        report = run(args, settings)
    except ModelUnavailable as exc:
        print(f"moderator bench scoring: {exc}", file=sys.stderr)
        return 1
    print(table(report))
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
