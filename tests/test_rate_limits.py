"""Rate limits per IP, e-mail hash and article, kept in Redis so they hold across processes."""

from __future__ import annotations

from dataclasses import replace

import redis.asyncio as aioredis
from aiohttp.test_utils import TestClient

from moderator.keys import Keys
from moderator.settings import Settings
from moderator.web.app import create_app
from tests.helpers import VALID


async def test_limits_per_email_ip_and_article_answer_429(
    aiohttp_client,
    settings: Settings,
    redis: aioredis.Redis,
    keys: Keys,  # type: ignore[no-untyped-def]
) -> None:
    limited = replace(settings, rate_limit_email=2, rate_limit_ip=2, rate_limit_article=5)
    # Two service processes: the limits are in Redis, so they add up across both.
    first: TestClient = await aiohttp_client(create_app(limited))
    second: TestClient = await aiohttp_client(create_app(limited))
    statuses = [
        (
            await (first if i % 2 else second).post(
                "/v1/comments", json={**VALID, "body": f"Commentaire {i}"}
            )
        ).status
        for i in range(3)
    ]
    assert statuses == [202, 202, 429]
    refused = await first.post("/v1/comments", json=VALID, headers={"Accept-Language": "fr"})
    assert refused.status == 429
    assert refused.content_type == "application/problem+json"
    assert 1 <= int(refused.headers["Retry-After"]) <= 120
    assert (await refused.json())["title"].startswith("Trop de commentaires")
    # Other addresses from one IP: the IP limit (2) applies.
    for email, expected in (("b@example.ma", 202), ("c@example.ma", 202), ("d@example.ma", 429)):
        payload = {**VALID, "email": email, "ip": "196.200.131.7"}
        assert (await first.post("/v1/comments", json=payload)).status == expected
    # Refused comments were not stored or queued.
    assert await redis.xlen(keys.comments_stream) == 4
    # The IP is never in a key name in clear.
    names = [key async for key in redis.scan_iter(f"{keys.prefix}:rate:*")]
    assert names and not any("196.200.131.7" in name for name in names)


async def test_idempotent_replays_do_not_count(
    aiohttp_client,
    settings: Settings,
    redis: aioredis.Redis,  # type: ignore[no-untyped-def]
) -> None:
    client: TestClient = await aiohttp_client(create_app(replace(settings, rate_limit_email=1)))
    for _ in range(3):
        response = await client.post(
            "/v1/comments", json=VALID, headers={"Idempotency-Key": "same"}
        )
        assert response.status == 202
