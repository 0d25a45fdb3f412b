"""The policy: from a comment's checks to published, held or rejected, with every reason.

Scores select what a human reviews; the model alone never rejects. Rejected
outright: a banned word (an emoji alone never rejects: a banned one holds; nor does a
word only inside quotation marks, reported speech: that holds), or near-certain spam
(still reviewable). Held: a toxicity label at its threshold
(detoxify's, or the language model's of `MODERATOR_LANGUAGE_MODELS`), a suspect word,
likely spam, a language the model does not read, or a check that failed, or what the
site model finds toxic (`workers.sitemodel`). A comment in a language no toxicity model
reads is published only when the site model, proven on that language, finds it clean,
and it names no group of people and no violence (the `sensitive` word list).
Otherwise published.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from moderator.domain import Status, utc_now
from moderator.records import AUTO
from moderator.settings import Settings
from moderator.storage.decisions import Decision, Reason
from moderator.storage.review import LANGUAGE_ONLY
from moderator.storage.wordlists import Term
from workers.language import Language
from workers.sitemodel import Verdict
from workers.spam.signals import SpamResult
from workers.toxicity.scorer import ModelInfo
from workers.wordlists import WordList

# Languages each detoxify model was trained to read (of those the workers detect:
# the multilingual model also reads Italian, Portuguese, Turkish and Russian). "und"
# (no words to read: emoji, punctuation) counts as covered. Arabic and Darija are
# read by none of them, so by default a person reads those comments.
MODEL_LANGUAGES: Mapping[str, frozenset[str]] = {
    "original": frozenset({"en"}),
    "unbiased": frozenset({"en"}),
    "original-small": frozenset({"en"}),
    "unbiased-small": frozenset({"en"}),
    "multilingual": frozenset({"en", "fr", "es"}),
}


@dataclass(frozen=True, slots=True)
class Checks:
    """What the scorers found for one comment."""

    language: Language
    toxicity: Mapping[str, float] | None  # None: the toxicity check could not run
    spam: SpamResult
    banned: tuple[Term, ...] = ()  # the listed terms found (`WordList.matches`)
    suspect: tuple[Term, ...] = ()
    sensitive: tuple[Term, ...] = ()  # the sensitive list's terms found
    # Banned or suspect terms found only inside quotation marks: reported speech.
    quoted: tuple[Term, ...] = ()
    failed: tuple[str, ...] = ()  # text checks that did not finish (`workers.checks`)
    site: Verdict | None = None  # the site model's verdict, when it is on and could score
    # How the toxicity scores came: "scored" by a model, "reused" for the same body
    # (`workers.toxicity.reuse`), or "skipped" (rejected whatever a model would say).
    toxicity_path: str = "scored"


def covered_languages(settings: Settings) -> frozenset[str]:
    """The languages a toxicity model reads under `settings` (detoxify's, those of
    `MODERATOR_LANGUAGE_MODELS`, and "und"): `Policy.covered_languages` of its policy."""
    own = frozenset(code for code, _ in settings.language_models)
    return _covered(settings.toxicity_model, own)


def _covered(model_type: str, model_languages: frozenset[str]) -> frozenset[str]:
    return MODEL_LANGUAGES[model_type] | model_languages | {"und"}


@dataclass(frozen=True, slots=True)
class Policy:
    thresholds: Mapping[str, float]
    spam_hold: float
    spam_reject: float
    model_type: str
    language_not_covered: str  # "hold" or "score"
    banned: WordList
    suspect: WordList
    site_model: str = "publish"  # off, rank, publish (`Settings.site_model`)
    # Terms that keep the site model from publishing alone (groups of people, violence).
    sensitive: WordList = field(default_factory=lambda: WordList(()))
    # Languages a model of their own reads (`Settings.language_models`): covered too.
    model_languages: frozenset[str] = frozenset()
    # The best rank of a comment held as `site_model.sensitive` (`Settings`).
    sensitive_rank: str = "likely_fine"

    @classmethod
    def from_settings(
        cls,
        settings: Settings,
        banned: WordList,
        suspect: WordList,
        sensitive: WordList | None = None,
    ) -> Policy:
        return cls(
            thresholds=dict(settings.thresholds),
            spam_hold=settings.spam_hold_threshold,
            spam_reject=settings.spam_reject_threshold,
            model_type=settings.toxicity_model,
            language_not_covered=settings.language_not_covered,
            banned=banned,
            suspect=suspect,
            site_model=settings.site_model,
            sensitive=sensitive if sensitive is not None else WordList(()),
            model_languages=frozenset(language for language, _ in settings.language_models),
            sensitive_rank=settings.site_model_sensitive_rank,
        )

    @property
    def covered_languages(self) -> frozenset[str]:
        return _covered(self.model_type, self.model_languages)

    def digest(self) -> str:
        """sha256 of the thresholds and lists in force (each term with its languages):
        which policy made a decision."""
        rules = {
            "thresholds": dict(sorted(self.thresholds.items())),
            "spam": [self.spam_hold, self.spam_reject],
            "model_type": self.model_type,
            "language_not_covered": self.language_not_covered,
            "site_model": self.site_model,
            "banned": [[t.term, list(t.languages)] for t in self.banned.entries],
            "suspect": [[t.term, list(t.languages)] for t in self.suspect.entries],
            "sensitive": [[t.term, list(t.languages)] for t in self.sensitive.entries],
        }
        if self.sensitive_rank != "likely_fine":  # likewise
            rules["sensitive_rank"] = self.sensitive_rank
        if self.model_languages:  # only then: the digests of policies without any stay put
            rules["model_languages"] = sorted(self.model_languages)
        canonical = json.dumps(rules, sort_keys=True, ensure_ascii=False)
        return hashlib.sha256(canonical.encode()).hexdigest()

    def decide(self, checks: Checks) -> tuple[Status, tuple[Reason, ...]]:
        reject = [_listed("wordlist.banned", t) for t in checks.banned if not t.wordless]
        hold: list[Reason] = []
        spam = checks.spam.score
        if spam >= self.spam_reject:
            reject.append(Reason("spam.near_certain", score=spam, threshold=self.spam_reject))
        elif spam >= self.spam_hold:
            hold.append(Reason("spam.likely", score=spam, threshold=self.spam_hold))
        hold.extend(self._toxicity_reasons(checks.toxicity, checks.toxicity_path))
        hold.extend(_listed("wordlist.banned", t) for t in checks.banned if t.wordless)
        # A term found only inside quotation marks is reported speech ("il m'a traité de
        # « connard »"), about an insult, not one: the models read the comment, and where
        # none reads its language the site model does not publish it alone.
        hold.extend(_listed("wordlist.suspect", term) for term in checks.suspect)
        hold.extend(Reason(f"check_failed.{check}") for check in checks.failed)
        site = checks.site if self.site_model != "off" else None
        if site is not None and site.toxic:
            evidence = site.prediction.evidence["toxic"]
            hold.append(Reason("site_model.toxic", score=evidence, detail=_clues(site)))
        if (
            self.language_not_covered == "hold"
            and checks.language.code not in self.covered_languages
        ):
            hold.extend(self._language_reasons(checks, site, reject or hold))
        if reject:
            return Status.REJECTED, (*reject, *hold)
        if hold:
            return Status.HELD, tuple(hold)
        return Status.PUBLISHED, ()

    def _language_reasons(
        self, checks: Checks, site: Verdict | None, other: Sequence[Reason]
    ) -> list[Reason]:
        """Held for its language, unless the site model, proven here, finds it clean, no
        spam signal fired (a link, a number, a repeat: below the hold threshold, still
        not the text model's call) and it names no group of people and no violence
        (`checks.sensitive`) nor quotes a listed term (`checks.quoted`): those a person
        reads."""
        code = checks.language.code
        if site is None or not site.clean or other or checks.spam.signals:
            return [Reason("language.not_covered", detail=code)]
        if checks.sensitive or checks.quoted:
            return [_listed("site_model.sensitive", term) for term in checks.sensitive] + [
                _listed("site_model.sensitive", term, detail="quoted") for term in checks.quoted
            ]
        if self.site_model != "publish" or not site.proven:
            return [Reason("site_model.unproven", detail=code)]
        if site.audit_sample:
            return [Reason("site_model.audit_sample", detail=code)]
        return []  # published by the site model: its verdict is in the record's scores

    def rejects_unscored(self, banned: Sequence[Term], spam: SpamResult) -> bool:
        """Whether `decide` rejects this comment whatever its toxicity scores: a banned
        word (one made of words), or near-certain spam. Such a comment is not scored."""
        return spam.score >= self.spam_reject or any(not term.wordless for term in banned)

    def _toxicity_reasons(self, scores: Mapping[str, float] | None, path: str) -> list[Reason]:
        if path == "skipped":
            return []
        if scores is None:
            return [Reason("check_failed.toxicity")]
        return [
            Reason(f"toxicity.{label}", score=score, threshold=self.thresholds[label])
            for label, score in sorted(scores.items(), key=lambda item: -item[1])
            if label in self.thresholds and score >= self.thresholds[label]
        ]


def _listed(code: str, term: Term, *, detail: str | None = None) -> Reason:
    """A word-list reason: the term, where it insults and what it means."""
    return Reason(
        code, match=term.term, languages=term.languages, meaning=term.meaning or None, detail=detail
    )


def _clues(site: Verdict) -> str | None:
    return ", ".join(site.prediction.clues) or None


def rank(
    reasons: Sequence[Reason], site: Verdict | None, *, sensitive_rank: str = "likely_fine"
) -> str | None:
    """How a held comment ranks in the queue: "likely_fine" when it is held for its
    language alone and the site model finds it clean enough, else "suspect" (and so,
    with `sensitive_rank` "suspect", one naming a group of people or violence); None
    when the site model did not score it."""
    if site is None:
        return None
    language_only = all(reason.code in LANGUAGE_ONLY for reason in reasons)
    if sensitive_rank == "suspect" and any(r.code == "site_model.sensitive" for r in reasons):
        return "suspect"
    return "likely_fine" if language_only and site.likely_fine else "suspect"


def would_publish(
    policy: Policy, checks: Checks, status: Status, reasons: Sequence[Reason]
) -> bool:
    """Whether the site model publishes this comment, or would once proven: what its
    precision is measured on (a comment it finds clean but held for other reasons is
    not its call)."""
    if checks.site is None or not checks.site.clean:
        return False
    if checks.language.code in policy.covered_languages:
        return False
    if status == Status.PUBLISHED:
        return True
    codes = {reason.code for reason in reasons}
    return status == Status.HELD and codes <= {"site_model.unproven", "site_model.audit_sample"}


def automatic_decision(
    policy: Policy, digest: str, checks: Checks, model: ModelInfo | None
) -> Decision:
    """The policy's decision on `checks`, with everything that explains it: reasons,
    scores and how they came, the language (and whether the model reads it: the page
    shows no toxicity bars otherwise), the model, the site model's ranking."""
    status, reasons = policy.decide(checks)
    scores: dict[str, Any] = {"spam": checks.spam.to_dict()}
    if checks.quoted:  # reported speech: not held for it, said in the record all the same
        scores["quoted"] = [
            {"match": t.term, "languages": list(t.languages), "meaning": t.meaning or None}
            for t in checks.quoted
        ]
    if checks.toxicity is not None:
        scores["toxicity"] = {k: round(v, 4) for k, v in checks.toxicity.items()}
    if checks.toxicity is not None or checks.toxicity_path == "skipped":
        scores["toxicity_path"] = checks.toxicity_path
    extra: dict[str, Any] = {}
    if checks.site is not None:
        scores["site_model"] = {
            **checks.site.to_dict(),
            "would_publish": would_publish(policy, checks, status, reasons),
        }
        if status == Status.HELD:
            extra["rank"] = rank(reasons, checks.site, sensitive_rank=policy.sensitive_rank)
    return Decision(
        decision=status,
        by=AUTO,
        at=utc_now(),
        reasons=reasons,
        policy=digest,
        language={
            **checks.language.to_dict(),
            "read_by_model": checks.language.code in policy.covered_languages,
        },
        scores=scores,
        model=model.to_dict() if model is not None else None,
        extra=extra,
    )
