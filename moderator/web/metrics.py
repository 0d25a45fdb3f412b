"""GET /metrics: Prometheus text, with prometheus-client.

The service's own counters (HTTP requests, comments received) live in a
registry per app. Queue depths, lag, held comments, dead letters, live
workers and webhook deliveries are read from Redis at scrape time, and so
are the workers' counters (decisions, scoring time), which workers add to
in Redis: scraping any one service process shows the whole system.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, cast

import redis.asyncio as aioredis
from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.registry import Collector

from moderator.domain import Status
from moderator.keys import Keys
from moderator.operations import fleet as ops
from moderator.operations.stats import collect

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
HTTP_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "moderator_http_requests",
            "HTTP requests by route and status",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "moderator_http_request_duration_seconds",
            "HTTP request duration by route",
            ["route"],
            registry=self.registry,
        )
        self.received = Counter(
            "moderator_comments_received",
            "Comments posted to intake, by outcome",
            ["outcome"],
            registry=self.registry,
        )
        self.snapshot = _Snapshot()
        self.registry.register(self.snapshot)
        # Label children by (method, route, status): looked up once, not per request.
        self._children: dict[tuple[str, str, int], tuple[Any, Any, Any]] = {}

    def observe_request(self, method: str, route: str, status: int, seconds: float) -> None:
        # The method is the client's: an unknown one must not mint a new series each time.
        method = method if method in HTTP_METHODS else "other"
        children = self._children.get((method, route, status))
        if children is None:
            received = None
            if route == "/v1/comments" and method == "POST":
                received = self.received.labels(_intake_outcome(status))
            children = (
                self.requests.labels(method, route, str(status)),
                self.latency.labels(route),
                received,
            )
            self._children[method, route, status] = children
        requests, latency, received = children
        requests.inc()
        latency.observe(seconds)
        if received is not None:
            received.inc()

    async def render(self, redis: aioredis.Redis, keys: Keys) -> bytes:
        await self.snapshot.refresh(redis, keys)
        return generate_latest(self.registry)


def _intake_outcome(status: int) -> str:
    if status in (202, 303):
        return "accepted"
    if status == 503:
        return "unavailable"
    if status == 429:
        return "rate_limited"
    return "refused"


class _Snapshot(Collector):
    """Values read from Redis just before each scrape."""

    def __init__(self) -> None:
        self._families: list[Metric] = []

    def collect(self) -> Iterator[Metric]:
        yield from self._families

    async def refresh(self, redis: aioredis.Redis, keys: Keys) -> None:
        stats = await collect(redis, keys, window_s=None)
        families: list[Metric] = []
        queued = GaugeMetricFamily("moderator_comments", "Comments by state", labels=["state"])
        for state in (Status.HELD, Status.REJECTED, Status.PUBLISHED):
            queued.add_metric([state.value], stats.queues.get(state.value, 0))
        families.append(queued)
        families.append(
            _gauge(
                "moderator_stream_lag",
                "Queued comments no worker has read yet",
                stats.queues.get("pending", 0),
            )
        )
        families.append(
            _gauge(
                "moderator_stream_unacknowledged",
                "Comments read by a worker and not yet acknowledged",
                stats.queues.get("unacknowledged", 0),
            )
        )
        families.append(
            _gauge(
                "moderator_oldest_held_age_seconds",
                "Age of the oldest held comment",
                stats.oldest_held_age_s or 0,
            )
        )
        families.append(
            _gauge(
                "moderator_dead_letters", "Entries in the dead-letter stream", stats.dead_letters
            )
        )
        families.append(
            _gauge(
                "moderator_workers_alive",
                "Workers with a live heartbeat",
                len(stats.workers_alive),
            )
        )
        families.extend(await _worker_counters(redis, keys))
        families.append(_webhook_gauge(stats.webhooks))
        self._families = families


def _gauge(name: str, documentation: str, value: float) -> GaugeMetricFamily:
    return GaugeMetricFamily(name, documentation, value=value)


async def _worker_counters(redis: aioredis.Redis, keys: Keys) -> list[Metric]:
    decided = CounterMetricFamily(
        "moderator_decisions", "Automatic decisions by reason", labels=["decision", "reason"]
    )
    counts = cast(dict[str, str], await redis.hgetall(keys.metrics("decisions")))
    for label, value in sorted(counts.items()):
        decision, _, reason = label.partition("|")
        decided.add_metric([decision, reason], float(value))
    families: list[Metric] = [decided]
    for name in ("batch", "comment"):
        raw = cast(dict[str, str], await redis.hgetall(keys.metrics(f"scoring_{name}")))
        buckets = [(str(b), float(raw.get(str(b), 0))) for b in ops.SCORING_BUCKETS]
        count = float(raw.get("count", 0))
        family = HistogramMetricFamily(
            f"moderator_scoring_{name}_seconds",
            f"Scoring time per {name}",
            buckets=[*buckets, ("+Inf", count)],
            sum_value=float(raw.get("sum", 0)),
        )
        families.append(family)
    return families


def _webhook_gauge(stats: dict[str, int]) -> Metric:
    family = GaugeMetricFamily(
        "moderator_webhook_events", "Webhook events by state", labels=["state"]
    )
    for state, value in sorted(stats.items()):
        family.add_metric([state], value)
    return family
