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
  on that language at that confidence: the moderators have decided at least
  `min_decisions` comments it scored there (the last `WINDOW` count), and of
  those it would have published at that confidence (at least
  `min_would_publish`), they approved at least `precision` (99% cannot be told
  from 100% on fewer than 100). The confidence is found per language
  (`publish_below`): the loosest evidence, from the clean threshold down in
  steps of `LEVEL_STEP`, at which the decisions show that precision. A model
  that errs on the comments it is least sure of is proven on the ones it is
  surest of, and opens further as it learns. The precision is today's model's:
  after each training step, the decisions are scored again with the counts of now,
  each as if that comment had not been learned (`remeasure`), and the levels kept
  for every verdict. Until then such comments are held
  as `site_model.unproven`. Once it publishes, a random `audit_share` of what
  it would publish is held anyway (`site_model.audit_sample`), so its
  precision keeps being measured.

Outcomes are recorded per language code (`ar`, `ary`, `mixed`, …) as
moderators decide comments (`record_outcome`, from the workers' training
stream); `status` reports them (`moderator site-model status`).
"""

from __future__ import annotations

import asyncio
import dataclasses
import random
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Any

import redis.asyncio as aioredis
import structlog

from moderator.keys import Keys
from moderator.settings import Settings
from moderator.storage.textcounts import LABELS, TextCounts
from workers.language import UNDETERMINED
from workers.sitewindow import (
    WINDOW,
    WOULD_PUBLISH_APPROVED,
    WOULD_PUBLISH_REJECTED,
    Entry,
    LanguageStatus,
    encode_entry,
    encode_status,
    entry_kind,
    parse_entry,
    standing,
    stored_status,
)
from workers.textmodel import Prediction, leave_out, predict

log = structlog.get_logger()


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
    proven: bool  # its precision here is measured and high enough, as sure as it is of this
    audit_sample: bool  # drawn to be held anyway, to keep measuring precision
    publish_below: float | None = None  # the evidence its language is proven at, if any

    def to_dict(self) -> dict[str, Any]:
        return {
            **self.prediction.to_dict(),
            "language": self.language,
            "proven": self.proven,
            "publish_below": self.publish_below,
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
        levels = {s.language: s.publish_below for s in await self.statuses(sorted(set(languages)))}
        out: list[Verdict | None] = []
        for features, count, language in zip(found, counts, languages, strict=True):
            if features is None:
                out.append(None)
                continue
            prediction = predict(features, count)
            out.append(self._verdict(prediction, language, levels[language], count.in_language))
        return out

    def _verdict(
        self, prediction: Prediction, language: str, level: float | None, in_language: int
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
        # Proven for this comment: the language's decisions show the precision at an
        # evidence at least as sure as this comment's.
        proven = clean and level is not None and worst <= level
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
            audit_sample=proven and self._rng.random() < s.site_model_audit_share,
            publish_below=level,
        )

    async def statuses(self, languages: Sequence[str]) -> list[LanguageStatus]:
        """Where it stands in each language: as last re-measured (`remeasure`), else
        (before any decision there was learned) from the window as the decisions were
        recorded."""
        raw = await self._redis.hmget(self._keys.site_model_levels, list(languages))
        kept = {
            language: stored_status(language, str(value), self._settings)
            for language, value in zip(languages, raw, strict=True)
            if value
        }
        missing = [language for language in languages if kept.get(language) is None]
        async with self._redis.pipeline(transaction=False) as pipe:
            for language in missing:
                pipe.lrange(self._keys.site_model_outcomes(language), 0, WINDOW - 1)
            windows = dict(zip(missing, await pipe.execute() if missing else [], strict=True))
        return [
            kept.get(language)
            or standing(self._settings, language, [entry_kind(str(e)) for e in windows[language]])
            for language in languages
        ]

    async def stale(self) -> list[str]:
        """The languages whose kept status was measured under other settings (or cannot
        be read): `Trainer.seed` measures them again when a worker starts."""
        kept = await self._redis.hgetall(self._keys.site_model_levels)
        return sorted(
            str(language)
            for language, raw in kept.items()
            if stored_status(str(language), str(raw), self._settings) is None
        )

    async def remeasure(
        self, languages: Sequence[str], *, as_recorded: Collection[str] = ()
    ) -> list[LanguageStatus]:
        """Measure each language's window again with what the model knows today, and keep
        the result for `statuses`. A decision whose comment taught the model is scored
        again as if the model had never learned that one comment (`textmodel.leave_out`,
        exact for counts): what today's model says of comments it has not seen, on the
        moderators' decisions, rather than what each younger model said. Entries whose
        comment taught nothing (a plain rejection, a forgotten reader) or that carry no
        id (written before) count as they were recorded, and so does every entry of the
        languages in `as_recorded` (where it never publishes: not worth the CPU)."""
        async with self._redis.pipeline(transaction=False) as pipe:
            for language in languages:
                pipe.lrange(self._keys.site_model_outcomes(language), 0, WINDOW - 1)
            windows = [[parse_entry(str(raw)) for raw in window] for window in await pipe.execute()]
        ids = sorted(
            {entry.comment_id for window in windows for entry in window if entry.comment_id}
        )
        values = await self._redis.hmget(self._keys.text_learned, ids) if ids else []
        learned = {c: str(v) for c, v in zip(ids, values, strict=True) if v}
        before = await self.statuses(languages)
        out = []
        for language, window, was in zip(languages, windows, before, strict=True):
            status = await self._remeasured(
                language, window, {} if language in as_recorded else learned
            )
            await self._redis.hset(
                self._keys.site_model_levels, language, encode_status(status, self._settings)
            )
            if status.publish_below != was.publish_below:
                log.info(  # it opens, widens, narrows or closes a language
                    "site_model_level_changed",
                    language=language,
                    publish_below=status.publish_below,
                    publish_below_before=was.publish_below,
                    decisions=status.decisions,
                    proven_would_publish=status.proven_would_publish,
                    proven_approved=status.proven_approved,
                )
            out.append(status)
        return out

    async def _remeasured(
        self, language: str, window: list[Entry], learned: dict[str, str]
    ) -> LanguageStatus:
        taught: list[tuple[int, str, list[int]]] = []  # window index, label, buckets
        for index, entry in enumerate(window):
            value = learned.get(entry.comment_id) if entry.comment_id else None
            label, _, buckets = (value or "").partition(" ")
            if label in LABELS and entry.approved is not None:
                taught.append((index, label, [int(b) for b in buckets.split()]))
        counts = await self.counts.read([b for _, _, b in taught], [language] * len(taught))

        def rescore() -> list[tuple[str, float | None]]:
            entries = [(entry.kind, entry.evidence) for entry in window]
            for (index, label, buckets), count in zip(taught, counts, strict=True):
                alone = leave_out(count, label, buckets, in_language=True)
                prediction = predict(dict.fromkeys(buckets, ""), alone, explain=False)
                verdict = self._verdict(prediction, language, None, alone.in_language)
                if not verdict.clean:
                    entries[index] = ("", None)
                    continue
                approved = window[index].approved
                kind = WOULD_PUBLISH_APPROVED if approved else WOULD_PUBLISH_REJECTED
                entries[index] = (kind, max(prediction.evidence.values()))
            return entries

        entries = await asyncio.to_thread(rescore)
        return dataclasses.replace(
            standing(self._settings, language, entries), rescored=len(taught)
        )

    async def record_outcome(
        self,
        language: str,
        *,
        would_publish: bool,
        approved: bool,
        evidence: float | None = None,
        comment_id: str | None = None,
    ) -> None:
        """A moderator decided a comment the model had scored in `language`; `evidence`,
        the largest of its spam and toxicity evidence, says how sure it was; with the
        comment's id, `remeasure` can score it again."""
        entry = encode_entry(would_publish, approved, evidence, comment_id)
        key = self._keys.site_model_outcomes(language)
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.lpush(key, entry)
            pipe.ltrim(key, 0, WINDOW - 1)
            await pipe.execute()
