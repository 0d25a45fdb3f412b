"""Toxicity scoring that skips what cannot change a decision and reuses what it knows.

- **Skipped**: a comment already rejected (a banned word, near-certain spam) is
  not sent to the model: the policy rejects whatever the model would say. Its
  record says `toxicity_skipped` and holds no toxicity scores.
- **Reused**: the scores of a body seen within `MODERATOR_SPAM_WINDOW_S`, in the
  form repeated bodies are compared in (`workers.spam.signals.normalise`: case,
  invisible characters, Arabic diacritics and letter variants folded), by the
  same model. They live in Redis under a sha256 of the model and that body
  (`Keys.toxicity_scores`, expiring with the window), so every worker shares
  them: a spam wave, or a comment posted again, costs one scoring. Identical
  bodies in one batch are scored once too. Its record says `toxicity_reused`.

The scores are a model's output for a text, never the text or who wrote it.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import redis.asyncio as aioredis

from moderator.keys import Keys
from workers.spam.signals import normalise
from workers.toxicity.routing import Result, Scored, ToxicityRouter
from workers.toxicity.scorer import ModelInfo


@dataclass(frozen=True, slots=True)
class Skipped:
    """Not scored: the comment is rejected whatever the model says."""

    why: str = "rejected before scoring"


@dataclass(frozen=True, slots=True)
class Reused:
    """Scores stored for the same normalised body, by the same model."""

    scored: Scored


Outcome = Result | Skipped | Reused


class ReusingScorer:
    def __init__(
        self, router: ToxicityRouter, redis: aioredis.Redis, keys: Keys, *, ttl_s: int
    ) -> None:
        self._router = router
        self._redis = redis
        self._keys = keys
        self._ttl_s = ttl_s

    async def score(
        self, texts: Sequence[str], languages: Sequence[str], *, skip: Sequence[bool]
    ) -> list[Outcome]:
        """One outcome per text, in order. `skip` marks the comments already rejected."""
        done: dict[int, Outcome] = {}
        keys: dict[int, str] = {}  # the comments a model reads: their cache key
        for index, (text, language) in enumerate(zip(texts, languages, strict=True)):
            scorer = self._router.scorer_for(language)
            if skip[index]:
                done[index] = Skipped()
            elif scorer is None:
                done[index] = None  # a language whose model is not loaded
            else:
                keys[index] = self._key(scorer.info, text)
        stored = await self._redis.mget(list(keys.values())) if keys else []
        for (index, _), raw in zip(keys.items(), stored, strict=True):
            if raw:
                done[index] = Reused(_scored(raw))
        # The rest: each distinct body once, by the model of its language.
        first: dict[str, int] = {}
        for index, key in keys.items():
            if index not in done:
                first.setdefault(key, index)
        fresh = await self._router.score(
            [texts[i] for i in first.values()], [languages[i] for i in first.values()]
        )
        by_key = dict(zip(first, fresh, strict=True))
        for index, key in keys.items():
            if index not in done:
                result = by_key[key]
                done[index] = result if first[key] == index else _again(result)
        await self._store(by_key)
        return [done[index] for index in range(len(texts))]

    def use_thresholds(self, thresholds: Mapping[str, float]) -> None:
        self._router.use_thresholds(thresholds)

    def _key(self, model: ModelInfo, text: str) -> str:
        material = f"{model.name}\x00{model.checkpoint_sha256}\x00{normalise(text)}"
        return self._keys.toxicity_scores(hashlib.sha256(material.encode()).hexdigest()[:32])

    async def _store(self, results: dict[str, Result]) -> None:
        async with self._redis.pipeline(transaction=False) as pipe:
            for key, result in results.items():
                if isinstance(result, Scored):
                    value = json.dumps({"scores": result.scores, **result.model.to_dict()})
                    pipe.set(key, value, ex=self._ttl_s)
            await pipe.execute()


def scores_of(outcome: Outcome) -> tuple[str, Scored | None]:
    """How a comment's toxicity scores came ("scored", or the cascade's "fast" or "fp32";
    "reused", "skipped"), and the scores with their model (None: none)."""
    if isinstance(outcome, Skipped):
        return "skipped", None
    if isinstance(outcome, Reused):
        return "reused", outcome.scored
    if isinstance(outcome, Scored):
        return outcome.path, outcome
    return "scored", None


def _scored(raw: str | bytes) -> Scored:
    stored = json.loads(raw)
    return Scored(
        {label: float(value) for label, value in stored["scores"].items()},
        ModelInfo(stored["name"], stored["checkpoint_sha256"]),
    )


def _again(result: Result) -> Outcome:
    """A second comment of the batch with a body scored for the first."""
    return Reused(result) if isinstance(result, Scored) else result
