#!/usr/bin/env bash
# Installs everything the app needs, idempotently: a venv with the hashed lock requirements/<what>.lock (`app` by
# default, `test` for scripts/test.sh, `bench` for bench/), bun from the npm registry (Reflex's own bun download
# needs the open internet), and compiled translations. Fast when already done.
set -euo pipefail
cd "$(dirname "$0")/.."
what=${1:-app}
lock=requirements/$what.lock
[ -f "$lock" ] || { echo "usage: bash scripts/setup.sh [app|test|bench]" >&2; exit 2; }
VENV=${VENV:-.venv}
if [ ! -x "$VENV/bin/python" ]; then python3 -m venv "$VENV"; fi
stamp="$VENV/.$what.lock.sha"
sum=$(sha256sum "$lock" | cut -d' ' -f1)
if [ "$(cat "$stamp" 2>/dev/null)" != "$sum" ]; then
  "$VENV/bin/pip" install -q --disable-pip-version-check --require-hashes -r "$lock"
  echo "$sum" > "$stamp"
fi
if ! command -v bun >/dev/null 2>&1 || ! bun --version | grep -qE '^1\.([4-9]|[1-9][0-9])\.'; then
  npm install -g --silent bun@1
fi
"$VENV/bin/pybabel" compile -d locales -D messages >/dev/null 2>&1 || "$VENV/bin/pybabel" compile -d locales -D messages
