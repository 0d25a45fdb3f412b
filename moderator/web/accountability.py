"""The accountability routes: the fairness report and the decision export, read from
the audit stream (`moderator.operations.report`), for moderators only."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from aiohttp import web

from moderator.keys import Keys
from moderator.operations import report
from moderator.web.moderation import moderator_of
from moderator.web.problems import Problem
from moderator.web.state import SETTINGS, STORE
from moderator.web.validation import FieldError


async def fairness_report(request: web.Request) -> web.Response:
    """Per language and script: decisions, moderators' overrides, waits; CSV or JSON."""
    moderator_of(request)
    since, until = _window(request)
    output = request.query.get("format", "json")
    if output not in ("json", "csv"):
        raise Problem(400, "bad_request", errors=[FieldError("format", "invalid_choice")])
    settings = request.app[SETTINGS]
    data = await report.fairness(request.app[STORE].redis, Keys(settings.key_prefix), since, until)
    if output == "csv":
        return web.Response(
            text=report.as_csv(data),
            content_type="text/csv",
            headers={"Content-Disposition": "attachment; filename=fairness.csv"},
        )
    return web.json_response(data)


async def export_decisions(request: web.Request) -> web.StreamResponse:
    """Every decision record of a window as JSON lines, for an external audit."""
    moderator_of(request)
    since, until = _window(request)
    settings = request.app[SETTINGS]
    response = web.StreamResponse(headers={"Content-Type": "application/x-ndjson"})
    await response.prepare(request)
    async for line in report.export(
        request.app[STORE].redis, Keys(settings.key_prefix), since, until
    ):
        await response.write(line.encode())
    await response.write_eof()
    return response


EPOCH = datetime(1970, 1, 2, tzinfo=UTC)  # stream ids count milliseconds since 1970


def _window(request: web.Request) -> tuple[datetime, datetime]:
    """`since` and `until` (ISO 8601, from 1970 on); by default the last 24 hours."""
    errors: list[FieldError] = []
    until = _moment(request.query.get("until"), "until", errors) or datetime.now(UTC)
    since = _moment(request.query.get("since"), "since", errors)
    if errors:
        raise Problem(400, "bad_request", errors=errors)
    since = since or until - timedelta(days=1)
    if since > until:
        raise Problem(400, "bad_request", errors=[FieldError("since", "invalid_time")])
    return since, until


def _moment(raw: str | None, field: str, errors: list[FieldError]) -> datetime | None:
    if not raw:
        return None
    try:
        moment = datetime.fromisoformat(raw.replace("Z", "+00:00"))
        moment = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
        if moment < EPOCH:
            raise ValueError("before the first stream ids")
    except (ValueError, OverflowError):
        errors.append(FieldError(field, "invalid_time"))
        return None
    return moment


def add_routes(app: web.Application) -> None:
    app.router.add_get("/v1/moderation/report", fairness_report)
    app.router.add_get("/v1/moderation/export", export_decisions)
