"""What an operator asks of Redis: live workers, dead letters, worker metrics.

Workers record a heartbeat and their counters in Redis; the service reads
them for `/readyz`, `/metrics` and `moderator stats`, so there is one place
to scrape however many workers run.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import cast

import redis.asyncio as aioredis

from moderator.keys import Keys
from moderator.records import DeadLetter, stream_fields

HEARTBEAT_TTL_S = 15.0

# Scoring-time histogram buckets (seconds), shared by workers (writing) and the
# service (exposing).
SCORING_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


async def heartbeat(redis: aioredis.Redis, keys: Keys, name: str) -> None:
    """Say this worker is alive for the next HEARTBEAT_TTL_S seconds."""
    now_ms = int(time.time() * 1000)
    async with redis.pipeline(transaction=False) as pipe:
        pipe.zadd(keys.workers_alive, {name: now_ms + int(HEARTBEAT_TTL_S * 1000)})
        pipe.zremrangebyscore(keys.workers_alive, "-inf", now_ms)
        await pipe.execute()


async def forget_worker(redis: aioredis.Redis, keys: Keys, name: str) -> None:
    await redis.zrem(keys.workers_alive, name)


async def live_workers(redis: aioredis.Redis, keys: Keys) -> list[str]:
    now_ms = int(time.time() * 1000)
    return cast(list[str], await redis.zrangebyscore(keys.workers_alive, now_ms, "+inf"))


async def dead_letters(
    redis: aioredis.Redis, keys: Keys, count: int = 1000
) -> list[tuple[str, DeadLetter]]:
    """The oldest `count` dead letters, each with its id on the dead-letter stream."""
    entries = cast(
        list[tuple[str, dict[str, str]]], await redis.xrange(keys.dead_letters, count=count)
    )
    return [(dead_id, DeadLetter.from_fields(fields)) for dead_id, fields in entries]


async def retry_dead_letters(
    redis: aioredis.Redis, keys: Keys, ids: Sequence[str] | None
) -> list[str]:
    """Queue dead letters again (all of them when `ids` is None); returns the comment ids
    queued. Each is moved in one transaction: queued again and removed from the dead."""
    wanted = set(ids) if ids is not None else None
    queued = []
    for dead_id, letter in await dead_letters(redis, keys, count=100_000):
        if wanted is not None and dead_id not in wanted:
            continue
        async with redis.pipeline(transaction=True) as pipe:
            pipe.xadd(keys.comments_stream, stream_fields(letter.queued()))
            pipe.xdel(keys.dead_letters, dead_id)
            await pipe.execute()
        queued.append(letter.comment_id)
    return queued


async def record_batch(
    redis: aioredis.Redis,
    keys: Keys,
    *,
    outcomes: Sequence[tuple[str, Sequence[str]]],
    batch_s: float,
) -> None:
    """A worker's counters for one batch: decisions by decision and reason, and the
    scoring time of the batch and of each comment in it (histograms)."""
    if not outcomes:
        return
    per_comment = batch_s / len(outcomes)
    async with redis.pipeline(transaction=False) as pipe:
        for decision, reasons in outcomes:
            for reason in reasons or ("none",):
                pipe.hincrby(keys.metrics("decisions"), f"{decision}|{reason}", 1)
        for name, seconds, times in (
            ("batch", batch_s, 1),
            ("comment", per_comment, len(outcomes)),
        ):
            histogram = keys.metrics(f"scoring_{name}")
            pipe.hincrbyfloat(histogram, "sum", seconds * times)
            pipe.hincrby(histogram, "count", times)
            for bound in SCORING_BUCKETS:
                if seconds <= bound:
                    pipe.hincrby(histogram, str(bound), times)
        await pipe.execute()
