"""The workers learn from moderators: each verdict teaches the spam model and the site model,
and measures the site model's precision on the comment's language.

Moderators' verdicts arrive on the training stream (`Keys.spam_training`, one
consumer group the workers share, so each verdict is learned once): `ham` (a
held comment approved), `spam` or `toxic` (rejected or taken down as spam or
as abusive), or `rejected` (no reason given: it teaches nothing, but it still
counts against the site model's precision when the model would have
published the comment). The model is seeded from the shipped labelled comments
(`workers/data/seed_comments.jsonl`, the train split of `tests/data/comments/`), so a
fresh install ranks the held queue from the start: once per Redis and per version of
that file (its sha256 is kept in `Keys.text_seeded`), so an upgrade that ships more
examples teaches them to an existing install too.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import time
from collections.abc import Iterable, Sequence
from importlib import resources
from typing import Any, Final, cast

import redis.asyncio as aioredis
import structlog

from moderator.keys import TRAINERS_GROUP, Keys
from moderator.records import AUTO, TrainingExample
from moderator.settings import Settings
from moderator.storage.textcounts import TextCounts
from workers import textmodel
from workers.language import detect
from workers.policy import covered_languages
from workers.sitemodel import SiteModel
from workers.spam.scorer import SpamScorer

log = structlog.get_logger()

SEED_FILE: Final = "seed_comments.jsonl"
SEED_PREFIX: Final = "seed:"  # the ids of the shipped examples the site model learned
# How long the relearning worker holds its lock without news: it extends it after each
# chunk, so a long relearn keeps it, and a worker that died lets another start again.
RELEARN_LOCK_S: Final = 600
RELEARN_CHUNK: Final = 500  # comments read from Redis per round trip when relearning
LEARNED_LABELS: Final = ("ham", "spam", "toxic")


def _seed_text() -> str:
    return (resources.files("workers") / "data" / SEED_FILE).read_text(encoding="utf-8")


def seed_examples() -> list[tuple[str, str]]:
    """The shipped labelled comments: (body, label)."""
    rows = [json.loads(line) for line in _seed_text().splitlines() if line.strip()]
    return [(str(row["body"]), str(row["label"])) for row in rows]


def seed_digest() -> str:
    """The sha256 of the shipped examples' file: which version of them was learned."""
    return hashlib.sha256(_seed_text().encode("utf-8")).hexdigest()


def _featured(
    verdicts: Sequence[tuple[str, str]], bodies: Sequence[str | None]
) -> list[tuple[str, str, list[int], str]]:
    """(comment id, label, buckets, language) of each verdict whose comment still has
    its body."""
    return [
        (comment_id, label, list(textmodel.features(str(body))), detect(str(body)).code)
        for (comment_id, label), body in zip(verdicts, bodies, strict=True)
        if body
    ]


def _seed_rows() -> list[tuple[str, str, str]]:
    """The shipped examples as (id, text, label) to learn: "seed:<n>", in file order."""
    return [(f"{SEED_PREFIX}{n}", body, label) for n, (body, label) in enumerate(seed_examples())]


async def learn_texts(counts: TextCounts, examples: Iterable[tuple[str, str, str]]) -> int:
    """Teach the site model's counts (id, text, label) examples; how many changed them."""
    batch = [
        (key, label, list(textmodel.features(text)), detect(text).code)
        for key, text, label in examples
    ]
    return await counts.learn_many(batch)


class Trainer:
    def __init__(
        self,
        redis: aioredis.Redis,
        keys: Keys,
        settings: Settings,
        *,
        spam: SpamScorer,
        site: SiteModel | None,
        name: str,
    ) -> None:
        self._redis = redis
        self._keys = keys
        self._settings = settings
        self._spam = spam
        self._site = site
        self._name = name
        self._unmeasured: set[str] = set()  # languages with decisions not measured again
        # Where a toxicity model reads the language the site model never publishes: its
        # window there is kept as recorded, not scored again (not worth a worker's CPU).
        self._read = covered_languages(settings)

    async def seed(self) -> int:
        """Teach the site model the shipped examples, once per Redis and version of them;
        how many it learned. Counts learned with features of another version are
        relearned first. Examples of an older version (an upgrade that ships more, or
        other ones) are forgotten and today's learned, by one worker (a lock). Counts
        kept before they were packed are moved first, and where the site model stands
        is measured again in languages measured under other settings."""
        if self._site is None:
            return 0
        await self.pack()
        await self.relearn()
        if stale := await self._site.stale():  # an operator changed what it must show
            await self._site.remeasure(stale)
        if not self._settings.site_model_seed:
            return 0
        digest = seed_digest()
        seeded = await self._redis.get(self._keys.text_seeded)
        if seeded == digest:
            return 0
        if seeded is None:
            if not await self._redis.set(self._keys.text_seeded, digest, nx=True):
                return 0  # another worker seeds
            return await self.learn_texts(_seed_rows())
        lock = f"{self._keys.text_seeded}:lock"
        if not await self._redis.set(lock, self._name, nx=True, ex=RELEARN_LOCK_S):
            return 0
        try:
            learned = await self._reseed()
            await self._redis.set(self._keys.text_seeded, digest)
            log.info("site_model_seed_updated", learned=learned, seed_sha256=digest)
            return learned
        finally:
            await self._redis.delete(lock)

    async def _reseed(self, seeds: Sequence[str] | None = None) -> int:
        """Forget the shipped examples learned from another version of the file (`seeds`,
        their ids, when already read) and learn today's: "seed:<n>" may name another
        comment in another version."""
        assert self._site is not None
        counts = self._site.counts
        if seeds is None:
            seeds = [c for c in await counts.labels() if c.startswith(SEED_PREFIX)]
        if seeds:
            await counts.forget(seeds)
        return await self.learn_texts(_seed_rows())

    async def pack(self) -> int:
        """Move the site model's counts of before into one field per bucket
        (`TextCounts.pack`); how many buckets were moved."""
        assert self._site is not None
        moved, seconds = await self._site.counts.pack()
        if moved:
            log.info("site_model_counts_packed", buckets=moved, duration_ms=round(seconds * 1000))
        return moved

    async def relearn(self) -> int:
        """When the counts were learned with features of another version than
        `textmodel.FEATURES_VERSION`, learn every comment again, with its label, from its
        text: a moderator's verdict from the stored comment (one whose text is gone, its
        reader forgotten, keeps what it taught), and the shipped examples, if they were
        learned, forgotten and learned again from today's file (which may list them in
        another order). One worker does it (a lock, extended as it goes); the others go on
        meanwhile, on counts partly relearned. Returns how many comments were relearned."""
        if self._site is None:
            return 0
        version = str(textmodel.FEATURES_VERSION)
        if await self._redis.get(self._keys.text_features) == version:
            return 0
        lock = f"{self._keys.text_features}:lock"
        if not await self._redis.set(lock, self._name, nx=True, ex=RELEARN_LOCK_S):
            return 0
        try:
            started = time.perf_counter()
            counts = self._site.counts
            labels = await counts.labels()
            seeds = [comment_id for comment_id in labels if comment_id.startswith(SEED_PREFIX)]
            verdicts = [(c, label) for c, label in labels.items() if not c.startswith(SEED_PREFIX)]
            relearned = 0
            for start in range(0, len(verdicts), RELEARN_CHUNK):
                chunk = verdicts[start : start + RELEARN_CHUNK]
                async with self._redis.pipeline(transaction=False) as pipe:
                    for comment_id, _ in chunk:
                        pipe.hget(self._keys.comment(comment_id), "body")
                    bodies = await pipe.execute()
                examples = await asyncio.to_thread(_featured, chunk, bodies)
                relearned += await counts.learn_many(examples, replace=True)
                await self._redis.set(lock, self._name, xx=True, ex=RELEARN_LOCK_S)
            kept = len(verdicts) - relearned
            if seeds:
                relearned += await self._reseed(seeds)
                await self._redis.set(self._keys.text_seeded, seed_digest())
            await self._redis.set(self._keys.text_features, version)
            log.info(
                "site_model_relearned",
                features_version=textmodel.FEATURES_VERSION,
                relearned=relearned,
                kept=kept,
                duration_ms=round((time.perf_counter() - started) * 1000),
            )
            return relearned
        finally:
            await self._redis.delete(lock)

    async def learn_texts(self, examples: Iterable[tuple[str, str, str]]) -> int:
        """Teach the site model (id, text, label) examples; how many changed it."""
        if self._site is None:
            return 0
        return await learn_texts(self._site.counts, examples)

    async def step(self) -> int:
        """Learn the verdicts waiting on the training stream; how many there were."""
        response = await self._redis.xreadgroup(
            TRAINERS_GROUP, self._name, {self._keys.spam_training: ">"}, count=100
        )
        streams = cast(list[tuple[str, list[tuple[str, dict[str, str]]]]], response or [])
        handled = 0
        for _, entries in streams:
            for entry_id, fields in entries:
                if language := await self.learn(TrainingExample.from_fields(fields)):
                    self._unmeasured.add(language)
                await self._redis.xack(self._keys.spam_training, TRAINERS_GROUP, entry_id)
                handled += 1
        await self.remeasure()
        return handled

    async def remeasure(self, *, now: bool = False) -> list[str]:
        """Measure the site model's precision again (`SiteModel.remeasure`) in the
        languages this worker recorded decisions in since, those no worker measured in
        the last `site_model_remeasure_s` (a lock that expires: a language is measured
        at most that often, whoever records its decisions; the others keep theirs for a
        later step). `now`: whatever the others did (a replay's end, a worker stopping).
        Returns the languages measured."""
        if self._site is None or not self._unmeasured:
            return []
        interval_ms = round(self._settings.site_model_remeasure_s * 1000)
        due = []
        throttled = not now and interval_ms > 0
        for language in sorted(self._unmeasured):
            lock = f"{self._keys.site_model_levels}:measured:{language}"
            if not throttled or await self._redis.set(lock, self._name, nx=True, px=interval_ms):
                due.append(language)
        if due:
            await self._site.remeasure(due, as_recorded=self._read)
            self._unmeasured.difference_update(due)
        return due

    async def learn(self, example: TrainingExample) -> str | None:
        """Teach the models a verdict; the language of the site model's precision window
        it was recorded in, if any."""
        body = await self._redis.hget(self._keys.comment(example.comment_id), "body")
        if not body:
            return None  # forgotten since
        text = str(body)
        if example.label in ("ham", "spam"):
            await self._spam.learn(text, spam=example.label == "spam")
        if self._site is not None:
            if example.label in LEARNED_LABELS:
                buckets = list(textmodel.features(text))
                language = detect(text).code  # as the worker that decided it found it
                await self._site.counts.learn(example.comment_id, example.label, buckets, language)
            recorded = await self._record_outcome(example)
        else:
            recorded = None
        log.info("models_trained", comment_id=example.comment_id, label=example.label)
        return recorded

    async def _record_outcome(self, example: TrainingExample) -> str | None:
        """If the site model scored this comment when it was decided automatically, the
        language it is recorded in."""
        assert self._site is not None
        verdict = await self._automatic_verdict(example.comment_id)
        if verdict is None:
            return None
        evidence = verdict.get("evidence")
        language = str(verdict.get("language", "und"))
        await self._site.record_outcome(
            language,
            would_publish=bool(verdict.get("would_publish")),
            approved=example.label == "ham",
            evidence=max(map(float, evidence.values())) if isinstance(evidence, dict) else None,
            comment_id=example.comment_id,
        )
        return language

    async def _automatic_verdict(self, comment_id: str) -> dict[str, Any] | None:
        for raw in reversed(await self._redis.lrange(self._keys.history(comment_id), 0, -1)):
            record = json.loads(raw)
            if record.get("by") == AUTO:
                verdict = (record.get("scores") or {}).get("site_model")
                return verdict if isinstance(verdict, dict) else None
        return None
