"""What the tests share besides fixtures: a valid comment and two moderators' tokens,
submitting through the app and reading the decision back, running a command as a process,
and waiting on a condition (never on a fixed sleep)."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
import urllib.request
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

import redis.asyncio as aioredis
from aiohttp.test_utils import TestClient

from moderator.domain import Status, utc_now
from moderator.keys import Keys
from moderator.settings import Settings
from moderator.storage.decisions import Decision, Reason
from tests.fakes import FakeToxicity
from workers.consumer import Worker

T = TypeVar("T")

REPO = Path(__file__).resolve().parent.parent

VALID = {
    "article_id": "politique-123",
    "name": "Amina",
    "email": "amina@example.ma",
    "body": "Très bon article, merci.",
}

TOKENS = (("amina", "amina-token-0123456789"), ("karim", "karim-token-0123456789"))
AMINA = {"Authorization": "Bearer amina-token-0123456789"}
KARIM = {"Authorization": "Bearer karim-token-0123456789"}


# --- through the app and Redis ---------------------------------------------------------


async def submit(client: TestClient, **fields: Any) -> str:
    """Post VALID with `fields` changed; the id of the accepted comment."""
    response = await client.post("/v1/comments", json={**VALID, **fields})
    assert response.status == 202, await response.text()
    return str((await response.json())["id"])


async def decision_of(redis: aioredis.Redis, keys: Keys, comment_id: str) -> dict[str, Any]:
    """The comment's current decision record."""
    raw = await redis.hget(keys.comment(comment_id), "decision")
    assert raw, f"{comment_id} has no decision"
    return dict(json.loads(raw))


def codes(decision: dict[str, Any]) -> list[str]:
    """The reason codes of a decision record, in order."""
    return [reason["code"] for reason in decision["reasons"]]


def auto(status: Status, *reasons: Reason) -> Decision:
    """An automatic decision, made now."""
    return Decision(decision=status, by="auto", at=utc_now(), reasons=reasons)


async def decided_comments(client: TestClient, redis: aioredis.Redis, settings: Settings) -> None:
    """Three comments through intake, decided by a worker with the fake scorer: one
    published, two held (an insult; Arabic, which the model does not read)."""
    for body in (
        "Bravo pour cet article.",
        "You are an idiot.",
        "هذا المقال مفيد جدا وشكرا للكاتب على هذا العمل",
    ):
        await client.post("/v1/comments", json={**VALID, "body": body})
    worker = Worker(redis, settings, toxicity=FakeToxicity(), name="w")
    await worker.setup()
    await worker.drain()


async def post_decision(
    api: TestClient, comment_id: str, headers: dict[str, str] = AMINA, **body: Any
) -> Any:
    """A moderator's decision on one comment through the API (Amina's by default)."""
    return await api.post(
        f"/v1/moderation/comments/{comment_id}/decision", json=body, headers=headers
    )


async def stored_keys(redis: aioredis.Redis, settings: Settings) -> list[str]:
    """Every key under the test's prefix."""
    return [key async for key in redis.scan_iter(f"{settings.key_prefix}:*")]


# --- commands as processes -------------------------------------------------------------


def clean_env(**extra: str) -> dict[str, str]:
    """This process's environment without any MODERATOR_* setting, plus `extra`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("MODERATOR_")}
    return {**env, **extra}


def env_for(settings: Settings, **extra: str) -> dict[str, str]:
    """`clean_env` pointing at the test's Redis and key prefix."""
    return clean_env(
        MODERATOR_REDIS_URL=settings.effective_redis_url,
        MODERATOR_KEY_PREFIX=settings.key_prefix,
        **extra,
    )


def run_module(
    module: str, *args: str, timeout: float | None = 60, **kwargs: Any
) -> subprocess.CompletedProcess[str]:
    """`python -m module args` in a process of its own, its output captured as text;
    `kwargs` go to `subprocess.run` (env, input, cwd, check)."""
    return subprocess.run(
        [sys.executable, "-m", module, *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        **kwargs,
    )


def log_tail(path: Path, lines: int = 20) -> str:
    """The last `lines` lines of a log file."""
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])


# --- waiting on conditions -------------------------------------------------------------


def wait_until(condition: Callable[[], bool], timeout_s: float, what: str) -> None:
    """Poll `condition` until it holds; fail naming `what` after `timeout_s`."""
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


async def until(read: Callable[[], Awaitable[T]], expected: T, timeout_s: float = 20) -> None:
    """Poll `await read()` until it returns `expected`; TimeoutError after `timeout_s`."""

    async def wait() -> None:
        while await read() != expected:
            await asyncio.sleep(0.05)

    await asyncio.wait_for(wait(), timeout=timeout_s)


def wait_until_healthy(
    url: str,
    process: subprocess.Popen[Any],
    timeout_s: float = 20,
    log: Path | None = None,
) -> None:
    """Wait for the server at `url` to answer /healthz; fail at once if its process exits.
    With `log`, a failure shows the end of the server's log."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        assert process.poll() is None, f"the server exited during start-up{_tail(log)}"
        try:
            with urllib.request.urlopen(f"{url}/healthz", timeout=1):
                return
        except OSError:
            time.sleep(0.05)
    raise AssertionError(f"the server did not become healthy{_tail(log)}")


def _tail(log: Path | None) -> str:
    return f":\n{log_tail(log)}" if log is not None else ""
