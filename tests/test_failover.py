"""Redis failover under load: the primary is killed while readers post comments.

A primary, one replica (then two) and three Sentinels (tests/sentinels.py); the
real app and a worker reach Redis through the Sentinels, and the service answers
202 only once a replica has the comment (MODERATOR_REDIS_MIN_REPLICAS=1). Eight
readers post without pause; the primary gets SIGKILL; the Sentinels promote a
replica; the old primary comes back as a supervisor would restart it, and the
Sentinels make it a replica. With one replica, comments are refused until then:
no replica is left to hold them. With two, the other replica holds them at once.
Shown: every comment answered 202 is there afterwards and
decided once, every other answer was a 503 with Retry-After, and the service and
the worker carried on without a restart. The figures (the README's Guarantees
table) are printed: `pytest tests/test_failover.py -s`.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, replace
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient
from structlog.testing import capture_logs

from moderator.domain import Status
from moderator.errors import SettingsError
from moderator.keys import Keys
from moderator.settings import Sentinels, Settings
from moderator.storage.connection import connect
from moderator.web.app import create_app
from tests.fakes import FakeToxicity
from tests.helpers import VALID
from tests.sentinels import SentinelSet
from workers.consumer import Worker

READERS = 8
KILL_AFTER_S = 2.0
SETTLE_S = 2.0  # posting goes on this long once comments are accepted again


@dataclass(frozen=True, slots=True)
class Answer:
    sent: float
    received: float
    status: int
    retry_after: str | None
    comment_id: str | None


@pytest.fixture(params=[1, 2], ids=["1-replica", "2-replicas"])
def cluster(request: pytest.FixtureRequest, tmp_path: Path) -> SentinelSet:
    cluster = SentinelSet(tmp_path, replicas=request.param)
    cluster.start()
    yield cluster  # type: ignore[misc]
    cluster.close()


async def test_primary_killed_under_load_loses_no_accepted_comment(
    aiohttp_client,  # type: ignore[no-untyped-def]
    settings: Settings,
    cluster: SentinelSet,
) -> None:
    settings = replace(
        settings,
        # With Sentinels the URL gives only the database (and a password, TLS).
        redis_url="redis://127.0.0.1:1/0",
        redis_sentinels=cluster.sentinels,
        redis_min_replicas=1,
        reclaim_idle_ms=1000,
        redis_timeout_s=0.5,  # the default: what a failover costs in production
    )
    loop = asyncio.get_running_loop()
    client: TestClient = await aiohttp_client(create_app(settings))
    worker_redis = connect(settings, timeout_s=settings.worker_block_ms / 1000 + 5)
    worker = Worker(worker_redis, settings, toxicity=FakeToxicity(), name="failover-worker")
    working = asyncio.create_task(worker.run())
    answers: list[Answer] = []
    stop = asyncio.Event()

    async def reader(n: int) -> None:
        sent = 0
        while not stop.is_set():
            sent += 1
            started = loop.time()
            response = await client.post(
                "/v1/comments",
                json={
                    **VALID,
                    "email": f"reader{n}.{sent}@example.ma",
                    "body": f"Commentaire {n}-{sent} : merci pour cet article.",
                },
            )
            body = await response.json()
            answers.append(
                Answer(
                    started,
                    loop.time(),
                    response.status,
                    response.headers.get("Retry-After"),
                    body.get("id") if response.status == 202 else None,
                )
            )
            if response.status != 202:
                await asyncio.sleep(0.05)  # a real client waits Retry-After; we measure

    readers = [asyncio.create_task(reader(n)) for n in range(READERS)]
    try:
        await asyncio.sleep(KILL_AFTER_S)
        old_port = cluster.primary.port
        killed_at = loop.time()
        cluster.primary.stop(kill=True)
        promoted_at = await _promotion(cluster, old_port)
        # A supervisor restarts the dead server; the Sentinels turn it into a replica.
        await asyncio.to_thread(cluster.primary.start)
        back_at = await _accepting_again(answers, after=killed_at, timeout_s=60)
        await asyncio.sleep(SETTLE_S)
    finally:
        stop.set()
        await asyncio.gather(*readers)

    accepted = [a.comment_id for a in answers if a.status == 202 and a.comment_id]
    refused = [a for a in answers if a.status != 202]
    assert accepted and refused
    assert {a.status for a in refused} == {503}, "during failover, only 503"
    assert all(a.retry_after for a in refused), "every 503 says when to try again"
    assert max(a.received - a.sent for a in answers) < 3.0, "no request hung"

    keys = Keys(settings.key_prefix)
    check = connect(settings, timeout_s=5)
    try:
        await _all_decided(check, keys, accepted, timeout_s=90)
        for comment_id in accepted:
            assert await check.llen(keys.history(comment_id)) == 1, f"{comment_id} decided once"
        assert (await client.get("/readyz")).status == 200, "the service carried on"
    finally:
        worker.stop()
        await working
        await check.aclose()
        await worker_redis.aclose()

    longest = _longest_refusal(answers)
    print(
        f"\nfailover under load, primary + {cluster.replica_count} replica(s), "
        f"MODERATOR_REDIS_MIN_REPLICAS=1: {len(answers)} requests from {READERS} readers, "
        f"{len(accepted)} accepted (202), lost 0, decided once each; "
        f"{len(refused)} answered 503 with Retry-After; primary killed, replica promoted "
        f"after {promoted_at - killed_at:.1f} s, comments accepted again after "
        f"{back_at - killed_at:.1f} s; longest 503 period {longest:.1f} s"
    )


async def _promotion(cluster: SentinelSet, old_port: int, timeout_s: float = 30) -> float:
    """When the Sentinels named another primary."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    while await asyncio.to_thread(cluster.master_port) == old_port:
        assert loop.time() < deadline, "the Sentinels did not promote the replica"
        await asyncio.sleep(0.1)
    return loop.time()


async def _accepting_again(answers: list[Answer], *, after: float, timeout_s: float) -> float:
    """When a comment sent after `after` was first answered 202."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    while True:
        accepted = [a.received for a in answers if a.status == 202 and a.sent > after]
        if accepted:
            return min(accepted)
        assert loop.time() < deadline, "comments were not accepted again"
        await asyncio.sleep(0.05)


async def _all_decided(redis, keys: Keys, ids: list[str], timeout_s: float) -> None:  # type: ignore[no-untyped-def]
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    for comment_id in ids:
        while True:
            status = await redis.hget(keys.comment(comment_id), "status")
            assert status is not None, f"{comment_id} was answered 202 and is gone"
            if status != Status.PENDING:
                break
            assert loop.time() < deadline, f"{comment_id} was never decided"
            await asyncio.sleep(0.1)


def _longest_refusal(answers: list[Answer]) -> float:
    """The longest time from a refused request's sending to the next accepted answer."""
    longest, first_refused = 0.0, None
    for answer in sorted(answers, key=lambda a: a.received):
        if answer.status != 202:
            first_refused = answer.sent if first_refused is None else first_refused
        elif first_refused is not None:
            longest = max(longest, answer.received - first_refused)
            first_refused = None
    return longest


def test_sentinels_setting_names_the_primary_and_the_sentinels() -> None:
    settings = Settings.from_env(
        {"MODERATOR_REDIS_SENTINELS": "moderator@10.0.0.1:26380, 10.0.0.2 ,[::1]:26381"}
    )
    assert settings.redis_sentinels == Sentinels(
        "moderator", (("10.0.0.1", 26380), ("10.0.0.2", 26379), ("::1", 26381))
    )
    assert settings.public_view()["redis_sentinels"] == (
        "moderator@10.0.0.1:26380,10.0.0.2:26379,::1:26381"
    )


@pytest.mark.parametrize(
    "raw",
    ["10.0.0.1:26379", "moderator@", "moderator@host:port", "moderator@host:70000"],
)
def test_a_bad_sentinels_setting_stops_the_start_naming_it(raw: str) -> None:
    with pytest.raises(SettingsError, match="MODERATOR_REDIS_SENTINELS"):
        Settings.from_env({"MODERATOR_REDIS_SENTINELS": raw})


async def test_with_no_replica_to_confirm_it_a_comment_is_refused_not_accepted(
    aiohttp_client,  # type: ignore[no-untyped-def]
    settings: Settings,
) -> None:
    """The session's Redis has no replica: WAIT never reaches 1, so no 202."""
    settings = replace(settings, redis_min_replicas=1, redis_timeout_s=0.5)
    client: TestClient = await aiohttp_client(create_app(settings))
    loop = asyncio.get_running_loop()
    started = loop.time()
    response = await client.post("/v1/comments", json=VALID)
    assert response.status == 503
    assert response.headers["Retry-After"] == str(settings.retry_after_s)
    assert loop.time() - started < 2.0
    # Without the setting, the same Redis accepts it.
    plain: TestClient = await aiohttp_client(create_app(replace(settings, redis_min_replicas=0)))
    assert (await plain.post("/v1/comments", json=VALID)).status == 202


async def test_a_worker_facing_a_demoted_primary_backs_off_instead_of_crashing(
    settings: Settings, tmp_path: Path, redis_url: str
) -> None:
    """Without Sentinels, a worker whose Redis became a replica meets READONLY on every
    write: it used to raise out of its loop; now it waits and tries again."""
    from urllib.parse import urlsplit

    from moderator.local.redis_server import PrivateRedis

    primary_port = str(urlsplit(redis_url).port)
    replica = PrivateRedis(tmp_path, extra_args=("--replicaof", "127.0.0.1", primary_port))
    replica.start()
    client = connect(replace(settings, redis_url=replica.url))
    worker = Worker(client, settings, toxicity=FakeToxicity(), name="demoted")
    try:
        with capture_logs() as logs:
            working = asyncio.create_task(worker.run())
            await asyncio.sleep(1.0)
            assert not working.done(), "the worker left its loop"
            worker.stop()
            await asyncio.wait_for(working, timeout=10)
        waits = [e for e in logs if e["event"] == "redis_unavailable"]
        assert waits and "ReadOnlyError" in waits[0]["error"]
    finally:
        await client.aclose()
        replica.close()
