"""The operators' commands (moderator/operations/commands.py): `moderator stats` and
`moderator dead-letters`, in process and as processes. /metrics: tests/test_metrics.py;
worker heartbeats and `moderator worker --check`: tests/test_fleet.py."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest
import redis.asyncio as aioredis
from aiohttp.test_utils import TestClient

from moderator.keys import Keys
from moderator.operations import commands as admin
from moderator.settings import Settings
from tests.fakes import FakeToxicity
from tests.helpers import VALID, decided_comments, env_for, run_module
from workers.consumer import Worker


async def test_stats_report(
    client: TestClient,
    redis: aioredis.Redis,
    settings: Settings,
    capsys: pytest.CaptureFixture[str],
) -> None:
    await decided_comments(client, redis, settings)
    capsys.readouterr()  # the log lines so far
    assert await admin.stats(settings, as_json=True, window_s=3600) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["queues"]["held"] == 2
    assert report["decisions_by_language"]["ar"] == 1
    assert report["workers_alive"] == []
    assert await admin.stats(settings, as_json=False, window_s=3600) == 0
    table = capsys.readouterr().out
    assert "held                   2" in table
    assert "toxicity.insult 1" in table


async def test_dead_letters_are_listed_and_replayed(
    client: TestClient,
    redis: aioredis.Redis,
    settings: Settings,
    keys: Keys,
    capsys: pytest.CaptureFixture[str],
) -> None:
    poison = (
        await (await client.post("/v1/comments", json={**VALID, "body": "POISON here"})).json()
    )["id"]
    worker = Worker(
        redis,
        replace(settings, max_deliveries=1, reclaim_idle_ms=10),
        toxicity=FakeToxicity(),
        name="w",
    )
    await worker.setup()
    import asyncio

    while not await redis.xlen(keys.dead_letters):
        await worker.step(block_ms=0)
        await asyncio.sleep(0.02)
    capsys.readouterr()  # the log lines so far
    assert await admin.dead_letters_list(settings, as_json=True) == 0
    [letter] = json.loads(capsys.readouterr().out)
    assert letter["id"] == poison
    assert "choked" in letter["error"]
    # Fixed (here: the body no longer poisons the model), then replayed.
    await redis.hset(keys.comment(poison), "body", "Plus de poison.")
    assert await admin.dead_letters_retry(settings, [letter["dead_id"]], retry_all=False) == 0
    assert await redis.xlen(keys.dead_letters) == 0
    await worker.drain()
    assert await redis.hget(keys.comment(poison), "status") == "published"


def test_commands_run_as_processes(settings: Settings) -> None:
    env = env_for(settings)
    for command in (
        ["stats"],
        ["stats", "--json"],
        ["dead-letters", "list"],
        ["dead-letters", "retry", "--all"],
    ):
        result = run_module("moderator", *command, env=env)
        assert result.returncode == 0, (command, result.stderr)
    check = run_module("moderator", "worker", "--check", env=env)
    assert check.returncode == 1
    assert "0 worker(s) alive on this host" in check.stdout
