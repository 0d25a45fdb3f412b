"""Decision records and their compare-and-set (moderator/storage/decisions.py): status,
history, state queues, feed, audit stream and webhook outbox change together, or not at
all; a stream entry is acknowledged in the same step."""

from __future__ import annotations

import json

import redis.asyncio as aioredis
from aiohttp.test_utils import TestClient

from moderator.domain import Status, utc_now
from moderator.keys import Keys
from moderator.storage.decisions import Decision, DecisionStore, Reason
from tests.helpers import auto, submit

ARTICLE = "politique-123"


async def pending_comment(redis: aioredis.Redis, keys: Keys, comment_id: str) -> None:
    """As much of a stored comment as a decision needs: its article and status."""
    await redis.hset(keys.comment(comment_id), mapping={"article_id": ARTICLE, "status": "pending"})


def test_records_omit_what_is_unset_and_round_scores() -> None:
    assert Reason("wordlist.banned", match="zorglub").to_dict() == {
        "code": "wordlist.banned",
        "match": "zorglub",
    }
    assert Reason("toxicity.insult", score=0.912345, threshold=0.6).to_dict() == {
        "code": "toxicity.insult",
        "score": 0.9123,
        "threshold": 0.6,
    }
    decision = Decision(
        decision=Status.HELD,
        by="auto",
        at="2026-11-28T12:00:00.000Z",
        reasons=(Reason("language.not_covered", detail="ar"),),
        language={"code": "ar", "script": "arabic"},
        extra={"shadow": "published"},
    )
    assert decision.to_dict() == {
        "decision": "held",
        "by": "auto",
        "at": "2026-11-28T12:00:00.000Z",
        "reasons": [{"code": "language.not_covered", "detail": "ar"}],
        "language": {"code": "ar", "script": "arabic"},
        "shadow": "published",
    }


async def test_a_decision_moves_status_history_queue_feed_and_audit_together(
    redis: aioredis.Redis, keys: Keys
) -> None:
    await pending_comment(redis, keys, "c1")
    decision = Decision(
        decision=Status.PUBLISHED,
        by="auto",
        at=utc_now(),
        language={"code": "fr", "script": "latin"},
    )
    applied = await DecisionStore(redis, keys).apply("c1", ARTICLE, Status.PENDING, decision)
    assert (applied.outcome, applied.status) == ("ok", "published")
    stored = await redis.hgetall(keys.comment("c1"))
    assert stored["status"] == "published"
    assert stored["decided_at"] == stored["published_at"] == decision.at
    assert json.loads(stored["decision"]) == decision.to_dict()
    assert [json.loads(r) for r in await redis.lrange(keys.history("c1"), 0, -1)] == [
        decision.to_dict()
    ]
    assert await redis.zrange(keys.queue(Status.PUBLISHED), 0, -1) == ["c1"]
    assert await redis.zrange(keys.feed(ARTICLE), 0, -1) == ["c1"]
    [(_, audit)] = await redis.xrange(keys.audit)
    assert audit == {
        "comment_id": "c1",
        "article_id": ARTICLE,
        "from": "pending",
        "to": "published",
        "by": "auto",
        "at": decision.at,
        "reasons": "",
        "language": "fr",
        "script": "latin",
    }
    assert await redis.xlen(keys.webhook_outbox) == 0  # webhooks off


async def test_each_decision_is_appended_to_the_history_and_the_audit(
    redis: aioredis.Redis, keys: Keys
) -> None:
    await pending_comment(redis, keys, "c1")
    store = DecisionStore(redis, keys)
    held = auto(Status.HELD, Reason("toxicity.insult", score=0.93, threshold=0.6))
    assert (await store.apply("c1", ARTICLE, Status.PENDING, held)).outcome == "ok"
    human = Decision(decision=Status.REJECTED, by="moderator:amina", at=utc_now(), note="insulte")
    assert (await store.apply("c1", ARTICLE, Status.HELD, human)).outcome == "ok"
    assert [record["by"] for record in await store.history("c1")] == ["auto", "moderator:amina"]
    audit = [fields for _, fields in await redis.xrange(keys.audit)]
    assert [(a["from"], a["to"], a["by"]) for a in audit] == [
        ("pending", "held", "auto"),
        ("held", "rejected", "moderator:amina"),
    ]
    assert audit[0]["reasons"] == "toxicity.insult"
    assert audit[1]["note"] == "insulte"
    assert await redis.zrange(keys.queue(Status.HELD), 0, -1) == []
    assert await redis.zrange(keys.queue(Status.REJECTED), 0, -1) == ["c1"]


async def test_compare_and_set_refuses_a_stale_state(
    client: TestClient, redis: aioredis.Redis, keys: Keys
) -> None:
    store = DecisionStore(redis, keys)
    comment_id = await submit(client)
    assert (
        await store.apply(comment_id, "politique-123", Status.PENDING, auto(Status.HELD))
    ).outcome == "ok"
    stale = await store.apply(comment_id, "politique-123", Status.PENDING, auto(Status.PUBLISHED))
    assert (stale.outcome, stale.status) == ("conflict", "held")
    assert await redis.zcard(keys.feed("politique-123")) == 0
    assert len(await store.history(comment_id)) == 1
    missing = await store.apply(
        "01J00000000000000000000000", "x", Status.PENDING, auto(Status.PUBLISHED)
    )
    assert missing.outcome == "missing"


async def test_a_conflict_writes_nothing(redis: aioredis.Redis, keys: Keys) -> None:
    await pending_comment(redis, keys, "c1")
    store = DecisionStore(redis, keys, webhooks=True)
    await store.apply("c1", ARTICLE, Status.PENDING, auto(Status.PUBLISHED))
    before = await redis.hgetall(keys.comment("c1"))
    stale = await store.apply("c1", ARTICLE, Status.PENDING, auto(Status.REJECTED))
    assert (stale.outcome, stale.status) == ("conflict", "published")
    assert await redis.hgetall(keys.comment("c1")) == before
    assert await redis.llen(keys.history("c1")) == 1
    assert await redis.xlen(keys.audit) == 1
    assert await redis.xlen(keys.webhook_outbox) == 1
    assert await redis.zrange(keys.feed(ARTICLE), 0, -1) == ["c1"]


async def test_the_stream_entry_is_acknowledged_when_decided_or_found_decided(
    redis: aioredis.Redis, keys: Keys
) -> None:
    await pending_comment(redis, keys, "c1")
    await redis.xgroup_create(keys.comments_stream, keys.workers_group, id="0", mkstream=True)
    for _ in range(2):  # the same comment delivered twice
        await redis.xadd(keys.comments_stream, {"id": "c1", "article_id": ARTICLE})
    entries = await redis.xreadgroup(keys.workers_group, "w", {keys.comments_stream: ">"})
    [first, again] = [entry_id for entry_id, _ in entries[0][1]]
    store = DecisionStore(redis, keys)
    decided = await store.apply(
        "c1", ARTICLE, Status.PENDING, auto(Status.PUBLISHED), entry_id=first
    )
    assert decided.outcome == "ok"
    assert (await redis.xpending(keys.comments_stream, keys.workers_group))["pending"] == 1
    found = await store.apply("c1", ARTICLE, Status.PENDING, auto(Status.PUBLISHED), entry_id=again)
    assert (found.outcome, found.status) == ("conflict", "published")
    assert (await redis.xpending(keys.comments_stream, keys.workers_group))["pending"] == 0


async def test_with_webhooks_each_change_queues_its_event(
    redis: aioredis.Redis, keys: Keys
) -> None:
    await pending_comment(redis, keys, "c1")
    store = DecisionStore(redis, keys, webhooks=True)
    published = auto(Status.PUBLISHED)
    await store.apply("c1", ARTICLE, Status.PENDING, published)
    takedown = Decision(decision=Status.REJECTED, by="moderator:amina", at=utc_now())
    await store.apply("c1", ARTICLE, Status.PUBLISHED, takedown)
    events = [fields for _, fields in await redis.xrange(keys.webhook_outbox)]
    assert events == [
        {
            "type": "comment.published",
            "comment_id": "c1",
            "article_id": ARTICLE,
            "status": "published",
            "from": "pending",
            "at": published.at,
            "by": "auto",
        },
        {
            "type": "comment.taken_down",
            "comment_id": "c1",
            "article_id": ARTICLE,
            "status": "rejected",
            "from": "published",
            "at": takedown.at,
            "by": "moderator:amina",
        },
    ]
    assert await redis.zcard(keys.feed(ARTICLE)) == 0
