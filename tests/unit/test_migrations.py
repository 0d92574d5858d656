"""The Alembic migrations build exactly the schema the models describe (else `reflex db makemigrations`)."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine
from sqlmodel import SQLModel

import pwa_app.models

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_migrations_match_the_models(tmp_path):
    url = f"sqlite:///{tmp_path / 'migrated.db'}"
    env = {**os.environ, "DATABASE_URL": url, "REFLEX_CHECK_LATEST_VERSION": "0", "REFLEX_TELEMETRY_ENABLED": "false"}
    subprocess.run([sys.executable, "-m", "reflex", "db", "migrate"], cwd=ROOT, env=env, check=True,
                   capture_output=True)
    with create_engine(url).connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), SQLModel.metadata)
    assert diff == [], f"models and migrations differ; run `reflex db makemigrations`: {diff}"
    # Reflex's own check (at start, and what `reflex db makemigrations` writes) sees the same models.
    check = ("import rxconfig; from reflex import model; from sqlalchemy import create_engine; "
             f"print(model.Model.alembic_autogenerate(create_engine({url!r}).connect(), write_migration_scripts=False))")
    found = subprocess.run([sys.executable, "-c", check], cwd=ROOT, env=env, check=True, capture_output=True, text=True)
    assert found.stdout.strip().endswith("False"), found.stdout + found.stderr
