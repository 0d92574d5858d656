#!/usr/bin/env bash
# Installs everything the tests need (Debian chromium for Playwright, the venv, bun) and runs every test:
# unit tests, then the browser tests on SQLite, then the browser tests on PostgreSQL + Redis (several workers).
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -x /usr/bin/chromium ]; then
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO=sudo
  $SUDO apt-get install -y -q chromium || { $SUDO apt-get update -q && $SUDO apt-get install -y -q chromium; }
fi
bash scripts/setup.sh
export REFLEX_CHECK_LATEST_VERSION=0 REFLEX_USE_SYSTEM_BUN=1 REFLEX_TELEMETRY_ENABLED=false
.venv/bin/python -m pytest tests/unit "$@"
.venv/bin/python -m pytest tests/e2e "$@"
CITA_E2E_DB=postgres .venv/bin/python -m pytest tests/e2e "$@"
