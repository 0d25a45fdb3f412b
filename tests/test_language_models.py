"""Language models (`MODERATOR_LANGUAGE_MODELS`): the setting, the manifest that keeps a
changed file unloaded, label maps, and comments in a language with a model of its own
scored by it in the worker, while the other languages go on as before.

The models are tiny BERT classifiers built here (random weights, the classifier's weights
zeroed and its bias set so that one label dominates whatever the text), saved with
`save_pretrained` and loaded by the production code.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
import redis.asyncio as aioredis
from aiohttp.test_utils import TestClient
from structlog.testing import capture_logs

from moderator.errors import SettingsError
from moderator.keys import Keys
from moderator.settings import DETECTED_LANGUAGES, Settings
from tests.fakes import FakeToxicity
from tests.helpers import codes, decision_of, submit
from tests.model_factory import SENTENCES, restored_process_state
from workers.consumer import Worker
from workers.errors import ModelUnavailable
from workers.language import CODES, UNDETERMINED
from workers.policy import Policy
from workers.toxicity import language_dir
from workers.toxicity.cli import main
from workers.toxicity.language_models import (
    LanguageModelScorer,
    label_map,
    load_language_models,
    load_model,
)
from workers.toxicity.routing import ToxicityRouter
from workers.wordlists import WordList

ARABIC = "هذا المقال مفيد جدا وشكرا للكاتب على هذا العمل"
DARIJA = "wach had l9anon ghadi y7l lmochkil? bzaf dyal nas m9al9in"
FRENCH = "Très bon article sur la réforme, merci pour ce travail."
THREE_CLASSES = {0: "normal", 1: "abusive", 2: "hate"}


def build_language_model(
    directory: Path,
    id2label: dict[int, str],
    biases: list[float],
    *,
    problem_type: str | None = None,
) -> Path:
    """A tiny BERT classifier as `save_pretrained` writes it, with its manifest: the
    classifier's weights are zero, so its outputs are `biases` whatever the text."""
    import torch
    import transformers
    from tokenizers import Tokenizer, models, normalizers, pre_tokenizers, trainers

    wordpiece = Tokenizer(models.WordPiece(unk_token="[UNK]"))
    wordpiece.normalizer = normalizers.BertNormalizer(lowercase=True)
    wordpiece.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    specials = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    trainer = trainers.WordPieceTrainer(
        vocab_size=300, special_tokens=specials, show_progress=False
    )
    wordpiece.train_from_iterator(SENTENCES * 4, trainer)
    vocab = json.loads(wordpiece.to_str())["model"]["vocab"]
    tokenizer = transformers.BertTokenizer(vocab=vocab, model_max_length=512)
    config = transformers.BertConfig(
        vocab_size=len(tokenizer),
        hidden_size=16,
        num_hidden_layers=1,
        num_attention_heads=2,
        intermediate_size=32,
        num_labels=len(id2label),
        id2label=id2label,
        label2id={label: index for index, label in id2label.items()},
        problem_type=problem_type,
    )
    torch.manual_seed(0)
    model = transformers.BertForSequenceClassification(config)
    with torch.no_grad():
        model.classifier.weight.zero_()
        model.classifier.bias.copy_(torch.tensor(biases))
    model.save_pretrained(directory)
    tokenizer.save_pretrained(directory)
    language_dir.write_manifest(directory)
    return directory


@pytest.fixture(scope="module", autouse=True)
def _process_state() -> Iterator[None]:
    """Give the rest of the session back the hub, torch and logging state it had."""
    with restored_process_state():
        yield


@pytest.fixture(scope="module")
def calm_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_language_model(tmp_path_factory.mktemp("calm"), THREE_CLASSES, [6.0, 0.0, 0.0])


@pytest.fixture(scope="module")
def hateful_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_language_model(tmp_path_factory.mktemp("hateful"), THREE_CLASSES, [0.0, 0.0, 6.0])


@pytest.fixture(scope="module")
def calm(calm_dir: Path) -> LanguageModelScorer:
    return load_model(calm_dir)


@pytest.fixture(scope="module")
def hateful(hateful_dir: Path) -> LanguageModelScorer:
    return load_model(hateful_dir)


# --- the setting -----------------------------------------------------------------------


def test_the_setting_maps_languages_to_directories() -> None:
    settings = Settings.from_env(
        {"MODERATOR_LANGUAGE_MODELS": " ar=/srv/models/arabic, ARY=/srv/models/arabic,mixed=/m "}
    )
    assert settings.language_models == (
        ("ar", "/srv/models/arabic"),
        ("ary", "/srv/models/arabic"),
        ("mixed", "/m"),
    )
    assert Settings.from_env({}).language_models == ()


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("ar", "'ar' is not LANGUAGE=DIRECTORY"),
        ("ar=", "'ar=' is not LANGUAGE=DIRECTORY"),
        ("=/srv/models/arabic", "is not LANGUAGE=DIRECTORY"),
        ("ar=/a,ar=/b", "ar is given twice"),
        ("ar-MA=/a", "'ar-ma' is not a language the workers detect"),
        ("und=/a", "'und' is not a language the workers detect"),
    ],
)
def test_a_bad_setting_names_the_variable(raw: str, message: str) -> None:
    with pytest.raises(SettingsError) as caught:
        Settings.from_env({"MODERATOR_LANGUAGE_MODELS": raw})
    assert str(caught.value).startswith("MODERATOR_LANGUAGE_MODELS: ")
    assert message in str(caught.value)


def test_the_setting_takes_the_languages_the_workers_detect() -> None:
    assert set(DETECTED_LANGUAGES) == set(CODES) - {UNDETERMINED}


# --- the manifest ----------------------------------------------------------------------


def test_the_manifest_lists_every_file_and_the_weights_sum(calm_dir: Path) -> None:
    manifest = language_dir.verify(calm_dir)
    listed = json.loads((calm_dir / "manifest.json").read_text())["files"]
    assert set(listed) == {"config.json", "model.safetensors", "tokenizer.json"} | {
        "tokenizer_config.json"
    }
    assert manifest.weights_sha256 == listed["model.safetensors"]


@pytest.mark.parametrize("name", ["model.safetensors", "config.json"])
def test_a_changed_file_is_refused_before_anything_loads(
    tmp_path: Path, calm_dir: Path, name: str
) -> None:
    directory = _copy(calm_dir, tmp_path / "copy")
    with (directory / name).open("ab") as f:
        f.write(b" ")
    with pytest.raises(ModelUnavailable, match=r"sha256 does not match .*copy it again"):
        load_model(directory)


def test_an_unlisted_file_is_refused_and_hidden_ones_are_not_read(
    tmp_path: Path, calm_dir: Path
) -> None:
    directory = _copy(calm_dir, tmp_path / "copy")
    (directory / ".git").mkdir()
    (directory / ".git" / "HEAD").write_text("ref: refs/heads/main\n")
    language_dir.verify(directory)
    (directory / "pytorch_model.bin").write_bytes(b"not listed")
    with pytest.raises(ModelUnavailable, match=r"pytorch_model\.bin is not listed"):
        language_dir.verify(directory)


def test_a_directory_without_a_manifest_says_how_to_write_one(
    tmp_path: Path, calm_dir: Path
) -> None:
    directory = _copy(calm_dir, tmp_path / "copy")
    (directory / "manifest.json").unlink()
    with pytest.raises(ModelUnavailable) as caught:
        load_model(directory)
    assert f"moderator models manifest --dir {directory}" in str(caught.value)


# --- label maps ------------------------------------------------------------------------


def test_a_single_label_model_sums_its_toxic_classes() -> None:
    labels = label_map(THREE_CLASSES, None, Path("/m"))
    assert labels.outputs == (None, "toxicity", "toxicity")
    assert labels.labels == ("toxicity",)
    assert not labels.multi_label
    # Neither class alone is above 0.8, but the comment is toxic with probability 0.9.
    assert labels.combine([0.1, 0.45, 0.45]) == [0.9]


def test_a_multi_label_model_keeps_the_highest_output_per_label() -> None:
    id2label = {0: "Toxic", 1: "severe-toxic", 2: "insult", 3: "identity_hate", 4: "hate"}
    labels = label_map(id2label, "multi_label_classification", Path("/m"))
    assert labels.multi_label
    expected = ("toxicity", "severe_toxicity", "insult", "identity_attack", "toxicity")
    assert labels.outputs == expected
    assert labels.labels == ("toxicity", "severe_toxicity", "identity_attack", "insult")
    assert labels.combine([0.2, 0.1, 0.7, 0.3, 0.6]) == [0.6, 0.1, 0.3, 0.7]


def test_a_binary_model_with_default_names_scores_its_second_class() -> None:
    labels = label_map({0: "LABEL_0", 1: "LABEL_1"}, None, Path("/m"))
    assert labels.outputs == (None, "toxicity")
    assert labels.combine([0.3, 0.7]) == [0.7]


@pytest.mark.parametrize(
    ("id2label", "problem_type", "message"),
    [
        ({0: "ham", 1: "spam"}, None, "labels ['ham', 'spam'] mean nothing to the workers"),
        ({0: "LABEL_0", 1: "LABEL_1", 2: "LABEL_2"}, None, "mean nothing to the workers"),
        ({0: "normal", 1: "racism"}, None, "labels ['racism'] mean nothing"),
        ({0: "insult", 1: "threat"}, None, "a single-label model needs a class meaning not"),
        ({0: "neutral", 1: "clean"}, "multi_label_classification", "none of the model's"),
    ],
)
def test_an_unmappable_label_map_is_refused_naming_the_directory(
    id2label: dict[int, str], problem_type: str | None, message: str
) -> None:
    with pytest.raises(ModelUnavailable) as caught:
        label_map(id2label, problem_type, Path("/srv/models/arabic"))
    assert str(caught.value).startswith("/srv/models/arabic: ")
    assert message in str(caught.value)


def test_a_model_with_an_unmappable_label_does_not_load(tmp_path: Path) -> None:
    directory = build_language_model(tmp_path / "spam", {0: "ham", 1: "spam"}, [0.0, 0.0])
    with pytest.raises(ModelUnavailable, match=re.escape(f"{directory}: the model's labels")):
        load_model(directory)


# --- scoring ---------------------------------------------------------------------------


def test_a_loaded_model_scores_the_project_labels(
    calm: LanguageModelScorer, hateful: LanguageModelScorer, calm_dir: Path
) -> None:
    assert calm.labels == ("toxicity",)
    assert calm.info.name == f"language-model/{calm_dir.name}"
    assert calm.info.checkpoint_sha256 == language_dir.verify(calm_dir).weights_sha256
    [low, empty] = calm.score([ARABIC, ""])
    assert low["toxicity"] < 0.01 and empty["toxicity"] < 0.01
    [high] = hateful.score([ARABIC])
    assert high["toxicity"] > 0.99
    long_comment = " ".join([ARABIC] * 400)  # several windows
    assert hateful.score([long_comment])[0]["toxicity"] > 0.99


def test_a_multi_label_model_scores_each_label_by_sigmoid(tmp_path: Path) -> None:
    directory = build_language_model(
        tmp_path / "multi",
        {0: "toxic", 1: "insult", 2: "threat"},
        [0.0, 4.0, -4.0],
        problem_type="multi_label_classification",
    )
    [scores] = load_model(directory).score([ARABIC])
    assert scores.keys() == {"toxicity", "insult", "threat"}
    assert scores["toxicity"] == pytest.approx(0.5, abs=1e-3)
    assert scores["insult"] == pytest.approx(0.982, abs=1e-3)
    assert scores["threat"] == pytest.approx(0.018, abs=1e-3)


async def test_the_router_gives_each_model_its_own_comments_in_one_call(
    calm: LanguageModelScorer,
) -> None:
    detoxify = FakeToxicity()
    router = ToxicityRouter(detoxify, {"ar": calm, "ary": calm, "mixed": None})
    texts = ["Bravo.", ARABIC, "You idiot.", DARIJA, "Un mélange مع العربية"]
    results = await router.score(texts, ["fr", "ar", "en", "ary", "mixed"])
    assert [r.model.name if r is not None else None for r in results] == [
        "detoxify/fake",
        calm.info.name,
        "detoxify/fake",
        calm.info.name,
        None,  # configured but not loaded: no score, never detoxify's
    ]
    assert detoxify.calls == 1


# --- loading at start ------------------------------------------------------------------


def test_a_model_that_does_not_load_stops_the_start_naming_the_variable(tmp_path: Path) -> None:
    missing = tmp_path / "missing"
    with pytest.raises(ModelUnavailable) as caught:
        load_language_models([("ar", str(missing))], fallback="refuse")
    message = str(caught.value)
    assert message.startswith(f"MODERATOR_LANGUAGE_MODELS (ar={missing}): ")
    assert "MODERATOR_TOXICITY_FALLBACK=hold" in message


def test_with_fallback_hold_a_model_that_does_not_load_holds_its_language(
    tmp_path: Path, calm_dir: Path
) -> None:
    missing = str(tmp_path / "missing")
    pairs = [("ar", str(calm_dir)), ("ary", str(calm_dir)), ("mixed", missing)]
    with capture_logs() as logs:
        models = load_language_models(pairs, fallback="hold")
    assert models["ar"] is models["ary"]  # one directory, loaded once
    assert isinstance(models["ar"], LanguageModelScorer)
    assert models["mixed"] is None
    [warning] = [log for log in logs if log["event"] == "language_model_unavailable"]
    assert warning["languages"] == ["mixed"]
    assert warning["consequence"] == "comments in mixed are held with check_failed.toxicity"


# --- the worker ------------------------------------------------------------------------


@pytest.fixture
def language_settings(settings: Settings, calm_dir: Path) -> Settings:
    return replace(settings, language_models=(("ar", str(calm_dir)),))


@pytest.fixture
def make_worker(redis: aioredis.Redis, language_settings: Settings) -> Callable[..., Any]:
    async def make(arabic: LanguageModelScorer | None) -> Worker:
        worker = Worker(
            redis,
            language_settings,
            toxicity=FakeToxicity(),
            language_models={"ar": arabic},
            name="w",
        )
        await worker.setup()
        return worker

    return make


async def test_an_arabic_comment_under_the_thresholds_is_published_by_its_model(
    client: TestClient,
    redis: aioredis.Redis,
    keys: Keys,
    make_worker: Callable[..., Any],
    calm: LanguageModelScorer,
) -> None:
    arabic = await submit(client, body=ARABIC)
    french = await submit(client, body=FRENCH)
    worker = await make_worker(calm)
    assert await worker.drain() == 2
    decision = await decision_of(redis, keys, arabic)
    assert decision["decision"] == "published"
    assert decision["reasons"] == []
    assert decision["language"] == {"code": "ar", "script": "arabic", "read_by_model": True}
    assert decision["model"] == calm.info.to_dict()
    assert decision["scores"]["toxicity"]["toxicity"] < 0.01
    other = await decision_of(redis, keys, french)
    assert other["decision"] == "published"
    assert other["model"] == {"name": "detoxify/fake", "checkpoint_sha256": "0" * 64}


async def test_an_arabic_comment_over_a_threshold_is_held_with_the_toxicity_reason(
    client: TestClient,
    redis: aioredis.Redis,
    keys: Keys,
    make_worker: Callable[..., Any],
    hateful: LanguageModelScorer,
) -> None:
    arabic = await submit(client, body=ARABIC)
    worker = await make_worker(hateful)
    await worker.drain()
    decision = await decision_of(redis, keys, arabic)
    assert decision["decision"] == "held"
    assert codes(decision) == ["toxicity.toxicity"]
    [reason] = decision["reasons"]
    assert reason["score"] > 0.99 and reason["threshold"] == 0.8
    assert decision["model"]["name"] == hateful.info.name
    assert decision["model"]["checkpoint_sha256"] == hateful.info.checkpoint_sha256


async def test_a_language_without_a_model_is_still_held_as_not_covered(
    client: TestClient,
    redis: aioredis.Redis,
    keys: Keys,
    make_worker: Callable[..., Any],
    calm: LanguageModelScorer,
) -> None:
    darija = await submit(client, body=DARIJA)
    worker = await make_worker(calm)
    await worker.drain()
    decision = await decision_of(redis, keys, darija)
    assert decision["decision"] == "held"
    assert decision["language"]["code"] == "ary"
    assert "language.not_covered" in codes(decision)


async def test_an_arabic_comment_whose_model_did_not_load_is_held_as_check_failed(
    client: TestClient, redis: aioredis.Redis, keys: Keys, make_worker: Callable[..., Any]
) -> None:
    arabic = await submit(client, body=ARABIC)
    worker = await make_worker(None)  # MODERATOR_TOXICITY_FALLBACK=hold, and it failed
    await worker.drain()
    decision = await decision_of(redis, keys, arabic)
    assert decision["decision"] == "held"
    assert codes(decision) == ["check_failed.toxicity"]
    assert decision.get("model") is None


def test_a_language_with_a_model_counts_as_covered(language_settings: Settings) -> None:
    policy = Policy.from_settings(language_settings, *_lists())
    assert "ar" in policy.covered_languages
    assert "ary" not in policy.covered_languages
    without = Policy.from_settings(replace(language_settings, language_models=()), *_lists())
    assert "ar" not in without.covered_languages
    assert policy.digest() != without.digest()


# --- moderator models manifest | check-language ----------------------------------------


def test_the_manifest_command_writes_it_and_shows_the_labels(
    tmp_path: Path, calm_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    directory = _copy(calm_dir, tmp_path / "brought-in")
    (directory / "manifest.json").unlink()
    assert main(["manifest", "--dir", str(directory)]) == 0
    out = capsys.readouterr().out
    manifest = language_dir.verify(directory)
    assert f"wrote {directory / 'manifest.json'} (4 files)" in out
    assert f"weights sha256: {manifest.weights_sha256}" in out
    assert "  normal -> (not toxic: dropped)\n  abusive -> toxicity\n  hate -> toxicity\n" in out


def test_the_manifest_command_refuses_unmappable_labels(
    tmp_path: Path, calm_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    directory = _copy(calm_dir, tmp_path / "brought-in")
    (directory / "manifest.json").unlink()
    config = json.loads((directory / "config.json").read_text())
    config["id2label"] = {"0": "ham", "1": "spam", "2": "eggs"}
    (directory / "config.json").write_text(json.dumps(config))
    assert main(["manifest", "--dir", str(directory)]) == 1
    assert "mean nothing to the workers" in capsys.readouterr().err
    assert not (directory / "manifest.json").exists()


def test_check_language_loads_and_scores_a_sentence(
    calm_dir: Path, calm: LanguageModelScorer, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["check-language", "--dir", str(calm_dir)]) == 0
    out = capsys.readouterr().out
    assert f"model: {calm.info.name}" in out
    assert f"weights sha256: {calm.info.checkpoint_sha256}" in out
    assert "scores:\n  toxicity" in out


def _copy(source: Path, destination: Path) -> Path:
    destination.mkdir()
    for path in source.iterdir():
        (destination / path.name).write_bytes(path.read_bytes())
    return destination


def _lists() -> tuple[WordList, WordList]:
    return WordList([]), WordList([])
