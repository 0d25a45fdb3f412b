"""Readers' privacy in storage: forgetting an address, and IPs and user agents expiring.

No HTTP and no command line here: the service and the CLI call these.

`forget` finds every comment of an e-mail address and, for each one:

1. takes it out of circulation first, through `DecisionStore.apply` (status
   `rejected`, action `forget`, by whoever asked), so the feed, the queues, the
   audit stream and the site's webhook all see it go. A pending comment is
   rejected too, so no worker publishes it later (its stream entry is then
   acknowledged as already decided); a held one, so no moderator approves a
   text that is about to be erased;
2. then erases what it held of its author: `email` and `body` become "" (kept
   as fields so workers can still load the comment), `name` becomes
   `FORGOTTEN_NAME`, `email_hash` becomes `FORGOTTEN`, and `ip`, `user_agent`,
   `referrer`, `url` and `honeypot` are removed. Ids, article, parent, times,
   status and the decision history stay: they hold nothing of the person.

In that order, an interrupted `forget` is finished by running it again (the
address is still on the comments it had not erased yet); a finished one finds
nothing the second time. The spam counters of the address are deleted and its
comments leave the IP counters. One audit entry records the request: who, when
and how many comments, never the address or its hash.

`expire_private_data` removes `ip`, `user_agent` and `referrer` from comments
older than `settings.private_data_days`; `moderator.web.expiry` runs it hourly in
the service.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import email_validator
import redis.asyncio as aioredis
import structlog
from redis.exceptions import ResponseError

from moderator import logs
from moderator.domain import Status, utc_now
from moderator.keys import WEBHOOKS_GROUP, Keys
from moderator.logs import ip_digest
from moderator.records import AuditEntry, stream_fields
from moderator.settings import Settings
from moderator.storage.decisions import Decision, DecisionStore, Reason
from moderator.storage.textcounts import TextCounts

log = structlog.get_logger()

FORGOTTEN_NAME = "Lecteur anonyme"  # the name a forgotten comment keeps
FORGOTTEN = "forgotten"  # its email_hash: it matches no one's counters or hash
FORGET_ACTION = "forget"
FORGET_REASON = "privacy.forget"
# Removed from a forgotten comment (email and body are emptied, name replaced).
FORGOTTEN_FIELDS = ("ip", "user_agent", "referrer", "url", "honeypot")
# Removed from every comment older than `private_data_days`.
EXPIRING_FIELDS = ("ip", "user_agent", "referrer")
SCAN_COUNT = 1000  # comment keys looked at per SCAN call and per pipeline
MAX_CAS_TRIES = 5  # a worker or a moderator deciding at the same moment
EXPIRY_INTERVAL_S = 3600.0
EXPIRY_FIRST_AFTER_S = 60.0

# Erase a comment's personal fields, only if it still exists (never create a stub).
# KEYS: comment. ARGV: name, email_hash, forgotten_at, then the fields to remove.
ERASE_SCRIPT = """
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('HSET', KEYS[1], 'name', ARGV[1], 'email', '', 'body', '',
           'email_hash', ARGV[2], 'forgotten_at', ARGV[3])
redis.call('HDEL', KEYS[1], unpack(ARGV, 4))
return 1
"""

_FORGET_FIELDS = ("id", "article_id", "status", "email", "email_hash", "ip")
_EXPIRY_FIELDS = ("created_at", *EXPIRING_FIELDS)


@dataclass(frozen=True, slots=True)
class ForgetResult:
    """How many comments were forgotten, and how many of them were published until then."""

    comments: int
    taken_down: int

    def to_dict(self) -> dict[str, int]:
        return {"comments": self.comments, "taken_down": self.taken_down}


def normalise_email(email: str) -> str:
    """The address as intake stores it (email-validator's normalised form), or the
    trimmed input when it is not a valid address."""
    trimmed = email.strip()
    try:
        return str(email_validator.validate_email(trimmed, check_deliverability=False).normalized)
    except email_validator.EmailNotValidError:
        return trimmed


async def forget(
    redis: aioredis.Redis, keys: Keys, settings: Settings, email: str, *, by: str
) -> ForgetResult:
    """Take down and anonymise every comment of `email` (any case), delete its spam
    counters, subtract what its comments taught the site model, and record the
    request in the audit stream without the address.

    Raises `ValueError` for a blank address."""
    normalized = normalise_email(email)
    if not normalized:
        raise ValueError("an e-mail address is required")
    wanted = {normalized.casefold(), email.strip().casefold()}
    digest = logs.email_hash(settings.hash_key.encode(), normalized) if settings.hash_key else None
    found = [
        (key, row)
        async for batch in _scan_comments(redis, keys, _FORGET_FIELDS)
        for key, row in batch
        if _belongs(row, wanted, digest)
    ]
    # The site hears of every take-down, even when this process (`moderator forget` on
    # an operator's shell) lacks MODERATOR_WEBHOOK_URL but the service delivers webhooks.
    webhooks = bool(settings.webhook_url) or await _webhooks_in_use(redis, keys)
    decisions = DecisionStore(redis, keys, webhooks=webhooks)
    at = utc_now()
    taken_down = 0
    for _, row in found:
        if await _retire(redis, keys, decisions, row, by=by, at=at) == Status.PUBLISHED:
            taken_down += 1
    await _erase(redis, keys, settings, found, digest, at=at)
    # What their comments taught the site model goes with them.
    await TextCounts(redis, keys).forget([str(row["id"]) for _, row in found])
    result = ForgetResult(comments=len(found), taken_down=taken_down)
    entry = AuditEntry(
        action=FORGET_ACTION,
        by=by,
        at=at,
        comments=result.comments,
        taken_down=result.taken_down,
    )
    await redis.xadd(keys.audit, stream_fields(entry))
    log.info("reader_forgotten", by=by, comments=result.comments, taken_down=result.taken_down)
    return result


def _belongs(row: dict[str, str | None], wanted: set[str], digest: str | None) -> bool:
    stored = row["email"]
    if stored and stored.casefold() in wanted:
        return True
    return digest is not None and row["email_hash"] == digest


async def _retire(
    redis: aioredis.Redis,
    keys: Keys,
    decisions: DecisionStore,
    row: dict[str, str | None],
    *,
    by: str,
    at: str,
) -> Status | None:
    """Reject the comment unless it already is; the status it left (None: none, or gone).
    A worker or a moderator deciding meanwhile makes the compare-and-set retry."""
    comment_id, article_id = str(row["id"]), str(row["article_id"])
    status = row["status"]
    decision = Decision(
        decision=Status.REJECTED,
        by=by,
        at=at,
        reasons=(Reason(FORGET_REASON),),
        action=FORGET_ACTION,
    )
    for _ in range(MAX_CAS_TRIES):
        if status is None or status == Status.REJECTED:
            return None
        applied = await decisions.apply(
            comment_id,
            article_id,
            Status(status),
            decision,
            audit_extra={"action": FORGET_ACTION},
        )
        if applied.outcome == "ok":
            return Status(status)
        status = applied.status if applied.outcome == "conflict" else None
    raise RuntimeError(f"comment {comment_id} kept changing while being forgotten")


async def _erase(
    redis: aioredis.Redis,
    keys: Keys,
    settings: Settings,
    found: Sequence[tuple[str, dict[str, str | None]]],
    digest: str | None,
    *,
    at: str,
) -> None:
    """Erase the comments' personal fields and the counters tied to the address."""
    ip_key = (settings.hash_key or "").encode()
    hashes = {row["email_hash"] for _, row in found} | {digest}
    async with redis.pipeline(transaction=False) as pipe:
        for key, row in found:
            pipe.eval(ERASE_SCRIPT, 1, key, FORGOTTEN_NAME, FORGOTTEN, at, *FORGOTTEN_FIELDS)
            if row["ip"]:
                pipe.zrem(keys.spam_recent("ip", ip_digest(ip_key, row["ip"])), str(row["id"]))
        for email_hash in hashes - {None, "", FORGOTTEN}:
            pipe.delete(keys.spam_recent("email", str(email_hash)))
        await pipe.execute()


async def expire_private_data(
    redis: aioredis.Redis, keys: Keys, settings: Settings, *, now: datetime | None = None
) -> int:
    """Remove `ip`, `user_agent` and `referrer` from comments created more than
    `settings.private_data_days` ago; returns how many comments changed (0 when run again)."""
    cutoff = (now or datetime.now(UTC)) - timedelta(days=settings.private_data_days)
    changed = 0
    async for batch in _scan_comments(redis, keys, _EXPIRY_FIELDS):
        old = [
            key
            for key, row in batch
            if any(row[name] for name in EXPIRING_FIELDS) and _created_before(row, cutoff)
        ]
        if not old:
            continue
        async with redis.pipeline(transaction=False) as pipe:
            for key in old:
                pipe.hdel(key, *EXPIRING_FIELDS)
            removed = await pipe.execute()
        changed += sum(1 for count in removed if count)
    return changed


def _created_before(row: dict[str, str | None], cutoff: datetime) -> bool:
    try:
        created = datetime.fromisoformat(row["created_at"] or "")
    except ValueError:
        return False  # not a time we wrote: leave it to a person
    return (created if created.tzinfo else created.replace(tzinfo=UTC)) < cutoff


async def _scan_comments(
    redis: aioredis.Redis, keys: Keys, fields: Sequence[str]
) -> AsyncIterator[list[tuple[str, dict[str, str | None]]]]:
    """Every comment hash, a SCAN batch at a time, with the given fields (None when absent)."""
    cursor: Any = 0
    while True:
        cursor, names = await redis.scan(cursor, match=keys.comment("*"), count=SCAN_COUNT)
        if names:
            async with redis.pipeline(transaction=False) as pipe:
                for name in names:
                    pipe.hmget(name, fields)
                rows = await pipe.execute()
            yield [
                (str(name), dict(zip(fields, row, strict=True)))
                for name, row in zip(names, rows, strict=True)
            ]
        if not int(cursor):
            return


async def _webhooks_in_use(redis: aioredis.Redis, keys: Keys) -> bool:
    """Whether a service delivers webhooks from this Redis (its consumer group exists)."""
    try:
        groups = await redis.xinfo_groups(keys.webhook_outbox)
    except ResponseError:  # no outbox stream: no webhooks
        return False
    return any(str(group.get("name")) == WEBHOOKS_GROUP for group in groups)
