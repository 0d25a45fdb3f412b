"""Running the HTTP service until SIGTERM or SIGINT, then shutting down gracefully."""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Awaitable, Callable

import structlog
from aiohttp import web

from moderator.settings import Settings
from moderator.web.app import create_app

log = structlog.get_logger()


async def wait_for_signal() -> int:
    """Block until SIGTERM or SIGINT; return the signal's number."""
    loop = asyncio.get_running_loop()
    received: asyncio.Future[int] = loop.create_future()

    def on_signal(number: int) -> None:
        if not received.done():
            received.set_result(number)

    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, on_signal, sig)
    try:
        return await received
    finally:
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.remove_signal_handler(sig)


async def serve(
    settings: Settings, *, on_started: Callable[[str], Awaitable[None]] | None = None
) -> None:
    """Serve until a signal: then stop accepting, finish in-flight requests
    (up to `shutdown_timeout_s`) and close Redis."""
    runner = web.AppRunner(
        create_app(settings),
        access_log=None,
        handle_signals=False,
        shutdown_timeout=settings.shutdown_timeout_s,
    )
    await runner.setup()
    try:
        site = web.TCPSite(runner, settings.host, settings.port, reuse_address=True)
        await site.start()
        url = f"http://{settings.host}:{settings.port}"
        log.info("service_started", url=url)
        if on_started is not None:
            await on_started(url)
        received = await wait_for_signal()
        log.info("service_stopping", signal=signal.Signals(received).name)
    finally:
        await runner.cleanup()
    log.info("service_stopped")
