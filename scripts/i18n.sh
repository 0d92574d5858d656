#!/usr/bin/env bash
# Re-extracts the UI strings and merges them into every catalogue (new strings arrive empty: translate them,
# then `bash scripts/setup.sh` compiles). tests/unit/test_translations.py fails until every one is translated.
set -euo pipefail
cd "$(dirname "$0")/.."
.venv/bin/pybabel extract -F locales/babel.cfg -k N_ --no-location --sort-output --project Cita -o locales/messages.pot .
.venv/bin/pybabel update -i locales/messages.pot -d locales -D messages --no-fuzzy-matching
