"""The site model: the text classifier the site's moderators train, and when it may decide.

It scores every comment (`workers.textmodel`, counts shared in Redis) and:

- **holds** what it finds toxic, in every language it was taught
  (`site_model.toxic`), beside detoxify where detoxify reads the language; it
  never rejects. Of a language it was taught fewer than `min_examples` comments
  in (counted in the language each was detected in), it says nothing;
- **ranks** what is held for its language alone: "likely fine" apart from
  "suspect", so moderators can clear the first group with one bulk action;
- **publishes**, in a language no toxicity model reads (Arabic, Darija,
  mixed), a comment it is confident is clean, once it has *proven* itself
  on that language: the moderators have decided at least `min_decisions`
  comments it scored there (the last `WINDOW` count), and of those, the ones
  it would have published (at least `min_would_publish`) were approved at
  least `precision` of the time (99% cannot be told from 100% on fewer than 100).
  Until then such comments are held as `site_model.unproven`. Once it
  publishes, a random `audit_share` of what it would publish is held anyway
  (`site_model.audit_sample`), so its precision keeps being measured.

Outcomes are recorded per language code (`ar`, `ary`, `mixed`, …) as
moderators decide comments (`record_outcome`, from the workers' training
stream); `status` reports them (`moderator site-model status`).
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Final

import redis.asyncio as aioredis

from moderator.keys import Keys
from moderator.settings import Settings
from moderator.storage.textcounts import TextCounts
from workers.language import UNDETERMINED
from workers.textmodel import Prediction, predict

WINDOW: Final = 500  # the latest decisions per language that measure precision
WOULD_PUBLISH_APPROVED: Final = "p1"
WOULD_PUBLISH_REJECTED: Final = "p0"
WOULD_HOLD: Final = "n"


@dataclass(frozen=True, slots=True)
class Verdict:
    """What the site model says of one comment, and whether it may act on it."""

    prediction: Prediction
    language: str
    toxic: bool  # evidence of toxicity at the hold threshold
    spam: bool  # evidence of spam at its threshold (a spam signal)
    spam_threshold: float  # that threshold
    spam_weak: bool  # at half of it: a weaker signal, that holds only beside another
    clean: bool  # confident the comment is clean: it would publish it
    likely_fine: bool  # clean enough to be ranked "likely fine" when held
    proven: bool  # its precision on this language is measured and high enough
    audit_sample: bool  # drawn to be held anyway, to keep measuring precision

    def to_dict(self) -> dict[str, Any]:
        return {
            **self.prediction.to_dict(),
            "language": self.language,
            "proven": self.proven,
        }


@dataclass(frozen=True, slots=True)
class LanguageStatus:
    language: str
    decisions: int  # in the window
    would_publish: int
    approved: int  # of those it would publish

    @property
    def precision(self) -> float | None:
        return self.approved / self.would_publish if self.would_publish else None

    def to_dict(self) -> dict[str, Any]:
        precision = self.precision
        return {
            "language": self.language,
            "decisions": self.decisions,
            "would_publish": self.would_publish,
            "approved": self.approved,
            "precision": None if precision is None else round(precision, 4),
        }


class SiteModel:
    def __init__(
        self,
        redis: aioredis.Redis,
        keys: Keys,
        settings: Settings,
        *,
        rng: random.Random | None = None,
    ) -> None:
        self._redis = redis
        self._keys = keys
        self._settings = settings
        self.counts = TextCounts(redis, keys)
        self._rng = rng or random.Random()  # noqa: S311 (sampling, not security)

    async def verdicts(
        self, found: Sequence[dict[int, str] | None], languages: Sequence[str]
    ) -> list[Verdict | None]:
        """A verdict per comment; None where its features could not be computed."""
        wanted = [list(features) if features is not None else [] for features in found]
        counts = await self.counts.read(wanted, languages)
        proven = await self.proven(set(languages))
        out: list[Verdict | None] = []
        for features, count, language in zip(found, counts, languages, strict=True):
            if features is None:
                out.append(None)
                continue
            prediction = predict(features, count)
            out.append(self._verdict(prediction, language, proven[language], count.in_language))
        return out

    def _verdict(
        self, prediction: Prediction, language: str, proven: bool, in_language: int
    ) -> Verdict:
        s = self._settings
        worst = max(prediction.evidence.values())
        # It speaks of a language once taught `min_examples` comments in it: of one it
        # was never taught (Spanish, on a site whose moderators decided none) its
        # evidence is noise. A comment in no language (`und`: a link, a brand, a number)
        # is read by tokens every language teaches: all its examples count. It says
        # nothing of a comment with nothing it has learned (emoji alone).
        taught = prediction.examples if language == UNDETERMINED else in_language
        trained = taught >= s.site_model_min_examples and prediction.known > 0
        clean = trained and worst <= s.site_model_clean_evidence
        return Verdict(
            prediction=prediction,
            language=language,
            toxic=trained and prediction.evidence["toxic"] >= s.site_model_toxic_evidence,
            spam=trained and prediction.evidence["spam"] >= s.site_model_spam_evidence,
            spam_threshold=s.site_model_spam_evidence,
            spam_weak=trained and prediction.evidence["spam"] >= s.site_model_spam_evidence / 2,
            clean=clean,
            likely_fine=trained and worst <= s.site_model_likely_fine_evidence,
            proven=proven,
            audit_sample=clean and proven and self._rng.random() < s.site_model_audit_share,
        )

    async def proven(self, languages: set[str]) -> dict[str, bool]:
        statuses = await self.statuses(sorted(languages))
        s = self._settings
        # Precision on a handful proves nothing: it counts once the moderators have
        # decided `min_decisions` comments it scored there, `min_would_publish` of them
        # comments it would have published.
        return {
            status.language: (
                status.decisions >= s.site_model_min_decisions
                and status.would_publish >= s.site_model_min_would_publish
                and (status.precision or 0.0) >= s.site_model_precision
            )
            for status in statuses
        }

    async def statuses(self, languages: Sequence[str]) -> list[LanguageStatus]:
        async with self._redis.pipeline(transaction=False) as pipe:
            for language in languages:
                pipe.lrange(self._keys.site_model_outcomes(language), 0, WINDOW - 1)
            windows = await pipe.execute()
        out = []
        for language, window in zip(languages, windows, strict=True):
            entries = [str(entry) for entry in window]
            approved = entries.count(WOULD_PUBLISH_APPROVED)
            would = approved + entries.count(WOULD_PUBLISH_REJECTED)
            out.append(LanguageStatus(language, len(entries), would, approved))
        return out

    async def record_outcome(self, language: str, *, would_publish: bool, approved: bool) -> None:
        """A moderator decided a comment the model had scored in `language`."""
        if would_publish:
            entry = WOULD_PUBLISH_APPROVED if approved else WOULD_PUBLISH_REJECTED
        else:
            entry = WOULD_HOLD
        key = self._keys.site_model_outcomes(language)
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.lpush(key, entry)
            pipe.ltrim(key, 0, WINDOW - 1)
            await pipe.execute()
