"""Shadow policy: try a candidate policy on past and new comments without acting on them.

A `Candidate` overrides parts of the policy in force: detoxify thresholds, the spam
thresholds, the rule for languages the model does not read, and changes to the banned
and suspect word lists. Three uses:

- `evaluate` replays the last N automatic decisions under the active policy and under
  the candidate, from the scores stored in their decision records and the comments' text
  (word lists are matched again), and reports what would change: transitions, counts by
  language, a few examples (no e-mail, no IP, text cut to 140 characters).
- `LiveShadow`: while a candidate is stored at `keys.shadow_candidate`, the worker also
  decides each new comment under it and logs `shadow_decision`; nothing else changes.
- `promote` makes the candidate the policy in force, an audited action (`policy.promote`
  on the audit stream). Its word-list changes go into the word lists; its thresholds,
  spam thresholds and language rule are stored at `keys.policy_overrides` and override
  `MODERATOR_THRESHOLD_*`, `MODERATOR_SPAM_*_THRESHOLD` and
  `MODERATOR_LANGUAGE_NOT_COVERED` until cleared (`clear_overrides`, itself audited).

`moderator shadow` (`python -m workers.shadow.evaluation`) is the command line for all of this.
"""

from __future__ import annotations

import dataclasses
import json
import math
import unicodedata
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, cast

import redis.asyncio as aioredis
import structlog
from redis.exceptions import WatchError

from moderator.domain import Status, utc_now
from moderator.keys import Keys
from moderator.settings import DEFAULT_THRESHOLDS, Settings
from moderator.storage.decisions import Reason
from workers.language import Language
from workers.policy import Checks, Policy
from workers.spam.scorer import SpamResult
from workers.wordlists import WordList
from workers.wordstore import WordLists

log = structlog.get_logger()

PROMOTE_ACTION = "policy.promote"
CLEAR_ACTION = "policy.overrides_cleared"
RULES = ("hold", "score")
LIST_FIELDS = ("banned_add", "banned_remove", "suspect_add", "suspect_remove")
FIELDS = ("thresholds", "spam_hold", "spam_reject", "language_not_covered", *LIST_FIELDS)
MAX_TERM_CHARS = 100
EXAMPLES_PER_TRANSITION = 5
EXAMPLE_CHARS = 140
AUDIT_PAGE = 500
LOAD_CHUNK = 200


def _score(value: object, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ValueError(f"{name}: expected a number between 0 and 1, got {value!r}")
    if not 0.0 <= value <= 1.0:
        raise ValueError(f"{name}: must be between 0 and 1, got {value!r}")
    return float(value)


def _terms(value: object, name: str) -> tuple[str, ...]:
    if not isinstance(value, list | tuple):
        raise ValueError(f"{name}: expected a list of words")
    terms = []
    for raw in value:
        term = unicodedata.normalize("NFC", raw).strip() if isinstance(raw, str) else ""
        if not term or len(term) > MAX_TERM_CHARS or any(ord(c) < 32 for c in term):
            raise ValueError(f"{name}: {raw!r} is not a word of 1 to {MAX_TERM_CHARS} characters")
        terms.append(term)
    return tuple(sorted(set(terms)))


def _edited(words: WordList, add: Sequence[str], remove: Sequence[str]) -> WordList:
    if not add and not remove:
        return words
    return WordList((set(words.terms) | set(add)) - set(remove))


@dataclass(frozen=True)
class Candidate:
    """Overrides of the active policy; what is not given stays as it is."""

    thresholds: dict[str, float] = field(default_factory=dict)  # only the labels given
    spam_hold: float | None = None
    spam_reject: float | None = None
    language_not_covered: str | None = None  # "hold" or "score"
    banned_add: tuple[str, ...] = ()
    banned_remove: tuple[str, ...] = ()
    suspect_add: tuple[str, ...] = ()
    suspect_remove: tuple[str, ...] = ()

    @classmethod
    def from_dict(cls, data: object) -> Candidate:
        """Validate a candidate (as `to_dict` writes it); `ValueError` names the field."""
        if not isinstance(data, Mapping):
            raise ValueError("a candidate is a JSON object")
        unknown = sorted(set(data) - set(FIELDS))
        if unknown:
            raise ValueError(f"unknown field {unknown[0]!r}; expected {', '.join(FIELDS)}")
        raw = data.get("thresholds") or {}
        if not isinstance(raw, Mapping):
            raise ValueError("thresholds: expected an object of label: number")
        for label in raw:
            if label not in DEFAULT_THRESHOLDS:
                raise ValueError(
                    f"thresholds: unknown label {label!r}; expected {', '.join(DEFAULT_THRESHOLDS)}"
                )
        thresholds = {label: _score(v, f"thresholds.{label}") for label, v in sorted(raw.items())}
        hold, reject = (
            None if data.get(name) is None else _score(data[name], name)
            for name in ("spam_hold", "spam_reject")
        )
        if hold is not None and reject is not None and reject < hold:
            raise ValueError("spam_reject: must not be below spam_hold")
        rule = data.get("language_not_covered")
        if rule is not None and rule not in RULES:
            raise ValueError(f"language_not_covered: expected hold or score, got {rule!r}")
        lists = {name: _terms(data.get(name) or [], name) for name in LIST_FIELDS}
        for kind in ("banned", "suspect"):
            both = set(lists[f"{kind}_add"]) & set(lists[f"{kind}_remove"])
            if both:
                raise ValueError(f"{kind}_remove: {sorted(both)[0]!r} is also in {kind}_add")
        return cls(thresholds, hold, reject, rule, **lists)

    @classmethod
    def from_json(cls, text: str) -> Candidate:
        try:
            data = json.loads(text)
        except ValueError:
            raise ValueError("a candidate is a JSON object") from None
        return cls.from_dict(data)

    def to_dict(self) -> dict[str, Any]:
        """The fields given, nothing else."""
        out: dict[str, Any] = {}
        if self.thresholds:
            out["thresholds"] = dict(sorted(self.thresholds.items()))
        for name in ("spam_hold", "spam_reject", "language_not_covered"):
            if getattr(self, name) is not None:
                out[name] = getattr(self, name)
        for name in LIST_FIELDS:
            if getattr(self, name):
                out[name] = list(getattr(self, name))
        return out

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False, separators=(",", ":"))

    @property
    def empty(self) -> bool:
        return not self.to_dict()

    def rules(self) -> Candidate:
        """The part stored as policy overrides: thresholds and rules, no word lists."""
        return dataclasses.replace(
            self, banned_add=(), banned_remove=(), suspect_add=(), suspect_remove=()
        )

    def apply(self, policy: Policy) -> Policy:
        """`policy` with these overrides; word lists rebuilt only when they change."""
        changed = dataclasses.replace(
            policy,
            thresholds={**policy.thresholds, **self.thresholds},
            spam_hold=policy.spam_hold if self.spam_hold is None else self.spam_hold,
            spam_reject=policy.spam_reject if self.spam_reject is None else self.spam_reject,
            language_not_covered=self.language_not_covered or policy.language_not_covered,
            banned=_edited(policy.banned, self.banned_add, self.banned_remove),
            suspect=_edited(policy.suspect, self.suspect_add, self.suspect_remove),
        )
        if changed.spam_reject < changed.spam_hold:
            raise ValueError(
                f"spam_reject: {changed.spam_reject} would be below spam_hold {changed.spam_hold}"
            )
        return changed

    def merged_over(self, base: Candidate) -> Candidate:
        """`base` with this candidate's rules on top (promotions accumulate)."""
        return Candidate.from_dict(
            {
                **base.rules().to_dict(),
                **self.rules().to_dict(),
                "thresholds": {**base.thresholds, **self.thresholds},
            }
        )


async def active_overrides(redis: aioredis.Redis, keys: Keys) -> Candidate | None:
    """The promoted rules the workers apply over the settings, if any. Invalid JSON
    (only a hand edit can write it) is logged and ignored: the settings apply."""
    raw = await redis.get(keys.policy_overrides)
    if not raw:
        return None
    try:
        return Candidate.from_json(str(raw)).rules()
    except ValueError as exc:
        log.error("policy_overrides_invalid", key=keys.policy_overrides, error=str(exc))
        return None


async def active_policy(
    redis: aioredis.Redis,
    keys: Keys,
    settings: Settings,
    lists: tuple[WordList, WordList] | None = None,
) -> Policy:
    """The policy in force now: the settings, the promoted overrides, and the word lists
    (`lists`, banned and suspect, when the caller holds them; else read from Redis).
    Overrides that no longer fit the settings (a spam hold above the reject threshold)
    are logged and ignored rather than stopping every decision."""
    banned, suspect = lists or await WordLists(redis, keys).current()
    policy = Policy.from_settings(settings, banned, suspect)
    overrides = await active_overrides(redis, keys)
    if overrides is None:
        return policy
    try:
        return overrides.apply(policy)
    except ValueError as exc:
        log.error("policy_overrides_invalid", key=keys.policy_overrides, error=str(exc))
        return policy


# --- evaluation over past decisions -----------------------------------------------------


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
            now = active.decide(_matched(checks, active, text))
            then = shadow.decide(_matched(checks, shadow, text))
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
            if fields.get("by") == "auto" and fields.get("comment_id"):
                found.setdefault(fields["comment_id"])
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


def _matched(checks: Checks, policy: Policy, text: str) -> Checks:
    return dataclasses.replace(
        checks,
        banned=tuple(policy.banned.matches(text)),
        suspect=tuple(policy.suspect.matches(text)),
    )


# --- live shadow mode -------------------------------------------------------------------


def shadow_decision(
    active: Policy,
    shadow: Policy,
    checks: Checks,
    text: str,
    *,
    comment_id: str,
    always: bool = False,
) -> tuple[Status, tuple[Reason, ...]]:
    """The candidate's decision for a comment the worker just decided under `active`,
    with `checks` as the worker found them and `text` as it matched (name, newline,
    body). Logs `shadow_decision` when the decisions differ (or `always`)."""
    status, reasons = active.decide(checks)
    if shadow.banned is not active.banned or shadow.suspect is not active.suspect:
        checks = _matched(checks, shadow, text)
    shadow_status, shadow_reasons = shadow.decide(checks)
    if always or shadow_status != status:
        log.info(
            "shadow_decision",
            comment_id=comment_id,
            active=status.value,
            shadow=shadow_status.value,
            active_reasons=[r.code for r in reasons],
            shadow_reasons=[r.code for r in shadow_reasons],
            language=checks.language.code,
            changed=shadow_status != status,
        )
    return shadow_status, shadow_reasons


class LiveShadow:
    """The worker's side of live shadow mode: once per batch `policy()` reads the candidate
    stored at `keys.shadow_candidate` (None when there is none), then `observe()` per comment."""

    def __init__(self, redis: aioredis.Redis, keys: Keys, *, always: bool = False) -> None:
        self._redis = redis
        self._keys = keys
        self._always = always
        self._cached: tuple[str, str, Policy | None] | None = None  # raw, active digest, policy

    async def policy(self, active: Policy, digest: str | None = None) -> Policy | None:
        """The candidate applied over `active` (whose `digest` the caller may pass)."""
        raw = await self._redis.get(self._keys.shadow_candidate)
        if not raw:
            return None
        digest = digest or active.digest()
        if self._cached is None or self._cached[:2] != (raw, digest):
            try:
                shadow: Policy | None = Candidate.from_json(str(raw)).apply(active)
            except ValueError as exc:
                log.warning("shadow_candidate_invalid", error=str(exc))
                shadow = None
            self._cached = (str(raw), digest, shadow)
        return self._cached[2]

    def observe(
        self, active: Policy, shadow: Policy, comment_id: str, text: str, checks: Checks
    ) -> tuple[Status, tuple[Reason, ...]]:
        return shadow_decision(
            active, shadow, checks, text, comment_id=comment_id, always=self._always
        )


async def set_live(redis: aioredis.Redis, keys: Keys, candidate: Candidate | None) -> None:
    """Start live shadow mode with `candidate`, or stop it (None)."""
    if candidate is None:
        await redis.delete(keys.shadow_candidate)
    else:
        await redis.set(keys.shadow_candidate, candidate.to_json())
    log.info("shadow_live", candidate=candidate.to_dict() if candidate else None)


# --- promotion ----------------------------------------------------------------------------


async def promote(redis: aioredis.Redis, keys: Keys, candidate: Candidate, *, by: str) -> None:
    """Make `candidate` the policy in force, in one transaction: its word-list changes go
    into the lists, its rules are merged into `keys.policy_overrides` (they override the
    MODERATOR_THRESHOLD_*, spam and language settings until `clear_overrides`), and a
    `policy.promote` entry with the candidate is appended to the audit stream."""
    await WordLists(redis, keys).seed()  # edits apply to the seeded lists, never replace them
    for attempt in range(3):  # another promotion between our read and write: read again
        try:
            await _promote_once(redis, keys, candidate, by=by)
            break
        except WatchError:
            if attempt == 2:
                raise
    log.info("policy_promoted", by=by, candidate=candidate.to_dict())


async def _promote_once(
    redis: aioredis.Redis, keys: Keys, candidate: Candidate, *, by: str
) -> None:
    async with redis.pipeline(transaction=True) as pipe:
        await pipe.watch(keys.policy_overrides)
        raw = await pipe.get(keys.policy_overrides)
        rules = candidate.merged_over(Candidate.from_json(str(raw)) if raw else Candidate())
        pipe.multi()  # type: ignore[no-untyped-call]
        for kind in ("banned", "suspect"):
            if add := getattr(candidate, f"{kind}_add"):
                pipe.sadd(keys.wordlist(kind), *add)
            if remove := getattr(candidate, f"{kind}_remove"):
                pipe.srem(keys.wordlist(kind), *remove)
        if not rules.empty:
            pipe.set(keys.policy_overrides, rules.to_json())
        pipe.xadd(
            keys.audit,
            {"action": PROMOTE_ACTION, "by": by, "at": utc_now(), "candidate": candidate.to_json()},
        )
        await pipe.execute()


async def clear_overrides(redis: aioredis.Redis, keys: Keys, *, by: str) -> bool:
    """Back to the settings' thresholds and rules (word lists stay as they are); audited.
    Returns False when nothing was promoted."""
    async with redis.pipeline(transaction=True) as pipe:
        pipe.delete(keys.policy_overrides)
        pipe.xadd(keys.audit, {"action": CLEAR_ACTION, "by": by, "at": utc_now()})
        deleted, _ = await pipe.execute()
    log.info("policy_overrides_cleared", by=by, had_overrides=bool(deleted))
    return bool(deleted)


def changes(active: Policy, candidate: Candidate) -> list[str]:
    """What promoting `candidate` changes in `active`, one line each."""
    lines = [
        f"threshold {label}: {active.thresholds.get(label)} -> {value}"
        for label, value in sorted(candidate.thresholds.items())
        if active.thresholds.get(label) != value
    ]
    for name in ("spam_hold", "spam_reject", "language_not_covered"):
        value = getattr(candidate, name)
        if value is not None and value != getattr(active, name):
            lines.append(f"{name}: {getattr(active, name)} -> {value}")
    for kind in ("banned", "suspect"):
        terms = set(getattr(active, kind).terms)
        lines += [f"{kind} += {t}" for t in getattr(candidate, f"{kind}_add") if t not in terms]
        lines += [f"{kind} -= {t}" for t in getattr(candidate, f"{kind}_remove") if t in terms]
    return lines
