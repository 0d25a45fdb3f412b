"""Try a policy from the moderators' page, then promote it: `/v1/moderation/policy`.

A moderator gives thresholds, spam thresholds and the language rule (what is not
given stays as it is); the service checks them, stores the trial
(`Keys.policy_trial`, a day) and queues it on `Keys.policy_trials`. A worker
(`workers.shadow.trials`) replays the last N automatic decisions under the policy
in force and under the candidate, from their stored scores, and stores the
report: what would change, per language, with examples. Promoting a tried policy
goes the same way: a worker makes it the policy in force, audited in the
moderator's name (`moderator shadow --promote` is the same step from a terminal).
The page polls the trial until it is done.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Mapping
from typing import Any, Final, cast

from aiohttp import web

from moderator.domain import utc_now
from moderator.keys import Keys
from moderator.records import TrialRequest, stream_fields
from moderator.settings import DEFAULT_THRESHOLDS
from moderator.web.moderation import json_object, moderator_of
from moderator.web.problems import Problem
from moderator.web.state import SETTINGS, STORE
from moderator.web.validation import FieldError, encodable

TRIAL_TTL_S: Final = 24 * 3600
MAX_LAST: Final = 5000
DEFAULT_LAST: Final = 500
RULES: Final = ("hold", "score")
FIELDS: Final = ("thresholds", "spam_hold", "spam_reject", "language_not_covered", "last")


async def current_policy(request: web.Request) -> web.Response:
    """The thresholds and rules in force: the settings, with promoted overrides on top."""
    moderator_of(request)
    settings = request.app[SETTINGS]
    raw = await request.app[STORE].redis.get(Keys(settings.key_prefix).policy_overrides)
    overrides = json.loads(raw) if raw else {}
    return web.json_response(
        {
            "thresholds": {**settings.thresholds, **overrides.get("thresholds", {})},
            "spam_hold": overrides.get("spam_hold", settings.spam_hold_threshold),
            "spam_reject": overrides.get("spam_reject", settings.spam_reject_threshold),
            "language_not_covered": overrides.get(
                "language_not_covered", settings.language_not_covered
            ),
            "overrides": overrides,
        }
    )


async def try_policy(request: web.Request) -> web.Response:
    """Queue a trial of a candidate policy: 202 with the trial's id and where to poll."""
    by = moderator_of(request)
    candidate, last = _candidate(await json_object(request))
    trial_id = secrets.token_hex(8)
    await _queue(
        request,
        trial_id,
        "evaluate",
        {
            "status": "pending",
            "candidate": json.dumps(candidate),
            "last": str(last),
            "by": by,
            "at": utc_now(),
        },
    )
    location = f"/v1/moderation/policy/trials/{trial_id}"
    return web.json_response(
        {"id": trial_id, "status": "pending"}, status=202, headers={"Location": location}
    )


async def trial(request: web.Request) -> web.Response:
    """A trial: pending, done (with its report), promoting, promoted, or failed."""
    moderator_of(request)
    return web.json_response(await _trial(request))


async def promote_trial(request: web.Request) -> web.Response:
    """Make a tried policy the one in force (a worker does it, audited): 202."""
    by = moderator_of(request)
    found = await _trial(request)
    if found["status"] != "done":
        raise Problem(409, "conflict", extra={"current_status": found["status"]})
    await _queue(request, found["id"], "promote", {"status": "promoting", "promoted_by": by})
    return web.json_response({"id": found["id"], "status": "promoting"}, status=202)


async def _queue(
    request: web.Request, trial_id: str, action: str, fields: Mapping[str, str]
) -> None:
    keys = Keys(request.app[SETTINGS].key_prefix)
    async with request.app[STORE].redis.pipeline(transaction=True) as pipe:
        for name, value in fields.items():
            pipe.hset(keys.policy_trial(trial_id), name, value)
        pipe.expire(keys.policy_trial(trial_id), TRIAL_TTL_S)
        request_fields = stream_fields(TrialRequest(trial_id, action))
        pipe.xadd(keys.policy_trials, request_fields, maxlen=10_000)
        await pipe.execute()


async def _trial(request: web.Request) -> dict[str, Any]:
    trial_id = request.match_info["trial_id"]
    if not trial_id.isalnum() or len(trial_id) > 32:
        raise Problem(404, "not_found")
    keys = Keys(request.app[SETTINGS].key_prefix)
    fields = cast(
        dict[str, str], await request.app[STORE].redis.hgetall(keys.policy_trial(trial_id))
    )
    if not fields:
        raise Problem(404, "not_found")
    out: dict[str, Any] = {"id": trial_id, **fields}
    for name in ("candidate", "report"):
        if name in out:
            out[name] = json.loads(out[name])
    out["last"] = int(out.get("last", DEFAULT_LAST))
    return out


def _candidate(body: dict[str, Any]) -> tuple[dict[str, Any], int]:
    """The candidate's fields as given, checked; a 422 names every bad one."""
    errors = [FieldError(_named(name), "unknown_field") for name in sorted(set(body) - set(FIELDS))]
    candidate: dict[str, Any] = {}
    thresholds = _thresholds(body.get("thresholds") or {}, errors)
    if thresholds:
        candidate["thresholds"] = thresholds
    for name in ("spam_hold", "spam_reject"):
        if body.get(name) is not None:
            value = _score(body[name])
            if value is None:
                errors.append(FieldError(name, "invalid_score"))
            else:
                candidate[name] = value
    if candidate.get("spam_reject", 1.0) < candidate.get("spam_hold", 0.0):
        errors.append(FieldError("spam_reject", "invalid_score"))
    rule = body.get("language_not_covered")
    if rule is not None and rule not in RULES:
        errors.append(FieldError("language_not_covered", "invalid_choice"))
    elif rule is not None:
        candidate["language_not_covered"] = rule
    last = body.get("last", DEFAULT_LAST)
    if not isinstance(last, int) or isinstance(last, bool) or not 1 <= last <= MAX_LAST:
        errors.append(FieldError("last", "invalid_limit", MAX_LAST))
    if errors:
        raise Problem(422, "validation", errors=errors)
    return candidate, int(last)


def _thresholds(raw: object, errors: list[FieldError]) -> dict[str, float]:
    if not isinstance(raw, dict):
        errors.append(FieldError("thresholds", "invalid_score"))
        return {}
    found = {}
    for label, value in raw.items():
        score = _score(value)
        if label not in DEFAULT_THRESHOLDS:
            errors.append(FieldError(_named(f"thresholds.{label}"), "unknown_field"))
        elif score is None:
            errors.append(FieldError(f"thresholds.{label}", "invalid_score"))
        else:
            found[label] = score
    return found


def _named(field: str) -> str:
    """A field name as the client sent it, when it can be written back (a lone surrogate
    cannot: then the error names the body); cut to 100 characters."""
    return field[:100] if encodable(field) else "body"


def _score(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if 0.0 <= value <= 1.0 else None


def add_routes(app: web.Application) -> None:
    app.router.add_get("/v1/moderation/policy", current_policy)
    app.router.add_post("/v1/moderation/policy/trials", try_policy)
    app.router.add_get("/v1/moderation/policy/trials/{trial_id}", trial)
    app.router.add_post("/v1/moderation/policy/trials/{trial_id}/promote", promote_trial)
