"""The webhook deliverer as a task of the service: one per process, for the app's lifetime."""

from __future__ import annotations

import asyncio
import os
import socket
from collections.abc import AsyncIterator, Callable

import aiohttp
import structlog
from aiohttp import web

from moderator.settings import Settings
from moderator.storage.connection import connect
from moderator.webhooks.delivery import BLOCK_MS, WebhookDeliverer

log = structlog.get_logger()


def consumer_name() -> str:
    """This process in the consumer group: host name and pid."""
    return f"{socket.gethostname()}-{os.getpid()}"


def webhook_context(settings: Settings) -> Callable[[web.Application], AsyncIterator[None]]:
    """A `cleanup_ctx` entry: with a webhook URL, a deliverer task for the app's lifetime
    (its own Redis client and HTTP session); stopped at clean-up, the deliveries in hand
    finished within `settings.shutdown_timeout_s`. Without a URL it does nothing."""

    async def context(_: web.Application) -> AsyncIterator[None]:
        if not settings.webhook_url:
            yield
            return
        redis = connect(
            settings,
            # A read blocks up to BLOCK_MS: the socket must wait longer.
            timeout_s=BLOCK_MS / 1000 + max(settings.redis_timeout_s, 1.0),
            connect_timeout_s=max(settings.redis_timeout_s, 1.0),
            max_connections=8,
        )
        session = aiohttp.ClientSession()
        deliverer = WebhookDeliverer(redis, settings, session=session, name=consumer_name())
        task = asyncio.create_task(deliverer.run(), name="webhooks")
        log.info("webhooks_started", deliverer=deliverer.name)
        try:
            yield
        finally:
            deliverer.stop()
            try:
                await asyncio.wait_for(task, settings.shutdown_timeout_s)
            except TimeoutError:
                log.warning("webhooks_stop_timed_out", deliverer=deliverer.name)
            await session.close()
            await redis.aclose()
            log.info("webhooks_stopped", deliverer=deliverer.name)

    return context
