"""What `moderator eval` prints: confusion tables per language and label, the wrong
decisions with their reasons, and the decisions issue's targets, each passed or not."""

from __future__ import annotations

import math
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
    count: int | None = None  # for a share: the comments that meet the test...
    n: int | None = None  # ...of these

    @property
    def passed(self) -> bool:
        return self.value >= self.goal if self.at_least else self.value <= self.goal

    @property
    def interval(self) -> tuple[float, float] | None:
        """For a share, its 95% Wilson interval: what the same workers could show on
        another set of this size drawn alike (1 of 45 is 2.2%, and anywhere from 0.4%
        to 11.6%), so that a target missed or met by one comment reads as such."""
        if self.count is None or not self.n:
            return None
        n, p, z2 = self.n, self.count / self.n, WILSON_Z**2
        centre = (p + z2 / (2 * n)) / (1 + z2 / n)
        half = WILSON_Z * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n)) / (1 + z2 / n)
        return max(centre - half, 0.0), min(centre + half, 1.0)

    def text(self) -> str:
        line = (
            f"{'ok  ' if self.passed else 'MISS'} {self.name}: {self.value:.3f} "
            f"({'≥' if self.at_least else '≤'} {self.goal})"
        )
        interval = self.interval
        if interval is not None:
            line += f": {self.count} of {self.n} (95% interval {interval[0]:.3f}–{interval[1]:.3f})"
        return line

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "value": round(self.value, 4),
            "goal": self.goal,
            "passed": self.passed,
        }
        interval = self.interval
        if interval is not None:
            out |= {"count": self.count, "n": self.n, "interval": [round(x, 4) for x in interval]}
        return out


WILSON_Z = 1.959964  # the normal quantile of a two-sided 95% interval


def _share(
    name: str,
    outcomes: Sequence[Outcome],
    test: Callable[[Outcome], bool],
    goal: float,
    *,
    at_least: bool,
) -> Target:
    """A target on the share of `outcomes` (at least one) that meet `test`."""
    count = sum(map(test, outcomes))
    return Target(name, count / len(outcomes), goal, at_least, count, len(outcomes))


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
        targets = [
            _share(f"spam held or rejected [{lang}]", group, _caught, 0.90, at_least=True)
            for lang, group in self._group("spam").items()
        ]
        targets += [
            _share(f"ham held as spam [{lang}]", group, _as_spam, 0.02, at_least=False)
            for lang, group in self._group("ham").items()
        ]
        targets += [
            _share(f"toxic held or rejected [{lang}]", group, _caught, 0.85, at_least=True)
            for lang, group in self._group("toxic").items()
        ]
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
                name = "Arabic and Darija ham published"
                targets.append(_share(name, arabic_ham, _published, 0.70, at_least=True))
            if toxic:
                targets.append(_share("toxic published", toxic, _published, 0.01, at_least=False))
        else:
            if arabic_ham:
                name = "Arabic and Darija ham ranked likely fine"
                targets.append(_share(name, arabic_ham, _likely_fine, 0.90, at_least=True))
            if toxic:
                name = "toxic ranked suspect (or rejected)"
                targets.append(_share(name, toxic, _suspect, 0.90, at_least=True))
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
        lines += [f"  {target.text()}" for target in self.targets]
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


def _published(outcome: Outcome) -> bool:
    return outcome.decision == "published"


def _likely_fine(outcome: Outcome) -> bool:
    return outcome.rank == "likely_fine"


def _suspect(outcome: Outcome) -> bool:
    return outcome.decision == "rejected" or outcome.rank == "suspect"


def _caught(outcome: Outcome) -> bool:
    return outcome.caught


def _as_spam(outcome: Outcome) -> bool:
    return outcome.caught and any(code.startswith("spam.") for code in outcome.reasons)


def _for_a_word(outcome: Outcome) -> bool:
    return outcome.caught and any(code.startswith("wordlist.") for code in outcome.reasons)
