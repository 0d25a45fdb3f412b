"""Operations: /metrics, worker heartbeats and --check, moderator stats, dead letters."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import replace

import pytest
import redis.asyncio as aioredis
from aiohttp.test_utils import TestClient

from moderator.keys import Keys
from moderator.operations import commands as admin
from moderator.operations import fleet as ops
from moderator.settings import Settings
from tests.conftest import VALID
from tests.test_worker import FakeToxicity
from workers import cli as worker_cli
from workers.consumer import Worker


async def decided_comments(client: TestClient, redis: aioredis.Redis, settings: Settings) -> None:
    for body in (
        "Bravo pour cet article.",
        "You are an idiot.",
        "هذا المقال مفيد جدا وشكرا للكاتب على هذا العمل",
    ):
        await client.post("/v1/comments", json={**VALID, "body": body})
    worker = Worker(redis, settings, toxicity=FakeToxicity(), name="w")
    await worker.setup()
    await worker.drain()


async def test_metrics_show_the_service_and_the_workers(
    client: TestClient, redis: aioredis.Redis, settings: Settings
) -> None:
    await decided_comments(client, redis, settings)
    await client.post("/v1/comments", json={})  # refused
    response = await client.get("/metrics")
    assert response.status == 200
    assert response.headers["Content-Type"].startswith("text/plain; version=0.0.4")
    text = await response.text()
    expected = [
        'moderator_comments_received_total{outcome="accepted"} 3.0',
        'moderator_comments_received_total{outcome="refused"} 1.0',
        'moderator_http_requests_total{method="POST",route="/v1/comments",status="202"} 3.0',
        'moderator_comments{state="held"} 2.0',
        'moderator_comments{state="published"} 1.0',
        "moderator_stream_lag 0.0",
        "moderator_dead_letters 0.0",
        'moderator_decisions_total{decision="held",reason="toxicity.insult"} 1.0',
        'moderator_decisions_total{decision="published",reason="none"} 1.0',
        "moderator_scoring_batch_seconds_count 1.0",
        "moderator_scoring_comment_seconds_count 3.0",
        "moderator_oldest_held_age_seconds",
        "moderator_workers_alive 0.0",
        "moderator_http_request_duration_seconds_bucket",
    ]
    for line in expected:
        assert line in text, line


async def test_a_made_up_method_does_not_mint_a_metrics_series(client: TestClient) -> None:
    for method in ("PROPFIND", "MKCOL", "LOCK"):
        assert (await client.request(method, "/v1/comments")).status == 405
    text = await (await client.get("/metrics")).text()
    assert 'method="PROPFIND"' not in text and 'method="LOCK"' not in text
    assert (
        'moderator_http_requests_total{method="other",route="unmatched",status="405"} 3.0' in text
    )


async def test_heartbeats_make_workers_visible_and_check_pass(
    client: TestClient, redis: aioredis.Redis, settings: Settings, keys: Keys
) -> None:
    import socket

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
    import asyncio

    worker = Worker(
        redis, replace(settings, worker_block_ms=50), toxicity=FakeToxicity(), name="beating"
    )
    task = asyncio.create_task(worker.run())

    async def until_alive() -> None:
        while await ops.live_workers(redis, keys) != ["beating"]:
            await asyncio.sleep(0.02)

    await asyncio.wait_for(until_alive(), timeout=5)
    worker.stop()
    await asyncio.wait_for(task, timeout=5)
    assert await ops.live_workers(redis, keys) == []


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
    env = {k: v for k, v in os.environ.items() if not k.startswith("MODERATOR_")}
    env.update(
        MODERATOR_REDIS_URL=settings.effective_redis_url, MODERATOR_KEY_PREFIX=settings.key_prefix
    )
    for command in (
        ["stats"],
        ["stats", "--json"],
        ["dead-letters", "list"],
        ["dead-letters", "retry", "--all"],
    ):
        result = subprocess.run(
            [sys.executable, "-m", "moderator", *command],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert result.returncode == 0, (command, result.stderr)
    check = subprocess.run(
        [sys.executable, "-m", "moderator", "worker", "--check"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert check.returncode == 1
    assert "0 worker(s) alive on this host" in check.stdout
