"""The store's Redis client: the intake script by its SHA1, and commands packed in C."""

from __future__ import annotations

import asyncio
import json

import pytest
import redis.asyncio as aioredis
from aiohttp.test_utils import TestClient
from redis.exceptions import DataError

from moderator.keys import Keys
from moderator.settings import Settings
from moderator.storage.comments import connect
from tests.conftest import VALID


async def test_flushed_scripts_are_loaded_again(
    client: TestClient, redis: aioredis.Redis, keys: Keys
) -> None:
    first = await client.post("/v1/comments", json=VALID)
    assert first.status == 202
    # What a Redis restart does to scripts: the next EVALSHA answers NOSCRIPT.
    await redis.script_flush()
    replies = await asyncio.gather(
        *(
            client.post("/v1/comments", json={**VALID, "body": f"Commentaire {n}"})
            for n in range(20)
        )
    )
    assert [reply.status for reply in replies] == [202] * 20
    ids = {(await reply.json())["id"] for reply in [first, *replies]}
    queued = {fields["id"] for _, fields in await redis.xrange(keys.comments_stream)}
    assert queued == ids
    for comment_id in ids:
        assert await redis.hget(keys.comment(comment_id), "status") == "pending"


async def test_concurrent_comments_share_round_trips_and_all_land(
    client: TestClient, redis: aioredis.Redis, keys: Keys
) -> None:
    bodies = [f"Commentaire numéro {n} — مرحبا" for n in range(300)]
    replies = await asyncio.gather(
        *(client.post("/v1/comments", json={**VALID, "body": body}) for body in bodies)
    )
    assert {reply.status for reply in replies} == {202}
    ids = [(await reply.json())["id"] for reply in replies]
    assert len(set(ids)) == 300
    stored = {comment_id: await redis.hget(keys.comment(comment_id), "body") for comment_id in ids}
    assert sorted(stored.values()) == sorted(bodies)
    assert await redis.xlen(keys.comments_stream) == 300


async def test_commands_packed_in_c_round_trip(settings: Settings) -> None:
    client = connect(settings)
    key = f"{settings.key_prefix}:packing"
    try:
        await client.hset(key, mapping={"text": "تعليق é\r\n", "count": 7})
        await client.hset(key, "raw", b"\x00\xff bytes")
        assert await client.hget(key, "text") == "تعليق é\r\n"
        assert await client.hincrby(key, "count", 1) == 8
        assert await client.hincrbyfloat(key, "ratio", 0.1) == pytest.approx(0.1)
        assert await client.hstrlen(key, "raw") == 8
        # A multi-word command name and arguments hiredis cannot take go redis-py's way.
        assert "maxmemory" in await client.config_get("maxmemory")
        assert await client.execute_command("ECHO", json.dumps({"a": 1})) == '{"a": 1}'
        with pytest.raises(DataError):
            await client.hset(key, "flag", True)  # type: ignore[arg-type]
    finally:
        await client.delete(key)
        await client.aclose()
