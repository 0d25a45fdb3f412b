"""`moderator eval --set FILE`: the worker's own decision path over a labelled set.

In a private Redis, each comment goes through the store and a real `Worker`
(language, word lists, spam, the site model, and detoxify when
`MODERATOR_MODEL_DIR` holds a model; without one, a toxicity model that finds
nothing, so that only the parts this project owns decide). It prints, per
language × label, how many were published, held and rejected, how the held
ones are ranked, every wrong decision with its reasons, and the targets of the
decisions issue with a pass or fail each. It exits 0 whatever the figures;
`--check` exits 1 when a target is missed (CI).

Two situations, as a site meets them:
- a **fresh install** (default): the site model seeded from the shipped
  labelled comments, no moderator's decision yet, so it ranks but never publishes;
- a **warmed** model (`--replay FILE`): FILE replayed first as moderators'
  decisions (`workers.labelled.Replayer`), which teaches the models and
  measures the site model's precision per language; the shipped seed is not
  used then (the replayed set is the training). `--seed FILE` seeds from FILE
  instead of the shipped examples (to measure on data the seed did not see).

`--folds K` measures a set on itself without learning what it judges (how the
thresholds and word lists were set on the train split, never on the held-out one):
the set is cut into K folds within each language × label (by the sha256 of each
body, so the cut is the same every run), and each fold is decided by a site model
seeded from the other folds, or, with `--warmed`, after replaying them as
moderators' decisions in file order. The tables and targets pool the K folds.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import hashlib
import json
import sys
import time
import uuid
from collections.abc import Sequence
from pathlib import Path

import redis.asyncio as aioredis

from moderator import entry
from moderator.keys import Keys
from moderator.local.redis_server import PrivateRedis
from moderator.settings import Settings
from moderator.storage.textcounts import TextCounts
from workers.evalreport import Outcome, Report
from workers.labelled import Labelled, LabelledSetError, Replayer, load, worker_for
from workers.sitemodel import SiteModel
from workers.training import learn_texts

PROG = "moderator eval"
STATUS_LANGUAGES = ("ar", "ary", "mixed", "fr", "en")


async def evaluate(
    settings: Settings,
    rows: Sequence[Labelled],
    *,
    replay: Sequence[Labelled] = (),
    seed: Sequence[Labelled] | None = None,
) -> Report:
    """Decide `rows` in the Redis of `settings` (after replaying `replay`); the site
    model seeded from `seed` instead of the shipped examples when it is given."""
    settings = dataclasses.replace(
        settings,
        key_prefix=f"eval-{uuid.uuid4().hex[:8]}",
        site_model_seed=settings.site_model_seed and not replay and seed is None,
        site_model_remeasure_s=0.0,  # after every training step: the same figures every run
    )
    redis = aioredis.Redis.from_url(settings.effective_redis_url, decode_responses=True)
    worker = worker_for(redis, settings, "eval")
    replayer = Replayer(redis, settings, worker)
    try:
        await worker.setup()
        if seed:
            counts = TextCounts(redis, Keys(settings.key_prefix))
            await learn_texts(
                counts, ((f"seed:{n}", row.body, row.label) for n, row in enumerate(seed))
            )
        replayed = await replayer.replay(replay) if replay else 0
        started = time.perf_counter()
        ids = await replayer.submit(rows)
        seconds = time.perf_counter() - started
        records = await replayer.decisions(ids)
        site = SiteModel(redis, Keys(settings.key_prefix), settings)
        statuses = [s.to_dict() for s in await site.statuses(STATUS_LANGUAGES)]
    finally:
        await replayer.close()
        await redis.aclose()
    outcomes = [Outcome.of(row, record) for row, record in zip(rows, records, strict=True)]
    return Report(
        outcomes, warmed=bool(replay), replayed=replayed, seconds=seconds, site_model=statuses
    )


def folds(rows: Sequence[Labelled], count: int) -> list[int]:
    """Each row's fold, 0 to `count` - 1: within each language × label, rows in the order
    of their body's sha256 go to the folds in turn."""
    groups: dict[tuple[str, str], list[int]] = {}
    for index, row in enumerate(rows):
        groups.setdefault((row.lang, row.label), []).append(index)
    fold = [0] * len(rows)
    for indices in groups.values():
        indices.sort(key=lambda i: hashlib.sha256(rows[i].body.encode()).hexdigest())
        for position, index in enumerate(indices):
            fold[index] = position % count
    return fold


async def cross_validate(
    settings: Settings, rows: Sequence[Labelled], count: int, *, warmed: bool
) -> Report:
    """Each fold decided as `evaluate` decides a set, the site model taught the other
    folds (seeded, or replayed as decisions with `warmed`); the outcomes pooled."""
    fold = folds(rows, count)
    outcomes: list[Outcome] = []
    replayed, seconds = 0, 0.0
    for k in range(count):
        judged = [row for row, f in zip(rows, fold, strict=True) if f == k]
        taught = [row for row, f in zip(rows, fold, strict=True) if f != k]
        report = await evaluate(
            settings,
            judged,
            replay=taught if warmed else (),
            seed=None if warmed else taught,
        )
        outcomes += report.outcomes
        replayed += report.replayed
        seconds += report.seconds
    return Report(outcomes, warmed=warmed, replayed=replayed, seconds=seconds)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog=PROG, description=__doc__.split("\n")[0])
    parser.add_argument("--set", required=True, type=Path, help="labelled JSON-lines file")
    parser.add_argument("--replay", type=Path, help="replay this set as moderators' decisions")
    parser.add_argument("--seed", type=Path, help="seed the site model from this set instead")
    parser.add_argument("--json", type=Path, help="also write the report as JSON here")
    parser.add_argument("--check", action="store_true", help="exit 1 when a target is missed")
    parser.add_argument(
        "--folds", type=int, help="cross-validate the set on itself in this many folds (2-10)"
    )
    parser.add_argument(
        "--warmed", action="store_true", help="with --folds: replay the other folds first"
    )
    args = parser.parse_args(argv)
    if args.folds is not None and not 2 <= args.folds <= 10:
        parser.error("--folds takes 2 to 10")
    if args.folds is not None and (args.replay or args.seed):
        parser.error("--folds teaches each fold the others: not with --replay or --seed")
    if args.warmed and args.folds is None:
        parser.error("--warmed goes with --folds (else use --replay FILE)")
    settings = entry.start(PROG, service="moderator-eval", stream=sys.stderr, level="warning")
    if settings is None:
        return entry.CONFIG_ERROR
    try:
        rows = load(args.set)
        replay = load(args.replay) if args.replay else []
        seed = load(args.seed) if args.seed else None
    except (OSError, LabelledSetError) as exc:
        return entry.fail(PROG, exc, entry.CONFIG_ERROR)
    with PrivateRedis() as server:
        settings = dataclasses.replace(settings, redis_url=server.url)
        if args.folds:
            report = asyncio.run(cross_validate(settings, rows, args.folds, warmed=args.warmed))
        else:
            report = asyncio.run(evaluate(settings, rows, replay=replay, seed=seed))
    print(report.text())
    if args.json:
        args.json.write_text(json.dumps(report.to_dict(), ensure_ascii=False, indent=1))
    return 1 if args.check and not report.passed else 0


if __name__ == "__main__":
    raise SystemExit(main())
