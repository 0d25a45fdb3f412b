"""The stream records (moderator/records.py): each reads back what it writes, field for
field, and reads the entries the service and the workers have always written."""

from __future__ import annotations

from typing import Any

import pytest

from moderator.domain import Status
from moderator.records import (
    AuditEntry,
    DeadLetter,
    FailedWebhook,
    OutboxEvent,
    QueuedComment,
    TrainingExample,
)

AT = "2026-11-28T12:00:00.000Z"

# Entries as the stream holds them: every kind of record and of audit entry.
ENTRIES: list[tuple[Any, dict[str, str]]] = [
    (QueuedComment, {"id": "01J0", "article_id": "politique-123"}),
    (
        AuditEntry,
        {
            "comment_id": "01J0",
            "article_id": "politique-123",
            "from": "pending",
            "to": "held",
            "by": "auto",
            "at": AT,
            "reasons": "toxicity.insult,wordlist.suspect",
            "language": "fr",
            "script": "latin",
        },
    ),
    (
        AuditEntry,
        {
            "comment_id": "01J0",
            "article_id": "politique-123",
            "from": "held",
            "to": "published",
            "by": "moderator:amina",
            "at": AT,
            "reasons": "",
            "note": "fine after all",
            "overrides": "auto",
            "language": "ar",
            "script": "arabic",
            "waited_s": "12.5",
        },
    ),
    (
        AuditEntry,
        {"action": "wordlist.banned.replace", "by": "moderator:amina", "at": AT, "terms": "3"},
    ),
    (
        AuditEntry,
        {"action": "forget", "by": "cli:root", "at": AT, "comments": "2", "taken_down": "1"},
    ),
    (AuditEntry, {"action": "policy.promote", "by": "cli:root", "at": AT, "candidate": "{}"}),
    (
        OutboxEvent,
        {
            "type": "comment.taken_down",
            "comment_id": "01J0",
            "article_id": "politique-123",
            "status": "rejected",
            "from": "published",
            "at": AT,
            "by": "moderator:amina",
        },
    ),
    (
        FailedWebhook,
        {
            "type": "comment.published",
            "comment_id": "01J0",
            "article_id": "politique-123",
            "status": "published",
            "from": "pending",
            "at": AT,
            "by": "auto",
            "event_id": "1-0",
            "attempts": "6",
            "error": "HTTP 500",
            "failed_at": AT,
            "deliverer": "host-1",
        },
    ),
    (
        DeadLetter,
        {
            "entry_id": "1-0",
            "id": "01J0",
            "article_id": "politique-123",
            "deliveries": "5",
            "error": "RuntimeError: choked",
            "at": AT,
            "worker": "host-1-0",
        },
    ),
    (TrainingExample, {"comment_id": "01J0", "label": "spam"}),
]


@pytest.mark.parametrize(("record", "fields"), ENTRIES)
def test_a_record_reads_back_what_it_writes(record: Any, fields: dict[str, str]) -> None:
    assert record.from_fields(fields).to_fields() == fields


def test_an_audit_entry_says_what_it_records() -> None:
    automatic = AuditEntry.from_fields(ENTRIES[1][1])
    assert automatic.is_decision and automatic.automatic
    assert automatic.to == Status.HELD
    assert automatic.reasons == ("toxicity.insult", "wordlist.suspect")
    override = AuditEntry.from_fields(ENTRIES[2][1])
    assert override.overrides_automatic and not override.automatic
    assert (override.from_status, override.reasons, override.waited_s) == (Status.HELD, (), 12.5)
    listed = AuditEntry.from_fields(ENTRIES[3][1])
    assert not listed.is_decision and listed.terms == 3


@pytest.mark.parametrize(
    ("before", "after", "kind"),
    [
        (Status.PENDING, Status.PUBLISHED, "comment.published"),
        (Status.PENDING, Status.HELD, "comment.held"),
        (Status.HELD, Status.REJECTED, "comment.rejected"),
        (Status.PUBLISHED, Status.REJECTED, "comment.taken_down"),
    ],
)
def test_an_outbox_event_is_named_after_the_change(
    before: Status, after: Status, kind: str
) -> None:
    event = OutboxEvent.of_change("01J0", "politique-123", before, after, at=AT, by="auto")
    assert (event.kind, event.status, event.from_status) == (kind, after.value, before.value)
