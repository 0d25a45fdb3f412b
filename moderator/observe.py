"""Per-request context: a request id bound to every log line, and one summary line."""

from __future__ import annotations

import os
import re
import time
from typing import Any

import structlog
from aiohttp import web

from moderator import problems
from moderator.state import METRICS

REQUEST_ID_HEADER = "X-Request-ID"
_VALID_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}\Z")

log = structlog.get_logger()


def request_id_of(request: web.Request) -> str:
    """The caller's X-Request-ID when it is sane, a fresh one otherwise."""
    given = request.headers.get(REQUEST_ID_HEADER, "")
    return given if _VALID_REQUEST_ID.match(given) else os.urandom(16).hex()


def request_context(default_language: str, retry_after_s: int) -> Any:
    """The one middleware: binds the request id, renders every error as a problem
    (`problems.handle`), and writes one summary line per request."""

    @web.middleware
    async def middleware(request: web.Request, handler: Any) -> web.StreamResponse:
        started = time.perf_counter()
        request_id = request_id_of(request)
        structlog.contextvars.clear_contextvars()
        structlog.contextvars.bind_contextvars(request_id=request_id)
        response = await problems.handle(request, handler, default_language, retry_after_s)
        response.headers[REQUEST_ID_HEADER] = request_id
        _summary(request, response.status, started)
        return response

    return middleware


def _summary(request: web.Request, status: int, started: float) -> None:
    resource = request.match_info.route.resource
    route = resource.canonical if resource is not None else None
    seconds = time.perf_counter() - started
    request.app[METRICS].observe_request(request.method, route or "unmatched", status, seconds)
    log.info(
        "http_request",
        method=request.method,
        route=route,
        path=request.path[:200],
        status=status,
        duration_ms=round(seconds * 1000, 2),
    )
