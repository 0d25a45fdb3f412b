"""How the webhook outbox stands, for `moderator stats`, the moderation API and /metrics."""

from __future__ import annotations

import redis.asyncio as aioredis

from moderator.keys import Keys


async def webhook_stats(redis: aioredis.Redis, keys: Keys) -> dict[str, int]:
    """Events not yet delivered, those waiting for a retry, and those given up on."""
    async with redis.pipeline(transaction=False) as pipe:
        pipe.xlen(keys.webhook_outbox)
        pipe.zcard(keys.webhook_retries)
        pipe.xlen(keys.webhook_failed)
        pending, retrying, failed = await pipe.execute()
    return {"outbox_pending": int(pending), "retrying": int(retrying), "failed": int(failed)}
