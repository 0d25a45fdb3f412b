"""Decision records and the one atomic step that applies them.

A decision, automatic or human, moves a comment from the state its author saw
to a new one with a compare-and-set: the comment's status, its history, the
state queues, the article's feed, the audit stream and the webhook outbox
change together, or not at all. Nothing is overwritten: the history keeps
every record.
"""

from __future__ import annotations

import dataclasses
import json
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import redis.asyncio as aioredis

from moderator import keys as k
from moderator.domain import Status
from moderator.records import AuditEntry, OutboxEvent

# KEYS: comment, history, audit, feed, queue:published, queue:held, queue:rejected, stream,
# webhook outbox
# ARGV: expected status, new status, decided_at, record JSON, comment id, stream entry id
# ("" when not from the stream), the audit entry's fields as a flat JSON list
# (`AuditEntry.to_fields`), the webhook event's likewise (`OutboxEvent`) or "" for none.
COUNTS_TTL_S = 2 * 24 * 3600  # per-minute decision counters: two days of them

DECIDE_SCRIPT = """
local status = redis.call('HGET', KEYS[1], 'status')
if not status then return {'missing', ''} end
if status ~= ARGV[1] then
  if ARGV[6] ~= '' then redis.call('XACK', KEYS[8], 'GROUP', ARGV[6]) end
  return {'conflict', status}
end
local id, new = ARGV[5], ARGV[2]
redis.call('HSET', KEYS[1], 'status', new, 'decided_at', ARGV[3], 'decision', ARGV[4])
if new == 'published' and status ~= 'published' then
  redis.call('HSET', KEYS[1], 'published_at', ARGV[3])
end
redis.call('RPUSH', KEYS[2], ARGV[4])
redis.call('ZREM', KEYS[5], id)
redis.call('ZREM', KEYS[6], id)
redis.call('ZREM', KEYS[7], id)
local queues = {published = KEYS[5], held = KEYS[6], rejected = KEYS[7]}
redis.call('ZADD', queues[new], 0, id)
if new == 'published' then
  redis.call('ZADD', KEYS[4], 0, id)
else
  redis.call('ZREM', KEYS[4], id)
end
redis.call('XADD', KEYS[3], '*', unpack(cjson.decode(ARGV[7])))
if ARGV[8] ~= '' then
  redis.call('XADD', KEYS[9], '*', unpack(cjson.decode(ARGV[8])))
end
for _, field in ipairs(cjson.decode(ARGV[9])) do redis.call('HINCRBY', KEYS[10], field, 1) end
redis.call('EXPIRE', KEYS[10], ARGV[10])
if ARGV[6] ~= '' then redis.call('XACK', KEYS[8], 'GROUP', ARGV[6]) end
return {'ok', new}
""".replace("'GROUP'", "'" + k.WORKERS_GROUP + "'")


@dataclass(frozen=True, slots=True)
class Reason:
    """Why a comment was held or rejected: a stable code and what it rests on."""

    code: str
    score: float | None = None
    threshold: float | None = None
    match: str | None = None
    detail: str | None = None
    languages: tuple[str, ...] | None = None  # a word-list match: where the term insults
    meaning: str | None = None  # ... and what it means, for moderators

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"code": self.code}
        for name in ("score", "threshold", "match", "detail", "languages", "meaning"):
            value = getattr(self, name)
            if isinstance(value, tuple):
                out[name] = list(value)
            elif value is not None:
                out[name] = round(value, 4) if isinstance(value, float) else value
        return out


@dataclass(frozen=True, slots=True)
class Decision:
    """A decision record (DESIGN.md section 5). `by` is "auto" or "moderator:<name>"."""

    decision: Status
    by: str
    at: str
    reasons: tuple[Reason, ...] = ()
    policy: str | None = None
    language: dict[str, Any] | None = None  # code, script, read_by_model
    scores: dict[str, Any] | None = None
    model: dict[str, Any] | None = None
    action: str | None = None
    note: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "decision": self.decision.value,
            "by": self.by,
            "at": self.at,
            "reasons": [r.to_dict() for r in self.reasons],
        }
        for name in ("policy", "language", "scores", "model", "action", "note"):
            value = getattr(self, name)
            if value is not None:
                out[name] = value
        out.update(self.extra)
        return out


@dataclass(frozen=True, slots=True)
class Applied:
    """What the compare-and-set found: `ok`, `conflict` (with the current status) or `missing`."""

    outcome: str
    status: str


class DecisionStore:
    def __init__(self, redis: aioredis.Redis, keys: k.Keys, *, webhooks: bool = False) -> None:
        """With `webhooks`, every change also queues an event on the webhook outbox,
        in the same atomic step."""
        self._redis = redis
        self._keys = keys
        self._webhooks = webhooks

    async def apply(
        self,
        comment_id: str,
        article_id: str,
        expected: Status,
        decision: Decision,
        *,
        entry_id: str = "",
        audit_extra: Mapping[str, Any] | None = None,
    ) -> Applied:
        """Move the comment from `expected` to `decision.decision`; with `entry_id`, also
        acknowledge its stream entry in the same step (decided or found decided).
        `audit_extra` sets more fields of its `AuditEntry` (an action, override facts)."""
        keys = self._keys
        record = json.dumps(decision.to_dict(), ensure_ascii=False, separators=(",", ":"))
        language = decision.language or {}
        audit = AuditEntry(
            by=decision.by,
            at=decision.at,
            comment_id=comment_id,
            article_id=article_id,
            from_status=expected,
            to=decision.decision,
            reasons=tuple(r.code for r in decision.reasons),
            note=decision.note or None,
            language=language.get("code", "") if language else None,
            script=language.get("script", "") if language else None,
        )
        audit = dataclasses.replace(audit, **(audit_extra or {}))
        event = OutboxEvent.of_change(
            comment_id, article_id, expected, decision.decision, at=decision.at, by=decision.by
        )
        outcome, status = await self._redis.eval(
            DECIDE_SCRIPT,
            10,
            keys.comment(comment_id),
            keys.history(comment_id),
            keys.audit,
            keys.feed(article_id),
            keys.queue(Status.PUBLISHED),
            keys.queue(Status.HELD),
            keys.queue(Status.REJECTED),
            keys.comments_stream,
            keys.webhook_outbox,
            keys.decision_counts(int(time.time()) // 60),
            expected.value,
            decision.decision.value,
            decision.at,
            record,
            comment_id,
            entry_id,
            _flat_json(audit.to_fields()),
            _flat_json(event.to_fields()) if self._webhooks else "",
            json.dumps(counted(audit), ensure_ascii=False),
            COUNTS_TTL_S,
        )
        return Applied(str(outcome), str(status))

    async def history(self, comment_id: str) -> list[dict[str, Any]]:
        records = await self._redis.lrange(self._keys.history(comment_id), 0, -1)
        return [json.loads(r) for r in records]


def _flat_json(fields: Mapping[str, str]) -> str:
    """Fields as the JSON list the script unpacks into XADD: name, value, name, value…"""
    return json.dumps([part for item in fields.items() for part in item], ensure_ascii=False)


def counted(entry: AuditEntry) -> list[str]:
    """The counters a decision adds to (`moderator.operations.stats` sums them): by
    decision; automatic ones by language and reason; moderators' overrides."""
    if entry.to is None:
        return []
    fields = [f"decision:{entry.to.value}"]
    if entry.automatic:
        fields.append(f"language:{entry.language or 'unknown'}")
        fields += [f"reason:{code}" for code in entry.reasons or ()]
    elif entry.overrides_automatic and entry.from_status is not None:
        fields.append(f"override:{entry.from_status.value}->{entry.to.value}")
    return fields
