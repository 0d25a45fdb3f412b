"""POST /v1/comments: read the body, validate it, store and queue the comment, answer 202."""

from __future__ import annotations

import asyncio
import hmac
import json
from collections.abc import Mapping
from urllib.parse import parse_qsl, urlsplit

import structlog
from aiohttp import web
from yarl import URL

from moderator import logs
from moderator.domain import Comment, new_comment_id, utc_now
from moderator.errors import IdempotencyConflict
from moderator.settings import Settings
from moderator.storage.comments import Idempotency, Outcome
from moderator.web import validation
from moderator.web.problems import Problem
from moderator.web.state import HASH_KEY, SETTINGS, STORE
from moderator.web.validation import FieldError

JSON = "application/json"
FORM = "application/x-www-form-urlencoded"
SITE_KEY_HEADER = "X-Site-Key"
MAX_FORM_FIELDS = 64

log = structlog.get_logger()


OPEN_SCOPE = "open"  # intake without site keys: anyone may post


async def post_comment(request: web.Request) -> web.Response:
    settings = request.app[SETTINGS]
    scope = _authorise(request, settings)
    raw = await _read_body(request, settings)
    is_form = request.content_type == FORM
    data = _parse_form(raw) if is_form else _parse_json(raw)
    redirect = _redirect_target(data.pop("redirect_to", None), settings) if is_form else None
    result = validation.validate(
        data,
        settings.limits,
        check_deliverability=settings.check_email_deliverability,
    )
    if isinstance(result, list):
        raise Problem(422, "validation", errors=result)
    comment = _new_comment(result, request.app[HASH_KEY])
    logs.bind(comment_id=comment.id, article_id=comment.article_id, email_hash=comment.email_hash)

    header = request.headers.get("Idempotency-Key")
    idempotency = Idempotency.of(header, scope, raw) if header else None
    try:
        submitted = await request.app[STORE].submit(
            comment, idempotency, source=_source(request, settings, scope, comment)
        )
    except IdempotencyConflict:
        raise Problem(409, "idempotency_conflict") from None
    if submitted.outcome == Outcome.RATE_LIMITED:
        raise Problem(429, "rate_limited", headers={"Retry-After": str(submitted.retry_after_s)})
    if submitted.outcome == Outcome.PARENT_NOT_FOUND:
        raise Problem(422, "validation", errors=[FieldError("parent_id", "parent_not_found")])
    if submitted.outcome == Outcome.REPLAY:
        logs.bind(comment_id=submitted.comment_id, idempotent_replay=True)

    self_link = f"/v1/comments/{submitted.comment_id}"
    if redirect is not None:
        target = redirect.update_query(moderator_comment=submitted.comment_id)
        return web.Response(status=303, headers={"Location": str(target)})
    return web.json_response(
        {"id": submitted.comment_id, "status": "pending", "links": {"self": self_link}},
        status=202,
        headers={"Location": self_link},
    )


def _source(request: web.Request, settings: Settings, scope: str, comment: Comment) -> str | None:
    """The address the per-address rate limit counts. A site that authenticates with a
    site key vouches for the reader's `ip` (and, without one, is itself trusted); open
    intake counts the connection's address, or the trusted proxy's header, never a
    field the client fills in."""
    if scope != OPEN_SCOPE:
        return comment.ip
    header = settings.trusted_proxy_header
    if header and (forwarded := request.headers.get(header)):
        return forwarded.split(",")[-1].strip() or request.remote
    return request.remote


def _authorise(request: web.Request, settings: Settings) -> str:
    """The caller's scope for idempotency keys; 401 when site keys are set and none matches."""
    if not settings.site_keys:
        return OPEN_SCOPE
    given = request.headers.get(SITE_KEY_HEADER, "").encode()
    for index, key in enumerate(settings.site_keys):
        if hmac.compare_digest(given, key.encode()):
            return f"site{index}"
    raise Problem(401, "unauthorized", headers={"WWW-Authenticate": SITE_KEY_HEADER})


async def _read_body(request: web.Request, settings: Settings) -> bytes:
    if request.content_type not in (JSON, FORM):
        raise Problem(415, "unsupported_media_type")
    length = request.content_length
    if length is not None and length > settings.limits.request_bytes:
        # Refuse before reading; close so the rest of the upload is not read either.
        raise Problem(413, "too_large", headers={"Connection": "close"})
    if request.content.is_eof():
        return await request.read()  # all of it has arrived: nothing to wait for
    try:
        # A client that sends its body too slowly (slowloris) does not hold a handler.
        async with asyncio.timeout(settings.body_timeout_s):
            return await request.read()  # aiohttp stops at client_max_size with 413
    except TimeoutError:
        raise Problem(408, "request_timeout", headers={"Connection": "close"}) from None


def _parse_json(raw: bytes) -> dict[str, object]:
    try:
        data = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise Problem(400, "malformed", detail="The body is not valid UTF-8.") from None
    except (ValueError, RecursionError):
        raise Problem(400, "malformed", detail="The body is not valid JSON.") from None
    if not isinstance(data, dict):
        raise Problem(400, "malformed", detail="The body must be a JSON object.")
    return data


def _parse_form(raw: bytes) -> dict[str, object]:
    try:
        pairs = parse_qsl(
            raw.decode("ascii"),
            keep_blank_values=True,
            encoding="utf-8",
            errors="strict",
            max_num_fields=MAX_FORM_FIELDS,
        )
    except UnicodeDecodeError:
        raise Problem(400, "malformed", detail="The form is not valid UTF-8.") from None
    except ValueError:
        raise Problem(400, "malformed", detail="The form has too many fields.") from None
    first: dict[str, str] = {}
    for key, value in pairs:
        first.setdefault(key, value)
    return dict(validation.from_wordpress(first))


def _redirect_target(value: object, settings: Settings) -> URL | None:
    """Where a browser's form post goes back to: only hosts the site allowed."""
    if value in (None, ""):
        return None
    error = Problem(422, "validation", errors=[FieldError("redirect_to", "redirect_not_allowed")])
    if not isinstance(value, str):
        raise error
    try:
        parts = urlsplit(value)
        _ = parts.port  # raises for a port that is out of range or not a number
        target = URL(value)
    except ValueError:
        raise error from None
    if parts.scheme not in ("http", "https") or parts.hostname not in settings.redirect_hosts:
        raise error
    return target


def _new_comment(submission: validation.Submission, hash_key: bytes) -> Comment:
    fields: Mapping[str, str | None] = {
        name: getattr(submission, name) for name in validation.Submission.__slots__
    }
    return Comment(
        id=new_comment_id(),
        created_at=utc_now(),
        email_hash=logs.email_hash(hash_key, submission.email),
        **fields,  # type: ignore[arg-type]
    )
