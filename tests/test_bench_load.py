"""`moderator bench load --local` runs end to end on a tiny model and reports (no timing
assertions: the figures are for people, measured on quiet machines)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.helpers import clean_env, run_module
from tests.model_factory import build_model_dir

pytestmark = pytest.mark.e2e


def test_bench_load_local_reports_every_figure(tmp_path: Path) -> None:
    model_dir = build_model_dir(tmp_path / "models", "multilingual", mood="calm")
    env = clean_env(MODERATOR_MODEL_DIR=str(model_dir), MODERATOR_LANGUAGE_NOT_COVERED="score")
    out = tmp_path / "bench.json"
    command = ["bench", "load", "--local", "--count", "30", "--rate", "30", "--json", str(out)]
    result = run_module("moderator", *command, env=env, timeout=240)
    assert result.returncode == 0, result.stderr[-2000:]
    report = json.loads(out.read_text())
    assert report["sent"] == report["accepted"] == report["decided"] == 30
    assert report["undecided"] == 0
    assert set(report["intake_ms"]) == {"p50", "p95", "p99", "max", "mean"}
    assert set(report["submit_to_decision_s"]) == {"p50", "p95", "p99", "max", "mean"}
    assert report["worker_comments_per_s"] > 0
    assert set(report["peak_rss_mb"]) == {"service", "worker"}
    assert "submit to decision" in result.stdout


def test_bench_load_refuses_other_hosts() -> None:
    result = run_module("moderator", "bench", "load", "--url", "http://10.0.0.1:8080")
    assert result.returncode == 2
    assert "only addresses on this machine" in result.stderr


def test_bench_load_says_why_a_process_did_not_start(tmp_path: Path) -> None:
    # No model where the worker is told to look, and no fallback: the worker exits.
    env = clean_env(
        MODERATOR_MODEL_DIR=str(tmp_path / "nowhere"), MODERATOR_TOXICITY_FALLBACK="refuse"
    )
    result = run_module(
        "moderator", "bench", "load", "--local", "--count", "1", env=env, timeout=120
    )
    assert result.returncode == 1
    assert "the worker exited with" in result.stderr
    assert "nowhere" in result.stderr  # the worker's own message, not a bare timeout
    assert "Traceback" not in result.stderr.split("exited with", 1)[0]


def test_bench_load_at_half_the_rate_the_worker_sustains(tmp_path: Path) -> None:
    """A burst measures the rate; the second phase is sent at half of it and its p95 is
    set against the worker's time per comment. `--runtime` reaches the worker."""
    model_dir = build_model_dir(tmp_path / "models", "multilingual", mood="calm")
    env = clean_env(MODERATOR_MODEL_DIR=str(model_dir), MODERATOR_LANGUAGE_NOT_COVERED="score")
    out = tmp_path / "bench.json"
    command = ["bench", "load", "--local", "--count", "20", "--rate", "half", "--runtime", "onnx"]
    result = run_module("moderator", *command, "--json", str(out), env=env, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    report = json.loads(out.read_text())
    sustained = report["sustained"]
    assert report["decided"] == 20 and report["undecided"] == 0
    assert (sustained["accepted"], sustained["undecided"]) == (20, 0)
    assert report["rate_asked"] == pytest.approx(sustained["worker_comments_per_s"] / 2, abs=1e-3)
    assert sustained["mean_s_per_comment"] == pytest.approx(
        1 / sustained["worker_comments_per_s"], rel=1e-2
    )
    p95 = report["submit_to_decision_s"]["p95"]
    assert report["p95_over_mean_s_per_comment"] == pytest.approx(
        p95 / sustained["mean_s_per_comment"], rel=0.02
    )
    assert "x the time per comment" in result.stdout
    assert (model_dir / "multilingual" / "onnx" / "model.onnx").is_file()  # the worker's runtime
    # Its first start exported the model in a process of its own: that peak is reported.
    assert report["export_peak_rss_mb"] > 0
    assert "export processes' peak memory" in result.stdout


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--random-weights"], "set up the --local worker"),
        (["--runtime", "onnx"], "set up the --local worker"),
        (["--local", "--score-shape", "realistic"], "shapes the scores of --random-weights"),
        (["--rate", "fast"], "or half"),
    ],
)
def test_bench_load_says_which_options_go_together(arguments: list[str], message: str) -> None:
    result = run_module("moderator", "bench", "load", *arguments)
    assert result.returncode == 2
    assert message in result.stderr


def test_bench_load_names_the_score_shapes_the_workers_build() -> None:
    """The service's package cannot import the workers': the two lists must agree."""
    from moderator.bench.load import SCORE_SHAPES
    from workers.bench.random_model import SCORE_SHAPES as BUILT

    assert SCORE_SHAPES == BUILT
