#!/usr/bin/env bash
# Writes the hashed locks in requirements/ from pyproject.toml: app.lock (what the app runs with, scripts/run.sh),
# test.lock (app + test tools, scripts/test.sh), bench.lock (app + test + bench tools, bench/). Versions already in
# a lock are kept (uv prefers them); `bash scripts/lock.sh --upgrade` moves every package to its newest release.
set -euo pipefail
cd "$(dirname "$0")/.."
UV_VENV=${UV_VENV:-${TMPDIR:-/tmp}/cita-uv}
if [ ! -x "$UV_VENV/bin/uv" ]; then
  python3 -m venv "$UV_VENV"
  "$UV_VENV/bin/pip" install -q --disable-pip-version-check uv==0.13.9
fi
for lock in app test bench; do
  extra=(); [ "$lock" = app ] || extra=(--extra "$lock")
  # Python 3.11.0 as the floor: markers for early 3.11 releases (Debian 12 ships 3.11.2) are kept.
  "$UV_VENV/bin/uv" pip compile pyproject.toml "${extra[@]}" --generate-hashes --python-version 3.11 -q \
    --custom-compile-command "bash scripts/lock.sh" -o "requirements/$lock.lock" "$@"
done
