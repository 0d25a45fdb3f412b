#!/usr/bin/env bash
# The whole check, as CI runs it: set up, then lint, types and the test suite.
# Tests start their own private redis-server; nothing else needs to be running.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh --tests
.venv/bin/ruff check moderator workers tests
.venv/bin/ruff format --check moderator workers tests
.venv/bin/mypy
.venv/bin/pytest "$@"
# The browser tests' screenshots of the moderators' page (every step of the workflow at
# desktop and phone width): CI keeps this directory as its artifacts.
if [ -d tests/artifacts ]; then
    echo "screenshots: $(ls tests/artifacts | wc -l) in tests/artifacts/"
fi
# What the workers decide on the held-out comments, fresh and after replaying the
# train split as moderators' decisions. Printed, not gated: see README, "Measuring decisions".
if [ "$#" -eq 0 ]; then
    .venv/bin/moderator eval --set tests/data/comments/heldout.jsonl
    .venv/bin/moderator eval --set tests/data/comments/heldout.jsonl \
        --replay tests/data/comments/train.jsonl
fi
