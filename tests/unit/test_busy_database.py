"""A stuck writer — another connection (as another process would) holding SQLite's write lock — stops only writes:
reads never take the lock, and a write that cannot get it within the busy timeout answers 503 with Retry-After,
which the device outbox retries. With the busy timeout at 0 a wait for the lock fails at once, so these tests need
no clock: anything that still took the lock to read would fail. (The timed run: bench/fault.py.)"""

import sqlite3
import threading
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.exc import OperationalError
from sqlmodel import Session, func, select

from pwa_app import db, retention
from pwa_app.common.i18n import gettext
from pwa_app.common.messages import ERRORS
from pwa_app.models import Appointment, AuditEvent, Office, StaffSession
from pwa_app.staff import auth
from tests.unit.test_api import free_slot, new_key, person, post_booking
from tests.unit.conftest import override_settings


@contextmanager
def locked(engine):
    """Another connection takes the write lock and writes, and holds it until the block ends."""
    holder = sqlite3.connect(engine.url.database, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    holder.execute("UPDATE municipality SET name = name")
    try:
        yield
    finally:
        holder.execute("ROLLBACK")
        holder.close()


@pytest.fixture
def no_wait(monkeypatch):
    override_settings(monkeypatch, CITA_DB_BUSY_TIMEOUT="0")


@pytest.fixture
def eng(engine, no_wait):
    """The seeded file, through an engine built with the busy timeout at 0."""
    fresh = db.make_engine(engine.url.render_as_string(hide_password=False))
    yield fresh
    fresh.dispose()


def test_reads_go_on_while_another_process_holds_the_write_lock(eng):
    with locked(eng), Session(eng) as session:
        assert session.exec(select(func.count()).select_from(Office)).one() == 3
        session.commit()  # a unit that only read commits without the lock too


def test_a_write_gives_up_when_the_lock_is_held_and_goes_through_after(eng):
    with locked(eng), Session(eng) as session:
        session.add(AuditEvent(actor="test", action="test.write"))
        with pytest.raises(OperationalError) as caught:
            session.commit()
        assert db.is_busy(caught.value)
    with Session(eng) as session:
        session.add(AuditEvent(actor="test", action="test.write"))
        session.commit()
        assert session.exec(select(func.count()).select_from(AuditEvent)
                            .where(AuditEvent.action == "test.write")).one() == 1


def test_write_lock_serialises_units_that_check_then_write(eng):
    with Session(eng) as first, Session(eng) as second:
        db.write_lock(first)
        second.exec(select(Office)).all()  # reading still works
        with pytest.raises(OperationalError) as caught:
            db.write_lock(second)
        assert db.is_busy(caught.value)
        first.commit()
        db.write_lock(second)
        second.commit()


def test_api_reads_answer_and_a_booking_answers_503_then_lands_once(api, engine, no_wait):
    slot = free_slot(api)
    first = post_booking(api, slot["start"], new_key())
    assert first.status_code == 201
    code, verifier = first.json()["code"], first.json()["verifier"]
    key = new_key()
    with locked(engine):
        assert api.get("/api/v1/procedures").status_code == 200
        assert api.get("/api/v1/availability", params={"procedure": "alta-padron",
                                                       "office": "junta-distrito-norte"}).status_code == 200
        assert api.get(f"/api/v1/appointments/{code}", params={"verifier": verifier}).status_code == 200
        assert api.get("/api/v1/health").json()["database"] == "ok"
        busy = api.post("/api/v1/appointments", json={
            "procedure": "alta-padron", "office": "junta-distrito-norte", "start": slot["start"],
            **person(document="00000001R", lang="fr")},
            headers={"Idempotency-Key": key, "Accept-Language": "fr-FR,fr;q=0.9"})
        assert busy.status_code == 503, busy.text
        assert busy.headers["Retry-After"] == str(busy.json()["retry_after"])
        assert busy.json()["codes"] == {"database": "busy"}
        assert busy.json()["errors"]["database"] == gettext("fr", ERRORS["busy"])
        cancel = api.delete(f"/api/v1/appointments/{code}", params={"verifier": verifier},
                            headers={"Idempotency-Key": new_key()})
        assert cancel.status_code == 503 and "Retry-After" in cancel.headers
    again = post_booking(api, slot["start"], key, document="00000001R", lang="fr")
    assert again.status_code == 201, again.text
    assert post_booking(api, slot["start"], key, document="00000001R", lang="fr").json() == again.json()
    with Session(engine) as s:
        assert s.exec(select(func.count()).select_from(Appointment)
                      .where(Appointment.document == "00000001R")).one() == 1


def test_a_signed_in_check_does_not_fail_on_a_busy_database(eng):
    with Session(eng, expire_on_commit=False) as session:
        user = auth.create_user(session, "ana@villanuevadelpinar.es", "Ana", "admin", "contraseña-larga-123")
        session.commit()
        token, _ = auth.sign_in(session, user.email, "contraseña-larga-123")
        row = session.exec(select(StaffSession)).one()
        row.last_seen_at = datetime.now(UTC) - timedelta(minutes=10)  # due for its refresh (a write)
        session.add(row)
        session.commit()
    with locked(eng), Session(eng, expire_on_commit=False) as session:
        who = auth.viewer_for_token(session, token)
    assert who is not None and who.email == "ana@villanuevadelpinar.es"


def test_the_purge_gives_up_while_locked_and_needs_no_lock_when_it_is_not_due(eng):
    now = datetime.now(UTC)
    with locked(eng), Session(eng) as session, pytest.raises(OperationalError):
        retention.run_if_due(session, now)
    with Session(eng) as session:
        assert not retention.run_if_due(session, now).skipped
    with locked(eng), Session(eng) as session:
        assert retention.run_if_due(session, now + timedelta(hours=1)).skipped == "recent"


def test_a_failed_staff_event_shows_a_message_through_state_not_eval():
    from state.base import StaffState, server_exception_handler

    busy = OperationalError("UPDATE x", {}, sqlite3.OperationalError("database is locked"))
    spec = server_exception_handler(busy)
    assert spec.handler.fn.__qualname__ == StaffState.server_failed.fn.__qualname__
    assert dict((str(k), str(v)) for k, v in spec.args) == {"busy": "true"}
    other = server_exception_handler(ValueError("a bug"))
    assert dict((str(k), str(v)) for k, v in other.args) == {"busy": "false"}


def test_a_burst_from_one_address_gets_exactly_its_limit(monkeypatch):
    from pwa_app.common import ratelimit

    override_settings(monkeypatch, REDIS_URL=None)
    override_settings(monkeypatch, CITA_RATE_BURST_TEST="10/600")
    ratelimit.limiter.cache_clear()
    for round_ in range(20):
        start, allowed = threading.Barrier(40), []

        def hit(who=f"198.51.100.{round_}"):
            start.wait()
            allowed.append(ratelimit.check("burst_test", who) == 0)

        threads = [threading.Thread(target=hit) for _ in range(40)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert sum(allowed) == 10, f"round {round_}: {sum(allowed)} allowed"
    ratelimit.limiter.cache_clear()
