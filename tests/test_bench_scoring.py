"""`moderator bench scoring` (workers/bench/scoring.py): it runs on a tiny model and reports
both paths' speed, the ratio, score differences and the agreement of decisions. No timing
is asserted: the machines are shared."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from moderator.settings import Settings
from tests.helpers import REPO, clean_env
from tests.model_factory import build_model_dir, restored_process_state
from workers.bench.corpus import MAX_WORDS, MIN_WORDS, corpus
from workers.bench.random_model import ARCHS
from workers.bench.scoring import compare, main
from workers.policy import Policy
from workers.toxicity import modeldir
from workers.wordlists import WordList

ARABIC = re.compile("[\u0600-\u06ff]")


@pytest.fixture(scope="module", autouse=True)
def _process_state() -> Iterator[None]:
    """Give the rest of the session back the hub, torch and logging state it had."""
    with restored_process_state():
        yield


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The same tiny model every run: the score shapes' tests read its features."""
    import torch

    state = torch.random.get_rng_state()
    torch.manual_seed(7)
    try:
        return build_model_dir(tmp_path_factory.mktemp("tiny"), "multilingual", mood="calm")
    finally:
        torch.random.set_rng_state(state)


def run_bench(argv: list[str]) -> subprocess.CompletedProcess[str]:
    """The command as an operator runs it, warnings as errors, no MODERATOR_* settings."""
    done = subprocess.run(
        [sys.executable, "-W", "error", "-m", "workers.bench.scoring", *argv],
        cwd=REPO,
        env=clean_env(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return done


def test_the_command_runs_on_a_tiny_model_and_reports(tiny: Path, tmp_path: Path) -> None:
    out = tmp_path / "scoring.json"
    argv = ["--model", "multilingual", "--dir", str(tiny), "--count", "12", "--batch-size", "5"]
    argv += ["--precision", "int8", "--repeat", "1", "--json", str(out)]
    done = run_bench(argv)
    report = json.loads(out.read_text())
    assert report["model"] == "detoxify/multilingual"
    assert (report["precision"], report["batch_size"], report["repeat"]) == ("int8", 5, 1)
    assert report["random_weights"] is False
    assert report["threads"] >= 1
    assert report["corpus"]["count"] == 12
    assert MIN_WORDS <= report["corpus"]["words_min"] <= report["corpus"]["words_max"] <= MAX_WORDS
    for path in ("baseline", "worker"):
        assert set(report[path]) == {"wall_s", "cpu_s", "comments_per_s"}
        assert report[path]["comments_per_s"] > 0
    assert report["ratio"] > 0
    assert report["cpu_ratio"] > 0
    labels = {"toxicity", "severe_toxicity", "obscene", "identity_attack", "insult", "threat"}
    assert set(report["max_abs_diff"]) == labels | {"sexual_explicit"}
    # The calm model scores every text alike in every precision: all decisions agree.
    assert report["decisions"] == {
        "count": 12,
        "identical": 12,
        "agreement_pct": 100.0,
        "held_baseline": 0,
        "held_worker": 0,
    }
    assert "ratio:" in done.stdout
    assert "decisions identical: 12/12 (100.00%)" in done.stdout
    assert "round 3/3: 12 comments" in done.stderr  # progress, on stderr


def test_the_command_measures_the_onnx_runtime(tiny: Path, tmp_path: Path) -> None:
    model_dir = tmp_path / "models"
    shutil.copytree(tiny, model_dir)  # the export is written beside the checkpoint
    out = tmp_path / "scoring.json"
    argv = ["--model", "multilingual", "--dir", str(model_dir), "--count", "8"]
    argv += ["--runtime", "onnx", "--repeat", "1", "--json", str(out)]
    done = run_bench(argv)
    report = json.loads(out.read_text())
    assert (report["runtime"], report["precision"]) == ("onnx", "fp32")
    assert report["decisions"]["agreement_pct"] == 100.0
    assert max(report["max_abs_diff"].values()) < 1e-3
    assert "fp32 (ONNX Runtime)" in done.stdout
    assert (model_dir / "multilingual" / "onnx" / "model.onnx").is_file()


def test_onnx_needs_fp32_and_a_model_directory(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["--runtime", "onnx", "--precision", "bf16", "--dir", "/srv/models"])
    assert "--runtime onnx runs the model in fp32" in capsys.readouterr().err


def test_the_corpus_is_fixed_by_its_seed_and_mixes_lengths_and_languages() -> None:
    comments = corpus(300, 7)
    assert comments == corpus(300, 7)
    assert comments != corpus(300, 8)
    words = [len(comment.split()) for comment in comments]
    assert MIN_WORDS <= min(words) < 10
    assert 200 < max(words) <= MAX_WORDS
    assert 20 < sorted(words)[150] < 70  # log-uniform: half under about 40 words
    arabic_script = sum(bool(ARABIC.search(comment)) for comment in comments)
    assert 80 < arabic_script < 160  # Arabic and Darija in Arabic script: 2 of 5 languages
    assert any("merci" in comment for comment in comments)
    assert any("thank" in comment for comment in comments)
    assert any("bzaf" in comment for comment in comments)


def test_compare_counts_a_reason_gained_or_lost_as_a_different_decision() -> None:
    policy = Policy.from_settings(Settings(), WordList(()), WordList(()))
    low = {"toxicity": 0.1, "insult": 0.1}
    baseline = [low, {"toxicity": 0.1, "insult": 0.59}, {"toxicity": 0.9, "insult": 0.7}]
    worker = [low, {"toxicity": 0.1, "insult": 0.61}, {"toxicity": 0.9, "insult": 0.5}]
    result = compare(baseline, worker, policy)
    assert result["max_abs_diff"] == {"toxicity": 0.0, "insult": 0.2}
    assert result["decisions"] == {
        "count": 3,
        "identical": 1,
        "agreement_pct": 33.33,
        "held_baseline": 1,
        "held_worker": 2,
    }


def test_random_weights_cover_every_model_type() -> None:
    assert set(ARCHS) == set(modeldir.MODEL_TYPES)
    for model_type, arch in ARCHS.items():
        assert arch.base_model == modeldir.BASE_MODELS[model_type]


def test_a_missing_model_directory_exits_1(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["--model", "original", "--dir", str(tmp_path / "nowhere"), "--count", "2"])
    assert code == 1
    assert "moderator bench scoring: model directory" in capsys.readouterr().err


def test_a_bad_setting_exits_2(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("MODERATOR_TOXICITY_PRECISION", "fp64")
    assert main(["--count", "2"]) == 2
    assert "MODERATOR_TOXICITY_PRECISION" in capsys.readouterr().err


@pytest.mark.parametrize("shape", ["straddle", "realistic"])
def test_the_random_head_gives_the_score_shape_asked(tiny: Path, shape: str) -> None:
    """straddle: scores around every threshold; realistic: most near 0, about 4% between
    0.2 and 0.9, 1% above (REALISTIC_QUANTILES), on the texts it was shaped on."""
    from workers.bench.random_model import spread_head
    from workers.bench.shapes import bands
    from workers.toxicity.loading import load_detoxify
    from workers.toxicity.scorer import DetoxifyScorer, ModelInfo

    detoxify, _ = load_detoxify("multilingual", str(tiny))
    texts = corpus(100, seed=7)
    spread_head(detoxify.model, detoxify.tokenizer, texts, seed=1, shape=shape)
    scores = DetoxifyScorer(detoxify, ModelInfo("tiny", None)).score(texts)
    found = bands(scores)
    assert sum(found.values()) == pytest.approx(1.0, abs=1e-3)  # each rounded
    if shape == "realistic":
        # Fitted on these texts one at a time, scored in padded batches by a tiny model
        # built afresh each run: 93-94% under 0.2 measured (the bench prints its own).
        assert found["under_0.2"] >= 0.92
        assert 0.02 <= found["0.2_to_0.9"] <= 0.07
        assert 0.0 < found["over_0.9"] <= 0.03
    else:
        assert found["under_0.2"] < 0.5 and found["0.2_to_0.9"] > 0.4


def test_realistic_labels_read_how_texts_differ_and_go_together(tiny: Path) -> None:
    """A trained head reads the directions its features vary along, and a comment's
    labels go together: each realistic label's weights lie in the span of the texts'
    centred features, and two labels' logits correlate."""
    import torch

    from workers.bench.random_model import head_inputs, last_layer, spread_head
    from workers.toxicity.loading import load_detoxify

    texts = corpus(100, seed=7)
    correlations = {}
    for shape in ("straddle", "realistic"):
        detoxify, _ = load_detoxify("multilingual", str(tiny))
        model, tokenizer = detoxify.model, detoxify.tokenizer
        spread_head(model, tokenizer, texts, seed=1, shape=shape)
        head = last_layer(model)
        features = head_inputs(model, tokenizer, texts)
        logits = (features @ head.weight.detach().T)[:, :7]
        pairs = torch.corrcoef(logits.T)[torch.triu_indices(7, 7, 1).unbind()]
        correlations[shape] = float(pairs.mean())
        if shape == "realistic":
            centred = features - features.mean(dim=0)
            basis = torch.linalg.svd(centred, full_matrices=False).Vh  # the span of the texts
            weights = head.weight.detach()
            outside = weights - (weights @ basis.T) @ basis
            assert float(outside.norm() / weights.norm()) < 1e-3
    # Half of each realistic logit is shared: 0.36-0.46 measured on this tiny model (0.53 on
    # the full-size one), where straddle's random directions gave 0.18-0.34.
    assert correlations["realistic"] > 0.2


def test_comments_between_counts_comments_not_label_scores() -> None:
    """A comment with several labels in the middle band counts once; none at all, 0."""
    from workers.bench.shapes import comments_between

    rows = [
        {"toxicity": 0.5, "insult": 0.6},  # two labels between 0.2 and 0.9: one comment
        {"toxicity": 0.01, "insult": 0.95},
        {"toxicity": 0.2, "insult": 0.0},  # 0.2 itself is in the band
        {"toxicity": 0.1, "insult": 0.91},
    ]
    assert comments_between(rows) == 0.5
    assert comments_between([]) == 0.0
