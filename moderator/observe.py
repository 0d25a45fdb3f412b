"""Per-request context: a request id bound to every log line, and one summary line."""

from __future__ import annotations

import os
import re
import time
from typing import Any

import structlog
from aiohttp import web

REQUEST_ID_HEADER = "X-Request-ID"
_VALID_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}\Z")

log = structlog.get_logger()


def request_id_of(request: web.Request) -> str:
    """The caller's X-Request-ID when it is sane, a fresh one otherwise."""
    given = request.headers.get(REQUEST_ID_HEADER, "")
    return given if _VALID_REQUEST_ID.match(given) else os.urandom(16).hex()


@web.middleware
async def request_context(request: web.Request, handler: Any) -> web.StreamResponse:
    started = time.perf_counter()
    request_id = request_id_of(request)
    structlog.contextvars.clear_contextvars()
    structlog.contextvars.bind_contextvars(request_id=request_id)
    status = 500
    try:
        response: web.StreamResponse = await handler(request)
        status = response.status
        response.headers[REQUEST_ID_HEADER] = request_id
        return response
    finally:
        route = request.match_info.route.resource
        log.info(
            "http_request",
            method=request.method,
            route=route.canonical if route is not None else None,
            path=request.path[:200],
            status=status,
            duration_ms=round((time.perf_counter() - started) * 1000, 2),
        )
