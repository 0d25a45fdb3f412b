"""Storage for the moderators' side: queues, a comment's file, human decisions, audit,
word lists and statistics. No HTTP here (see `moderator.web.moderation`)."""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, cast

import redis.asyncio as aioredis
from redis.exceptions import ResponseError

from moderator.domain import Status, utc_now
from moderator.keys import Keys
from moderator.storage.decisions import Applied, Decision, DecisionStore
from moderator.webhooks import webhook_stats

# What moderators see of a comment: never the e-mail address or the IP.
REVIEW_FIELDS = (
    "id",
    "article_id",
    "parent_id",
    "name",
    "body",
    "url",
    "created_at",
    "decided_at",
    "status",
    "email_hash",
    "decision",
)
QUEUE_STATES = (Status.HELD, Status.REJECTED, Status.PUBLISHED)
MAX_SCAN = 2000  # entries looked at for one filtered page, at most
STATS_WINDOW_S = 24 * 3600

# A human action: the states it may start from and where it leads.
ACTIONS: dict[str, tuple[frozenset[Status], Status]] = {
    "approve": (frozenset({Status.HELD, Status.REJECTED}), Status.PUBLISHED),
    "reject": (frozenset({Status.HELD, Status.PUBLISHED}), Status.REJECTED),
    "takedown": (frozenset({Status.PUBLISHED}), Status.REJECTED),
}


@dataclass(frozen=True, slots=True)
class Filters:
    article_id: str | None = None
    language: str | None = None
    reason: str | None = None

    def match(self, item: dict[str, Any]) -> bool:
        if self.article_id and item.get("article_id") != self.article_id:
            return False
        decision = item.get("decision") or {}
        if self.language and (decision.get("language") or {}).get("code") != self.language:
            return False
        codes = [r.get("code", "") for r in decision.get("reasons", [])]
        return not self.reason or any(
            c == self.reason or c.startswith(self.reason + ".") for c in codes
        )


class Review:
    def __init__(self, redis: aioredis.Redis, keys: Keys, *, webhooks: bool) -> None:
        self._redis = redis
        self._keys = keys
        self._decisions = DecisionStore(redis, keys, webhooks=webhooks)

    async def queue(
        self, state: Status, filters: Filters, *, after: str | None, limit: int
    ) -> tuple[list[dict[str, Any]], str | None]:
        """A page of the state's queue, oldest first, filtered."""
        items: list[dict[str, Any]] = []
        cursor, scanned = after, 0
        while len(items) < limit and scanned < MAX_SCAN:
            start = f"({cursor}" if cursor else "-"
            ids = cast(
                list[str],
                await self._redis.zrange(
                    self._keys.queue(state), start, "+", bylex=True, offset=0, num=limit * 2
                ),
            )
            if not ids:
                return items, None
            for item in await self._items(ids):
                scanned += 1
                cursor = item["id"]
                if filters.match(item):
                    items.append(item)
                    if len(items) == limit:
                        break
        return items, cursor

    async def _items(self, ids: Sequence[str]) -> list[dict[str, Any]]:
        async with self._redis.pipeline(transaction=False) as pipe:
            for comment_id in ids:
                pipe.hmget(self._keys.comment(comment_id), REVIEW_FIELDS)
            rows = await pipe.execute()
        return [_review_item(row) for row in rows if row[0] is not None]

    async def comment(self, comment_id: str) -> dict[str, Any] | None:
        """A comment's file: the comment, its current decision and its whole history."""
        found = await self._items([comment_id])
        if not found:
            return None
        item = found[0]
        decision = item.pop("decision")
        return {
            "comment": item,
            "decision": decision,
            "history": await self._decisions.history(comment_id),
        }

    async def decide(
        self, comment_id: str, action: str, seen: Status | None, moderator: str, note: str | None
    ) -> tuple[Applied, Status | None]:
        """Apply a moderator's action; `seen` is the state they acted on (compare-and-set)."""
        fields = cast(
            list[str | None],
            await self._redis.hmget(
                self._keys.comment(comment_id), ["article_id", "status", "decision"]
            ),
        )
        article_id, current, previous = fields
        if article_id is None or current is None:
            return Applied("missing", ""), None
        allowed, target = ACTIONS[action]
        expected = seen or Status(current)
        if expected not in allowed or Status(current) != expected:
            return Applied("conflict", current), None
        decision = Decision(
            decision=target,
            by=f"moderator:{moderator}",
            at=utc_now(),
            action=action,
            note=note or None,
        )
        automatic = _was_automatic(previous)
        applied = await self._decisions.apply(
            comment_id,
            article_id,
            expected,
            decision,
            audit_extra=_override_facts(previous, decision.at) if automatic else None,
        )
        return applied, (expected if automatic else None)

    async def train(self, comment_id: str, label: str) -> None:
        """Queue a moderator's verdict for the spam model (workers learn from it)."""
        await self._redis.xadd(
            self._keys.spam_training, {"comment_id": comment_id, "label": label}, maxlen=100_000
        )

    async def audit(
        self, *, comment_id: str | None, before: str | None, limit: int
    ) -> tuple[list[dict[str, str]], str | None]:
        """Audit entries, newest first."""
        items: list[dict[str, str]] = []
        end = f"({before}" if before else "+"
        scanned = 0
        while len(items) < limit and scanned < MAX_SCAN:
            entries = cast(
                list[tuple[str, dict[str, str]]],
                await self._redis.xrevrange(self._keys.audit, max=end, min="-", count=limit * 2),
            )
            if not entries:
                return items, None
            for entry_id, fields in entries:
                scanned += 1
                end = f"({entry_id}"
                if comment_id is None or fields.get("comment_id") == comment_id:
                    items.append({"id": entry_id, **fields})
                    if len(items) == limit:
                        return items, entry_id
        return items, end[1:] if len(items) == limit else None

    async def wordlist(self, kind: str) -> list[str]:
        return sorted(cast(set[str], await self._redis.smembers(self._keys.wordlist(kind))))

    async def replace_wordlist(self, kind: str, terms: Sequence[str], moderator: str) -> None:
        keys = self._keys
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.delete(keys.wordlist(kind))
            if terms:
                pipe.sadd(keys.wordlist(kind), *terms)
            pipe.set(keys.wordlist_seeded(kind), "1")
            pipe.xadd(
                keys.audit,
                {
                    "action": f"wordlist.{kind}.replace",
                    "by": f"moderator:{moderator}",
                    "at": utc_now(),
                    "terms": str(len(terms)),
                },
            )
            await pipe.execute()

    async def stats(self, window_s: int = STATS_WINDOW_S) -> dict[str, Any]:
        keys = self._keys
        async with self._redis.pipeline(transaction=False) as pipe:
            for state in QUEUE_STATES:
                pipe.zcard(keys.queue(state))
            pipe.zrange(keys.queue(Status.HELD), 0, 0)
            pipe.xlen(keys.dead_letters)
            counts = await pipe.execute()
        queues = {state.value: int(n) for state, n in zip(QUEUE_STATES, counts, strict=False)}
        queues.update(await self._stream_backlog())
        oldest = counts[len(QUEUE_STATES)]
        return {
            "queues": queues,
            "oldest_held_age_s": await self._age_of(oldest[0]) if oldest else None,
            "dead_letters": int(counts[-1]),
            **await self._recent_decisions(window_s),
        }

    async def webhook_stats(self) -> dict[str, int]:
        return await webhook_stats(self._redis, self._keys)

    async def _stream_backlog(self) -> dict[str, int]:
        try:
            groups = await self._redis.xinfo_groups(self._keys.comments_stream)
        except ResponseError:  # no stream yet
            return {"pending": 0, "unacknowledged": 0}
        for group in groups:
            if group["name"] == self._keys.workers_group:
                return {
                    "pending": int(group.get("lag") or 0),
                    "unacknowledged": int(group["pending"]),
                }
        return {
            "pending": int(await self._redis.xlen(self._keys.comments_stream)),
            "unacknowledged": 0,
        }

    async def _age_of(self, comment_id: str) -> float | None:
        created = await self._redis.hget(self._keys.comment(comment_id), "created_at")
        if not created:
            return None
        from datetime import datetime

        moment = datetime.fromisoformat(str(created).replace("Z", "+00:00"))
        return round(time.time() - moment.timestamp(), 1)

    async def _recent_decisions(self, window_s: int) -> dict[str, Any]:
        """Decisions in the window from the audit stream: by reason, by language, and
        moderators' overrides of automatic decisions."""
        since = int((time.time() - window_s) * 1000)
        entries = cast(
            list[tuple[str, dict[str, str]]],
            await self._redis.xrange(self._keys.audit, min=str(since), max="+", count=100_000),
        )
        by_reason: Counter[str] = Counter()
        by_language: Counter[str] = Counter()
        by_decision: Counter[str] = Counter()
        overrides: Counter[str] = Counter()
        for _, fields in entries:
            if "to" not in fields:
                continue
            by_decision[fields["to"]] += 1
            if fields.get("by") == "auto":
                by_language[fields.get("language") or "unknown"] += 1
                for code in filter(None, fields.get("reasons", "").split(",")):
                    by_reason[code] += 1
            elif fields.get("overrides") == "auto":
                overrides[f"{fields['from']}->{fields['to']}"] += 1
        return {
            "window_s": window_s,
            "decisions": dict(by_decision),
            "decisions_by_reason": dict(by_reason),
            "decisions_by_language": dict(by_language),
            "overrides": dict(overrides),
        }


def _review_item(row: Sequence[str | None]) -> dict[str, Any]:
    item: dict[str, Any] = dict(zip(REVIEW_FIELDS, row, strict=True))
    raw = item.get("decision")
    item["decision"] = json.loads(raw) if raw else None
    item["status"] = item.get("status") or Status.PENDING.value
    return item


def _override_facts(raw_previous: str | None, now: str) -> dict[str, str]:
    """What the fairness report needs of a moderator overriding an automatic decision:
    the comment's language and script, and how long it waited."""
    previous = json.loads(raw_previous or "{}")
    language = previous.get("language") or {}
    facts = {
        "overrides": "auto",
        "language": language.get("code", ""),
        "script": language.get("script", ""),
    }
    try:
        from datetime import datetime

        started = datetime.fromisoformat(previous["at"].replace("Z", "+00:00"))
        ended = datetime.fromisoformat(now.replace("Z", "+00:00"))
        facts["waited_s"] = str(round((ended - started).total_seconds(), 1))
    except (KeyError, ValueError, AttributeError):
        pass
    return facts


def _was_automatic(raw_decision: str | None) -> bool:
    return bool(raw_decision) and json.loads(raw_decision or "{}").get("by") == "auto"
