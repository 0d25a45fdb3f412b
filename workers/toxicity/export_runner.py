"""Running the first export in processes of their own, and waiting for them.

`export_apart` is what a worker (or `moderator models check`) calls when the model
directory holds no current export or int8 copy: `python -m
workers.toxicity.export_process` makes them and exits, and its peak memory is logged
(`onnx_export_process`). The process's exit code UNAVAILABLE carries
`ModelUnavailable`'s message on its stderr.
"""

from __future__ import annotations

import logging
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Final, TextIO

import structlog

from workers.errors import ModelUnavailable
from workers.toxicity import modeldir

log = structlog.get_logger()

UNAVAILABLE: Final = 3  # the export process's exit code that carries ModelUnavailable's message
STDERR_TAIL: Final = 2000  # characters of a failed export process's stderr, quoted


def export_apart(model_type: str, model_dir: Path, *, runtime: str, threads: int) -> None:
    """Export `model_type` of `model_dir` for `runtime` in a process of its own, and
    wait for it. The cascade's int8 copy is made in a second process when the fp32
    export is made too: the first imports torch to trace the graph (0.3 GB), the second
    opens both sessions to measure the margins, and together they would hold more than
    the model. Raises ModelUnavailable when it could not (with its message)."""
    stages = [runtime]
    if runtime == "cascade" and not _exported(model_type, model_dir):
        stages = ["onnx", "cascade"]
    for stage in stages:
        _export_process(model_type, model_dir, runtime=stage, threads=threads)


def _exported(model_type: str, model_dir: Path) -> bool:
    """Whether the model directory holds a current fp32 export of its checkpoint."""
    from workers.toxicity.onnx_runtime import is_current, onnx_file

    manifest = modeldir.verify(model_dir, model_type, checkpoint=False)
    return is_current(onnx_file(manifest.directory), manifest.checkpoint_sha256)


def _export_process(model_type: str, model_dir: Path, *, runtime: str, threads: int) -> None:
    started = time.perf_counter()
    command = [sys.executable, "-m", "workers.toxicity.export_process"]
    command += [model_type, str(model_dir), "--runtime", runtime, "--threads", str(threads)]
    done = subprocess.run(  # noqa: S603 - our own interpreter and module
        command, stdout=_log_stream(), stderr=subprocess.PIPE, text=True, check=False
    )
    # The largest of the children waited for: a worker has no other.
    peak_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss  # KB on Linux
    if done.returncode == UNAVAILABLE:
        said = done.stderr.strip().splitlines() or ["the export process gave no reason"]
        raise ModelUnavailable(said[-1])
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


def _log_stream() -> TextIO | None:
    """Where the export process writes its log lines (its stdout): this process's log
    stream when that is stderr (`moderator models check`, whose stdout is its report),
    else inherited."""
    handlers = logging.getLogger().handlers
    stream = getattr(handlers[0], "stream", None) if handlers else None
    if stream is None or stream is not sys.stderr:
        return None
    try:
        stream.fileno()
    except (AttributeError, OSError, ValueError):  # replaced by an object without one
        return None
    return stream
