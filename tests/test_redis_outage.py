"""Redis stopped under a running service: 503 quickly, then 202 again, nothing half-written."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis.asyncio as aioredis
from aiohttp.test_utils import TestClient

from moderator.keys import Keys
from moderator.local.redis_server import PrivateRedis
from moderator.settings import Settings
from moderator.web.app import create_app
from tests.helpers import VALID


@pytest.fixture
def own_redis(tmp_path: Path) -> Iterator[PrivateRedis]:
    """A Redis of this test's own, so stopping it disturbs no other test."""
    server = PrivateRedis(tmp_path)
    server.start()
    try:
        yield server
    finally:
        server.stop()


async def test_redis_down_answers_503_fast_and_recovers(
    aiohttp_client,
    own_redis: PrivateRedis,  # type: ignore[no-untyped-def]
) -> None:
    settings = Settings.from_env({"MODERATOR_REDIS_URL": own_redis.url, "MODERATOR_HASH_KEY": "k"})
    client: TestClient = await aiohttp_client(create_app(settings))
    keys = Keys(settings.key_prefix)
    assert (await client.post("/v1/comments", json=VALID)).status == 202

    own_redis.stop()
    started = time.monotonic()
    refused = await client.post("/v1/comments", json=VALID)
    elapsed = time.monotonic() - started
    assert refused.status == 503
    assert refused.headers["Retry-After"] == "2"
    assert refused.content_type == "application/problem+json"
    assert elapsed < 1.0, f"503 took {elapsed:.2f}s"
    assert (await client.get("/readyz")).status == 503
    assert (await client.get("/healthz")).status == 200

    own_redis.start()
    accepted = await client.post("/v1/comments", json=VALID)
    assert accepted.status == 202
    assert (await client.get("/readyz")).status == 200

    direct = aioredis.Redis.from_url(own_redis.url, decode_responses=True)
    try:
        queued = [f["id"] for _, f in await direct.xrange(keys.comments_stream)]
        stored = [k async for k in direct.scan_iter(keys.comment("*"))]
        assert len(queued) == len(stored) == 2  # the 503 left nothing behind
    finally:
        await direct.aclose()


async def test_hung_redis_answers_503_within_a_second(
    aiohttp_client,
    tmp_path: Path,  # type: ignore[no-untyped-def]
) -> None:
    """A server that accepts connections and never answers (a frozen Redis)."""
    import asyncio

    connections: list[asyncio.StreamWriter] = []

    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        connections.append(writer)
        await reader.read(1 << 16)

    server = await asyncio.start_server(silent, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    settings = Settings.from_env({"MODERATOR_REDIS_URL": f"redis://127.0.0.1:{port}/0"})
    client: TestClient = await aiohttp_client(create_app(settings))
    try:
        started = time.monotonic()
        response = await client.post("/v1/comments", json=VALID)
        assert response.status == 503
        assert time.monotonic() - started < 1.0
        started = time.monotonic()
        scraped = await client.get("/metrics")  # used to answer 500 after a hang
        assert scraped.status == 503
        assert scraped.headers["Retry-After"] == "2"
        assert time.monotonic() - started < 1.5
    finally:
        server.close()
        for writer in connections:
            writer.close()
            await writer.wait_closed()
        await server.wait_closed()


async def test_every_route_that_reads_redis_answers_503_not_500_while_it_is_down(
    aiohttp_client,
    own_redis: PrivateRedis,  # type: ignore[no-untyped-def]
) -> None:
    """/metrics and the moderation routes used to answer 500 while Redis was down."""
    token = "amina-token-0123456789"
    settings = Settings.from_env(
        {
            "MODERATOR_REDIS_URL": own_redis.url,
            "MODERATOR_HASH_KEY": "k",
            "MODERATOR_TOKENS": f"amina:{token}",
        }
    )
    client: TestClient = await aiohttp_client(create_app(settings))
    assert (await client.post("/v1/comments", json=VALID)).status == 202
    own_redis.stop()
    auth = {"Authorization": f"Bearer {token}"}
    some_id = "01J00000000000000000000000"
    calls = [
        ("GET", "/metrics", None),
        ("GET", "/v1/moderation/queue?state=held", None),
        ("GET", "/v1/moderation/stats", None),
        ("GET", f"/v1/moderation/comments/{some_id}", None),
        ("POST", f"/v1/moderation/comments/{some_id}/decision", {"action": "approve"}),
        ("GET", "/v1/moderation/audit", None),
        ("GET", "/v1/moderation/wordlists/suspect", None),
    ]
    for method, path, body in calls:
        started = time.monotonic()
        response = await client.request(method, path, json=body, headers=auth)
        assert response.status == 503, (path, response.status, await response.text())
        assert response.headers["Retry-After"] == "2", path
        assert time.monotonic() - started < 1.5, path
