"""Test fixtures: a private Redis for the session, one key prefix per test, the real app."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import replace

import pytest
import redis.asyncio as aioredis
from aiohttp.test_utils import TestClient

from moderator.keys import Keys
from moderator.local.redis_server import PrivateRedis
from moderator.settings import Settings
from moderator.web.app import create_app
from tests.fakes import FakeToxicity
from tests.helpers import TOKENS
from workers.consumer import Worker


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A redis-server of our own (or TEST_REDIS_URL): never anyone else's data."""
    given = os.environ.get("TEST_REDIS_URL")
    if given:
        yield given
        return
    server = PrivateRedis(tmp_path_factory.mktemp("redis"))
    server.start()
    try:
        yield server.url
    finally:
        server.close()


@pytest.fixture
def settings(redis_url: str) -> Settings:
    """Settings for one test: its own key prefix keeps tests apart."""
    return Settings.from_env(
        {
            "MODERATOR_REDIS_URL": redis_url,
            "MODERATOR_KEY_PREFIX": f"test-{uuid.uuid4().hex[:12]}",
            "MODERATOR_HASH_KEY": "test-hash-key",
            "MODERATOR_REDIRECT_HOSTS": "news.example.ma",
            # Tests post many comments from one address; test_rate_limits turns them on.
            "MODERATOR_RATE_LIMIT_IP": "0",
            "MODERATOR_RATE_LIMIT_EMAIL": "0",
            "MODERATOR_RATE_LIMIT_ARTICLE": "0",
            # Seeding the site model takes a second per key prefix; its tests turn it on.
            "MODERATOR_SITE_MODEL_SEED": "false",
            # A busy CI machine must not turn a slow check into a decision; test_checks
            # sets its own budget.
            "MODERATOR_CHECK_BUDGET_MS": "5000",
            # Nor a slow moment of the shared Redis into a 503: the tests of timeouts and
            # outages (test_redis_outage, test_failover) set their own.
            "MODERATOR_REDIS_TIMEOUT_S": "2",
        }
    )


@pytest.fixture
def keys(settings: Settings) -> Keys:
    return Keys(settings.key_prefix)


@pytest.fixture
async def redis(settings: Settings) -> AsyncIterator[aioredis.Redis]:
    client = aioredis.Redis.from_url(settings.effective_redis_url, decode_responses=True)
    try:
        yield client
    finally:
        async for key in client.scan_iter(f"{settings.key_prefix}:*"):
            await client.delete(key)
        await client.aclose()


@pytest.fixture
async def client(aiohttp_client, settings: Settings, redis: aioredis.Redis) -> TestClient:  # type: ignore[no-untyped-def]
    return await aiohttp_client(create_app(settings))


@pytest.fixture
def mod_settings(settings: Settings) -> Settings:
    return replace(settings, moderator_tokens=TOKENS, reclaim_idle_ms=100)


@pytest.fixture
async def api(aiohttp_client, mod_settings: Settings, redis: aioredis.Redis) -> TestClient:  # type: ignore[no-untyped-def]
    """The app with two moderators' tokens."""
    return await aiohttp_client(create_app(mod_settings))


@pytest.fixture
async def worker(redis: aioredis.Redis, mod_settings: Settings) -> Worker:
    """A worker with the fake toxicity scorer of tests/fakes.py."""
    worker = Worker(redis, mod_settings, toxicity=FakeToxicity(), name="w")
    await worker.setup()
    return worker
