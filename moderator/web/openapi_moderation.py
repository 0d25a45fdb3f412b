"""The OpenAPI description of the moderation API (merged into `moderator.web.openapi`)."""

from __future__ import annotations

from typing import Any

from moderator.settings import DEFAULT_THRESHOLDS

_PROBLEM = {"$ref": "#/components/responses/Problem"}
_AUTH: list[dict[str, list[str]]] = [{"moderatorToken": []}]
_ERRORS = {"401": _PROBLEM, "403": _PROBLEM, "503": _PROBLEM}
_JSON_OBJECT = {"application/json": {"schema": {"type": "object"}}}


def _op(
    op_id: str,
    summary: str,
    *,
    params: list[dict[str, Any]] | None = None,
    body: dict[str, Any] | None = None,
    errors: tuple[str, ...] = (),
    content: dict[str, Any] | None = None,
) -> dict[str, Any]:
    operation: dict[str, Any] = {
        "operationId": op_id,
        "summary": summary,
        "security": _AUTH,
        "parameters": params or [],
        "responses": {
            "200": {"description": "OK.", "content": content or _JSON_OBJECT},
            **_ERRORS,
            **{code: _PROBLEM for code in errors},
        },
    }
    if body is not None:
        operation["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": body}},
        }
    return operation


def _query(name: str, description: str, schema: dict[str, Any] | None = None) -> dict[str, Any]:
    return {
        "name": name,
        "in": "query",
        "description": description,
        "schema": schema or {"type": "string"},
    }


def _path(name: str) -> dict[str, Any]:
    return {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}


_FROM_STATUS: dict[str, Any] = {
    "enum": ["held", "rejected", "published"],
    "description": "The state the moderator saw: 409 if it changed.",
}
_DECISION_PROPERTIES: dict[str, Any] = {
    "action": {"enum": ["approve", "reject", "takedown"]},
    "from_status": _FROM_STATUS,
    "reason": {"type": "string", "maxLength": 500},
    "spam": {
        "type": "boolean",
        "description": "Reject as spam: trains the spam model and the site model.",
    },
    "abusive": {
        "type": "boolean",
        "description": "Reject as abusive: trains the site model's toxic label.",
    },
}
_DECISION: dict[str, Any] = {
    "type": "object",
    "required": ["action"],
    "properties": _DECISION_PROPERTIES,
}
_LIMIT = {"type": "integer", "minimum": 1, "maximum": 200, "default": 50}
_LANGUAGES: dict[str, Any] = {
    "type": "array",
    "minItems": 1,
    "items": {"enum": ["*", "fr", "en", "ar", "ary", "es"]},
    "description": "Where the term is an insult: matched only in comments (or clauses) in "
    "one of these languages; * for all. A comment in no language (und) matches every term.",
}
_TERM: dict[str, Any] = {
    "type": "object",
    "required": ["term", "languages", "meaning"],
    "properties": {
        "term": {"type": "string", "maxLength": 100},
        "languages": _LANGUAGES,
        "meaning": {"type": "string", "maxLength": 200, "description": "For moderators."},
    },
}
_WORDLIST: dict[str, Any] = {
    "type": "object",
    "required": ["kind", "terms"],
    "properties": {
        "kind": {"enum": ["banned", "suspect", "sensitive"]},
        "terms": {"type": "array", "items": _TERM},
    },
}


_SCORE = {"type": "number", "minimum": 0, "maximum": 1}
# A policy to try: what is not given stays as it is.
_CANDIDATE = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "thresholds": {
            "type": "object",
            "additionalProperties": False,
            "properties": {label: _SCORE for label in DEFAULT_THRESHOLDS},
        },
        "spam_hold": _SCORE,
        "spam_reject": _SCORE,
        "language_not_covered": {"enum": ["hold", "score"]},
        "last": {"type": "integer", "minimum": 1, "maximum": 5000, "default": 500},
    },
}


def _accepted(operation: dict[str, Any]) -> dict[str, Any]:
    """An operation that answers 202 (queued for a worker) instead of 200."""
    responses = operation["responses"]
    responses["202"] = responses.pop("200")
    responses["202"]["description"] = "Accepted: queued for a worker."
    return operation


# Filter by why a comment was held: the reason family, the site model's rank.
_WHY = (
    _query(
        "family",
        "why it was held: language (its language alone), words, spam, toxicity, "
        "site_model, check_failed",
        {"enum": ["language", "words", "spam", "toxicity", "site_model", "check_failed"]},
    ),
    _query(
        "rank",
        "the site model's ranking of a held comment",
        {"enum": ["likely_fine", "suspect"]},
    ),
)


# Which comments of a queue: the state, then filters (the queue and its summary).
_QUEUE_FILTERS = (
    _query(
        "state",
        "held (default), rejected or published",
        {"enum": ["held", "rejected", "published"]},
    ),
    _query("article_id", "only this article"),
    _query("language", "language code: fr, en, ar, ary, es, mixed, und"),
    _query("reason", "reason code or prefix, e.g. toxicity or spam.likely"),
    *_WHY,
)


def paths() -> dict[str, Any]:
    return {
        "/v1/moderation/me": {"get": _op("whoAmI", "The moderator of this token.")},
        "/v1/moderation/queue": {
            "get": _op(
                "moderationQueue",
                "Comments in a state, oldest first, filtered.",
                params=[
                    *_QUEUE_FILTERS,
                    _query("cursor", "next_cursor of the previous page"),
                    _query("limit", "page size", _LIMIT),
                ],
                errors=("400",),
            )
        },
        "/v1/moderation/queue/summary": {
            "get": _op(
                "moderationQueueSummary",
                "How many comments of a queue (filtered as the queue) fall in each reason "
                "family and each rank: {total, families: {family: n}, ranks: {rank: n}, "
                "complete} (complete: false when only the first 10,000 were counted).",
                params=list(_QUEUE_FILTERS),
                errors=("400",),
            )
        },
        "/v1/moderation/comments/{comment_id}": {
            "get": _op(
                "moderationComment",
                "A comment, its decision record and its history.",
                params=[_path("comment_id")],
                errors=("404",),
            )
        },
        "/v1/moderation/comments/{comment_id}/decision": {
            "post": _op(
                "decide",
                "Approve, reject or take down a comment.",
                params=[_path("comment_id")],
                body=_DECISION,
                errors=("400", "404", "409", "413", "415", "422"),
            )
        },
        "/v1/moderation/decisions": {
            "post": _op(
                "decideMany",
                "One action on many comments, a result per id.",
                body={
                    **_DECISION,
                    "required": ["action", "items"],
                    "properties": {
                        **_DECISION_PROPERTIES,
                        "items": {
                            "type": "array",
                            "maxItems": 200,
                            "items": {
                                "type": "object",
                                "required": ["id"],
                                "properties": {
                                    "id": {"type": "string"},
                                    "from_status": _DECISION["properties"]["from_status"],
                                },
                            },
                        },
                    },
                },
                errors=("400", "413", "415", "422"),
            )
        },
        "/v1/moderation/audit": {
            "get": _op(
                "audit",
                "Every decision and list change, newest first.",
                params=[
                    _query("comment_id", "only this comment"),
                    _query("cursor", "next_cursor of the previous page"),
                    _query("limit", "page size", _LIMIT),
                ],
                errors=("400",),
            )
        },
        "/v1/moderation/wordlists/{kind}": {
            "get": _op(
                "getWordlist",
                "A word list, banned, suspect or sensitive: each term with its languages "
                "and meaning.",
                params=[_path("kind")],
                errors=("404",),
                content={"application/json": {"schema": _WORDLIST}},
            ),
            "put": _op(
                "putWordlist",
                "Replace a word list; used for the next comment scored. A term given as a "
                "string is in every language (*), with no meaning.",
                params=[_path("kind")],
                body={
                    "type": "object",
                    "required": ["terms"],
                    "properties": {
                        "terms": {
                            "type": "array",
                            "maxItems": 5000,
                            "items": {
                                "oneOf": [
                                    {"type": "string", "maxLength": 100},
                                    {**_TERM, "required": ["term"]},
                                ]
                            },
                        }
                    },
                },
                errors=("400", "404", "413", "415", "422"),
                content={"application/json": {"schema": _WORDLIST}},
            ),
        },
        "/v1/moderation/forget": {
            "post": _op(
                "forget",
                "Forget a reader: take down and anonymise every comment of an address.",
                body={
                    "type": "object",
                    "required": ["email"],
                    "properties": {"email": {"type": "string"}},
                },
                errors=("400", "413", "415", "422"),
            )
        },
        "/v1/moderation/policy": {
            "get": _op(
                "currentPolicy",
                "The thresholds and rules in force: the settings with promoted overrides.",
            )
        },
        "/v1/moderation/policy/trials": {
            "post": _accepted(
                _op(
                    "tryPolicy",
                    "Try a policy over the last N automatic decisions (a worker replays them "
                    "from their stored scores); poll the trial at Location.",
                    body=_CANDIDATE,
                    errors=("400", "422"),
                )
            )
        },
        "/v1/moderation/policy/trials/{trial_id}": {
            "get": _op(
                "policyTrial",
                "A trial: status pending, done (with its report: changes per language, "
                "examples), promoting, promoted or failed (with its error).",
                params=[_path("trial_id")],
                errors=("404",),
            )
        },
        "/v1/moderation/policy/trials/{trial_id}/promote": {
            "post": _accepted(
                _op(
                    "promotePolicyTrial",
                    "Make a tried policy the one in force (a worker does it; audited as "
                    "policy.promote in the moderator's name). 409 unless the trial is done.",
                    params=[_path("trial_id")],
                    errors=("404", "409"),
                )
            )
        },
        "/v1/moderation/report": {
            "get": _op(
                "fairnessReport",
                "Per language and script: decisions, overrides (observed false positives and "
                "negatives), waits; a language held or overturned more than all the others "
                "together, by a margin chance does not explain (two-proportion z-test), flagged.",
                params=[
                    _query("since", "ISO 8601, default 24 h before until"),
                    _query("until", "ISO 8601, default now"),
                    _query("format", "json (default) or csv", {"enum": ["json", "csv"]}),
                ],
                errors=("400",),
                content={**_JSON_OBJECT, "text/csv": {"schema": {"type": "string"}}},
            )
        },
        "/v1/moderation/export": {
            "get": _op(
                "exportDecisions",
                "Every decision record of a window, as JSON lines (docs/decision-export.md).",
                params=[
                    _query("since", "ISO 8601, default 24 h before until"),
                    _query("until", "ISO 8601, default now"),
                ],
                errors=("400",),
                content={"application/x-ndjson": {"schema": {"type": "string"}}},
            )
        },
        "/v1/moderation/stats": {
            "get": _op(
                "moderationStats",
                "Queue sizes, oldest held comment, decisions by reason and language, overrides.",
            )
        },
    }


SECURITY_SCHEMES = {
    "moderatorToken": {
        "type": "http",
        "scheme": "bearer",
        "description": "A token from MODERATOR_TOKENS (name:token pairs).",
    },
}
