#!/usr/bin/env bash
# Set up (first time only), then run everything on this machine: a private
# Redis and the HTTP service on 127.0.0.1:8080. Ctrl-C stops it all.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
exec .venv/bin/moderator dev "$@"
