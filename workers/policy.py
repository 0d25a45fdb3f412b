"""The policy: from a comment's checks to published, held or rejected, with every reason.

Scores select what a human reviews; the model alone never rejects. Rejected
outright: a banned word, or near-certain spam (still reviewable). Held: a
detoxify label at its threshold, a suspect word, likely spam, a language the
model does not read, or a check that failed. Otherwise published.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass

from moderator.domain import Status
from moderator.settings import Settings
from moderator.storage.decisions import Reason
from workers.language import Language
from workers.spam.scorer import SpamResult
from workers.wordlists import WordList

# Languages each detoxify model was trained to read. "und" (no words to
# read: emoji, punctuation) counts as covered. Arabic and Darija are read by
# none of them, so by default a person reads those comments.
MODEL_LANGUAGES: Mapping[str, frozenset[str]] = {
    "original": frozenset({"en"}),
    "unbiased": frozenset({"en"}),
    "original-small": frozenset({"en"}),
    "unbiased-small": frozenset({"en"}),
    "multilingual": frozenset({"en", "fr"}),
}


@dataclass(frozen=True, slots=True)
class Checks:
    """What the scorers found for one comment."""

    language: Language
    toxicity: Mapping[str, float] | None  # None: the toxicity check could not run
    spam: SpamResult
    banned: tuple[str, ...] = ()
    suspect: tuple[str, ...] = ()
    failed: tuple[str, ...] = ()  # text checks that did not finish (`workers.checks`)


@dataclass(frozen=True, slots=True)
class Policy:
    thresholds: Mapping[str, float]
    spam_hold: float
    spam_reject: float
    model_type: str
    language_not_covered: str  # "hold" or "score"
    banned: WordList
    suspect: WordList

    @classmethod
    def from_settings(cls, settings: Settings, banned: WordList, suspect: WordList) -> Policy:
        return cls(
            thresholds=dict(settings.thresholds),
            spam_hold=settings.spam_hold_threshold,
            spam_reject=settings.spam_reject_threshold,
            model_type=settings.toxicity_model,
            language_not_covered=settings.language_not_covered,
            banned=banned,
            suspect=suspect,
        )

    @property
    def covered_languages(self) -> frozenset[str]:
        return MODEL_LANGUAGES[self.model_type] | {"und"}

    def digest(self) -> str:
        """sha256 of the thresholds and lists in force: which policy made a decision."""
        canonical = json.dumps(
            {
                "thresholds": dict(sorted(self.thresholds.items())),
                "spam": [self.spam_hold, self.spam_reject],
                "model_type": self.model_type,
                "language_not_covered": self.language_not_covered,
                "banned": list(self.banned.terms),
                "suspect": list(self.suspect.terms),
            },
            sort_keys=True,
            ensure_ascii=False,
        )
        return hashlib.sha256(canonical.encode()).hexdigest()

    def decide(self, checks: Checks) -> tuple[Status, tuple[Reason, ...]]:
        reject = [Reason("wordlist.banned", match=term) for term in checks.banned]
        hold: list[Reason] = []
        spam = checks.spam.score
        if spam >= self.spam_reject:
            reject.append(Reason("spam.near_certain", score=spam, threshold=self.spam_reject))
        elif spam >= self.spam_hold:
            hold.append(Reason("spam.likely", score=spam, threshold=self.spam_hold))
        hold.extend(self._toxicity_reasons(checks.toxicity))
        hold.extend(Reason("wordlist.suspect", match=term) for term in checks.suspect)
        hold.extend(Reason(f"check_failed.{check}") for check in checks.failed)
        if (
            self.language_not_covered == "hold"
            and checks.language.code not in self.covered_languages
        ):
            hold.append(Reason("language.not_covered", detail=checks.language.code))
        if reject:
            return Status.REJECTED, (*reject, *hold)
        if hold:
            return Status.HELD, tuple(hold)
        return Status.PUBLISHED, ()

    def _toxicity_reasons(self, scores: Mapping[str, float] | None) -> list[Reason]:
        if scores is None:
            return [Reason("check_failed.toxicity")]
        return [
            Reason(f"toxicity.{label}", score=score, threshold=self.thresholds[label])
            for label, score in sorted(scores.items(), key=lambda item: -item[1])
            if label in self.thresholds and score >= self.thresholds[label]
        ]
