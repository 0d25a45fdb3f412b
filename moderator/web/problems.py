"""problem+json (RFC 9457) errors and the middleware that renders every error so.

Handlers raise `Problem`; `handle` (called by the one middleware) also turns
aiohttp's own HTTP errors (404, 405, 413…) and storage outages into problem
documents, and anything unexpected into a 500 that carries no traceback.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

import structlog
from aiohttp import web
from redis.exceptions import RedisError

from moderator import i18n
from moderator.errors import StoreUnavailable
from moderator.web.validation import FieldError

CONTENT_TYPE = "application/problem+json"
TYPE_PREFIX = "urn:moderator:problem:"

log = structlog.get_logger()

_STATUS_KINDS = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    408: "request_timeout",
    413: "too_large",
    415: "unsupported_media_type",
    503: "unavailable",
}


class Problem(Exception):
    """An error answer: `kind` selects the stable type URI and the translated title."""

    def __init__(
        self,
        status: int,
        kind: str,
        *,
        detail: str | None = None,
        errors: Sequence[FieldError] = (),
        headers: Mapping[str, str] | None = None,
        extra: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(kind)
        self.extra = dict(extra or {})
        self.status = status
        self.kind = kind
        self.detail = detail
        self.errors = errors
        self.headers = dict(headers or {})


def language_of(request: web.Request, default: str) -> str:
    return i18n.negotiate(request.headers.get("Accept-Language"), default)


def render(problem: Problem, language: str) -> web.Response:
    body: dict[str, Any] = {
        "type": TYPE_PREFIX + problem.kind,
        "title": i18n.title(problem.kind, language),
        "status": problem.status,
    }
    if problem.detail:
        body["detail"] = problem.detail
    body.update(problem.extra)
    if problem.errors:
        body["errors"] = [
            {
                "field": e.field,
                "code": e.code,
                "message": i18n.field_message(e.code, language, max=e.max),
            }
            for e in problem.errors
        ]
    headers = {"Content-Language": language, **problem.headers}
    return web.Response(
        status=problem.status,
        text=json.dumps(body, ensure_ascii=False),
        content_type=CONTENT_TYPE,
        headers=headers,
    )


def unavailable(retry_after_s: int) -> Problem:
    return Problem(503, "unavailable", headers={"Retry-After": str(retry_after_s)})


async def handle(
    request: web.Request, handler: Any, default_language: str, retry_after_s: int
) -> web.StreamResponse:
    """Run `handler`; whatever goes wrong comes back as a problem document."""
    try:
        response: web.StreamResponse = await handler(request)
        return response
    except Problem as problem:
        return render(problem, language_of(request, default_language))
    except StoreUnavailable as exc:
        log.warning("redis_unavailable", error=str(exc))
        return render(unavailable(retry_after_s), language_of(request, default_language))
    except RedisError as exc:  # any route's Redis call: refused, or timed out (frozen)
        log.warning("redis_unavailable", error=repr(exc), route=request.path)
        return render(unavailable(retry_after_s), language_of(request, default_language))
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        kind = _STATUS_KINDS.get(exc.status, "bad_request")
        headers = {h: v for h, v in exc.headers.items() if h in ("Allow", "Retry-After")}
        converted = Problem(exc.status, kind, headers=headers)
        return render(converted, language_of(request, default_language))
    except Exception:  # the request boundary: log it whole, answer without a traceback
        log.exception("unhandled_error")
        return render(Problem(500, "internal"), language_of(request, default_language))
