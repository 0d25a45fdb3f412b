"""Shadow evaluation: what a candidate policy would have decided for past comments.

`evaluate` replays the last N automatic decisions under the active policy and under
the candidate, from the scores stored in their decision records and the comments'
text (word lists are matched again), and reports what would change: transitions,
counts by language, a few examples (no e-mail, no IP, text cut to 140 characters).
Nothing is acted on. `moderator shadow` (`python -m workers.shadow`) is its command line.
"""

from __future__ import annotations

import dataclasses
import json
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, cast

import redis.asyncio as aioredis

from moderator.domain import Status
from moderator.keys import Keys
from moderator.records import AuditEntry
from moderator.settings import Settings
from moderator.storage.decisions import Reason
from workers.language import Language
from workers.policy import Checks
from workers.shadow.candidate import Candidate
from workers.shadow.live import matched
from workers.shadow.overrides import active_policy
from workers.spam.signals import SpamResult

EXAMPLES_PER_TRANSITION = 5
EXAMPLE_CHARS = 140
AUDIT_PAGE = 500
LOAD_CHUNK = 200


@dataclass
class LanguageCounts:
    evaluated: int = 0
    held_now: int = 0
    held_candidate: int = 0
    rejected_now: int = 0
    rejected_candidate: int = 0
    changed: int = 0


@dataclass(frozen=True)
class Example:
    comment_id: str
    language: str
    text: str  # the body, cut to EXAMPLE_CHARS
    before: tuple[Status, tuple[Reason, ...]]
    after: tuple[Status, tuple[Reason, ...]]

    def to_dict(self) -> dict[str, Any]:
        return {
            "comment_id": self.comment_id,
            "language": self.language,
            "text": self.text,
            "before": _outcome(self.before),
            "after": _outcome(self.after),
        }


def _outcome(decided: tuple[Status, tuple[Reason, ...]]) -> dict[str, Any]:
    return {"decision": decided[0].value, "reasons": [r.to_dict() for r in decided[1]]}


@dataclass
class ShadowReport:
    candidate: Candidate
    active_policy: str  # digests
    candidate_policy: str
    evaluated: int = 0
    skipped: int = 0  # no automatic record, or the comment was forgotten
    changed: int = 0
    transitions: Counter[str] = field(default_factory=Counter)
    languages: dict[str, LanguageCounts] = field(default_factory=dict)
    examples: dict[str, list[Example]] = field(default_factory=dict)

    def add(
        self,
        comment_id: str,
        language: str,
        body: str,
        now: tuple[Status, tuple[Reason, ...]],
        then: tuple[Status, tuple[Reason, ...]],
    ) -> None:
        counts = self.languages.setdefault(language, LanguageCounts())
        self.evaluated += 1
        counts.evaluated += 1
        counts.held_now += now[0] == Status.HELD
        counts.held_candidate += then[0] == Status.HELD
        counts.rejected_now += now[0] == Status.REJECTED
        counts.rejected_candidate += then[0] == Status.REJECTED
        if now[0] == then[0]:
            return
        transition = f"{now[0].value}->{then[0].value}"
        self.changed += 1
        counts.changed += 1
        self.transitions[transition] += 1
        examples = self.examples.setdefault(transition, [])
        if len(examples) < EXAMPLES_PER_TRANSITION:
            examples.append(Example(comment_id, language, _cut(body), now, then))

    def to_dict(self) -> dict[str, Any]:
        return {
            "candidate": self.candidate.to_dict(),
            "active_policy": self.active_policy,
            "candidate_policy": self.candidate_policy,
            "evaluated": self.evaluated,
            "skipped": self.skipped,
            "changed": self.changed,
            "transitions": dict(self.transitions.most_common()),
            "languages": {
                code: dataclasses.asdict(counts) for code, counts in sorted(self.languages.items())
            },
            "examples": {
                name: [e.to_dict() for e in found] for name, found in sorted(self.examples.items())
            },
        }


def _cut(body: str) -> str:
    text = " ".join(body.split())
    return text if len(text) <= EXAMPLE_CHARS else text[: EXAMPLE_CHARS - 1] + "…"


async def evaluate(
    redis: aioredis.Redis, keys: Keys, settings: Settings, candidate: Candidate, *, last: int = 1000
) -> ShadowReport:
    """What `candidate` would have decided for the last `last` automatically decided
    comments, against the policy in force now, both from the stored scores."""
    active = await active_policy(redis, keys, settings)
    shadow = candidate.apply(active)
    report = ShadowReport(candidate, active.digest(), shadow.digest())
    ids = await _recently_decided(redis, keys, last)
    for start in range(0, len(ids), LOAD_CHUNK):
        async with redis.pipeline(transaction=False) as pipe:
            for comment_id in ids[start : start + LOAD_CHUNK]:
                pipe.lrange(keys.history(comment_id), 0, -1)
                pipe.hmget(keys.comment(comment_id), ["name", "body", "forgotten_at"])
            rows = await pipe.execute()
        for offset, comment_id in enumerate(ids[start : start + LOAD_CHUNK]):
            history, (name, body, forgotten) = rows[2 * offset], rows[2 * offset + 1]
            record = next((r for r in map(json.loads, history) if r.get("by") == "auto"), None)
            if record is None or body is None or forgotten:
                report.skipped += 1
                continue
            checks = stored_checks(record)
            text = f"{name or ''}\n{body}"
            now = active.decide(matched(checks, active, text))
            then = shadow.decide(matched(checks, shadow, text))
            report.add(comment_id, checks.language.code, body, now, then)
    return report


async def _recently_decided(redis: aioredis.Redis, keys: Keys, last: int) -> list[str]:
    """Ids of the last `last` comments with an automatic decision, newest first."""
    found: dict[str, None] = {}
    end = "+"
    while len(found) < last:
        entries = cast(
            list[tuple[str, dict[str, str]]],
            await redis.xrevrange(keys.audit, max=end, min="-", count=AUDIT_PAGE),
        )
        for _, fields in entries:
            audit = AuditEntry.from_fields(fields)
            if audit.automatic and audit.comment_id:
                found.setdefault(audit.comment_id)
                if len(found) == last:
                    break
        if len(entries) < AUDIT_PAGE:
            break
        end = f"({entries[-1][0]}"
    return list(found)


def stored_checks(record: Mapping[str, Any]) -> Checks:
    """The checks an automatic decision record stored (word-list matches excluded:
    they depend on the lists, and are matched again)."""
    language = record.get("language") or {}
    scores = record.get("scores") or {}
    toxicity = scores.get("toxicity")
    spam = scores.get("spam") or {}
    return Checks(
        language=Language(str(language.get("code", "und")), str(language.get("script", "none"))),
        toxicity=(
            {str(k): float(v) for k, v in toxicity.items()}
            if isinstance(toxicity, Mapping)
            else None  # no score stored: the check had failed (check_failed.toxicity)
        ),
        spam=SpamResult(float(spam.get("score", 0.0)), tuple(spam.get("signals", ()))),
    )
