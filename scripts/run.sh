#!/usr/bin/env bash
# Install, migrate the SQLite database, seed the demo brand and serve with the sandbox.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh
exec .venv/bin/punchline demo "$@"
