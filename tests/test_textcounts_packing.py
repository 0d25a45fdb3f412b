"""The site model's counts kept one hash per label (before they were packed in one field
per bucket) are moved while workers go on: every read, learn and forget stays exact."""

from __future__ import annotations

from dataclasses import replace

import redis.asyncio as aioredis

from moderator.keys import Keys
from moderator.settings import Settings
from moderator.storage.textcounts import LABELS, TextCounts
from workers import textmodel
from workers.sitemodel import SiteModel
from workers.spam.scorer import SpamScorer
from workers.training import Trainer

TEXTS = {
    "c1": ("ham", "hadchi zwin bzaf, tbarkellah 3likom", "ary"),
    "c2": ("toxic", "nta wahed l7mar, sir t9awed", "ary"),
    "c3": ("spam", "ربح المال من الدار، راسلنا على واتساب", "ar"),
    "c4": ("ham", "Bravo à l'équipe, un match plein", "fr"),
    "c5": ("toxic", "يا حمار سير تقاود", "ar"),
}


def _buckets(text: str) -> list[int]:
    return list(textmodel.features(text))


async def _learn(counts: TextCounts, ids: list[str]) -> None:
    for comment_id in ids:
        label, text, language = TEXTS[comment_id]
        await counts.learn(comment_id, label, _buckets(text), language)


async def _unpack(redis: aioredis.Redis, keys: Keys) -> None:
    """Make the counts what an install from before packing kept: one hash per label,
    and no vocabulary in the totals (it was the hashes' lengths)."""
    packed = await redis.hgetall(keys.text_counts)
    for index, label in enumerate(LABELS):
        per_label = {b: v.split()[index] for b, v in packed.items() if v.split()[index] != "0"}
        if per_label:
            await redis.hset(keys.text_counts_per_label(label), mapping=per_label)
    await redis.delete(keys.text_counts)
    await redis.hdel(keys.text_totals, "vocabulary")


async def _state(redis: aioredis.Redis, keys: Keys) -> tuple[dict[str, str], dict[str, str]]:
    totals = {k: v for k, v in (await redis.hgetall(keys.text_totals)).items() if v != "0"}
    return await redis.hgetall(keys.text_counts), totals


async def test_counts_of_before_are_read_exactly_while_and_after_they_are_moved(
    redis: aioredis.Redis, keys: Keys
) -> None:
    counts = TextCounts(redis, keys)
    await _learn(counts, list(TEXTS))
    asked = [_buckets(text) for _, text, _ in TEXTS.values()]
    languages = [language for _, _, language in TEXTS.values()]
    expected = await counts.read(asked, languages)
    packed = await _state(redis, keys)
    assert expected[0].vocabulary == int(packed[1]["vocabulary"]) > 0

    await _unpack(redis, keys)
    assert not await redis.exists(keys.text_counts)
    # A worker reading before the move: the buckets it asks are moved first.
    assert await counts.read(asked[:1], languages[:1]) == expected[:1]
    assert await redis.hlen(keys.text_counts) == len(asked[0])

    moved, _ = await counts.pack()
    assert moved == len(packed[0]) - len(asked[0])
    assert not await redis.exists(*(keys.text_counts_per_label(x) for x in LABELS))
    assert await counts.read(asked, languages) == expected
    assert await _state(redis, keys) == packed
    assert (await counts.pack())[0] == 0  # once


async def test_learning_relabelling_and_forgetting_before_the_move_stay_exact(
    redis: aioredis.Redis, keys: Keys
) -> None:
    """A moderator's verdict or a forgotten reader while the counts are being moved
    subtracts and adds exactly: the result is what learning the final state gives."""
    counts = TextCounts(redis, keys)
    await _learn(counts, ["c1", "c2", "c3", "c4"])
    await _unpack(redis, keys)

    assert await counts.forget(["c3"]) == 1
    assert await counts.learn("c2", "ham", _buckets(TEXTS["c2"][1]), "ary")
    await _learn(counts, ["c5"])
    await counts.pack()

    other = Keys("other")
    fresh = TextCounts(redis, other)
    await _learn(fresh, ["c1", "c4", "c5"])
    assert await fresh.learn("c2", "ham", _buckets(TEXTS["c2"][1]), "ary")
    assert await _state(redis, keys) == await _state(redis, other)
    await redis.delete(*[key async for key in redis.scan_iter("other:*")])


async def test_a_worker_moves_the_counts_of_before_when_it_starts(
    redis: aioredis.Redis, keys: Keys, settings: Settings
) -> None:
    settings = replace(settings, site_model_seed=False)
    await redis.set(keys.text_features, str(textmodel.FEATURES_VERSION))  # no relearning
    site = SiteModel(redis, keys, settings)
    await _learn(site.counts, list(TEXTS))
    packed = await _state(redis, keys)
    await _unpack(redis, keys)
    trainer = Trainer(
        redis, keys, settings, spam=SpamScorer(redis, keys, settings), site=site, name="w"
    )

    await trainer.seed()

    assert await _state(redis, keys) == packed
    assert await trainer.pack() == 0  # once
