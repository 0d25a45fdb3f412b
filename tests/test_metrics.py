"""GET /metrics (moderator/web/metrics.py): the service's own counters and what the
workers record in Redis, in Prometheus text; no series minted from client input."""

from __future__ import annotations

import redis.asyncio as aioredis
from aiohttp.test_utils import TestClient

from moderator.settings import Settings
from tests.helpers import decided_comments


async def test_metrics_show_the_service_and_the_workers(
    client: TestClient, redis: aioredis.Redis, settings: Settings
) -> None:
    await decided_comments(client, redis, settings)
    await client.post("/v1/comments", json={})  # refused
    response = await client.get("/metrics")
    assert response.status == 200
    assert response.headers["Content-Type"].startswith("text/plain; version=0.0.4")
    text = await response.text()
    expected = [
        'moderator_comments_received_total{outcome="accepted"} 3.0',
        'moderator_comments_received_total{outcome="refused"} 1.0',
        'moderator_http_requests_total{method="POST",route="/v1/comments",status="202"} 3.0',
        'moderator_comments{state="held"} 2.0',
        'moderator_comments{state="published"} 1.0',
        "moderator_stream_lag 0.0",
        "moderator_dead_letters 0.0",
        'moderator_decisions_total{decision="held",reason="toxicity.insult"} 1.0',
        'moderator_decisions_total{decision="published",reason="none"} 1.0',
        "moderator_scoring_batch_seconds_count 1.0",
        "moderator_scoring_comment_seconds_count 3.0",
        "moderator_oldest_held_age_seconds",
        "moderator_workers_alive 0.0",
        "moderator_http_request_duration_seconds_bucket",
    ]
    for line in expected:
        assert line in text, line


async def test_a_made_up_method_does_not_mint_a_metrics_series(client: TestClient) -> None:
    for method in ("PROPFIND", "MKCOL", "LOCK"):
        assert (await client.request(method, "/v1/comments")).status == 405
    text = await (await client.get("/metrics")).text()
    assert 'method="PROPFIND"' not in text and 'method="LOCK"' not in text
    assert (
        'moderator_http_requests_total{method="other",route="unmatched",status="405"} 3.0' in text
    )
