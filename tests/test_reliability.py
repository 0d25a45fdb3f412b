"""Nothing accepted is lost: Redis killed and restarted, Redis down under a worker."""

from __future__ import annotations

import asyncio
import time
from dataclasses import replace
from pathlib import Path

import pytest
import redis.asyncio as aioredis
from aiohttp.test_utils import TestClient, TestServer

from moderator.domain import Status
from moderator.keys import Keys
from moderator.local.redis_server import PrivateRedis
from moderator.settings import Settings
from moderator.web.app import create_app
from tests.fakes import FakeToxicity
from tests.helpers import VALID, until
from workers.consumer import Worker

N_COMMENTS = 200

pytestmark = pytest.mark.e2e


def own_settings(settings: Settings, server: PrivateRedis) -> Settings:
    return replace(settings, redis_url=server.url, reclaim_idle_ms=200, worker_block_ms=50)


async def test_redis_killed_with_sigkill_keeps_every_accepted_comment(
    settings: Settings, tmp_path: Path
) -> None:
    """appendfsync always: N comments answered 202, Redis SIGKILLed and restarted on its
    append-only file: all N are there, queued, and all get decided once."""
    server = PrivateRedis(tmp_path, appendfsync="always")
    server.start()
    try:
        test_settings = own_settings(settings, server)
        keys = Keys(test_settings.key_prefix)
        async with TestClient(TestServer(create_app(test_settings))) as client:
            bodies = [
                {**VALID, "body": f"Commentaire durable numéro {i}."} for i in range(N_COMMENTS)
            ]
            responses = await asyncio.gather(*(client.post("/v1/comments", json=b) for b in bodies))
            accepted = [(await r.json())["id"] for r in responses if r.status == 202]
        assert len(accepted) == N_COMMENTS
        server.stop(kill=True)
        server.start()
        redis = aioredis.Redis.from_url(server.url, decode_responses=True)
        try:
            queued = [f["id"] for _, f in await redis.xrange(keys.comments_stream)]
            assert sorted(queued) == sorted(accepted)
            worker = Worker(redis, test_settings, toxicity=FakeToxicity(), name="after-crash")
            await worker.setup()
            assert await worker.drain() == N_COMMENTS
            assert await redis.zcard(keys.queue(Status.PUBLISHED)) == N_COMMENTS
            for comment_id in accepted:
                assert await redis.llen(keys.history(comment_id)) == 1
        finally:
            await redis.aclose()
        print(f"{N_COMMENTS} accepted, Redis SIGKILLed, {N_COMMENTS} recovered and decided")
    finally:
        server.close()


async def test_a_worker_rides_out_redis_down_without_spinning(
    settings: Settings, tmp_path: Path
) -> None:
    """Redis stopped under a running worker for two seconds: the worker neither exits nor
    burns the CPU (it backs off with jitter), and resumes when Redis is back."""
    server = PrivateRedis(tmp_path)
    server.start()
    test_settings = own_settings(settings, server)
    keys = Keys(test_settings.key_prefix)
    redis = aioredis.Redis.from_url(
        server.url, decode_responses=True, socket_timeout=2, socket_connect_timeout=1
    )
    worker = Worker(redis, test_settings, toxicity=FakeToxicity(), name="patient")
    task = asyncio.create_task(worker.run())
    try:
        async with TestClient(TestServer(create_app(test_settings))) as client:
            first = (await (await client.post("/v1/comments", json=VALID)).json())["id"]
            await until(lambda: _status(redis, keys, first), "published")
            server.stop()
            cpu_before, wall_before = time.process_time(), time.monotonic()
            await asyncio.sleep(2.0)
            cpu = time.process_time() - cpu_before
            wall = time.monotonic() - wall_before
            assert not task.done(), "the worker exited while Redis was down"
            assert cpu < 0.5 * wall, f"{cpu:.2f}s of CPU in {wall:.2f}s: spinning"
            server.start()
            second = (await (await client.post("/v1/comments", json=VALID)).json())["id"]
            await until(lambda: _status(redis, keys, second), "published")
    finally:
        worker.stop()
        await asyncio.wait_for(task, timeout=10)
        await redis.aclose()
        server.close()


async def _status(redis: aioredis.Redis, keys: Keys, comment_id: str) -> str | None:
    try:
        return await redis.hget(keys.comment(comment_id), "status")
    except (aioredis.ConnectionError, OSError):
        return None
