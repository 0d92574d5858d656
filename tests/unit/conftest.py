"""Shared fixtures for the unit tests: a seeded SQLite file per test (a copy of one seeded once per run), a seeded
PostgreSQL schema per test run, the API behind a TestClient, settings changed in one place (`override_settings`),
and a fixed clock.

Dates: the seed only has holidays for 2026 and 2027 and citizens may book 60 days ahead, so tests pass a fixed
`now=` to the services (see `Clock`) instead of depending on today's date. The API uses the real clock: API
tests pick their times from the availability answer.
"""

import os
import secrets
import shutil

# Cheap proofs of work in tests (the real cost is set for phones); fixed before the app is imported.
os.environ.setdefault("CITA_ALTCHA_MAX_NUMBER", "500")
# Tests book many times from one address; the rate-limit tests set their own limits.
for scope in ("BOOKING", "BOOKING_PERSON", "BOOKING_BURST", "HOLD"):
    os.environ.setdefault(f"CITA_RATE_{scope}", "100000/1")
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy
from argon2 import PasswordHasher
from sqlalchemy.engine import make_url
from sqlmodel import Session, delete

from pwa_app import db, settings
from pwa_app.db import create_tables, make_engine
from pwa_app.models import Appointment, IdempotencyRecord
from pwa_app.seed import seed_demo

MADRID = ZoneInfo("Europe/Madrid")
UTC = timezone.utc
PG_URL = os.environ.get("CITA_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


@dataclass(frozen=True)
class Clock:
    """A fixed "now" and Madrid wall-time helpers. The default now is Tuesday 1 December 2026, 08:00 in Madrid:
    its 60-day horizon (30 January 2027) covers the Constitution/Immaculate holidays (7 and 8 December), the
    North district board's closure (14 December), Christmas and New Year."""

    now: datetime = datetime(2026, 12, 1, 8, 0, tzinfo=MADRID).astimezone(UTC)

    @staticmethod
    def at(y: int, m: int, d: int, hh: int = 0, mm: int = 0, fold: int = 0) -> datetime:
        """Madrid wall time -> aware UTC (as the services store it)."""
        return datetime(y, m, d, hh, mm, fold=fold, tzinfo=MADRID).astimezone(UTC)

    @staticmethod
    def local(moment: datetime) -> datetime:
        return moment.astimezone(MADRID)

    @staticmethod
    def wall(moment: datetime) -> time:
        return moment.astimezone(MADRID).time()

    def today(self) -> date:
        return self.now.astimezone(MADRID).date()

    def horizon(self, days: int = 60) -> date:
        return self.today() + timedelta(days=days)

    def moved(self, *, days: int = 0, hours: int = 0, minutes: int = 0) -> "Clock":
        return Clock(self.now + timedelta(days=days, hours=hours, minutes=minutes))

    @classmethod
    def on(cls, y: int, m: int, d: int, hh: int = 8, mm: int = 0) -> "Clock":
        return cls(cls.at(y, m, d, hh, mm))


def override_settings(monkeypatch, **env) -> settings.Settings:
    """The one way tests change settings: sets these variables (None: removes them) for the test, so processes it
    starts see them too, and reads the settings again from them; `monkeypatch` puts both back at the test's end.
    Names are the variables' (`REDIS_URL`, `CITA_RATE_LOOKUP`...), as in the README's Configuration table."""
    for name, value in env.items():
        if value is None:
            monkeypatch.delenv(name, raising=False)
        else:
            monkeypatch.setenv(name, str(value))
    monkeypatch.setattr(settings, "_current", settings.Settings())
    return settings.get_settings()


CHEAP_ARGON2 = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)


@pytest.fixture(autouse=True)
def cheap_passwords(request, monkeypatch):
    """Staff passwords hashed with argon2id at its lowest cost: the fixtures sign in four people per test, and
    argon2's real cost (64 MiB, 3 passes) made that most of the suite's time. Still argon2id, still checked; a
    test marked `real_argon2` keeps the app's own parameters."""
    if "real_argon2" not in request.keywords:
        from pwa_app.staff import auth

        monkeypatch.setattr(auth, "_hasher", CHEAP_ARGON2)


@pytest.fixture(autouse=True)
def fresh_limits(monkeypatch):
    """Rate-limit counts start at zero in every test (TestClient calls all come from one address), with Redis
    believed reachable."""
    from pwa_app.common import ratelimit

    monkeypatch.setattr(ratelimit, "_redis_down_until", 0.0)
    for cached in (ratelimit.limiter, ratelimit.fallback):
        cached.cache_clear()
    yield
    for cached in (ratelimit.limiter, ratelimit.fallback):
        cached.cache_clear()


@pytest.fixture
def clock() -> Clock:
    return Clock()


# --- The wall-clock guard -------------------------------------------------------------------------------------
# CITA_TEST_WALL_CLOCK=<ISO datetime> moves the process's wall clock there (time-machine, ticking) for the whole
# run. Tests pass their own `now`, so they must pass whatever the real date is; a hidden wall-clock read behind a
# fixed test clock then fails at once instead of on some future morning. scripts/test.sh runs the unit suite a
# second time this way. A test that genuinely needs the real time is marked `real_clock` (the API, which stands at
# the edge and reads the clock, and protocols whose peers check real timestamps): it runs with the clock put back.

WALL_CLOCK = os.environ.get("CITA_TEST_WALL_CLOCK")
_traveller = None


def pytest_configure(config):
    global _traveller
    config.addinivalue_line("markers", "real_argon2: hashes staff passwords with the app's argon2 parameters")
    config.addinivalue_line("markers", "real_clock: reads the real wall clock on purpose (kept under the guard)")
    if WALL_CLOCK:
        import time_machine

        _traveller = time_machine.travel(datetime.fromisoformat(WALL_CLOCK), tick=True)
        _traveller.start()


def pytest_unconfigure(config):
    if _traveller is not None:
        _traveller.stop()


@pytest.fixture(autouse=True)
def _real_clock_when_marked(request):
    if _traveller is None or request.node.get_closest_marker("real_clock") is None:
        yield
        return
    _traveller.stop()
    yield
    _traveller.start()


# --- SQLite ---------------------------------------------------------------------------------------------------


def lift_person_limits(session) -> None:
    """Most tests book for the same person again and again; tests/unit/test_fairness.py sets real limits."""
    from sqlmodel import update

    from pwa_app.models import Municipality, Procedure

    session.exec(update(Procedure).values(max_active_per_person=1000))
    session.exec(update(Municipality).values(max_active_per_person=1000))
    session.commit()


@pytest.fixture(scope="session")
def seeded_template(tmp_path_factory) -> Path:
    """The demo town seeded once per run into a SQLite file that each test gets a copy of (seeding took ~1 s a
    test). Closed before copying: its last connection checkpoints the WAL into the file."""
    path = tmp_path_factory.mktemp("template") / "cita.db"
    eng = make_engine(f"sqlite:///{path}")
    create_tables(eng)
    with Session(eng) as s:
        assert seed_demo(s) is True
        lift_person_limits(s)
    eng.dispose()
    assert not path.with_name("cita.db-wal").exists()
    return path


@pytest.fixture
def engine(tmp_path, seeded_template):
    """A fresh, seeded SQLite file (WAL, BEGIN IMMEDIATE: the production engine settings)."""
    shutil.copyfile(seeded_template, tmp_path / "cita.db")
    eng = make_engine(f"sqlite:///{tmp_path / 'cita.db'}")
    yield eng
    eng.dispose()


@pytest.fixture
def session(engine):
    with Session(engine, expire_on_commit=False) as s:
        yield s


# --- PostgreSQL -----------------------------------------------------------------------------------------------


def _unreachable(reason: str):
    if os.environ.get("CI") == "true":
        pytest.fail(f"PostgreSQL is required in CI but unreachable at {PG_URL}: {reason}")
    pytest.skip(f"PostgreSQL unreachable at {PG_URL} (set CI=true to make this an error): {reason}")


@pytest.fixture(scope="session")
def pg_url():
    """URL of a fresh, seeded schema `cita_test_<random>` for this test run (dropped at the end). The schema is
    selected with the libpq option `-csearch_path=...` in the URL, so worker processes can rebuild the engine."""
    schema = f"cita_test_{secrets.token_hex(4)}"
    admin = sqlalchemy.create_engine(PG_URL, connect_args={"connect_timeout": 3}, poolclass=sqlalchemy.NullPool)
    try:
        with admin.begin() as conn:
            conn.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
    except sqlalchemy.exc.OperationalError as exc:
        admin.dispose()
        _unreachable(str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc))
    url = make_url(PG_URL).update_query_dict({"options": f"-csearch_path={schema}"})
    url_text = url.render_as_string(hide_password=False)
    eng = make_engine(url_text)
    try:
        create_tables(eng)
        with Session(eng) as s:
            assert seed_demo(s) is True
            lift_person_limits(s)
        eng.dispose()
        yield url_text
    finally:
        eng.dispose()
        with admin.begin() as conn:
            conn.exec_driver_sql(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        admin.dispose()


@pytest.fixture
def pg_engine(pg_url):
    """The seeded PostgreSQL schema; appointments and idempotency records are wiped after each test."""
    eng = make_engine(pg_url)
    yield eng
    with Session(eng) as s:
        s.exec(delete(IdempotencyRecord))
        s.exec(delete(Appointment))
        s.commit()
    eng.dispose()


# --- API ------------------------------------------------------------------------------------------------------


def solve_challenge(client) -> str:
    """What the citizen's page does before each booking: fetch a proof-of-work challenge and solve it."""
    import base64
    import json

    import altcha

    c = client.get("/api/v1/challenge").json()
    found = altcha.solve_challenge_v1(c["challenge"], c["salt"], c["algorithm"], c["maxnumber"], 0)
    return base64.b64encode(json.dumps({**{k: c[k] for k in ("algorithm", "challenge", "salt", "signature")},
                                        "number": found.number}).encode()).decode()


PEER = ("127.0.0.1", 50000)  # the test clients' address: a proxy when CITA_TRUSTED_PROXIES=127.0.0.1
PROVEN = ("/api/v1/appointments", "/api/v1/holds", "/api/v1/requests")  # writes that carry a proof of work


def citizen_client(app):
    """A TestClient that, like the page, adds a freshly solved proof of work to every new booking."""
    from fastapi.testclient import TestClient

    class CitizenClient(TestClient):
        def request(self, method, url, *args, json=None, **kwargs):
            if (method.upper() == "POST" and str(url).rstrip("/").endswith(PROVEN)
                    and isinstance(json, dict) and "altcha" not in json):
                json = {**json, "altcha": solve_challenge(self)}
            return super().request(method, url, *args, json=json, **kwargs)

    return CitizenClient(app, client=PEER)


@pytest.fixture
def api(engine, monkeypatch):
    """A TestClient for the FastAPI app on the seeded temp SQLite file."""
    from pwa_app.api import create_api
    from pwa_app.catalogue import published

    override_settings(monkeypatch, DATABASE_URL=engine.url.render_as_string(hide_password=False))
    db.engine.cache_clear()
    published.changed()
    with citizen_client(create_api()) as client:
        yield client
    if db.engine.cache_info().currsize:
        db.engine().dispose()
    db.engine.cache_clear()
    published.changed()
