"""Accountability: the fairness report and the decision export, read from the audit stream.

The report answers, per language and script: how many comments were seen,
published, held and rejected automatically; how often moderators overturned
an automatic decision (held then approved: an observed false positive;
published then taken down: an observed false negative); and how long held
comments waited.

A language is flagged when its hold rate (or its false-positive rate) is
above that of all the other languages taken together by at least
MIN_DIFFERENCE and a two-proportion z-test (pooled) finds the difference
unlikely by chance: two-sided p below ALPHA divided by the number of
comparisons made (Bonferroni). Both sides need MIN_COMMENTS_TO_FLAG comments
(held comments, for the false-positive rate), where the test's normal
approximation holds. Comparing with the others pooled, not with their median,
keeps one language's many holds (Arabic's, where no model reads it) from
making every other language look lenient. Only "above" is flagged: a
language held less than the rest is the other side of the flag some other
language then carries.
"""

from __future__ import annotations

import csv
import io
import json
import math
import statistics
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, cast

import redis.asyncio as aioredis

from moderator.domain import Status
from moderator.keys import Keys
from moderator.records import AuditEntry

MIN_COMMENTS_TO_FLAG = 30  # on each side of a comparison
MIN_DIFFERENCE = 0.10  # in rate, absolute: smaller differences are not flagged
ALPHA = 0.01  # family-wise, two-sided
TEST = "two-proportion z-test, pooled, Bonferroni-corrected"
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
        "rules": {
            "test": TEST,
            "min_comments_to_flag": MIN_COMMENTS_TO_FLAG,
            "min_difference": MIN_DIFFERENCE,
            "alpha": ALPHA,
        },
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
    if entry.from_status == Status.HELD and entry.waited_s is not None:
        target.waits_s.append(entry.waited_s)


# rate name -> (the row's count of events, the count they are out of)
_RATES: dict[str, Callable[[LanguageRow], tuple[int, int]]] = {
    "hold_rate": lambda row: (row.held, row.seen),
    "false_positive_rate": lambda row: (row.approved_after_hold, row.held),
}


def _flag(rows: list[LanguageRow]) -> None:
    """Flag a language whose hold or false-positive rate is above all the other
    languages' together by a large margin that chance does not explain."""
    comparisons = []
    for name, counts in _RATES.items():
        for current in rows:
            x1, n1 = counts(current)
            x2 = sum(counts(r)[0] for r in rows if r is not current)
            n2 = sum(counts(r)[1] for r in rows if r is not current)
            if min(n1, n2) >= MIN_COMMENTS_TO_FLAG:
                comparisons.append((current, name, x1, n1, x2, n2))
    for current, name, x1, n1, x2, n2 in comparisons:
        value, others = x1 / n1, x2 / n2
        p = two_proportion_p(x1, n1, x2, n2)
        if value - others >= MIN_DIFFERENCE and p < ALPHA / len(comparisons):
            current.flags.append(f"{name} {value:.2f} vs {others:.2f} for the others")


def two_proportion_p(x1: int, n1: int, x2: int, n2: int) -> float:
    """Two-sided p-value that x1/n1 and x2/n2 differ only by chance (pooled z-test)."""
    pooled = (x1 + x2) / (n1 + n2)
    spread = math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))
    if spread == 0:
        return 1.0  # both rates 0, or both 1: no difference
    z = (x1 / n1 - x2 / n2) / spread
    return math.erfc(abs(z) / math.sqrt(2))


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
