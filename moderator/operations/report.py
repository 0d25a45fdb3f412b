"""Accountability: the fairness report and the decision export, read from the audit stream.

The report answers, per language and script: how many comments were seen,
published, held and rejected automatically; how often moderators overturned
an automatic decision (held then approved: an observed false positive;
published then taken down: an observed false negative); and how long held
comments waited. A language whose hold or override rate stands far from the
others is flagged.
"""

from __future__ import annotations

import csv
import io
import json
import statistics
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, cast

import redis.asyncio as aioredis

from moderator.domain import Status
from moderator.keys import Keys
from moderator.records import AuditEntry

MIN_COMMENTS_TO_FLAG = 10
FAR_FACTOR = 2.0  # a rate this many times the others' median (or a tenth of it) stands out
MAX_ENTRIES = 500_000


@dataclass
class LanguageRow:
    language: str
    script: str
    seen: int = 0
    published: int = 0
    held: int = 0
    rejected: int = 0
    approved_after_hold: int = 0
    taken_down_after_publish: int = 0
    rejected_after_hold: int = 0
    waits_s: list[float] = field(default_factory=list)
    reasons: dict[str, int] = field(default_factory=dict)
    flags: list[str] = field(default_factory=list)

    @property
    def hold_rate(self) -> float:
        return self.held / self.seen if self.seen else 0.0

    @property
    def false_positive_rate(self) -> float:
        """Held automatically, then approved by a moderator."""
        return self.approved_after_hold / self.held if self.held else 0.0

    @property
    def false_negative_rate(self) -> float:
        """Published automatically, then taken down by a moderator."""
        return self.taken_down_after_publish / self.published if self.published else 0.0

    def to_dict(self) -> dict[str, Any]:
        waits = sorted(self.waits_s)
        return {
            "language": self.language,
            "script": self.script,
            "seen": self.seen,
            "published": self.published,
            "held": self.held,
            "rejected": self.rejected,
            "hold_rate": round(self.hold_rate, 4),
            "approved_after_hold": self.approved_after_hold,
            "rejected_after_hold": self.rejected_after_hold,
            "taken_down_after_publish": self.taken_down_after_publish,
            "false_positive_rate": round(self.false_positive_rate, 4),
            "false_negative_rate": round(self.false_negative_rate, 4),
            "held_wait_median_s": round(statistics.median(waits), 1) if waits else None,
            "held_wait_max_s": round(waits[-1], 1) if waits else None,
            "reasons": dict(sorted(self.reasons.items(), key=lambda kv: -kv[1])),
            "flags": self.flags,
        }


CSV_COLUMNS = (
    "language",
    "script",
    "seen",
    "published",
    "held",
    "rejected",
    "hold_rate",
    "approved_after_hold",
    "rejected_after_hold",
    "taken_down_after_publish",
    "false_positive_rate",
    "false_negative_rate",
    "held_wait_median_s",
    "held_wait_max_s",
    "flags",
)


def window_ids(since: datetime, until: datetime) -> tuple[str, str]:
    """Stream id bounds for a time window (stream ids start with milliseconds)."""
    return str(int(since.timestamp() * 1000)), str(int(until.timestamp() * 1000))


async def _audit(
    redis: aioredis.Redis, keys: Keys, since: datetime, until: datetime
) -> list[AuditEntry]:
    low, high = window_ids(since, until)
    entries = cast(
        list[tuple[str, dict[str, str]]],
        await redis.xrange(keys.audit, min=low, max=high, count=MAX_ENTRIES),
    )
    return [AuditEntry.from_fields(fields) for _, fields in entries]


async def fairness(
    redis: aioredis.Redis, keys: Keys, since: datetime, until: datetime
) -> dict[str, Any]:
    rows: dict[tuple[str, str], LanguageRow] = {}

    def row(entry: AuditEntry) -> LanguageRow:
        language = entry.language or "unknown"
        script = entry.script or "unknown"
        return rows.setdefault((language, script), LanguageRow(language, script))

    for entry in await _audit(redis, keys, since, until):
        if not entry.is_decision:
            continue  # a list change, a forget summary
        if entry.automatic:
            _count_automatic(row(entry), entry)
        elif entry.overrides_automatic:
            _count_override(row(entry), entry)
    _flag(list(rows.values()))
    ordered = sorted(rows.values(), key=lambda r: -r.seen)
    return {
        "since": since.isoformat().replace("+00:00", "Z"),
        "until": until.isoformat().replace("+00:00", "Z"),
        "languages": [r.to_dict() for r in ordered],
        "rules": {"min_comments_to_flag": MIN_COMMENTS_TO_FLAG, "far_factor": FAR_FACTOR},
    }


def _count_automatic(target: LanguageRow, entry: AuditEntry) -> None:
    target.seen += 1
    if entry.to in (Status.PUBLISHED, Status.HELD, Status.REJECTED):
        setattr(target, entry.to.value, getattr(target, entry.to.value) + 1)
    for code in entry.reasons or ():
        target.reasons[code] = target.reasons.get(code, 0) + 1


# (from, to) of a moderator's override -> the counter it adds to
_OVERRIDES: dict[tuple[Status | None, Status | None], str] = {
    (Status.HELD, Status.PUBLISHED): "approved_after_hold",
    (Status.HELD, Status.REJECTED): "rejected_after_hold",
    (Status.PUBLISHED, Status.REJECTED): "taken_down_after_publish",
}


def _count_override(target: LanguageRow, entry: AuditEntry) -> None:
    counter = _OVERRIDES.get((entry.from_status, entry.to))
    if counter is not None:
        setattr(target, counter, getattr(target, counter) + 1)
    if entry.from_status == Status.HELD and entry.waited_s:
        target.waits_s.append(entry.waited_s)


def _hold_rate(row: LanguageRow) -> float:
    return row.hold_rate


def _false_positive_rate(row: LanguageRow) -> float:
    return row.false_positive_rate


def _flag(rows: list[LanguageRow]) -> None:
    """Flag a language whose hold or override rate is far from the other languages'."""
    judged = [r for r in rows if r.seen >= MIN_COMMENTS_TO_FLAG]
    rates: tuple[tuple[str, Callable[[LanguageRow], float], list[LanguageRow]], ...] = (
        ("hold_rate", _hold_rate, judged),
        # A false-positive rate means something only where comments were held.
        ("false_positive_rate", _false_positive_rate, [r for r in judged if r.held > 0]),
    )
    for name, rate, rows_with_rate in rates:
        for current in rows_with_rate:
            others = [rate(r) for r in rows_with_rate if r is not current]
            if not others:
                continue
            typical = statistics.median(others)
            value = rate(current)
            if typical > 0 and (value >= FAR_FACTOR * typical or value <= typical / FAR_FACTOR):
                current.flags.append(f"{name} {value:.2f} vs {typical:.2f} for the others")
            elif typical == 0 and value >= 0.2:
                current.flags.append(f"{name} {value:.2f} vs 0 for the others")


def as_csv(report: dict[str, Any]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=CSV_COLUMNS, extrasaction="ignore")
    writer.writeheader()
    for row in report["languages"]:
        writer.writerow({**row, "flags": "; ".join(row["flags"])})
    return out.getvalue()


async def export(
    redis: aioredis.Redis, keys: Keys, since: datetime, until: datetime
) -> AsyncIterator[str]:
    """Every decision record taken in the window, one JSON object per line
    (schema: docs/decision-export.md). No e-mail, IP or comment text."""
    seen: set[str] = set()
    low, high = since.isoformat(), until.isoformat()
    for entry in await _audit(redis, keys, since, until):
        comment_id = entry.comment_id
        if not comment_id or comment_id in seen or not entry.is_decision:
            continue
        seen.add(comment_id)
        records = cast(list[str], await redis.lrange(keys.history(comment_id), 0, -1))
        for raw in records:
            record = json.loads(raw)
            at = _parse(record.get("at"))
            if at is not None and low <= at.isoformat() <= high:
                yield (
                    json.dumps(
                        {
                            "comment_id": comment_id,
                            "article_id": entry.article_id,
                            **record,
                        },
                        ensure_ascii=False,
                    )
                    + "\n"
                )


def _parse(value: object) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(UTC)
    except ValueError:
        return None
