"""What the site receives: an outbox event and the comment it is about, as JSON.

The comment's text (name and body) goes only with `comment.published`, and only
while the comment is still published; never its e-mail address or IP.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from moderator.domain import Status
from moderator.records import PUBLISHED_EVENT, OutboxEvent

# What the site receives of a comment: only these, and name and body only while published.
TEXT_FIELDS = ("name", "body", "created_at", "published_at")
# The comment's hash fields a payload is made from.
COMMENT_FIELDS = ("parent_id", "status", *TEXT_FIELDS)


@dataclass(frozen=True, slots=True)
class Event:
    """An outbox entry and which attempt at delivering it this is."""

    event_id: str
    record: OutboxEvent
    attempt: int = 1

    @property
    def type(self) -> str:
        return self.record.kind

    @property
    def comment_id(self) -> str:
        return self.record.comment_id


def payload(event: Event, comment: Mapping[str, str | None]) -> dict[str, Any]:
    """The JSON body for `event`, given the comment's stored fields. The text goes
    only with `comment.published`, and only while the comment is still published:
    a late published event for a comment taken down since carries none."""
    shown: dict[str, Any] = {
        "id": event.comment_id,
        "article_id": event.record.article_id,
        "parent_id": comment.get("parent_id"),
        "status": event.record.status,
    }
    if event.type == PUBLISHED_EVENT and comment.get("status") == Status.PUBLISHED:
        shown.update({name: comment.get(name) for name in TEXT_FIELDS})
    return {
        "id": event.event_id,
        "type": event.type,
        "created_at": event.record.at,
        "comment": shown,
    }


def body(event: Event, row: Sequence[str | None]) -> bytes:
    """The request body: `payload` from the comment's `COMMENT_FIELDS` values, compact."""
    comment = dict(zip(COMMENT_FIELDS, row, strict=True))
    return json.dumps(payload(event, comment), ensure_ascii=False, separators=(",", ":")).encode()
