"""The real command in a real process: serve, dev, config, graceful shutdown, JSON logs."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import redis

from moderator.keys import Keys
from moderator.local.redis_server import free_port
from tests.helpers import VALID, clean_env, run_module, wait_until_healthy

pytestmark = pytest.mark.e2e


@dataclass
class Server:
    process: subprocess.Popen[bytes]
    url: str
    log_path: Path
    keys: Keys

    def log_records(self) -> list[dict[str, object]]:
        return [json.loads(line) for line in self.log_path.read_text().splitlines() if line]


def moderator_env(**extra: str) -> dict[str, str]:
    # No model directory here and no network: the worker falls back to holding.
    return clean_env(MODERATOR_LOG_FORMAT="json", HF_HUB_OFFLINE="1", **extra)


def post(url: str, payload: object) -> tuple[int, dict[str, object]]:
    request = urllib.request.Request(
        f"{url}/v1/comments",
        data=json.dumps(payload).encode(),
        headers={"Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


@pytest.fixture
def server(redis_url: str, tmp_path: Path) -> Iterator[Server]:
    port = free_port()
    prefix = f"e2e-{uuid.uuid4().hex[:8]}"
    log_path = tmp_path / "serve.log"
    env = moderator_env(
        MODERATOR_REDIS_URL=redis_url,
        MODERATOR_PORT=str(port),
        MODERATOR_KEY_PREFIX=prefix,
        MODERATOR_HASH_KEY="e2e",
        MODERATOR_RATE_LIMIT_EMAIL="0",
        MODERATOR_RATE_LIMIT_ARTICLE="0",
        MODERATOR_RATE_LIMIT_IP="0",  # every request comes from 127.0.0.1
    )
    with log_path.open("wb") as log_file:
        process = subprocess.Popen(
            [sys.executable, "-m", "moderator", "serve"],
            env=env,
            stdout=log_file,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_healthy(url, process)
        yield Server(process, url, log_path, Keys(prefix))
    finally:
        if process.poll() is None:
            process.kill()
        process.wait(timeout=10)


def test_serve_accepts_a_comment_end_to_end(server: Server, redis_url: str) -> None:
    status, body = post(server.url, {**VALID, "ip": "196.200.131.7"})
    assert status == 202
    client = redis.Redis.from_url(redis_url, decode_responses=True)
    try:
        assert client.hget(server.keys.comment(str(body["id"])), "status") == "pending"
        assert [f["id"] for _, f in client.xrange(server.keys.comments_stream)] == [body["id"]]
    finally:
        client.close()
    server.process.send_signal(signal.SIGTERM)
    assert server.process.wait(timeout=15) == 0
    records = server.log_records()
    assert all({"timestamp", "level", "event", "service"} <= set(r) for r in records)
    events = [r["event"] for r in records]
    assert "service_started" in events
    assert events[-2:] == ["service_stopping", "service_stopped"]
    text = server.log_path.read_text()
    assert "amina@example.ma" not in text
    assert "196.200.131.7" not in text


def test_sigterm_under_load_loses_no_accepted_comment(server: Server, redis_url: str) -> None:
    """SIGTERM while comments keep arriving: every request gets a 202 or is never
    accepted (connection refused or closed before it was read); no 5xx; every 202's
    comment is stored and queued; the process exits 0."""
    import asyncio

    import aiohttp

    outcomes: list[str] = []
    hundred_accepted = asyncio.Event()

    async def sender(session: aiohttp.ClientSession) -> None:
        for _ in range(200):
            try:
                async with session.post(f"{server.url}/v1/comments", json=VALID) as response:
                    outcomes.append(str(response.status))
                    body = await response.json()
                    assert response.status == 202, body
                    if outcomes.count("202") >= 100:
                        hundred_accepted.set()
            except (TimeoutError, aiohttp.ClientConnectionError):
                outcomes.append("not accepted")
                return

    async def run() -> None:
        async with aiohttp.ClientSession() as session:
            senders = [asyncio.create_task(sender(session)) for _ in range(8)]
            await hundred_accepted.wait()
            server.process.send_signal(signal.SIGTERM)
            await asyncio.gather(*senders)

    asyncio.run(run())
    assert server.process.wait(timeout=15) == 0
    accepted = outcomes.count("202")
    assert set(outcomes) <= {"202", "not accepted"}
    client = redis.Redis.from_url(redis_url, decode_responses=True)
    try:
        assert client.xlen(server.keys.comments_stream) == accepted
    finally:
        client.close()
    print(f"accepted {accepted} comments, {outcomes.count('not accepted')} senders refused")


def test_config_prints_the_effective_configuration_masked() -> None:
    env = moderator_env(
        MODERATOR_TOKENS="amina:0123456789abcdef",
        MODERATOR_PORT="9001",
        MODERATOR_HASH_KEY="very-secret",
    )
    result = run_module("moderator", "config", env=env, check=True)
    config = json.loads(result.stdout)
    assert config["port"] == 9001
    assert config["moderator_tokens"] == ["amina:***"]
    assert config["hash_key"] == "***"
    assert "0123456789abcdef" not in result.stdout


def test_bad_configuration_stops_with_the_variable_named() -> None:
    result = run_module("moderator", "serve", env=moderator_env(MODERATOR_PORT="x"), timeout=30)
    assert result.returncode == 2
    assert "MODERATOR_PORT" in result.stderr


def _start_dev(port: int) -> subprocess.Popen[str]:
    """`moderator dev` on `port`, its stderr (the URLs, the token) kept for the test."""
    return subprocess.Popen(
        [sys.executable, "-m", "moderator", "dev", "--port", str(port)],
        env=moderator_env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_dev_runs_a_private_redis_the_service_and_a_worker(tmp_path: Path) -> None:
    """No model can be had here (no weights, no network): dev says so and holds
    every comment with check_failed.toxicity instead of failing."""
    port = free_port()
    process = _start_dev(port)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_healthy(url, process)
        status, body = post(url, VALID)
        assert status == 202
        deadline = time.monotonic() + 90
        while True:
            with urllib.request.urlopen(f"{url}/v1/comments/{body['id']}", timeout=5) as response:
                status = json.loads(response.read())["status"]
            if status != "pending" or time.monotonic() > deadline:
                break
            time.sleep(0.1)
        assert status == "held"
        process.send_signal(signal.SIGTERM)
        _, stderr = process.communicate(timeout=20)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == 0
    assert f"POST {url}/v1/comments" in stderr
    assert "moderator token" in stderr
    redis_line = next(line for line in stderr.splitlines() if "Redis" in line)
    redis_port = int(redis_line.split("127.0.0.1:")[1].split("/")[0])
    with pytest.raises(OSError):  # the private Redis is gone with it
        socket.create_connection(("127.0.0.1", redis_port), timeout=1).close()


def _children(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        found += [int(child) for child in (task / "children").read_text().split()]
    return found


def test_dev_stops_and_says_so_when_its_worker_dies() -> None:
    """It used to go on answering 202 and /healthz while nothing was decided."""
    port = free_port()
    process = _start_dev(port)
    try:
        wait_until_healthy(f"http://127.0.0.1:{port}", process)
        workers = [
            child
            for child in _children(process.pid)
            if b"workers" in Path(f"/proc/{child}/cmdline").read_bytes()
        ]
        assert len(workers) == 1
        os.kill(workers[0], signal.SIGKILL)
        _, stderr = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == 1
    assert "the worker exited (code -9): stopping" in stderr
