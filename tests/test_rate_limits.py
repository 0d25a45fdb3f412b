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
    # The counters last as long as their one-minute window: Retry-After is what is left.
    assert 1 <= int(refused.headers["Retry-After"]) <= 60
    assert (await refused.json())["title"].startswith("Trop de commentaires")
    # Refused comments were not stored or queued.
    assert await redis.xlen(keys.comments_stream) == 2


async def test_open_intake_limits_the_connection_not_the_ip_field(
    aiohttp_client,
    settings: Settings,
    redis: aioredis.Redis,
    keys: Keys,  # type: ignore[no-untyped-def]
) -> None:
    """Without site keys anyone may post: the `ip` a client writes proves nothing, and
    without one every post passed. The connection's address is what counts."""
    client: TestClient = await aiohttp_client(create_app(replace(settings, rate_limit_ip=2)))
    statuses = [
        (
            await client.post(
                "/v1/comments",
                json={**VALID, "email": f"r{n}@example.ma", "ip": f"196.200.131.{n}"},
            )
        ).status
        for n in range(3)
    ]
    assert statuses == [202, 202, 429]
    names = [key async for key in redis.scan_iter(f"{keys.prefix}:rate:ip:*")]
    assert names and not any("127.0.0.1" in name for name in names)  # keyed hashes only


async def test_a_trusted_proxy_header_names_the_reader(
    aiohttp_client,
    settings: Settings,  # type: ignore[no-untyped-def]
) -> None:
    behind = replace(settings, rate_limit_ip=2, trusted_proxy_header="X-Forwarded-For")
    client: TestClient = await aiohttp_client(create_app(behind))

    async def post(n: int, forwarded: str) -> int:
        payload = {**VALID, "email": f"p{n}@example.ma"}
        headers = {"X-Forwarded-For": forwarded}
        return (await client.post("/v1/comments", json=payload, headers=headers)).status

    # The proxy appends the address it saw: the last one counts, not what the client wrote.
    assert [await post(n, f"10.0.0.{n}, 203.0.113.9") for n in range(3)] == [202, 202, 429]
    assert await post(9, "203.0.113.10") == 202


async def test_a_site_vouches_for_the_ip_and_ipv6_counts_by_64(
    aiohttp_client,
    settings: Settings,  # type: ignore[no-untyped-def]
) -> None:
    site = replace(settings, rate_limit_ip=2, rate_limit_article=5, site_keys=("site-key-1",))
    client: TestClient = await aiohttp_client(create_app(site))

    async def post(n: int, ip: str | None) -> int:
        payload = {**VALID, "email": f"s{n}@example.ma", **({"ip": ip} if ip else {})}
        headers = {"X-Site-Key": "site-key-1"}
        return (await client.post("/v1/comments", json=payload, headers=headers)).status

    # One subscriber's /64 rotating through its addresses is one source.
    assert [await post(n, f"2001:db8:0:1::{n}") for n in range(1, 4)] == [202, 202, 429]
    # So one source cannot use up the article's allowance (5): another reader gets in.
    assert await post(10, "2001:db8:0:2::1") == 202
    assert await post(11, "196.200.131.7") == 202
    # The site itself, posting without an ip, is not limited as one reader.
    assert [await post(20 + n, None) for n in range(1)] == [202]


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
