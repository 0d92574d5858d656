"""Granian forks its workers from a process that has already used the database: each child must open its own
connections, never use one inherited from the parent (two processes on one socket read each other's results)."""

import os

import pytest
from sqlalchemy import text

from pwa_app.db import make_engine
from tests.unit.conftest import PG_URL


def _in_child(engine) -> str:
    """What a forked child reads through the engine: its pool's inherited connections, and its server's pid."""
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: answer through the pipe, whatever happens
        try:
            inherited = engine.pool.checkedin()
            with engine.connect() as conn:
                backend = conn.execute(text("SELECT pg_backend_pid()")).scalar()
            os.write(write, f"{inherited} {backend}".encode())
        finally:
            os._exit(0)
    os.close(write)
    os.waitpid(pid, 0)
    with os.fdopen(read) as answer:
        return answer.read()


def test_a_forked_worker_opens_its_own_connections():
    try:
        engine = make_engine(PG_URL)
        with engine.connect() as conn:  # the parent uses the database, as the build does
            parent = conn.execute(text("SELECT pg_backend_pid()")).scalar()
    except Exception as exc:  # noqa: BLE001
        pytest.skip(f"PostgreSQL not reachable: {exc}")
    assert engine.pool.checkedin() == 1
    inherited, child = _in_child(engine).split()
    assert inherited == "0"
    assert int(child) != parent
    with engine.connect() as conn:  # the parent's own connection still works
        assert conn.execute(text("SELECT pg_backend_pid()")).scalar() == parent
    engine.dispose()
