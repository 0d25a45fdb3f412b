"""Group commit for the intake script: many comments, one script call.

Calls that arrive while a script call is in flight go together in the next
one: one request alone goes at once (no added delay), and under load one
round trip, one command through redis-py and one script run carry many
comments. The script takes the calls one after another (each `key_count`
keys and `arg_count` arguments) and answers one reply a call; each call stays
atomic on its own. A caller that gave up before its call was sent is dropped.

The script goes by its SHA1 (EVALSHA), not its text: redis-py would pack the
text and Redis hash it on every call. When Redis answers NOSCRIPT (it
restarted, or SCRIPT FLUSH), nothing ran: the script is loaded and the call
sent again.

Each call has its own deadline, kept by the batch it goes out in rather than
by a timer a call: a caller hears `StoreUnavailable` within `deadline_s`.

With `replicas` (MODERATOR_REDIS_MIN_REPLICAS), the script call is followed on
the same connection by `WAIT replicas`: a batch whose writes fewer replicas
acknowledged before the deadline is answered `StoreUnavailable` (503), so an
answer of success means the write survives losing the primary. The writes stay
on the primary; a client that resends with its Idempotency-Key gets the first
answer, not a second comment.
"""

from __future__ import annotations

import asyncio
import contextvars
import hashlib
from typing import Any

import redis.asyncio as aioredis
from redis.exceptions import NoScriptError, RedisError

from moderator.errors import StoreUnavailable


class _Pending:
    __slots__ = ("args", "deadline", "future", "keys")

    def __init__(
        self,
        keys: tuple[str, ...],
        args: tuple[Any, ...],
        deadline: float,
        future: asyncio.Future[Any],
    ) -> None:
        self.keys = keys
        self.args = args
        self.deadline = deadline
        self.future = future


class ScriptBatcher:
    def __init__(
        self,
        redis: aioredis.Redis,
        script: str,
        key_count: int,
        arg_count: int,
        *,
        deadline_s: float,
        max_batch: int = 256,
        replicas: int = 0,
    ) -> None:
        self._redis = redis
        self._script = script
        self._sha = hashlib.sha1(script.encode(), usedforsecurity=False).hexdigest()
        self._counts = (key_count, arg_count)
        self._deadline_s = deadline_s
        self._max_batch = max_batch
        self._replicas = replicas
        self._queue: list[_Pending] = []
        self._flusher: asyncio.Task[None] | None = None

    async def call(self, keys: tuple[str, ...], args: tuple[Any, ...]) -> Any:
        """The script's reply for one call; raises `StoreUnavailable`."""
        if (len(keys), len(args)) != self._counts:
            raise ValueError(f"a call takes {self._counts} keys and arguments")
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Any] = loop.create_future()
        self._queue.append(_Pending(keys, args, loop.time() + self._deadline_s, future))
        if self._flusher is None or self._flusher.done():
            # A fresh context: the flusher serves many requests, not its first caller's.
            self._flusher = asyncio.create_task(self._flush(), context=contextvars.Context())
        return await future

    async def close(self) -> None:
        if self._flusher is not None:
            await self._flusher

    async def _flush(self) -> None:
        loop = asyncio.get_running_loop()
        while self._queue:
            now = loop.time()
            batch = []
            for pending in self._queue[: self._max_batch]:
                if pending.future.done():
                    continue  # the caller gave up: nothing is sent for it
                if pending.deadline <= now:
                    pending.future.set_exception(StoreUnavailable("TimeoutError"))
                else:
                    batch.append(pending)
            del self._queue[: self._max_batch]
            if batch:
                await self._send(batch, min(pending.deadline for pending in batch) - now)

    async def _send(self, batch: list[_Pending], timeout_s: float) -> None:
        keys = [key for pending in batch for key in pending.keys]
        args = [arg for pending in batch for arg in pending.args]
        try:
            async with asyncio.timeout(timeout_s):
                try:
                    replies = await self._run(keys, args, timeout_s)
                except NoScriptError:
                    await self._redis.script_load(self._script)
                    replies = await self._run(keys, args, timeout_s)
        except (RedisError, OSError, TimeoutError, TooFewReplicas) as exc:
            for pending in batch:
                if not pending.future.done():
                    pending.future.set_exception(StoreUnavailable(type(exc).__name__))
            return
        for pending, reply in zip(batch, replies, strict=True):
            if not pending.future.done():
                pending.future.set_result(reply)

    async def _run(self, keys: list[str], args: list[Any], timeout_s: float) -> Any:
        if not self._replicas:
            return await self._redis.evalsha(self._sha, len(keys), *keys, *args)
        async with self._redis.pipeline(transaction=False) as pipe:
            pipe.evalsha(self._sha, len(keys), *keys, *args)
            # Leave a little of the deadline for the answer to travel back.
            pipe.execute_command("WAIT", self._replicas, max(1, int(timeout_s * 800)))
            replies, acknowledged = await pipe.execute()
        if acknowledged < self._replicas:
            raise TooFewReplicas
        return replies


class TooFewReplicas(Exception):
    """WAIT timed out before MODERATOR_REDIS_MIN_REPLICAS replicas had the writes."""
