"""The worker in-process: intake → stream → worker → feed or queue, with a fake toxicity
scorer (the policy is what is under test here; the real model is tested elsewhere)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import pytest
import redis.asyncio as aioredis
from aiohttp.test_utils import TestClient

from moderator.domain import Status
from moderator.keys import Keys
from moderator.settings import Settings
from tests.fakes import FakeToxicity
from tests.helpers import codes, decision_of, submit
from workers.consumer import Worker


@pytest.fixture
def worker_settings(settings: Settings) -> Settings:
    return replace(settings, reclaim_idle_ms=100, max_deliveries=2, worker_batch_size=8)


@pytest.fixture
def make_worker(redis: aioredis.Redis, worker_settings: Settings) -> Callable[..., Worker]:
    def make(name: str = "w1", **kwargs: Any) -> Worker:
        kwargs.setdefault("toxicity", FakeToxicity())
        return Worker(redis, worker_settings, name=name, **kwargs)

    return make


async def test_clean_french_comment_is_published_in_its_feed(
    client: TestClient, redis: aioredis.Redis, keys: Keys, make_worker: Callable[..., Worker]
) -> None:
    comment_id = await submit(
        client, body="Très bon article sur la réforme, merci pour ce travail."
    )
    worker = make_worker()
    await worker.setup()
    assert await worker.drain() == 1
    decision = await decision_of(redis, keys, comment_id)
    assert decision["decision"] == "published"
    assert decision["by"] == "auto"
    assert decision["reasons"] == []
    assert decision["language"] == {"code": "fr", "script": "latin", "read_by_model": True}
    assert decision["model"] == {"name": "detoxify/fake", "checkpoint_sha256": "0" * 64}
    assert len(decision["policy"]) == 64
    assert set(decision["scores"]) == {"toxicity", "toxicity_path", "spam", "site_model"}
    assert decision["scores"]["toxicity_path"] == "scored"
    feed = await (await client.get("/v1/articles/politique-123/comments")).json()
    assert [item["id"] for item in feed["items"]] == [comment_id]
    item = feed["items"][0]
    assert set(item) == {
        "id",
        "article_id",
        "parent_id",
        "name",
        "body",
        "created_at",
        "published_at",
    }
    assert "amina@example.ma" not in json.dumps(feed)
    status = await (await client.get(f"/v1/comments/{comment_id}")).json()
    assert status["status"] == "published"
    assert status["decided_at"] is not None
    assert await redis.xpending(keys.comments_stream, keys.workers_group) == {
        "pending": 0,
        "min": None,
        "max": None,
        "consumers": [],
    }


async def test_insult_is_held_with_score_and_threshold(
    client: TestClient, redis: aioredis.Redis, keys: Keys, make_worker: Callable[..., Worker]
) -> None:
    comment_id = await submit(client, body="You are an idiot and this article is garbage.")
    worker = make_worker()
    await worker.setup()
    await worker.drain()
    decision = await decision_of(redis, keys, comment_id)
    assert decision["decision"] == "held"
    assert {"code": "toxicity.insult", "score": 0.93, "threshold": 0.6} in decision["reasons"]
    assert {"code": "toxicity.toxicity", "score": 0.93, "threshold": 0.8} in decision["reasons"]
    assert await redis.zrange(keys.queue(Status.HELD), 0, -1) == [comment_id]
    assert await redis.zcard(keys.feed("politique-123")) == 0


async def test_banned_word_rejects_and_suspect_word_holds(
    client: TestClient, redis: aioredis.Redis, keys: Keys, make_worker: Callable[..., Worker]
) -> None:
    worker = make_worker()
    await worker.setup()
    await redis.sadd(keys.wordlist("banned"), "zorglub")
    await redis.sadd(keys.wordlist("suspect"), "bidule")
    banned = await submit(client, body="Quel z0rglub ce ministre.")
    suspect = await submit(client, body="C'est un bidule sans intérêt.")
    await worker.drain()
    rejected = await decision_of(redis, keys, banned)
    assert rejected["decision"] == "rejected"
    banned_reason = {"code": "wordlist.banned", "match": "zorglub", "languages": ["*"]}
    assert banned_reason in rejected["reasons"]
    held = await decision_of(redis, keys, suspect)
    assert held["decision"] == "held"
    assert {"code": "wordlist.suspect", "match": "bidule", "languages": ["*"]} in held["reasons"]


async def test_a_listed_word_in_reported_speech_is_not_held_for_it(
    client: TestClient, redis: aioredis.Redis, keys: Keys, make_worker: Callable[..., Worker]
) -> None:
    """Reported speech is about an insult, not one: the toxicity model decides (here,
    one that finds nothing), and the record names the quoted term."""
    worker = make_worker()
    await worker.setup()
    await redis.sadd(keys.wordlist("banned"), "zorglub")
    await redis.sadd(keys.wordlist("suspect"), "bidule")
    reported = await submit(client, body="Il a traité l'arbitre de « zorglub », honteux.")
    quoted_suspect = await submit(client, body="Le ministre a dit 'bidule' à la tribune.")
    await worker.drain()
    for comment_id, term in ((reported, "zorglub"), (quoted_suspect, "bidule")):
        record = await decision_of(redis, keys, comment_id)
        assert record["decision"] == "published", record
        assert record["scores"]["quoted"] == [{"match": term, "languages": ["*"], "meaning": None}]
        assert record["scores"]["toxicity_path"] != "skipped"  # the model is asked


async def test_word_list_change_applies_to_the_next_comment(
    client: TestClient, redis: aioredis.Redis, keys: Keys, make_worker: Callable[..., Worker]
) -> None:
    worker = make_worker()
    await worker.setup()
    first = await submit(client, body="Un article machintruc.")
    await worker.drain()
    await redis.sadd(keys.wordlist("suspect"), "machintruc")
    second = await submit(client, body="Encore un article machintruc.")
    await worker.drain()
    assert (await decision_of(redis, keys, first))["decision"] == "published"
    assert (await decision_of(redis, keys, second))["decision"] == "held"


async def test_spam_with_three_links_and_whatsapp_lists_its_signals(
    client: TestClient, redis: aioredis.Redis, keys: Keys, make_worker: Callable[..., Worker]
) -> None:
    body = (
        "Gagnez de l'argent vite! http://promo.example.com/a http://cash.example.net/b "
        "https://win.example.org/c WhatsApp +212 6 12 34 56 78"
    )
    comment_id = await submit(client, body=body)
    worker = make_worker()
    await worker.setup()
    await worker.drain()
    decision = await decision_of(redis, keys, comment_id)
    assert decision["decision"] in ("held", "rejected")
    assert any(code.startswith("spam.") for code in codes(decision))
    signals = decision["scores"]["spam"]["signals"]
    assert "links:3" in signals
    assert "whatsapp" in signals


async def test_arabic_and_darija_are_held_for_a_person_by_default(
    client: TestClient, redis: aioredis.Redis, keys: Keys, make_worker: Callable[..., Worker]
) -> None:
    arabic = await submit(client, body="هذا المقال مفيد جدا وشكرا للكاتب على هذا العمل")
    darija = await submit(client, body="wach had l9anon ghadi y7l lmochkil? bzaf dyal nas m9al9in")
    worker = make_worker()
    await worker.setup()
    await worker.drain()
    for comment_id in (arabic, darija):
        decision = await decision_of(redis, keys, comment_id)
        assert decision["decision"] == "held"
        assert "language.not_covered" in codes(decision)
    assert (await decision_of(redis, keys, arabic))["language"]["script"] == "arabic"


async def test_language_rule_can_let_the_model_score_every_language(
    client: TestClient, redis: aioredis.Redis, worker_settings: Settings, keys: Keys
) -> None:
    arabic = await submit(client, body="هذا المقال مفيد جدا وشكرا للكاتب على هذا العمل")
    worker = Worker(
        redis,
        replace(worker_settings, language_not_covered="score"),
        toxicity=FakeToxicity(),
        name="w",
    )
    await worker.setup()
    await worker.drain()
    assert (await decision_of(redis, keys, arabic))["decision"] == "published"


async def test_without_a_model_every_comment_is_held_as_check_failed(
    client: TestClient, redis: aioredis.Redis, keys: Keys, make_worker: Callable[..., Worker]
) -> None:
    comment_id = await submit(client, body="Très bon article, merci.")
    worker = make_worker(toxicity=None)
    await worker.setup()
    await worker.drain()
    decision = await decision_of(redis, keys, comment_id)
    assert decision["decision"] == "held"
    assert codes(decision) == ["check_failed.toxicity"]
    assert "toxicity" not in decision["scores"]
    assert decision.get("model") is None


async def test_a_comment_is_decided_once_when_delivered_twice(
    client: TestClient, redis: aioredis.Redis, keys: Keys, make_worker: Callable[..., Worker]
) -> None:
    comment_id = await submit(client, body="Bravo pour cet article.")
    worker = make_worker()
    await worker.setup()
    await worker.drain()
    # The same comment queued again (a crash between decision and ack looks like this).
    await redis.xadd(keys.comments_stream, {"id": comment_id, "article_id": "politique-123"})
    assert await worker.drain() == 1
    assert await redis.llen(keys.history(comment_id)) == 1
    assert await redis.zcard(keys.feed("politique-123")) == 1
    assert await redis.xlen(keys.audit) == 1
    pending = await redis.xpending(keys.comments_stream, keys.workers_group)
    assert pending["pending"] == 0


async def test_two_workers_share_the_stream_and_decide_each_comment_once(
    client: TestClient, redis: aioredis.Redis, keys: Keys, worker_settings: Settings
) -> None:
    ids = [await submit(client, body=f"Commentaire numéro {i}, merci.") for i in range(30)]
    # Sharing, not reclaiming (tested below and in test_worker_process.py): with the
    # 100 ms idle time of these tests, a batch slowed past it on a loaded machine is
    # taken over by the other worker, which then counts it too (decided once all the same).
    patient = replace(worker_settings, reclaim_idle_ms=30_000)
    first, second = (Worker(redis, patient, name=n, toxicity=FakeToxicity()) for n in "12")
    await first.setup()
    handled = await asyncio.gather(first.drain(), second.drain())
    assert sum(handled) == 30
    assert all(handled)
    assert await redis.zcard(keys.feed("politique-123")) == 30
    for comment_id in ids:
        assert await redis.llen(keys.history(comment_id)) == 1


async def test_a_failing_comment_is_retried_then_dead_lettered_and_the_batch_goes_on(
    client: TestClient, redis: aioredis.Redis, keys: Keys, make_worker: Callable[..., Worker]
) -> None:
    good = await submit(client, body="Un bon article.")
    poison = await submit(client, body="POISON dans ce commentaire")
    also_good = await submit(client, body="Merci pour l'article.")
    worker = make_worker()
    await worker.setup()
    await worker.drain()
    for comment_id in (good, also_good):
        assert (await decision_of(redis, keys, comment_id))["decision"] == "published"
    assert await redis.hget(keys.comment(poison), "status") == "pending"

    async def until_dead() -> None:
        while not await redis.xlen(keys.dead_letters):
            await worker.step(block_ms=0)
            await asyncio.sleep(0.05)  # entries are reclaimed after reclaim_idle_ms (100 ms)

    await asyncio.wait_for(until_dead(), timeout=10)
    [(_, dead)] = await redis.xrange(keys.dead_letters)
    assert dead["id"] == poison
    assert dead["deliveries"] == "3"
    assert "the model choked on this comment" in dead["error"]
    assert (await redis.xpending(keys.comments_stream, keys.workers_group))["pending"] == 0
    assert await redis.hget(keys.comment(poison), "status") == "pending"


async def test_entries_of_a_dead_consumer_are_reclaimed(
    client: TestClient, redis: aioredis.Redis, keys: Keys, make_worker: Callable[..., Worker]
) -> None:
    ids = [await submit(client, body=f"Commentaire {i}") for i in range(5)]
    dead = make_worker("dead")
    await dead.setup()
    # The dead consumer read the entries and never acknowledged them.
    await redis.xreadgroup(keys.workers_group, "dead", {keys.comments_stream: ">"}, count=5)
    survivor = make_worker("survivor")

    async def until_reclaimed() -> None:
        while await redis.zcard(keys.feed("politique-123")) < 5:
            await survivor.step(block_ms=0)
            await asyncio.sleep(0.05)

    await asyncio.wait_for(until_reclaimed(), timeout=10)
    for comment_id in ids:
        assert await redis.llen(keys.history(comment_id)) == 1


async def test_realistic_mix_through_the_whole_pipeline(
    client: TestClient, redis: aioredis.Redis, keys: Keys, make_worker: Callable[..., Worker]
) -> None:
    worker = make_worker()
    await worker.setup()
    await redis.sadd(keys.wordlist("banned"), "zorglub")
    mix = {
        "clean_fr": ("Analyse très juste de la politique de l'eau au Maroc.", "published"),
        "clean_en": ("Great piece on the new stadium, thanks for the reporting.", "published"),
        "insult": ("What an idiot wrote this?", "held"),
        "banned": ("Espèce de zorglub.", "rejected"),
        "arabic": ("شكرا على هذا المقال الرائع حول الإصلاح", "held"),
        "darija": ("hadchi mzyan bzaf, 3afak kmel had lmawdo3", "held"),
        "spam": (
            "Promo!!! http://a.example.com http://b.example.com http://c.example.com "
            "wa.me/212612345678",
            "held|rejected",
        ),
    }
    ids = {name: await submit(client, body=body) for name, (body, _) in mix.items()}
    await worker.drain()
    for name, (_, expected) in mix.items():
        decision = await decision_of(redis, keys, ids[name])
        assert decision["decision"] in expected.split("|"), (name, decision)
        if decision["decision"] != "published":
            assert decision["reasons"], name
    feed = await (await client.get("/v1/articles/politique-123/comments")).json()
    assert [item["id"] for item in feed["items"]] == sorted([ids["clean_fr"], ids["clean_en"]])


async def test_the_record_says_when_the_model_does_not_read_the_language(
    api: TestClient, worker: Worker, redis: aioredis.Redis, keys: Keys
) -> None:
    """The page shows no toxicity bars for such a comment: its scores mean nothing."""
    comment_id = await submit(api, body="هذا المقال مفيد جدا وشكرا للكاتب على هذا العمل.")
    await worker.drain()
    decision = await decision_of(redis, keys, comment_id)
    assert decision["language"]["code"] == "ar"
    assert decision["language"]["read_by_model"] is False
