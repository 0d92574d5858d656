"""The database engine from DATABASE_URL (SQLite file by default), shared by the API, staff state and scripts."""

import os
from functools import cache

from sqlalchemy import event
from sqlmodel import Session, SQLModel, create_engine

DEFAULT_URL = "sqlite:///cita.db"


def database_url() -> str:
    return os.environ.get("DATABASE_URL") or DEFAULT_URL


def is_sqlite(url: str) -> bool:
    return url.startswith("sqlite")


def make_engine(url: str):
    if not is_sqlite(url):
        # Per process: with N backend workers the app holds up to N x (size + overflow) connections, which must
        # stay under PostgreSQL's max_connections (100 by default). 10 + 20 per worker ran out at 4 workers
        # ("too many clients already" as 500s under bench/load.py). A request waits for a free connection.
        return create_engine(url, pool_pre_ping=True, pool_size=int(os.environ.get("CITA_DB_POOL_SIZE", "5")),
                             max_overflow=int(os.environ.get("CITA_DB_MAX_OVERFLOW", "10")), pool_timeout=30)
    engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False})

    # Every SQLite transaction takes the write lock up front (BEGIN IMMEDIATE): a capacity check and the
    # insert that follows can then never interleave with another process's booking.
    @event.listens_for(engine, "connect")
    def _connect(dbapi_conn, _record):
        dbapi_conn.isolation_level = None
        dbapi_conn.execute("PRAGMA journal_mode=WAL")
        dbapi_conn.execute("PRAGMA foreign_keys=ON")

    @event.listens_for(engine, "begin")
    def _begin(conn):
        conn.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


@cache
def engine():
    return make_engine(database_url())


def redis():
    """The Redis client when REDIS_URL is set (several workers share state through it), else None."""
    url = os.environ.get("REDIS_URL")
    return _redis_client(url) if url else None


@cache
def _redis_client(url: str):
    import redis as redis_lib

    return redis_lib.Redis.from_url(url, socket_timeout=0.5, socket_connect_timeout=0.5)


def session() -> Session:
    return Session(engine(), expire_on_commit=False)


def create_tables(bind=None) -> None:
    from pwa_app import models  # noqa: F401  (registers the tables)

    SQLModel.metadata.create_all(bind or engine())
