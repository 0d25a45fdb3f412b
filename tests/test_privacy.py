"""Privacy: forgetting a reader's address, IPs and user agents expiring, and no e-mail or IP
in any public response or log line of a whole run."""

from __future__ import annotations

import asyncio
import io
import ipaddress
import json
from collections.abc import Iterator, Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import redis.asyncio as aioredis
from aiohttp import ClientResponse
from aiohttp.test_utils import TestClient

from moderator import logs
from moderator.domain import Comment, Status, new_comment_id, utc_now
from moderator.keys import WEBHOOKS_GROUP, Keys
from moderator.logs import email_hash
from moderator.settings import Settings
from moderator.storage import privacy
from moderator.storage.comments import Store
from moderator.storage.decisions import Decision, DecisionStore
from moderator.web import expiry
from moderator.web.app import create_app
from tests.fakes import FakeToxicity
from tests.helpers import VALID, env_for, run_module, submit
from workers.consumer import Worker
from workers.spam.scorer import SpamScorer

AMINA = "amina@example.ma"
CALM = "Très bon article sur la réforme, merci pour ce travail."
INSULT = "You are an idiot and this article is garbage."


async def worker_for(redis: aioredis.Redis, settings: Settings) -> Worker:
    worker = Worker(redis, settings, toxicity=FakeToxicity(), name="w")
    await worker.setup()
    return worker


async def feed_ids(client: TestClient, article_id: str = "politique-123") -> list[str]:
    body = await (await client.get(f"/v1/articles/{article_id}/comments")).json()
    return [item["id"] for item in body["items"]]


async def everything_stored(redis: aioredis.Redis, settings: Settings) -> str:
    """Every key with the test's prefix and every value under it, as one text."""
    parts: list[str] = []
    async for key in redis.scan_iter(f"{settings.key_prefix}:*"):
        kind = await redis.type(key)
        value: Any
        if kind == "hash":
            value = await redis.hgetall(key)
        elif kind == "string":
            value = await redis.get(key)
        elif kind == "list":
            value = await redis.lrange(key, 0, -1)
        elif kind == "set":
            value = sorted(await redis.smembers(key))
        elif kind == "zset":
            value = await redis.zrange(key, 0, -1)
        else:
            value = await redis.xrange(key)
        parts.append(f"{key} {json.dumps(value, ensure_ascii=False)}")
    return "\n".join(parts)


# --- forget ---------------------------------------------------------------------------


async def test_forget_takes_down_and_anonymises_every_comment_of_the_address(
    client: TestClient, redis: aioredis.Redis, keys: Keys, settings: Settings
) -> None:
    """Published, held and pending comments of one address (in any case) are rejected and
    emptied, the published one leaves the feed, other readers' comments are untouched, the
    address's spam counters are gone, and the audit records the request without it."""
    private = {
        "ip": "196.200.131.7",
        "user_agent": "Mozilla/5.0 (Amina's phone)",
        "referrer": "https://news.example.ma/politique-123",
        "url": "https://amina.example.ma",
    }
    published = await submit(client, body=CALM, **private)
    held = await submit(client, email="AMINA@example.ma", body=INSULT, **private)
    other = await submit(
        client,
        name="Youssef",
        email="youssef@example.ma",
        body="Merci pour cet éclairage sur la politique de l'eau.",
        ip="196.200.131.7",
    )
    worker = await worker_for(redis, settings)
    assert await worker.drain() == 3
    pending = await submit(client, body="Un dernier mot avant de partir.", **private)
    assert await redis.hget(keys.comment(published), "status") == "published"
    assert await redis.hget(keys.comment(held), "status") == "held"
    assert await feed_ids(client) == [published, other]
    digest = email_hash(settings.hash_key.encode(), AMINA)  # type: ignore[union-attr]
    ip_counter = keys.spam_recent("ip", privacy.ip_digest(b"test-hash-key", "196.200.131.7"))
    assert await redis.exists(keys.spam_recent("email", digest))
    assert set(await redis.zrange(ip_counter, 0, -1)) == {published, held, other}
    others_before = await redis.hgetall(keys.comment(other))

    result = await privacy.forget(redis, keys, settings, " Amina@Example.MA ", by="moderator:salma")

    assert result == privacy.ForgetResult(comments=3, taken_down=1)
    assert result.to_dict() == {"comments": 3, "taken_down": 1}
    for comment_id in (published, held, pending):
        fields = await redis.hgetall(keys.comment(comment_id))
        assert fields["status"] == "rejected"
        assert fields["email"] == fields["body"] == ""
        assert fields["name"] == privacy.FORGOTTEN_NAME
        assert fields["email_hash"] == privacy.FORGOTTEN
        assert not set(fields) & {"ip", "user_agent", "referrer", "url", "honeypot"}
        assert fields["article_id"] == "politique-123"
        history = await DecisionStore(redis, keys).history(comment_id)
        assert history[-1]["action"] == "forget"
        assert history[-1]["by"] == "moderator:salma"
        assert history[-1]["reasons"] == [{"code": "privacy.forget"}]
    assert await feed_ids(client) == [other]
    assert await redis.zrange(keys.queue(Status.HELD), 0, -1) == []
    assert await redis.hgetall(keys.comment(other)) == others_before
    assert not await redis.exists(keys.spam_recent("email", digest))
    assert await redis.zrange(ip_counter, 0, -1) == [other]

    audit = await redis.xrange(keys.audit)
    requests = [fields for _, fields in audit if "comment_id" not in fields]
    assert requests == [
        {
            "action": "forget",
            "by": "moderator:salma",
            "at": requests[0]["at"],
            "comments": "3",
            "taken_down": "1",
        }
    ]
    stored = await everything_stored(redis, settings)
    texts = ("réforme", "garbage", "dernier mot")  # "idiot" stays: a suspect list term
    for secret in (AMINA, digest, "Amina's phone", "amina.example.ma", *texts):
        assert secret not in stored.casefold()

    # The pending comment's stream entry is acknowledged as already decided.
    assert await worker.drain() == 1
    assert await redis.hget(keys.comment(pending), "status") == "rejected"
    assert await feed_ids(client) == [other]


async def test_forget_tells_the_site_even_where_the_command_has_no_webhook_url(
    client: TestClient, redis: aioredis.Redis, keys: Keys, settings: Settings
) -> None:
    """`moderator forget` run on an operator's shell without MODERATOR_WEBHOOK_URL took
    a published comment down without queueing the event the site needs."""
    published = await submit(client, body=CALM)
    worker = await worker_for(redis, settings)
    assert await worker.drain() == 1
    assert await redis.hget(keys.comment(published), "status") == "published"
    # A service that delivers webhooks made its consumer group on the outbox.
    await redis.xgroup_create(keys.webhook_outbox, WEBHOOKS_GROUP, id="0", mkstream=True)
    assert settings.webhook_url is None
    await privacy.forget(redis, keys, settings, AMINA, by="cli")
    events = [fields for _, fields in await redis.xrange(keys.webhook_outbox)]
    assert [(e["type"], e["comment_id"]) for e in events] == [("comment.taken_down", published)]


async def test_forgetting_twice_is_harmless(
    client: TestClient, redis: aioredis.Redis, keys: Keys, settings: Settings
) -> None:
    comment_id = await submit(client, body=CALM)
    await (await worker_for(redis, settings)).drain()
    assert await privacy.forget(redis, keys, settings, AMINA, by="cli") == privacy.ForgetResult(
        1, 1
    )
    first = await redis.hgetall(keys.comment(comment_id))
    again = await privacy.forget(redis, keys, settings, AMINA, by="cli")
    assert again == privacy.ForgetResult(0, 0)
    assert await redis.hgetall(keys.comment(comment_id)) == first
    assert len(await DecisionStore(redis, keys).history(comment_id)) == 2


async def test_a_comment_decided_meanwhile_is_still_taken_down(
    client: TestClient, redis: aioredis.Redis, keys: Keys, settings: Settings
) -> None:
    """A moderator approving a held comment while it is being forgotten: the
    compare-and-set retries from the new state."""
    comment_id = await submit(client, body=INSULT)
    await (await worker_for(redis, settings)).drain()
    decisions = DecisionStore(redis, keys)
    approve = Decision(Status.PUBLISHED, by="moderator:omar", at=utc_now(), action="approve")
    read_before: dict[str, str | None] = {
        "id": comment_id,
        "article_id": "politique-123",
        "status": "held",
    }
    applied = await decisions.apply(comment_id, "politique-123", Status.HELD, approve)
    assert applied.outcome == "ok"
    previous = await privacy._retire(redis, keys, decisions, read_before, by="cli", at=utc_now())
    assert previous == Status.PUBLISHED
    assert await redis.hget(keys.comment(comment_id), "status") == "rejected"


async def test_without_a_hash_key_comments_and_counters_are_still_found(
    aiohttp_client: Any, redis: aioredis.Redis, keys: Keys, settings: Settings
) -> None:
    """With a random per-process hash key, hashes cannot be recomputed: comments are found
    by their address, counters by the hash stored on them."""
    ephemeral = replace(settings, hash_key=None)
    client = await aiohttp_client(create_app(ephemeral))
    comment_id = await submit(client, body=CALM, ip="2001:db8:5:6::7")
    await (await worker_for(redis, ephemeral)).drain()
    stored_hash = await redis.hget(keys.comment(comment_id), "email_hash")
    assert stored_hash and await redis.exists(keys.spam_recent("email", stored_hash))
    ip_counter = keys.spam_recent("ip", privacy.ip_digest(b"", "2001:db8:5:6::7"))
    assert await redis.zrange(ip_counter, 0, -1) == [comment_id]

    result = await privacy.forget(redis, keys, ephemeral, "AMINA@EXAMPLE.MA", by="cli")

    assert result == privacy.ForgetResult(1, 1)
    assert not await redis.exists(keys.spam_recent("email", stored_hash))
    assert await redis.zrange(ip_counter, 0, -1) == []
    assert await redis.hget(keys.comment(comment_id), "email") == ""


async def test_a_blank_address_is_refused(
    redis: aioredis.Redis, keys: Keys, settings: Settings
) -> None:
    with pytest.raises(ValueError, match="required"):
        await privacy.forget(redis, keys, settings, "  ", by="cli")


@pytest.mark.parametrize("hash_key", [None, "test-hash-key"])
@pytest.mark.parametrize(
    "ip", ["196.200.131.7", "2001:db8:1:2:3:4:5:6", "2001:DB8:1:2::9", "::ffff:196.200.131.7"]
)
async def test_ip_digest_names_the_same_counter_as_the_spam_scorer(
    redis: aioredis.Redis, keys: Keys, settings: Settings, hash_key: str | None, ip: str
) -> None:
    scorer = SpamScorer(redis, keys, replace(settings, hash_key=hash_key))
    assert privacy.ip_digest((hash_key or "").encode(), ip) == scorer._ip_digest(ip)


# --- expiry ---------------------------------------------------------------------------


def crafted(created: datetime, **fields: Any) -> Comment:
    at = created.isoformat(timespec="milliseconds").replace("+00:00", "Z")
    values: dict[str, Any] = {
        "id": new_comment_id(int(created.timestamp() * 1000)),
        "article_id": "politique-123",
        "name": "Amina",
        "email": AMINA,
        "email_hash": "0" * 32,
        "body": CALM,
        "created_at": at,
        "ip": "196.200.131.7",
        "user_agent": "Mozilla/5.0",
        "referrer": "https://news.example.ma/politique-123",
    }
    return Comment(**{**values, **fields})


async def store_all(redis: aioredis.Redis, settings: Settings, *comments: Comment) -> None:
    store = Store(redis, settings)
    try:
        for comment in comments:
            await store.submit(comment, None)
    finally:
        await store.close()


async def test_ips_and_user_agents_expire_after_the_configured_days(
    redis: aioredis.Redis, keys: Keys, settings: Settings
) -> None:
    settings = replace(settings, private_data_days=1)
    now = datetime.now(UTC)
    old = crafted(now - timedelta(days=2))
    recent = crafted(now - timedelta(hours=20), ip="2001:db8::1")
    bare = crafted(now - timedelta(days=3), ip=None, user_agent=None, referrer=None)
    await store_all(redis, settings, old, recent, bare)

    assert await privacy.expire_private_data(redis, keys, settings) == 1

    old_fields = await redis.hgetall(keys.comment(old.id))
    assert not set(old_fields) & {"ip", "user_agent", "referrer"}
    assert old_fields["body"] == CALM and old_fields["email"] == AMINA
    recent_fields = await redis.hgetall(keys.comment(recent.id))
    assert recent_fields["ip"] == "2001:db8::1"
    assert recent_fields["user_agent"] == "Mozilla/5.0"
    assert recent_fields["referrer"] == "https://news.example.ma/politique-123"
    assert await privacy.expire_private_data(redis, keys, settings) == 0
    later = now + timedelta(days=1)
    assert await privacy.expire_private_data(redis, keys, settings, now=later) == 1
    assert not await redis.hexists(keys.comment(recent.id), "ip")


async def test_the_service_sweeps_soon_after_start_and_stops_cleanly(
    aiohttp_client: Any, redis: aioredis.Redis, keys: Keys, settings: Settings
) -> None:
    settings = replace(settings, private_data_days=1)
    old = crafted(datetime.now(UTC) - timedelta(days=5))
    await store_all(redis, settings, old)
    app = create_app(settings)
    app.cleanup_ctx.append(expiry.expiry_context(settings, first_after_s=0))
    client = await aiohttp_client(app)
    async with asyncio.timeout(5):
        while await redis.hexists(keys.comment(old.id), "ip"):
            await asyncio.sleep(0.02)
    assert (await client.get("/healthz")).status == 200
    await client.close()  # the sweeping task is cancelled and awaited


# --- nothing leaks, end to end ----------------------------------------------------------


@pytest.fixture
def log_stream() -> Iterator[io.StringIO]:
    stream = io.StringIO()
    logs.configure(service="moderator", fmt="json", level="info", stream=stream, cache=False)
    yield stream
    logs.configure(service="tests", fmt="console", level="info", cache=False)


def readers(count: int) -> list[dict[str, str]]:
    """Distinctive addresses (one not ASCII) and IPs, IPv4 and IPv6."""
    people = []
    for i in range(count):
        email = f"Lecteur.Zq{i:02d}@Exemple-{i:02d}.ma" if i else "ليلى.zq@exemple.ma"
        ip = f"196.200.{i + 10}.{i + 100}" if i % 2 else f"2001:db8:{i + 0xA0:x}::{i + 0xB0:x}"
        people.append({"email": email, "ip": ip})
    return people


def private_strings(people: Sequence[dict[str, str]]) -> list[str]:
    """Every way an address or IP could be written out, case-folded."""
    found = []
    for person in people:
        address = ipaddress.ip_address(person["ip"])
        found += [person["email"], privacy.normalise_email(person["email"])]
        found += [person["ip"], str(address), address.exploded]
        if isinstance(address, ipaddress.IPv6Address):
            found.append(str(ipaddress.ip_network(f"{address}/64", strict=False)))
    return [text.casefold() for text in found]


class Recorder:
    """Every response's status, headers and body as text (JSON decoded, so that an
    escaped non-ASCII address is seen as itself)."""

    def __init__(self, client: TestClient) -> None:
        self.client = client
        self.texts: list[str] = []

    async def __call__(self, method: str, path: str, **kwargs: Any) -> ClientResponse:
        response = await self.client.request(method, path, allow_redirects=False, **kwargs)
        raw = await response.text()
        body = raw
        if response.content_type.endswith("json"):
            body = json.dumps(json.loads(raw), ensure_ascii=False)
        headers = "\n".join(f"{name}: {value}" for name, value in response.headers.items())
        self.texts.append(f"{method} {path} {response.status}\n{headers}\n{raw}\n{body}")
        return response


async def intake(call: Recorder, people: Sequence[dict[str, str]]) -> list[str]:
    """Every reader posts once, half as JSON and half as WordPress forms, some replying."""
    ids: list[str] = []
    for i, person in enumerate(people):
        article = f"article-{i % 3}"
        body = INSULT if i % 5 == 4 else f"Commentaire numéro {i}, merci pour cet article."
        headers = {"Idempotency-Key": f"key-{i}"} if i % 4 == 0 else {}
        if i % 2:
            form = {
                "author": f"Lecteur {i}",
                "email": person["email"],
                "comment": body,
                "comment_post_ID": article,
                "ip": person["ip"],
                "user_agent": "WordPress/6.6",
            }
            if i % 3 == 1:
                form["redirect_to"] = f"https://news.example.ma/{article}"
            response = await call("POST", "/v1/comments", data=form, headers=headers)
            if response.status == 303:
                ids.append(response.headers["Location"].rpartition("moderator_comment=")[2])
                continue
        else:
            payload = {
                "article_id": article,
                "name": f"Lecteur {i}",
                "email": person["email"],
                "body": body,
                "ip": person["ip"],
                "referrer": f"https://news.example.ma/{article}",
            }
            if ids and i % 6 == 0:
                payload.update(article_id="article-0", parent_id=ids[0])
            response = await call("POST", "/v1/comments", json=payload, headers=headers)
        assert response.status == 202, await response.text()
        ids.append((await response.json())["id"])
    return ids


async def error_paths(call: Recorder, person: dict[str, str]) -> None:
    """Invalid posts that carry an address or an IP: none is echoed back."""
    good = {**VALID, "email": person["email"], "ip": person["ip"]}
    as_json = {"Content-Type": "application/json"}
    attempts: list[tuple[dict[str, Any], int]] = [
        ({"json": {**good, "ip": f"{person['ip']}:99999"}}, 422),
        ({"json": {**good, "email": person["email"] + "@"}}, 422),
        ({"json": {**good, "email": person["email"] + "\x00"}}, 422),
        ({"json": {**good, "body": "", "name": person["email"]}}, 422),
        ({"json": {**good, "parent_id": "01J0000000000000000000000Z"}}, 422),
        ({"json": {**good, "email": ["not", person["email"]]}}, 422),
        ({"data": {**good, "redirect_to": f"https://{person['ip']}/{person['email']}"}}, 422),
        ({"data": "{" + json.dumps(good), "headers": as_json}, 400),
        ({"data": json.dumps([good]), "headers": as_json}, 400),
        ({"data": json.dumps(good).encode("utf-16"), "headers": as_json}, 400),
        ({"data": json.dumps(good), "headers": {"Content-Type": "text/plain"}}, 415),
        ({"json": {**good, "body": "x" * 70_000}}, 413),
        ({"json": {**good, "body": "autre texte"}, "headers": {"Idempotency-Key": "key-0"}}, 409),
    ]
    for kwargs, status in attempts:
        response = await call("POST", "/v1/comments", **kwargs)
        assert response.status == status, await response.text()


async def public_routes(call: Recorder, ids: Sequence[str]) -> None:
    for comment_id in ids:
        assert (await call("GET", f"/v1/comments/{comment_id}")).status == 200
    assert (await call("GET", "/v1/comments/01J0000000000000000000000Z")).status == 404
    for article in ("article-0", "article-1", "article-2"):
        cursor: str | None = None
        while True:
            query = f"?limit=2&cursor={cursor}" if cursor else "?limit=2"
            page = await call("GET", f"/v1/articles/{article}/comments{query}")
            cursor = (await page.json())["next_cursor"]
            if cursor is None:
                break
    assert (await call("GET", "/v1/articles/article-0/comments?limit=0")).status == 400
    for path in ("/healthz", "/readyz", "/metrics", "/v1/openapi.json", "/moderation"):
        assert (await call("GET", path)).status == 200
    assert (await call("DELETE", "/v1/comments")).status == 405


async def test_no_email_or_ip_in_any_public_response_or_log_line(
    client: TestClient,
    redis: aioredis.Redis,
    keys: Keys,
    settings: Settings,
    log_stream: io.StringIO,
) -> None:
    people = readers(20)
    call = Recorder(client)
    ids = await intake(call, people)
    for person, comment_id in zip(people, ids, strict=True):  # the scan is not vacuous
        assert await redis.hget(keys.comment(comment_id), "ip") == person["ip"]
    await error_paths(call, people[0])
    worker = await worker_for(redis, settings)
    assert await worker.drain() == len(ids)
    published = await redis.zcard(keys.queue(Status.PUBLISHED))
    assert 0 < published < len(ids)
    await public_routes(call, ids)
    forgotten = await privacy.forget(redis, keys, settings, people[1]["email"].upper(), by="cli")
    assert forgotten.comments == 1
    expired = await privacy.expire_private_data(
        redis, keys, settings, now=datetime.now(UTC) + timedelta(days=90)
    )
    assert expired == len(ids) - 1  # the forgotten comment has no IP left
    await public_routes(call, ids)

    log_text = log_stream.getvalue()
    events = [json.loads(line)["event"] for line in log_text.splitlines()]
    assert events.count("comment_decided") == len(ids)
    assert events.count("http_request") == len(call.texts)
    responses = "\n".join(call.texts).casefold()
    for secret in private_strings(people):
        assert secret not in responses, secret
        assert secret not in log_text.casefold(), secret


async def test_forget_through_the_api_and_the_command(
    aiohttp_client,
    settings: Settings,
    redis: aioredis.Redis,
    keys: Keys,  # type: ignore[no-untyped-def]
) -> None:

    api = await aiohttp_client(
        create_app(replace(settings, moderator_tokens=(("amina", "amina-token-0123456789"),)))
    )
    auth = {"Authorization": "Bearer amina-token-0123456789"}
    for email in ("gone@example.ma", "also-gone@example.ma"):
        await api.post("/v1/comments", json={**VALID, "email": email})
    response = await api.post(
        "/v1/moderation/forget", json={"email": "GONE@example.ma"}, headers=auth
    )
    assert await response.json() == {"comments": 1, "taken_down": 0}  # it was pending
    assert (await api.post("/v1/moderation/forget", json={}, headers=auth)).status == 422
    assert (await api.post("/v1/moderation/forget", json={"email": "x@y.ma"})).status == 401
    result = await asyncio.to_thread(
        run_module,
        "moderator",
        "forget",
        "-",
        env=env_for(settings),
        input="also-gone@example.ma\n",
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {"comments": 1, "taken_down": 0}
    assert "also-gone@example.ma" not in result.stdout + result.stderr
