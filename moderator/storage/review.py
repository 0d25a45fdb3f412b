"""Storage for the moderators' side: queues, a comment's file, human decisions and
audit. No HTTP here (see `moderator.web.moderation`); the statistics are in
`moderator.operations.stats`, the word lists in `moderator.storage.wordlists`."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

import redis.asyncio as aioredis

from moderator.domain import Status, utc_now
from moderator.keys import Keys
from moderator.records import AUTO, AuditEntry, TrainingExample, stream_fields
from moderator.storage.decisions import Applied, Decision, DecisionStore

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
SUMMARY_SCAN = 10_000  # comments counted by the queue's summary, at most
# What the summary reads of each comment: what the filters and the counts need, no text.
SUMMARY_FIELDS = ("id", "article_id", "status", "decision")

# A human action: the states it may start from and where it leads.
ACTIONS: dict[str, tuple[frozenset[Status], Status]] = {
    "approve": (frozenset({Status.HELD, Status.REJECTED}), Status.PUBLISHED),
    "reject": (frozenset({Status.HELD, Status.PUBLISHED}), Status.REJECTED),
    "takedown": (frozenset({Status.PUBLISHED}), Status.REJECTED),
}


# Why a comment is held, grouped for moderators: a reason code's family. "language"
# means held for its language alone (no model reads it, or the site model has not
# proven itself there): the comments a moderator can clear fastest.
LANGUAGE_ONLY = frozenset(
    {
        "language.not_covered",
        "site_model.unproven",
        "site_model.sensitive",
        "site_model.audit_sample",
    }
)
FAMILIES = ("language", "words", "spam", "toxicity", "site_model", "check_failed")
RANKS = ("likely_fine", "suspect")
_FAMILY_OF_PREFIX = {
    "wordlist": "words",
    "spam": "spam",
    "toxicity": "toxicity",
    "site_model": "site_model",
    "check_failed": "check_failed",
}


def families(decision: dict[str, Any] | None) -> set[str]:
    """The families of a decision's reasons ("language" only when that is all)."""
    codes = [str(r.get("code", "")) for r in (decision or {}).get("reasons", [])]
    if codes and all(code in LANGUAGE_ONLY for code in codes):
        return {"language"}
    found = set()
    for code in codes:
        if code not in LANGUAGE_ONLY:
            family = _FAMILY_OF_PREFIX.get(code.split(".", 1)[0])
            if family:
                found.add(family)
    return found


@dataclass(frozen=True, slots=True)
class Filters:
    article_id: str | None = None
    language: str | None = None
    reason: str | None = None
    family: str | None = None  # one of FAMILIES
    rank: str | None = None  # one of RANKS: the site model's ranking of a held comment

    def match(self, item: dict[str, Any]) -> bool:
        if self.article_id and item.get("article_id") != self.article_id:
            return False
        decision = item.get("decision") or {}
        if self.language and (decision.get("language") or {}).get("code") != self.language:
            return False
        if self.family and self.family not in families(decision):
            return False
        if self.rank and decision.get("rank") != self.rank:
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

    async def summary(self, state: Status, filters: Filters) -> dict[str, Any]:
        """How many of the state's comments (matching `filters`) fall in each family
        and each rank, over at most SUMMARY_SCAN of them (`complete` says whether
        that was all)."""
        by_family = dict.fromkeys(FAMILIES, 0)
        by_rank = dict.fromkeys(RANKS, 0)
        total, cursor = 0, None
        while total < SUMMARY_SCAN:
            start = f"({cursor}" if cursor else "-"
            ids = cast(
                list[str],
                await self._redis.zrange(
                    self._keys.queue(state), start, "+", bylex=True, offset=0, num=500
                ),
            )
            if not ids:
                break
            cursor = ids[-1]
            for item in await self._items(ids, SUMMARY_FIELDS):
                if not filters.match(item):
                    continue
                total += 1
                for family in families(item["decision"]):
                    by_family[family] += 1
                rank = (item["decision"] or {}).get("rank")
                if rank in by_rank:
                    by_rank[rank] += 1
        more = total >= SUMMARY_SCAN
        return {"total": total, "families": by_family, "ranks": by_rank, "complete": not more}

    async def _items(
        self, ids: Sequence[str], fields: Sequence[str] = REVIEW_FIELDS
    ) -> list[dict[str, Any]]:
        async with self._redis.pipeline(transaction=False) as pipe:
            for comment_id in ids:
                pipe.hmget(self._keys.comment(comment_id), fields)
            rows = await pipe.execute()
        return [_review_item(fields, row) for row in rows if row[0] is not None]

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
        self,
        comment_id: str,
        action: str,
        seen: Status | None,
        moderator: str,
        note: str | None,
        teaches: str | None = None,
    ) -> tuple[Applied, Status | None]:
        """Apply a moderator's action; `seen` is the state they acted on (compare-and-set);
        `teaches` what a rejection says the comment is ("spam", "abusive"), audited."""
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
            extra={"teaches": teaches} if teaches else {},
        )
        automatic = _was_automatic(previous)
        audit_extra = _override_facts(previous, decision.at) if automatic else {}
        if teaches:
            audit_extra["teaches"] = teaches
        applied = await self._decisions.apply(
            comment_id, article_id, expected, decision, audit_extra=audit_extra or None
        )
        return applied, (expected if automatic else None)

    async def train(self, comment_id: str, label: str) -> None:
        """Queue a moderator's verdict for the spam model (workers learn from it)."""
        example = TrainingExample(comment_id, label)
        await self._redis.xadd(self._keys.spam_training, stream_fields(example), maxlen=100_000)

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
                if comment_id is None or AuditEntry.from_fields(fields).comment_id == comment_id:
                    items.append({"id": entry_id, **fields})
                    if len(items) == limit:
                        return items, entry_id
        return items, end[1:] if len(items) == limit else None


def _review_item(fields: Sequence[str], row: Sequence[str | None]) -> dict[str, Any]:
    item: dict[str, Any] = dict(zip(fields, row, strict=True))
    raw = item.get("decision")
    item["decision"] = json.loads(raw) if raw else None
    item["status"] = item.get("status") or Status.PENDING.value
    return item


def _override_facts(raw_previous: str | None, now: str) -> dict[str, Any]:
    """What the fairness report needs of a moderator overriding an automatic decision
    (`AuditEntry` fields): the comment's language and script, and how long it waited."""
    previous = json.loads(raw_previous or "{}")
    language = previous.get("language") or {}
    facts: dict[str, Any] = {
        "overrides": AUTO,
        "language": language.get("code", ""),
        "script": language.get("script", ""),
    }
    try:
        started = datetime.fromisoformat(previous["at"].replace("Z", "+00:00"))
        ended = datetime.fromisoformat(now.replace("Z", "+00:00"))
        facts["waited_s"] = round((ended - started).total_seconds(), 1)
    except (KeyError, ValueError, AttributeError):
        pass
    return facts


def _was_automatic(raw_decision: str | None) -> bool:
    return bool(raw_decision) and json.loads(raw_decision or "{}").get("by") == AUTO
