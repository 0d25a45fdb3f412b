"""The first ONNX export, in a process of its own.

A worker on `MODERATOR_TOXICITY_RUNTIME=onnx` or `cascade` whose model directory has
no current export runs `python -m workers.toxicity.export_process` and waits for it:
that process reads the torch checkpoint, exports it (`onnx_runtime.ensure_exported`)
and, for the cascade, makes the int8 copy and measures its margins; then it exits.
Measured on the full-size `multilingual` model (1.06 GB), the export holds the
checkpoint, the traced graph and the weights being written all at once, about 3.4 GB;
in a process of its own, that memory goes back to the system when it ends, and the
worker, which then starts from the export like any later start, never reads the
checkpoint nor builds the torch model (0.9 GB). The export process's peak is logged
(`onnx_export_process`), so it is not hidden from whoever sizes the machine.

Its log lines (`onnx_exported`, `cascade_made`) go where the worker's go. Its exit
code says what happened: 0 exported, UNAVAILABLE with `ModelUnavailable`'s message
on stderr, anything else a failure whose end of stderr the worker reports.
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Final

import structlog

from moderator import entry
from workers.errors import ModelUnavailable

log = structlog.get_logger()

PROG: Final = "python -m workers.toxicity.export_process"
UNAVAILABLE: Final = 3  # the exit code that carries ModelUnavailable's message
STDERR_TAIL: Final = 2000  # characters of a failed export's stderr, quoted


def export_apart(model_type: str, model_dir: Path, *, runtime: str, threads: int) -> None:
    """Export `model_type` of `model_dir` for `runtime` in a process of its own, and
    wait for it. Raises ModelUnavailable when it could not (with its message)."""
    started = time.perf_counter()
    command = [sys.executable, "-m", "workers.toxicity.export_process"]
    command += [model_type, str(model_dir), "--runtime", runtime, "--threads", str(threads)]
    done = subprocess.run(  # noqa: S603 - our own interpreter and module
        command, stdout=None, stderr=subprocess.PIPE, text=True, check=False
    )
    peak_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss  # KB on Linux
    if done.returncode == UNAVAILABLE:
        raise ModelUnavailable(done.stderr.strip().splitlines()[-1])
    if done.returncode != 0:
        raise ModelUnavailable(
            f"the ONNX export of {model_type} failed in its own process (exit "
            f"{done.returncode}): {done.stderr[-STDERR_TAIL:].strip()}; set "
            f"MODERATOR_TOXICITY_RUNTIME=torch to score without it"
        )
    log.info(
        "onnx_export_process",
        model=f"detoxify/{model_type}",
        runtime=runtime,
        peak_rss_mb=round(peak_kb / 1024, 1),
        duration_ms=round((time.perf_counter() - started) * 1000),
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog=PROG, description=__doc__)
    parser.add_argument("model_type")
    parser.add_argument("model_dir", type=Path)
    parser.add_argument("--runtime", choices=("onnx", "cascade"), default="onnx")
    parser.add_argument("--threads", type=int, default=None)
    args = parser.parse_args(argv)
    settings = entry.start(PROG, service="moderator-worker")
    if settings is None:
        return entry.CONFIG_ERROR
    from workers.toxicity.loading import load_scorer

    try:
        load_scorer(
            args.model_type,
            str(args.model_dir),
            threads=args.threads,
            runtime=args.runtime,
            thresholds=settings.thresholds,
            apart=False,
        )
    except ModelUnavailable as exc:
        print(exc, file=sys.stderr)
        return UNAVAILABLE
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
