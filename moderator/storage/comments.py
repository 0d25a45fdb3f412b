"""Comments in Redis: stored and queued in one atomic step, read back by id.

Storage knows nothing of HTTP. Every Redis failure surfaces as
`StoreUnavailable`, raised within `deadline_s`, so callers answer 503 quickly
instead of hanging.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import ipaddress
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, cast

import orjson
import redis.asyncio as aioredis
from redis.exceptions import RedisError

from moderator import keys as k
from moderator import records
from moderator.domain import Comment
from moderator.errors import IdempotencyConflict, StoreUnavailable
from moderator.operations import fleet as ops
from moderator.settings import Settings
from moderator.storage.batching import ScriptBatcher

# Store the comment and queue its id, or neither. Optional checks first:
# a replayed Idempotency-Key returns the first answer; a reply's parent must
# exist under the same article; the rate limits (per IP, e-mail hash and
# article, per minute) must have room, and count the comment only when it is
# stored. Unused optional keys are passed as the comment's key. Running it twice
# for one comment (a client retry after a lost reply) queues the comment once.
# One call carries many comments (group commit), one after another, each with
# SUBMIT_KEYS keys and SUBMIT_ARGS arguments; the reply is one pair a comment.
# KEYS: comment, stream, idempotency, parent, rate ip, rate e-mail, rate article
# ARGV: fingerprint, idempotency TTL, comment id, article id, fields JSON,
#       limit ip, limit e-mail, limit article, end of the rate window (Unix time):
#       a refused comment's Retry-After is the time left in the window.
SUBMIT_KEYS, SUBMIT_ARGS = 7, 9
SUBMIT_SCRIPT = """
local function submit(K, A)
  local comment_key, stream_key, idem_key, parent_key = KEYS[K+1], KEYS[K+2], KEYS[K+3], KEYS[K+4]
  local fingerprint, ttl, comment_id, article_id = ARGV[A+1], ARGV[A+2], ARGV[A+3], ARGV[A+4]
  if redis.call('EXISTS', comment_key) == 1 then return {'created', comment_id} end
  if idem_key ~= comment_key then
    local previous = redis.call('GET', idem_key)
    if previous then return {'replay', previous} end
  end
  if parent_key ~= comment_key then
    if redis.call('HGET', parent_key, 'article_id') ~= article_id then
      return {'parent_not_found', ''}
    end
  end
  for i = 5, 7 do
    if KEYS[K+i] ~= comment_key then
      local used = tonumber(redis.call('GET', KEYS[K+i]) or '0')
      if used >= tonumber(ARGV[A+i+1]) then
        return {'rate_limited', tostring(math.max(redis.call('TTL', KEYS[K+i]), 1))}
      end
    end
  end
  local fields, flat = cjson.decode(ARGV[A+5]), {}
  for name, value in pairs(fields) do flat[#flat + 1] = name; flat[#flat + 1] = value end
  redis.call('HSET', comment_key, unpack(flat))
  redis.call('XADD', stream_key, '*', 'ID_FIELD', comment_id, 'ARTICLE_FIELD', article_id)
  if idem_key ~= comment_key then
    redis.call('SET', idem_key, fingerprint .. ' ' .. comment_id, 'EX', ttl)
  end
  for i = 5, 7 do
    if KEYS[K+i] ~= comment_key then
      redis.call('INCR', KEYS[K+i])
      redis.call('EXPIREAT', KEYS[K+i], ARGV[A+9])
    end
  end
  return {'created', comment_id}
end
local replies = {}
for n = 0, #KEYS / KEYS_PER - 1 do
  replies[n + 1] = submit(n * KEYS_PER, n * ARGS_PER)
end
return replies
"""
for _name, _value in (
    ("ID_FIELD", records.QUEUE_ID),
    ("ARTICLE_FIELD", records.QUEUE_ARTICLE),
    ("KEYS_PER", str(SUBMIT_KEYS)),
    ("ARGS_PER", str(SUBMIT_ARGS)),
):
    SUBMIT_SCRIPT = SUBMIT_SCRIPT.replace(_name, _value)


RATE_WINDOW_S = 60  # rate limits count comments per minute

# What the public feed shows of a comment: never its e-mail or IP.
PUBLIC_FEED_FIELDS = ("id", "article_id", "parent_id", "name", "body", "created_at", "published_at")


class Outcome(StrEnum):
    CREATED = "created"
    REPLAY = "replay"
    PARENT_NOT_FOUND = "parent_not_found"
    RATE_LIMITED = "rate_limited"


@dataclass(frozen=True, slots=True)
class Idempotency:
    """An Idempotency-Key header, scoped to the caller, and the request it came with."""

    key_digest: str
    fingerprint: str

    @classmethod
    def of(cls, header: str, scope: str, body: bytes) -> Idempotency:
        digest = hashlib.sha256(f"{scope}\x00{header}".encode()).hexdigest()
        return cls(digest, hashlib.sha256(body).hexdigest())


@dataclass(frozen=True, slots=True)
class SubmitResult:
    outcome: Outcome
    comment_id: str
    retry_after_s: int = 0  # for RATE_LIMITED: when the window has room again


class Store:
    def __init__(self, redis: aioredis.Redis, settings: Settings) -> None:
        self._redis = redis
        self._keys = k.Keys(settings.key_prefix)
        self._idempotency_ttl = settings.idempotency_ttl_s
        self._limits = (
            settings.rate_limit_ip,
            settings.rate_limit_email,
            settings.rate_limit_article,
        )
        self._digest_key = (settings.hash_key or "").encode()
        # A caller waits at most this long, then answers 503 (DESIGN: within a second).
        self.deadline_s = settings.redis_timeout_s * 1.8
        self._submit = ScriptBatcher(
            redis,
            SUBMIT_SCRIPT,
            SUBMIT_KEYS,
            SUBMIT_ARGS,
            deadline_s=self.deadline_s,
            replicas=settings.redis_min_replicas,
        )

    async def close(self) -> None:
        """Wait for submissions in flight; the Redis client is closed by its owner."""
        await self._submit.close()

    @asynccontextmanager
    async def _guard(self) -> AsyncIterator[None]:
        try:
            async with asyncio.timeout(self.deadline_s):
                yield
        except (RedisError, TimeoutError, OSError) as exc:
            raise StoreUnavailable(type(exc).__name__) from exc

    async def submit(
        self, comment: Comment, idempotency: Idempotency | None, *, source: str | None = None
    ) -> SubmitResult:
        """Store `comment` and queue its id atomically, honouring an Idempotency-Key.
        `source` is the address the per-address limit counts (IPv6 by /64); None: none."""
        comment_key = self._keys.comment(comment.id)
        idem_key = self._keys.idempotency(idempotency.key_digest) if idempotency else comment_key
        parent_key = self._keys.comment(comment.parent_id) if comment.parent_id else comment_key
        # One JSON argument, not 2×N: redis-py packs every argument in Python.
        fields = orjson.dumps(comment.to_fields())
        window = int(time.time()) // RATE_WINDOW_S
        rate_keys, limits = [], []
        for kind, value, limit in (
            ("ip", self._digest(address_group(source)), self._limits[0]),
            ("email", comment.email_hash, self._limits[1]),
            ("article", self._digest(comment.article_id), self._limits[2]),
        ):
            active = bool(value) and limit > 0
            rate_keys.append(self._keys.rate(kind, str(value), window) if active else comment_key)
            limits.append(limit)
        # The batcher keeps the deadline (StoreUnavailable): no timer per comment.
        outcome, value = await self._submit.call(
            (comment_key, self._keys.comments_stream, idem_key, parent_key, *rate_keys),
            (
                idempotency.fingerprint if idempotency else "",
                self._idempotency_ttl,
                comment.id,
                comment.article_id,
                fields,
                *limits,
                (window + 1) * RATE_WINDOW_S,  # counters expire when their window ends
            ),
        )
        if outcome == Outcome.REPLAY:
            fingerprint, _, first_id = value.partition(" ")
            if idempotency is None or fingerprint != idempotency.fingerprint:
                raise IdempotencyConflict(first_id)
            return SubmitResult(Outcome.REPLAY, first_id)
        if outcome == Outcome.RATE_LIMITED:
            return SubmitResult(Outcome.RATE_LIMITED, "", retry_after_s=int(value))
        return SubmitResult(Outcome(outcome), value)

    def _digest(self, value: str | None) -> str | None:
        """Rate-limit keys name IPs and articles by a keyed hash, never in clear."""
        if not value:
            return None
        return hmac.digest(self._digest_key, value.encode(), "sha256").hex()[:24]

    async def comment_fields(self, comment_id: str) -> dict[str, str] | None:
        async with self._guard():
            fields = cast(dict[str, str], await self._redis.hgetall(self._keys.comment(comment_id)))
        return fields or None

    async def feed_page(
        self, article_id: str, *, after: str | None, limit: int
    ) -> tuple[list[dict[str, Any]], str | None]:
        """Up to `limit` published comments after the cursor, and the next cursor.

        A feed is a sorted set of comment ids, all scored 0 so they sort by id;
        ids are ULIDs, which sort by creation time, so a comment approved late
        appears at its original place."""
        start = f"({after}" if after else "-"
        async with self._guard():
            ids = cast(
                list[str],
                await self._redis.zrange(
                    self._keys.feed(article_id), start, "+", bylex=True, offset=0, num=limit + 1
                ),
            )
            page, more = ids[:limit], len(ids) > limit
            async with self._redis.pipeline(transaction=False) as pipe:
                for comment_id in page:
                    pipe.hmget(self._keys.comment(comment_id), PUBLIC_FEED_FIELDS)
                rows = await pipe.execute()
        items = [
            dict(zip(PUBLIC_FEED_FIELDS, row, strict=True)) for row in rows if row[0] is not None
        ]
        return items, (page[-1] if more and page else None)

    @property
    def redis(self) -> aioredis.Redis:
        return self._redis

    async def live_workers(self) -> list[str]:
        async with self._guard():
            return await ops.live_workers(self._redis, self._keys)

    async def ping(self) -> bool:
        try:
            async with self._guard():
                await self._redis.ping()
        except StoreUnavailable:
            return False
        return True


def address_group(address: str | None) -> str | None:
    """What a per-address limit counts: an IPv4 address, or an IPv6 address's /64 (one
    subscriber's network: a client rotating through its addresses is one source)."""
    if not address:
        return None
    try:
        parsed = ipaddress.ip_address(address)
    except ValueError:
        return address
    if isinstance(parsed, ipaddress.IPv6Address):
        if parsed.ipv4_mapped is not None:
            return str(parsed.ipv4_mapped)
        return str(ipaddress.IPv6Network((parsed, 64), strict=False))
    return str(parsed)
