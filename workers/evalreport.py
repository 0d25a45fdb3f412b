"""What `moderator eval` prints: confusion tables per language and label, the wrong
decisions with their reasons, and the decisions issue's targets, each passed or not."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from moderator.storage.review import LANGUAGE_ONLY
from workers.labelled import LABELS, Labelled

# The languages no detoxify model reads: Arabic and Darija, whatever the script or region
# ("ary-Arab", "ary-Latn", "ar-MA"); with "mixed", where what is published, the site
# model published.
ARABIC_LANGUAGES = frozenset({"ar", "ary"})


def arabic(lang: str) -> bool:
    return lang.split("-")[0] in ARABIC_LANGUAGES


def site_model_group(lang: str) -> bool:
    return arabic(lang) or lang == "mixed"


PROTECTED_TAGS = frozenset({"identity_mention", "political_criticism", "official_criticism"})


@dataclass(frozen=True, slots=True)
class Outcome:
    row: Labelled
    decision: str  # published, held, rejected (or "pending" if it was never decided)
    reasons: tuple[str, ...]
    rank: str | None
    detected: str  # the language the worker detected

    @classmethod
    def of(cls, row: Labelled, record: dict[str, Any]) -> Outcome:
        return cls(
            row=row,
            decision=str(record.get("decision", "pending")),
            reasons=tuple(str(r.get("code")) for r in record.get("reasons", [])),
            rank=record.get("rank"),
            detected=str((record.get("language") or {}).get("code", "und")),
        )

    @property
    def caught(self) -> bool:
        return self.decision in ("held", "rejected")

    @property
    def held_for_language_only(self) -> bool:
        return self.decision == "held" and all(code in LANGUAGE_ONLY for code in self.reasons)

    @property
    def wrong(self) -> bool:
        if self.row.label == "ham":
            return self.decision == "rejected" or (
                self.decision == "held" and not self.held_for_language_only
            )
        return self.decision == "published"


@dataclass(frozen=True, slots=True)
class Target:
    name: str
    value: float
    goal: float
    at_least: bool  # value must be >= goal (else <= goal)

    @property
    def passed(self) -> bool:
        return self.value >= self.goal if self.at_least else self.value <= self.goal

    def to_dict(self) -> dict[str, Any]:
        return {"value": round(self.value, 4), "goal": self.goal, "passed": self.passed}


def _share(outcomes: Sequence[Outcome], test: Callable[[Outcome], bool]) -> float:
    return sum(map(test, outcomes)) / len(outcomes) if outcomes else 0.0


@dataclass
class Report:
    outcomes: list[Outcome]
    warmed: bool
    replayed: int
    seconds: float
    site_model: list[dict[str, Any]] = field(default_factory=list)
    targets: list[Target] = field(init=False)

    def __post_init__(self) -> None:
        self.targets = self._targets()

    @property
    def passed(self) -> bool:
        return all(target.passed for target in self.targets)

    def _group(self, label: str) -> dict[str, list[Outcome]]:
        groups: dict[str, list[Outcome]] = defaultdict(list)
        for outcome in self.outcomes:
            if outcome.row.label == label:
                groups[outcome.row.lang].append(outcome)
        return dict(sorted(groups.items()))

    def _targets(self) -> list[Target]:
        targets = []
        for lang, group in self._group("spam").items():
            targets.append(
                Target(f"spam held or rejected [{lang}]", _share(group, _caught), 0.90, True)
            )
        for lang, group in self._group("ham").items():
            targets.append(
                Target(f"ham held as spam [{lang}]", _share(group, _as_spam), 0.02, False)
            )
        for lang, group in self._group("toxic").items():
            targets.append(
                Target(f"toxic held or rejected [{lang}]", _share(group, _caught), 0.85, True)
            )
        ham = [o for o in self.outcomes if o.row.label == "ham"]
        toxic = [o for o in self.outcomes if o.row.label == "toxic"]
        targets.append(Target("ham rejected", sum(o.decision == "rejected" for o in ham), 0, False))
        protected = [o for o in ham if PROTECTED_TAGS & set(o.row.tags)]
        targets.append(
            Target("protected ham held for a word", sum(map(_for_a_word, protected)), 0, False)
        )
        arabic_ham = [o for o in ham if arabic(o.row.lang)]
        # A share of no comment is no figure: a set without Arabic or Darija ham (or
        # without toxic comments) is not judged on them.
        if self.warmed:
            if arabic_ham:
                published = _share(arabic_ham, lambda o: o.decision == "published")
                targets.append(Target("Arabic and Darija ham published", published, 0.70, True))
            if toxic:
                leaked = _share(toxic, lambda o: o.decision == "published")
                targets.append(Target("toxic published", leaked, 0.01, False))
        else:
            if arabic_ham:
                fine = _share(arabic_ham, lambda o: o.rank == "likely_fine")
                targets.append(Target("Arabic and Darija ham ranked likely fine", fine, 0.90, True))
            if toxic:
                suspect = _share(toxic, lambda o: o.decision == "rejected" or o.rank == "suspect")
                targets.append(Target("toxic ranked suspect (or rejected)", suspect, 0.90, True))
        return targets

    def site_model_published(self) -> dict[str, Any]:
        """What was published where the site model decides (Arabic, Darija, mixed) and how
        much of it was ham: the precision its windows are asked to show (99%), measured
        here on comments it never learned."""
        published = [
            o for o in self.outcomes if site_model_group(o.row.lang) and o.decision == "published"
        ]
        ham = sum(o.row.label == "ham" for o in published)
        return {
            "published": len(published),
            "ham": ham,
            "precision": round(ham / len(published), 4) if published else None,
        }

    def table(self) -> list[dict[str, Any]]:
        rows = []
        groups = sorted({(o.row.lang, o.row.label) for o in self.outcomes})
        for lang, label in groups:
            group = [o for o in self.outcomes if o.row.lang == lang and o.row.label == label]
            counts = Counter(o.decision for o in group)
            ranks = Counter(o.rank for o in group if o.decision == "held")
            rows.append(
                {
                    "lang": lang,
                    "label": label,
                    "n": len(group),
                    "published": counts["published"],
                    "held": counts["held"],
                    "likely_fine": ranks["likely_fine"],
                    "suspect": ranks["suspect"],
                    "rejected": counts["rejected"],
                }
            )
        return rows

    def text(self) -> str:
        head = "lang       label     n  publ  held  fine  susp  rej"
        lines = [
            f"moderator eval: {len(self.outcomes)} comments"
            + (f", after replaying {self.replayed} moderators' decisions" if self.warmed else "")
            + f"; {1000 * self.seconds / max(len(self.outcomes), 1):.1f} ms per comment",
            "",
            head,
        ]
        for row in self.table():
            lines.append(
                f"{row['lang']:<10} {row['label']:<6} {row['n']:>4} {row['published']:>5} "
                f"{row['held']:>5} {row['likely_fine']:>5} {row['suspect']:>5} {row['rejected']:>4}"
            )
        lines += ["", "Site model (moderators' decisions on comments it scored, per language):"]
        lines += [
            f"  {s['language']:<6} decisions {s['decisions']:>4}, would publish "
            f"{s['would_publish']:>4}, approved {s['approved']:>4}, precision {s['precision']}"
            + (f" ({s['rescored']} scored again)" if s.get("rescored") else "")
            + (
                f"; publishes below evidence {s['publish_below']} "
                f"({s['proven_approved']} of {s['proven_would_publish']} approved there)"
                if s.get("publish_below") is not None
                else ""
            )
            for s in self.site_model
        ]
        if self.warmed:
            mine = self.site_model_published()
            lines.append(
                f"  published here in Arabic, Darija and mixed: {mine['published']}, of them "
                f"ham {mine['ham']} (precision {mine['precision']})"
            )
        lines += ["", "Targets:"]
        lines += [
            f"  {'ok  ' if t.passed else 'MISS'} {t.name}: {t.value:.3f} "
            f"({'≥' if t.at_least else '≤'} {t.goal})"
            for t in self.targets
        ]
        wrong = [o for o in self.outcomes if o.wrong]
        lines += ["", f"Wrong decisions ({len(wrong)}):"]
        lines += [
            f"  [{o.row.lang} {o.row.label} → {o.decision}] {', '.join(o.reasons) or '-'}: "
            f"{o.row.body[:90]!r}"
            for o in wrong
        ]
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        return {
            "warmed": self.warmed,
            "replayed": self.replayed,
            "ms_per_comment": round(1000 * self.seconds / max(len(self.outcomes), 1), 2),
            "table": self.table(),
            "site_model": self.site_model,
            "site_model_published": self.site_model_published(),
            "targets": {t.name: t.to_dict() for t in self.targets},
            "wrong": [
                {
                    "lang": o.row.lang,
                    "label": o.row.label,
                    "decision": o.decision,
                    "reasons": list(o.reasons),
                    "body": o.row.body,
                }
                for o in self.outcomes
                if o.wrong
            ],
            "labels": list(LABELS),
        }


def _caught(outcome: Outcome) -> bool:
    return outcome.caught


def _as_spam(outcome: Outcome) -> bool:
    return outcome.caught and any(code.startswith("spam.") for code in outcome.reasons)


def _for_a_word(outcome: Outcome) -> bool:
    return outcome.caught and any(code.startswith("wordlist.") for code in outcome.reasons)
