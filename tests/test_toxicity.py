"""The toxicity scorer: loading detoxify offline from a model directory, scoring batches,
long comments over windows, and the refusals that keep an unverified pickle unloaded.

The model directories are tiny real models built by tests/model_factory.py (random
weights, classifier bias fixed), loaded by the production code.
"""

from __future__ import annotations

import itertools
import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from moderator.settings import TOXICITY_MODELS
from tests.model_factory import SENTENCES, build_model_dir, restored_process_state
from workers.errors import ModelUnavailable
from workers.toxicity import modeldir
from workers.toxicity.loading import load_scorer
from workers.toxicity.scorer import (
    OVERLAP_TOKENS,
    PRECISIONS,
    DetoxifyScorer,
    ModelInfo,
    ToxicityScorer,
    length_batches,
    padded_batches,
)

REPO = Path(__file__).resolve().parent.parent
UNBIASED_LABELS = (
    "toxicity",
    "severe_toxicity",
    "obscene",
    "identity_attack",
    "insult",
    "threat",
    "sexual_explicit",
)
ORIGINAL_LABELS = ("toxicity", "severe_toxicity", "obscene", "threat", "insult", "identity_attack")
COMMENTS = [
    "Très bon article, merci pour ces informations.",  # French
    "مقال مفيد جدا، شكرا على المعلومات.",  # Arabic
    "Thank you for this article, it was very informative.",  # English
    "had lmaqal zwin bzaf, chokran 3la had lma3loumat.",  # Darija, Latin letters
    "هاد المقال زوين بزاف",  # Darija, Arabic script
]
LONG_COMMENT = " ".join((" ".join(SENTENCES).split() * 40)[:3000])  # 3000 words


@pytest.fixture(scope="module", autouse=True)
def _hub_state() -> Iterator[None]:
    """Give the rest of the session back the hub, torch and logging state it had."""
    with restored_process_state():
        yield


@pytest.fixture(scope="module")
def calm_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_model_dir(tmp_path_factory.mktemp("calm"), "multilingual", mood="calm")


@pytest.fixture(scope="module")
def calm(calm_dir: Path) -> DetoxifyScorer:
    return load_scorer("multilingual", str(calm_dir), threads=2)


@pytest.fixture(scope="module")
def angry(tmp_path_factory: pytest.TempPathFactory) -> DetoxifyScorer:
    root = build_model_dir(tmp_path_factory.mktemp("angry"), "multilingual", mood="angry")
    return load_scorer("multilingual", str(root), threads=2)


@pytest.fixture(scope="module")
def original_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_model_dir(tmp_path_factory.mktemp("original"), "original", mood="calm")


def test_importing_the_scorer_does_not_import_torch() -> None:
    code = (
        "import sys, workers.toxicity.scorer, workers.toxicity.loading, workers.toxicity.modeldir\n"
        "heavy = {'torch', 'transformers', 'detoxify', 'huggingface_hub'} & set(sys.modules)\n"
        "assert not heavy, heavy"
    )
    subprocess.run([sys.executable, "-c", code], cwd=REPO, check=True, timeout=30)


def test_model_types_are_the_settings_choices() -> None:
    assert modeldir.MODEL_TYPES == TOXICITY_MODELS


def test_calm_model_scores_every_language_low(calm: DetoxifyScorer) -> None:
    assert calm.labels == UNBIASED_LABELS
    results = calm.score(COMMENTS)
    assert len(results) == len(COMMENTS)
    for scores in results:
        assert set(scores) == set(UNBIASED_LABELS)
        assert all(0.0 <= value < 0.05 for value in scores.values()), scores


def test_angry_model_scores_high(angry: DetoxifyScorer) -> None:
    for scores in angry.score(COMMENTS):
        assert all(0.95 < value <= 1.0 for value in scores.values()), scores


def test_the_original_model_loads(original_dir: Path) -> None:
    scorer = load_scorer("original", str(original_dir), threads=1)
    assert scorer.info.name == "detoxify/original"
    assert scorer.labels == ORIGINAL_LABELS
    import torch

    assert torch.get_num_threads() == 1
    [scores] = scorer.score(["Très bon article, merci."])
    assert list(scores) == list(ORIGINAL_LABELS)
    assert max(scores.values()) < 0.05


def test_model_info_is_the_manifest_checkpoint(calm: DetoxifyScorer, calm_dir: Path) -> None:
    manifest = json.loads((calm_dir / "multilingual" / "manifest.json").read_text())
    checkpoint = calm_dir / "multilingual" / "checkpoint.ckpt"
    assert manifest["files"]["checkpoint.ckpt"] == modeldir.sha256_file(checkpoint)
    assert calm.info == ModelInfo("detoxify/multilingual", manifest["files"]["checkpoint.ckpt"])
    assert calm.info.to_dict() == {
        "name": "detoxify/multilingual",
        "checkpoint_sha256": manifest["files"]["checkpoint.ckpt"],
    }
    scorer: ToxicityScorer = calm  # the protocol the worker depends on
    assert scorer.info is calm.info


def test_empty_input_and_empty_text(calm: DetoxifyScorer) -> None:
    assert calm.score([]) == []
    [scores] = calm.score([""])
    assert set(scores) == set(UNBIASED_LABELS)


def test_a_long_comment_is_scored_over_windows_covering_all_of_it(
    calm: DetoxifyScorer, calm_dir: Path
) -> None:
    from transformers import XLMRobertaTokenizer

    windows = calm.windows(LONG_COMMENT)
    assert calm.window == 512
    assert len(windows) > 1
    assert all(len(window) <= calm.window for window in windows)
    tokenizer = XLMRobertaTokenizer.from_pretrained(
        calm_dir / "multilingual" / "hf", local_files_only=True
    )
    tokens = tokenizer(LONG_COMMENT, add_special_tokens=False)["input_ids"]
    assert len(tokens) > 3 * calm.window
    bodies = [window[1:-1] for window in windows]  # without <s> and </s>
    for previous, window in itertools.pairwise(bodies):
        assert previous[-OVERLAP_TOKENS:] == window[:OVERLAP_TOKENS]
    rebuilt = bodies[0] + [t for body in bodies[1:] for t in body[OVERLAP_TOKENS:]]
    assert rebuilt == tokens
    assert calm.windows("Très bon article.") == [tokenizer("Très bon article.")["input_ids"]]


def test_a_long_comment_scores_without_error(calm: DetoxifyScorer) -> None:
    results = calm.score([LONG_COMMENT, "Merci.", LONG_COMMENT[:2000]])
    assert len(results) == 3
    for scores in results:
        assert all(0.0 <= value <= 1.0 for value in scores.values())


class FlagModel:
    """Stands in for the network: every label scores 0.9997 on a window holding the
    flag token, 0.0003 otherwise. Records each batch's unpadded lengths."""

    def __init__(self, flag: int) -> None:
        self.config = SimpleNamespace(
            num_labels=16, max_position_embeddings=514, model_type="xlm-roberta", pad_token_id=1
        )
        self.flag = flag
        self.batches: list[list[int]] = []

    def eval(self) -> FlagModel:
        return self

    def __call__(self, input_ids: Any, attention_mask: Any) -> SimpleNamespace:
        import torch

        self.batches.append(attention_mask.sum(dim=1).tolist())
        hit = (input_ids == self.flag).any(dim=1, keepdim=True)
        logits = torch.where(hit, 8.0, -8.0).expand(-1, self.config.num_labels)
        return SimpleNamespace(logits=logits)


def flag_scorer(calm_dir: Path) -> tuple[DetoxifyScorer, FlagModel]:
    """The real tokenizer around FlagModel, flagging the `<mask>` token."""
    from transformers import XLMRobertaTokenizer

    tokenizer = XLMRobertaTokenizer.from_pretrained(
        calm_dir / "multilingual" / "hf", local_files_only=True
    )
    model = FlagModel(tokenizer.mask_token_id)
    detoxify = SimpleNamespace(model=model, tokenizer=tokenizer, class_names=list(UNBIASED_LABELS))
    return DetoxifyScorer(detoxify, ModelInfo("detoxify/flag", None), batch_size=4), model


def test_the_worst_window_of_a_long_comment_counts(calm_dir: Path) -> None:
    flagged, _ = flag_scorer(calm_dir)
    late = LONG_COMMENT + " <mask>"  # past the first 512 tokens
    early = "<mask> " + LONG_COMMENT
    clean, late_scores, early_scores = flagged.score([LONG_COMMENT, late, early])
    assert len(flagged.windows(late)) > 1
    assert max(clean.values()) < 0.01
    assert min(late_scores.values()) > 0.99
    assert min(early_scores.values()) > 0.99


def test_batches_run_by_length_and_results_keep_their_order(calm_dir: Path) -> None:
    flagged, flag_model = flag_scorer(calm_dir)
    texts = [
        "Très bon article <mask>",
        LONG_COMMENT[:1500],
        "Merci.",
        "مقال مفيد <mask>",
        " ".join(SENTENCES),
        "ok",
        LONG_COMMENT[:700] + " <mask>",
        "Thank you.",
        "had lmaqal zwin bzaf",
    ]
    results = flagged.score(texts)
    flags = [min(scores.values()) > 0.99 for scores in results]
    assert flags == ["<mask>" in text for text in texts]
    assert all(
        max(scores.values()) < 0.01 for scores, f in zip(results, flags, strict=True) if not f
    )
    batches = flag_model.batches
    lengths = [length for batch in batches for length in batch]
    assert lengths == sorted(lengths)  # shortest first, similar lengths together
    assert all(len(batch) <= 4 for batch in batches)


def test_length_batches() -> None:
    assert length_batches([5, 100, 3, 50, 7], max_items=2, max_tokens=1000) == [
        [2, 0],
        [4, 3],
        [1],
    ]
    lengths = [10, 500, 10, 500, 10, 500]
    assert length_batches(lengths, max_items=32, max_tokens=1024) == [[0, 2, 4], [1, 3], [5]]
    assert length_batches([], max_items=4, max_tokens=100) == []
    assert length_batches([900], max_items=4, max_tokens=100) == [[0]]


def batch_cost(batches: list[list[int]], lengths: list[int], step: int) -> int:
    return sum(step + len(batch) * max(lengths[i] for i in batch) for batch in batches)


def runs(count: int, max_items: int) -> Iterator[list[int]]:
    """Every way to cut `count` sorted items into consecutive runs of at most `max_items`."""
    if count == 0:
        yield []
        return
    for size in range(1, min(count, max_items) + 1):
        for rest in runs(count - size, max_items):
            yield [size, *rest]


def test_padded_batches_pay_for_padding_only_when_a_forward_pass_costs_more() -> None:
    assert padded_batches([], max_items=4, max_tokens=100) == []
    assert padded_batches([900], max_items=4, max_tokens=100) == [[0]]
    # Equal lengths: as many together as allowed.
    assert padded_batches([50] * 5, max_items=2, max_tokens=1000, step_tokens=24) == [
        [0, 1],
        [2, 3],
        [4],
    ]
    # 10 and 12 together (4 padded tokens < 24); 300 with them would pad 580.
    assert padded_batches([300, 10, 12], max_items=8, max_tokens=9999, step_tokens=24) == [
        [1, 2],
        [0],
    ]
    # The token budget splits what the cost alone would keep together.
    assert padded_batches([100] * 4, max_items=8, max_tokens=200, step_tokens=1000) == [
        [0, 1],
        [2, 3],
    ]


def test_padded_batches_bound_the_attention_a_batch_holds() -> None:
    """Windows times their longest length squared: long windows go by fewer, short ones
    as many as the other limits allow."""
    square = 4 * 512 * 512
    assert padded_batches([512] * 8, max_items=32, max_tokens=8192, max_attention=square) == [
        [0, 1, 2, 3],
        [4, 5, 6, 7],
    ]
    assert padded_batches([512] * 8, max_items=32, max_tokens=8192) == [list(range(8))]
    short = padded_batches([100] * 40, max_items=32, max_tokens=8192, max_attention=square)
    assert short == padded_batches([100] * 40, max_items=32, max_tokens=8192)


def test_padded_batches_find_the_cheapest_grouping() -> None:
    """Against every cut of the sorted lengths into runs, on random lengths."""
    import random

    rng = random.Random(7)
    for _ in range(200):
        lengths = [rng.randint(1, 300) for _ in range(rng.randint(1, 8))]
        max_items, step = rng.randint(1, 4), rng.choice((0, 24, 200))
        batches = padded_batches(lengths, max_items=max_items, max_tokens=10**6, step_tokens=step)
        order = sorted(range(len(lengths)), key=lengths.__getitem__)
        assert [i for batch in batches for i in batch] == order
        assert all(len(batch) <= max_items for batch in batches)
        best = min(
            batch_cost(
                [order[sum(sizes[:k]) : sum(sizes[: k + 1])] for k in range(len(sizes))],
                lengths,
                step,
            )
            for sizes in runs(len(lengths), max_items)
        )
        assert batch_cost(batches, lengths, step) == best


@pytest.fixture(scope="module")
def precise(calm_dir: Path) -> dict[str, DetoxifyScorer]:
    """The calm model in each precision, its head spread (on fp32 features) so that
    scores depend on the text; the head itself stays fp32 in every precision."""
    from workers.bench.random_model import spread_head

    scorers = {
        p: load_scorer("multilingual", str(calm_dir), threads=2, precision=p) for p in PRECISIONS
    }
    fp32 = scorers["fp32"]._model
    spread_head(fp32, scorers["fp32"]._tokenizer, [*COMMENTS, *SENTENCES], seed=3)
    for scorer in scorers.values():
        scorer._model.classifier.load_state_dict(fp32.classifier.state_dict())
    return scorers


def test_each_precision_converts_the_encoder_once_and_keeps_the_head(
    precise: dict[str, DetoxifyScorer],
) -> None:
    import torch

    for precision, scorer in precise.items():
        assert scorer.precision == precision
        model = scorer._model
        dense = model.roberta.encoder.layer[0].intermediate.dense
        expected = {"fp32": torch.float32, "bf16": torch.bfloat16}
        if precision == "int8":
            assert isinstance(dense, torch.ao.nn.quantized.dynamic.Linear)
        else:
            assert dense.weight.dtype == expected[precision]
        assert model.classifier.out_proj.weight.dtype == torch.float32
        assert model.roberta.embeddings.word_embeddings.weight.dtype == torch.float32


def test_every_precision_scores_close_to_fp32(precise: dict[str, DetoxifyScorer]) -> None:
    """Close, not equal: on this 32-wide random model with its head spread, a small
    error in the features moves the scores a lot, the more so for int8, whose inputs
    are quantised per tensor (the bench measures the real sizes). The tokenizer is
    trained anew at each build (the trainer is not deterministic), so int8's largest
    difference moves between builds (0.2 to 0.38 seen); its mean stays near 0.05."""
    texts = [*COMMENTS, LONG_COMMENT, "ok"]
    largest = {"bf16": 0.05, "int8": 0.6}
    average = {"bf16": 0.02, "int8": 0.1}
    reference = precise["fp32"].score(texts)
    spread = max(s["toxicity"] for s in reference) - min(s["toxicity"] for s in reference)
    assert spread > 0.3  # the scores depend on the text: the comparison means something
    for precision in ("bf16", "int8"):
        results = precise[precision].score(texts)
        assert len(results) == len(texts)
        differences = []
        for ours, theirs in zip(results, reference, strict=True):
            assert list(ours) == list(UNBIASED_LABELS)
            assert all(0.0 <= value <= 1.0 for value in ours.values())
            differences += [abs(ours[k] - theirs[k]) for k in ours]
        assert max(differences) < largest[precision]
        assert sum(differences) / len(differences) < average[precision]


def test_a_long_comment_is_windowed_in_every_precision(calm_dir: Path) -> None:
    flagged, _ = flag_scorer(calm_dir)
    for precision, scorer in (
        ("bf16", load_scorer("multilingual", str(calm_dir), threads=1, precision="bf16")),
        ("int8", load_scorer("multilingual", str(calm_dir), threads=1, precision="int8")),
    ):
        assert scorer.windows(LONG_COMMENT) == flagged.windows(LONG_COMMENT), precision
        [scores] = scorer.score([LONG_COMMENT])
        assert max(scores.values()) < 0.05, precision


def test_an_unknown_precision_is_refused(calm_dir: Path) -> None:
    with pytest.raises(ValueError, match=r"precision must be one of \('fp32', 'bf16', 'int8'\)"):
        load_scorer("multilingual", str(calm_dir), precision="fp16")


def test_the_precisions_are_the_settings_choices() -> None:
    from moderator.settings import Settings

    for precision in PRECISIONS:
        env = {"MODERATOR_TOXICITY_PRECISION": precision}
        assert Settings.from_env(env).toxicity_precision == precision
    assert Settings().toxicity_precision == "fp32"


def test_a_tampered_checkpoint_is_refused_before_it_is_unpickled(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import torch

    root = build_model_dir(tmp_path, "original")
    checkpoint = root / "original" / "checkpoint.ckpt"
    data = bytearray(checkpoint.read_bytes())
    data[len(data) // 2] ^= 0x01
    checkpoint.write_bytes(bytes(data))

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("torch.load ran on an unverified checkpoint")

    monkeypatch.setattr(torch, "load", refuse)
    with pytest.raises(ModelUnavailable, match=r"checkpoint\.ckpt: sha256 does not match"):
        load_scorer("original", str(root))


def test_an_unlisted_file_is_refused(tmp_path: Path) -> None:
    root = build_model_dir(tmp_path, "original")
    (root / "original" / "hf" / "pytorch_model.bin").write_bytes(b"not listed")
    with pytest.raises(ModelUnavailable, match=r"hf/pytorch_model\.bin is not listed"):
        load_scorer("original", str(root))


def test_a_missing_manifest_is_refused(tmp_path: Path) -> None:
    root = build_model_dir(tmp_path, "original")
    (root / "original" / "manifest.json").unlink()
    with pytest.raises(ModelUnavailable, match=r"manifest\.json is missing") as error:
        load_scorer("original", str(root))
    assert "moderator models import --checkpoint FILE --hf DIR" in str(error.value)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"model_type": "original"}, "model_type is 'original', expected 'multilingual'"),
        ({"files": {"../../etc/passwd": "0" * 64}}, "bad entry '../../etc/passwd'"),
        ({"base_model": "../xlm"}, "base_model must be a name"),
    ],
)
def test_a_bad_manifest_is_refused(
    tmp_path: Path, calm_dir: Path, change: dict[str, Any], message: str
) -> None:
    manifest = json.loads((calm_dir / "multilingual" / "manifest.json").read_text())
    directory = tmp_path / "multilingual"
    directory.mkdir()
    (directory / "manifest.json").write_text(json.dumps(manifest | change))
    with pytest.raises(ModelUnavailable, match=re.escape(message)):
        modeldir.verify(tmp_path, "multilingual")


def test_a_model_dir_pointing_at_nothing_says_how_to_provide_one(tmp_path: Path) -> None:
    with pytest.raises(ModelUnavailable) as error:
        load_scorer("multilingual", str(tmp_path / "nowhere"))
    message = str(error.value)
    assert "MODERATOR_MODEL_DIR" in message
    assert "multilingual/checkpoint.ckpt" in message
    assert "xlm-roberta-base" in message
    assert "moderator models import --checkpoint FILE --hf DIR" in message


def test_a_failed_download_says_how_to_run_offline(monkeypatch: pytest.MonkeyPatch) -> None:
    import detoxify

    def offline(*args: object, **kwargs: object) -> None:
        raise OSError("Could not resolve host: github.com")

    monkeypatch.setattr(detoxify, "Detoxify", offline)
    with pytest.raises(ModelUnavailable) as error:
        load_scorer("unbiased", None)
    message = str(error.value)
    assert "could not be downloaded (OSError: Could not resolve host: github.com)" in message
    assert "MODERATOR_MODEL_DIR" in message
    assert "moderator models import --checkpoint FILE --hf DIR" in message


def test_write_layout_completes_a_base_models_files(tmp_path: Path, original_dir: Path) -> None:
    """An operator brings the base model's config (2 labels), tokenizer files without a
    length limit and its weights: the layout gets num_labels, 512, and no weights."""
    hf = tmp_path / "brought" / "hf"
    hf.mkdir(parents=True)
    for path in (original_dir / "original" / "hf").iterdir():
        hf.joinpath(path.name).write_bytes(path.read_bytes())
    config = json.loads((hf / "config.json").read_text())
    for key in ("id2label", "label2id"):
        del config[key]
    (hf / "config.json").write_text(json.dumps(config))
    (hf / "tokenizer_config.json").unlink()
    (hf / "model.safetensors").write_bytes(b"base model weights")
    (hf / ".gitattributes").write_text("*.bin filter=lfs")
    checkpoint = original_dir / "original" / "checkpoint.ckpt"

    root = tmp_path / "models"
    directory = modeldir.write_layout(root, "original", checkpoint=checkpoint, hf_dir=hf)

    assert directory == root / "original"
    assert sorted(p.name for p in (directory / "hf").iterdir()) == [
        "config.json",
        "tokenizer.json",
        "tokenizer_config.json",
    ]
    assert json.loads((directory / "hf" / "config.json").read_text())["num_labels"] == 6
    assert json.loads((directory / "hf" / "tokenizer_config.json").read_text()) == {
        "model_max_length": 512
    }
    manifest = modeldir.verify(root, "original")
    assert manifest.base_model == "bert-base-uncased"
    assert manifest.checkpoint_sha256 == modeldir.sha256_file(checkpoint)
    assert set(manifest.files) == {
        "checkpoint.ckpt",
        "hf/config.json",
        "hf/tokenizer.json",
        "hf/tokenizer_config.json",
    }
    scorer = load_scorer("original", str(root), threads=1)
    assert scorer.window == 512
    assert len(scorer.score([LONG_COMMENT])) == 1


def test_write_layout_needs_a_tokenizer_json(tmp_path: Path, original_dir: Path) -> None:
    hf = tmp_path / "hf"
    hf.mkdir()
    hf.joinpath("config.json").write_text("{}")
    hf.joinpath("sentencepiece.bpe.model").write_bytes(b"spm")
    checkpoint = original_dir / "original" / "checkpoint.ckpt"
    with pytest.raises(ModelUnavailable, match=r"has no tokenizer\.json"):
        modeldir.write_layout(tmp_path / "models", "original", checkpoint=checkpoint, hf_dir=hf)


def relist(directory: Path) -> None:
    """Rewrite a directory's manifest after editing it, as an operator filling it by hand."""
    manifest = json.loads((directory / "manifest.json").read_text())
    manifest["files"] = {
        path.relative_to(directory).as_posix(): modeldir.sha256_file(path)
        for path in [directory / "checkpoint.ckpt", *(directory / "hf").iterdir()]
    }
    (directory / "manifest.json").write_text(json.dumps(manifest))


def test_a_hand_filled_directory_without_a_length_limit_still_windows(tmp_path: Path) -> None:
    """No model_max_length in hf/: the window comes from the model's positions (514 - 2)."""
    directory = build_model_dir(tmp_path, "multilingual") / "multilingual"
    tokenizer_config = directory / "hf" / "tokenizer_config.json"
    body = json.loads(tokenizer_config.read_text())
    del body["model_max_length"]
    tokenizer_config.write_text(json.dumps(body))
    relist(directory)
    scorer = load_scorer("multilingual", str(tmp_path), threads=1)
    assert scorer.window == 512
    assert len(scorer.windows(LONG_COMMENT)) > 1
    assert max(scorer.score([LONG_COMMENT])[0].values()) < 0.05


def test_a_config_without_the_checkpoints_labels_is_refused(tmp_path: Path) -> None:
    directory = build_model_dir(tmp_path, "original") / "original"
    config = json.loads((directory / "hf" / "config.json").read_text())
    for key in ("id2label", "label2id"):
        del config[key]  # the base model's config: 2 labels
    (directory / "hf" / "config.json").write_text(json.dumps(config))
    relist(directory)
    with pytest.raises(ModelUnavailable, match=r"original did not load \(RuntimeError") as error:
        load_scorer("original", str(tmp_path))
    assert "config.json with num_labels equal to the checkpoint's num_classes" in str(error.value)


OFFLINE_LOAD = """
import json, sys
from workers.toxicity.loading import load_scorer
scorer = load_scorer("multilingual", sys.argv[1], threads=1)
print(json.dumps({"info": scorer.info.to_dict(), "scores": scorer.score(sys.argv[2:])}))
"""


def test_loads_with_the_hub_unreachable_and_no_cache_at_home(
    tmp_path: Path, calm_dir: Path, calm: DetoxifyScorer
) -> None:
    """A fresh process: no HF variables, an empty home, the hub's address unreachable.
    Nothing is written to the home directory, and the private cache is removed."""
    home, tmp = tmp_path / "home", tmp_path / "tmp"
    home.mkdir()
    tmp.mkdir()
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("HF_", "HUGGINGFACE_", "TRANSFORMERS_", "XDG_", "TORCH_"))
    }
    env |= {"HOME": str(home), "TMPDIR": str(tmp), "HF_ENDPOINT": "http://127.0.0.1:9"}
    done = subprocess.run(
        [sys.executable, "-W", "error", "-c", OFFLINE_LOAD, str(calm_dir), *COMMENTS[:2]],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=50,
    )
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["info"] == calm.info.to_dict()
    assert len(result["scores"]) == 2
    assert all(max(scores.values()) < 0.05 for scores in result["scores"])
    assert list(home.iterdir()) == []
    assert not list(tmp.glob("moderator-hf-*"))
