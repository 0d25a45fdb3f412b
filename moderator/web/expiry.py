"""The service's hourly sweep of readers' private data (`storage.privacy.expire_private_data`),
as a task that lives as long as the app."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Callable

import redis.asyncio as aioredis
import structlog
from aiohttp import web
from redis.exceptions import RedisError

from moderator.keys import Keys
from moderator.settings import Settings
from moderator.storage.privacy import (
    EXPIRY_FIRST_AFTER_S,
    EXPIRY_INTERVAL_S,
    expire_private_data,
)
from moderator.web.state import STORE

log = structlog.get_logger()


def expiry_context(
    settings: Settings,
    *,
    interval_s: float = EXPIRY_INTERVAL_S,
    first_after_s: float = EXPIRY_FIRST_AFTER_S,
) -> Callable[[web.Application], AsyncIterator[None]]:
    """An aiohttp `cleanup_ctx` running `expire_private_data` every `interval_s`, first
    `first_after_s` after start. Append it after the context that sets `STORE`."""

    async def context(app: web.Application) -> AsyncIterator[None]:
        task = asyncio.create_task(
            _sweep_forever(app[STORE].redis, settings, interval_s, first_after_s),
            name="private-data-expiry",
        )
        try:
            yield
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    return context


async def _sweep_forever(
    redis: aioredis.Redis, settings: Settings, interval_s: float, first_after_s: float
) -> None:
    keys = Keys(settings.key_prefix)
    await asyncio.sleep(first_after_s)
    while True:
        started = time.perf_counter()
        try:
            changed = await expire_private_data(redis, keys, settings)
        except (RedisError, OSError, TimeoutError) as exc:
            log.warning("private_data_expiry_failed", error=repr(exc))
        except Exception:  # the supervisor loop: log, go on
            log.exception("private_data_expiry_failed")
        else:
            log.info(
                "private_data_expired",
                comments=changed,
                days=settings.private_data_days,
                duration_ms=round((time.perf_counter() - started) * 1000, 2),
            )
        await asyncio.sleep(interval_s)
