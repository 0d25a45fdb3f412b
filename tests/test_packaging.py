"""Packaging by role: `pip install .` is the HTTP service, without the model stack;
the workers' extra (`pip install '.[worker]'`) adds detoxify, torch and ONNX Runtime.
The commands that load the model say so when the extra is missing."""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from importlib.machinery import ModuleSpec
from pathlib import Path
from typing import Any

import pytest

from moderator import cli, logs

REPO = Path(__file__).resolve().parent.parent

# What the service must never import: the model stack, and the workers package.
HEAVY = ("torch", "detoxify", "onnxruntime", "onnx", "transformers", "workers")

# Imports every module of the moderator package (not __main__, which runs the command),
# then prints how many there were and which of HEAVY came in with them.
IMPORT_EVERY_MODULE = f"""
import importlib, json, pkgutil, sys
import moderator
names = [
    m.name for m in pkgutil.walk_packages(moderator.__path__, "moderator.")
    if not m.name.endswith(".__main__")
]
for name in names:
    importlib.import_module(name)
loaded = {{name.partition(".")[0] for name in sys.modules}}
print(json.dumps({{"modules": len(names), "heavy": sorted(loaded & set({HEAVY!r}))}}))
"""


def clean_env() -> dict[str, str]:
    """This environment without its Python path and settings: a subprocess sees only
    the interpreter it runs, with the default settings."""
    return {
        name: value
        for name, value in os.environ.items()
        if name not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV")
        and not name.startswith("MODERATOR_")
    }


def run(command: list[str], cwd: Path, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        command, cwd=cwd, env=clean_env(), capture_output=True, text=True, timeout=timeout
    )


def imported_by_the_service(python: str, cwd: Path) -> dict[str, Any]:
    result = run([python, "-c", IMPORT_EVERY_MODULE], cwd)
    assert result.returncode == 0, result.stderr
    report: dict[str, Any] = json.loads(result.stdout)
    return report


def test_the_service_package_imports_no_model_and_no_workers() -> None:
    report = imported_by_the_service(sys.executable, REPO)
    assert report["modules"] > 30  # the walk found the package
    assert report["heavy"] == []


class Exec(Exception):
    """os.execv, stopped before it replaces the test process."""


@pytest.fixture(autouse=True)
def uncached_loggers(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """`cli.main` runs in this process here: its logging set-up must not cache the
    module loggers on this test's stderr for every later test (test_privacy reads them)."""
    real = logs.configure
    monkeypatch.setattr(logs, "configure", lambda **kw: real(**{**kw, "cache": False}))
    yield
    real(service="tests", fmt="console", level="info", cache=False)


@pytest.fixture
def execv(monkeypatch: pytest.MonkeyPatch) -> None:
    def execv(path: str, argv: list[str]) -> None:
        raise Exec(argv[1:])

    monkeypatch.setattr(os, "execv", execv)


def without(monkeypatch: pytest.MonkeyPatch, *missing: str) -> None:
    """importlib.util.find_spec, as if `missing` were not installed."""
    real = importlib.util.find_spec

    def find_spec(name: str, package: str | None = None) -> ModuleSpec | None:
        return None if name in missing else real(name, package)

    monkeypatch.setattr(importlib.util, "find_spec", find_spec)


@pytest.mark.parametrize(
    ("argv", "command"),
    [
        (["worker", "--burst"], "worker"),
        (["models", "check"], "models"),
        (["bench", "scoring"], "bench scoring"),
    ],
)
@pytest.mark.usefixtures("execv")
def test_a_model_command_without_the_extra_names_it(
    argv: list[str],
    command: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    without(monkeypatch, "detoxify", "onnx")
    assert cli.main(argv) == 1
    assert capsys.readouterr().err.splitlines()[-1] == (
        f"moderator: `moderator {command}` needs the workers' model stack, not installed "
        "here (missing: detoxify, onnx): pip install 'moderator[worker]'"
    )


@pytest.mark.usefixtures("execv")
def test_commands_are_handed_over_when_the_extra_is_there_or_not_needed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with pytest.raises(Exec) as handed:
        cli.main(["worker", "--burst"])
    assert handed.value.args[0] == ["-m", "workers", "--burst"]
    # The shadow policy replays stored scores: it needs no model.
    without(monkeypatch, "torch", "detoxify", "onnxruntime", "onnx")
    with pytest.raises(Exec) as handed:
        cli.main(["shadow", "--live"])
    assert handed.value.args[0] == ["-m", "workers.shadow.cli", "--live"]


@pytest.mark.e2e
@pytest.mark.timeout(600)
def test_a_fresh_install_without_extras_has_no_model_stack(tmp_path: Path) -> None:
    """`pip install .` into a new virtual environment (from PyPI; pip's cache makes the
    next run faster): every service module imports, nothing of the model stack is
    installed, and `moderator worker` names the extra instead of a traceback."""
    source = tmp_path / "source"  # a copy: pip builds in it, the working tree stays as is
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(REPO / name, source / name)
    for name in ("moderator", "workers"):
        shutil.copytree(
            REPO / name, source / name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc")
        )
    venv = tmp_path / "venv"
    # No pip of its own (ensurepip is slow): this one installs into it with --python.
    created = run([sys.executable, "-m", "venv", "--without-pip", str(venv)], tmp_path)
    assert created.returncode == 0, created.stderr
    python = str(venv / "bin" / "python")
    pip = [sys.executable, "-m", "pip", "--python", python, "--disable-pip-version-check"]
    installed = run([*pip, "install", "-q", str(source)], tmp_path, timeout=540)
    assert installed.returncode == 0, installed.stdout + installed.stderr

    # Run from tmp_path: the installed package is imported, not the working tree.
    report = imported_by_the_service(python, tmp_path)
    assert report["modules"] > 30
    assert report["heavy"] == []
    shown = run([*pip, "show", "moderator", "torch", "detoxify", "onnxruntime", "onnx"], tmp_path)
    names = [line for line in shown.stdout.splitlines() if line.startswith("Name:")]
    assert names == ["Name: moderator"], shown.stdout
    assert "not found: detoxify, onnx, onnxruntime, torch" in shown.stderr

    worker = run([str(venv / "bin" / "moderator"), "worker"], tmp_path)
    assert worker.returncode == 1
    assert "pip install 'moderator[worker]'" in worker.stderr
    assert "Traceback" not in worker.stderr
