"""The site model's precision window: its entries, and where a language stands.

Per language, the moderators' latest `WINDOW` decisions on comments the site
model scored (`workers.sitemodel` records and reads them in Redis). An entry says
whether the model would have published the comment (clean at the clean
threshold) and whether the moderator approved it, with its evidence, the largest
of its spam and toxicity evidence, which says how sure it was, and the comment's
id ("p1:-7.30:<id>", "n0::<id>"); entries written before carry less ("n", "p1",
"p0", "p1:-7.30"). `standing` finds, from the entries, the loosest evidence at
which the decisions show the precision asked (`LanguageStatus.publish_below`).
No I/O here.
"""

from __future__ import annotations

import bisect
import dataclasses
import itertools
import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Final

from moderator.settings import Settings

WINDOW: Final = 500  # the latest decisions per language that measure precision
WOULD_PUBLISH_APPROVED: Final = "p1"
WOULD_PUBLISH_REJECTED: Final = "p0"
WOULD_HOLD_APPROVED: Final = "n1"
WOULD_HOLD_REJECTED: Final = "n0"
LEVEL_STEP: Final = 0.5  # the confidences tried, from the clean threshold down
LEVELS: Final = 17  # so down to 8 below it


@dataclass(frozen=True, slots=True)
class LanguageStatus:
    language: str
    decisions: int  # in the window
    would_publish: int  # at the clean threshold
    approved: int  # of those it would publish
    publish_below: float | None = None  # the evidence it is proven at, if any
    proven_would_publish: int = 0  # at that evidence
    proven_approved: int = 0
    rescored: int = 0  # of the decisions, scored again with today's counts (`remeasure`)

    @property
    def precision(self) -> float | None:
        return self.approved / self.would_publish if self.would_publish else None

    @property
    def proven(self) -> bool:
        """Whether it publishes in this language (at some confidence)."""
        return self.publish_below is not None

    def to_dict(self) -> dict[str, Any]:
        precision = self.precision
        return {
            "language": self.language,
            "decisions": self.decisions,
            "would_publish": self.would_publish,
            "approved": self.approved,
            "precision": None if precision is None else round(precision, 4),
            "publish_below": self.publish_below,
            "proven_would_publish": self.proven_would_publish,
            "proven_approved": self.proven_approved,
            "rescored": self.rescored,
        }


def standing(
    settings: Settings, language: str, entries: Sequence[tuple[str, float | None]]
) -> LanguageStatus:
    """Where it stands in `language`, and the loosest evidence it is proven at.
    Precision on a handful proves nothing: a level counts once the moderators have
    decided `min_decisions` comments it scored there, `min_would_publish` of them
    comments it would have published at that level."""
    s = settings
    # An entry with no evidence (written before it was recorded) counts, approved, at
    # the clean threshold only, and, not approved, at every level: it never makes a
    # surer level look better than it was.
    would = [
        (
            evidence
            if evidence is not None
            else s.site_model_clean_evidence
            if kind == WOULD_PUBLISH_APPROVED
            else -math.inf,
            kind == WOULD_PUBLISH_APPROVED,
        )
        for kind, evidence in entries
        if kind
    ]
    status = LanguageStatus(
        language, len(entries), len(would), sum(approved for _, approved in would)
    )
    if len(entries) < s.site_model_min_decisions:
        return status
    # Surest first: the comments kept at a level are a prefix, counted once.
    would.sort(key=lambda entry: entry[0])
    evidences = [evidence for evidence, _ in would]
    approved_before = list(itertools.accumulate((a for _, a in would), initial=0))
    for step in range(LEVELS):
        level = s.site_model_clean_evidence - step * LEVEL_STEP
        kept = bisect.bisect_right(evidences, level)
        if kept < s.site_model_min_would_publish:
            break  # fewer still at the next, surer level
        if approved_before[kept] / kept >= s.site_model_precision:
            return dataclasses.replace(
                status,
                publish_below=level,
                proven_would_publish=kept,
                proven_approved=approved_before[kept],
            )
    return status


def encode_entry(
    would_publish: bool, approved: bool, evidence: float | None, comment_id: str | None
) -> str:
    """A window entry (see the module's docstring)."""
    if would_publish:
        entry = WOULD_PUBLISH_APPROVED if approved else WOULD_PUBLISH_REJECTED
    else:
        entry = WOULD_HOLD_APPROVED if approved else WOULD_HOLD_REJECTED
    value = f"{evidence:.2f}" if evidence is not None and math.isfinite(evidence) else ""
    if comment_id:
        return f"{entry}:{value}:{comment_id}"
    return f"{entry}:{value}" if value and would_publish else entry


_STATUS_FIELDS: Final = frozenset(f.name for f in dataclasses.fields(LanguageStatus))


def measured_with(settings: Settings) -> dict[str, float]:
    """The settings a standing depends on: one kept under others is measured again."""
    return {
        "min_examples": settings.site_model_min_examples,
        "clean_evidence": settings.site_model_clean_evidence,
        "min_decisions": settings.site_model_min_decisions,
        "min_would_publish": settings.site_model_min_would_publish,
        "precision": settings.site_model_precision,
    }


def encode_status(status: LanguageStatus, settings: Settings) -> str:
    return json.dumps({**dataclasses.asdict(status), "measured_with": measured_with(settings)})


def stored_status(language: str, raw: str, settings: Settings) -> LanguageStatus | None:
    """A status kept by `SiteModel.remeasure`; None when it cannot be read (damaged, or
    another version's) or was measured under other settings (an operator changed the
    precision asked): the window is read instead until it is measured again."""
    try:
        fields = json.loads(raw)
        if fields.get("measured_with") != measured_with(settings):
            return None
        known = {k: v for k, v in fields.items() if k in _STATUS_FIELDS}
        return LanguageStatus(**{**known, "language": language})
    except (ValueError, TypeError, AttributeError):
        return None


@dataclass(frozen=True, slots=True)
class Entry:
    kind: str  # WOULD_PUBLISH_APPROVED, WOULD_PUBLISH_REJECTED, or "" (it would hold)
    evidence: float | None
    approved: bool | None  # None in entries written before it was recorded for all
    comment_id: str


def parse_entry(raw: str) -> Entry:
    kind, _, rest = raw.partition(":")
    _, _, comment_id = rest.partition(":")
    approved = {"p1": True, "n1": True, "p0": False, "n0": False}.get(kind)
    return Entry(*entry_kind(raw), approved, comment_id)


def entry_kind(raw: str) -> tuple[str, float | None]:
    """A window entry as (kind, evidence): kind "" for a comment it would not publish,
    evidence None where the entry has none (written before it was recorded)."""
    kind, _, rest = raw.partition(":")
    value = rest.partition(":")[0]
    if kind not in (WOULD_PUBLISH_APPROVED, WOULD_PUBLISH_REJECTED):
        return "", None
    try:
        evidence = float(value)
    except ValueError:
        return kind, None
    return kind, evidence if math.isfinite(evidence) else None
