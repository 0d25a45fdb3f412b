"""Comments and their states, as stored in Redis and shown on the wire."""

from __future__ import annotations

import dataclasses
import os
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
COMMENT_ID_LENGTH = 26


class Status(StrEnum):
    PENDING = "pending"
    PUBLISHED = "published"
    HELD = "held"
    REJECTED = "rejected"


class _Monotonic:
    """The last ULID value made by this process, so that ids made within one
    millisecond still sort in the order they were made (the ULID spec's monotonic mode)."""

    last = 0


def new_comment_id(now_ms: int | None = None) -> str:
    """A ULID: 48 bits of milliseconds then 80 random bits, Crockford base32.

    Sortable by creation time (monotonic within a process), unguessable, safe in
    URLs and Redis keys.
    """
    ms = time.time_ns() // 1_000_000 if now_ms is None else now_ms
    value = (ms << 80) | int.from_bytes(os.urandom(10), "big")
    if value >> 80 == _Monotonic.last >> 80 and value <= _Monotonic.last:
        value = _Monotonic.last + 1 + (int.from_bytes(os.urandom(2), "big"))
    _Monotonic.last = value
    chars = []
    for _ in range(COMMENT_ID_LENGTH):
        chars.append(_CROCKFORD[value & 31])
        value >>= 5
    return "".join(reversed(chars))


def is_comment_id(text: str) -> bool:
    return len(text) == COMMENT_ID_LENGTH and all(c in _CROCKFORD for c in text)


def utc_now() -> str:
    """The current time as ISO 8601 UTC with milliseconds, e.g. 2026-11-28T12:00:00.123Z."""
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


@dataclass(frozen=True, slots=True)
class Comment:
    """A reader's comment as accepted by intake.

    `email`, `ip`, `user_agent` and `referrer` are private: they never leave
    through the public API and never appear in logs.
    """

    id: str
    article_id: str
    name: str
    email: str
    email_hash: str
    body: str
    created_at: str
    status: Status = Status.PENDING
    parent_id: str | None = None
    url: str | None = None
    ip: str | None = None
    user_agent: str | None = None
    referrer: str | None = None
    honeypot: str | None = None
    form_rendered_at: str | None = None
    decided_at: str | None = None
    published_at: str | None = None

    def to_fields(self) -> dict[str, str]:
        """Flat string fields for a Redis hash; absent optional values are left out."""
        return {
            name: str(value)
            for name in _COMMENT_FIELDS
            if (value := getattr(self, name)) is not None
        }

    @classmethod
    def from_fields(cls, fields: dict[str, str]) -> Comment:
        values: dict[str, Any] = {k: v for k, v in fields.items() if k in _COMMENT_FIELDS}
        values["status"] = Status(values.get("status", Status.PENDING))
        return cls(**values)


_COMMENT_FIELDS = tuple(f.name for f in dataclasses.fields(Comment))


def public_status(fields: dict[str, str]) -> dict[str, Any]:
    """What anyone may know of a comment: never its e-mail, IP or text."""
    return {
        "id": fields["id"],
        "article_id": fields["article_id"],
        "status": fields.get("status", Status.PENDING.value),
        "created_at": fields["created_at"],
        "decided_at": fields.get("decided_at"),
    }
