"""`moderator models import|check|download` (workers/toxicity/cli.py): a model directory laid
out from files brought in by hand, verified and loaded; a tampered file refused; a
download that cannot reach the network failing within its timeout."""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.helpers import REPO, clean_env, run_module
from tests.model_factory import build_model_dir, restored_process_state
from workers.toxicity import modeldir
from workers.toxicity.cli import main


@pytest.fixture(scope="module", autouse=True)
def _process_state() -> Iterator[None]:
    """Give the rest of the session back the hub, torch and logging state it had."""
    with restored_process_state():
        yield


@pytest.fixture(scope="module")
def source(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A checkpoint and an hf/ directory as an operator would bring them in."""
    root = build_model_dir(tmp_path_factory.mktemp("source"), "multilingual", mood="calm")
    return root / "multilingual"


@pytest.fixture
def imported(source: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    root = tmp_path / "models"
    code = main(
        [
            "import",
            "--model",
            "multilingual",
            "--checkpoint",
            str(source / "checkpoint.ckpt"),
            "--hf",
            str(source / "hf"),
            "--dir",
            str(root),
        ]
    )
    assert code == 0
    assert f"wrote {root / 'multilingual'}" in capsys.readouterr().out
    return root


def test_import_writes_the_layout_with_a_manifest(imported: Path, source: Path) -> None:
    manifest = modeldir.verify(imported, "multilingual")
    assert manifest.base_model == "xlm-roberta-base"
    assert manifest.checkpoint_sha256 == modeldir.sha256_file(source / "checkpoint.ckpt")
    assert (imported / "multilingual" / "hf" / "tokenizer.json").is_file()
    on_disk = json.loads((imported / "multilingual" / "manifest.json").read_text())
    assert on_disk["files"]["checkpoint.ckpt"] == manifest.checkpoint_sha256


def test_check_loads_the_model_and_prints_its_checksum(
    imported: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["check", "--model", "multilingual", "--dir", str(imported)])
    out = capsys.readouterr().out
    assert code == 0
    sha256 = modeldir.sha256_file(imported / "multilingual" / "checkpoint.ckpt")
    assert "model: detoxify/multilingual" in out
    assert f"checkpoint sha256: {sha256}" in out
    scores = dict(line.split() for line in out.split("scores:\n")[1].splitlines())
    assert set(scores) == {
        "toxicity",
        "severe_toxicity",
        "obscene",
        "identity_attack",
        "insult",
        "threat",
        "sexual_explicit",
    }
    assert all(float(value) < 0.05 for value in scores.values())


def test_check_with_the_onnx_runtime_exports_once_and_scores(
    imported: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["check", "--model", "multilingual", "--dir", str(imported), "--runtime", "onnx"]
    assert main(args) == 0
    out = capsys.readouterr().out
    exported = imported / "multilingual" / "onnx" / "model.onnx"
    assert f"onnx export: {exported}" in out
    made = exported.stat().st_mtime_ns
    assert "toxicity" in out.split("scores:\n")[1]
    assert main(args) == 0  # the export is current: reused as it is
    assert exported.stat().st_mtime_ns == made


def test_check_takes_its_defaults_from_the_settings(
    imported: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MODERATOR_MODEL_DIR", str(imported))
    monkeypatch.setenv("MODERATOR_TOXICITY_MODEL", "multilingual")
    assert main(["check"]) == 0
    assert "model: detoxify/multilingual" in capsys.readouterr().out


def test_check_refuses_a_tampered_file_and_names_it(
    imported: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    checkpoint = imported / "multilingual" / "checkpoint.ckpt"
    with checkpoint.open("ab") as f:
        f.write(b"\0")
    code = main(["check", "--model", "multilingual", "--dir", str(imported)])
    captured = capsys.readouterr()
    assert code == 1
    assert f"{checkpoint}: sha256 does not match" in captured.err
    assert "checkpoint sha256" not in captured.out


def test_check_without_a_directory_says_how_to_give_one(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("MODERATOR_MODEL_DIR", raising=False)
    assert main(["check", "--model", "multilingual"]) == 2
    assert "pass --dir or set MODERATOR_MODEL_DIR" in capsys.readouterr().err


def test_check_of_a_missing_model_fails(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", "--model", "original", "--dir", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert f"{tmp_path / 'original'} does not exist" in err
    assert "moderator models import" in err


def test_import_of_a_missing_checkpoint_fails(
    source: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "nowhere.ckpt"
    args = ["import", "--model", "multilingual", "--checkpoint", str(missing)]
    code = main([*args, "--hf", str(source / "hf"), "--dir", str(tmp_path / "models")])
    assert code == 1
    assert f"{missing}: no such file" in capsys.readouterr().err
    assert not (tmp_path / "models" / "multilingual").exists()


def test_the_check_command_runs_as_a_process(imported: Path) -> None:
    command = ["check", "--model", "multilingual", "--dir", str(imported)]
    result = run_module(
        "workers.toxicity.cli", *command, cwd=REPO, env=clean_env(MODERATOR_LOG_FORMAT="json")
    )
    assert result.returncode == 0, result.stderr
    sha256 = modeldir.sha256_file(imported / "multilingual" / "checkpoint.ckpt")
    assert f"checkpoint sha256: {sha256}" in result.stdout
    events = [json.loads(line)["event"] for line in result.stderr.splitlines()]
    assert "toxicity_model_loaded" in events


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> Iterator[socket.socket]:
    """Every https request goes through a proxy that accepts the connection and never
    answers: the download waits on the network until its timeout, wherever it runs."""
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(8)
    proxy = f"http://127.0.0.1:{silent.getsockname()[1]}"
    for name in ("https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"):
        monkeypatch.setenv(name, proxy)
    for name in ("no_proxy", "NO_PROXY"):
        monkeypatch.delenv(name, raising=False)
    try:
        yield silent
    finally:
        silent.close()


def test_download_without_network_fails_within_its_timeout(
    no_network: socket.socket, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    started = time.monotonic()
    code = main(["download", "--model", "multilingual", "--dir", str(tmp_path), "--timeout", "1"])
    elapsed = time.monotonic() - started
    err = capsys.readouterr().err
    assert code == 1
    assert elapsed < 20, elapsed  # importing detoxify takes a few seconds; the wait is 1 s
    assert "could not download https://github.com/unitaryai/detoxify/" in err
    assert "moderator models import" in err
    assert list(tmp_path.iterdir()) == []  # no partial file left behind


def test_download_refuses_a_connection_at_once(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    port = closed.getsockname()[1]
    closed.close()  # nothing listens there: the connection is refused
    monkeypatch.setenv("https_proxy", f"http://127.0.0.1:{port}")
    monkeypatch.delenv("no_proxy", raising=False)
    monkeypatch.delenv("NO_PROXY", raising=False)
    assert main(["download", "--model", "original", "--dir", str(tmp_path)]) == 1
    assert "could not download" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []
