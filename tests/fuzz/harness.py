"""The fuzzers' harness: the real app served on a free port by its own event loop in a
thread, a plain HTTP client that sends one request per connection and counts them, the
contract every answer keeps, and the bugs the fuzzers know of and tolerate until fixed."""

from __future__ import annotations

import asyncio
import http.client
import json
import threading
from collections import Counter
from collections.abc import Coroutine, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, TypeVar

import hypothesis
import pytest
from aiohttp import web
from hypothesis import HealthCheck, Phase
from redis import Redis

from moderator.settings import Settings

T = TypeVar("T")

TOKEN = "amina-token-0123456789"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
SITE_KEY = "site-key-0123456789"
REDIRECT_HOST = "news.example.ma"  # MODERATOR_REDIRECT_HOSTS of the `settings` fixture
PROBLEM = "application/problem+json"
FORM = "application/x-www-form-urlencoded"
STATES = ("pending", "published", "held", "rejected")
QUEUES = STATES[1:]  # a comment in one of these states is in that state's queue

INTAKE_EXAMPLES = 300
MODERATION_EXAMPLES = 250
SCHEMA_EXAMPLES = 25  # per operation and generation mode (positive, negative)

FUZZ = hypothesis.settings(
    deadline=None,
    # No shrinking: it can outlast the 60 s per-test timeout, and every failure message
    # carries the whole request that failed anyway.
    phases=[Phase.explicit, Phase.generate],
    database=None,  # nothing written into the working tree; a failure prints its blob
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


# --- the server and the client ---------------------------------------------------------


class ServedApp:
    """The real app on a free port of 127.0.0.1, run by its own event loop in a thread."""

    def __init__(self, app: web.Application) -> None:
        self._app = app
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="fuzz-server")
        self._runner: web.AppRunner | None = None
        self.port = 0

    def __enter__(self) -> ServedApp:
        self._thread.start()
        try:
            self.run(self._start())
        except BaseException:
            self._stop_loop()
            raise
        return self

    def __exit__(self, *exc_info: object) -> None:
        try:
            if self._runner is not None:
                self.run(self._runner.cleanup())
            self.run(self._loop.shutdown_asyncgens())
        finally:
            self._stop_loop()

    def run(self, coroutine: Coroutine[Any, Any, T]) -> T:
        """Run a coroutine on the server's loop (where the app's Redis client lives)."""
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(timeout=30)

    async def _start(self) -> None:
        self._runner = web.AppRunner(self._app, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", 0).start()
        self.port = self._runner.addresses[0][1]

    def _stop_loop(self) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)
        self._loop.close()


@dataclass(frozen=True)
class Sent:
    method: str
    target: str
    headers: dict[str, str]
    body: bytes

    def __str__(self) -> str:
        return f"{self.method} {self.target} headers={self.headers} body={self.body[:2000]!r}"


@dataclass(frozen=True)
class Answer:
    status: int
    headers: http.client.HTTPMessage
    body: bytes

    def __str__(self) -> str:
        return f"{self.status} {self.headers.get('Content-Type')} {self.body[:500]!r}"


@dataclass
class Http:
    """One connection per request (nothing stale between examples); counts what it sends."""

    port: int
    statuses: Counter[int] = field(default_factory=Counter)

    @property
    def sent(self) -> int:
        return sum(self.statuses.values())

    def send(self, request: Sent) -> Answer:
        """The answer; status 0 when what came back is not a valid HTTP response."""
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=15)
        try:
            connection.request(request.method, request.target, request.body, request.headers)
            response = connection.getresponse()
            answer = Answer(response.status, response.msg, response.read())
        except (http.client.HTTPException, ConnectionError, TimeoutError) as exc:
            answer = Answer(0, http.client.HTTPMessage(), repr(exc).encode())
        finally:
            connection.close()
        self.statuses[answer.status] += 1
        return answer


def assert_contract(request: Sent, answer: Answer) -> None:
    """No 5xx; a 4xx is problem+json with a `type`, a `title` and its own `status`."""
    context = f"\n  request:  {request}\n  response: {answer}"
    assert 0 < answer.status < 500 or known_5xx(request) is not None, context
    if 400 <= answer.status < 500:
        assert answer.headers.get_content_type() == PROBLEM, context
        problem = json.loads(answer.body)
        assert isinstance(problem, dict), context
        assert isinstance(problem.get("type"), str), context
        assert isinstance(problem.get("title"), str), context
        assert problem.get("status") == answer.status, context


def openapi(port: int) -> dict[str, Any]:
    """The served API description (fetched apart: not counted with the fuzzer's requests)."""
    answer = Http(port).send(Sent("GET", "/v1/openapi.json", {}, b""))
    assert answer.status == 200, answer
    spec: dict[str, Any] = json.loads(answer.body)
    return spec


def report(request: pytest.FixtureRequest, name: str, sent: int, detail: str = "") -> None:
    request.node.user_properties.append(("requests", sent))
    print(f"\n{name}: {sent} requests {detail}".rstrip())


@contextmanager
def redis_of(settings: Settings) -> Iterator[Redis]:
    """A plain Redis client; the test's keys are deleted afterwards."""
    client = Redis.from_url(settings.effective_redis_url, decode_responses=True)
    try:
        yield client
    finally:
        for key in client.scan_iter(f"{settings.key_prefix}:*"):
            client.delete(key)
        client.close()


# --- bugs the fuzzers know of -----------------------------------------------------------
# A bug the fuzzers found and that is not fixed yet goes into `known_5xx` or
# KNOWN_UNDOCUMENTED, with a strict xfail in tests/test_fuzz.py until it is fixed: the
# fuzzers tolerate exactly those. Fixed ones are regression tests in tests/test_fuzz.py.

# What the service answers and /v1/openapi.json does not declare, by operation: none now.
KNOWN_UNDOCUMENTED: dict[str, set[str]] = {}


def known_5xx(request: Sent) -> str | None:
    """The known, not yet fixed bug behind a request's 5xx: none now."""
    return None
