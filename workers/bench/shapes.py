"""The shape of a set of toxicity scores, as `moderator bench scoring` reports it: how
much of it lies where a faster path may have to score again."""

from __future__ import annotations

from collections.abc import Mapping, Sequence


def bands(scores: Sequence[Mapping[str, float]]) -> dict[str, float]:
    """The share of label scores under 0.2, between 0.2 and 0.9, and above: the shape
    the decisions are taken on (a random model's follows `--score-shape`)."""
    values = [value for row in scores for value in row.values()]
    if not values:
        return {}
    count = len(values)
    return {
        "under_0.2": round(sum(v < 0.2 for v in values) / count, 4),
        "0.2_to_0.9": round(sum(0.2 <= v <= 0.9 for v in values) / count, 4),
        "over_0.9": round(sum(v > 0.9 for v in values) / count, 4),
    }


def comments_between(scores: Sequence[Mapping[str, float]]) -> float:
    """The share of comments with some label score between 0.2 and 0.9: those a faster
    path may have to score again (labels go together, so it is not seven times the
    share of label scores there)."""
    if not scores:
        return 0.0
    return round(sum(any(0.2 <= v <= 0.9 for v in row.values()) for row in scores) / len(scores), 4)
