"""Which model scores which comment: the language model of its detected language
(`MODERATOR_LANGUAGE_MODELS`, `workers.toxicity.language_models`) when there is one,
detoxify otherwise.

A batch is split by model and each model scores its part in one `score()` call, off
the event loop; when that call fails, its comments are scored one at a time, so that a
poison comment fails alone. Every score carries the model that made it, for the
decision record.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import structlog

from moderator.settings import Settings
from workers.toxicity.scorer import ModelInfo, ToxicityScorer

log = structlog.get_logger()


@dataclass(frozen=True, slots=True)
class Scored:
    """One comment's toxicity scores and the model behind them."""

    scores: dict[str, float]
    model: ModelInfo
    path: str = "scored"  # the cascade's: "fast" (int8) or "fp32" (`workers.toxicity.cascade`)


# Per comment: its scores; the exception its scoring raised even alone; or None when
# no model reads it (held with `check_failed.toxicity`).
Result = Scored | BaseException | None


class ToxicityRouter:
    """Scores each comment with the model of its language, detoxify (`default`) for the
    languages without one. A language mapped to None has a model configured that is not
    loaded: its comments get no score, never detoxify's, which does not read them."""

    def __init__(
        self,
        default: ToxicityScorer | None,
        by_language: Mapping[str, ToxicityScorer | None] | None = None,
    ) -> None:
        self._default = default
        self._by_language = dict(by_language or {})

    @classmethod
    def for_settings(
        cls,
        settings: Settings,
        default: ToxicityScorer | None,
        loaded: Mapping[str, ToxicityScorer | None],
    ) -> ToxicityRouter:
        """Every language of `settings.language_models` to its model in `loaded`, or to
        no model when it was not loaded (MODERATOR_TOXICITY_FALLBACK=hold, or a caller
        that loads none)."""
        languages = [language for language, _ in settings.language_models]
        return cls(default, {language: loaded.get(language) for language in languages})

    def use_thresholds(self, thresholds: Mapping[str, float]) -> None:
        """The thresholds decisions are taken on now (a promoted policy may change them),
        for a scorer whose work depends on them (the cascade)."""
        for scorer in (self._default, *self._by_language.values()):
            if scorer is not None and hasattr(scorer, "thresholds"):
                scorer.thresholds = dict(thresholds)

    def scorer_for(self, language: str) -> ToxicityScorer | None:
        if language in self._by_language:
            return self._by_language[language]
        return self._default

    async def score(self, texts: Sequence[str], languages: Sequence[str]) -> list[Result]:
        """One result per text, in order; `languages` are the texts' detected codes."""
        groups: dict[ToxicityScorer, list[int]] = {}
        for index, language in enumerate(languages):
            scorer = self.scorer_for(language)
            if scorer is not None:
                groups.setdefault(scorer, []).append(index)
        results: list[Result] = [None] * len(texts)
        for scorer, indexes in groups.items():
            scored = await _score_group(scorer, [texts[i] for i in indexes])
            for index, result in zip(indexes, scored, strict=True):
                if isinstance(result, BaseException):
                    results[index] = result
                else:
                    scores, path = result
                    results[index] = Scored(scores, scorer.info, path)
        return results


async def _score_group(
    scorer: ToxicityScorer, texts: list[str]
) -> list[tuple[dict[str, float], str] | BaseException]:
    try:
        return list(await asyncio.to_thread(_scores, scorer, texts))
    except Exception:  # a poison comment: find it by scoring one at a time
        log.warning("toxicity_batch_failed", size=len(texts), model=scorer.info.name, exc_info=True)
    results: list[tuple[dict[str, float], str] | BaseException] = []
    for text in texts:
        try:
            results.append((await asyncio.to_thread(_scores, scorer, [text]))[0])
        except Exception as exc:  # the per-message boundary
            results.append(exc)
    return results


def _scores(scorer: ToxicityScorer, texts: list[str]) -> list[tuple[dict[str, float], str]]:
    """Each text's scores and the path that made them (the cascade says; else "scored")."""
    with_paths = getattr(scorer, "score_with_paths", None)
    if with_paths is not None:
        scores, paths = with_paths(texts)
        return list(zip(scores, paths, strict=True))
    return [(row, "scored") for row in scorer.score(texts)]
