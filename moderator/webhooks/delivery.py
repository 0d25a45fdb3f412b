"""Webhooks to the site: decisions delivered from the outbox stream, signed, retried.

Every decision queues an event on the outbox stream in the same atomic step
(`DecisionStore` with webhooks on), so delivery never delays a decision. A
`WebhookDeliverer` task in each service process reads the outbox through the
consumer group `webhooks` and POSTs each event, signed, to the site:

- at least once: an event is acknowledged (and deleted from the outbox) only
  after a 2xx, or when it is given up on and copied, with its last error, to
  the `webhook_failed` stream; the site deduplicates on the event id;
- a failed attempt is scheduled again in `webhook_retries` (entry id -> due
  time in ms) with exponential backoff and jitter; the schedule is shared by
  every process and the event stays pending in the group meanwhile. Its
  attempts are the group's delivery count: each claim adds one;
- an entry a dead process left pending is reclaimed (XAUTOCLAIM) after
  `reclaim_idle_ms`; a retry it was attempting comes due again after as long.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, cast

import aiohttp
import redis.asyncio as aioredis
import structlog
from redis.exceptions import RedisError, ResponseError

from moderator.domain import utc_now
from moderator.keys import WEBHOOKS_GROUP, Keys
from moderator.records import FailedWebhook, OutboxEvent, stream_fields
from moderator.settings import Settings
from moderator.webhooks.payload import COMMENT_FIELDS, Event, body
from moderator.webhooks.retry import RetryPolicy
from moderator.webhooks.signing import sign

log = structlog.get_logger()

USER_AGENT = "Moderator-Webhooks/1"
DELIVERY_TIMEOUT_S = 5.0  # one attempt, connection included
BLOCK_MS = 1000  # how long a read waits for new events
BATCH_SIZE = 16  # events attempted together in one step
MAX_REDIS_BACKOFF_S = 5.0

# Take due retries (score <= now) and lease them: due again at ARGV[2] unless
# delivered or rescheduled first, so a process that dies mid-attempt loses nothing.
DUE_SCRIPT = """
local due = redis.call('ZRANGE', KEYS[1], '-inf', ARGV[1], 'BYSCORE', 'LIMIT', 0, ARGV[3])
for _, id in ipairs(due) do redis.call('ZADD', KEYS[1], ARGV[2], id) end
return due
"""

# Take over entries idle in a consumer's pending list, except those waiting in the
# retry schedule (idle on purpose). JUSTID leaves the delivery count as it is.
RECLAIM_SCRIPT = """
local reply = redis.call('XAUTOCLAIM', KEYS[1], ARGV[1], ARGV[2], ARGV[3], ARGV[4],
                         'COUNT', ARGV[5], 'JUSTID')
local mine = {}
for _, id in ipairs(reply[2]) do
  if not redis.call('ZSCORE', KEYS[2], id) then mine[#mine + 1] = id end
end
return {reply[1], mine}
"""


@dataclass(frozen=True, slots=True)
class Attempt:
    event: Event
    error: str | None
    status_code: int | None = None
    duration_ms: float = 0.0


class WebhookDeliverer:
    """Delivers the outbox to `settings.webhook_url`; `step` is one pass, `run` loops."""

    def __init__(
        self,
        redis: aioredis.Redis,
        settings: Settings,
        *,
        session: aiohttp.ClientSession | None = None,
        name: str,
        retry: RetryPolicy | None = None,
        timeout_s: float = DELIVERY_TIMEOUT_S,
    ) -> None:
        if not settings.webhook_url or not settings.webhook_secret:
            raise ValueError("webhooks need MODERATOR_WEBHOOK_URL and MODERATOR_WEBHOOK_SECRET")
        self.name = name
        self._redis = redis
        self._keys = Keys(settings.key_prefix)
        self._url = settings.webhook_url
        self._secret = settings.webhook_secret
        self._session = session
        self._owns_session = session is None
        self._retry = retry or RetryPolicy()
        self._timeout_s = timeout_s
        # Longer than an attempt can take: a live attempt is never taken over.
        self._reclaim_idle_ms = max(settings.reclaim_idle_ms, int(timeout_s * 2000))
        self._cursor = "0-0"
        self._stopping = asyncio.Event()

    async def setup(self) -> None:
        """Create the consumer group (an existing one is fine)."""
        try:
            await self._redis.xgroup_create(
                self._keys.webhook_outbox, WEBHOOKS_GROUP, id="0", mkstream=True
            )
        except ResponseError as exc:
            if "BUSYGROUP" not in str(exc):
                raise

    def stop(self) -> None:
        """Finish the deliveries in hand, record them, then return from `run`."""
        self._stopping.set()

    async def close(self) -> None:
        """Close the HTTP session if this deliverer opened it."""
        if self._owns_session and self._session is not None:
            await self._session.close()
            self._session = None

    async def run(self) -> None:
        """Deliver until `stop`; ride out Redis outages and surprises with jittered backoff."""
        backoff, ready = 0.1, False
        try:
            while not self._stopping.is_set():
                try:
                    if not ready:
                        await self.setup()
                        ready = True
                    await self.step()
                    backoff = 0.1
                    continue
                except ResponseError as exc:
                    if "NOGROUP" in str(exc):
                        ready = False  # Redis lost the group (restarted without its data)
                        continue
                    log.warning("webhooks_redis_error", deliverer=self.name, error=repr(exc))
                except (RedisError, OSError) as exc:
                    log.warning("webhooks_redis_unavailable", deliverer=self.name, error=repr(exc))
                except Exception:  # the supervisor loop: log, wait, go on
                    log.exception("webhooks_step_failed", deliverer=self.name)
                await self._pause(backoff * random.uniform(0.5, 1.5))  # noqa: S311
                backoff = min(backoff * 2, MAX_REDIS_BACKOFF_S)
        finally:
            await self.close()

    async def step(self, *, block_ms: int | None = None) -> int:
        """One pass: due retries, entries dead processes left, then new events (waiting up
        to `block_ms` for some when there is nothing else). Returns the attempts made."""
        events = await self._due_retries()
        events += await self._reclaim()
        room = BATCH_SIZE - len(events)
        if room > 0:
            block = BLOCK_MS if block_ms is None else block_ms
            events += await self._read_new(room, block=None if events or not block else block)
        if not events:
            return 0
        bodies = await self._bodies(events)
        attempts = await asyncio.gather(
            *(self._post(event, body) for event, body in zip(events, bodies, strict=True))
        )
        # Shielded: an attempt made is recorded even if this step is cancelled now.
        await asyncio.shield(self._record(attempts))
        return len(events)

    async def _pause(self, seconds: float) -> None:
        try:
            async with asyncio.timeout(seconds):
                await self._stopping.wait()
        except TimeoutError:
            pass

    async def _due_retries(self) -> list[Event]:
        now_ms = int(time.time() * 1000)
        due = await self._redis.eval(
            DUE_SCRIPT,
            1,
            self._keys.webhook_retries,
            now_ms,
            now_ms + self._reclaim_idle_ms,
            BATCH_SIZE,
        )
        return await self._claim(cast(list[str], due))

    async def _reclaim(self) -> list[Event]:
        cursor, ids = await self._redis.eval(
            RECLAIM_SCRIPT,
            2,
            self._keys.webhook_outbox,
            self._keys.webhook_retries,
            WEBHOOKS_GROUP,
            self.name,
            self._reclaim_idle_ms,
            self._cursor,
            BATCH_SIZE,
        )
        self._cursor = str(cursor)
        return await self._claim(cast(list[str], ids))

    async def _claim(self, ids: Sequence[str]) -> list[Event]:
        """Take `ids` over (adding one to their delivery count) with their attempt numbers;
        forget the scheduled ones no longer pending (delivered meanwhile)."""
        if not ids:
            return []
        keys = self._keys
        reply = await self._redis.xclaim(
            keys.webhook_outbox, WEBHOOKS_GROUP, self.name, min_idle_time=0, message_ids=list(ids)
        )
        claimed = cast(list[tuple[str | None, dict[str, str] | None]], reply)
        entries = {eid: fields for eid, fields in claimed if eid and fields}
        async with self._redis.pipeline(transaction=False) as pipe:
            for eid in entries:
                pipe.xpending_range(keys.webhook_outbox, WEBHOOKS_GROUP, eid, eid, 1)
            gone = [eid for eid in ids if eid not in entries]
            if gone:
                pipe.zrem(keys.webhook_retries, *gone)
            replies = await pipe.execute()
        counts = {
            p["message_id"]: int(p["times_delivered"]) for r in replies[: len(entries)] for p in r
        }
        return [
            Event(eid, OutboxEvent.from_fields(fields), counts.get(eid, 1))
            for eid, fields in entries.items()
        ]

    async def _read_new(self, count: int, *, block: int | None) -> list[Event]:
        """New events; an idle wait ends early on `stop` (an entry read just then stays
        pending and is reclaimed after `reclaim_idle_ms`)."""
        if self._stopping.is_set():
            return []
        read = asyncio.ensure_future(
            self._redis.xreadgroup(
                WEBHOOKS_GROUP, self.name, {self._keys.webhook_outbox: ">"}, count, block
            )
        )
        stopping = asyncio.ensure_future(self._stopping.wait())
        try:
            await asyncio.wait({read, stopping}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            stopping.cancel()
            if not read.done():
                read.cancel()
                await asyncio.wait({read})
        if read.cancelled():
            return []
        streams = cast(list[tuple[str, list[tuple[str, dict[str, str]]]]], read.result() or [])
        return [
            Event(eid, OutboxEvent.from_fields(fields))
            for _, entries in streams
            for eid, fields in entries
            if fields
        ]

    async def _bodies(self, events: Sequence[Event]) -> list[bytes]:
        async with self._redis.pipeline(transaction=False) as pipe:
            for event in events:
                pipe.hmget(self._keys.comment(event.comment_id), COMMENT_FIELDS)
            rows = cast(list[list[str | None]], await pipe.execute())
        return [body(event, row) for event, row in zip(events, rows, strict=True)]

    async def _post(self, event: Event, body: bytes) -> Attempt:
        if event.attempt > self._retry.max_attempts:  # its last attempt ended with its process
            return Attempt(event, "no outcome recorded for the last attempt")
        if self._session is None:
            self._session = aiohttp.ClientSession()
        timestamp = int(time.time())
        headers = {
            "Content-Type": "application/json",
            "User-Agent": USER_AGENT,
            "X-Moderator-Event": event.type,
            "X-Moderator-Event-Id": event.event_id,
            "X-Moderator-Timestamp": str(timestamp),
            "X-Moderator-Signature": sign(self._secret, timestamp, body),
        }
        started = time.perf_counter()
        status: int | None = None
        try:
            async with self._session.post(
                self._url,
                data=body,
                headers=headers,
                timeout=aiohttp.ClientTimeout(total=self._timeout_s),
                allow_redirects=False,
            ) as response:
                status = response.status
            error = None if 200 <= status < 300 else f"HTTP {status}"
        except TimeoutError:
            error = f"timeout after {self._timeout_s:g} s"
        except aiohttp.ClientError as exc:
            error = f"{type(exc).__name__}: {exc}"[:500]
        duration_ms = round((time.perf_counter() - started) * 1000, 2)
        return Attempt(event, error, status, duration_ms)

    async def _record(self, attempts: Sequence[Attempt]) -> None:
        """Acknowledge what was delivered or given up on; schedule the rest. Logs after."""
        keys, lines = self._keys, []
        now_ms = int(time.time() * 1000)
        async with self._redis.pipeline(transaction=True) as pipe:
            for attempt in attempts:
                event, error = attempt.event, attempt.error
                about: dict[str, Any] = {
                    "event_id": event.event_id,
                    "type": event.type,
                    "comment_id": event.comment_id,
                }
                if error is not None and event.attempt < self._retry.max_attempts:
                    delay = self._retry.delay_s(event.attempt)
                    pipe.zadd(keys.webhook_retries, {event.event_id: now_ms + int(delay * 1000)})
                    about.update(attempt=event.attempt, error=error, retry_in_s=round(delay, 3))
                    lines.append((log.warning, "webhook_failed", about))
                    continue
                if error is not None:
                    pipe.xadd(keys.webhook_failed, stream_fields(self._failed(attempt)))
                    about.update(attempts=event.attempt, error=error)
                    lines.append((log.error, "webhook_given_up", about))
                else:
                    about.update(
                        status_code=attempt.status_code,
                        attempt=event.attempt,
                        duration_ms=attempt.duration_ms,
                    )
                    lines.append((log.info, "webhook_delivered", about))
                pipe.xack(keys.webhook_outbox, WEBHOOKS_GROUP, event.event_id)
                pipe.xdel(keys.webhook_outbox, event.event_id)
                pipe.zrem(keys.webhook_retries, event.event_id)
            await pipe.execute()
        for emit, name, fields in lines:
            emit(name, **fields)

    def _failed(self, attempt: Attempt) -> FailedWebhook:
        """The event as it was queued, with what became of it."""
        return FailedWebhook(
            event=attempt.event.record,
            event_id=attempt.event.event_id,
            attempts=attempt.event.attempt,
            error=attempt.error or "",
            failed_at=utc_now(),
            deliverer=self.name,
        )
