"""Decision records and the one atomic step that applies them.

A decision, automatic or human, moves a comment from the state its author saw
to a new one with a compare-and-set: the comment's status, its history, the
state queues, the article's feed and the audit stream change together, or
not at all. Nothing is overwritten: the history keeps every record.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import redis.asyncio as aioredis

from moderator import keys as k
from moderator.domain import Status

# KEYS: comment, history, audit, feed, queue:published, queue:held, queue:rejected, stream,
# webhook outbox
# ARGV: expected status, new status, decided_at, record JSON, comment id, stream entry id
# ("" when not from the stream), audit fields as JSON, "1" to queue a webhook event.
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
local audit, flat = cjson.decode(ARGV[7]), {}
for name, value in pairs(audit) do flat[#flat + 1] = name; flat[#flat + 1] = value end
redis.call('XADD', KEYS[3], '*', unpack(flat))
if ARGV[8] == '1' then
  local kind = 'comment.' .. new
  if new == 'rejected' and status == 'published' then kind = 'comment.taken_down' end
  redis.call('XADD', KEYS[9], '*', 'type', kind, 'comment_id', id,
             'article_id', audit['article_id'], 'status', new, 'from', status,
             'at', ARGV[3], 'by', audit['by'])
end
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

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"code": self.code}
        for name in ("score", "threshold", "match", "detail"):
            value = getattr(self, name)
            if value is not None:
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
    language: dict[str, str] | None = None
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
        audit_extra: dict[str, str] | None = None,
    ) -> Applied:
        """Move the comment from `expected` to `decision.decision`; with `entry_id`, also
        acknowledge its stream entry in the same step (decided or found decided)."""
        keys = self._keys
        record = json.dumps(decision.to_dict(), ensure_ascii=False, separators=(",", ":"))
        audit = {
            "comment_id": comment_id,
            "article_id": article_id,
            "from": expected.value,
            "to": decision.decision.value,
            "by": decision.by,
            "at": decision.at,
            "reasons": ",".join(r.code for r in decision.reasons),
        }
        if decision.note:
            audit["note"] = decision.note
        if decision.language:
            audit["language"] = decision.language.get("code", "")
            audit["script"] = decision.language.get("script", "")
        audit.update(audit_extra or {})
        outcome, status = await self._redis.eval(
            DECIDE_SCRIPT,
            9,
            keys.comment(comment_id),
            keys.history(comment_id),
            keys.audit,
            keys.feed(article_id),
            keys.queue(Status.PUBLISHED),
            keys.queue(Status.HELD),
            keys.queue(Status.REJECTED),
            keys.comments_stream,
            keys.webhook_outbox,
            expected.value,
            decision.decision.value,
            decision.at,
            record,
            comment_id,
            entry_id,
            json.dumps(audit, ensure_ascii=False),
            "1" if self._webhooks else "",
        )
        return Applied(str(outcome), str(status))

    async def history(self, comment_id: str) -> list[dict[str, Any]]:
        records = await self._redis.lrange(self._keys.history(comment_id), 0, -1)
        return [json.loads(r) for r in records]
