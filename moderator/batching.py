"""Group commit for the intake script: many comments, one Redis round trip.

Calls that arrive while a pipeline is in flight go together in the next one:
one request alone goes at once (no added delay), and under load one round
trip and one pass through redis-py carry many comments. Each script call stays
atomic on its own; a caller that gave up before its call was sent is dropped.
"""

from __future__ import annotations

import asyncio
import contextvars
from typing import Any

import redis.asyncio as aioredis
from redis.exceptions import RedisError

from moderator.errors import StoreUnavailable

Call = tuple[tuple[str, ...], tuple[Any, ...]]


class ScriptBatcher:
    def __init__(
        self, redis: aioredis.Redis, script: str, *, deadline_s: float, max_batch: int = 256
    ) -> None:
        self._redis = redis
        self._script = script
        self._deadline_s = deadline_s
        self._max_batch = max_batch
        self._queue: list[tuple[Call, asyncio.Future[Any]]] = []
        self._flusher: asyncio.Task[None] | None = None

    async def call(self, keys: tuple[str, ...], args: tuple[Any, ...]) -> Any:
        """Run the script with `keys` and `args`; raises `StoreUnavailable`."""
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._queue.append(((keys, args), future))
        if self._flusher is None or self._flusher.done():
            # A fresh context: the flusher serves many requests, not its first caller's.
            self._flusher = asyncio.create_task(self._flush(), context=contextvars.Context())
        return await future

    async def close(self) -> None:
        if self._flusher is not None:
            await self._flusher

    async def _flush(self) -> None:
        while self._queue:
            batch = [item for item in self._queue[: self._max_batch] if not item[1].done()]
            del self._queue[: self._max_batch]
            if batch:
                await self._send(batch)

    async def _send(self, batch: list[tuple[Call, asyncio.Future[Any]]]) -> None:
        try:
            async with asyncio.timeout(self._deadline_s):
                async with self._redis.pipeline(transaction=False) as pipe:
                    for (keys, args), _ in batch:
                        pipe.eval(self._script, len(keys), *keys, *args)
                    results = await pipe.execute(raise_on_error=False)
        except (RedisError, OSError, TimeoutError) as exc:
            results = [exc] * len(batch)
        for (_, future), result in zip(batch, results, strict=True):
            if future.done():
                continue
            if isinstance(result, BaseException):
                future.set_exception(StoreUnavailable(type(result).__name__))
            else:
                future.set_result(result)
