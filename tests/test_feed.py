"""GET /v1/articles/{article_id}/comments: published comments, oldest first, paged.

The decision compare-and-set behind the feed: tests/test_decisions.py."""

from __future__ import annotations

import redis.asyncio as aioredis
from aiohttp.test_utils import TestClient

from moderator.domain import Status, utc_now
from moderator.keys import Keys
from moderator.storage.decisions import Decision, DecisionStore, Reason
from tests.helpers import auto, submit


async def test_feed_pages_oldest_first_with_a_cursor(
    client: TestClient, redis: aioredis.Redis, keys: Keys
) -> None:
    store = DecisionStore(redis, keys)
    ids = [await submit(client, body=f"Commentaire {i}") for i in range(5)]
    for comment_id in ids:
        applied = await store.apply(
            comment_id, "politique-123", Status.PENDING, auto(Status.PUBLISHED)
        )
        assert applied.outcome == "ok"
    first = await (await client.get("/v1/articles/politique-123/comments?limit=2")).json()
    assert [i["id"] for i in first["items"]] == ids[:2]
    assert first["next_cursor"] == ids[1]
    second = await (
        await client.get(
            f"/v1/articles/politique-123/comments?limit=2&cursor={first['next_cursor']}"
        )
    ).json()
    assert [i["id"] for i in second["items"]] == ids[2:4]
    last = await (
        await client.get(
            f"/v1/articles/politique-123/comments?limit=2&cursor={second['next_cursor']}"
        )
    ).json()
    assert [i["id"] for i in last["items"]] == ids[4:]
    assert last["next_cursor"] is None
    assert first["items"][0]["published_at"] is not None
    assert first["items"][0]["parent_id"] is None


async def test_a_late_approval_takes_its_original_place(
    client: TestClient, redis: aioredis.Redis, keys: Keys
) -> None:
    store = DecisionStore(redis, keys)
    older, newer = await submit(client), await submit(client)
    await store.apply(older, "politique-123", Status.PENDING, auto(Status.HELD, Reason("x")))
    await store.apply(newer, "politique-123", Status.PENDING, auto(Status.PUBLISHED))
    human = Decision(
        decision=Status.PUBLISHED, by="moderator:amina", at=utc_now(), action="approve"
    )
    assert (await store.apply(older, "politique-123", Status.HELD, human)).outcome == "ok"
    feed = await (await client.get("/v1/articles/politique-123/comments")).json()
    assert [i["id"] for i in feed["items"]] == [older, newer]
    assert len(await store.history(older)) == 2
    assert await redis.zcard(keys.queue(Status.HELD)) == 0


async def test_feed_parameters_are_checked(client: TestClient) -> None:
    for query in ("limit=0", "limit=101", "limit=abc", "cursor=nope"):
        response = await client.get(f"/v1/articles/politique-123/comments?{query}")
        assert response.status == 400
        assert response.content_type == "application/problem+json"
    empty = await (await client.get("/v1/articles/nothing-here/comments")).json()
    assert empty == {"items": [], "next_cursor": None}
    bad = await client.get("/v1/articles/a%20b/comments")
    assert bad.status == 400
