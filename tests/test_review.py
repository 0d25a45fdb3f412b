"""The moderators' storage (moderator/storage/review.py), without HTTP: queue pages and
filters, a comment's file, human decisions and their conflicts, the audit. The same
through the API: tests/test_moderation.py; word lists: tests/test_wordlist_storage.py."""

from __future__ import annotations

import json

import pytest
import redis.asyncio as aioredis

from moderator.domain import Status, new_comment_id, utc_now
from moderator.keys import Keys
from moderator.storage.decisions import Decision, DecisionStore, Reason
from moderator.storage.review import REVIEW_FIELDS, Filters, Review

INSULT = Reason("toxicity.insult", score=0.93, threshold=0.6)


async def decided(
    redis: aioredis.Redis,
    keys: Keys,
    status: Status,
    *reasons: Reason,
    article_id: str = "politique-123",
    language: str = "fr",
) -> str:
    """A stored comment decided automatically; its id."""
    comment_id = new_comment_id()
    await redis.hset(
        keys.comment(comment_id),
        mapping={
            "id": comment_id,
            "article_id": article_id,
            "name": "Amina",
            "email": "amina@example.ma",
            "email_hash": "h" * 32,
            "ip": "196.200.131.7",
            "body": "Un commentaire.",
            "created_at": "2026-11-28T12:00:00.000Z",
            "status": "pending",
        },
    )
    decision = Decision(
        decision=status,
        by="auto",
        at=utc_now(),
        reasons=reasons,
        language={"code": language, "script": "arabic" if language == "ar" else "latin"},
    )
    applied = await DecisionStore(redis, keys).apply(
        comment_id, article_id, Status.PENDING, decision
    )
    assert applied.outcome == "ok"
    return comment_id


@pytest.fixture
def review(redis: aioredis.Redis, keys: Keys) -> Review:
    return Review(redis, keys, webhooks=False)


async def test_a_queue_pages_oldest_first_with_a_cursor(
    review: Review, redis: aioredis.Redis, keys: Keys
) -> None:
    ids = [await decided(redis, keys, Status.HELD, INSULT) for _ in range(5)]
    await decided(redis, keys, Status.PUBLISHED)  # another queue
    first, cursor = await review.queue(Status.HELD, Filters(), after=None, limit=2)
    assert [item["id"] for item in first] == ids[:2]
    assert cursor == ids[1]
    second, cursor = await review.queue(Status.HELD, Filters(), after=cursor, limit=2)
    assert [item["id"] for item in second] == ids[2:4]
    last, cursor = await review.queue(Status.HELD, Filters(), after=cursor, limit=2)
    assert [item["id"] for item in last] == ids[4:]
    assert cursor is None


async def test_a_queue_item_shows_the_decision_and_never_the_email_or_ip(
    review: Review, redis: aioredis.Redis, keys: Keys
) -> None:
    comment_id = await decided(redis, keys, Status.HELD, INSULT)
    [item], _ = await review.queue(Status.HELD, Filters(), after=None, limit=10)
    assert set(item) == set(REVIEW_FIELDS)
    assert item["id"] == comment_id
    assert item["status"] == "held"
    assert item["decision"]["reasons"] == [INSULT.to_dict()]
    assert "amina@example.ma" not in json.dumps(item)
    assert "196.200.131.7" not in json.dumps(item)


async def test_queue_filters_by_article_language_and_reason_family(
    review: Review, redis: aioredis.Redis, keys: Keys
) -> None:
    insult = await decided(redis, keys, Status.HELD, INSULT)
    suspect = await decided(redis, keys, Status.HELD, Reason("wordlist.suspect", match="truc"))
    arabic = await decided(
        redis,
        keys,
        Status.HELD,
        Reason("language.not_covered", detail="ar"),
        article_id="sport-1",
        language="ar",
    )

    async def ids(**filters: str) -> list[str]:
        items, _ = await review.queue(Status.HELD, Filters(**filters), after=None, limit=10)
        return [item["id"] for item in items]

    assert await ids() == [insult, suspect, arabic]
    assert await ids(article_id="sport-1") == [arabic]
    assert await ids(language="fr") == [insult, suspect]
    assert await ids(reason="toxicity") == [insult]  # a family: toxicity.*
    assert await ids(reason="toxicity.insult") == [insult]
    assert await ids(reason="tox") == []  # not a prefix of the code's text
    assert await ids(reason="wordlist", language="ar") == []


async def test_a_comments_file_has_its_decision_and_whole_history(
    review: Review, redis: aioredis.Redis, keys: Keys
) -> None:
    comment_id = await decided(redis, keys, Status.HELD, INSULT)
    await review.decide(comment_id, "approve", Status.HELD, "amina", note=None)
    file = await review.comment(comment_id)
    assert file is not None
    assert file["comment"]["status"] == "published"
    assert "decision" not in file["comment"]
    assert file["decision"]["by"] == "moderator:amina"
    assert [record["by"] for record in file["history"]] == ["auto", "moderator:amina"]
    assert await review.comment(new_comment_id()) is None


async def test_an_action_on_a_state_the_comment_left_is_a_conflict(
    review: Review, redis: aioredis.Redis, keys: Keys
) -> None:
    comment_id = await decided(redis, keys, Status.HELD, INSULT)
    applied, _ = await review.decide(comment_id, "approve", Status.HELD, "amina", None)
    assert applied.outcome == "ok"
    stale, overridden = await review.decide(comment_id, "reject", Status.HELD, "karim", None)
    assert (stale.outcome, stale.status, overridden) == ("conflict", "published", None)
    assert await redis.llen(keys.history(comment_id)) == 2  # nothing written


async def test_an_action_not_allowed_from_the_current_state_is_a_conflict(
    review: Review, redis: aioredis.Redis, keys: Keys
) -> None:
    held = await decided(redis, keys, Status.HELD, INSULT)
    published = await decided(redis, keys, Status.PUBLISHED)
    takedown, _ = await review.decide(held, "takedown", None, "amina", None)
    assert (takedown.outcome, takedown.status) == ("conflict", "held")
    approve, _ = await review.decide(published, "approve", None, "amina", None)
    assert (approve.outcome, approve.status) == ("conflict", "published")
    missing, _ = await review.decide(new_comment_id(), "approve", None, "amina", None)
    assert missing.outcome == "missing"


async def test_overriding_an_automatic_decision_is_audited_with_its_facts(
    review: Review, redis: aioredis.Redis, keys: Keys
) -> None:
    comment_id = await decided(redis, keys, Status.HELD, INSULT)
    applied, overridden = await review.decide(comment_id, "approve", None, "amina", "ironie")
    assert (applied.outcome, applied.status, overridden) == ("ok", "published", Status.HELD)
    [(_, entry)] = await redis.xrevrange(keys.audit, count=1)
    assert (entry["from"], entry["to"], entry["by"]) == ("held", "published", "moderator:amina")
    assert (entry["overrides"], entry["language"], entry["script"]) == ("auto", "fr", "latin")
    assert entry["note"] == "ironie"
    assert float(entry["waited_s"]) >= 0
    # A moderator undoing a moderator overrides nothing automatic.
    again, overridden = await review.decide(comment_id, "takedown", None, "karim", None)
    assert (again.outcome, overridden) == ("ok", None)
    [(_, entry)] = await redis.xrevrange(keys.audit, count=1)
    assert "overrides" not in entry


async def test_the_audit_pages_newest_first_and_filters_by_comment(
    review: Review, redis: aioredis.Redis, keys: Keys
) -> None:
    first = await decided(redis, keys, Status.HELD, INSULT)
    second = await decided(redis, keys, Status.PUBLISHED)
    await review.decide(first, "approve", None, "amina", None)
    page, cursor = await review.audit(comment_id=None, before=None, limit=2)
    assert [(e["comment_id"], e["to"]) for e in page] == [
        (first, "published"),
        (second, "published"),
    ]
    assert cursor == page[-1]["id"]
    rest, cursor = await review.audit(comment_id=None, before=cursor, limit=2)
    assert [(e["comment_id"], e["to"]) for e in rest] == [(first, "held")]
    assert cursor is None
    mine, _ = await review.audit(comment_id=first, before=None, limit=10)
    assert [e["to"] for e in mine] == ["published", "held"]


async def test_a_pending_comment_reads_as_pending(
    review: Review, redis: aioredis.Redis, keys: Keys
) -> None:
    comment_id = new_comment_id()
    await redis.hset(keys.comment(comment_id), mapping={"id": comment_id, "article_id": "a"})
    file = await review.comment(comment_id)
    assert file is not None
    assert (file["comment"]["status"], file["decision"], file["history"]) == ("pending", None, [])
