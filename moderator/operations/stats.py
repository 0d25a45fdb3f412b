"""The system's state, assembled once for `moderator stats`, `GET /v1/moderation/stats`
and `/metrics`: queue depths and stream backlog, the oldest held comment, dead letters,
live workers, webhook deliveries and, over a window, decisions from per-minute counters.
"""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

import redis.asyncio as aioredis
from redis.exceptions import ResponseError

from moderator.domain import Status
from moderator.keys import Keys
from moderator.operations import fleet
from moderator.storage.review import QUEUE_STATES
from moderator.webhooks.stats import webhook_stats

WINDOW_S = 24 * 3600  # decisions counted by default
MAX_WINDOW_S = 2 * 24 * 3600  # as long as the counters are kept
_COUNTED = ("decision", "reason", "language", "override")


@dataclass(frozen=True, slots=True)
class SystemStats:
    queues: dict[str, int]  # per state, and the stream's "pending" and "unacknowledged"
    oldest_held_age_s: float | None
    dead_letters: int
    workers_alive: list[str]
    webhooks: dict[str, int]
    recent: dict[str, Any]  # decisions in the window; empty when none was asked for

    def to_dict(self, *, workers: bool = True) -> dict[str, Any]:
        """The report as `moderator stats --json` prints it; without `workers`, as the
        moderation API answers it."""
        out: dict[str, Any] = {
            "queues": self.queues,
            "oldest_held_age_s": self.oldest_held_age_s,
            "dead_letters": self.dead_letters,
            **self.recent,
        }
        if workers:
            out["workers_alive"] = self.workers_alive
        out["webhooks"] = self.webhooks
        return out


async def collect(
    redis: aioredis.Redis, keys: Keys, *, window_s: int | None = WINDOW_S
) -> SystemStats:
    """Everything at once; the decisions of the last `window_s` seconds unless None."""
    async with redis.pipeline(transaction=False) as pipe:
        for state in QUEUE_STATES:
            pipe.zcard(keys.queue(state))
        pipe.zrange(keys.queue(Status.HELD), 0, 0)
        pipe.xlen(keys.dead_letters)
        counts = await pipe.execute()
    queues = {state.value: int(n) for state, n in zip(QUEUE_STATES, counts, strict=False)}
    queues.update(await _stream_backlog(redis, keys))
    oldest = counts[len(QUEUE_STATES)]
    return SystemStats(
        queues=queues,
        oldest_held_age_s=await _age_of(redis, keys, oldest[0]) if oldest else None,
        dead_letters=int(counts[-1]),
        workers_alive=await fleet.live_workers(redis, keys),
        webhooks=await webhook_stats(redis, keys),
        recent={} if window_s is None else await recent_decisions(redis, keys, window_s),
    )


async def _stream_backlog(redis: aioredis.Redis, keys: Keys) -> dict[str, int]:
    """Queued entries no worker has read yet, and those read but not acknowledged."""
    try:
        groups = await redis.xinfo_groups(keys.comments_stream)
    except ResponseError:  # no stream yet
        return {"pending": 0, "unacknowledged": 0}
    for group in groups:
        if group["name"] == keys.workers_group:
            return {
                "pending": int(group.get("lag") or 0),
                "unacknowledged": int(group["pending"]),
            }
    return {"pending": int(await redis.xlen(keys.comments_stream)), "unacknowledged": 0}


async def _age_of(redis: aioredis.Redis, keys: Keys, comment_id: str) -> float | None:
    created = await redis.hget(keys.comment(comment_id), "created_at")
    if not created:
        return None
    moment = datetime.fromisoformat(str(created).replace("Z", "+00:00"))
    return round(time.time() - moment.timestamp(), 1)


async def recent_decisions(redis: aioredis.Redis, keys: Keys, window_s: int) -> dict[str, Any]:
    """Decisions in the window, from the per-minute counters the decision step keeps
    (`storage.decisions.counted`): by decision, by reason and language (automatic ones),
    and moderators' overrides of automatic decisions. The cost is one small hash a
    minute of the window, however many decisions there were."""
    window_s = max(60, min(window_s, MAX_WINDOW_S))
    now = int(time.time()) // 60
    async with redis.pipeline(transaction=False) as pipe:
        for minute in range(now - window_s // 60 + 1, now + 1):
            pipe.hgetall(keys.decision_counts(minute))
        buckets = cast(list[dict[str, str]], await pipe.execute())
    totals: Counter[str] = Counter()
    for bucket in buckets:
        totals.update({field: int(value) for field, value in bucket.items()})
    grouped: dict[str, dict[str, int]] = {kind: {} for kind in _COUNTED}
    for field, count in totals.items():
        kind, _, name = field.partition(":")
        if kind in grouped:
            grouped[kind][name] = count
    return {
        "window_s": window_s,
        "decisions": grouped["decision"],
        "decisions_by_reason": grouped["reason"],
        "decisions_by_language": grouped["language"],
        "overrides": grouped["override"],
    }
