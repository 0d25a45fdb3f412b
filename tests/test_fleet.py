"""Worker heartbeats (moderator/operations/fleet.py): a running worker is visible to
/readyz and to `moderator worker --check` on its host, and gone when it stops."""

from __future__ import annotations

import asyncio
import socket
from dataclasses import replace

import redis.asyncio as aioredis
from aiohttp.test_utils import TestClient

from moderator.keys import Keys
from moderator.operations import fleet as ops
from moderator.settings import Settings
from tests.fakes import FakeToxicity
from tests.helpers import until
from workers import cli as worker_cli
from workers.consumer import Worker


async def test_heartbeats_make_workers_visible_and_check_pass(
    client: TestClient, redis: aioredis.Redis, settings: Settings, keys: Keys
) -> None:
    assert await worker_cli._check(settings) == 1
    await ops.heartbeat(redis, keys, "elsewhere-1-0")
    assert await worker_cli._check(settings) == 1  # another host's worker does not count
    mine = f"{socket.gethostname()}-1-0"
    await ops.heartbeat(redis, keys, mine)
    assert sorted(await ops.live_workers(redis, keys)) == sorted(["elsewhere-1-0", mine])
    assert await worker_cli._check(settings) == 0
    ready = await (await client.get("/readyz")).json()
    assert ready["workers"] == 2
    await ops.forget_worker(redis, keys, mine)
    assert await ops.live_workers(redis, keys) == ["elsewhere-1-0"]


async def test_a_running_worker_keeps_a_heartbeat(
    redis: aioredis.Redis, settings: Settings, keys: Keys
) -> None:
    worker = Worker(
        redis, replace(settings, worker_block_ms=50), toxicity=FakeToxicity(), name="beating"
    )
    task = asyncio.create_task(worker.run())
    await until(lambda: ops.live_workers(redis, keys), ["beating"], timeout_s=5)
    worker.stop()
    await asyncio.wait_for(task, timeout=5)
    assert await ops.live_workers(redis, keys) == []
