"""What one booking costs the database: the SQL statements of POST /api/v1/appointments, counted with a
SQLAlchemy before_cursor_execute listener (bench/rush.py prints the same count on PostgreSQL), and no sweeping of
expired holds or lapsed pending bookings inside a booking (the worker's periodic look does it: mail.scan)."""

from contextlib import contextmanager
from datetime import timedelta

import pytest
from sqlalchemy import event
from sqlmodel import Session, select

from pwa_app import db
from pwa_app.models import Appointment, Hold
from pwa_app.notifications import mail
from pwa_app.appointments import fairness
from pwa_app.appointments import availability, booking

from .test_booking import NORTE, PADRON, book_ok, norte_slot, person  # noqa: F401  (a fixture)
from tests.unit.conftest import override_settings

# The whole request: claim the Idempotency-Key, spend the proof of work, read procedure, office and versions, lock
# person and slot, count the person's bookings and the slot's seats, insert, bump the version, keep the answer.
# SQLite's BEGIN IMMEDIATE takes the place of PostgreSQL's advisory locks.
BOOKING_STATEMENTS = 8


@contextmanager
def statements(engine):
    seen: list[str] = []
    listener = lambda *args: seen.append(args[2])  # noqa: E731  (conn, cursor, statement, ...)
    event.listen(engine, "before_cursor_execute", listener)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", listener)


def free_start(api, n: int = 0) -> str:
    answer = api.get(f"/api/v1/availability?procedure={PADRON}&office={NORTE}").json()
    return [s["start"] for d in answer["days"] for s in d["slots"] if s["free"]][n]


@pytest.fixture(params=["sqlite", "postgresql"])
def any_api(request, monkeypatch):
    """The API on the seeded SQLite file, and on the seeded PostgreSQL schema."""
    if request.param == "sqlite":
        yield request.getfixturevalue("api")
        return
    from pwa_app.api import create_api

    from .conftest import citizen_client

    engine = request.getfixturevalue("pg_engine")
    override_settings(monkeypatch, DATABASE_URL=engine.url.render_as_string(hide_password=False))
    db.engine.cache_clear()
    with citizen_client(create_api()) as client:
        yield client
    db.engine().dispose()
    db.engine.cache_clear()


def test_a_booking_through_the_api_takes_a_handful_of_statements(any_api):
    api = any_api
    body = {**person(), "procedure": PADRON, "office": NORTE}
    assert api.post("/api/v1/appointments", json={**body, "start": free_start(api)},
                    headers={"Idempotency-Key": "cost-warm-up"}).status_code == 201
    start = free_start(api, 3)
    with statements(db.engine()) as seen:
        answer = api.post("/api/v1/appointments", json={**body, "start": start, "email": ""},
                          headers={"Idempotency-Key": "cost-counted"})
    assert answer.status_code == 201, answer.text
    print(f"{len(seen)} statements:", *seen, sep="\n  ")
    assert len(seen) <= BOOKING_STATEMENTS


def test_expired_holds_and_lapsed_pendings_are_left_to_the_worker(session, clock, norte_slot):
    held = booking.hold(session, PADRON, NORTE, norte_slot + timedelta(days=7), now=clock.now)
    session.commit()
    later = clock.moved(minutes=fairness.HOLD_MINUTES + 1)
    book_ok(session, norte_slot, later)  # another slot: its expired hold is not this booking's business
    assert session.get(Hold, held.id) is not None
    same = book_ok(session, norte_slot + timedelta(days=7), later, document="00000000T")  # the held slot: seat 1
    assert same.seat == 1 and session.get(Hold, held.id) is None  # freed because that number was needed
    other = booking.hold(session, PADRON, NORTE, norte_slot + timedelta(days=14), now=clock.now).id
    session.commit()
    factory = lambda: Session(session.get_bind(), expire_on_commit=False)  # noqa: E731
    assert mail.scan(factory, later.now)["holds_expired"] == 1
    session.expire_all()
    assert session.exec(select(Hold).where(Hold.id == other)).first() is None
    assert session.exec(select(Appointment).where(Appointment.status == "booked")).all()


def test_with_redis_a_full_time_is_refused_at_once_with_the_answer_the_database_gives(api, monkeypatch):
    """The rush's hot slot: a time the kept calendar (exact by the versions in Redis) shows full is refused with
    one read (the key's stored answer) and the same 409 as the booking path's; a resend of a booked key, a key seen
    before (its first request may still be running) and a missing proof of work still go the database's way."""
    import redis

    url = "redis://127.0.0.1:6379/9"
    store = redis.Redis.from_url(url)
    store.flushdb()
    monkeypatch.setattr(availability, "_redis_paused_until", 0.0)  # an earlier test's "Redis down" pause is over
    override_settings(monkeypatch, REDIS_URL=url)
    start = free_start(api)
    body = {**person(), "procedure": PADRON, "office": NORTE, "start": start, "email": ""}
    first = {}
    for n, dni in enumerate(("12345678Z", "87654321X")):  # capacity 2
        first[n] = api.post("/api/v1/appointments", json={**body, "document": dni},
                            headers={"Idempotency-Key": f"hot-slot-{n}"})
        assert first[n].status_code == 201, first[n].text
    api.get(f"/api/v1/availability?procedure={PADRON}&office={NORTE}")  # the calendar is kept, the versions seeded
    late = {**body, "document": "11111111H"}
    with statements(db.engine()) as seen:
        at_once = api.post("/api/v1/appointments", json=late, headers={"Idempotency-Key": "hot-slot-late-1"})
    assert at_once.status_code == 409 and at_once.json()["codes"] == {"slot": "taken"}
    assert len(seen) == 1, seen  # the key's stored answer, looked up

    store.set(f"cita:seen:{db.database_key()}:hot-slot-late-2", 1)  # as if its first try were still running
    with statements(db.engine()) as seen:
        slow = api.post("/api/v1/appointments", json=late, headers={"Idempotency-Key": "hot-slot-late-2"})
    assert len(seen) > 1 and slow.status_code == 409
    assert at_once.json() == slow.json() and at_once.headers["cache-control"] == slow.headers["cache-control"]

    for key in store.scan_iter("cita:versions:*"):  # no change for a while: Redis forgot the versions
        store.delete(key)
    assert api.post("/api/v1/appointments", json=late, headers={"Idempotency-Key": "hot-slot-late-4"}).json() == \
        slow.json()  # refused by the database, which writes the versions back for the next ones
    with statements(db.engine()) as seen:
        assert api.post("/api/v1/appointments", json=late, headers={"Idempotency-Key": "hot-slot-late-5"}).json() == \
            slow.json()
    assert len(seen) == 1

    for key in store.scan_iter("cita:seen:*"):  # Redis lost the keys it had seen: the stored answer still counts
        store.delete(key)
    again = api.post("/api/v1/appointments", json={**body, "document": "87654321X"},
                     headers={"Idempotency-Key": "hot-slot-1"})
    assert again.status_code == 201 and again.json()["code"] == first[1].json()["code"]
    unproven = api.post("/api/v1/appointments", json={**late, "altcha": ""},
                        headers={"Idempotency-Key": "hot-slot-late-3"})
    assert unproven.status_code == 428
    store.flushdb()
