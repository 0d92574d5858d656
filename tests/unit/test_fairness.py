"""Fair access (issue 12): holds on a picked time, the procedures' booking rules, per-person limits with document
normalisation, rate limits per address and per person (in memory and in Redis), the ALTCHA proof of work, a bot
booking as fast as it can, and the signals staff see.

The default fixtures lift the per-person limits and set huge rate limits (tests/unit/conftest.py): every test here
that relies on a limit sets the real one itself (`real_limits`, `override_settings(monkeypatch, CITA_RATE_...=...)`)."""

import base64
import hashlib
import itertools
import json
import multiprocessing
import os
import re
import secrets
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import date, datetime, timedelta

import pytest
from limits.storage import MemoryStorage, RedisStorage
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, delete, func, select, update

from pwa_app.appointments import booking, fairness
from pwa_app.appointments.booking import BookingError, book, cancel
from pwa_app.appointments.slots import booking_window, find_slot, slots
from pwa_app.common import ratelimit
from pwa_app.common.documents import CONTROL_LETTERS
from pwa_app.common.i18n import gettext, long_day_label, time_label
from pwa_app.common.messages import ERRORS, RELEASE
from pwa_app.db import make_engine
from pwa_app.models import Appointment, Hold, IdempotencyRecord, Municipality, Office, Procedure, UsedChallenge
from pwa_app.settings import get_settings
from tests.unit.conftest import Clock, override_settings, solve_challenge

OAC, NORTE, CSSU = "oac-casa-consistorial", "junta-distrito-norte", "centro-servicios-sociales-urbanismo"
PADRON = "alta-padron"  # 20-minute slots; 2 desks at the North district board
PMR = "tarjeta-estacionamiento-pmr"  # from the next working day
SOCIAL = "cita-trabajador-social"  # 30 minutes + a 10-minute pause
CLAVE = "certificado-digital-clave"  # released 28 days ahead, 08:00 Madrid on working days
DNI = "12345678Z"
# Read before the fixtures below take REDIS_URL away from the other tests.
REDIS_URL = os.environ.get("REDIS_URL") or os.environ.get("CITA_TEST_REDIS_URL") or "redis://127.0.0.1:6379/0"
_keys = itertools.count(1)


def dni(n: int) -> str:
    """A valid DNI (mod-23 control letter) for any number."""
    return f"{n:08d}{CONTROL_LETTERS[n % 23]}"


def key() -> str:
    return f"fair-key-{next(_keys):08d}-{secrets.token_hex(3)}"


def person(**changes) -> dict:
    raw = {"name": "Ana García López", "document": DNI, "phone": "612 345 678", "email": "ana@example.com",
           "consent": True, "lang": "es"}
    return {**raw, **changes}


def ids(session, procedure: str, office: str) -> tuple[int, int]:
    p = session.exec(select(Procedure).where(Procedure.slug == procedure)).one()
    o = session.exec(select(Office).where(Office.slug == office)).one()
    return p.id, o.id


def procedure(session, slug: str) -> Procedure:
    return session.exec(select(Procedure).where(Procedure.slug == slug)).one()


def count(engine_or_session, model=Appointment, *where) -> int:
    if isinstance(engine_or_session, Session):
        return engine_or_session.exec(select(func.count()).select_from(model).where(*where)).one()
    with Session(engine_or_session) as s:  # short-lived: a lingering SQLite transaction would block the API
        return s.exec(select(func.count()).select_from(model).where(*where)).one()


def set_limits(bind, per_procedure: int = 1, total: int = 3) -> None:
    with Session(bind) as s:
        s.exec(update(Procedure).values(max_active_per_person=per_procedure))
        s.exec(update(Municipality).values(max_active_per_person=total))
        s.commit()


@pytest.fixture
def real_limits(engine):
    """The model's defaults: one active appointment per procedure, three in all."""
    set_limits(engine, 1, 3)


@pytest.fixture(autouse=True)
def fresh_buckets(monkeypatch):
    """Fresh in-memory counts, no trusted proxy, unless a test says otherwise."""
    override_settings(monkeypatch, REDIS_URL=None)
    override_settings(monkeypatch, CITA_TRUSTED_PROXIES=None)
    ratelimit.limiter.cache_clear()
    yield
    ratelimit.limiter.cache_clear()


@pytest.fixture(params=["memory", "redis"])
def backend(request, monkeypatch):
    """Rate-limit counts in memory, or in Redis (the several-workers set-up) under a prefix of their own."""
    if request.param == "memory":
        assert isinstance(ratelimit.limiter().storage, MemoryStorage)
        yield "memory"
        return
    redis = pytest.importorskip("redis")
    url = REDIS_URL
    probe = redis.Redis.from_url(url, socket_timeout=1, socket_connect_timeout=1)
    try:
        probe.ping()
    except redis.exceptions.ConnectionError as exc:
        probe.close()
        if os.environ.get("CI") == "true":
            pytest.fail(f"Redis is required in CI but unreachable at {url}: {exc}")
        pytest.skip(f"Redis unreachable at {url} (set CI=true to make this an error)")
    override_settings(monkeypatch, REDIS_URL=url)
    monkeypatch.setattr(ratelimit, "PREFIX", f"cita:test:{secrets.token_hex(4)}")  # never shares a count
    ratelimit.limiter.cache_clear()
    assert isinstance(ratelimit.limiter().storage, RedisStorage)  # chosen by REDIS_URL
    try:
        yield "redis"
        assert probe.keys(ratelimit.PREFIX + ":*/booking/*")  # the counts really were in Redis
    finally:
        for name in probe.scan_iter(ratelimit.PREFIX + ":*"):
            probe.delete(name)
        probe.close()


# --- holds ----------------------------------------------------------------------------------------------------


@pytest.fixture
def norte_slot(session, clock):
    """Wednesday 2 December 2026, 10:10 at the North district board: capacity 2."""
    start = clock.at(2026, 12, 2, 10, 10)
    p, o = ids(session, PADRON, NORTE)
    assert find_slot(session, p, o, start, clock.now).capacity == 2
    session.rollback()
    return start


def free(session, start, now, procedure=PADRON, office=NORTE) -> int:
    p, o = ids(session, procedure, office)
    slot = find_slot(session, p, o, start, now)
    return slot.free if slot else -1


def test_a_hold_takes_a_seat_and_booking_with_it_gets_that_seat(session, clock, norte_slot):
    held = booking.hold(session, PADRON, NORTE, norte_slot, client="c1", now=clock.now)
    session.commit()
    assert held.seat == 1 and held.token and held.client_key == "c1"
    assert held.expires_at == clock.now + timedelta(minutes=fairness.HOLD_MINUTES)
    assert free(session, norte_slot, clock.now) == 1  # the availability free count drops
    appt = book(session, PADRON, NORTE, norte_slot, person(), now=clock.now, hold_token=held.token, client="c1")
    session.commit()
    assert appt.seat == held.seat and appt.client_key == "c1"
    assert count(session, Hold) == 0  # the hold became the booking
    assert free(session, norte_slot, clock.now) == 1


def test_held_seats_cannot_be_taken_by_another_citizen(session, clock, norte_slot):
    first = booking.hold(session, PADRON, NORTE, norte_slot, now=clock.now)
    second = booking.hold(session, PADRON, NORTE, norte_slot, now=clock.now)
    session.commit()
    assert {first.seat, second.seat} == {1, 2} and free(session, norte_slot, clock.now) == 0
    with pytest.raises(BookingError) as third_hold:
        booking.hold(session, PADRON, NORTE, norte_slot, now=clock.now)
    session.rollback()
    with pytest.raises(BookingError) as no_hold:
        book(session, PADRON, NORTE, norte_slot, person(name="Otra Persona"), now=clock.now)
    session.rollback()
    for refused in (third_hold.value, no_hold.value):
        assert refused.errors == {"slot": "taken"}
        assert refused.alternatives and norte_slot not in {s.starts_at for _, s in refused.alternatives}
        assert all(s.free > 0 for _, s in refused.alternatives)
    # A hold on another slot does not open this one either.
    other = booking.hold(session, PADRON, NORTE, clock.at(2026, 12, 2, 10, 30), now=clock.now)
    session.commit()
    with pytest.raises(BookingError) as wrong_token:
        book(session, PADRON, NORTE, norte_slot, person(), now=clock.now, hold_token=other.token)
    session.rollback()
    assert wrong_token.value.errors == {"slot": "taken"}
    assert count(session, Hold) == 3 and count(session) == 0
    # The holders themselves book their own seats.
    for held in (first, second):
        assert book(session, PADRON, NORTE, norte_slot, person(document=dni(held.seat)), now=clock.now,
                    hold_token=held.token).seat == held.seat
        session.commit()
    assert count(session, Hold) == 1 and count(session) == 2


def test_more_time_keeps_the_seat_a_little_longer_never_for_ever(session, clock, norte_slot):
    """WCAG 2.2.1: the citizen may ask for more time before the hold runs out; a hold lives at most three times
    its minutes, so no one keeps a seat from others by asking again and again."""
    held = booking.hold(session, PADRON, NORTE, norte_slot, now=clock.now)
    session.commit()
    minutes = timedelta(minutes=fairness.HOLD_MINUTES)
    for n in (1, 2):  # asked just before it runs out
        asked = clock.now + n * minutes - timedelta(seconds=30 * n)
        assert fairness.renew_hold(session, held.token, asked).expires_at == asked + minutes
    assert free(session, norte_slot, clock.now + 2 * minutes + timedelta(minutes=5)) == 1  # still kept
    third = clock.now + 3 * minutes - timedelta(seconds=90)
    assert fairness.renew_hold(session, held.token, third) is None
    assert fairness.renew_hold(session, held.token, clock.now + 4 * minutes) is None  # run out: nothing to renew
    assert fairness.renew_hold(session, "no-such-token", clock.now) is None


def test_more_time_through_the_api(api):
    start = api_seats(api, 1)[0]
    made = api.post("/api/v1/holds", json={"procedure": PADRON, "office": NORTE, "start": start,
                                           "altcha": solve_challenge(api)})
    renewed = api.post(f"/api/v1/holds/{made.json()['token']}/renew")
    assert renewed.status_code == 200 and renewed.json()["expires_at"] >= made.json()["expires_at"]
    gone = api.post("/api/v1/holds/no-such-token/renew?lang=en")
    assert gone.status_code == 404 and gone.json()["codes"] == {"hold": "hold_expired"}


def test_asking_for_more_time_is_limited_per_address(api, monkeypatch):
    override_settings(monkeypatch, CITA_RATE_HOLD="3/60")
    answers = [api.post(f"/api/v1/holds/flood-{n}/renew").status_code for n in range(5)]
    assert answers == [404, 404, 404, 429, 429]
    assert api.post("/api/v1/holds/" + "x" * 5000 + "/renew").status_code in (404, 414, 429)


def test_an_expired_hold_stops_counting_at_once(session, clock, norte_slot):
    first = booking.hold(session, PADRON, NORTE, norte_slot, now=clock.now)
    booking.hold(session, PADRON, NORTE, norte_slot, now=clock.now)
    session.commit()
    assert free(session, norte_slot, clock.now) == 0
    just_before = first.expires_at - timedelta(seconds=1)
    assert free(session, norte_slot, just_before) == 0
    later = first.expires_at + timedelta(seconds=1)  # no job ran: only the clock moved
    assert free(session, norte_slot, later) == 2
    assert fairness.find_hold(session, first.token, later) is None
    assert fairness.find_hold(session, first.token, just_before).id == first.id
    # Others take both seats; the late citizen's token no longer keeps anything.
    booking.hold(session, PADRON, NORTE, norte_slot, now=later)
    book(session, PADRON, NORTE, norte_slot, person(document=dni(7)), now=later)
    session.commit()
    assert count(session, Hold) == 1  # the expired ones were removed when the seats were handed out
    with pytest.raises(BookingError) as late:
        book(session, PADRON, NORTE, norte_slot, person(), now=later, hold_token=first.token)
    session.rollback()
    assert late.value.errors == {"slot": "taken"}


def test_an_expired_hold_token_still_books_a_free_seat(session, clock, norte_slot):
    held = booking.hold(session, PADRON, NORTE, norte_slot, now=clock.now)
    session.commit()
    later = held.expires_at + timedelta(minutes=1)
    appt = book(session, PADRON, NORTE, norte_slot, person(), now=later, hold_token=held.token)
    session.commit()
    assert appt.seat == 1 and count(session, Hold) == 0 and free(session, norte_slot, later) == 1


def test_releasing_a_hold_frees_the_seat(session, clock, norte_slot):
    first = booking.hold(session, PADRON, NORTE, norte_slot, now=clock.now)
    booking.hold(session, PADRON, NORTE, norte_slot, now=clock.now)
    session.commit()
    assert free(session, norte_slot, clock.now) == 0
    assert fairness.release_hold(session, first.token) is True
    session.commit()
    assert free(session, norte_slot, clock.now) == 1
    assert fairness.release_hold(session, first.token) is False  # twice is harmless
    assert book(session, PADRON, NORTE, norte_slot, person(), now=clock.now).seat == first.seat
    session.commit()


def test_holds_through_the_api(api, engine):
    start = api_seats(api, 1, seats_per_slot=2)[0]
    assert free_at(api, start) == 2
    r = api.post("/api/v1/holds", json={"procedure": PADRON, "office": NORTE, "start": start})
    assert r.status_code == 201, r.text
    first = r.json()
    assert first["seconds"] == int(fairness.HOLD_MINUTES * 60) and r.headers["cache-control"] == "no-store"
    assert free_at(api, start) == 1
    second = api.post("/api/v1/holds", json={"procedure": PADRON, "office": NORTE, "start": start}).json()
    assert free_at(api, start) == 0
    third = api.post("/api/v1/holds", json={"procedure": PADRON, "office": NORTE, "start": start, "lang": "en"})
    assert third.status_code == 409 and third.json()["codes"] == {"slot": "taken"} and third.json()["alternatives"]
    blocked = post_booking(api, start, dni(11))
    assert blocked.status_code == 409 and blocked.json()["codes"] == {"slot": "taken"}
    assert blocked.json()["alternatives"]
    mine = post_booking(api, start, dni(12), hold=first["token"])
    assert mine.status_code == 201, mine.text
    assert count(engine, Hold) == 1 and free_at(api, start) == 0
    assert api.delete(f"/api/v1/holds/{second['token']}").status_code == 204
    assert count(engine, Hold) == 0 and free_at(api, start) == 1
    assert post_booking(api, start, dni(13)).status_code == 201
    assert count(engine) == 2


# --- holds and bookings racing across processes ---------------------------------------------------------------


def _hold_worker(url: str, start: str, now: str, worker: int, attempts: int, barrier, results):
    """One process: per attempt, a hold then a booking with it, a plain booking, or a hold kept open."""
    engine = make_engine(url)
    outcome = []
    try:
        with Session(engine) as s:  # warm the connection before the race starts
            s.exec(select(func.count()).select_from(Procedure)).one()
            s.rollback()
        barrier.wait(timeout=60)
        at, moment = datetime.fromisoformat(start), datetime.fromisoformat(now)
        for i in range(attempts):
            raw = person(name=f"Persona {worker} {i}", document=dni(worker * 1000 + i + 1))
            kind = ("hold_then_book", "book", "hold")[(worker + i) % 3]
            with Session(engine, expire_on_commit=False) as s:
                try:
                    if kind == "book":
                        outcome.append(("book", book(s, PADRON, NORTE, at, raw, now=moment).seat))
                        s.commit()
                        continue
                    held = booking.hold(s, PADRON, NORTE, at, client=f"worker-{worker}", now=moment)
                    s.commit()
                    outcome.append(("hold", held.seat))
                    if kind == "hold_then_book":
                        appt = book(s, PADRON, NORTE, at, raw, now=moment, hold_token=held.token)
                        s.commit()
                        outcome.append(("book_with_hold", appt.seat))
                except BookingError as exc:
                    s.rollback()
                    outcome.append((exc.errors.get("slot", repr(exc.errors)), None))
                except IntegrityError:
                    s.rollback()
                    outcome.append(("integrity_error", None))
    except Exception as exc:  # noqa: BLE001  # pragma: no cover - reported to the parent
        outcome.append((f"crash: {exc!r}", None))
    finally:
        engine.dispose()
        results.put(outcome)


def race_context():
    """Fresh processes, as in production (each with its own engine), forked from a server that imported this
    module once: ten spawned interpreters each importing the app would take most of the test's time."""
    ctx = multiprocessing.get_context("forkserver")
    ctx.set_forkserver_preload([__name__])  # ignored (slower, same result) if the server is already running
    return ctx


def race_holds(url: str, processes: int, attempts: int, start: datetime, now: datetime) -> list:
    ctx = race_context()
    barrier, results = ctx.Barrier(processes), ctx.Queue()
    workers = [ctx.Process(target=_hold_worker, args=(url, start.isoformat(), now.isoformat(), n, attempts,
                                                      barrier, results)) for n in range(processes)]
    for w in workers:
        w.start()
    outcomes = [item for _ in workers for item in results.get(timeout=120)]
    for w in workers:
        w.join(timeout=30)
        assert w.exitcode == 0
    return outcomes


def assert_never_more_than_two(session, outcomes, start, now):
    kinds = Counter(kind for kind, _ in outcomes)
    assert set(kinds) <= {"hold", "book", "book_with_hold", "taken"}, kinds
    assert kinds["hold"] + kinds["book"] == 2, kinds  # seats handed out: exactly the capacity
    assert kinds["taken"] >= 1
    booked = session.exec(select(Appointment.seat).where(Appointment.starts_at == start,
                                                         Appointment.seat.is_not(None))).all()
    held = session.exec(select(Hold.seat).where(Hold.starts_at == start, Hold.expires_at > now)).all()
    assert len(booked) == kinds["book"] + kinds["book_with_hold"]
    assert sorted([*booked, *held]) == [1, 2]  # never more than 2 seats used, each once
    p, o = ids(session, PADRON, NORTE)
    assert find_slot(session, p, o, start, now).free == 0


def test_processes_racing_holds_and_bookings_on_sqlite_never_overbook(engine, clock):
    start = clock.at(2026, 12, 2, 10, 10)
    outcomes = race_holds(engine.url.render_as_string(hide_password=False), 4, 4, start, clock.now)
    print(f"\nSQLite holds race: {Counter(k for k, _ in outcomes)}")
    with Session(engine) as s:
        assert_never_more_than_two(s, outcomes, start, clock.now)


def test_processes_racing_holds_and_bookings_on_postgresql_never_overbook(pg_engine, clock):
    start = clock.at(2026, 12, 2, 10, 10)
    try:
        outcomes = race_holds(pg_engine.url.render_as_string(hide_password=False), 10, 2, start, clock.now)
        print(f"\nPostgreSQL holds race: {Counter(k for k, _ in outcomes)}")
        with Session(pg_engine) as s:
            assert_never_more_than_two(s, outcomes, start, clock.now)
    finally:
        with Session(pg_engine) as s:
            s.exec(delete(Hold))
            s.commit()


# --- booking rules --------------------------------------------------------------------------------------------


def local_starts(found) -> list[datetime]:
    return [Clock.local(s.starts_at) for s in found]


def test_minimum_notice_per_procedure_and_from_the_town(session, clock):
    padron = procedure(session, PADRON)
    p, o = ids(session, PADRON, NORTE)
    assert padron.min_notice_minutes is None
    assert booking_window(session, padron, clock.now).earliest == clock.now + timedelta(minutes=120)
    this_afternoon = clock.at(2026, 12, 1, 14, 10)
    assert find_slot(session, p, o, this_afternoon, clock.now) is not None
    assert find_slot(session, p, o, clock.at(2026, 12, 1, 9, 50), clock.now) is None  # 110 minutes away
    padron.min_notice_minutes = 24 * 60
    session.add(padron)
    session.commit()
    assert booking_window(session, padron, clock.now).earliest == clock.now + timedelta(days=1)
    assert find_slot(session, p, o, this_afternoon, clock.now) is None
    first = slots(session, p, o, clock.today(), clock.today() + timedelta(days=1), clock.now)[0]
    assert Clock.local(first.starts_at) == datetime(2026, 12, 2, 8, 30, tzinfo=Clock.local(clock.now).tzinfo)
    with pytest.raises(BookingError) as exc:
        book(session, PADRON, NORTE, this_afternoon, person(), now=clock.now)
    session.rollback()
    assert exc.value.errors == {"slot": "unavailable"} and count(session) == 0


@pytest.mark.parametrize("now, first_day", [
    ((2026, 12, 1, 8, 0), date(2026, 12, 2)),  # Tuesday: nothing today, from Wednesday
    ((2026, 12, 1, 23, 59), date(2026, 12, 2)),
    ((2026, 12, 11, 10, 0), date(2026, 12, 14)),  # Friday -> Monday
    ((2026, 12, 4, 10, 0), date(2026, 12, 9)),  # Friday, then a weekend and the 7th and 8th (holidays)
    ((2026, 12, 24, 9, 0), date(2026, 12, 28)),  # Christmas Eve: Christmas Day and the weekend are skipped
    ((2026, 12, 5, 12, 0), date(2026, 12, 9)),  # on a Saturday, too
], ids=["tuesday", "tuesday-night", "friday", "friday-before-holidays", "christmas-eve", "saturday"])
def test_next_working_day(session, now, first_day):
    clock = Clock.on(*now)
    pmr = procedure(session, PMR)
    assert pmr.next_working_day
    window = booking_window(session, pmr, clock.now)
    assert window.earliest == Clock.at(first_day.year, first_day.month, first_day.day)  # 00:00 Madrid
    p, o = ids(session, PMR, OAC)
    found = slots(session, p, o, clock.today(), first_day + timedelta(days=3), clock.now)
    assert found and Clock.local(found[0].starts_at).date() == first_day
    assert Clock.wall(found[0].starts_at).isoformat() == "09:00:00"
    if Clock.local(clock.now).hour < 12 and clock.today().weekday() < 5:  # today still has open desks...
        later_today = Clock.at(*clock.today().timetuple()[:3], 13, 0)
        with pytest.raises(BookingError) as exc:
            book(session, PMR, OAC, later_today, person(), now=clock.now)
        session.rollback()
        assert exc.value.errors == {"slot": "unavailable"}
        pmr.next_working_day = False  # ...which only the rule closes (the 2-hour notice would not)
        session.add(pmr)
        session.commit()
        assert find_slot(session, p, o, later_today, clock.now) is not None


def test_buffer_spaces_the_starts(session, clock):
    social = procedure(session, SOCIAL)
    assert (social.duration_minutes, social.buffer_minutes) == (30, 10)
    p, o = ids(session, SOCIAL, CSSU)
    day = date(2026, 12, 2)
    found = slots(session, p, o, day, day, clock.now)
    assert [t.strftime("%H:%M") for t in local_starts(found)] == [
        "09:00", "09:40", "10:20", "11:00", "11:40", "12:20", "13:00"]  # closes 13:30: the last one fits
    gaps = {b.starts_at - a.starts_at for a, b in itertools.pairwise(found)}
    assert gaps == {timedelta(minutes=40)}
    assert find_slot(session, p, o, clock.at(2026, 12, 2, 9, 30), clock.now) is None
    appt = book(session, SOCIAL, CSSU, clock.at(2026, 12, 2, 9, 40), person(document=""), now=clock.now)
    session.commit()
    assert appt.seat == 1


def clave_window(session, clock: Clock):
    return booking_window(session, procedure(session, CLAVE), clock.now)


def clave_last_day(session, clock: Clock, office=OAC) -> date:
    p, o = ids(session, CLAVE, office)
    found = slots(session, p, o, clock.today(), clock.today() + timedelta(days=60), clock.now)
    return Clock.local(found[-1].starts_at).date()


def test_release_at_eight_madrid_on_working_days(session):
    clave = procedure(session, CLAVE)
    assert (clave.release_days_ahead, clave.release_hour) == (28, 8)
    before, at_eight = Clock.on(2026, 12, 1, 7, 59), Clock.on(2026, 12, 1, 8, 0)  # Tuesday, winter (UTC+1)
    assert at_eight.now == datetime.fromisoformat("2026-12-01T07:00:00+00:00")
    w_before, w_after = clave_window(session, before), clave_window(session, at_eight)
    assert w_before.last == date(2026, 12, 28) and w_after.last == date(2026, 12, 29)
    assert w_before.last == w_after.last - timedelta(days=1)  # released by Monday's batch, then Tuesday's
    assert w_before.next_release == at_eight.now  # today at 08:00 Madrid = 07:00 UTC
    assert w_after.next_release == Clock.at(2026, 12, 2, 8, 0)  # tomorrow
    assert clave_last_day(session, before) == date(2026, 12, 28)
    assert clave_last_day(session, at_eight) == date(2026, 12, 29)
    p, o = ids(session, CLAVE, OAC)
    new_day = Clock.at(2026, 12, 29, 9, 0)
    assert find_slot(session, p, o, new_day, before.now) is None
    assert find_slot(session, p, o, new_day, at_eight.now) is not None
    with pytest.raises(BookingError) as exc:
        book(session, CLAVE, OAC, new_day, person(), now=before.now)
    session.rollback()
    assert exc.value.errors == {"slot": "unavailable"}
    assert book(session, CLAVE, OAC, new_day, person(), now=at_eight.now).seat == 1
    session.commit()


def test_nothing_new_opens_on_weekends_and_holidays(session):
    friday = clave_window(session, Clock.on(2026, 12, 4, 8, 0))
    assert friday.last == date(2027, 1, 1)
    # Saturday, Sunday, and the holidays of Monday 7 and Tuesday 8: the same last day, whatever the hour.
    for moment in [(2026, 12, 5, 7, 59), (2026, 12, 5, 8, 0), (2026, 12, 6, 23, 59), (2026, 12, 7, 8, 0),
                   (2026, 12, 8, 12, 0), (2026, 12, 9, 7, 59)]:
        window = clave_window(session, Clock.on(*moment))
        assert window.last == friday.last, moment
        assert window.next_release == Clock.at(2026, 12, 9, 8, 0), moment
    assert friday.next_release == Clock.at(2026, 12, 9, 8, 0)
    assert clave_window(session, Clock.on(2026, 12, 9, 8, 0)).last == date(2027, 1, 6)


@pytest.mark.parametrize("day, utc_hour, previous_last", [
    (date(2027, 3, 29), 6, date(2027, 4, 21)),  # Monday after the spring change (CEST, UTC+2); 25-26 March holidays
    (date(2026, 10, 26), 7, date(2026, 11, 20)),  # Monday after the autumn change (CET, UTC+1)
], ids=["spring", "autumn"])
def test_release_follows_madrid_wall_time_on_daylight_saving_days(session, day, utc_hour, previous_last):
    y, m, d = day.year, day.month, day.day
    release = datetime(y, m, d, utc_hour, 0, tzinfo=Clock.at(y, m, d).tzinfo)
    assert Clock.at(y, m, d, 8, 0) == release  # 08:00 Madrid is 06:00 UTC in summer, 07:00 UTC in winter
    just_before, at_release = Clock(release - timedelta(minutes=1)), Clock(release)
    assert Clock.wall(just_before.now).strftime("%H:%M") == "07:59"
    w_before, w_after = clave_window(session, just_before), clave_window(session, at_release)
    assert w_before.last == previous_last
    assert w_after.last == day + timedelta(days=28)
    assert w_before.next_release == release and w_after.next_release == Clock.at(y, m, d + 1, 8, 0)
    # An hour off either way would be wrong: 08:00 UTC is already past it, one hour earlier is not yet.
    assert clave_window(session, Clock(release - timedelta(hours=1) + timedelta(minutes=30))).last == previous_last
    assert clave_window(session, Clock(release + timedelta(minutes=30))).last == w_after.last
    assert clave_last_day(session, just_before) == previous_last
    assert clave_last_day(session, at_release) == w_after.last


def test_next_release_across_the_daylight_saving_change(session):
    # Wednesday 24 March 2027 at 08:00 (CET): then Holy Thursday, Good Friday and the weekend of the change.
    window = clave_window(session, Clock.on(2027, 3, 24, 8, 0))
    assert window.last == date(2027, 4, 21)
    assert window.next_release == datetime.fromisoformat("2027-03-29T06:00:00+00:00")  # 08:00 CEST
    autumn = clave_window(session, Clock.on(2026, 10, 23, 8, 0))  # Friday before the autumn change (CEST)
    assert autumn.next_release == datetime.fromisoformat("2026-10-26T07:00:00+00:00")  # 08:00 CET


def test_availability_tells_the_next_release(api, engine):
    with Session(engine) as s:
        window = booking_window(s, procedure(s, CLAVE))
    for lang in ("es", "en"):
        data = availability(api, CLAVE, OAC, lang)
        release = datetime.fromisoformat(data["next_release"])
        assert release == window.next_release and (release.hour, release.minute) == (8, 0)
        assert data["horizon"] == window.last.isoformat()
        assert data["days"][-1]["date"] <= data["horizon"]
        assert data["next_release_label"] == gettext(lang, RELEASE).format(
            day=long_day_label(release.date(), lang), time=time_label(release, lang))
        assert "08:00" in data["next_release_label"]
    assert availability(api, CLAVE, OAC, "en")["next_release_label"].startswith("New days open every working day")
    padron = availability(api, PADRON, NORTE)
    assert padron["next_release"] is None and padron["next_release_label"] == ""


# --- per-person limits ----------------------------------------------------------------------------------------


SAME_PERSON = ["12345678Z", "12345678-z", " 12.345.678 Z", "12 345 678 z"]


def test_person_key_is_a_keyed_hash_of_the_normalised_document():
    key0 = fairness.person_key(DNI)
    assert {fairness.person_key(typed) for typed in SAME_PERSON} == {key0}
    assert len(key0) == 32 and all(c in "0123456789abcdef" for c in key0)
    assert "12345678" not in key0 and DNI.lower() not in key0
    assert key0 == fairness.keyed("person", DNI) == fairness.person_key(DNI)  # stable for the same secret
    assert key0 not in (hashlib.sha256(DNI.encode()).hexdigest()[:32],
                        hashlib.sha256(f"person:{DNI}".encode()).hexdigest()[:32])  # not a plain hash either
    assert fairness.person_key(dni(1)) != key0 and fairness.person_key("") == "" and fairness.person_key(None) == ""
    # An old DNI typed without its leading zero is the same person as the padded number the booking stores.
    assert fairness.person_key(dni(1234567)[1:]) == fairness.person_key(dni(1234567)) == fairness.person_key(
        "0" + dni(1234567)[1:-1] + "-" + dni(1234567)[-1].lower())
    assert fairness.client_key("203.0.113.5") != fairness.keyed("person", "203.0.113.5")  # kinds do not mix
    try:
        with pytest.MonkeyPatch.context() as m:
            override_settings(m, CITA_SECRET_KEY="another-installation")
            fairness.secret.cache_clear()
            other = fairness.person_key(DNI)
            assert other != key0 and other == fairness.person_key(" 12.345.678-z")
    finally:
        fairness.secret.cache_clear()
    assert fairness.person_key(DNI) == key0


def test_one_active_appointment_per_procedure_whatever_the_typing(session, clock, norte_slot, real_limits):
    first = book(session, PADRON, NORTE, norte_slot, person(document=SAME_PERSON[0]), now=clock.now)
    session.commit()
    assert first.person_key == fairness.person_key(DNI) and DNI not in first.person_key
    for n, typed in enumerate(SAME_PERSON[1:]):
        with pytest.raises(BookingError) as exc:
            book(session, PADRON, OAC, clock.at(2026, 12, 3, 9, 0 + 20 * n), person(document=typed), now=clock.now)
        session.rollback()
        assert exc.value.errors == {"person": "limit_procedure"} and exc.value.alternatives == []
    assert count(session) == 1
    # Another person books the same procedure; the same person books another one.
    assert book(session, PADRON, NORTE, norte_slot, person(document=dni(5)), now=clock.now).seat == 2
    assert book(session, "plusvalia", OAC, clock.at(2026, 12, 3, 9, 0), person(document=SAME_PERSON[2]),
                now=clock.now).person_key == first.person_key
    session.commit()
    # A procedure allowing two active appointments per person.
    padron = procedure(session, PADRON)
    padron.max_active_per_person = 2
    session.add(padron)
    session.commit()
    assert book(session, PADRON, OAC, clock.at(2026, 12, 3, 9, 0), person(document=SAME_PERSON[3]), now=clock.now)
    session.commit()
    with pytest.raises(BookingError) as exc:
        book(session, PADRON, OAC, clock.at(2026, 12, 3, 9, 20), person(), now=clock.now)
    session.rollback()
    assert exc.value.errors == {"person": "limit_procedure"}


def test_at_most_three_active_appointments_in_all(session, clock, real_limits):
    taken = ["alta-padron", "plusvalia", "registro-general"]
    for n, slug in enumerate(taken):
        book(session, slug, OAC, clock.at(2026, 12, 3, 9, 0), person(document=SAME_PERSON[n]), now=clock.now)
        session.commit()
    with pytest.raises(BookingError) as exc:
        book(session, "vado-permanente", OAC, clock.at(2026, 12, 3, 9, 0), person(document=SAME_PERSON[3]),
             now=clock.now)
    session.rollback()
    assert exc.value.errors == {"person": "limit_total"}
    town = session.exec(select(Municipality)).one()
    town.max_active_per_person = 4
    session.add(town)
    session.commit()
    assert book(session, "vado-permanente", OAC, clock.at(2026, 12, 3, 9, 0), person(), now=clock.now)
    session.commit()
    with pytest.raises(BookingError) as again:
        book(session, "tasa-residuos", OAC, clock.at(2026, 12, 3, 9, 0), person(), now=clock.now)
    session.rollback()
    assert again.value.errors == {"person": "limit_total"}
    assert count(session) == 4


def test_cancelled_and_past_appointments_do_not_count(session, clock, norte_slot, real_limits):
    first = book(session, PADRON, NORTE, norte_slot, person(), now=clock.now)
    session.commit()
    cancel(session, first, now=clock.now)
    session.commit()
    second = book(session, PADRON, NORTE, clock.at(2026, 12, 2, 11, 10), person(document="12345678-z"),
                  now=clock.now)
    session.commit()
    # Once its time has passed (whatever staff marked), it no longer blocks the next one.
    after = Clock.on(2026, 12, 3, 8, 0)
    for status in ("booked", "done", "no_show", "checked_in"):
        second.status = status
        session.add(second)
        session.commit()
        assert fairness.limit_reached(session, procedure(session, PADRON), second.person_key, after.now) is None
        assert fairness.limit_reached(session, procedure(session, PADRON), second.person_key, clock.now) == (
            "limit_procedure" if status in ("booked", "checked_in") else None), status
    third = book(session, PADRON, NORTE, after.at(2026, 12, 4, 10, 10), person(document=" 12.345.678 Z"),
                 now=after.now)
    session.commit()
    assert third.person_key == first.person_key == second.person_key


def test_the_api_refuses_a_second_booking_for_the_same_person(api, engine, real_limits):
    first, second = api_seats(api, 2)
    assert post_booking(api, first, "12345678Z").status_code == 201
    r = post_booking(api, second, " 12.345.678-z", lang="en")
    assert r.status_code == 422, r.text
    assert r.json()["codes"] == {"person": "limit_procedure"}
    assert r.json()["errors"]["person"] == gettext("en", ERRORS["limit_procedure"])
    assert count(engine) == 1


def _same_person_worker(url: str, start: str, now: str, worker: int, barrier, results):
    """One process booking the same person (typed its own way) on a slot of its own."""
    engine = make_engine(url)
    try:
        with Session(engine) as s:
            s.exec(select(func.count()).select_from(Procedure)).one()
            s.rollback()
        barrier.wait(timeout=60)
        with Session(engine, expire_on_commit=False) as s:
            at = datetime.fromisoformat(start) + timedelta(minutes=20 * worker)
            try:
                appt = book(s, PADRON, NORTE, at, person(document=SAME_PERSON[worker % len(SAME_PERSON)]),
                            now=datetime.fromisoformat(now))
                s.commit()
                results.put(("ok", appt.person_key))
            except BookingError as exc:
                s.rollback()
                results.put((exc.errors.get("person", repr(exc.errors)), None))
    except Exception as exc:  # noqa: BLE001  # pragma: no cover - reported to the parent
        results.put((f"crash: {exc!r}", None))
    finally:
        engine.dispose()


def race_same_person(bind, processes: int, clock: Clock) -> Counter:
    ctx = race_context()
    barrier, results = ctx.Barrier(processes), ctx.Queue()
    url = bind.url.render_as_string(hide_password=False)
    workers = [ctx.Process(target=_same_person_worker, args=(url, clock.at(2026, 12, 2, 9, 10).isoformat(),
                                                             clock.now.isoformat(), w, barrier, results))
               for w in range(processes)]
    for w in workers:
        w.start()
    answers = Counter(results.get(timeout=120)[0] for _ in workers)
    for w in workers:
        w.join(timeout=30)
    return answers


def test_processes_booking_the_same_person_at_once_get_one_appointment_on_sqlite(engine, clock, real_limits):
    answers = race_same_person(engine, 4, clock)
    assert answers == Counter({"ok": 1, "limit_procedure": 3}), answers
    assert count(engine, Appointment, Appointment.person_key == fairness.person_key(DNI)) == 1


def test_processes_booking_the_same_person_at_once_get_one_appointment_on_postgresql(pg_engine, clock):
    """Six requests for one person on six different slots at the same moment: the per-person limit holds (it did
    not before booking.lock_person: each saw no active appointment and all six were stored)."""
    set_limits(pg_engine, 1, 3)
    try:
        answers = race_same_person(pg_engine, 6, clock)
        assert answers == Counter({"ok": 1, "limit_procedure": 5}), answers
        assert count(pg_engine, Appointment, Appointment.person_key == fairness.person_key(DNI)) == 1
    finally:
        set_limits(pg_engine, 1000, 1000)  # as the other tests of this run expect (conftest.lift_person_limits)


# --- rate limits ----------------------------------------------------------------------------------------------


def test_booking_rate_limit_per_address(api, engine, backend, monkeypatch, real_limits):
    override_settings(monkeypatch, CITA_RATE_BOOKING="5/600")
    override_settings(monkeypatch, CITA_TRUSTED_PROXIES="127.0.0.1")
    seats = api_seats(api, 8)
    ip, other_ip = "198.51.100.7", "192.0.2.44"
    for n in range(5):
        r = post_booking(api, seats[n], dni(1000 + n), ip=ip)
        assert r.status_code == 201, r.text
    refused = post_booking(api, seats[5], dni(1005), ip=ip, lang="en")
    assert refused.status_code == 429, refused.text
    wait = int(refused.headers["retry-after"])
    assert 590 <= wait <= 600  # until the first of the five leaves the 10-minute window
    assert refused.json()["codes"] == {"rate": "rate_limited"}
    # Why and until when, in the citizen's language (here the window ends 10 minutes after the first booking).
    assert refused.json()["errors"]["rate"].startswith(gettext("en", ERRORS["rate_connection"]))
    assert re.search(r"You can try again at \d\d:\d\d \(in 10 min\)\.$", refused.json()["errors"]["rate"])
    spanish = post_booking(api, seats[5], dni(1005), ip=ip)
    assert spanish.status_code == 429 and spanish.json()["errors"]["rate"].startswith(
        gettext("es", ERRORS["rate_connection"]))
    assert spanish.json()["errors"]["rate"] != refused.json()["errors"]["rate"]
    # A forged X-Forwarded-For entry does not help: only the one our proxy appended counts.
    forged = post_booking(api, seats[5], dni(1005), ip=f"10.9.8.7, {ip}")
    assert forged.status_code == 429
    # Another address still books.
    assert post_booking(api, seats[5], dni(1006), ip=other_ip).status_code == 201
    assert count(engine) == 6


def test_booking_rate_limit_per_person(api, engine, backend, monkeypatch, real_limits):
    override_settings(monkeypatch, CITA_RATE_BOOKING_PERSON="2/3600")
    override_settings(monkeypatch, CITA_TRUSTED_PROXIES="127.0.0.1")
    seats = api_seats(api, 5)
    assert post_booking(api, seats[0], "12345678Z", ip="192.0.2.1").status_code == 201
    # Refused tries (one active appointment per procedure) are no bookings made: they never count.
    for n in range(3):
        again = post_booking(api, seats[1], "12345678-z", ip=f"192.0.2.{2 + n}")
        assert again.status_code == 422 and again.json()["codes"] == {"person": "limit_procedure"}
    set_limits(engine, 3, 3)
    assert post_booking(api, seats[1], " 12.345.678 Z", ip="192.0.2.5").status_code == 201
    # The third booking within the hour, typed another way from another address: the keyed document's bucket.
    third = post_booking(api, seats[2], "12345678z", ip="192.0.2.6", lang="en")
    assert third.status_code == 429 and third.json()["codes"] == {"rate": "rate_limited"}
    assert int(third.headers["retry-after"]) > 3500
    assert third.json()["errors"]["rate"].startswith(gettext("en", ERRORS["rate_person"]))
    assert "(in 60 min)" in third.json()["errors"]["rate"]
    # Without the leading zero of an old DNI it is the same person too.
    old = dni(1234567)
    assert post_booking(api, seats[2], old[1:], ip="192.0.2.4").status_code == 201
    assert post_booking(api, seats[3], old, ip="192.0.2.5").status_code == 201
    assert post_booking(api, seats[3], old[1:], ip="192.0.2.6").status_code == 429
    assert post_booking(api, seats[4], dni(77), ip="192.0.2.3").status_code == 201  # another person: fine
    assert count(engine) == 5


def test_a_citizen_who_loses_times_in_a_rush_still_books_but_rapid_repeats_are_stopped(api, engine, backend,
                                                                                       monkeypatch, real_limits):
    """Times taken just before the citizen (409) are no bookings made: with the real limits, the citizen loses
    four and books the fifth (before, the fifth try met the limit of four an hour). A script repeating fast from one address meets the per-minute limit."""
    override_settings(monkeypatch, CITA_TRUSTED_PROXIES="127.0.0.1")
    override_settings(monkeypatch, CITA_RATE_BOOKING=None, CITA_RATE_BOOKING_PERSON=None, CITA_RATE_BOOKING_BURST=None)
    days = availability(api, PADRON, NORTE)["days"][1:]
    slots = [s for d in days for s in d["slots"] if s["free"] > 0]
    taken, free = [s["start"] for s in slots[:4]], slots[4]["start"]
    others = itertools.count(500)
    for s in slots[:4]:  # someone else is quicker each time
        for _ in range(s["free"]):
            n = next(others)
            assert post_booking(api, s["start"], dni(n), ip=f"192.0.2.{n % 250}").status_code == 201
    for start in taken:
        lost = post_booking(api, start, DNI, ip="198.51.100.1")
        assert lost.status_code == 409, lost.text
    assert post_booking(api, free, DNI, ip="198.51.100.1").status_code == 201
    # Rapid repeats: past the per-minute limit of tries from one address, whatever they were, refused.
    override_settings(monkeypatch, CITA_RATE_BOOKING_BURST="5/60")
    answers = [post_booking(api, taken[0], dni(900 + n), ip="198.51.100.2", lang="en") for n in range(6)]
    assert [a.status_code for a in answers] == [409] * 5 + [429]
    assert answers[-1].json()["errors"]["rate"].startswith(gettext("en", ERRORS["rate_burst"]))


# --- ALTCHA ---------------------------------------------------------------------------------------------------


def tampered(proof: str, **changes) -> str:
    data = json.loads(base64.b64decode(proof))
    return base64.b64encode(json.dumps({**data, **changes}).encode()).decode()


def test_bookings_need_a_fresh_proof_of_work(api, engine):
    assert get_settings().altcha
    seats = api_seats(api, 3)
    missing = post_booking(api, seats[0], DNI, key=key(), altcha=None)
    assert missing.status_code == 428 and missing.json()["codes"] == {"altcha": "challenge"}
    assert missing.json()["errors"]["altcha"] == gettext("es", ERRORS["challenge"])
    assert count(engine) == 0 and count(engine, IdempotencyRecord) == 0
    challenge = api.get("/api/v1/challenge")
    assert challenge.headers["cache-control"] == "no-store" and challenge.json()["algorithm"] == "SHA-256"

    proof, first_key = solve_challenge(api), key()
    first = post_booking(api, seats[0], DNI, key=first_key, altcha=proof)
    assert first.status_code == 201, first.text
    replayed = post_booking(api, seats[1], dni(3), key=key(), altcha=proof)
    assert replayed.status_code == 428 and replayed.json()["codes"] == {"altcha": "challenge"}

    fresh = solve_challenge(api)
    number = json.loads(base64.b64decode(fresh))["number"]
    signature = json.loads(base64.b64decode(fresh))["signature"]
    forged_signature = signature[:-1] + ("0" if signature[-1] != "0" else "1")
    for bad in (tampered(fresh, number=number + 1), tampered(fresh, signature=forged_signature),
                tampered(fresh, number=str(number) + "0"), "not base64 at all", base64.b64encode(b"[]").decode()):
        r = post_booking(api, seats[1], dni(3), key=key(), altcha=bad)
        assert r.status_code == 428, (bad, r.text)
    assert count(engine) == 1
    # The failed attempts did not burn the genuine proof.
    assert post_booking(api, seats[1], dni(3), key=key(), altcha=fresh).status_code == 201

    # The same Idempotency-Key again (a retry after a lost answer): no new proof needed, the first answer back.
    again = post_booking(api, seats[0], DNI, key=first_key, altcha=None)
    assert again.status_code == 201 and again.json() == first.json()
    assert count(engine) == 2 and count(engine, UsedChallenge) == 2


# --- the bot --------------------------------------------------------------------------------------------------


def test_a_booking_bot_is_stopped_and_a_citizen_still_books(api, engine, monkeypatch, real_limits):
    override_settings(monkeypatch, CITA_RATE_BOOKING="10/600")
    override_settings(monkeypatch, CITA_RATE_BOOKING_PERSON="4/3600")
    override_settings(monkeypatch, CITA_TRUSTED_PROXIES="127.0.0.1")
    bot_ip, citizen_ip = "203.0.113.66", "198.51.100.23"
    seats = api_seats(api, 201)
    since = datetime.now(Clock.at(2026, 1, 1).tzinfo) - timedelta(minutes=1)
    answered, eleventh = Counter(), threading.Event()
    lock = threading.Lock()

    def bot(n: int) -> int:
        status = post_booking(api, seats[n], dni(40_000_000 + n), ip=bot_ip, name=f"Bot {n}").status_code
        with lock:
            answered[status] += 1
            if sum(answered.values()) >= 11:
                eleventh.set()
        return status

    def citizen():
        eleventh.wait(timeout=30)  # the bot is being refused by now
        return post_booking(api, seats[200], "12345678Z", ip=citizen_ip)

    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=9) as pool:
        mine = pool.submit(citizen)
        statuses = list(pool.map(bot, range(200)))
        citizen_answer = mine.result()
    elapsed = time.perf_counter() - started
    stored_by_bot = count(engine, Appointment, Appointment.client_key == fairness.client_key(bot_ip))
    figures = Counter(statuses)
    print(f"\nbot: attempted={len(statuses)} stored={stored_by_bot} refused_429={figures[429]} "
          f"other={dict(figures - Counter({201: 10**6, 429: 10**6}))} elapsed={elapsed:.2f}s "
          f"({len(statuses) / elapsed:.0f} req/s); citizen from another address: {citizen_answer.status_code}")
    assert figures == Counter({201: 10, 429: 190})
    assert stored_by_bot == 10
    assert citizen_answer.status_code == 201, citizen_answer.text
    assert count(engine) == 11
    # The signals staff see: the bot's address (keyed) stands out; the citizen does not.
    with Session(engine) as s:
        busy = fairness.busy_clients(s, since)
    assert busy == [(fairness.client_key(bot_ip), 10)]
    assert fairness.client_key(bot_ip) != bot_ip and bot_ip not in busy[0][0]


# --- signals --------------------------------------------------------------------------------------------------


def test_busy_clients_count_holds_and_bookings(session, clock):
    since = clock.now - timedelta(minutes=1)
    script, person_a = fairness.client_key("203.0.113.9"), fairness.client_key("198.51.100.1")
    for minute in range(0, 160, 20):  # 8 holds on 8 slots
        booking.hold(session, PADRON, NORTE, clock.at(2026, 12, 2, 8, 30) + timedelta(minutes=minute),
                     client=script, now=clock.now)
    for n in range(2):
        book(session, PADRON, NORTE, clock.at(2026, 12, 3, 10, 10), person(document=dni(n)), now=clock.now,
             client=script)
    book(session, PADRON, NORTE, clock.at(2026, 12, 3, 10, 30), person(), now=clock.now, client=person_a)
    session.commit()
    assert fairness.busy_clients(session, since) == [(script, 10)]
    assert fairness.busy_clients(session, since, at_least=1) == [(script, 10), (person_a, 1)]
    assert fairness.busy_clients(session, clock.now + timedelta(minutes=1)) == []


def test_repeated_no_shows(session, clock, real_limits):
    since = clock.now - timedelta(days=30)
    missed = []
    for day, typed, proc in ((2, "12345678Z", PADRON), (3, "12345678-z", "plusvalia")):
        office = NORTE if proc == PADRON else OAC
        missed.append(book(session, proc, office, clock.at(2026, 12, day, 10, 10 if proc == PADRON else 0),
                           person(document=typed), now=clock.now))
    once = book(session, PADRON, NORTE, clock.at(2026, 12, 2, 10, 10), person(document=dni(9)), now=clock.now)
    came = book(session, "plusvalia", OAC, clock.at(2026, 12, 4, 10, 0), person(document=dni(10)), now=clock.now)
    for appt in [*missed, once]:
        appt.status = "no_show"
        session.add(appt)
    came.status = "done"
    session.add(came)
    session.commit()
    assert fairness.repeated_no_shows(session, since) == [(fairness.person_key(DNI), 2)]
    assert fairness.repeated_no_shows(session, since, at_least=1) == [
        (fairness.person_key(DNI), 2), (fairness.person_key(dni(9)), 1)]
    assert fairness.repeated_no_shows(session, clock.at(2026, 12, 3)) == []  # only one of them since the 3rd


# --- API helpers ----------------------------------------------------------------------------------------------


def availability(api, procedure=PADRON, office=NORTE, lang="es", **params) -> dict:
    r = api.get("/api/v1/availability", params={"procedure": procedure, "office": office, "lang": lang, **params})
    assert r.status_code == 200, r.text
    return r.json()


def api_seats(api, n: int, procedure=PADRON, office=NORTE, seats_per_slot: int = 1) -> list[str]:
    """`n` free seats (a slot's start once per free seat, or only slots with `seats_per_slot` free), from the
    second bookable day on, so that none falls inside the minimum notice while the test runs."""
    days = availability(api, procedure, office)["days"][1:]
    found = [s["start"] for d in days for s in d["slots"] if s["free"] >= seats_per_slot
             for _ in range(s["free"] if seats_per_slot == 1 else 1)]
    assert len(found) >= n
    return found[:n]


def free_at(api, start: str, procedure=PADRON, office=NORTE) -> int:
    data = availability(api, procedure, office, **{"from": start[:10], "to": start[:10]})
    return next(s["free"] for d in data["days"] for s in d["slots"] if s["start"] == start)


def post_booking(api, start: str, document: str, key: str | None = None, ip: str | None = None,
                 procedure=PADRON, office=NORTE, **changes):
    headers = {"Idempotency-Key": key} if key else {}
    if ip:
        headers["X-Forwarded-For"] = ip
    body = {"procedure": procedure, "office": office, "start": start, **person(document=document, **changes)}
    return api.post("/api/v1/appointments", json=body, headers=headers)


def test_two_requests_with_one_hold_on_postgresql_hand_its_seat_over_once(pg_engine, clock):
    """Two tabs of one device send their bookings with the same hold at the same moment: the held seat goes to
    one of them; the other is treated as a booking without a hold (another seat, or "taken"), never a crash."""
    start = clock.at(2026, 12, 2, 10, 30)
    with Session(pg_engine, expire_on_commit=False) as s:
        held = booking.hold(s, PADRON, NORTE, start, now=clock.now)
        s.commit()
    barrier, outcomes = threading.Barrier(2), []

    def tab(n: int) -> None:
        with Session(pg_engine, expire_on_commit=False) as s:
            barrier.wait()
            try:
                appt = book(s, PADRON, NORTE, start, person(name=f"Pestaña {n}", document=dni(880 + n)),
                            now=clock.now, hold_token=held.token)
                s.commit()
                outcomes.append(("booked", appt.seat))
            except BookingError as exc:
                s.rollback()
                outcomes.append(("refused", exc.errors))

    try:
        threads = [threading.Thread(target=tab, args=(n,)) for n in (1, 2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=60)
        assert len(outcomes) == 2, outcomes  # neither raised anything else
        seats = [seat for kind, seat in outcomes if kind == "booked"]
        assert held.seat in seats and len(seats) == len(set(seats))
        with Session(pg_engine) as s:
            assert s.exec(select(func.count()).select_from(Hold).where(Hold.token == held.token)).one() == 0
    finally:
        with Session(pg_engine) as s:
            s.exec(delete(Appointment).where(Appointment.starts_at == start))
            s.exec(delete(Hold))
            s.commit()
