"""Webhooks: real decisions on the outbox, a real HTTP receiver standing in for the site."""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
import hmac
import inspect
import json
import os
import socket
import time
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import pytest
import redis.asyncio as aioredis
from aiohttp import web
from structlog.testing import capture_logs

from moderator.domain import Comment, Status, new_comment_id, utc_now
from moderator.keys import WEBHOOKS_GROUP, Keys
from moderator.local.redis_server import free_port
from moderator.settings import Settings
from moderator.storage.comments import Store
from moderator.storage.decisions import Decision, DecisionStore
from moderator.webhooks.delivery import WebhookDeliverer
from moderator.webhooks.retry import MAX_ATTEMPTS, RETRY_CAP_S, RetryPolicy
from moderator.webhooks.signing import sign, verify
from moderator.webhooks.stats import webhook_stats
from moderator.webhooks.task import webhook_context

SECRET = "whsec-test-0123456789abcdef"
FAST = RetryPolicy(base_s=0.02, cap_s=0.2, max_attempts=6)
PRIVATE = {
    "email": "amina@example.ma",
    "ip": "203.0.113.77",
    "user_agent": "Mozilla/5.0 (X11; TestAgent 4.2)",
    "referrer": "https://news.example.ma/politique-42?utm=x",
    "email_hash": "ab12cd34" * 4,
}


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes
    valid: bool
    answered: int
    at: float

    @property
    def event_id(self) -> str:
        return self.headers["X-Moderator-Event-Id"]

    def json(self) -> dict[str, Any]:
        data: dict[str, Any] = json.loads(self.body)
        return data


@dataclass
class Receiver:
    """The site's webhook endpoint: records every request and checks its signature.
    `answers` are given in order (then 200), each request first waits `delays` in order."""

    port: int = field(default_factory=free_port)
    answers: list[int] = field(default_factory=list)
    delays: list[float] = field(default_factory=list)
    always: int | None = None
    requests: list[Received] = field(default_factory=list)
    _runner: web.AppRunner | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks/moderator"

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/hooks/moderator", self.handle)
        self._runner = web.AppRunner(app, shutdown_timeout=2.0)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", self.port).start()

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        headers = dict(request.headers)
        valid = verify(
            SECRET,
            headers.get("X-Moderator-Timestamp"),
            headers.get("X-Moderator-Signature"),
            body,
        )
        status = self.always or (self.answers.pop(0) if self.answers else 200)
        self.requests.append(Received(headers, body, valid, status, time.monotonic()))
        if self.delays:
            await asyncio.sleep(self.delays.pop(0))
        return web.Response(status=status)

    def delivered(self) -> Counter[str]:
        """Event ids answered with a 2xx, and how many times."""
        return Counter(r.event_id for r in self.requests if 200 <= r.answered < 300)


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    site = Receiver()
    await site.start()
    yield site
    await site.stop()


@pytest.fixture
def hook_settings(settings: Settings, receiver: Receiver) -> Settings:
    return dataclasses.replace(
        settings, webhook_url=receiver.url, webhook_secret=SECRET, reclaim_idle_ms=100
    )


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as client_session:
        yield client_session


@pytest.fixture
def make_deliverer(
    redis: aioredis.Redis, hook_settings: Settings, session: aiohttp.ClientSession
) -> Callable[..., Awaitable[WebhookDeliverer]]:
    async def make(name: str = "test-a", retry: RetryPolicy = FAST) -> WebhookDeliverer:
        deliverer = WebhookDeliverer(
            redis, hook_settings, session=session, name=name, retry=retry, timeout_s=0.25
        )
        await deliverer.setup()
        return deliverer

    return make


@pytest.fixture
async def deliverer(make_deliverer: Callable[..., Awaitable[WebhookDeliverer]]) -> WebhookDeliverer:
    return await make_deliverer()


async def new_comment(
    redis: aioredis.Redis, settings: Settings, *, parent_id: str | None = None
) -> Comment:
    """A comment stored the way intake stores it, private fields included."""
    comment = Comment(
        id=new_comment_id(),
        article_id="politique-42",
        name="Amina",
        body="Très bon article. مقال مفيد",
        created_at=utc_now(),
        parent_id=parent_id,
        **PRIVATE,
    )
    store = Store(redis, settings)
    await store.submit(comment, None)
    await store.close()
    return comment


async def decide(
    redis: aioredis.Redis,
    keys: Keys,
    comment: Comment,
    to: Status,
    *,
    expected: Status = Status.PENDING,
) -> None:
    decision = Decision(decision=to, by="moderator:amal", at=utc_now(), action="test")
    applied = await DecisionStore(redis, keys, webhooks=True).apply(
        comment.id, comment.article_id, expected, decision
    )
    assert applied.outcome == "ok"


async def drive(
    deliverer: WebhookDeliverer, done: Callable[[], Any], timeout_s: float = 5.0
) -> None:
    """Step the deliverer until `done()` (a bool, or an awaitable of one) holds."""
    async with asyncio.timeout(timeout_s):
        while True:
            result = done()
            if await result if inspect.isawaitable(result) else result:
                return
            await deliverer.step(block_ms=10)


async def outbox_ids(redis: aioredis.Redis, keys: Keys) -> list[str]:
    return [entry_id for entry_id, _ in await redis.xrange(keys.webhook_outbox)]


async def stats(redis: aioredis.Redis, keys: Keys) -> dict[str, int]:
    return await webhook_stats(redis, keys)


def events(logs: list[dict[str, Any]], name: str) -> list[dict[str, Any]]:
    return [line for line in logs if line["event"] == name]


ALL_CLEAR = {"outbox_pending": 0, "retrying": 0, "failed": 0}


async def test_a_published_event_arrives_signed_with_public_fields_only(
    redis: aioredis.Redis,
    keys: Keys,
    settings: Settings,
    receiver: Receiver,
    deliverer: WebhookDeliverer,
) -> None:
    comment = await new_comment(redis, settings)
    await decide(redis, keys, comment, Status.PUBLISHED)
    [(event_id, queued)] = await redis.xrange(keys.webhook_outbox)

    with capture_logs() as logs:
        assert await deliverer.step(block_ms=0) == 1

    [got] = receiver.requests
    assert got.valid
    headers = got.headers
    assert headers["Content-Type"] == "application/json"
    assert headers["User-Agent"] == "Moderator-Webhooks/1"
    assert headers["X-Moderator-Event"] == "comment.published"
    assert headers["X-Moderator-Event-Id"] == event_id
    timestamp = int(headers["X-Moderator-Timestamp"])
    assert abs(timestamp - time.time()) < 5
    assert headers["X-Moderator-Signature"] == sign(SECRET, timestamp, got.body)
    stored = await redis.hgetall(keys.comment(comment.id))
    assert got.json() == {
        "id": event_id,
        "type": "comment.published",
        "created_at": queued["at"],
        "comment": {
            "id": comment.id,
            "article_id": "politique-42",
            "parent_id": None,
            "status": "published",
            "name": "Amina",
            "body": "Très bon article. مقال مفيد",
            "created_at": comment.created_at,
            "published_at": stored["published_at"],
        },
    }
    text = got.body.decode()
    assert not set(PRIVATE) & set(got.json()["comment"])
    for value in PRIVATE.values():
        assert value not in text
    assert await stats(redis, keys) == ALL_CLEAR
    assert (await redis.xpending(keys.webhook_outbox, WEBHOOKS_GROUP))["pending"] == 0
    [line] = events(logs, "webhook_delivered")
    assert line["event_id"] == event_id
    assert line["type"] == "comment.published"
    assert line["comment_id"] == comment.id
    assert line["status_code"] == 200
    assert line["attempt"] == 1
    assert line["duration_ms"] >= 0
    assert SECRET not in repr(logs) and headers["X-Moderator-Signature"][3:] not in repr(logs)


async def test_held_rejected_and_taken_down_events_carry_no_name_or_body(
    redis: aioredis.Redis,
    keys: Keys,
    settings: Settings,
    receiver: Receiver,
    deliverer: WebhookDeliverer,
) -> None:
    """Only id, article_id, parent_id and status: the site must not show these comments.
    A published event delivered after the take-down carries no text either."""
    held = await new_comment(redis, settings)
    await decide(redis, keys, held, Status.HELD)
    rejected = await new_comment(redis, settings, parent_id=held.id)
    await decide(redis, keys, rejected, Status.REJECTED)
    taken_down = await new_comment(redis, settings)
    await decide(redis, keys, taken_down, Status.PUBLISHED)
    await decide(redis, keys, taken_down, Status.REJECTED, expected=Status.PUBLISHED)

    await drive(deliverer, lambda: len(receiver.requests) == 4)

    by_type = {r.json()["type"]: r.json() for r in receiver.requests}
    assert set(by_type) == {
        "comment.held",
        "comment.rejected",
        "comment.published",
        "comment.taken_down",
    }
    assert by_type["comment.held"]["comment"] == {
        "id": held.id,
        "article_id": "politique-42",
        "parent_id": None,
        "status": "held",
    }
    assert by_type["comment.rejected"]["comment"] == {
        "id": rejected.id,
        "article_id": "politique-42",
        "parent_id": held.id,
        "status": "rejected",
    }
    assert by_type["comment.taken_down"]["comment"]["status"] == "rejected"
    assert by_type["comment.published"]["comment"]["status"] == "published"
    for request in receiver.requests:
        assert request.valid
        assert set(request.json()["comment"]) == {"id", "article_id", "parent_id", "status"}
        assert "Amina" not in request.body.decode()
        assert held.body not in request.body.decode()


async def test_a_failing_site_is_retried_with_backoff_and_nothing_is_lost(
    redis: aioredis.Redis,
    keys: Keys,
    settings: Settings,
    receiver: Receiver,
    make_deliverer: Callable[..., Awaitable[WebhookDeliverer]],
) -> None:
    deliverer = await make_deliverer(retry=RetryPolicy(base_s=0.2, cap_s=5.0, max_attempts=6))
    for _ in range(3):
        await decide(redis, keys, await new_comment(redis, settings), Status.PUBLISHED)
    ids = await outbox_ids(redis, keys)
    receiver.answers = [500, 500, 500, 503]

    with capture_logs() as logs:
        assert await deliverer.step(block_ms=0) == 3
        assert await stats(redis, keys) == {"outbox_pending": 3, "retrying": 3, "failed": 0}
        assert await deliverer.step(block_ms=0) == 0  # none due before its backoff
        await drive(deliverer, lambda: len(receiver.delivered()) == 3)

    assert receiver.delivered() == Counter(dict.fromkeys(ids, 1))
    assert all(r.valid and r.json()["id"] == r.event_id for r in receiver.requests)
    assert len(receiver.requests) == 4 + 3
    failed = events(logs, "webhook_failed")
    assert [line["error"] for line in failed] == ["HTTP 500"] * 3 + ["HTTP 503"]
    for line in failed:
        nominal = 0.2 * 2 ** (line["attempt"] - 1)
        assert 0.8 * nominal - 0.001 <= line["retry_in_s"] <= 1.2 * nominal + 0.001
    assert {line["attempt"] for line in failed} == {1, 2}
    assert await stats(redis, keys) == ALL_CLEAR
    assert (await redis.xpending(keys.webhook_outbox, WEBHOOKS_GROUP))["pending"] == 0


async def test_a_site_down_then_back_gets_every_event(
    redis: aioredis.Redis,
    keys: Keys,
    settings: Settings,
    receiver: Receiver,
    deliverer: WebhookDeliverer,
) -> None:
    await receiver.stop()
    for _ in range(5):
        await decide(redis, keys, await new_comment(redis, settings), Status.HELD)
    ids = await outbox_ids(redis, keys)

    with capture_logs() as logs:
        assert await deliverer.step(block_ms=0) == 5
    assert {line["attempt"] for line in events(logs, "webhook_failed")} == {1}
    assert all("ClientConnectorError" in line["error"] for line in events(logs, "webhook_failed"))
    assert (await stats(redis, keys))["retrying"] == 5

    await receiver.start()
    await drive(deliverer, lambda: len(receiver.delivered()) == 5)
    assert receiver.delivered() == Counter(dict.fromkeys(ids, 1))
    assert await stats(redis, keys) == ALL_CLEAR


async def test_an_answer_too_late_is_retried_and_duplicates_keep_the_event_id(
    redis: aioredis.Redis,
    keys: Keys,
    settings: Settings,
    receiver: Receiver,
    deliverer: WebhookDeliverer,
) -> None:
    """At least once: the site got the first request but answered after the timeout;
    the retry carries the same event id, which the site deduplicates on."""
    await decide(redis, keys, await new_comment(redis, settings), Status.PUBLISHED)
    [event_id] = await outbox_ids(redis, keys)
    receiver.delays = [0.6]

    with capture_logs() as logs:
        await drive(deliverer, lambda: len(receiver.requests) == 2)

    assert [r.event_id for r in receiver.requests] == [event_id, event_id]
    assert [r.json()["id"] for r in receiver.requests] == [event_id, event_id]
    assert events(logs, "webhook_failed")[0]["error"] == "timeout after 0.25 s"
    assert events(logs, "webhook_delivered")[0]["attempt"] == 2
    assert await stats(redis, keys) == ALL_CLEAR


async def test_after_max_attempts_the_event_is_kept_in_failed_with_its_error(
    redis: aioredis.Redis,
    keys: Keys,
    settings: Settings,
    receiver: Receiver,
    make_deliverer: Callable[..., Awaitable[WebhookDeliverer]],
) -> None:
    deliverer = await make_deliverer(retry=RetryPolicy(base_s=0.01, max_attempts=3))
    comment = await new_comment(redis, settings)
    await decide(redis, keys, comment, Status.HELD)
    [event_id] = await outbox_ids(redis, keys)
    receiver.always = 500

    async def given_up() -> bool:
        return bool(await redis.xlen(keys.webhook_failed))

    with capture_logs() as logs:
        await deliverer.step(block_ms=0)
        assert await stats(redis, keys) == {"outbox_pending": 1, "retrying": 1, "failed": 0}
        await drive(deliverer, given_up)

    assert [r.event_id for r in receiver.requests] == [event_id] * 3
    [(_, failed)] = await redis.xrange(keys.webhook_failed)
    assert failed["event_id"] == event_id
    assert failed["type"] == "comment.held"
    assert failed["comment_id"] == comment.id
    assert failed["article_id"] == comment.article_id
    assert failed["attempts"] == "3"
    assert failed["error"] == "HTTP 500"
    assert failed["deliverer"] == "test-a"
    assert await stats(redis, keys) == {"outbox_pending": 0, "retrying": 0, "failed": 1}
    assert (await redis.xpending(keys.webhook_outbox, WEBHOOKS_GROUP))["pending"] == 0
    assert [line["attempt"] for line in events(logs, "webhook_failed")] == [1, 2]
    [line] = events(logs, "webhook_given_up")
    assert (line["event_id"], line["attempts"], line["error"]) == (event_id, 3, "HTTP 500")
    assert line["log_level"] == "error"


async def test_a_dead_deliverers_pending_events_are_reclaimed_by_another(
    redis: aioredis.Redis,
    keys: Keys,
    settings: Settings,
    receiver: Receiver,
    deliverer: WebhookDeliverer,
) -> None:
    for _ in range(2):
        await decide(redis, keys, await new_comment(redis, settings), Status.PUBLISHED)
    ids = await outbox_ids(redis, keys)
    # A process that read the events and died before recording anything.
    await redis.xreadgroup(WEBHOOKS_GROUP, "dead-host-1", {keys.webhook_outbox: ">"}, count=10)

    assert await deliverer.step(block_ms=0) == 0  # not idle long enough: maybe still alive
    with capture_logs() as logs:
        await drive(deliverer, lambda: len(receiver.delivered()) == 2)

    assert receiver.delivered() == Counter(dict.fromkeys(ids, 1))
    assert [line["attempt"] for line in events(logs, "webhook_delivered")] == [2, 2]
    assert (await redis.xpending(keys.webhook_outbox, WEBHOOKS_GROUP))["pending"] == 0
    assert await stats(redis, keys) == ALL_CLEAR


async def test_a_retry_scheduled_by_one_process_is_made_by_another(
    redis: aioredis.Redis,
    keys: Keys,
    settings: Settings,
    receiver: Receiver,
    make_deliverer: Callable[..., Awaitable[WebhookDeliverer]],
) -> None:
    first, second = await make_deliverer("host-a"), await make_deliverer("host-b")
    await decide(redis, keys, await new_comment(redis, settings), Status.PUBLISHED)
    [event_id] = await outbox_ids(redis, keys)
    receiver.answers = [502]
    assert await first.step(block_ms=0) == 1  # fails; `first` is never stepped again

    with capture_logs() as logs:
        await drive(second, lambda: len(receiver.delivered()) == 1)

    assert receiver.delivered() == Counter({event_id: 1})
    assert events(logs, "webhook_delivered")[0]["attempt"] == 2
    assert await stats(redis, keys) == ALL_CLEAR


async def test_stop_ends_run_and_redis_outages_do_not_crash_it(
    hook_settings: Settings, session: aiohttp.ClientSession
) -> None:
    nowhere = aioredis.Redis.from_url(
        f"redis://127.0.0.1:{free_port()}/0", decode_responses=True, socket_connect_timeout=0.2
    )
    deliverer = WebhookDeliverer(nowhere, hook_settings, session=session, name="test-down")
    with capture_logs() as logs:
        task = asyncio.create_task(deliverer.run())
        async with asyncio.timeout(5):
            while len(events(logs, "webhooks_redis_unavailable")) < 2:
                await asyncio.sleep(0.02)
        assert not task.done()
        deliverer.stop()
        async with asyncio.timeout(2):
            await task
    await nowhere.aclose()


def test_sign_is_hmac_sha256_of_timestamp_dot_body() -> None:
    body = b'{"id":"1700000000000-0"}'
    expected = hmac.new(SECRET.encode(), b"1800000000." + body, hashlib.sha256).hexdigest()
    assert sign(SECRET, 1_800_000_000, body) == "v1=" + expected


def test_verify_refuses_a_wrong_secret_a_modified_body_and_a_stale_timestamp() -> None:
    body, ts = b'{"id":"1700000000000-0","type":"comment.held"}', 1_800_000_000
    signature = sign(SECRET, ts, body)
    assert verify(SECRET, str(ts), signature, body, now=ts + 299)
    assert not verify("another-secret", str(ts), signature, body, now=ts)
    assert not verify(SECRET, str(ts), signature, body.replace(b"held", b"published"), now=ts)
    assert not verify(SECRET, str(ts), signature, body, now=ts + 301)
    assert not verify(SECRET, str(ts), signature, body, now=ts - 301)
    assert not verify(SECRET, str(ts + 1), signature, body, now=ts)  # the timestamp is signed
    assert not verify(SECRET, str(ts), signature, body)  # today is long after 2027
    assert not verify(SECRET, "not-a-time", signature, body, now=ts)
    assert not verify(SECRET, None, signature, body, now=ts)
    assert not verify(SECRET, str(ts), None, body, now=ts)
    assert not verify(SECRET, str(ts), "v2=" + signature[3:], body, now=ts)


def test_backoff_doubles_with_jitter_up_to_its_cap_for_about_a_day() -> None:
    policy = RetryPolicy()
    for attempt, nominal in [(1, 1.0), (2, 2.0), (5, 16.0), (11, 600.0), (100, 600.0)]:
        assert 0.8 * nominal <= policy.delay_s(attempt) <= 1.2 * nominal
    nominal_total = sum(min(RETRY_CAP_S, 2.0 ** (n - 1)) for n in range(1, MAX_ATTEMPTS))
    assert 24 * 3600 <= nominal_total < 24 * 3600 + RETRY_CAP_S


async def test_webhook_context_without_a_url_does_nothing(settings: Settings) -> None:
    app = web.Application()
    app.cleanup_ctx.append(webhook_context(settings))
    runner = web.AppRunner(app)
    await runner.setup()
    assert not [t for t in asyncio.all_tasks() if t.get_name() == "webhooks"]
    await runner.cleanup()


async def test_webhook_context_delivers_for_the_apps_lifetime_and_stops_promptly(
    redis: aioredis.Redis,
    keys: Keys,
    settings: Settings,
    hook_settings: Settings,
    receiver: Receiver,
) -> None:
    await decide(redis, keys, await new_comment(redis, settings), Status.PUBLISHED)
    app = web.Application()
    app.cleanup_ctx.append(webhook_context(hook_settings))
    runner = web.AppRunner(app)
    await runner.setup()
    [task] = [t for t in asyncio.all_tasks() if t.get_name() == "webhooks"]
    async with asyncio.timeout(5):
        while not receiver.delivered():
            await asyncio.sleep(0.02)
    consumers = await redis.xinfo_consumers(keys.webhook_outbox, WEBHOOKS_GROUP)
    assert [c["name"] for c in consumers] == [f"{socket.gethostname()}-{os.getpid()}"]

    started = time.monotonic()
    await runner.cleanup()  # the deliverer is waiting for new events: it stops at once
    assert time.monotonic() - started < 0.9
    assert task.done() and not task.cancelled()
    assert await stats(redis, keys) == ALL_CLEAR
