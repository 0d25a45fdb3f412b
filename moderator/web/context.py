"""Per-request context: a request id bound to every log line, and one summary line."""

from __future__ import annotations

import ipaddress
import os
import re
import time
from typing import Any

import structlog
from aiohttp import web

from moderator.web import problems
from moderator.web.state import METRICS

REQUEST_ID_HEADER = "X-Request-ID"
_VALID_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}\Z")

log = structlog.get_logger()


def request_id_of(request: web.Request) -> str:
    """The caller's X-Request-ID when it is sane (and not an IP address, which would
    then be in every log line), a fresh one otherwise."""
    given = request.headers.get(REQUEST_ID_HEADER, "")
    if _VALID_REQUEST_ID.match(given) and not _is_ip(given):
        return given
    return os.urandom(16).hex()


def _is_ip(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def loggable_path(path: str) -> str:
    """The request path for a log line, with anything that looks like an e-mail address
    or an IP replaced: a path is client input and may carry either."""
    path = path[:200]
    if "@" not in path and "." not in path and ":" not in path:
        return path  # no address of either kind can be in it
    segments = [
        "[redacted]" if "@" in segment or _is_ip(segment) else segment
        for segment in path.split("/")
    ]
    return "/".join(segments)


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
        path=loggable_path(request.path),
        status=status,
        duration_ms=round(seconds * 1000, 2),
    )
