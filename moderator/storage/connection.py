"""One way to reach Redis, for the service, the workers and every command.

`connect()` gives a client for `MODERATOR_REDIS_URL`, or, with
`MODERATOR_REDIS_SENTINELS`, for whichever server the Sentinels name as the
primary: a connection asks them before it connects, and a connection that
finds its server gone or demoted is dropped, so the next command reaches the
new primary without a restart. Until the Sentinels have promoted a replica,
commands fail fast (`MasterNotFoundError`, a ConnectionError) and the routes
answer 503 with `Retry-After`. The URL still gives the database number, the
password and TLS.
"""

from __future__ import annotations

from typing import Any

import hiredis
import redis.asyncio as aioredis
from redis.asyncio.connection import AbstractConnection, SSLConnection, parse_url
from redis.asyncio.retry import Retry
from redis.asyncio.sentinel import Sentinel
from redis.backoff import NoBackoff
from redis.exceptions import ConnectionError as RedisConnectionError

from moderator.settings import Settings


def connect(
    settings: Settings,
    *,
    timeout_s: float | None = None,
    connect_timeout_s: float | None = None,
    max_connections: int | None = None,
) -> aioredis.Redis:
    """A client that fails fast: a command waits at most `timeout_s` (a blocking read
    needs more than its block time), a refused or lost connection is tried once more
    (on the new primary, with Sentinels), then the error is the caller's."""
    timeout = settings.redis_timeout_s if timeout_s is None else timeout_s
    options: dict[str, Any] = {
        "decode_responses": True,
        "socket_timeout": timeout,
        "socket_connect_timeout": connect_timeout_s or min(timeout, 2.0),
        "retry": Retry(NoBackoff(), retries=1, supported_errors=(RedisConnectionError,)),
        "max_connections": max_connections,
    }
    if settings.redis_sentinels is None:
        client = aioredis.Redis.from_url(settings.effective_redis_url, **options)
    else:
        client = _sentinel_client(settings, options)
    pool = client.connection_pool
    # Whatever class the URL chose (TCP, TLS, Unix socket, Sentinel), packing in C.
    pool.connection_class = type(
        f"CPacking{pool.connection_class.__name__}", (_CPacking, pool.connection_class), {}
    )
    return client


def _sentinel_client(settings: Settings, options: dict[str, Any]) -> aioredis.Redis:
    sentinels = settings.redis_sentinels
    assert sentinels is not None
    url: dict[str, Any] = dict(parse_url(settings.effective_redis_url))
    for address in ("host", "port", "path"):
        url.pop(address, None)  # the Sentinels say where the primary is
    if url.pop("connection_class", None) is SSLConnection:
        url["ssl"] = True
    manager = Sentinel(
        sentinels.hosts,
        sentinel_kwargs={
            "socket_timeout": options["socket_connect_timeout"],
            "socket_connect_timeout": options["socket_connect_timeout"],
            "decode_responses": True,
        },
    )
    client: aioredis.Redis = manager.master_for(
        sentinels.master, redis_class=_SentinelRedis, **url, **options
    )
    return client


class _SentinelRedis(aioredis.Redis):
    """Closing the client also closes its connections to the Sentinels."""

    async def aclose(self, close_connection_pool: bool | None = None) -> None:
        await super().aclose(close_connection_pool)
        await self.connection_pool.sentinel_manager.aclose()  # type: ignore[attr-defined]


class _CPacking(AbstractConnection):
    """redis-py's asyncio connections pack commands in Python, argument by argument: a
    large part of an intake request's time. hiredis, already our reply parser, packs
    them in C. Floats (redis-py formats them its own way), multi-word command names
    and anything hiredis refuses go the usual way."""

    def pack_command(self, *args: Any) -> list[bytes]:
        command = args[0]
        if (
            isinstance(command, str)
            and " " not in command
            and all(type(arg) in _C_PACKED for arg in args)
        ):
            try:
                return [hiredis.pack_command(args)]
            except (TypeError, UnicodeError):
                pass
        return super().pack_command(*args)


_C_PACKED = frozenset({str, bytes, int})
