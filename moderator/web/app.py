"""The HTTP service's factory: given its settings (and maybe a Redis client); no side effects."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator, Callable

import redis.asyncio as aioredis
import structlog
from aiohttp import web

from moderator.keys import Keys
from moderator.settings import Settings
from moderator.storage.comments import Store
from moderator.storage.connection import connect
from moderator.storage.review import Review
from moderator.web import accountability, expiry, feed, intake, moderation, page, policy_trials
from moderator.web import status as views
from moderator.web.context import request_context
from moderator.web.metrics import Metrics
from moderator.web.state import HASH_KEY, METRICS, REVIEW, SETTINGS, STORE
from moderator.webhooks.task import webhook_context

log = structlog.get_logger()


def create_app(settings: Settings, *, redis: aioredis.Redis | None = None) -> web.Application:
    """The aiohttp application. A given `redis` client is used and left open;
    otherwise one is opened at start-up and closed at clean-up."""
    app = web.Application(
        middlewares=[request_context(settings.default_language, settings.retry_after_s)],
        client_max_size=settings.limits.request_bytes,
    )
    app[SETTINGS] = settings
    app[HASH_KEY] = _hash_key(settings)
    app[METRICS] = Metrics()
    app.cleanup_ctx.append(_redis_context(settings, redis))
    app.cleanup_ctx.append(webhook_context(settings))
    app.cleanup_ctx.append(expiry.expiry_context(settings))
    add_routes(app)
    return app


def add_routes(app: web.Application) -> None:
    app.router.add_post("/v1/comments", intake.post_comment, name="comments")
    app.router.add_get("/v1/comments/{comment_id}", views.get_comment, name="comment")
    app.router.add_get(
        "/v1/articles/{article_id}/comments", feed.article_comments, name="article_comments"
    )
    moderation.add_routes(app)
    accountability.add_routes(app)
    policy_trials.add_routes(app)
    page.add_page_routes(app)
    app.router.add_get("/healthz", views.healthz, name="healthz")
    app.router.add_get("/readyz", views.readyz, name="readyz")
    app.router.add_get("/metrics", views.metrics, name="metrics")
    app.router.add_get("/v1/openapi.json", views.openapi_json, name="openapi")


def _hash_key(settings: Settings) -> bytes:
    if settings.hash_key:
        return settings.hash_key.encode()
    log.warning(
        "hash_key_ephemeral",
        hint="set MODERATOR_HASH_KEY so email_hash values match across processes and restarts",
    )
    return secrets.token_bytes(32)


def _redis_context(
    settings: Settings, given: aioredis.Redis | None
) -> Callable[[web.Application], AsyncIterator[None]]:
    async def context(app: web.Application) -> AsyncIterator[None]:
        client = given if given is not None else connect(settings, max_connections=256)
        app[STORE] = store = Store(client, settings)
        app[REVIEW] = Review(client, Keys(settings.key_prefix), webhooks=bool(settings.webhook_url))
        try:
            yield
        finally:
            await store.close()
            if given is None:
                await client.aclose()

    return context
