#!/usr/bin/env bash
# Sets everything up, loads the demo municipality into the database (SQLite by default) and serves the app,
# production build, on one port: http://localhost:${PORT:-3000}/
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export REFLEX_CHECK_LATEST_VERSION=0 REFLEX_USE_SYSTEM_BUN=1 REFLEX_TELEMETRY_ENABLED=false
PORT=${PORT:-3000}
export REFLEX_API_URL=${REFLEX_API_URL:-http://localhost:$PORT}
.venv/bin/reflex db migrate
.venv/bin/python -m pwa_app.seed
exec .venv/bin/reflex run --env prod --single-port --frontend-port "$PORT" --backend-port "$PORT" "$@"
