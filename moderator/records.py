"""What the service and the workers exchange through Redis streams, one record each.

Each stream entry is a frozen dataclass with `to_fields()` (flat string fields for
XADD) and `from_fields()` (what XRANGE or XREADGROUP gives back). The field names
are written here and nowhere else; the key names are in `moderator.keys`. The Lua
scripts that write entries atomically take their fields from these records too
(`storage.comments` for the queue, `storage.decisions` for the audit and the outbox).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from redis.typing import EncodableT

from moderator.domain import Status

# Fields of an entry on the comments stream (the submit script writes them in Lua).
QUEUE_ID = "id"
QUEUE_ARTICLE = "article_id"
# `by` of an automatic decision; a human one is "moderator:<name>".
AUTO = "auto"
# Webhook event types: "comment." and the new status, or a published comment taken down.
EVENT_PREFIX = "comment."
PUBLISHED_EVENT = EVENT_PREFIX + Status.PUBLISHED.value
TAKEN_DOWN_EVENT = EVENT_PREFIX + "taken_down"


class Record(Protocol):
    def to_fields(self) -> dict[str, str]: ...


def stream_fields(record: Record) -> dict[EncodableT, EncodableT]:
    """`record.to_fields()`, typed as redis-py's XADD takes it."""
    return {name: value for name, value in record.to_fields().items()}


def _optional_int(value: str | None) -> int | None:
    return None if value is None else int(value)


@dataclass(frozen=True, slots=True)
class QueuedComment:
    """An entry on the comments stream: a stored comment waiting for a decision."""

    comment_id: str
    article_id: str

    def to_fields(self) -> dict[str, str]:
        return {QUEUE_ID: self.comment_id, QUEUE_ARTICLE: self.article_id}

    @classmethod
    def from_fields(cls, fields: Mapping[str, str]) -> QueuedComment:
        return cls(fields.get(QUEUE_ID, ""), fields.get(QUEUE_ARTICLE, ""))


@dataclass(frozen=True, slots=True)
class AuditEntry:
    """An entry on the audit stream. A decision, automatic or human, has `comment_id`,
    `from_status` and `to`; any other audited action (a word list replaced, a reader
    forgotten, a policy promoted or its overrides cleared) has `action` and its counts.
    A moderator overriding an automatic decision adds `overrides` ("auto"), the
    comment's language and script and how long it waited (`waited_s`)."""

    by: str
    at: str
    action: str | None = None
    comment_id: str | None = None
    article_id: str | None = None
    from_status: Status | None = None  # field "from"
    to: Status | None = None
    reasons: tuple[str, ...] | None = None  # reason codes, joined by "," in Redis
    note: str | None = None
    language: str | None = None
    script: str | None = None
    overrides: str | None = None
    waited_s: float | None = None
    terms: int | None = None  # a word list replaced: how many terms it has now
    comments: int | None = None  # a reader forgotten: their comments …
    taken_down: int | None = None  # … and how many of them were published
    candidate: str | None = None  # a policy promoted: the candidate, as JSON
    teaches: str | None = None  # a moderator's rejection: "spam" or "abusive", if said

    @property
    def is_decision(self) -> bool:
        return self.to is not None

    @property
    def automatic(self) -> bool:
        return self.by == AUTO

    @property
    def overrides_automatic(self) -> bool:
        return self.overrides == AUTO

    def to_fields(self) -> dict[str, str]:
        values: dict[str, Any] = {
            "action": self.action,
            "comment_id": self.comment_id,
            "article_id": self.article_id,
            "from": self.from_status,
            "to": self.to,
            "by": self.by,
            "at": self.at,
            "reasons": None if self.reasons is None else ",".join(self.reasons),
            "note": self.note,
            "language": self.language,
            "script": self.script,
            "overrides": self.overrides,
            "waited_s": self.waited_s,
            "terms": self.terms,
            "comments": self.comments,
            "taken_down": self.taken_down,
            "candidate": self.candidate,
            "teaches": self.teaches,
        }
        return {name: str(value) for name, value in values.items() if value is not None}

    @classmethod
    def from_fields(cls, fields: Mapping[str, str]) -> AuditEntry:
        get = fields.get
        reasons, waited = get("reasons"), get("waited_s")
        return cls(
            by=get("by", ""),
            at=get("at", ""),
            action=get("action"),
            comment_id=get("comment_id"),
            article_id=get("article_id"),
            from_status=Status(fields["from"]) if "from" in fields else None,
            to=Status(fields["to"]) if "to" in fields else None,
            reasons=None if reasons is None else tuple(filter(None, reasons.split(","))),
            note=get("note"),
            language=get("language"),
            script=get("script"),
            overrides=get("overrides"),
            waited_s=float(waited) if waited else None,
            terms=_optional_int(get("terms")),
            comments=_optional_int(get("comments")),
            taken_down=_optional_int(get("taken_down")),
            candidate=get("candidate"),
            teaches=get("teaches"),
        )


@dataclass(frozen=True, slots=True)
class OutboxEvent:
    """A comment's change of state, queued for the site's webhook with the decision."""

    kind: str  # field "type": PUBLISHED_EVENT, TAKEN_DOWN_EVENT, "comment.held", …
    comment_id: str
    article_id: str
    status: str
    from_status: str  # field "from"
    at: str
    by: str

    @classmethod
    def of_change(
        cls, comment_id: str, article_id: str, before: Status, after: Status, *, at: str, by: str
    ) -> OutboxEvent:
        taken_down = after == Status.REJECTED and before == Status.PUBLISHED
        kind = TAKEN_DOWN_EVENT if taken_down else EVENT_PREFIX + after.value
        return cls(kind, comment_id, article_id, after.value, before.value, at, by)

    def to_fields(self) -> dict[str, str]:
        return {
            "type": self.kind,
            "comment_id": self.comment_id,
            "article_id": self.article_id,
            "status": self.status,
            "from": self.from_status,
            "at": self.at,
            "by": self.by,
        }

    @classmethod
    def from_fields(cls, fields: Mapping[str, str]) -> OutboxEvent:
        get = fields.get
        return cls(
            kind=get("type", ""),
            comment_id=get("comment_id", ""),
            article_id=get("article_id", ""),
            status=get("status", ""),
            from_status=get("from", ""),
            at=get("at", ""),
            by=get("by", ""),
        )


@dataclass(frozen=True, slots=True)
class FailedWebhook:
    """An outbox event given up on, kept on the failed stream with its last error."""

    event: OutboxEvent
    event_id: str
    attempts: int
    error: str
    failed_at: str
    deliverer: str

    def to_fields(self) -> dict[str, str]:
        return {
            **self.event.to_fields(),
            "event_id": self.event_id,
            "attempts": str(self.attempts),
            "error": self.error,
            "failed_at": self.failed_at,
            "deliverer": self.deliverer,
        }

    @classmethod
    def from_fields(cls, fields: Mapping[str, str]) -> FailedWebhook:
        return cls(
            event=OutboxEvent.from_fields(fields),
            event_id=fields.get("event_id", ""),
            attempts=int(fields.get("attempts") or 0),
            error=fields.get("error", ""),
            failed_at=fields.get("failed_at", ""),
            deliverer=fields.get("deliverer", ""),
        )


@dataclass(frozen=True, slots=True)
class DeadLetter:
    """A comments-stream entry the workers gave up on, with its last error."""

    entry_id: str  # its id on the comments stream
    comment_id: str
    article_id: str
    deliveries: int
    error: str
    at: str
    worker: str

    def queued(self) -> QueuedComment:
        """The entry to queue again."""
        return QueuedComment(self.comment_id, self.article_id)

    def to_fields(self) -> dict[str, str]:
        return {
            "entry_id": self.entry_id,
            **self.queued().to_fields(),
            "deliveries": str(self.deliveries),
            "error": self.error,
            "at": self.at,
            "worker": self.worker,
        }

    @classmethod
    def from_fields(cls, fields: Mapping[str, str]) -> DeadLetter:
        queued = QueuedComment.from_fields(fields)
        return cls(
            entry_id=fields.get("entry_id", ""),
            comment_id=queued.comment_id,
            article_id=queued.article_id,
            deliveries=int(fields.get("deliveries") or 0),
            error=fields.get("error", ""),
            at=fields.get("at", ""),
            worker=fields.get("worker", ""),
        )


@dataclass(frozen=True, slots=True)
class TrainingExample:
    """A moderator's verdict on a comment, for the workers' models (`workers.training`):
    "ham" (approved), "spam", "toxic" (rejected as abusive), or "rejected" (no reason
    given: nothing to learn, but it still measures the site model's precision)."""

    comment_id: str
    label: str

    @property
    def spam(self) -> bool:
        return self.label == "spam"

    def to_fields(self) -> dict[str, str]:
        return {"comment_id": self.comment_id, "label": self.label}

    @classmethod
    def from_fields(cls, fields: Mapping[str, str]) -> TrainingExample:
        return cls(fields.get("comment_id", ""), fields.get("label", ""))


@dataclass(frozen=True, slots=True)
class TrialRequest:
    """A policy to try (`evaluate`) or to make the one in force (`promote`), asked from
    the moderators' page; the trial itself is the hash `Keys.policy_trial(trial_id)`."""

    trial_id: str  # field "id"
    action: str  # "evaluate" or "promote"

    def to_fields(self) -> dict[str, str]:
        return {"id": self.trial_id, "action": self.action}

    @classmethod
    def from_fields(cls, fields: Mapping[str, str]) -> TrialRequest:
        return cls(fields.get("id", ""), fields.get("action", ""))
