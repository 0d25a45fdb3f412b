"""The cascade (`MODERATOR_TOXICITY_RUNTIME=cascade`): int8 first, fp32 again wherever
int8 could change a decision, so the decisions are fp32's; its margins measured when the
int8 copy is made and kept beside it; each score says which path made it."""

from __future__ import annotations

import json
import math
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from structlog.testing import capture_logs

from moderator.settings import DEFAULT_THRESHOLDS, Settings
from tests.model_factory import SENTENCES, build_spread_model_dir, restored_process_state
from workers.bench.corpus import corpus
from workers.toxicity.cascade import (
    CASCADE_FILE,
    FAST_DATA_FILE,
    FAST_FILE,
    CascadeScorer,
    calibration_texts,
    int8_kernel,
)
from workers.toxicity.loading import load_scorer
from workers.toxicity.modeldir import sha256_file
from workers.toxicity.onnx_runtime import onnx_file
from workers.toxicity.payoff import Payoff
from workers.toxicity.scorer import DetoxifyScorer

COMMENTS = [*corpus(60, seed=11), *SENTENCES]


@pytest.fixture(scope="module", autouse=True)
def _hub_state() -> Iterator[None]:
    with restored_process_state():
        yield


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Scores that straddle every threshold: the harsh case for int8."""
    return build_spread_model_dir(tmp_path_factory.mktemp("cascade"), COMMENTS[:40])


@pytest.fixture(scope="module")
def fp32(model_dir: Path) -> DetoxifyScorer:
    return load_scorer("multilingual", str(model_dir), threads=1, runtime="onnx")


@pytest.fixture(scope="module")
def cascade(model_dir: Path, fp32: DetoxifyScorer) -> CascadeScorer:
    scorer = load_scorer("multilingual", str(model_dir), threads=1, runtime="cascade")
    assert isinstance(scorer, CascadeScorer)
    return scorer


@pytest.fixture(autouse=True)
def _payoff_afresh(request: pytest.FixtureRequest) -> None:
    """Each test's cascade starts without the shares earlier tests sent back: on the tests'
    tiny model int8 is no faster than fp32, so a few straddling batches would send the
    next ones to fp32 alone (`test_when_most_comments_go_back...` tests that)."""
    if "cascade" in request.fixturenames:
        request.getfixturevalue("cascade").payoff = Payoff()


def decisions(scores: list[dict[str, float]], thresholds: dict[str, float]) -> list[bool]:
    return [any(row[label] >= t for label, t in thresholds.items()) for row in scores]


@pytest.mark.parametrize("shift", [0.0, -0.35, 0.1], ids=["defaults", "stricter", "laxer"])
def test_decisions_are_fp32s_under_any_threshold(
    cascade: CascadeScorer, fp32: DetoxifyScorer, shift: float
) -> None:
    """Thresholds changed after the int8 copy was made (a setting, a promoted policy) use
    the same margin; a comment near any of them is scored again in fp32."""
    thresholds = {label: min(0.99, max(0.01, t + shift)) for label, t in DEFAULT_THRESHOLDS.items()}
    cascade.thresholds = thresholds
    scores, paths = cascade.score_with_paths(COMMENTS)
    expected = fp32.score(COMMENTS)
    assert decisions(scores, thresholds) == decisions(expected, thresholds)
    assert set(paths) <= {"fast", "fp32"}
    for row, path, reference in zip(scores, paths, expected, strict=True):
        if path == "fp32":
            assert row == pytest.approx(reference, abs=1e-6)
    cascade.thresholds = dict(DEFAULT_THRESHOLDS)


def test_the_margins_are_measured_and_kept_beside_the_int8_copy(
    cascade: CascadeScorer, model_dir: Path
) -> None:
    directory = onnx_file(model_dir / "multilingual").parent
    kept = json.loads((directory / CASCADE_FILE).read_text())
    assert (directory / FAST_FILE).is_file()
    # Its weights apart, mapped by ONNX Runtime, and checked like the graph.
    assert kept["int8_data_sha256"] == sha256_file(directory / FAST_DATA_FILE)
    assert kept["int8_sha256"] == sha256_file(directory / FAST_FILE)
    graph, weights = (directory / FAST_FILE).stat(), (directory / FAST_DATA_FILE).stat()
    assert graph.st_size < weights.st_size
    assert weights.st_mode == graph.st_mode  # readable by whoever may read the graph
    assert kept["calibration"]["texts"] == len(calibration_texts())
    for label, margin in kept["margins"].items():
        # The band of int8 - fp32 differences measured: centred on the offset.
        low, high = kept["calibration"]["diff_range"][label]
        assert low <= high
        assert kept["offsets"][label] == pytest.approx((low + high) / 2, abs=1e-3)
        assert margin == pytest.approx(max(0.05, (high - low) / 2 * kept["headroom"]), abs=1e-3)
        assert cascade.margins[label] == margin
        assert cascade.offsets[label] == kept["offsets"][label]
    assert kept["quantization"]["weights"].startswith("int8, per channel")
    assert kept["int8_kernel"] == int8_kernel()


def test_the_calibration_reads_windows_of_every_length(cascade: CascadeScorer) -> None:
    """int8 errs most on the shortest comments and the longest: both are measured."""
    texts = calibration_texts()
    windows, _ = cascade._windows(texts)
    lengths = sorted(map(len, windows))
    assert lengths[0] <= 8 and lengths[-1] >= 4 * lengths[len(lengths) // 2]
    assert len(set(texts)) > 0.95 * len(texts)


def test_a_fast_score_is_the_int8_logit_less_its_offset(
    cascade: CascadeScorer, model_dir: Path
) -> None:
    """So a fast score falls on the side of every threshold that fp32's does."""
    from workers.toxicity.sessions import open_session

    cascade.thresholds = {label: 0.999999 for label in DEFAULT_THRESHOLDS}
    scores, paths = cascade.score_with_paths(COMMENTS[:1])
    cascade.thresholds = dict(DEFAULT_THRESHOLDS)
    assert paths == ["fast"]
    fast = open_session(onnx_file(model_dir / "multilingual").parent / FAST_FILE, 1)
    windows, owners = cascade._windows(COMMENTS[:1])
    (raw,) = cascade._best(fast, windows, owners, 1)
    for label, logit in zip(cascade.labels, raw, strict=True):
        expected = 1 / (1 + math.exp(-(logit - cascade.offsets[label])))
        assert scores[0][label] == pytest.approx(expected, abs=1e-9)


def test_when_most_comments_go_back_int8_is_skipped_and_decisions_stay_fp32s(
    cascade: CascadeScorer, fp32: DetoxifyScorer
) -> None:
    """Every comment near a threshold (margins wider than any logit): int8 first costs
    more than fp32 alone, so batches go to fp32 alone, with a probe through int8 now
    and then; the scores are fp32's and their path says so."""
    calls: list[int] = []
    fast, margins = cascade._fast, dict(cascade.margins)

    class Counted:
        def run(self, *args: object, **kwargs: object) -> object:
            calls.append(1)
            return fast.run(*args, **kwargs)

    cascade._fast, cascade.margins = Counted(), dict.fromkeys(margins, 1e9)
    cascade.payoff, alone = Payoff(), cascade.alone
    try:
        batches = [COMMENTS[i : i + 4] for i in range(0, 40, 4)]
        through_int8 = []
        for batch in batches:
            before = len(calls)
            scores, paths = cascade.score_with_paths(batch)
            through_int8.append(len(calls) > before)
            assert paths == ["fp32"] * len(batch)
            for row, reference in zip(scores, fp32.score(batch), strict=True):
                assert row == pytest.approx(reference, abs=1e-6)
        # Through int8 until both passes were timed, then fp32 alone but for a probe.
        assert through_int8[0] and not all(through_int8)
        assert cascade.alone - alone == 4 * through_int8.count(False)
    finally:
        cascade._fast, cascade.margins, cascade.payoff = fast, margins, Payoff()


def test_a_first_start_exports_then_quantises_in_two_processes(
    model_dir: Path, tmp_path: Path
) -> None:
    """The export (torch imported to trace the graph) and the int8 copy (both sessions
    open to measure the band) each in a process of its own: together they would hold
    more than either."""
    shutil.copytree(model_dir, tmp_path, dirs_exist_ok=True, ignore=shutil.ignore_patterns("onnx"))
    with capture_logs() as logs:
        load_scorer("multilingual", str(tmp_path), threads=1, runtime="cascade")
    processes = [e["runtime"] for e in logs if e["event"] == "onnx_export_process"]
    assert processes == ["onnx", "cascade"]


def test_an_int8_copy_without_its_band_is_measured_again(model_dir: Path, tmp_path: Path) -> None:
    """A copy measured before offsets were kept (margins either way from 0) is made again."""
    shutil.copytree(model_dir, tmp_path, dirs_exist_ok=True)
    load_scorer("multilingual", str(tmp_path), threads=1, runtime="cascade")
    kept = onnx_file(tmp_path / "multilingual").parent / CASCADE_FILE
    older = {key: value for key, value in json.loads(kept.read_text()).items() if key != "offsets"}
    kept.write_text(json.dumps(older))
    with capture_logs() as logs:
        load_scorer("multilingual", str(tmp_path), threads=1, runtime="cascade")
    assert [entry["event"] for entry in logs] == ["onnx_export_process", "toxicity_model_loaded"]
    assert "offsets" in json.loads(kept.read_text())


def test_the_embedding_tables_are_mapped_once_for_both_sessions(
    cascade: CascadeScorer, model_dir: Path
) -> None:
    """The int8 copy keeps the embeddings in fp32, as they are in the export: both sessions
    are given one mapping of them, named in cascade.json once compared value for value."""
    import numpy as np
    import onnx

    from workers.toxicity.sessions import mapped_weights

    directory = onnx_file(model_dir / "multilingual").parent
    shared = json.loads((directory / CASCADE_FILE).read_text())["shared"]
    assert any("word_embeddings" in name for name in shared)
    fast = onnx.load(str(directory / FAST_FILE))  # its own copy, with its values
    own = {t.name: onnx.numpy_helper.to_array(t) for t in fast.graph.initializer}
    mapped = mapped_weights(directory / "model.onnx", shared)
    for name in shared:
        assert np.array_equal(mapped[name].numpy(), own[name])
    assert set(cascade._shared) == set(shared)
    with pytest.raises(ValueError, match="no external fp32 weights"):
        mapped_weights(directory / "model.onnx", ["no.such.weight"])


def test_a_directory_moved_to_another_processor_family_is_measured_again(
    model_dir: Path, tmp_path: Path
) -> None:
    """Margins measured with VNNI's kernels do not hold for AVX2's, which saturate."""
    shutil.copytree(model_dir, tmp_path, dirs_exist_ok=True)
    load_scorer("multilingual", str(tmp_path), threads=1, runtime="cascade")
    kept = onnx_file(tmp_path / "multilingual").parent / CASCADE_FILE
    elsewhere = json.loads(kept.read_text()) | {"int8_kernel": "x86-elsewhere"}
    kept.write_text(json.dumps(elsewhere))
    with capture_logs() as logs:
        load_scorer("multilingual", str(tmp_path), threads=1, runtime="cascade")
    # Made again in the export's process, as at a first start: quantising takes gigabytes.
    assert [entry["event"] for entry in logs] == ["onnx_export_process", "toxicity_model_loaded"]
    assert json.loads(kept.read_text())["int8_kernel"] == int8_kernel()


def test_only_comments_near_a_threshold_go_to_fp32(cascade: CascadeScorer) -> None:
    """Far from every threshold (all at 0.999999, a logit of 13.8): int8's word is kept
    for most; a threshold on a comment's own int8 score sends it to fp32."""
    cascade.thresholds = {label: 0.999999 for label in DEFAULT_THRESHOLDS}
    _, far = cascade.score_with_paths(COMMENTS[:10])
    fast_scores, _ = cascade.score_with_paths(COMMENTS[:1])
    cascade.thresholds = {label: value for label, value in fast_scores[0].items()}
    _, near = cascade.score_with_paths(COMMENTS[:1])
    cascade.thresholds = dict(DEFAULT_THRESHOLDS)
    assert far.count("fast") >= 8
    assert near == ["fp32"]
    assert all(math.isfinite(m) for m in cascade.margins.values())


def test_an_int8_copy_with_damaged_or_missing_weights_is_made_again(
    model_dir: Path, tmp_path: Path
) -> None:
    """A copy made before its weights were kept apart (no `int8_data_sha256`), or whose
    weights file changed, is quantised and measured again."""
    shutil.copytree(model_dir, tmp_path, dirs_exist_ok=True)
    load_scorer("multilingual", str(tmp_path), threads=1, runtime="cascade")
    directory = onnx_file(tmp_path / "multilingual").parent
    with (directory / FAST_DATA_FILE).open("r+b") as data:
        data.write(b"\0\1\2\3")
    with capture_logs() as logs:
        load_scorer("multilingual", str(tmp_path), threads=1, runtime="cascade")
    # Made again in the export's process, as at a first start: quantising takes gigabytes.
    assert [entry["event"] for entry in logs] == ["onnx_export_process", "toxicity_model_loaded"]
    kept = json.loads((directory / CASCADE_FILE).read_text())
    assert kept["int8_data_sha256"] == sha256_file(directory / FAST_DATA_FILE)


def test_a_second_start_reuses_the_int8_copy(model_dir: Path, tmp_path: Path) -> None:
    shutil.copytree(model_dir, tmp_path, dirs_exist_ok=True)
    load_scorer("multilingual", str(tmp_path), threads=1, runtime="cascade")
    with capture_logs() as logs:
        load_scorer("multilingual", str(tmp_path), threads=1, runtime="cascade")
    assert [entry["event"] for entry in logs] == ["toxicity_model_loaded"]
    assert logs[0]["from_export"] is True and logs[0]["runtime"] == "cascade"


def test_the_cascade_setting_needs_a_model_directory_and_fp32() -> None:
    from moderator.errors import SettingsError

    with pytest.raises(SettingsError, match="TOXICITY_RUNTIME=cascade needs"):
        Settings.from_env({"MODERATOR_TOXICITY_RUNTIME": "cascade"})
    with pytest.raises(SettingsError, match="TOXICITY_PRECISION at fp32"):
        Settings.from_env(
            {
                "MODERATOR_TOXICITY_RUNTIME": "cascade",
                "MODERATOR_MODEL_DIR": "/models",
                "MODERATOR_TOXICITY_PRECISION": "int8",
            }
        )


async def test_the_decision_record_says_which_path_scored(cascade: CascadeScorer) -> None:
    from workers.toxicity.reuse import scores_of
    from workers.toxicity.routing import ToxicityRouter

    results = await ToxicityRouter(cascade).score(COMMENTS[:12], ["fr"] * 12)
    paths = [scores_of(result)[0] for result in results]
    assert set(paths) <= {"fast", "fp32"} and len(paths) == 12


def test_without_vnni_the_weights_are_quantised_to_7_bits(
    model_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """AVX2's int8 kernels add pairs of products in 16 bits, which saturate with 8-bit
    weights; the family decides, and is kept with the margins it was measured with."""
    from workers.toxicity import cascade as cascade_module

    monkeypatch.setattr(cascade_module, "int8_kernel", lambda: "x86-no-vnni")
    shutil.copytree(model_dir, tmp_path, dirs_exist_ok=True)
    load_scorer("multilingual", str(tmp_path), threads=1, runtime="cascade", apart=False)
    kept = json.loads((onnx_file(tmp_path / "multilingual").parent / CASCADE_FILE).read_text())
    assert kept["int8_kernel"] == "x86-no-vnni"
    assert kept["quantization"]["weights"] == "int8, per channel, 7 bits"
