"""System stats from counters kept as decisions happen: a scrape costs the same at ten
million decisions as at ten."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import redis.asyncio as aioredis
from aiohttp.test_utils import TestClient

from moderator.keys import Keys
from moderator.local.redis_server import PrivateRedis
from moderator.settings import Settings
from moderator.web.app import create_app
from tests.fakes import FakeToxicity
from tests.helpers import AMINA, TOKENS, VALID
from workers.consumer import Worker

DECISIONS = 10_000_000
# Fills the audit stream with ARGV[1] entries from Lua, in one call per chunk.
FILL = """
for i = 1, tonumber(ARGV[1]) do
  redis.call('XADD', KEYS[1], '*', 'to', 'held', 'by', 'auto')
end
return redis.call('XLEN', KEYS[1])
"""


@pytest.fixture
def big_redis(tmp_path: Path) -> Iterator[PrivateRedis]:
    server = PrivateRedis(tmp_path)
    server.start()
    try:
        yield server
    finally:
        server.stop(kill=True)


@pytest.mark.timeout(600)
async def test_metrics_and_stats_answer_at_ten_million_decisions(
    aiohttp_client,
    big_redis: PrivateRedis,  # type: ignore[no-untyped-def]
) -> None:
    settings = Settings(
        redis_url=big_redis.url, hash_key="k", moderator_tokens=TOKENS, site_model_seed=False
    )
    keys = Keys(settings.key_prefix)
    redis = aioredis.Redis.from_url(big_redis.url, decode_responses=True)
    try:
        await redis.config_set("appendonly", "no")  # ten million entries, no need on disk
        for _ in range(DECISIONS // 1_000_000):
            length = await redis.eval(FILL, 1, keys.audit, 1_000_000)
        assert length == DECISIONS
        client: TestClient = await aiohttp_client(create_app(settings))
        # One real decision through the worker, counted by the same atomic step.
        posted = await client.post("/v1/comments", json={**VALID, "body": "You are an idiot."})
        assert posted.status == 202
        worker = Worker(redis, settings, toxicity=FakeToxicity(), name="w")
        await worker.setup()
        assert await worker.drain() == 1
        counted = [key async for key in redis.scan_iter(f"{keys.prefix}:stats:decisions:*")]
        assert len(counted) == 1
        # The counters of the ten million filled in by hand, as the step would have.
        await redis.hincrby(counted[0], "decision:held", DECISIONS)

        await redis.config_resetstat()
        scraped = await client.get("/metrics")
        assert scraped.status == 200
        stats = await client.get("/v1/moderation/stats", headers=AMINA)
        assert stats.status == 200, await stats.text()
        body = await stats.json()
        assert body["decisions"]["held"] == DECISIONS + 1
        assert body["decisions_by_reason"]["toxicity.insult"] == 1
        # Neither read the audit stream: their cost does not grow with it.
        commands = await redis.info("commandstats")
        assert not {"cmdstat_xrange", "cmdstat_xrevrange", "cmdstat_xread"} & set(commands)
    finally:
        await redis.aclose()
