"""The instance `moderator bench load --local` starts: a private Redis, the service
and one worker on this machine, the worker given a random-weights model and the
runtime asked for; what it reports of their memory.

The worker's log lines are kept (`Output.LOG_ALL`, at info level): the peak of the
processes it exports its model in, at its first start, is in them
(`onnx_export_process`), and issue 16 counts that export in the worker's memory.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path
from typing import Any

from moderator.errors import ModeratorError
from moderator.local.instance import HOLD_WITHOUT_MODEL, LocalInstance, Output, ready_with_workers

LOCAL_ENV = {
    "MODERATOR_LOG_LEVEL": "warning",
    "MODERATOR_RATE_LIMIT_EMAIL": "0",
    "MODERATOR_RATE_LIMIT_ARTICLE": "0",
    "MODERATOR_RATE_LIMIT_IP": "0",
}
READY_TIMEOUT_S = 300.0  # a worker exporting its model to ONNX first takes a while


def worker_env(args: argparse.Namespace, scratch: Path) -> dict[str, str]:
    """The local worker's model settings: a random-weights model built in `scratch`
    (by the workers' package, in a process of its own) and the runtime asked for."""
    env = {}
    if args.runtime:
        env["MODERATOR_TOXICITY_RUNTIME"] = args.runtime
    if args.random_weights:
        shape = args.score_shape or "straddle"
        print(f"bench: building a random-weights multilingual model ({shape})", file=sys.stderr)
        built = subprocess.run(  # noqa: S603 - our own interpreter and module
            [
                *(sys.executable, "-m", "workers.bench.random_model", str(scratch)),
                *("--score-shape", shape, "--seed", str(args.seed)),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
            check=False,
        )
        if built.returncode != 0:
            raise ModeratorError(f"the random-weights model was not built: {built.stderr[-2000:]}")
        env |= {"MODERATOR_MODEL_DIR": str(scratch), "MODERATOR_TOXICITY_MODEL": "multilingual"}
    return env


def export_peak(events: list[dict[str, Any]]) -> dict[str, Any]:
    """The largest peak of the processes the worker exported its model in, at its first
    start (`onnx_export_process`), when it did."""
    peaks = [
        float(e["peak_rss_mb"])
        for e in events
        if e.get("event") == "onnx_export_process" and "peak_rss_mb" in e
    ]
    return {"export_peak_rss_mb": max(peaks)} if peaks else {}


def model_size(scratch: Path, report: dict[str, Any]) -> dict[str, Any]:
    """The model's size (its checkpoint's weights) and the worker's peak against it, with
    and without its export processes."""
    checkpoint = scratch / "multilingual" / "checkpoint.ckpt"
    model_mb = round(checkpoint.stat().st_size / 2**20, 1)
    worker = report["peak_rss_mb"].get("worker")
    ratio = round(worker / model_mb, 2) if worker else None
    found = {"model_mb": model_mb, "worker_peak_over_model": ratio}
    if worker and "export_peak_rss_mb" in report:
        highest = max(worker, report["export_peak_rss_mb"])
        found["peak_over_model_export_included"] = round(highest / model_mb, 2)
    return found


def start_local(port: int, worker_env: dict[str, str]) -> LocalInstance:
    """A private Redis, `moderator serve` on `port` and one `moderator worker` (with
    `worker_env` on top), ready (the service answers and sees the worker);
    `ModeratorError` with what a process that exited said, or when they are not ready
    within READY_TIMEOUT_S."""
    local = LocalInstance(
        env={**LOCAL_ENV, "MODERATOR_PORT": str(port)}, defaults=HOLD_WITHOUT_MODEL
    )
    try:
        local.start()
        local.spawn("service", ["-m", "moderator", "serve"])
        # Its log lines kept: the export processes' peaks are in them (`export_peak`).
        local.spawn(
            "worker",
            ["-m", "moderator", "worker"],
            env={**worker_env, "MODERATOR_LOG_LEVEL": "info"},
            output=Output.LOG_ALL,
        )
        local.wait_until(
            lambda: ready_with_workers(f"http://127.0.0.1:{port}"),
            timeout_s=READY_TIMEOUT_S,
            failure="the local instance did not become ready (service and a worker)",
        )
    except BaseException:
        local.stop()
        raise
    return local
