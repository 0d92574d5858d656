"""End-to-end fixtures: build the app once, serve it on a free port with a fresh seeded database, and drive
Debian's chromium (Playwright's own browser download cannot work here)."""

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from datetime import datetime, timezone
from pathlib import Path

import pytest
from sqlmodel import Session

ROOT = Path(__file__).resolve().parents[2]
SHOTS = Path(__file__).parent / "screenshots"
PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True, "device_scale_factor": 2}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(url: str, proc: subprocess.Popen, timeout: float = 600) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the app exited with {proc.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except OSError:
            time.sleep(1)
    raise TimeoutError(url)


class App:
    def __init__(self, base_url: str, database_url: str):
        self.base_url, self.database_url = base_url, database_url
        from pwa_app.db import make_engine

        self.engine = make_engine(database_url)

    def session(self) -> Session:
        return Session(self.engine, expire_on_commit=False)

    def appointments(self, status: str | None = None, name: str | None = None) -> list:
        from sqlmodel import select

        from pwa_app.models import Appointment

        with self.session() as s:
            rows = s.exec(select(Appointment).order_by(Appointment.id)).all()
        return [a for a in rows if (status is None or a.status == status) and (name is None or a.name == name)]


def fresh_postgres_schema() -> str:
    """A new schema in the machine's PostgreSQL; the app and the test share it through search_path."""
    import uuid

    from sqlalchemy import create_engine, text

    base = os.environ.get("CITA_E2E_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
    schema = f"cita_e2e_{uuid.uuid4().hex[:8]}"
    with create_engine(base).begin() as conn:
        conn.execute(text(f"CREATE SCHEMA {schema}"))
    return f"{base}?options=-csearch_path%3D{schema}"


class Inbox:
    """What a real local SMTP server (aiosmtpd) received from the app, parsed."""

    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):
        from email import message_from_bytes
        from email.policy import default

        self.messages.append(message_from_bytes(envelope.content, policy=default))
        return "250 OK"

    def wait_for(self, to: str, subject: str = "", timeout: float = 30):
        deadline = time.time() + timeout
        while time.time() < deadline:
            found = [m for m in self.messages if m["To"] == to and m["Subject"].startswith(subject)]
            if found:
                return found[-1]
            time.sleep(0.5)
        raise TimeoutError(f"no mail to {to}")


# CITA_TEST_WALL_CLOCK=<ISO datetime> runs the whole suite with the wall clock moved there (as tests/unit does):
# the app under libfaketime (Debian `faketime`), this process under time-machine.
# The tests book relative to the real date, so they must pass at any hour: near midnight in Madrid, across a DST
# change. One offset for both keeps them together while the clock ticks on.
WALL_CLOCK = os.environ.get("CITA_TEST_WALL_CLOCK")
FAKETIME_LIB = "/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1"


def pytest_collection_modifyitems(items):
    """Every test here drives a browser against a built app: `-m "not browser"` leaves them out."""
    here = Path(__file__).parent
    for item in items:
        if here in item.path.parents:
            item.add_marker(pytest.mark.browser)


def pytest_configure(config):
    if WALL_CLOCK:
        import time_machine

        config.wall_clock_offset = (datetime.fromisoformat(WALL_CLOCK) - datetime.now(timezone.utc)).total_seconds()
        time_machine.travel(datetime.fromisoformat(WALL_CLOCK), tick=True).start()


def moved_clock_env(config) -> dict:
    if not WALL_CLOCK:
        return {}
    if not os.path.exists(FAKETIME_LIB):
        pytest.fail(f"CITA_TEST_WALL_CLOCK needs Debian's faketime ({FAKETIME_LIB})")
    return {"LD_PRELOAD": FAKETIME_LIB, "FAKETIME": f"{config.wall_clock_offset:+.0f}",
            "FAKETIME_DONT_FAKE_MONOTONIC": "1"}


@pytest.fixture(scope="session")
def smtp_inbox():
    """The app's SMTP server for the whole session: every mail the app sends lands here."""
    from aiosmtpd.controller import Controller

    inbox = Inbox()
    inbox.port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=inbox.port)
    controller.start()
    yield inbox
    controller.stop()


@pytest.fixture(scope="session")
def app_server(tmp_path_factory, smtp_inbox, pytestconfig) -> App:
    """The app as README command 1 runs it: SQLite by default; with CITA_E2E_DB=postgres, PostgreSQL and
    Redis (REDIS_URL, default the local one), which makes Reflex start several backend workers."""
    port = free_port()
    extra = {}
    if os.environ.get("CITA_E2E_DB") == "postgres":
        database_url = fresh_postgres_schema()
        extra["REDIS_URL"] = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
        # A test that changes the database itself (App.session) publishes the availability versions its commit
        # bumps to the server's Redis, as the server's own commits do: else the server's kept answers stay stale.
        from pwa_app import settings

        settings.override(redis_url=extra["REDIS_URL"])
    else:
        database_url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'cita.db'}"
    # Every browser test books from 127.0.0.1: limits per address are tested in tests/unit/test_fairness.py.
    # CITA_E2E_LIMITS=real keeps the booking limits as in production (tests/e2e/test_limits.py).
    loose = {"CITA_RATE_BOOKING": "1000/60", "CITA_RATE_BOOKING_PERSON": "1000/60", "CITA_RATE_BOOKING_BURST": "1000/60"}
    if os.environ.get("CITA_E2E_LIMITS") == "real":
        loose = {}
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "REFLEX_API_URL": f"http://localhost:{port}",
        "REFLEX_CHECK_LATEST_VERSION": "0",
        "REFLEX_USE_SYSTEM_BUN": "1",
        "REFLEX_TELEMETRY_ENABLED": "false",
        **loose, "CITA_RATE_HOLD": "1000/60",
        "CITA_RATE_APPOINTMENT": "1000/60", "CITA_RATE_VERIFIER_ADDRESS": "1000/60", "CITA_RATE_REQUEST": "1000/60",
        "CITA_MAX_HOLDS": "1000", "CITA_RATE_STAFF_LOGIN": "1000/60",
        "CITA_TRUSTED_PROXIES": "none",  # the browser connects directly (production with Redis asks for this)
        "CITA_ALTCHA_MAX_NUMBER": "5000",
        "CITA_HOLD_MINUTES": "0.5",  # long enough to fill the form in a test, short enough to watch one expire
        "CITA_SMTP_HOST": "127.0.0.1", "CITA_SMTP_PORT": str(smtp_inbox.port), "CITA_SMTP_STARTTLS": "0",
        "CITA_MAIL_FROM": "Ayuntamiento de Villanueva del Pinar <cita@villanuevadelpinar.es>",
        "CITA_PUBLIC_URL": f"http://localhost:{port}",
        **extra,
        **moved_clock_env(pytestconfig),
    }
    subprocess.run([sys.executable, "-m", "reflex", "db", "migrate"], cwd=ROOT, env=env, check=True)
    subprocess.run([sys.executable, "-m", "pwa_app.seed"], cwd=ROOT, env=env, check=True)
    log = open(tmp_path_factory.mktemp("log") / "app.log", "w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "reflex", "run", "--env", "prod", "--single-port",
         "--frontend-port", str(port), "--backend-port", str(port)],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )
    try:
        wait_for(f"http://localhost:{port}/ping", proc)
        yield App(f"http://localhost:{port}", database_url)
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
        log.close()


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    return {
        **browser_type_launch_args,
        "executable_path": "/usr/bin/chromium",
        "args": ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-dev-shm-usage",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"],
    }


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args, app_server):
    return {**browser_context_args, **PHONE, "base_url": app_server.base_url}


@pytest.fixture
def shot(request):
    """shot(page, "name") saves a full-page screenshot under tests/e2e/screenshots/<test>-<n>-<name>.png."""
    SHOTS.mkdir(exist_ok=True)
    counter = iter(range(1, 100))

    def take(page, name: str):
        page.screenshot(path=SHOTS / f"{request.node.name}-{next(counter):02d}-{name}.png", full_page=True)

    return take


def wait_hydrated(page):
    """A person can't type into a page before React has hydrated it; neither should the tests."""
    for name in ("goto", "reload"):
        original = getattr(page, name)

        def loaded(*args, _original=original, **kwargs):
            response = _original(*args, **kwargs)
            page.wait_for_selector("html[data-ready]", state="attached")
            return response

        setattr(page, name, loaded)
    return page


@pytest.fixture
def page(page):
    """Waits for hydration after every load, and fails the test on any JavaScript error the page throws."""
    errors = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    yield wait_hydrated(page)
    assert not errors, errors
