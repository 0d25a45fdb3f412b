"""The moderation API, behind `Authorization: Bearer <moderator token>`.

Every action is attributed to the token's moderator, who is bound into the
request's log lines (`moderator`); tokens are compared in constant time and
never logged.
"""

from __future__ import annotations

import hmac
from typing import Any

from aiohttp import web

from moderator import domain, logs
from moderator.domain import Status
from moderator.keys import Keys
from moderator.operations.stats import collect as system_stats
from moderator.storage import privacy
from moderator.storage.review import ACTIONS, FAMILIES, QUEUE_STATES, RANKS, Filters, Review
from moderator.storage.wordlists import KINDS as WORDLIST_KINDS
from moderator.storage.wordlists import WordListStore
from moderator.web.problems import Problem
from moderator.web.state import REVIEW, SETTINGS, STORE
from moderator.web.validation import (
    FieldError,
    article_id_error,
    clean_text,
    encodable,
    page_limit,
)
from moderator.web.wordlist_input import wordlist_terms

MAX_BULK = 200
# A rejection's reason → what the models learn from it.
TRAINING_LABELS = {"spam": "spam", "abusive": "toxic"}
DEFAULT_LIMIT, MAX_LIMIT = 50, 200


def moderator_of(request: web.Request) -> str:
    """The moderator's name for the request's token: 401 without one, 403 for a wrong one."""
    settings = request.app[SETTINGS]
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Problem(401, "unauthorized", headers={"WWW-Authenticate": "Bearer"})
    given = token.strip().encode()
    name = None
    for candidate, expected in settings.moderator_tokens:
        if hmac.compare_digest(given, expected.encode()):
            name = candidate
    if name is None:
        raise Problem(403, "forbidden")
    logs.bind(moderator=name)
    return name


async def me(request: web.Request) -> web.Response:
    """The moderator, and the windows the spam signals count in (for the page's words)."""
    settings = request.app[SETTINGS]
    windows = {"spam_s": settings.spam_window_s, "burst_s": settings.burst_window_s}
    return web.json_response({"name": moderator_of(request), "windows": windows})


async def queue(request: web.Request) -> web.Response:
    moderator_of(request)
    errors: list[FieldError] = []
    state = _choice(
        request.query.get("state", "held"), [s.value for s in QUEUE_STATES], "state", errors
    )
    limit = _limit(request.query.get("limit"), errors)
    cursor = _cursor(request.query.get("cursor"), errors)
    filters = _filters(request, errors)
    if errors:
        raise Problem(400, "bad_request", errors=errors)
    items, next_cursor = await request.app[REVIEW].queue(
        Status(state), filters, after=cursor, limit=limit
    )
    return web.json_response({"items": items, "next_cursor": next_cursor})


async def queue_summary(request: web.Request) -> web.Response:
    """Counts of a queue by reason family and by the site model's rank."""
    moderator_of(request)
    errors: list[FieldError] = []
    state = _choice(
        request.query.get("state", "held"), [s.value for s in QUEUE_STATES], "state", errors
    )
    filters = _filters(request, errors)
    if errors:
        raise Problem(400, "bad_request", errors=errors)
    return web.json_response(await request.app[REVIEW].summary(Status(state), filters))


def _filters(request: web.Request, errors: list[FieldError]) -> Filters:
    """The queue's filters from the query; a bad one adds its error."""
    article_id = request.query.get("article_id") or None
    if article_id and article_id_error(article_id, request.app[SETTINGS].limits):
        errors.append(
            FieldError("article_id", "invalid_id", request.app[SETTINGS].limits.article_id)
        )
    family = request.query.get("family") or None
    if family is not None:
        _choice(family, list(FAMILIES), "family", errors)
    rank = request.query.get("rank") or None
    if rank is not None:
        _choice(rank, list(RANKS), "rank", errors)
    return Filters(
        article_id,
        request.query.get("language") or None,
        request.query.get("reason") or None,
        family,
        rank,
    )


async def comment(request: web.Request) -> web.Response:
    moderator_of(request)
    found = await request.app[REVIEW].comment(_comment_id(request))
    if found is None:
        raise Problem(404, "not_found")
    return web.json_response(found)


async def decide(request: web.Request) -> web.Response:
    """Approve, reject or take down one comment; 409 when it moved since it was seen."""
    moderator = moderator_of(request)
    comment_id = _comment_id(request)
    action, seen, note, kind = _decision_input(await json_object(request))
    logs.bind(comment_id=comment_id, action=action)
    result = await _apply(request.app[REVIEW], comment_id, action, seen, moderator, note, kind)
    if result["outcome"] == "not_found":
        raise Problem(404, "not_found")
    if result["outcome"] == "conflict":
        raise Problem(409, "conflict", extra={"current_status": result["status"]})
    return web.json_response(
        {"id": comment_id, "status": result["status"], "decided_at": result.get("decided_at")}
    )


async def decide_many(request: web.Request) -> web.Response:
    """The same action on many comments, one result per id."""
    moderator = moderator_of(request)
    body = await json_object(request)
    action, _, note, kind = _decision_input({**body, "from_status": None})
    items = body.get("items")
    if not isinstance(items, list) or not 1 <= len(items) <= MAX_BULK:
        raise Problem(422, "validation", errors=[FieldError("items", "invalid_items", MAX_BULK)])
    # As on the single route: an unknown from_status is an error, never "don't check".
    unknown = [
        FieldError(f"items[{index}].from_status", "invalid_choice")
        for index, item in enumerate(items)
        if isinstance(item, dict)
        and item.get("from_status") is not None
        and _status_or_none(item["from_status"]) is None
    ]
    if unknown:
        raise Problem(422, "validation", errors=unknown)
    results = []
    for item in items:
        if not isinstance(item, dict) or not domain.is_comment_id(str(item.get("id", "")).upper()):
            results.append(
                {
                    "id": item.get("id") if isinstance(item, dict) else None,
                    "outcome": "not_found",
                    "status": None,
                }
            )
            continue
        seen = _status_or_none(item.get("from_status"))
        comment_id = str(item["id"]).upper()
        results.append(
            {
                "id": comment_id,
                **await _apply(
                    request.app[REVIEW], comment_id, action, seen, moderator, note, kind
                ),
            }
        )
    return web.json_response({"results": results})


async def _apply(
    review: Review,
    comment_id: str,
    action: str,
    seen: Status | None,
    moderator: str,
    note: str | None,
    kind: str | None,
) -> dict[str, Any]:
    teaches = kind if action in ("reject", "takedown") else None
    applied, overridden = await review.decide(comment_id, action, seen, moderator, note, teaches)
    if applied.outcome == "missing":
        return {"outcome": "not_found", "status": None}
    if applied.outcome != "ok":
        return {"outcome": "conflict", "status": applied.status}
    # The verdict teaches the models (workers.training): approved, spam, abusive, or a
    # rejection with no reason, which teaches nothing but still measures the site model.
    if action == "approve" and overridden == Status.HELD:
        await review.train(comment_id, "ham")
    elif action in ("reject", "takedown"):
        await review.train(comment_id, TRAINING_LABELS.get(kind or "", "rejected"))
    return {"outcome": "ok", "status": applied.status, "decided_at": domain.utc_now()}


async def audit(request: web.Request) -> web.Response:
    moderator_of(request)
    errors: list[FieldError] = []
    limit = _limit(request.query.get("limit"), errors)
    comment_id = request.query.get("comment_id") or None
    if comment_id and not domain.is_comment_id(comment_id.upper()):
        errors.append(FieldError("comment_id", "invalid_cursor"))
    cursor = request.query.get("cursor") or None
    if cursor and not _is_stream_id(cursor):
        errors.append(FieldError("cursor", "invalid_cursor"))
    if errors:
        raise Problem(400, "bad_request", errors=errors)
    items, next_cursor = await request.app[REVIEW].audit(
        comment_id=comment_id.upper() if comment_id else None, before=cursor, limit=limit
    )
    return web.json_response({"items": items, "next_cursor": next_cursor})


async def get_wordlist(request: web.Request) -> web.Response:
    """A word list: each term with its languages and meaning, sorted."""
    moderator_of(request)
    kind = _wordlist_kind(request)
    terms = await _wordlists(request).read(kind)
    return web.json_response({"kind": kind, "terms": [term.to_dict() for term in terms]})


async def put_wordlist(request: web.Request) -> web.Response:
    """Replace a word list; the next comment scored uses it. A term is a string (in
    every language, no meaning) or {"term", "languages", "meaning"}."""
    moderator = moderator_of(request)
    kind = _wordlist_kind(request)
    terms = wordlist_terms((await json_object(request)).get("terms"))
    await _wordlists(request).replace(kind, terms, by=f"moderator:{moderator}")
    return web.json_response({"kind": kind, "terms": [term.to_dict() for term in terms]})


def _wordlists(request: web.Request) -> WordListStore:
    return WordListStore(request.app[STORE].redis, Keys(request.app[SETTINGS].key_prefix))


async def forget(request: web.Request) -> web.Response:
    """Forget a reader: every comment of the address taken down and anonymised, counters
    removed; audited without the address. The address travels in the body, never the URL."""
    moderator = moderator_of(request)
    email = (await json_object(request)).get("email")
    if not isinstance(email, str) or not email.strip():
        raise Problem(422, "validation", errors=[FieldError("email", "required")])
    if "\x00" in email or not encodable(email):
        raise Problem(422, "validation", errors=[FieldError("email", "invalid_character")])
    settings = request.app[SETTINGS]
    result = await privacy.forget(
        request.app[STORE].redis,
        Keys(settings.key_prefix),
        settings,
        email,
        by=f"moderator:{moderator}",
    )
    return web.json_response(result.to_dict())


async def stats(request: web.Request) -> web.Response:
    moderator_of(request)
    settings = request.app[SETTINGS]
    found = await system_stats(request.app[STORE].redis, Keys(settings.key_prefix))
    return web.json_response(found.to_dict(workers=False))


# --- input ------------------------------------------------------------------------


async def json_object(request: web.Request) -> dict[str, Any]:
    if request.content_type != "application/json":
        raise Problem(415, "unsupported_media_type")
    try:
        data = await request.json()
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise Problem(400, "malformed", detail="The body is not valid JSON.") from None
    if not isinstance(data, dict):
        raise Problem(400, "malformed", detail="The body must be a JSON object.")
    return data


def _decision_input(
    body: dict[str, Any],
) -> tuple[str, Status | None, str | None, str | None]:
    errors: list[FieldError] = []
    action = _choice(body.get("action"), list(ACTIONS), "action", errors)
    seen = None
    if body.get("from_status") is not None:
        seen = _status_or_none(body["from_status"])
        if seen is None:
            errors.append(FieldError("from_status", "invalid_choice"))
    note = body.get("reason")
    if note is not None:
        try:
            note = clean_text(note)[:500] or None
        except Exception:
            errors.append(FieldError("reason", "invalid_type"))
            note = None
    kind = None
    for flag in ("spam", "abusive"):
        value = body.get(flag, False)
        if not isinstance(value, bool):
            errors.append(FieldError(flag, "invalid_type"))
        elif value:
            kind = flag
    if errors:
        raise Problem(422, "validation", errors=errors)
    if kind is None and isinstance(note, str) and note.strip().lower() == "spam":
        kind = "spam"  # the note of earlier versions of the page
    return action, seen, note, kind


def _choice(value: object, choices: list[str], field: str, errors: list[FieldError]) -> str:
    if isinstance(value, str) and value in choices:
        return value
    errors.append(FieldError(field, "invalid_choice"))
    return choices[0]


def _status_or_none(value: object) -> Status | None:
    try:
        return Status(str(value))
    except ValueError:
        return None


def _limit(raw: str | None, errors: list[FieldError]) -> int:
    return page_limit(raw, errors, default=DEFAULT_LIMIT, maximum=MAX_LIMIT)


def _cursor(raw: str | None, errors: list[FieldError]) -> str | None:
    if raw and not domain.is_comment_id(raw.upper()):
        errors.append(FieldError("cursor", "invalid_cursor"))
        return None
    return raw.upper() if raw else None


def _comment_id(request: web.Request) -> str:
    comment_id = request.match_info["comment_id"].upper()
    if not domain.is_comment_id(comment_id):
        raise Problem(404, "not_found")
    return comment_id


def _wordlist_kind(request: web.Request) -> str:
    kind = request.match_info["kind"]
    if kind not in WORDLIST_KINDS:
        raise Problem(404, "not_found")
    return kind


def _is_stream_id(value: str) -> bool:
    """A Redis stream id after which entries can exist: ASCII digits, 64-bit parts, not 0-0."""
    ms, _, seq = value.partition("-")
    if not (value.isascii() and ms.isdigit() and (seq == "" or seq.isdigit())):
        return False
    return int(ms) < 2**64 and int(seq or 0) < 2**64 and (int(ms), int(seq or 1)) != (0, 0)


def add_routes(app: web.Application) -> None:
    route = app.router
    route.add_get("/v1/moderation/me", me)
    route.add_get("/v1/moderation/queue", queue)
    route.add_get("/v1/moderation/queue/summary", queue_summary)
    route.add_get("/v1/moderation/comments/{comment_id}", comment)
    route.add_post("/v1/moderation/comments/{comment_id}/decision", decide)
    route.add_post("/v1/moderation/decisions", decide_many)
    route.add_get("/v1/moderation/audit", audit)
    route.add_get("/v1/moderation/wordlists/{kind}", get_wordlist)
    route.add_put("/v1/moderation/wordlists/{kind}", put_wordlist)
    route.add_get("/v1/moderation/stats", stats)
    route.add_post("/v1/moderation/forget", forget)
