"""`moderator bench checks`: what the text checks cost the worker, per comment.

The decisions issue bounds what its checks add to the worker (≤ 2 ms a comment).
This runs the worker's own functions over a labelled set (by default the shipped
examples, `workers/data/seed_comments.jsonl`: every language of the site) in a
private Redis, with the site model and the spam model taught that set first, as
a seeded install is:

- per comment, in the worker's thread: the language, the word lists (banned and
  suspect in the comment's languages, apart inside quotation marks; the sensitive
  list), the spam signals of the text, the site model's features;
- per batch of `MODERATOR_WORKER_BATCH_SIZE`, as the worker calls them: the site
  model's verdicts (its counts read from Redis in one round trip, where its
  precision windows stand, full as on a site whose moderators have decided for a
  while, the arithmetic) and the spam score (the learned tokens and counters in one round
  trip, combined with the site model's evidence).

Each stage is timed over the whole set `--repeat` times and the fastest kept (wall and
CPU time of this process; Redis works in its own), so a burst of other work on a
shared machine is dropped. The machine's load average is printed beside: on the
2-vCPU machines these figures are compared within a run, stage against stage.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
import os
import sys
import time
from collections.abc import Awaitable, Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Final

import redis.asyncio as aioredis

from moderator import entry
from moderator.domain import Comment
from moderator.keys import Keys
from moderator.local.redis_server import PrivateRedis
from moderator.settings import Settings
from moderator.storage.connection import connect
from workers import textmodel
from workers.checks import listed_terms
from workers.labelled import LabelledSetError, load
from workers.language import detect
from workers.policy import Policy
from workers.sitemodel import SiteModel
from workers.sitewindow import WINDOW
from workers.spam.scorer import SpamScorer, content_evidence, text_signals
from workers.training import SEED_FILE, learn_texts
from workers.wordlists import Lists, WordList, seed_terms

PROG = "moderator bench checks"
DEFAULT_SET: Final = Path(__file__).resolve().parent.parent / "data" / SEED_FILE
WINDOW_LANGUAGES: Final = ("ar", "ary", "mixed", "fr", "en", "und")


@dataclasses.dataclass(frozen=True, slots=True)
class Stage:
    name: str
    wall_ms: float  # per comment, the fastest run
    cpu_ms: float

    def to_dict(self) -> dict[str, Any]:
        return {"stage": self.name, "wall_ms": self.wall_ms, "cpu_ms": self.cpu_ms}


@contextmanager
def _sample(samples: list[tuple[float, float]]) -> Iterator[None]:
    """Add the block's wall and CPU seconds to `samples`."""
    started, started_cpu = time.perf_counter(), time.process_time()
    yield
    samples.append((time.perf_counter() - started, time.process_time() - started_cpu))


def _fastest(samples: Sequence[tuple[float, float]], count: int) -> tuple[float, float]:
    """The fastest of the runs, in ms per comment (wall, CPU)."""
    return (
        min(wall for wall, _ in samples) * 1000 / count,
        min(cpu for _, cpu in samples) * 1000 / count,
    )


def _timed(run: Callable[[], object], repeat: int, count: int) -> tuple[float, float]:
    samples: list[tuple[float, float]] = []
    for _ in range(repeat):
        with _sample(samples):
            run()
    return _fastest(samples, count)


def text_stages(
    comments: Sequence[Comment], lists: Lists, read: frozenset[str], repeat: int
) -> list[Stage]:
    """The checks the worker runs per comment in its thread (`workers.checks`); `read`,
    the languages a toxicity model reads (the sensitive list is matched elsewhere)."""
    languages = [detect(c.body).code for c in comments]
    texts = [f"{c.name}\n{c.body}" for c in comments]

    def word_lists() -> None:
        for text, code in zip(texts, languages, strict=True):
            listed_terms(lists, text, code, read)

    runs: list[tuple[str, Callable[[], object]]] = [
        ("language", lambda: [detect(c.body) for c in comments]),
        ("word lists", word_lists),
        ("spam signals", lambda: [text_signals(c) for c in comments]),
        ("site model features", lambda: [textmodel.features(c.body) for c in comments]),
    ]
    return [Stage(name, *_timed(run, repeat, len(comments))) for name, run in runs]


async def redis_stages(
    redis: aioredis.Redis, settings: Settings, comments: Sequence[Comment], repeat: int
) -> list[Stage]:
    """The checks the worker runs per batch against Redis: the site model's verdicts
    and the spam score, both models taught `comments` first."""
    keys = Keys(settings.key_prefix)
    site = SiteModel(redis, keys, settings)
    spam = SpamScorer(redis, keys, settings)
    found = [textmodel.features(c.body) for c in comments]
    languages = [detect(c.body).code for c in comments]
    signals = [text_signals(c) for c in comments]
    size = settings.worker_batch_size
    batches = [
        range(start, min(start + size, len(comments))) for start in range(0, len(comments), size)
    ]

    async def verdicts() -> list[Any]:
        out: list[Any] = []
        for batch in batches:
            out += await site.verdicts([found[i] for i in batch], [languages[i] for i in batch])
        return out

    judged = await verdicts()

    async def spam_scores() -> None:
        for batch in batches:
            await spam.score_many(
                [comments[i] for i in batch],
                [signals[i] for i in batch],
                [content_evidence(judged[i]) for i in batch],
            )

    return [
        Stage("site model verdicts (Redis)", *await _timed_async(verdicts, repeat, len(comments))),
        Stage("spam score (Redis)", *await _timed_async(spam_scores, repeat, len(comments))),
    ]


async def _timed_async(
    run: Callable[[], Awaitable[object]], repeat: int, count: int
) -> tuple[float, float]:
    samples: list[tuple[float, float]] = []
    for _ in range(repeat):
        with _sample(samples):
            await run()
    return _fastest(samples, count)


async def _teach(redis: aioredis.Redis, settings: Settings, rows: Sequence[Any]) -> None:
    keys = Keys(settings.key_prefix)
    await learn_texts(
        SiteModel(redis, keys, settings).counts,
        ((f"seed:{n}", row.body, row.label) for n, row in enumerate(rows)),
    )
    spam = SpamScorer(redis, keys, settings)
    for row in rows:
        if row.label in ("ham", "spam"):
            await spam.learn(row.body, spam=row.label == "spam")
    # Full precision windows, as on a site whose moderators have decided for a while,
    # measured as the workers' training step measures them: each verdict reads that.
    site = SiteModel(redis, keys, settings)
    for language in WINDOW_LANGUAGES:
        for n in range(WINDOW):
            await site.record_outcome(
                language, would_publish=n % 3 == 0, approved=n % 97 != 0, evidence=-3.5 - n % 9
            )
    await site.remeasure(WINDOW_LANGUAGES)


async def run(settings: Settings, rows: Sequence[Any], repeat: int) -> dict[str, Any]:
    comments = [row.comment(article_id="bench") for row in rows]
    lists = Lists(*(WordList(seed_terms(kind)) for kind in ("banned", "suspect", "sensitive")))
    read = Policy.from_settings(settings, lists.banned, lists.suspect).covered_languages
    stages = text_stages(comments, lists, read, repeat)
    redis = connect(settings)  # as the worker's: commands packed in C
    try:
        await _teach(redis, settings, rows)
        stages += await redis_stages(redis, settings, comments, repeat)
    finally:
        await redis.aclose()
    return {
        "comments": len(comments),
        "repeat": repeat,
        "batch": settings.worker_batch_size,
        "load_average": round(os.getloadavg()[0], 2),
        "stages": [stage.to_dict() for stage in stages],
        "total_wall_ms": sum(stage.wall_ms for stage in stages),
        "total_cpu_ms": sum(stage.cpu_ms for stage in stages),
    }


def text(report: dict[str, Any], source: Path) -> str:
    lines = [
        f"{PROG}: {report['comments']} comments ({source}), fastest of {report['repeat']}, "
        f"batches of {report['batch']}; load average {report['load_average']}",
        "",
        f"{'check':<30}{'ms/comment':>12}{'CPU ms':>10}",
    ]
    for stage in report["stages"]:
        lines.append(f"{stage['stage']:<30}{stage['wall_ms']:>12.3f}{stage['cpu_ms']:>10.3f}")
    lines.append(
        f"{'all text checks':<30}{report['total_wall_ms']:>12.3f}{report['total_cpu_ms']:>10.3f}"
    )
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog=PROG, description=__doc__.split("\n")[0])
    parser.add_argument("--set", type=Path, default=DEFAULT_SET, help="labelled JSON-lines file")
    parser.add_argument("--repeat", type=int, default=3, help="runs of each stage (1-20)")
    parser.add_argument("--json", type=Path, help="also write the figures as JSON here")
    args = parser.parse_args(argv)
    if not 1 <= args.repeat <= 20:
        parser.error("--repeat takes 1 to 20")
    settings = entry.start(PROG, service="moderator-bench", stream=sys.stderr, level="warning")
    if settings is None:
        return entry.CONFIG_ERROR
    try:
        rows = load(args.set)
    except (OSError, LabelledSetError) as exc:
        return entry.fail(PROG, exc, entry.CONFIG_ERROR)
    if not rows:
        return entry.fail(PROG, LabelledSetError(f"{args.set}: no comments"), entry.CONFIG_ERROR)
    with PrivateRedis() as server:
        settings = dataclasses.replace(settings, redis_url=server.url, key_prefix="bench")
        report = asyncio.run(run(settings, rows, args.repeat))
    print(text(report, args.set))
    if args.json:
        args.json.write_text(json.dumps(report, indent=1) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
