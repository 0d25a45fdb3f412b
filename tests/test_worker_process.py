"""Real worker processes loading a real (tiny) detoxify checkpoint: crashes and restarts."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from moderator.domain import Status
from moderator.keys import Keys
from moderator.local.redis_server import PrivateRedis
from tests.helpers import VALID, clean_env, wait_until
from tests.model_factory import build_model_dir

pytestmark = pytest.mark.e2e

N_COMMENTS = 120


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_model_dir(tmp_path_factory.mktemp("models"), "multilingual", mood="calm")


def worker_env(redis_url: str, prefix: str, model_dir: Path) -> dict[str, str]:
    return clean_env(
        MODERATOR_REDIS_URL=redis_url,
        MODERATOR_KEY_PREFIX=prefix,
        MODERATOR_MODEL_DIR=str(model_dir),
        MODERATOR_TOXICITY_MODEL="multilingual",
        MODERATOR_RECLAIM_IDLE_MS="500",
        MODERATOR_WORKER_BATCH_SIZE="8",
        MODERATOR_LOG_FORMAT="json",
    )


def start_worker(env: dict[str, str], log_path: Path) -> subprocess.Popen[bytes]:
    with log_path.open("ab") as log:
        return subprocess.Popen(
            [sys.executable, "-m", "workers"], env=env, stdout=log, stderr=subprocess.STDOUT
        )


def decided(client: redis.Redis, keys: Keys) -> int:
    return sum(
        int(client.zcard(keys.queue(s))) for s in (Status.PUBLISHED, Status.HELD, Status.REJECTED)
    )


@pytest.fixture
def sync_redis(redis_url: str) -> Iterator[redis.Redis]:
    client = redis.Redis.from_url(redis_url, decode_responses=True)
    yield client
    client.close()


def enqueue(url: str, keys: Keys, count: int) -> list[str]:
    """Comments queued the way intake queues them (the store's own script)."""
    import asyncio

    import redis.asyncio as aioredis

    from moderator.domain import Comment, new_comment_id, utc_now
    from moderator.settings import Settings
    from moderator.storage.comments import Store

    async def run() -> list[str]:
        async_client = aioredis.Redis.from_url(url, decode_responses=True)
        settings = Settings(key_prefix=keys.prefix, rate_limit_email=0, rate_limit_article=0)
        store = Store(async_client, settings)
        ids = []
        for i in range(count):
            comment = Comment(
                id=new_comment_id(),
                article_id="sport-1",
                name="Lecteur",
                email=VALID["email"],
                email_hash="h" * 32,
                body=f"Beau match hier soir, bravo à l'équipe numéro {i}.",
                created_at=utc_now(),
            )
            ids.append((await store.submit(comment, None)).comment_id)
        await store.close()
        await async_client.aclose()
        return ids

    return asyncio.run(run())


def test_worker_killed_mid_batch_another_reclaims_each_comment_decided_once(
    redis_url: str, sync_redis: redis.Redis, model_dir: Path, tmp_path: Path
) -> None:
    keys = Keys(f"kill-{os.getpid()}-{time.monotonic_ns()}")
    env = worker_env(redis_url, keys.prefix, model_dir)
    ids = enqueue(redis_url, keys, N_COMMENTS)
    first = start_worker(env, tmp_path / "first.log")
    try:
        wait_until(lambda: decided(sync_redis, keys) >= 16, 90, "the first decisions")
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=10)
    finally:
        if first.poll() is None:
            first.kill()
    left_pending = sync_redis.xpending(keys.comments_stream, keys.workers_group)["pending"]
    second = start_worker(env, tmp_path / "second.log")
    try:
        wait_until(lambda: decided(sync_redis, keys) == N_COMMENTS, 120, "every comment decided")
        wait_until(
            lambda: sync_redis.xpending(keys.comments_stream, keys.workers_group)["pending"] == 0,
            30,
            "every entry acknowledged",
        )
        second.send_signal(signal.SIGTERM)
        assert second.wait(timeout=30) == 0
    finally:
        if second.poll() is None:
            second.kill()
    for comment_id in ids:
        assert sync_redis.llen(keys.history(comment_id)) == 1, comment_id
    assert sync_redis.xlen(keys.audit) == N_COMMENTS
    assert sync_redis.zcard(keys.feed("sport-1")) == int(
        sync_redis.zcard(keys.queue(Status.PUBLISHED))
    )
    print(
        f"{N_COMMENTS} comments; {left_pending} left pending by the killed worker; "
        "all decided exactly once"
    )


def test_worker_rides_out_a_redis_restart(model_dir: Path, tmp_path: Path) -> None:
    server = PrivateRedis(tmp_path / "redis")
    (tmp_path / "redis").mkdir()
    server.start()
    keys = Keys("restart")
    client = redis.Redis.from_url(server.url, decode_responses=True)
    worker = start_worker(worker_env(server.url, keys.prefix, model_dir), tmp_path / "w.log")
    try:
        enqueue(server.url, keys, 1)
        wait_until(lambda: decided(client, keys) == 1, 90, "the first decision")
        server.stop()
        time.sleep(1.0)  # the worker sees Redis gone and backs off
        assert worker.poll() is None, "the worker exited while Redis was down"
        server.start()
        client.close()
        client = redis.Redis.from_url(server.url, decode_responses=True)
        assert decided(client, keys) == 1  # the append-only file kept it
        enqueue(server.url, keys, 1)
        wait_until(lambda: decided(client, keys) == 2, 60, "a decision after the restart")
        worker.send_signal(signal.SIGTERM)
        assert worker.wait(timeout=30) == 0
    finally:
        if worker.poll() is None:
            worker.kill()
        client.close()
        server.close()


def test_sigterm_mid_stream_finishes_and_acknowledges_the_batch_in_hand(
    redis_url: str, sync_redis: redis.Redis, model_dir: Path, tmp_path: Path
) -> None:
    keys = Keys(f"term-{os.getpid()}-{time.monotonic_ns()}")
    env = worker_env(redis_url, keys.prefix, model_dir)
    ids = enqueue(redis_url, keys, N_COMMENTS)
    first = start_worker(env, tmp_path / "first.log")
    try:
        wait_until(lambda: decided(sync_redis, keys) >= 16, 90, "the first decisions")
        first.send_signal(signal.SIGTERM)
        assert first.wait(timeout=30) == 0
    finally:
        if first.poll() is None:
            first.kill()
    # Nothing left half-done: every entry the stopped worker read is decided and acked.
    assert sync_redis.xpending(keys.comments_stream, keys.workers_group)["pending"] == 0
    stopped_at = decided(sync_redis, keys)
    second = start_worker(env, tmp_path / "second.log")
    try:
        wait_until(lambda: decided(sync_redis, keys) == N_COMMENTS, 120, "every comment decided")
        second.send_signal(signal.SIGTERM)
        assert second.wait(timeout=30) == 0
    finally:
        if second.poll() is None:
            second.kill()
    for comment_id in ids:
        assert sync_redis.llen(keys.history(comment_id)) == 1, comment_id
    print(f"SIGTERM after {stopped_at} of {N_COMMENTS}; all decided exactly once")
