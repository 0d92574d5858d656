"""The database engine from DATABASE_URL (SQLite file by default), shared by the API, staff state and scripts."""

import asyncio
import hashlib
import os
import re
import sqlite3
import weakref
from functools import cache

from sqlalchemy import event
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlmodel import SQLModel, Session, create_engine

from pwa_app.settings import get_settings


def database_url() -> str:
    return get_settings().database_url


def is_sqlite(url: str) -> bool:
    return url.startswith("sqlite")


def busy_timeout() -> float:
    """Seconds a write waits for SQLite's write lock before it gives up with a 503 and Retry-After: a stuck
    writer must not hold every request thread for long."""
    return get_settings().db_busy_timeout


# Statements that write: on SQLite they start the write transaction (see make_engine). A SAVEPOINT opens a unit
# that writes too; taking the lock before it keeps the savepoint from becoming a read that cannot upgrade.
_WRITES = re.compile(r"\s*(INSERT|UPDATE|DELETE|REPLACE|CREATE|DROP|ALTER|SAVEPOINT)\b", re.IGNORECASE)


def make_engine(url: str):
    engine = _make_engine(url)
    # Granian forks its workers from a process that has already used the database (the build reads the
    # catalogue): a pooled connection inherited by every child would carry their statements on one socket, each
    # reading another's results. A child starts with an empty pool (the parent's connections are left to it).
    made = weakref.ref(engine)  # tests make many engines: the hook must not keep them alive
    os.register_at_fork(after_in_child=lambda: (e := made()) is not None and e.dispose(close=False))
    return engine


def _make_engine(url: str):
    if not is_sqlite(url):
        # Per process: with N backend workers the app holds up to N x (size + overflow) connections, which must
        # stay under PostgreSQL's max_connections (100 by default). 10 + 20 per worker ran out at 4 workers
        # ("too many clients already" as 500s under bench/load.py). A request waits for a free connection.
        # Reads take no row locks there and never wait for a writer; writes queue for their slot's lock.
        return create_engine(url, pool_pre_ping=True, pool_size=get_settings().db_pool_size,
                             max_overflow=get_settings().db_max_overflow, pool_timeout=30)
    # Connections enough for every request thread (AnyIO's 40, the staff events' and workers' threads): waiting
    # for a pooled connection behind writers that wait for the lock would stall reads. Never longer than a write.
    engine = create_engine(url, connect_args={"timeout": busy_timeout(), "check_same_thread": False},
                           pool_size=10, max_overflow=50, pool_timeout=busy_timeout())

    # Reads run outside any transaction (WAL: each sees the last commit, never waits for a writer). The write
    # lock is taken at a unit's first write (BEGIN IMMEDIATE, waiting up to the busy timeout) and held until its
    # commit; a unit whose reads must not change before its write (a capacity check, then the insert) takes it
    # first with write_lock().
    @event.listens_for(engine, "connect")
    def _connect(dbapi_conn, _record):
        dbapi_conn.isolation_level = None
        dbapi_conn.execute("PRAGMA journal_mode=WAL")
        dbapi_conn.execute("PRAGMA foreign_keys=ON")

    @event.listens_for(engine, "before_cursor_execute")
    def _before(_conn, cursor, statement, _params, _context, _many):
        if not cursor.connection.in_transaction and _WRITES.match(statement):
            cursor.connection.execute("BEGIN IMMEDIATE")

    return engine


def write_lock(session: Session) -> None:
    """Take SQLite's write lock now (waiting up to the busy timeout), so that what this unit reads next cannot
    change before it commits. PostgreSQL units lock what they need themselves (advisory or row locks)."""
    if session.get_bind().dialect.name != "sqlite":
        return
    conn = session.connection()
    if not conn.connection.dbapi_connection.in_transaction:
        conn.exec_driver_sql("BEGIN IMMEDIATE")


def is_busy(exc: BaseException) -> bool:
    """True for a wait for SQLite's write lock (or for a pooled connection) that ran out: the request may simply
    be sent again."""
    if isinstance(exc, PoolTimeout):
        return True
    orig = getattr(exc, "orig", exc)
    return isinstance(orig, sqlite3.OperationalError) and "locked" in str(orig)


@cache
def engine():
    return make_engine(database_url())


def database_key(engine_=None) -> str:
    """A short name of the database, for Redis keys: several databases share one Redis (and tests use many)."""
    return _url_key((engine_ or engine()).url.render_as_string(hide_password=True))


@cache
def _url_key(url: str) -> str:
    return hashlib.sha256(url.encode()).hexdigest()[:12]


def redis():
    """The Redis client when REDIS_URL is set (several workers share state through it), else None."""
    url = get_settings().redis_url
    return _redis_client(url) if url else None


def async_redis():
    """The asyncio Redis client of the running event loop when REDIS_URL is set (for async endpoints), else None."""
    url = get_settings().redis_url
    if not url:
        return None
    clients = _async_clients.setdefault(asyncio.get_running_loop(), {})
    if url not in clients:
        import redis.asyncio as redis_lib  # loaded only when REDIS_URL is set: one process runs without it

        # A few connections that requests wait for (Redis answers in microseconds): under 2,000 phones at once a
        # connection per waiting request meant hundreds of connects at once, which timed out.
        pool = redis_lib.BlockingConnectionPool.from_url(url, max_connections=ASYNC_REDIS_CONNECTIONS, timeout=0.5,
                                                         socket_timeout=0.5, socket_connect_timeout=0.5)
        clients[url] = redis_lib.Redis(connection_pool=pool)
    return clients[url]


ASYNC_REDIS_CONNECTIONS = 16  # per worker


_async_clients: "weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict]" = weakref.WeakKeyDictionary()


@cache
def _redis_client(url: str):
    import redis as redis_lib  # loaded only when REDIS_URL is set: one process runs without it

    return redis_lib.Redis.from_url(url, socket_timeout=0.5, socket_connect_timeout=0.5)


def session() -> Session:
    return Session(engine(), expire_on_commit=False)


def create_tables(bind=None) -> None:
    from pwa_app import models  # noqa: F401  (registers the tables)

    SQLModel.metadata.create_all(bind or engine())
