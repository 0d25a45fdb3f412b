"""Live shadow mode: while a candidate is stored at `keys.shadow_candidate`, the worker
also decides each new comment under it and logs `shadow_decision`; nothing else changes.
"""

from __future__ import annotations

import dataclasses

import redis.asyncio as aioredis
import structlog

from moderator.domain import Status
from moderator.keys import Keys
from moderator.storage.decisions import Reason
from workers.policy import Checks, Policy
from workers.shadow.candidate import Candidate
from workers.wordlists import said_and_quoted

log = structlog.get_logger()


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
        checks = matched(checks, shadow, text)
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


def matched(checks: Checks, policy: Policy, text: str) -> Checks:
    """`checks` with `policy`'s banned and suspect lists matched again in `text` (name,
    newline, body), in the comment's language; a candidate does not edit the sensitive
    list, whose terms the worker found already."""
    language = checks.language.code
    banned, suspect, quoted = said_and_quoted(policy.banned, policy.suspect, text, language)
    return dataclasses.replace(checks, banned=banned, suspect=suspect, quoted=quoted)
