"""The ONNX runtime: the export kept in the model directory (made once, made again for
another checkpoint, never trusted half-written), and `OnnxScorer` scoring as torch does.

The model is the tiny multilingual one of tests/model_factory.py, its weights redrawn
larger and its head spread (as `moderator bench scoring` does), so that scores depend
on the text and comparing them means something; it exports in a fraction of a second.
"""

from __future__ import annotations

import json
import os
import shutil
import types
import weakref
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from structlog.testing import capture_logs

from tests.model_factory import (
    SENTENCES,
    build_spread_model_dir,
    restored_process_state,
)
from workers.errors import ModelUnavailable
from workers.toxicity import export_runner, exporting, modeldir, onnx_runtime, streamed_export
from workers.toxicity.exporting import ensure_exported
from workers.toxicity.loading import load_detoxify, load_scorer
from workers.toxicity.onnx_runtime import OnnxScorer, onnx_file
from workers.toxicity.scorer import DetoxifyScorer
from workers.toxicity.sessions import open_session

LONG_COMMENT = " ".join((" ".join(SENTENCES).split() * 40)[:3000])  # several windows
TEXTS = [
    "Très bon article, merci pour ces informations.",
    "مقال مفيد جدا، شكرا على المعلومات.",
    "Thank you for this article, it was very informative.",
    "had lmaqal zwin bzaf, chokran 3la had lma3loumat.",
    "هاد المقال زوين بزاف",
    "ok",
    LONG_COMMENT,
    " ".join(SENTENCES),
]
SHA_A, SHA_B = "a" * 64, "b" * 64
FILES = ["model.onnx", "model.onnx.data"]


@pytest.fixture(scope="module", autouse=True)
def _hub_state() -> Iterator[None]:
    """Give the rest of the session back the hub, torch and logging state it had."""
    with restored_process_state():
        yield


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A model directory whose scores depend on the text (see `spread_head`)."""
    return build_spread_model_dir(tmp_path_factory.mktemp("spread"), [*TEXTS, *SENTENCES])


@pytest.fixture(scope="module")
def torch_scorer(model_dir: Path) -> DetoxifyScorer:
    return load_scorer("multilingual", str(model_dir), threads=2)


@pytest.fixture(scope="module")
def onnx_scorer(model_dir: Path) -> DetoxifyScorer:
    return load_scorer("multilingual", str(model_dir), threads=2, runtime="onnx")


@pytest.fixture(scope="module")
def torch_model(model_dir: Path) -> Any:
    detoxify, _ = load_detoxify("multilingual", str(model_dir))
    return detoxify.model


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory, torch_model: Any) -> Path:
    """A model root holding a finished export of checkpoint SHA_A."""
    root = tmp_path_factory.mktemp("exported")
    ensure_exported(torch_model, root, SHA_A)
    return root


@pytest.fixture
def export_copy(exported: Path, tmp_path: Path) -> Path:
    root = tmp_path / "model"
    shutil.copytree(exported, root)
    return root


@pytest.fixture
def exports(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    """The files torch's exporter writes, one per export."""
    written: list[Path] = []
    export = exporting.trace

    def recorded(model: Any, path: Path, **options: Any) -> None:
        written.append(path)
        export(model, path, **options)

    monkeypatch.setattr(exporting, "trace", recorded)  # the whole model's way
    monkeypatch.setattr(streamed_export, "trace", recorded)  # a weight at a time
    return written


def source(root: Path) -> dict[str, Any]:
    body: dict[str, Any] = json.loads((onnx_file(root).parent / "source.json").read_text())
    return body


def test_onnx_scores_as_torch_does(
    torch_scorer: DetoxifyScorer, onnx_scorer: DetoxifyScorer
) -> None:
    assert isinstance(onnx_scorer, OnnxScorer)
    assert onnx_scorer.labels == torch_scorer.labels
    assert onnx_scorer.info == torch_scorer.info
    assert onnx_scorer.windows(LONG_COMMENT) == torch_scorer.windows(LONG_COMMENT)
    assert len(onnx_scorer.windows(LONG_COMMENT)) > 2
    reference = torch_scorer.score(TEXTS)
    spread = max(s["toxicity"] for s in reference) - min(s["toxicity"] for s in reference)
    assert spread > 0.3  # the scores depend on the text: the comparison means something
    results = onnx_scorer.score(TEXTS)
    assert len(results) == len(TEXTS)
    for ours, theirs in zip(results, reference, strict=True):
        assert list(ours) == list(theirs) == list(torch_scorer.labels)
        assert max(abs(ours[k] - theirs[k]) for k in ours) < 1e-4
    assert onnx_scorer.score([]) == []
    for text, batched in zip(TEXTS, results, strict=True):  # alone: no padding
        [alone] = onnx_scorer.score([text])
        assert max(abs(alone[k] - batched[k]) for k in alone) < 1e-4


def test_the_export_leaves_the_torch_model_as_it_was(model_dir: Path, tmp_path: Path) -> None:
    """Eval mode (the exporter restores the training flag of what it is given) and
    attention: the torch model scores the same after as before."""
    import torch

    detoxify, _ = load_detoxify("multilingual", str(model_dir))
    model = detoxify.model
    attention = model.config._attn_implementation
    batch = detoxify.tokenizer(TEXTS[:3], padding=True, return_tensors="pt")
    with torch.inference_mode():
        before = model(**batch).logits
    ensure_exported(model, tmp_path, SHA_A)
    assert not model.training
    assert model.config._attn_implementation == attention
    with torch.inference_mode():
        assert torch.equal(model(**batch).logits, before)


def test_the_export_records_its_source(model_dir: Path, tmp_path: Path) -> None:
    """Exported at the first start, with a log line; reused at the next."""
    import onnx
    import onnxruntime
    import torch

    shutil.copytree(model_dir, tmp_path, dirs_exist_ok=True, ignore=shutil.ignore_patterns("onnx"))
    sha256 = modeldir.sha256_file(tmp_path / "multilingual" / modeldir.CHECKPOINT)
    with capture_logs() as first:
        load_scorer("multilingual", str(tmp_path), threads=1, runtime="onnx")
    with capture_logs() as second:
        load_scorer("multilingual", str(tmp_path), threads=1, runtime="onnx")
    [exported, loaded] = first  # exported in a process of its own, which logs its own lines
    assert exported["event"] == "onnx_export_process"
    assert (exported["model"], exported["runtime"]) == ("detoxify/multilingual", "onnx")
    assert exported["peak_rss_mb"] > 0 and isinstance(exported["duration_ms"], int)
    assert loaded["event"] == "toxicity_model_loaded"
    assert (loaded["runtime"], loaded["precision"], loaded["threads"]) == ("onnx", "fp32", 1)
    assert [entry["event"] for entry in second] == ["toxicity_model_loaded"]
    root = tmp_path / "multilingual"
    assert onnx_file(root) == root / "onnx" / "model.onnx"
    directory = onnx_file(root).parent
    assert source(root) == {
        "checkpoint_sha256": sha256,
        "files": {name: (directory / name).stat().st_size for name in FILES},
        "sha256": {name: modeldir.sha256_file(directory / name) for name in FILES},
        "torch": torch.__version__,
        "onnx": onnx.__version__,
        "onnxruntime": onnxruntime.__version__,
        "duration_ms": source(root)["duration_ms"],
        # What a start from the export needs of the model, without its checkpoint.
        "labels": list(load_scorer("multilingual", str(tmp_path), threads=1).labels),
        "config": {
            "model_type": "xlm-roberta",
            "max_position_embeddings": 514,
            "pad_token_id": 1,
            "num_labels": 16,
        },
    }
    # Even the first: the worker starts from the export the other process made.
    assert second[0]["from_export"] is True and loaded["from_export"] is True
    assert sorted(p.name for p in directory.iterdir()) == [".lock", *FILES, "source.json"]
    modes = {(directory / name).stat().st_mode for name in FILES}
    assert len(modes) == 1  # the weights as readable as the graph (onnx makes them 0600)


def test_a_second_start_reuses_the_export_without_writing(
    export_copy: Path, exports: list[Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Not even the lock file: a read-only directory holding the export will do."""
    modified = onnx_file(export_copy).stat().st_mtime_ns

    def no_lock(lock: Path) -> None:
        raise AssertionError(f"{lock} taken for a current export")

    monkeypatch.setattr(exporting, "exclusive", no_lock)
    assert ensure_exported(object(), export_copy, SHA_A) == onnx_file(export_copy)
    assert exports == []
    assert onnx_file(export_copy).stat().st_mtime_ns == modified


def test_a_start_from_the_export_never_reads_the_checkpoint(
    model_dir: Path, tmp_path: Path, onnx_scorer: DetoxifyScorer
) -> None:
    """Once exported, the checkpoint (a pickle the size of the model) is neither hashed
    nor loaded: a start holds one copy of the weights, ONNX Runtime's."""
    shutil.copytree(model_dir, tmp_path, dirs_exist_ok=True)
    load_scorer("multilingual", str(tmp_path), threads=1, runtime="onnx")  # exports
    checkpoint = tmp_path / "multilingual" / modeldir.CHECKPOINT
    checkpoint.write_bytes(b"not a checkpoint")  # would fail its sha256 and unpickling
    with capture_logs() as logs:
        scorer = load_scorer("multilingual", str(tmp_path), threads=1, runtime="onnx")
    assert [entry.get("from_export") for entry in logs] == [True]
    assert scorer.info == onnx_scorer.info  # the manifest's checkpoint sha256
    assert scorer.labels == onnx_scorer.labels and scorer.window == onnx_scorer.window
    assert scorer.score(TEXTS) == onnx_scorer.score(TEXTS)


@pytest.mark.parametrize("runtime", ["onnx", "cascade"])
def test_a_start_from_the_export_never_imports_torch(
    model_dir: Path, tmp_path: Path, runtime: str
) -> None:
    """torch alone holds about 260 MB once imported: a worker on the export reads the
    tokenizer from tokenizer.json and never imports it, with the same token ids as
    transformers' AutoTokenizer (which imports torch through the model configurations)."""
    import subprocess
    import sys

    shutil.copytree(model_dir, tmp_path, dirs_exist_ok=True)
    here = load_scorer("multilingual", str(tmp_path), threads=1, runtime=runtime)  # exports
    script = (
        "import json, sys\n"
        "from workers.toxicity.loading import load_scorer\n"
        f"scorer = load_scorer('multilingual', {str(tmp_path)!r}, threads=1, runtime={runtime!r})\n"
        f"windows, _ = scorer._windows({TEXTS!r})\n"
        "print(json.dumps({'torch': 'torch' in sys.modules, 'windows': windows}))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=300, check=False
    )
    assert done.returncode == 0, done.stderr[-2000:]
    seen = json.loads(done.stdout.strip().splitlines()[-1])
    assert seen["torch"] is False
    from transformers import AutoTokenizer

    here._tokenizer = AutoTokenizer.from_pretrained(str(tmp_path / "multilingual" / "hf"))
    assert seen["windows"] == here._windows(TEXTS)[0]


def test_a_changed_export_is_made_again(model_dir: Path, tmp_path: Path) -> None:
    """Same size, other bytes: its sha256 no longer matches, so it is not trusted."""
    shutil.copytree(model_dir, tmp_path, dirs_exist_ok=True)
    load_scorer("multilingual", str(tmp_path), threads=1, runtime="onnx")
    data = onnx_file(tmp_path / "multilingual").parent / "model.onnx.data"
    with data.open("r+b") as handle:
        handle.seek(100)
        byte = handle.read(1)
        handle.seek(100)
        handle.write(bytes([byte[0] ^ 0xFF]))
    with capture_logs() as logs:
        load_scorer("multilingual", str(tmp_path), threads=1, runtime="onnx")
    assert [entry["event"] for entry in logs] == ["onnx_export_process", "toxicity_model_loaded"]


@pytest.mark.parametrize("checkpoint_sha256", [SHA_B, None], ids=["another", "unknown"])
def test_another_or_an_unknown_checkpoint_exports_again(
    export_copy: Path, exports: list[Path], torch_model: Any, checkpoint_sha256: str | None
) -> None:
    ensure_exported(torch_model, export_copy, checkpoint_sha256)
    assert len(exports) == 1
    assert source(export_copy)["checkpoint_sha256"] == checkpoint_sha256


def truncate(name: str) -> Any:
    def damage(root: Path) -> None:
        path = onnx_file(root).parent / name
        path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])

    return damage


def unlink(name: str) -> Any:
    return lambda root: (onnx_file(root).parent / name).unlink()


def garble_source(root: Path) -> None:
    (onnx_file(root).parent / "source.json").write_text('{"checkpoint_sha256": "aaa')


@pytest.mark.parametrize(
    "damage",
    [
        truncate("model.onnx"),
        truncate("model.onnx.data"),
        unlink("model.onnx.data"),
        unlink("source.json"),
        garble_source,
    ],
    ids=["short graph", "short weights", "no weights", "no source.json", "garbled source.json"],
)
def test_an_incomplete_export_is_not_trusted(
    export_copy: Path, exports: list[Path], torch_model: Any, damage: Any
) -> None:
    damage(export_copy)
    path = ensure_exported(torch_model, export_copy, SHA_A)
    assert len(exports) == 1
    assert source(export_copy)["checkpoint_sha256"] == SHA_A
    open_session(path, threads=1)


def test_an_interrupted_export_leaves_nothing_to_trust(
    tmp_path: Path, torch_model: Any, exports: list[Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Stopped while writing the weights; then, at the next start, the leftovers of a
    worker killed outright (no cleanup) are removed and the export made whole."""
    directory = onnx_file(tmp_path).parent
    split_weights = exporting._split_weights

    def stopped(exported: Path, path: Path) -> None:
        (path.parent / "model.onnx.data").write_bytes(b"half the weights")
        raise KeyboardInterrupt

    monkeypatch.setattr(exporting, "_split_weights", stopped)
    with pytest.raises(KeyboardInterrupt):
        ensure_exported(torch_model, tmp_path, SHA_A)
    assert sorted(p.name for p in directory.iterdir()) == [".lock"]

    killed = directory / ".partial-killed"
    killed.mkdir()
    (killed / "model.onnx.data").write_bytes(b"half the weights")
    monkeypatch.setattr(exporting, "_split_weights", split_weights)
    ensure_exported(torch_model, tmp_path, SHA_A)
    assert len(exports) == 2
    assert sorted(p.name for p in directory.iterdir()) == [".lock", *FILES, "source.json"]


def test_an_export_stopped_while_moving_in_is_not_trusted(
    export_copy: Path, torch_model: Any, exports: list[Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Re-exported for checkpoint B, stopped after the new weights replaced A's: the
    next start, given A, does not take B's weights for A's."""
    directory = onnx_file(export_copy).parent
    replace, moved = os.replace, []

    def stop_after_one(source: Path, target: Path) -> None:
        if moved:
            raise KeyboardInterrupt
        moved.append(target)
        replace(source, target)

    monkeypatch.setattr(os, "replace", stop_after_one)
    with pytest.raises(KeyboardInterrupt):
        ensure_exported(torch_model, export_copy, SHA_B)
    monkeypatch.setattr(os, "replace", replace)
    assert moved == [directory / "model.onnx.data"]
    assert not (directory / "source.json").exists()
    ensure_exported(torch_model, export_copy, SHA_A)
    assert len(exports) == 2
    assert source(export_copy)["checkpoint_sha256"] == SHA_A


def test_workers_starting_together_export_once(
    tmp_path: Path, torch_model: Any, exports: list[Path]
) -> None:
    """The second waits for the first's lock, then finds the export made."""
    with ThreadPoolExecutor(2) as pool:
        paths = list(pool.map(lambda _: ensure_exported(torch_model, tmp_path, SHA_A), [1, 2]))
    assert paths == [onnx_file(tmp_path)] * 2
    assert len(exports) == 1


def test_a_model_that_does_not_export_is_unavailable(
    model_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import torch

    def fails(*args: object, **kwargs: object) -> None:
        raise RuntimeError("unsupported operator\ntensor([1.0, 2.0, ...])")

    detoxify, _ = load_detoxify("multilingual", str(model_dir))
    attention = detoxify.model.config._attn_implementation
    monkeypatch.setattr(torch.onnx, "export", fails)
    with pytest.raises(ModelUnavailable) as error:
        ensure_exported(detoxify.model, tmp_path, SHA_A)
    assert str(error.value) == (
        "xlm-roberta did not export to ONNX (RuntimeError: unsupported operator); "
        "set MODERATOR_TOXICITY_RUNTIME=torch"
    )
    assert not detoxify.model.training
    assert detoxify.model.config._attn_implementation == attention
    assert sorted(p.name for p in onnx_file(tmp_path).parent.iterdir()) == [".lock"]


def test_an_unwritable_model_directory_says_what_to_do(tmp_path: Path) -> None:
    """A file where onnx/ should be: unwritable even for root."""
    (tmp_path / "onnx").write_text("in the way")
    with pytest.raises(ModelUnavailable) as error:
        ensure_exported(object(), tmp_path, SHA_A)
    message = str(error.value)
    assert message.startswith(f"the ONNX export could not be written to {tmp_path / 'onnx'} (")
    command = (
        f"moderator models check --runtime onnx --model {tmp_path.name} --dir {tmp_path.parent}"
    )
    assert command in message
    assert "or set MODERATOR_TOXICITY_RUNTIME=torch" in message


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only directories")
def test_a_read_only_model_directory_says_what_to_do(tmp_path: Path) -> None:
    tmp_path.chmod(0o555)
    try:
        with pytest.raises(ModelUnavailable, match=r"could not be written.*PermissionError"):
            ensure_exported(object(), tmp_path, SHA_A)
    finally:
        tmp_path.chmod(0o755)


def test_the_onnx_runtime_needs_a_model_directory() -> None:
    with pytest.raises(ModelUnavailable) as error:
        load_scorer("multilingual", None, runtime="onnx")
    message = str(error.value)
    assert message.startswith(
        "the ONNX runtime (MODERATOR_TOXICITY_RUNTIME=onnx) needs MODERATOR_MODEL_DIR, "
        "a local model directory, where the export is kept; "
    )
    assert "moderator models import --checkpoint FILE --hf DIR" in message


def test_the_onnx_runtime_is_fp32_only(model_dir: Path) -> None:
    with pytest.raises(ValueError, match="the onnx runtime runs the model in fp32, not bf16"):
        load_scorer("multilingual", str(model_dir), precision="bf16", runtime="onnx")
    with pytest.raises(ValueError, match=r"one of \('auto', 'torch', 'onnx', 'cascade'\)"):
        load_scorer("multilingual", str(model_dir), runtime="tensorrt")


def torch_objects(scorer: object) -> list[str]:
    """Where, among the scorer's attributes and theirs, torch modules or tensors are."""
    import torch

    found: list[str] = []
    seen: set[int] = set()
    stack: list[tuple[str, object]] = [("scorer", scorer)]
    while stack:
        name, value = stack.pop()
        if id(value) in seen or isinstance(value, type | types.ModuleType | types.FunctionType):
            continue
        seen.add(id(value))
        if isinstance(value, torch.nn.Module | torch.Tensor):
            found.append(name)
        elif isinstance(value, dict):
            stack.extend((f"{name}[{key!r}]", item) for key, item in value.items())
        elif isinstance(value, list | tuple | set | frozenset):
            stack.extend((f"{name}[{i}]", item) for i, item in enumerate(value))
        elif hasattr(value, "__dict__"):
            stack.extend((f"{name}.{key}", item) for key, item in vars(value).items())
    return found


def test_the_onnx_scorer_lets_the_torch_model_go(
    model_dir: Path,
    onnx_scorer: DetoxifyScorer,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    """At the start that exports: the torch model is freed before ONNX Runtime loads its
    copy of the weights (the two never share memory), and nothing in the scorer holds
    torch modules or tensors."""
    models: list[weakref.ref[Any]] = []
    freed: list[bool] = []

    def exported(
        model: Any, model_root: Path, checkpoint_sha256: str | None, labels: Any = ()
    ) -> Path:
        models.append(weakref.ref(model))
        return ensure_exported(model, model_root, checkpoint_sha256, labels)

    def session(path: Path, threads: int) -> Any:
        freed.append(models[0]() is None)
        return open_session(path, threads)

    monkeypatch.setattr(exporting, "ensure_exported", exported)
    monkeypatch.setattr(onnx_runtime, "open_session", session)
    # The whole model's way, for a checkpoint that cannot be read a weight at a time.
    monkeypatch.setattr(exporting, "export_checkpoint", lambda *args: None)
    ignore = shutil.ignore_patterns("onnx")
    shutil.copytree(model_dir, tmp_path, dirs_exist_ok=True, ignore=ignore)
    # In the process that exports (`workers.toxicity.export_process`), as a worker did
    # before the export had a process of its own.
    scorer = load_scorer("multilingual", str(tmp_path), threads=1, runtime="onnx", apart=False)
    assert freed == [True]
    assert torch_objects(scorer) == []
    assert torch_objects(onnx_scorer) == []
    assert scorer.score(TEXTS[:2]) == onnx_scorer.score(TEXTS[:2])


def test_a_first_start_exports_in_a_process_of_its_own(model_dir: Path, tmp_path: Path) -> None:
    """The worker's process never loads the checkpoint nor detoxify's model: the
    export's memory (the checkpoint, the traced graph, the weights written out) goes
    back to the system with the process that made it."""
    import subprocess
    import sys

    shutil.copytree(model_dir, tmp_path, dirs_exist_ok=True, ignore=shutil.ignore_patterns("onnx"))
    script = (
        "import sys\n"
        "from workers.toxicity.loading import load_scorer\n"
        f"scorer = load_scorer('multilingual', {str(tmp_path)!r}, threads=1, runtime='onnx')\n"
        "import gc, torch\n"
        "modules = [o for o in gc.get_objects() if isinstance(o, torch.nn.Module)]\n"
        "print('detoxify' in sys.modules, len(modules), scorer.score(['merci'])[0] != {})\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=300, check=False
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip().splitlines()[-1] == "False 0 True"
    assert onnx_file(tmp_path / "multilingual").is_file()


def test_an_export_process_that_cannot_write_says_why(
    model_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Its ModelUnavailable message reaches the worker whole, not as a traceback."""

    shutil.copytree(model_dir, tmp_path, dirs_exist_ok=True, ignore=shutil.ignore_patterns("onnx"))
    (tmp_path / "multilingual" / "onnx").write_text("a file where the export's folder goes")
    with pytest.raises(ModelUnavailable, match="could not be written") as raised:
        export_runner.export_apart("multilingual", tmp_path, runtime="onnx", threads=1)
    assert "Traceback" not in str(raised.value)
    monkeypatch.setattr(export_runner, "UNAVAILABLE", 99)  # as if it had crashed
    with pytest.raises(ModelUnavailable, match=r"failed in its own process \(exit 3\)"):
        export_runner.export_apart("multilingual", tmp_path, runtime="onnx", threads=1)


def test_the_export_process_logs_where_its_caller_does(model_dir: Path, tmp_path: Path) -> None:
    """`moderator models check` logs to stderr: its stdout stays its report."""
    from tests.helpers import clean_env, run_module

    shutil.copytree(model_dir, tmp_path, dirs_exist_ok=True, ignore=shutil.ignore_patterns("onnx"))
    args = ["models", "check", "--model", "multilingual", "--dir", str(tmp_path)]
    done = run_module(
        "moderator",
        *args,
        "--runtime",
        "onnx",
        env=clean_env(MODERATOR_LOG_FORMAT="json"),
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert '"event"' not in done.stdout and "scores:" in done.stdout
    events = [json.loads(line) for line in done.stderr.splitlines() if line.startswith("{")]
    exported = next(e for e in events if e["event"] == "onnx_exported")
    assert exported["service"] == "moderator-export"
    assert any(e["event"] == "onnx_export_process" for e in events)


def test_auto_runs_the_cascade_where_a_model_directory_can_hold_it(
    model_dir: Path, tmp_path: Path, onnx_scorer: DetoxifyScorer
) -> None:
    """The default runtime: the cascade (fp32's decisions, the fastest path measured) with
    a writable directory or its export and int8 copy already there."""
    from moderator.settings import DEFAULT_THRESHOLDS
    from workers.toxicity.cascade import CascadeScorer

    shutil.copytree(model_dir, tmp_path, dirs_exist_ok=True, ignore=shutil.ignore_patterns("onnx"))
    with capture_logs() as logs:
        scorer = load_scorer("multilingual", str(tmp_path), threads=1, runtime="auto")
    assert isinstance(scorer, CascadeScorer)
    loaded = logs[-1]
    assert (loaded["runtime"], loaded["runtime_setting"]) == ("cascade", "auto")

    def held(scores: list[dict[str, float]]) -> list[bool]:
        return [any(row[k] >= t for k, t in DEFAULT_THRESHOLDS.items()) for row in scores]

    assert held(scorer.score(TEXTS)) == held(onnx_scorer.score(TEXTS))


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only directories")
def test_auto_runs_onnx_where_a_read_only_directory_holds_the_export_alone(
    model_dir: Path, tmp_path: Path
) -> None:
    """Prepared with `moderator models check --runtime onnx`, mounted read-only: the int8
    copy cannot be made there, the fp32 export runs."""
    shutil.copytree(model_dir, tmp_path, dirs_exist_ok=True)
    export = onnx_file(tmp_path / "multilingual").parent
    for name in ("model.int8.onnx", "model.int8.onnx.data", "cascade.json"):
        (export / name).unlink(missing_ok=True)
    export.chmod(0o555)
    try:
        scorer = load_scorer("multilingual", str(tmp_path), threads=1, runtime="auto")
    finally:
        export.chmod(0o755)
    assert type(scorer) is OnnxScorer


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only directories")
def test_auto_runs_torch_where_no_export_can_be_made(model_dir: Path, tmp_path: Path) -> None:
    shutil.copytree(model_dir, tmp_path, dirs_exist_ok=True, ignore=shutil.ignore_patterns("onnx"))
    (tmp_path / "multilingual").chmod(0o555)
    try:
        scorer = load_scorer("multilingual", str(tmp_path), threads=1, runtime="auto")
    finally:
        (tmp_path / "multilingual").chmod(0o755)
    assert type(scorer) is DetoxifyScorer


def test_auto_falls_back_to_torch_when_the_export_fails(model_dir: Path, tmp_path: Path) -> None:
    """A directory that looks writable but cannot take the export: a warning, then torch,
    rather than a worker that does not start."""
    shutil.copytree(model_dir, tmp_path, dirs_exist_ok=True, ignore=shutil.ignore_patterns("onnx"))
    (tmp_path / "multilingual" / "onnx").write_text("a file where the export's folder goes")
    with capture_logs() as logs:
        scorer = load_scorer("multilingual", str(tmp_path), threads=1, runtime="auto")
    assert type(scorer) is DetoxifyScorer
    warning = next(entry for entry in logs if entry["event"] == "onnx_unavailable")
    assert warning["log_level"] == "warning" and "could not be written" in warning["reason"]
    assert logs[-1]["runtime"] == "torch"


def test_auto_runs_torch_in_another_precision_or_without_a_directory(model_dir: Path) -> None:
    from workers.toxicity.loading import _auto

    assert _auto("multilingual", str(model_dir), "bf16") == "torch"
    assert _auto("multilingual", None, "fp32") == "torch"
    assert _auto("multilingual", str(model_dir), "fp32") == "cascade"


def test_eval_scores_with_the_workers_runtime(model_dir: Path, tmp_path: Path) -> None:
    """`moderator eval` measures the path that decides: the settings' runtime."""
    from moderator.settings import Settings
    from workers.labelled import toxicity_for

    shutil.copytree(model_dir, tmp_path, dirs_exist_ok=True)
    env = {"MODERATOR_MODEL_DIR": str(tmp_path), "MODERATOR_TOXICITY_MODEL": "multilingual"}
    settings = Settings.from_env({**env, "MODERATOR_TOXICITY_RUNTIME": "onnx"})
    assert isinstance(toxicity_for(settings), OnnxScorer)
    settings = Settings.from_env({**env, "MODERATOR_TOXICITY_RUNTIME": "torch"})
    assert type(toxicity_for(settings)) is DetoxifyScorer
