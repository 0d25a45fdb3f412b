"""Fake scorers for the worker: the policy and the pipeline are under test, not the model
(the real detoxify model is tested in tests/test_toxicity.py on a tiny checkpoint)."""

from __future__ import annotations

import re
from collections.abc import Sequence

from workers.toxicity.scorer import ModelInfo

# The labels of detoxify's unbiased and multilingual models.
LABELS = (
    "toxicity",
    "severe_toxicity",
    "obscene",
    "identity_attack",
    "insult",
    "threat",
    "sexual_explicit",
)


class FakeToxicity:
    """Insults on the word "idiot"; fails on "POISON"; otherwise calm."""

    info = ModelInfo(name="detoxify/fake", checkpoint_sha256="0" * 64)
    labels: tuple[str, ...] = LABELS

    def __init__(self) -> None:
        self.calls = 0
        self.texts: list[str] = []  # every text scored, in order

    def score(self, texts: Sequence[str]) -> list[dict[str, float]]:
        self.calls += 1
        self.texts.extend(texts)
        if any("POISON" in text for text in texts):
            raise RuntimeError("the model choked on this comment")
        return [
            {
                label: (0.93 if "idiot" in text and label in ("toxicity", "insult") else 0.01)
                for label in LABELS
            }
            for text in texts
        ]


class GradedToxicity:
    """The insult score is the first number in the text, in percent; the rest is calm."""

    info = ModelInfo(name="detoxify/graded", checkpoint_sha256="0" * 64)
    labels: tuple[str, ...] = LABELS

    def score(self, texts: Sequence[str]) -> list[dict[str, float]]:
        return [
            {label: self._insult(text) if label == "insult" else 0.01 for label in LABELS}
            for text in texts
        ]

    @staticmethod
    def _insult(text: str) -> float:
        numbers = re.findall(r"\d+", text)
        return int(numbers[0]) / 100 if numbers else 0.01
