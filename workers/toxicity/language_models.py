"""Language models: a local Hugging Face classifier per language detoxify does not read
(`MODERATOR_LANGUAGE_MODELS=ar=DIR,ary=DIR`), verified, loaded once per process, and
scoring that language's comments on the project's toxicity labels.

A directory is what `save_pretrained` writes for a sequence-classification model
(config.json with its labels, the tokenizer files, model.safetensors or
pytorch_model.bin) plus the manifest of `workers.toxicity.language_dir`, checked
before anything is loaded. The model's labels (config.json `id2label`) become the
project's (`label_map`): `toxic`, `hate`, `offensive`, `abusive`... are `toxicity`,
`identity_hate` is `identity_attack`, and so on; labels meaning "not toxic" (`normal`,
`neutral`, `not_toxic`, `clean`..., `LABEL_0` of a two-label model) are dropped; any
other label is refused, naming the directory, rather than silently ignored.

Scores: a single-label model (softmax over its classes) gives each project label the
sum of its classes' probabilities (P(hate or abusive)); a multi-label model
(`problem_type` "multi_label_classification": a sigmoid per output) the highest of them.
Comments are windowed and batched as detoxify's are (`DetoxifyScorer`), in fp32.
torch and transformers are imported by the functions that need them.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import structlog

from moderator.settings import DEFAULT_THRESHOLDS
from workers.errors import ModelUnavailable
from workers.toxicity import language_dir
from workers.toxicity.scorer import DetoxifyScorer, ModelInfo, ToxicityScorer

log = structlog.get_logger()

LABELS = tuple(DEFAULT_THRESHOLDS)  # the project's toxicity labels, detoxify's names
MULTI_LABEL = "multi_label_classification"
# A model's label, folded (`_fold`), to the project's label it scores.
LABEL_NAMES: Mapping[str, str] = {
    **dict.fromkeys(
        ("toxic", "toxicity", "hate", "hateful", "hate_speech", "offensive", "abusive"),
        "toxicity",
    ),
    **dict.fromkeys(("off", "hs"), "toxicity"),  # OSACT's Arabic offensive / hate speech
    **dict.fromkeys(("severe_toxic", "severe_toxicity"), "severe_toxicity"),
    **dict.fromkeys(("identity_attack", "identity_hate"), "identity_attack"),
    **dict.fromkeys(("sexual_explicit", "sexually_explicit"), "sexual_explicit"),
    **{label: label for label in ("obscene", "insult", "threat")},
}
# Labels meaning "not toxic": dropped.
NOT_TOXIC = frozenset(
    {"normal", "neutral", "clean", "not_toxic", "non_toxic", "nontoxic", "not_offensive"}
    | {"non_offensive", "not_hate", "non_hate", "not_off", "not_hs"}
)


@dataclass(frozen=True, slots=True)
class LabelMap:
    """How a model's outputs become the project's labels."""

    names: tuple[str, ...]  # per output, the model's own label (config.json's id2label)
    outputs: tuple[str | None, ...]  # per output, its project label; None: "not toxic"
    multi_label: bool  # a sigmoid per output; else a softmax over them

    @property
    def labels(self) -> tuple[str, ...]:
        """The project's labels this model scores, in `LABELS` order."""
        return tuple(label for label in LABELS if label in self.outputs)

    def combine(self, probabilities: Sequence[float]) -> list[float]:
        """One output row's probabilities as one score per label of `labels`."""
        scores = []
        for label in self.labels:
            mine = [p for p, out in zip(probabilities, self.outputs, strict=True) if out == label]
            scores.append(max(mine) if self.multi_label else min(1.0, sum(mine)))
        return scores


def label_map(id2label: Mapping[int, str], problem_type: str | None, directory: Path) -> LabelMap:
    """The project's label of each of a model's outputs (config.json's `id2label`), or a
    ModelUnavailable naming `directory` and the labels that cannot be read."""
    given = tuple(str(id2label[index]) for index in sorted(id2label))
    names = [_fold(label) for label in given]
    multi_label = problem_type == MULTI_LABEL or len(names) == 1
    if names == ["label_0", "label_1"]:  # a binary model's default names: 1 is toxic
        return LabelMap(given, (None, "toxicity"), multi_label)
    unknown = [label for label, name in zip(given, names, strict=True) if not _known(name)]
    if unknown:
        raise ModelUnavailable(
            f"{directory}: the model's labels {unknown} mean nothing to the workers; each "
            f"label must be one of {sorted(LABEL_NAMES)} (scored) or {sorted(NOT_TOXIC)} "
            f"(not toxic): rename them in config.json's id2label and write the manifest again"
        )
    outputs = tuple(LABEL_NAMES.get(name) for name in names)
    if not any(outputs):
        raise ModelUnavailable(f"{directory}: none of the model's labels {list(given)} is toxic")
    if not multi_label and all(outputs):
        raise ModelUnavailable(
            f"{directory}: a single-label model needs a class meaning not toxic (one of "
            f"{sorted(NOT_TOXIC)}), or every comment would score 1"
        )
    return LabelMap(given, outputs, multi_label)


def config_label_map(directory: Path) -> LabelMap:
    """`label_map` of `directory`'s config.json, read without loading the model."""
    try:
        from transformers import AutoConfig

        config = AutoConfig.from_pretrained(str(directory), local_files_only=True)
    except Exception as exc:  # whatever transformers raises: say what the directory needs
        raise ModelUnavailable(
            f"{directory}: config.json did not load ({type(exc).__name__}: {exc}); "
            f"{language_dir.how_to(directory)}"
        ) from exc
    return label_map(config.id2label, config.problem_type, directory)


def _fold(label: str) -> str:
    return label.strip().lower().replace("-", "_").replace(" ", "_")


def _known(name: str) -> bool:
    return name in LABEL_NAMES or name in NOT_TOXIC


@dataclass(frozen=True, slots=True)
class _Parts:
    """What `DetoxifyScorer` reads of a `detoxify.Detoxify`."""

    model: Any
    tokenizer: Any
    class_names: tuple[str, ...]


class LanguageModelScorer(DetoxifyScorer):
    """A `ToxicityScorer` around a Hugging Face sequence classifier: detoxify's windows
    and batches, its outputs turned into the project's labels by `label_map`."""

    def __init__(self, model: Any, tokenizer: Any, labels: LabelMap, info: ModelInfo) -> None:
        self.label_map = labels
        super().__init__(_Parts(model, tokenizer, labels.labels), info)

    def _probabilities(self, windows: list[list[int]]) -> list[list[float]]:
        import torch

        logits = self._logits(windows).float()
        if self.label_map.multi_label:
            probabilities = torch.sigmoid(logits)
        else:
            probabilities = torch.softmax(logits, dim=-1)
        return [self.label_map.combine(row) for row in probabilities.tolist()]


def load_model(directory: Path) -> LanguageModelScorer:
    """Verify `directory` against its manifest, then load its tokenizer and model from
    local files only, in eval mode. ModelUnavailable, naming the directory, otherwise."""
    started = time.perf_counter()
    manifest = language_dir.verify(directory)
    try:
        from transformers import AutoModelForSequenceClassification, AutoTokenizer
        from transformers.utils import logging

        logging.disable_progress_bar()  # type: ignore[no-untyped-call]
        tokenizer = AutoTokenizer.from_pretrained(str(directory), local_files_only=True)
        model = AutoModelForSequenceClassification.from_pretrained(
            str(directory), local_files_only=True
        )
    except Exception as exc:  # whatever transformers raises: say what the directory needs
        raise ModelUnavailable(
            f"{directory} did not load ({type(exc).__name__}: {exc}); "
            f"{language_dir.how_to(directory)}"
        ) from exc
    if not getattr(tokenizer, "is_fast", False) or tokenizer.pad_token_id is None:
        raise ModelUnavailable(
            f"{directory}: the tokenizer must be a fast one (tokenizer.json) with a padding "
            "token, as `save_pretrained` writes it for BERT-like models"
        )
    labels = label_map(model.config.id2label, model.config.problem_type, directory)
    info = ModelInfo(f"language-model/{directory.name}", manifest.weights_sha256)
    try:
        scorer = LanguageModelScorer(model, tokenizer, labels, info)
    except (AttributeError, TypeError, ValueError) as exc:  # a config without a window
        raise ModelUnavailable(f"{directory}: {type(exc).__name__}: {exc}") from exc
    log.info(
        "language_model_loaded",
        model=info.name,
        directory=str(directory),
        weights_sha256=info.checkpoint_sha256,
        labels=list(scorer.labels),
        multi_label=labels.multi_label,
        window=scorer.window,
        duration_ms=round((time.perf_counter() - started) * 1000),
    )
    return scorer


def load_language_models(
    pairs: Sequence[tuple[str, str]], *, fallback: str
) -> dict[str, ToxicityScorer | None]:
    """The model of each (language, directory) of `MODERATOR_LANGUAGE_MODELS`, each
    directory loaded once. One that does not load stops the start (ModelUnavailable
    naming the variable and the directory), or with `fallback` "hold" is None: its
    languages' comments are held with `check_failed.toxicity`."""
    by_directory: dict[str, ToxicityScorer | None] = {}
    for _, directory in pairs:
        if directory not in by_directory:
            languages = [other for other, used in pairs if used == directory]
            by_directory[directory] = _load_or_hold(languages, directory, fallback)
    return {language: by_directory[directory] for language, directory in pairs}


def _load_or_hold(languages: list[str], directory: str, fallback: str) -> ToxicityScorer | None:
    try:
        return load_model(Path(directory))
    except ModelUnavailable as exc:
        setting = ",".join(f"{language}={directory}" for language in languages)
        if fallback != "hold":
            raise ModelUnavailable(
                f"MODERATOR_LANGUAGE_MODELS ({setting}): {exc} (with "
                "MODERATOR_TOXICITY_FALLBACK=hold the worker starts and holds these comments)"
            ) from exc
        log.warning(
            "language_model_unavailable",
            languages=languages,
            directory=directory,
            error=str(exc),
            consequence=f"comments in {', '.join(languages)} are held with check_failed.toxicity",
        )
        return None
