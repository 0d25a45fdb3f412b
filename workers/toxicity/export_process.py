"""The first ONNX export, in a process of its own.

A worker on `MODERATOR_TOXICITY_RUNTIME=onnx` or `cascade` whose model directory has
no current export runs `python -m workers.toxicity.export_process` and waits for it
(`workers.toxicity.export_runner.export_apart`): that process exports the checkpoint
(`workers.toxicity.exporting`, a weight at a time) and opens the export; for the
cascade, a second one makes the int8 copy and measures its margins. Then each
exits. The export imports torch to trace the graph (0.3 GB) and the int8 copy's
measure opens both sessions: in processes of their own, neither holds the other's
memory, and the worker, which then starts from the export like any later start,
never imports torch. Measured on the full-size `multilingual` model (1.06 GB): 0.79
and 0.85 GB at their peaks (the export of the whole loaded model, for a checkpoint
that cannot be read a weight at a time, took 4.7 GB). The processes' peak is logged
(`onnx_export_process`), so it is not hidden from whoever sizes the machine.

Its log lines (`onnx_exported`, `cascade_made`; service `moderator-export`) go where
the caller's go: stdout, or stderr for a command that logs there. Its exit
code says what happened: 0 exported, UNAVAILABLE with `ModelUnavailable`'s message
on stderr, anything else a failure whose end of stderr the worker reports.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Final

from moderator import entry
from workers.errors import ModelUnavailable
from workers.toxicity.export_runner import UNAVAILABLE
from workers.toxicity.loading import load_scorer

PROG: Final = "python -m workers.toxicity.export_process"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog=PROG, description=__doc__)
    parser.add_argument("model_type")
    parser.add_argument("model_dir", type=Path)
    parser.add_argument("--runtime", choices=("onnx", "cascade"), default="onnx")
    parser.add_argument("--threads", type=int, default=None)
    args = parser.parse_args(argv)
    settings = entry.start(PROG, service="moderator-export")
    if settings is None:
        return entry.CONFIG_ERROR
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
