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
    finally:
        server.close()
        for writer in connections:
            writer.close()
            await writer.wait_closed()
        await server.wait_closed()
