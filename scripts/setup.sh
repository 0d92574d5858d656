#!/usr/bin/env bash
# Installs everything the app needs, idempotently: a venv with requirements.txt, bun from the npm registry
# (Reflex's own bun download needs the open internet), and compiled translations. Fast when already done.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${VENV:-.venv}
if [ ! -x "$VENV/bin/python" ]; then python3 -m venv "$VENV"; fi
stamp="$VENV/.requirements.sha"
sum=$(sha256sum requirements.txt | cut -d' ' -f1)
if [ "$(cat "$stamp" 2>/dev/null)" != "$sum" ]; then
  "$VENV/bin/pip" install -q --disable-pip-version-check -r requirements.txt
  echo "$sum" > "$stamp"
fi
if ! command -v bun >/dev/null 2>&1 || ! bun --version | grep -qE '^1\.([4-9]|[1-9][0-9])\.'; then
  npm install -g --silent bun@1
fi
"$VENV/bin/pybabel" compile -d locales -D messages >/dev/null 2>&1 || "$VENV/bin/pybabel" compile -d locales -D messages
