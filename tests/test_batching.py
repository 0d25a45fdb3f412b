"""Group commit for the intake script (moderator/storage/batching.py): calls that arrive
while a script call is in flight go together in the next one, each caller gets its own
reply, NOSCRIPT loads the script again, and Redis failures and deadlines surface as
`StoreUnavailable`."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
import redis.asyncio as aioredis
from aiohttp.test_utils import TestClient

from moderator.errors import StoreUnavailable
from moderator.keys import Keys
from moderator.local.redis_server import free_port
from moderator.storage.batching import ScriptBatcher
from tests.helpers import VALID

# One key and one argument a call; each call's reply: the calls in its batch, its argument.
ECHO = """
local replies = {}
for i = 1, #KEYS do replies[i] = {#KEYS, ARGV[i]} end
return replies
"""


class Sends:
    """The batches a client sent (calls in each), recorded on its EVALSHA."""

    def __init__(self, redis: aioredis.Redis, monkeypatch: pytest.MonkeyPatch) -> None:
        self.batches: list[int] = []
        self.in_flight = asyncio.Event()
        real = redis.evalsha

        async def evalsha(sha: str, numkeys: int, *keys_and_args: Any) -> Any:
            self.batches.append(numkeys)
            self.in_flight.set()
            return await real(sha, numkeys, *keys_and_args)

        monkeypatch.setattr(redis, "evalsha", evalsha)


@pytest.fixture
async def sends(redis: aioredis.Redis, monkeypatch: pytest.MonkeyPatch) -> Sends:
    """The script loaded beforehand: one EVALSHA a batch."""
    await redis.script_load(ECHO)
    return Sends(redis, monkeypatch)


def echo(redis: aioredis.Redis, **kwargs: Any) -> ScriptBatcher:
    return ScriptBatcher(redis, ECHO, 1, 1, **{"deadline_s": 5.0, **kwargs})


async def test_a_lone_call_goes_at_once_and_calls_meanwhile_share_the_next(
    redis: aioredis.Redis, keys: Keys, sends: Sends
) -> None:
    batcher = echo(redis)
    first = asyncio.create_task(batcher.call((keys.comment("0"),), ("a0",)))
    await sends.in_flight.wait()
    later = [batcher.call((keys.comment(str(n)),), (f"b{n}",)) for n in range(10)]
    assert await asyncio.gather(first, *later) == [
        [1, "a0"],
        *([10, f"b{n}"] for n in range(10)),
    ]
    assert sends.batches == [1, 10]
    await batcher.close()


async def test_a_batch_carries_at_most_max_batch_calls(
    redis: aioredis.Redis, keys: Keys, sends: Sends
) -> None:
    batcher = echo(redis, max_batch=4)
    replies = await asyncio.gather(
        *(batcher.call((keys.comment(str(n)),), (str(n),)) for n in range(10))
    )
    assert [arg for _, arg in replies] == [str(n) for n in range(10)]
    assert sends.batches == [4, 4, 2]


async def test_a_caller_that_gave_up_is_not_sent(
    redis: aioredis.Redis, keys: Keys, sends: Sends
) -> None:
    batcher = echo(redis)
    first = asyncio.create_task(batcher.call((keys.comment("0"),), ("first",)))
    await sends.in_flight.wait()
    gone = asyncio.create_task(batcher.call((keys.comment("1"),), ("gone",)))
    kept = asyncio.create_task(batcher.call((keys.comment("2"),), ("kept",)))
    await asyncio.sleep(0)  # both are queued behind the call in flight
    gone.cancel()
    assert await first == [1, "first"]
    assert await kept == [1, "kept"]
    assert sends.batches == [1, 1]
    assert gone.cancelled()


async def test_noscript_loads_the_script_and_sends_the_call_again(
    redis: aioredis.Redis, keys: Keys, sends: Sends
) -> None:
    batcher = echo(redis)
    assert await batcher.call((keys.comment("0"),), ("before",)) == [1, "before"]
    await redis.script_flush()  # what a Redis restart does to scripts
    assert await batcher.call((keys.comment("0"),), ("after",)) == [1, "after"]
    assert sends.batches == [1, 1, 1]  # the second: NOSCRIPT, then the same batch again


async def test_a_call_of_the_wrong_shape_is_refused(redis: aioredis.Redis, keys: Keys) -> None:
    batcher = echo(redis)
    with pytest.raises(ValueError, match="keys and arguments"):
        await batcher.call((keys.comment("0"), keys.comment("1")), ("x",))
    with pytest.raises(ValueError, match="keys and arguments"):
        await batcher.call((keys.comment("0"),), ())


async def test_a_call_past_its_deadline_is_not_sent(
    redis: aioredis.Redis, keys: Keys, sends: Sends
) -> None:
    batcher = echo(redis, deadline_s=0)
    with pytest.raises(StoreUnavailable, match="TimeoutError"):
        await batcher.call((keys.comment("0"),), ("late",))
    assert sends.batches == []


async def test_redis_unreachable_is_store_unavailable_for_every_caller(keys: Keys) -> None:
    unreachable = aioredis.Redis(port=free_port(), socket_connect_timeout=1)
    try:
        batcher = echo(unreachable)
        outcomes = await asyncio.gather(
            *(batcher.call((keys.comment(str(n)),), (str(n),)) for n in range(3)),
            return_exceptions=True,
        )
    finally:
        await unreachable.aclose()
    assert [type(outcome) for outcome in outcomes] == [StoreUnavailable] * 3


# --- through intake: the submit script of moderator/storage/comments.py -----------------


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
