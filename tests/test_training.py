"""Moderators' verdicts teach the models and measure the site model; the seed is learned once
per version of the shipped examples."""

from __future__ import annotations

import asyncio
import json
import re
from dataclasses import replace
from typing import Any

import pytest
import redis.asyncio as aioredis
from aiohttp.test_utils import TestClient

from moderator.keys import Keys
from moderator.settings import Settings
from moderator.storage.textcounts import GROUP_BITS, GROUPS, TextCounts
from tests.fakes import FakeToxicity
from tests.helpers import AMINA, VALID
from workers import textmodel, training
from workers.consumer import Worker
from workers.sitemodel import SiteModel
from workers.spam.scorer import SpamScorer
from workers.training import Trainer, learn_texts, seed_digest, seed_examples

DARIJA = "hadchi zwin bzaf, tbarkellah 3likom 3la had lkhedma"


async def _held(api: TestClient, worker: Worker, body: str) -> str:
    response = await api.post("/v1/comments", json={**VALID, "body": body})
    comment_id = str((await response.json())["id"])
    await worker.drain()
    return comment_id


async def _decide(api: TestClient, comment_id: str, **body: object) -> None:
    response = await api.post(
        f"/v1/moderation/comments/{comment_id}/decision", headers=AMINA, json=body
    )
    assert response.status == 200, await response.text()


async def test_approvals_and_rejections_teach_the_site_model(
    api: TestClient, worker: Worker, redis: aioredis.Redis, keys: Keys, mod_settings: Settings
) -> None:
    fine = await _held(api, worker, DARIJA)
    abusive = await _held(api, worker, "nta wahed l7mar, sir t9awed")
    spam = await _held(api, worker, "rba7 flous mn dar, sift lina message daba")
    silent = await _held(api, worker, "chi haja ma3rftch ach ngoul")
    await _decide(api, fine, action="approve")
    await _decide(api, abusive, action="reject", abusive=True)
    await _decide(api, spam, action="reject", spam=True)
    await _decide(api, silent, action="reject")
    await worker.step(block_ms=0)  # learns before reading the stream

    counts = TextCounts(redis, keys)
    assert [await counts.learned(c) for c in (fine, abusive, spam, silent)] == [
        "ham",
        "toxic",
        "spam",
        None,  # rejected with no reason: nothing to learn
    ]
    # Each verdict on a comment it scored is an outcome for its language.
    outcomes = await redis.lrange(keys.site_model_outcomes("ary"), 0, -1)
    assert len(outcomes) == 4
    # Each carries whether it would have published, whether the moderator approved, how
    # sure it was (its largest evidence) and the comment, so it can be scored again.
    assert sorted(o.rsplit(":", 1)[1] for o in outcomes) == sorted([fine, abusive, spam, silent])
    assert all(re.fullmatch(r"[pn][01]:-?\d+\.\d\d:\w+", o) for o in outcomes), outcomes
    assert {o[1] for o in outcomes if o.endswith(fine)} == {"1"}
    assert {o[1] for o in outcomes if not o.endswith(fine)} == {"0"}
    # The step that learned them measured the window again with today's counts.
    (status,) = await SiteModel(redis, keys, mod_settings).statuses(["ary"])
    assert status.decisions == 4 and status.rescored == 3  # the plain rejection taught nothing
    # What a rejection taught is in the audit and in the comment's decision record.
    audit = await (await api.get("/v1/moderation/audit?limit=10", headers=AMINA)).json()
    taught = {
        entry["comment_id"]: entry.get("teaches")
        for entry in audit["items"]
        if entry["by"] == "moderator:amina"
    }
    assert taught == {fine: None, abusive: "abusive", spam: "spam", silent: None}
    record = json.loads(str(await redis.hget(keys.comment(spam), "decision")))
    assert record["teaches"] == "spam"


async def test_the_model_is_seeded_once_per_redis(
    redis: aioredis.Redis, keys: Keys, settings: Settings
) -> None:
    settings = replace(settings, site_model_seed=True)
    site = SiteModel(redis, keys, settings)
    trainer = Trainer(
        redis, keys, settings, spam=SpamScorer(redis, keys, settings), site=site, name="w"
    )
    examples = seed_examples()
    assert await trainer.seed() == len(examples)
    assert await trainer.seed() == 0  # another worker, or a restart
    learned = await site.counts.summary()
    assert sum(learned.values()) == len(examples)
    assert set(learned) == {"ham", "spam", "toxic"}
    assert await redis.get(keys.text_seeded) == seed_digest()


async def test_an_upgrade_that_ships_more_examples_teaches_them_once(
    redis: aioredis.Redis, keys: Keys, settings: Settings
) -> None:
    """An install seeded from an older file (here its first example only, and "1" for
    the version, as older releases wrote it) learns today's examples at the next
    start, once: the older ones forgotten (an id may name another comment now), the
    moderators' verdicts kept."""
    settings = replace(settings, site_model_seed=True)
    site = SiteModel(redis, keys, settings)
    counts = site.counts
    examples = seed_examples()
    await learn_texts(counts, [("seed:0", "an older first example", "toxic")])
    await learn_texts(counts, [("c1", DARIJA, "ham")])
    await redis.set(keys.text_seeded, "1")
    await redis.set(keys.text_features, str(textmodel.FEATURES_VERSION))  # no relearning
    trainer = Trainer(
        redis, keys, settings, spam=SpamScorer(redis, keys, settings), site=site, name="w"
    )

    assert await trainer.seed() == len(examples)
    assert await trainer.seed() == 0
    assert await redis.get(keys.text_seeded) == seed_digest()
    labels = await counts.labels()
    assert labels["seed:0"] == examples[0][1] and labels["c1"] == "ham"
    assert sum((await counts.summary()).values()) == len(examples) + 1


async def test_counts_learned_with_older_features_are_learned_again(
    redis: aioredis.Redis, keys: Keys, settings: Settings
) -> None:
    """An upgrade that changes the features relearns, once, what the moderators taught
    (from the stored comments) and the shipped examples (from today's file, whatever
    order the older one had); a comment whose text is gone keeps what it taught."""
    settings = replace(settings, site_model_seed=True)
    site = SiteModel(redis, keys, settings)
    counts = site.counts
    await redis.hset(keys.comment("c1"), mapping={"body": DARIJA})
    await counts.learn("c1", "ham", [1, 2, 3])  # an older version's buckets
    await counts.learn("gone", "toxic", [4, 5])  # its reader was forgotten
    await counts.learn("seed:0", "spam", [6])  # the older file's first example
    await redis.set(keys.text_seeded, "1")
    trainer = Trainer(
        redis, keys, settings, spam=SpamScorer(redis, keys, settings), site=site, name="w"
    )

    await trainer.seed()

    examples = seed_examples()
    learned = await redis.hgetall(keys.text_learned)
    assert learned["c1"] == "ham " + " ".join(map(str, textmodel.features(DARIJA)))
    assert learned["gone"] == "toxic 4 5"
    assert learned["seed:0"].split(" ", 1)[0] == examples[0][1]
    assert sum((await counts.summary()).values()) == len(examples) + 2
    assert await redis.get(keys.text_features) == str(textmodel.FEATURES_VERSION)
    assert await trainer.relearn() == 0  # once
    # Learned before the model counted examples per language, each now counts in the
    # language it is detected in (the one whose text is gone, in none).
    taught = await counts.languages()
    assert sum(taught.values()) == len(examples) + 1
    assert taught["ary"] >= 1 and (await redis.hget(keys.text_languages, "c1")) == "ary"
    # Each label's feature total per group is what is learned now, older buckets included.
    expected = {label: [0] * GROUPS for label in textmodel.CLASSES}
    for value in learned.values():
        label, *buckets = value.split()
        for bucket in buckets:
            expected[label][int(bucket) >> GROUP_BITS] += 1
    (read,) = await counts.read([[1]])
    assert {label: list(totals) for label, totals in read.totals.items()} == expected


async def test_a_long_relearn_keeps_its_lock(
    redis: aioredis.Redis, keys: Keys, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The relearning worker extends its lock after each chunk: a relearn longer than
    RELEARN_LOCK_S is not started again by another worker meanwhile."""
    monkeypatch.setattr(training, "RELEARN_CHUNK", 1)
    site = SiteModel(redis, keys, settings)
    for n in range(3):
        await redis.hset(keys.comment(f"c{n}"), mapping={"body": DARIJA})
        await site.counts.learn(f"c{n}", "ham", [n + 1])
    lock = f"{keys.text_features}:lock"
    seen: list[tuple[str | None, int]] = []
    learn_many = site.counts.learn_many

    async def chunk(*args: Any, **kwargs: Any) -> int:
        seen.append((await redis.get(lock), await redis.ttl(lock)))
        await redis.expire(lock, 5)  # as if the relearn had taken almost all its time
        return await learn_many(*args, **kwargs)

    monkeypatch.setattr(site.counts, "learn_many", chunk)
    trainer = Trainer(
        redis, keys, settings, spam=SpamScorer(redis, keys, settings), site=site, name="w"
    )
    assert await trainer.relearn() == 3
    assert [name for name, _ in seen] == ["w"] * 3
    assert all(ttl > 5 for _, ttl in seen)  # extended after each chunk
    assert await redis.get(lock) is None  # released at the end


async def test_the_decision_record_carries_the_verdict_and_the_rank(
    api: TestClient, redis: aioredis.Redis, keys: Keys, mod_settings: Settings
) -> None:
    settings = replace(mod_settings, site_model_seed=True)
    worker = Worker(redis, settings, toxicity=FakeToxicity(), name="w")
    await worker.setup()  # seeded from the shipped examples
    comment_id = await _held(api, worker, DARIJA)
    record = json.loads(await redis.hget(keys.comment(comment_id), "decision"))
    assert record["decision"] == "held"
    verdict = record["scores"]["site_model"]
    assert set(verdict) >= {"evidence", "clues", "examples", "language", "would_publish"}
    assert verdict["language"] == "ary"
    assert record["rank"] in ("likely_fine", "suspect")
    assert next(r["code"] for r in record["reasons"]) in (
        "site_model.unproven",
        "language.not_covered",
    )


async def test_precision_is_measured_again_at_most_every_interval_and_when_a_worker_stops(
    api: TestClient, worker: Worker, redis: aioredis.Redis, keys: Keys, mod_settings: Settings
) -> None:
    """Scoring a window again costs a worker ~0.25 s of CPU: a language is measured at
    most every `MODERATOR_SITE_MODEL_REMEASURE_S` whoever records its decisions; what
    is left is measured on a later step, or before the worker goes."""
    site = SiteModel(redis, keys, mod_settings)
    first = await _held(api, worker, DARIJA)
    await _decide(api, first, action="approve")
    await worker.step(block_ms=0)
    (status,) = await site.statuses(["ary"])
    assert (status.decisions, status.rescored) == (1, 1)

    second = await _held(api, worker, "nta wahed l7mar, sir t9awed")
    await _decide(api, second, action="reject", abusive=True)
    await worker.step(block_ms=0)
    (status,) = await site.statuses(["ary"])
    assert status.decisions == 1  # measured less than 10 s ago: kept for later

    running = asyncio.create_task(worker.run())
    worker.stop()
    await asyncio.wait_for(running, 30)
    (status,) = await site.statuses(["ary"])
    assert (status.decisions, status.rescored) == (2, 2)
    assert await worker.remeasure() == []  # nothing left

    # French is detoxify's: the site model never publishes it, its window is kept as
    # recorded, not scored again.
    french = await _held(api, worker, "Va te faire voir, espèce de crétin")
    await _decide(api, french, action="reject", abusive=True)
    await worker.step(block_ms=0)
    (fr,) = await site.statuses(["fr"])
    assert (fr.decisions, fr.rescored) == (1, 0)
    assert await redis.hexists(keys.site_model_levels, "fr")  # kept: verdicts read one hash
