#!/usr/bin/env bash
# Prepare a machine to run or test Moderator: redis-server, a virtual
# environment in .venv, torch (CPU) before anything that depends on it, then
# the project with the workers' model stack and the test tools (`.[dev,worker]`;
# a service-only host needs just `pip install .`); with --tests also Debian's
# chromium, which the browser tests of the moderators' page drive. Safe to run
# again: each step is skipped when done.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python3}
TORCH_VERSION=2.13.0

if ! command -v redis-server >/dev/null 2>&1; then
    echo "setup: installing redis-server" >&2
    if [ "$(id -u)" -eq 0 ]; then SUDO=""; else SUDO="sudo"; fi
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq redis-server >/dev/null
fi

# Debian's chromium: the browser tests of the moderators' page drive it (no `playwright install`).
if [ "${1:-}" = "--tests" ] && [ ! -x /usr/bin/chromium ]; then
    echo "setup: installing chromium" >&2
    if [ "$(id -u)" -eq 0 ]; then SUDO=""; else SUDO="sudo"; fi
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium >/dev/null
fi

if [ ! -x .venv/bin/python ]; then
    echo "setup: creating .venv" >&2
    "$PYTHON" -m venv .venv
fi

stamp=.venv/.moderator-installed
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
    .venv/bin/python -m pip install -q --upgrade pip 2>&1 | grep -v "^WARNING: Location" || true
    # torch first, pinned: otherwise detoxify pulls a multi-GB CUDA build.
    .venv/bin/python -m pip install -q "torch==${TORCH_VERSION}"
    .venv/bin/python -m pip install -q -e ".[dev,worker]" "torch==${TORCH_VERSION}"
    touch "$stamp"
fi
