"""The site model's precision measured again with what it knows today: each decision on a
comment that taught it is scored as if it had never learned that comment."""

from __future__ import annotations

import json
import random
from dataclasses import replace

import redis.asyncio as aioredis
from structlog.testing import capture_logs

from moderator.keys import Keys
from moderator.settings import Settings
from moderator.storage.textcounts import TextCounts
from workers import sitewindow, textmodel
from workers.sitemodel import SiteModel
from workers.spam.scorer import SpamScorer
from workers.training import Trainer

HAM = [f"Bravo pour cet article numéro {n} sur le tramway, merci beaucoup" for n in range(40)]
TOXIC = [f"espèce de chien {n}, tu es un âne et un voleur" for n in range(10)]


def _small(settings: Settings) -> Settings:
    return replace(
        settings,
        site_model_min_examples=10,
        site_model_min_decisions=30,
        site_model_min_would_publish=20,
    )


def _site(redis: aioredis.Redis, keys: Keys, settings: Settings) -> SiteModel:
    return SiteModel(redis, keys, _small(settings), rng=random.Random(0))


async def test_leaving_a_comment_out_is_the_model_that_never_learned_it(
    redis: aioredis.Redis, keys: Keys
) -> None:
    taught = TextCounts(redis, keys)
    never = TextCounts(redis, Keys("never"))
    examples = [(f"h{n}", "ham", t) for n, t in enumerate(HAM[:5])] + [
        (f"t{n}", "toxic", t) for n, t in enumerate(TOXIC[:5])
    ]
    for comment_id, label, text in examples:
        await taught.learn(comment_id, label, list(textmodel.features(text)), "fr")
        if comment_id != "t2":
            await never.learn(comment_id, label, list(textmodel.features(text)), "fr")
    buckets = list(textmodel.features(TOXIC[2]))

    (count,) = await taught.read([buckets], ["fr"])
    (expected,) = await never.read([buckets], ["fr"])

    left_out = textmodel.leave_out(count, "toxic", buckets, in_language=True)
    assert left_out.docs == expected.docs and left_out.vocabulary == expected.vocabulary
    assert {k: tuple(v) for k, v in left_out.totals.items()} == {
        k: tuple(v) for k, v in expected.totals.items()
    }
    assert {k: list(v) for k, v in left_out.features.items()} == {
        k: list(v) for k, v in expected.features.items()
    }
    assert left_out.in_language == expected.in_language
    found = textmodel.features(TOXIC[2])
    assert textmodel.predict(found, left_out) == textmodel.predict(found, expected)
    await redis.delete(*[key async for key in redis.scan_iter("never:*")])


async def test_a_young_models_window_is_measured_again_with_what_it_learned_since(
    redis: aioredis.Redis, keys: Keys, settings: Settings
) -> None:
    """Decided while it knew nothing (it would have published none of them), the same
    decisions prove the model once scored again: today it tells the approved comments
    from the rejected ones it has not seen. The result is kept for every verdict."""
    site = _site(redis, keys, settings)
    decided = [(f"h{n}", "ham", t) for n, t in enumerate(HAM)] + [
        (f"t{n}", "toxic", t) for n, t in enumerate(TOXIC)
    ]
    for comment_id, label, text in decided:
        await site.counts.learn(comment_id, label, list(textmodel.features(text)), "ary")
        await site.record_outcome(
            "ary", would_publish=False, approved=label == "ham", comment_id=comment_id
        )
    (before,) = await site.statuses(["ary"])
    assert (before.decisions, before.would_publish, before.proven) == (50, 0, False)

    with capture_logs() as logs:
        (after,) = await site.remeasure(["ary"])
        assert await site.remeasure(["ary"]) == [after]  # the same: nothing to say

    assert after.rescored == 50 and after.decisions == 50
    (opened,) = [e for e in logs if e["event"] == "site_model_level_changed"]
    assert opened["language"] == "ary" and opened["publish_below_before"] is None
    assert opened["publish_below"] == after.publish_below
    assert after.would_publish == after.approved >= 20  # no rejected comment scores clean
    assert after.proven and after.publish_below is not None
    assert await site.statuses(["ary"]) == [after]  # kept: verdicts read it
    clean = textmodel.features("Bravo pour cet article sur le tramway, merci beaucoup")
    (verdict,) = await site.verdicts([clean], ["ary"])
    assert verdict is not None and verdict.proven


async def test_decisions_it_cannot_score_again_count_as_they_were_recorded(
    redis: aioredis.Redis, keys: Keys, settings: Settings
) -> None:
    """An entry written before ids were kept, and one whose reader was forgotten since,
    count as recorded: a mistake it was sure of keeps the language closed."""
    site = _site(redis, keys, settings)
    for n, text in enumerate(HAM):
        await site.counts.learn(f"h{n}", "ham", list(textmodel.features(text)), "ary")
        await site.record_outcome("ary", would_publish=False, approved=True, comment_id=f"h{n}")
    for n, text in enumerate(TOXIC):
        await site.counts.learn(f"t{n}", "toxic", list(textmodel.features(text)), "ary")
    await site.record_outcome(
        "ary", would_publish=True, approved=False, evidence=-20.0, comment_id="t0"
    )
    await site.counts.forget(["t0"])  # its reader was forgotten: nothing to score again
    await redis.lpush(keys.site_model_outcomes("ary"), "p0:-20.00")  # written before ids

    (status,) = await site.remeasure(["ary"])

    assert status.rescored == len(HAM) and status.decisions == len(HAM) + 2
    assert status.would_publish == len(HAM) + 2 and status.approved == len(HAM)
    assert not status.proven  # 40 of 42 at every level: 95%


async def test_a_kept_status_it_cannot_read_falls_back_to_the_window(
    redis: aioredis.Redis, keys: Keys, settings: Settings
) -> None:
    """Another version's fields are ignored; a damaged value is read as if absent."""
    site = _site(redis, keys, settings)
    for _ in range(3):
        await site.record_outcome("ar", would_publish=True, approved=True, evidence=-5.0)
    await redis.hset(keys.site_model_levels, "ar", "{not json")
    later = {"decisions": 7, "would_publish": 1, "approved": 1, "a_later_field": True}
    later["measured_with"] = sitewindow.measured_with(_small(settings))
    await redis.hset(keys.site_model_levels, "ary", json.dumps(later))
    ar, ary = await site.statuses(["ar", "ary"])
    assert (ar.language, ar.decisions, ar.would_publish) == ("ar", 3, 3)
    assert (ary.language, ary.decisions, ary.rescored) == ("ary", 7, 0)


async def test_a_status_kept_under_other_settings_is_measured_again_at_start(
    redis: aioredis.Redis, keys: Keys, settings: Settings
) -> None:
    """An operator who asks for more precision gets it from the next verdict on: a
    status measured under the old settings is not used, and a starting worker
    measures it again."""
    site = _site(redis, keys, settings)
    for n, text in enumerate(HAM):
        await site.counts.learn(f"h{n}", "ham", list(textmodel.features(text)), "ary")
        await site.record_outcome("ary", would_publish=False, approved=True, comment_id=f"h{n}")
    (proven,) = await site.remeasure(["ary"])
    assert proven.proven and await site.stale() == []

    stricter = replace(settings, site_model_min_examples=10, site_model_min_would_publish=45)
    strict = SiteModel(redis, keys, stricter)
    assert await strict.stale() == ["ary"]
    (status,) = await strict.statuses(["ary"])
    assert not status.proven and status.rescored == 0  # the window as recorded
    trainer = Trainer(
        redis, keys, stricter, spam=SpamScorer(redis, keys, stricter), site=strict, name="w"
    )
    await redis.set(keys.text_features, str(textmodel.FEATURES_VERSION))  # no relearning
    await trainer.seed()
    (status,) = await strict.statuses(["ary"])
    assert status.rescored == len(HAM) and not status.proven  # 40 < 45 it would publish
    assert await strict.stale() == []
