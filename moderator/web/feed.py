"""GET /v1/articles/{article_id}/comments: an article's published comments, oldest first."""

from __future__ import annotations

from aiohttp import web

from moderator import domain
from moderator.web.problems import Problem
from moderator.web.state import SETTINGS, STORE
from moderator.web.validation import FieldError, article_id_error, page_limit

DEFAULT_LIMIT, MAX_LIMIT = 20, 100


async def article_comments(request: web.Request) -> web.Response:
    """GET /v1/articles/{article_id}/comments: never an e-mail or an IP."""
    article_id = request.match_info["article_id"]
    errors: list[FieldError] = []
    if (code := article_id_error(article_id, request.app[SETTINGS].limits)) is not None:
        errors.append(FieldError("article_id", code, request.app[SETTINGS].limits.article_id))
    limit = _limit(request.query.get("limit"), errors)
    cursor = request.query.get("cursor") or None
    if cursor is not None and not domain.is_comment_id(cursor):
        errors.append(FieldError("cursor", "invalid_cursor"))
    if errors:
        raise Problem(400, "bad_request", errors=errors)
    store = request.app[STORE]
    items, next_cursor = await store.feed_page(article_id, after=cursor, limit=limit)
    return web.json_response({"items": items, "next_cursor": next_cursor})


def _limit(raw: str | None, errors: list[FieldError]) -> int:
    return page_limit(raw, errors, default=DEFAULT_LIMIT, maximum=MAX_LIMIT)
