"""Read-only routes: a comment's public status, health, readiness, the API description."""

from __future__ import annotations

from aiohttp import web

from moderator import domain, i18n
from moderator.keys import Keys
from moderator.web import openapi
from moderator.web.metrics import CONTENT_TYPE
from moderator.web.problems import Problem, language_of
from moderator.web.state import METRICS, SETTINGS, STORE


async def get_comment(request: web.Request) -> web.Response:
    """A comment's public status: never its e-mail, IP or text."""
    comment_id = request.match_info["comment_id"].upper()
    if not domain.is_comment_id(comment_id):
        raise Problem(404, "not_found")
    fields = await request.app[STORE].comment_fields(comment_id)
    if fields is None:
        raise Problem(404, "not_found")
    status = domain.public_status(fields)
    language = language_of(request, request.app[SETTINGS].default_language)
    status["message"] = i18n.STATUS_MESSAGES[status["status"]][language]
    return web.json_response(status, headers={"Content-Language": language})


async def healthz(request: web.Request) -> web.Response:
    """The process is alive and serving; says nothing of its dependencies."""
    return web.json_response({"status": "ok"})


async def readyz(request: web.Request) -> web.Response:
    """Ready to accept comments: Redis answers. Live workers are reported, not required:
    comments are accepted and queued while no worker runs."""
    store = request.app[STORE]
    if await store.ping():
        workers = await store.live_workers()
        return web.json_response({"status": "ready", "redis": "ok", "workers": len(workers)})
    return web.json_response(
        {"status": "not_ready", "redis": "unreachable"},
        status=503,
        headers={"Retry-After": "2"},
    )


async def metrics(request: web.Request) -> web.Response:
    """Prometheus text: the service's counters and the system's state read from Redis."""
    body = await request.app[METRICS].render(
        request.app[STORE].redis, Keys(request.app[SETTINGS].key_prefix)
    )
    return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE})


async def openapi_json(request: web.Request) -> web.Response:
    return web.json_response(openapi.spec(request.app[SETTINGS].limits))
