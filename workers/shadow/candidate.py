"""A candidate policy: overrides of the policy in force, validated, applied over it.

A `Candidate` overrides parts of the policy in force: detoxify thresholds, the spam
thresholds, the rule for languages the model does not read, and changes to the
banned and suspect word lists. What is not given stays as it is. Candidates are
replayed over past decisions (`workers.shadow.evaluation`), run beside the active
policy on new comments (`workers.shadow.live`) and promoted, their rules then stored
as the overrides in force (`workers.shadow.overrides`).
"""

from __future__ import annotations

import dataclasses
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from moderator.settings import DEFAULT_THRESHOLDS
from moderator.storage.wordlists import Term
from moderator.web.validation import MAX_TERM_CHARS, clean_term
from workers.policy import Policy
from workers.wordlists import WordList

RULES = ("hold", "score")
LIST_FIELDS = ("banned_add", "banned_remove", "suspect_add", "suspect_remove")
FIELDS = ("thresholds", "spam_hold", "spam_reject", "language_not_covered", *LIST_FIELDS)


def _score(value: object, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ValueError(f"{name}: expected a number between 0 and 1, got {value!r}")
    if not 0.0 <= value <= 1.0:
        raise ValueError(f"{name}: must be between 0 and 1, got {value!r}")
    return float(value)


def _terms(value: object, name: str) -> tuple[str, ...]:
    if not isinstance(value, list | tuple):
        raise ValueError(f"{name}: expected a list of words")
    terms = []
    for raw in value:
        term = clean_term(raw)
        if term is None:
            raise ValueError(f"{name}: {raw!r} is not a word of 1 to {MAX_TERM_CHARS} characters")
        terms.append(term)
    return tuple(sorted(set(terms)))


def _edited(words: WordList, add: Sequence[str], remove: Sequence[str]) -> WordList:
    """`words` with `add` (each in every language) and without `remove`."""
    if not add and not remove:
        return words
    kept = [term for term in words.entries if term.term not in remove]
    return WordList([*kept, *(Term(term) for term in add if term not in remove)])


@dataclass(frozen=True)
class Candidate:
    """Overrides of the active policy; what is not given stays as it is."""

    thresholds: dict[str, float] = field(default_factory=dict)  # only the labels given
    spam_hold: float | None = None
    spam_reject: float | None = None
    language_not_covered: str | None = None  # "hold" or "score"
    banned_add: tuple[str, ...] = ()
    banned_remove: tuple[str, ...] = ()
    suspect_add: tuple[str, ...] = ()
    suspect_remove: tuple[str, ...] = ()

    @classmethod
    def from_dict(cls, data: object) -> Candidate:
        """Validate a candidate (as `to_dict` writes it); `ValueError` names the field."""
        if not isinstance(data, Mapping):
            raise ValueError("a candidate is a JSON object")
        unknown = sorted(set(data) - set(FIELDS))
        if unknown:
            raise ValueError(f"unknown field {unknown[0]!r}; expected {', '.join(FIELDS)}")
        raw = data.get("thresholds") or {}
        if not isinstance(raw, Mapping):
            raise ValueError("thresholds: expected an object of label: number")
        for label in raw:
            if label not in DEFAULT_THRESHOLDS:
                raise ValueError(
                    f"thresholds: unknown label {label!r}; expected {', '.join(DEFAULT_THRESHOLDS)}"
                )
        thresholds = {label: _score(v, f"thresholds.{label}") for label, v in sorted(raw.items())}
        hold, reject = (
            None if data.get(name) is None else _score(data[name], name)
            for name in ("spam_hold", "spam_reject")
        )
        if hold is not None and reject is not None and reject < hold:
            raise ValueError("spam_reject: must not be below spam_hold")
        rule = data.get("language_not_covered")
        if rule is not None and rule not in RULES:
            raise ValueError(f"language_not_covered: expected hold or score, got {rule!r}")
        lists = {name: _terms(data.get(name) or [], name) for name in LIST_FIELDS}
        for kind in ("banned", "suspect"):
            both = set(lists[f"{kind}_add"]) & set(lists[f"{kind}_remove"])
            if both:
                raise ValueError(f"{kind}_remove: {sorted(both)[0]!r} is also in {kind}_add")
        return cls(thresholds, hold, reject, rule, **lists)

    @classmethod
    def from_json(cls, text: str) -> Candidate:
        try:
            data = json.loads(text)
        except ValueError:
            raise ValueError("a candidate is a JSON object") from None
        return cls.from_dict(data)

    def to_dict(self) -> dict[str, Any]:
        """The fields given, nothing else."""
        out: dict[str, Any] = {}
        if self.thresholds:
            out["thresholds"] = dict(sorted(self.thresholds.items()))
        for name in ("spam_hold", "spam_reject", "language_not_covered"):
            if getattr(self, name) is not None:
                out[name] = getattr(self, name)
        for name in LIST_FIELDS:
            if getattr(self, name):
                out[name] = list(getattr(self, name))
        return out

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False, separators=(",", ":"))

    @property
    def empty(self) -> bool:
        return not self.to_dict()

    def rules(self) -> Candidate:
        """The part stored as policy overrides: thresholds and rules, no word lists."""
        return dataclasses.replace(
            self, banned_add=(), banned_remove=(), suspect_add=(), suspect_remove=()
        )

    def apply(self, policy: Policy) -> Policy:
        """`policy` with these overrides; word lists rebuilt only when they change."""
        changed = dataclasses.replace(
            policy,
            thresholds={**policy.thresholds, **self.thresholds},
            spam_hold=policy.spam_hold if self.spam_hold is None else self.spam_hold,
            spam_reject=policy.spam_reject if self.spam_reject is None else self.spam_reject,
            language_not_covered=self.language_not_covered or policy.language_not_covered,
            banned=_edited(policy.banned, self.banned_add, self.banned_remove),
            suspect=_edited(policy.suspect, self.suspect_add, self.suspect_remove),
        )
        if changed.spam_reject < changed.spam_hold:
            raise ValueError(
                f"spam_reject: {changed.spam_reject} would be below spam_hold {changed.spam_hold}"
            )
        return changed

    def merged_over(self, base: Candidate) -> Candidate:
        """`base` with this candidate's rules on top (promotions accumulate)."""
        return Candidate.from_dict(
            {
                **base.rules().to_dict(),
                **self.rules().to_dict(),
                "thresholds": {**base.thresholds, **self.thresholds},
            }
        )
