"""The shared availability answer (appointments/availability.py): after every kind of change, the next answer is
exactly what the schedules, closures, rules and seats give at that moment, and the API serves it with its ETag."""

import gzip
import json
import os
from datetime import datetime, timedelta

from sqlmodel import select

from pwa_app.models import Closure, Municipality, Procedure, ProcedureOffice, Schedule
from pwa_app.appointments import fairness
from pwa_app.appointments import booking
from pwa_app.appointments import availability, availability_body
from pwa_app.appointments.slots import TZ, booking_window, slots

from .test_booking import NORTE, PADRON, book_ok, ids, norte_slot, person  # noqa: F401  (a fixture)
from tests.unit.conftest import override_settings

AID = "ayudas-emergencia-social"  # high demand: bookings stay pending until confirmed by e-mail
RELEASED = "certificado-digital-clave"  # days released 28 ahead at 08:00 on working days


def served(session, now, procedure=PADRON, office=NORTE, lang="es") -> dict:
    pair = availability.pair_of(session, procedure, office)
    return json.loads(gzip.decompress(availability.answer(session, procedure, office, pair, lang, now).gz))


def exact(session, now, procedure=PADRON, office=NORTE, lang="es") -> dict:
    """The answer computed from nothing, with the slots service that knows no cache."""
    p, o = ids(session, procedure, office)
    window = booking_window(session, session.get(Procedure, p), now)
    first = now.astimezone(TZ).date()
    last = min(window.last, first + timedelta(days=availability.MAX_DAYS))
    return availability_body.body(procedure, office, window, slots(session, p, o, first, last, now), first, last, lang)


def check(session, now, **pair) -> dict:
    got = served(session, now, **pair)
    assert got == exact(session, now, **pair)
    return got


def free_at(answer: dict, start) -> int:
    iso = start.astimezone(TZ).isoformat()
    return next(s["free"] for d in answer["days"] for s in d["slots"] if s["start"] == iso)


def office_of(session, procedure: str) -> str:
    from pwa_app.models import Office

    p, _ = ids(session, procedure, NORTE)
    link = session.exec(select(ProcedureOffice).where(ProcedureOffice.procedure_id == p)).first()
    return session.get(Office, link.office_id).slug


def test_a_booking_a_cancellation_and_a_move_show_in_the_next_answer(session, clock, norte_slot):
    before = check(session, clock.now)
    assert served(session, clock.now) is not before  # kept: the same bytes for the next citizen
    appt = book_ok(session, norte_slot, clock)
    after = check(session, clock.now)
    assert free_at(after, norte_slot) == free_at(before, norte_slot) - 1
    later = norte_slot + timedelta(days=1)
    booking.reschedule(session, appt, NORTE, later, now=clock.now)
    session.commit()
    moved = check(session, clock.now)
    assert free_at(moved, norte_slot) == free_at(before, norte_slot)
    assert free_at(moved, later) == free_at(before, later) - 1
    booking.cancel(session, appt, now=clock.now)
    session.commit()
    assert check(session, clock.now) == before


def test_a_hold_takes_a_seat_and_gives_it_back_when_it_runs_out(session, clock, norte_slot):
    before = check(session, clock.now)
    booking.hold(session, PADRON, NORTE, norte_slot, now=clock.now)
    session.commit()
    assert free_at(check(session, clock.now), norte_slot) == free_at(before, norte_slot) - 1
    expired = clock.moved(minutes=fairness.HOLD_MINUTES + 1).now  # nothing committed: the clock alone
    assert free_at(check(session, expired), norte_slot) == free_at(before, norte_slot)


def test_an_unconfirmed_booking_gives_its_seat_back_when_its_time_runs_out(session, clock):
    office = office_of(session, AID)
    before = check(session, clock.now, procedure=AID, office=office)
    start = [s["start"] for d in before["days"][1:] for s in d["slots"] if s["free"]][0]  # not today's
    book(session, AID, office, start, clock)
    pending = check(session, clock.now, procedure=AID, office=office)
    assert pending != before
    lapsed = clock.moved(minutes=booking.CONFIRM_MINUTES + 1).now
    after = check(session, lapsed, procedure=AID, office=office)
    assert free_at(after, utc_or_now(start)) == free_at(before, utc_or_now(start))


def test_schedule_closure_holiday_and_rule_edits_show_in_the_next_answer(session, clock, norte_slot):
    before = check(session, clock.now)
    p, o = ids(session, PADRON, NORTE)
    sched = session.exec(select(Schedule).where(Schedule.office_id == o, Schedule.procedure_id == p,
                                                Schedule.weekday == 2)).one()
    sched.capacity = 5
    session.add(sched)
    session.commit()
    wider = check(session, clock.now)
    assert free_at(wider, norte_slot) == free_at(before, norte_slot) + 3
    day = norte_slot.astimezone(TZ).date()
    session.add(Closure(office_id=o, day=day, reason="Inventario"))
    session.commit()
    closed = check(session, clock.now)
    assert day.isoformat() not in {d["date"] for d in closed["days"]}
    next_day = day + timedelta(days=1)
    session.add(Closure(office_id=None, day=next_day, reason="Fiesta local"))  # a holiday: every office
    session.commit()
    assert next_day.isoformat() not in {d["date"] for d in check(session, clock.now)["days"]}
    procedure = session.get(Procedure, p)
    procedure.booking_horizon_days = 10
    session.add(procedure)
    session.commit()
    assert check(session, clock.now)["horizon"] == (clock.today() + timedelta(days=10)).isoformat()
    town = session.exec(select(Municipality)).one()
    town.min_notice_minutes = 60 * 24 * 3
    session.add(town)
    procedure.booking_horizon_days = None
    session.add(procedure)
    session.commit()
    assert check(session, clock.now)["days"][0]["date"] > (clock.today() + timedelta(days=2)).isoformat()


def test_the_clock_moves_the_window_at_midnight_at_the_release_hour_and_with_the_notice(session, clock):
    today = check(session, clock.now)
    assert today["from"] == clock.today().isoformat()
    midnight = clock.on(2026, 12, 2, 0, 1).now
    assert check(session, midnight)["from"] == "2026-12-02"
    notice = check(session, clock.moved(hours=3).now)  # 11:00: the first times of the day left the window
    assert notice["days"][0]["slots"][0]["start"] > today["days"][0]["slots"][0]["start"]
    office = office_of(session, RELEASED)
    early = check(session, clock.on(2026, 12, 2, 7, 59).now, procedure=RELEASED, office=office)
    released = check(session, clock.on(2026, 12, 2, 8, 0).now, procedure=RELEASED, office=office)
    assert released["horizon"] > early["horizon"]


def test_the_api_serves_the_shared_bytes_with_an_etag_and_304(api):
    url = f"/api/v1/availability?procedure={PADRON}&office={NORTE}"
    first = api.get(url)
    assert first.status_code == 200 and first.headers["content-encoding"] == "gzip"
    assert first.headers["vary"] == "Accept-Encoding" and first.headers["cache-control"] == "no-cache"
    again = api.get(url, headers={"If-None-Match": first.headers["etag"]})
    assert again.status_code == 304 and again.content == b""
    plain = api.get(url, headers={"Accept-Encoding": "identity"})
    assert plain.json() == first.json() and "content-encoding" not in plain.headers
    start = next(s["start"] for d in first.json()["days"] for s in d["slots"] if s["free"])
    booked = api.post("/api/v1/appointments", json={**person(), "procedure": PADRON, "office": NORTE,
                                                    "start": start}, headers={"Idempotency-Key": "avail-etag-1"})
    assert booked.status_code == 201
    changed = api.get(url, headers={"If-None-Match": first.headers["etag"]})
    assert changed.status_code == 200 and changed.headers["etag"] != first.headers["etag"]
    assert free_at(changed.json(), utc_or_now(start)) == free_at(first.json(), utc_or_now(start)) - 1
    assert api.get("/api/v1/availability?procedure=nope&office=x").status_code == 404


def book(session, procedure, office, start, clock):
    booking.book(session, procedure, office, utc_or_now(start), person(),
                 now=clock.now)
    session.commit()


def utc_or_now(iso: str) -> datetime:
    return datetime.fromisoformat(iso).astimezone(TZ)



def test_an_api_address_nobody_answers_gets_a_small_json_404(api):
    answer = api.get("/api/v1/no-such-route")
    assert answer.status_code == 404 and answer.headers["content-type"] == "application/json"
    assert answer.json()["codes"] == {"path": "not_found_path"}


def test_with_redis_a_kept_answer_is_checked_against_the_versions_there_without_the_database(api, monkeypatch):
    """The rush's shortcut: every commit writes the pair's versions to Redis, so the kept answer is served without
    a database round trip while it is exact, and never once a commit has changed it (from any worker)."""
    import redis
    from sqlmodel import Session

    from pwa_app import db

    from .test_booking_cost import statements

    url = os.environ.get("CITA_TEST_REDIS_URL") or "redis://127.0.0.1:6379/9"
    redis.Redis.from_url(url).flushdb()
    monkeypatch.setattr(availability, "_redis_paused_until", 0.0)  # an earlier test's "Redis down" pause is over
    override_settings(monkeypatch, REDIS_URL=url)
    address = f"/api/v1/availability?procedure={PADRON}&office={NORTE}"
    first = api.get(address).json()  # from the database, which seeds the versions in Redis
    with statements(db.engine()) as seen:
        assert api.get(address).json() == first
    assert seen == []
    start = next(s["start"] for d in first["days"] for s in d["slots"] if s["free"])
    booked = api.post("/api/v1/appointments", json={**person(), "procedure": PADRON, "office": NORTE,
                                                    "start": start}, headers={"Idempotency-Key": "avail-redis-1"})
    assert booked.status_code == 201
    after = api.get(address).json()
    assert free_at(after, utc_or_now(start)) == free_at(first, utc_or_now(start)) - 1
    with Session(db.engine(), expire_on_commit=False) as other:  # another worker cancels it
        appt = booking.find(other, booked.json()["code"], booked.json()["verifier"])
        booking.cancel(other, appt)
        other.commit()
    assert api.get(address).json() == first
    redis.Redis.from_url(url).flushdb()  # versions lost: asked from the database again
    assert api.get(address).json() == first
    override_settings(monkeypatch, REDIS_URL="redis://127.0.0.1:1/0")  # Redis down: the database answers
    assert api.get(address).json() == first


def test_a_copy_built_a_moment_later_serves_a_request_that_read_the_clock_just_before(session, clock):
    """In a rush requests read the clock, then wait their turn: one that finds a copy built a second after its
    own clock reading uses it instead of building its own (and making the next request build again)."""
    from .test_booking_cost import statements

    pair = availability.pair_of(session, PADRON, NORTE)
    later = availability.calendar(session, pair, clock.now + timedelta(seconds=2))
    with statements(session.get_bind()) as seen:
        assert availability.calendar(session, pair, clock.now) is later
    assert seen == []
    assert availability.calendar(session, pair, clock.now - timedelta(hours=1)) is not later  # a clock set back
