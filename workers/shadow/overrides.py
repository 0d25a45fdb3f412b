"""The promoted overrides: the policy in force, and the audited actions that change it.

`promote` makes a candidate the policy in force, an audited action (`policy.promote`
on the audit stream). Its word-list changes go into the word lists; its thresholds,
spam thresholds and language rule are stored at `keys.policy_overrides` and override
`MODERATOR_THRESHOLD_*`, `MODERATOR_SPAM_*_THRESHOLD` and
`MODERATOR_LANGUAGE_NOT_COVERED` until cleared (`clear_overrides`, itself audited).
`active_policy` is that policy in force: the worker reads it for every batch.
"""

from __future__ import annotations

import redis.asyncio as aioredis
import structlog
from redis.exceptions import WatchError

from moderator.domain import utc_now
from moderator.keys import Keys
from moderator.records import AuditEntry, stream_fields
from moderator.settings import Settings
from moderator.storage.wordlists import Term, WordListStore
from workers.policy import Policy
from workers.shadow.candidate import Candidate
from workers.wordlists import Lists
from workers.wordstore import WordLists

log = structlog.get_logger()

PROMOTE_ACTION = "policy.promote"
CLEAR_ACTION = "policy.overrides_cleared"


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
    lists: Lists | None = None,
) -> Policy:
    """The policy in force now: the settings, the promoted overrides, and the word lists
    (`lists`, when the caller holds them; else read from Redis).
    Overrides that no longer fit the settings (a spam hold above the reject threshold)
    are logged and ignored rather than stopping every decision."""
    lists = lists or await WordLists(redis, keys).current()
    policy = Policy.from_settings(settings, lists.banned, lists.suspect, lists.sensitive)
    overrides = await active_overrides(redis, keys)
    if overrides is None:
        return policy
    try:
        return overrides.apply(policy)
    except ValueError as exc:
        log.error("policy_overrides_invalid", key=keys.policy_overrides, error=str(exc))
        return policy


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
            add = [Term(term) for term in getattr(candidate, f"{kind}_add")]  # all languages
            WordListStore(redis, keys).edit(pipe, kind, add, getattr(candidate, f"{kind}_remove"))
        if not rules.empty:
            pipe.set(keys.policy_overrides, rules.to_json())
        promoted = AuditEntry(
            action=PROMOTE_ACTION, by=by, at=utc_now(), candidate=candidate.to_json()
        )
        pipe.xadd(keys.audit, stream_fields(promoted))
        await pipe.execute()


async def clear_overrides(redis: aioredis.Redis, keys: Keys, *, by: str) -> bool:
    """Back to the settings' thresholds and rules (word lists stay as they are); audited.
    Returns False when nothing was promoted."""
    async with redis.pipeline(transaction=True) as pipe:
        pipe.delete(keys.policy_overrides)
        pipe.xadd(keys.audit, stream_fields(AuditEntry(action=CLEAR_ACTION, by=by, at=utc_now())))
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
