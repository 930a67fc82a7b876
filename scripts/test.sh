#!/usr/bin/env bash
# Install everything the tests need and run the whole suite: lint, layers, types, pytest on
# SQLite and (when a server is reachable) PostgreSQL. Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh test
if [ ! -x /usr/bin/chromium ] || ! fc-list 2>/dev/null | grep -qi "noto sans cjk"; then
  # Debian's Chromium drives the browser tests; the CJK font draws zh-TW on card images.
  apt-get update -qq && apt-get install -y -qq chromium fonts-noto-cjk >/dev/null
fi
.venv/bin/ruff check .
.venv/bin/lint-imports
.venv/bin/mypy
exec .venv/bin/pytest "$@"
