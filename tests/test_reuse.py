"""Toxicity scoring skips what cannot change a decision and reuses what it has seen."""

from __future__ import annotations

import redis.asyncio as aioredis
from aiohttp.test_utils import TestClient

from moderator.keys import Keys
from moderator.settings import Settings
from tests.fakes import FakeToxicity
from tests.helpers import codes, decision_of, submit
from workers.consumer import Worker

WAVE = "Gagnez 5000 DH par semaine depuis chez vous, contactez-nous vite !"


async def _worker(redis: aioredis.Redis, settings: Settings) -> tuple[Worker, FakeToxicity]:
    model = FakeToxicity()
    worker = Worker(redis, settings, toxicity=model, name="reuse")
    await worker.setup()
    return worker, model


async def test_a_comment_rejected_for_a_banned_word_is_not_scored(
    api: TestClient, redis: aioredis.Redis, keys: Keys, mod_settings: Settings
) -> None:
    worker, model = await _worker(redis, mod_settings)
    rejected = await submit(api, body="Espèce de connard, va-t'en.")
    await worker.drain()
    decision = await decision_of(redis, keys, rejected)
    assert decision["decision"] == "rejected"
    assert codes(decision) == ["wordlist.banned"]  # no check_failed.toxicity either
    assert decision["scores"]["toxicity_path"] == "skipped"
    assert "toxicity" not in decision["scores"] and decision.get("model") is None
    assert model.texts == []


async def test_a_spam_wave_costs_one_scoring_and_each_record_says_where_its_scores_came_from(
    api: TestClient, redis: aioredis.Redis, keys: Keys, mod_settings: Settings
) -> None:
    worker, model = await _worker(redis, mod_settings)
    # Two in one batch, then two more later, written a little differently.
    first = [await submit(api, body=WAVE, email=f"r{i}@example.ma") for i in range(2)]
    await worker.drain()
    later = [
        await submit(api, body=body, email=f"s{i}@example.ma")
        for i, body in enumerate((WAVE.upper(), f"  {WAVE}  "))
    ]
    await worker.drain()
    assert model.texts == [WAVE]
    paths = [
        (await decision_of(redis, keys, comment_id))["scores"]["toxicity_path"]
        for comment_id in (*first, *later)
    ]
    assert paths == ["scored", "reused", "reused", "reused"]
    reused = await decision_of(redis, keys, later[0])
    assert reused["model"]["name"] == "detoxify/fake"
    assert reused["scores"]["toxicity"]["insult"] == 0.01
    # The stored scores expire with the spam window.
    (key,) = [key async for key in redis.scan_iter(f"{keys.prefix}:toxicity:*")]
    assert 0 < await redis.ttl(key) <= mod_settings.spam_window_s


async def test_a_different_body_is_scored_again(
    api: TestClient, redis: aioredis.Redis, mod_settings: Settings
) -> None:
    worker, model = await _worker(redis, mod_settings)
    await submit(api, body="Très bon article, merci.")
    await submit(api, body="Très bon article, merci beaucoup.")
    await worker.drain()
    assert len(model.texts) == 2
