"""Booking, cancelling and rescheduling: seats, alternatives, validation, look-up, concurrency across processes
(SQLite and PostgreSQL) and idempotency."""

import multiprocessing
from collections import Counter
from datetime import date, datetime, time, timedelta

import pytest
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, delete, func, select

from pwa_app.appointments import booking
from pwa_app.appointments.booking import BookingError, book, cancel, find, reschedule
from pwa_app.appointments.slots import find_slot
from pwa_app.common import codes
from pwa_app.common.idempotency import KeyReused, request_hash, run_once, valid_key
from pwa_app.db import make_engine
from pwa_app.models import Appointment, IdempotencyRecord, Office, Procedure, Schedule
from tests.unit.conftest import override_settings

OAC, NORTE, CSSU = "oac-casa-consistorial", "junta-distrito-norte", "centro-servicios-sociales-urbanismo"
PADRON = "alta-padron"  # 20-minute slots; 2 desks at the North district board, 3 at the OAC
DNI = "12345678Z"


def person(**changes) -> dict:
    raw = {"name": "Ana García López", "document": DNI, "phone": "612 345 678", "email": "ana@example.com",
           "consent": True, "lang": "es"}
    return {**raw, **changes}


def count(session, *where) -> int:
    return session.exec(select(func.count()).select_from(Appointment).where(*where)).one()


def ids(session, procedure: str, office: str) -> tuple[int, int]:
    p = session.exec(select(Procedure).where(Procedure.slug == procedure)).one()
    o = session.exec(select(Office).where(Office.slug == office)).one()
    return p.id, o.id


def slot_of(session, start, clock, procedure=PADRON, office=NORTE):
    p, o = ids(session, procedure, office)
    return find_slot(session, p, o, start, clock.now)


@pytest.fixture
def norte_slot(session, clock):
    """Wednesday 2 December 2026, 10:10 at the North district board: a seeded schedule of capacity 2."""
    start = clock.at(2026, 12, 2, 10, 10)
    p, o = ids(session, PADRON, NORTE)
    sched = session.exec(select(Schedule).where(Schedule.office_id == o, Schedule.procedure_id == p,
                                                Schedule.weekday == 2)).one()
    assert sched.capacity == 2 and sched.opens <= time(10, 10) < sched.closes
    session.rollback()
    return start


def book_ok(session, start, clock, office=NORTE, procedure=PADRON, **changes) -> Appointment:
    appt = book(session, procedure, office, start, person(**changes), now=clock.now)
    session.commit()
    return appt


# --- seats ----------------------------------------------------------------------------------------------------


def test_booking_takes_a_seat(session, clock, norte_slot):
    appt = book_ok(session, norte_slot, clock)
    assert appt.id and appt.seat == 1 and appt.status == "booked"
    assert appt.starts_at == norte_slot
    assert codes.normalize_code(appt.code) == appt.code and len(appt.code) == 10
    assert (appt.name, appt.document, appt.phone, appt.email) == ("Ana García López", DNI, "612345678",
                                                                 "ana@example.com")
    stored = session.exec(select(Appointment)).one()
    assert stored.starts_at == norte_slot and stored.starts_at.tzinfo is not None
    slot = slot_of(session, norte_slot, clock)
    assert (slot.capacity, slot.taken, slot.free) == (2, 1, 1)


def test_name_is_tidied_and_document_normalised(session, clock, norte_slot):
    appt = book_ok(session, norte_slot, clock, name="  Ana   García ", document="12.345.678-z")
    assert appt.name == "Ana García" and appt.document == DNI


def test_full_slot_refuses_with_alternatives_nearest_first(session, clock, norte_slot):
    first, second = book_ok(session, norte_slot, clock), book_ok(session, norte_slot, clock)
    assert {first.seat, second.seat} == {1, 2}
    with pytest.raises(BookingError) as exc:
        book(session, PADRON, NORTE, norte_slot, person(name="Tercera Persona"), now=clock.now)
    session.rollback()
    assert exc.value.errors == {"slot": "taken"}
    alts = exc.value.alternatives
    assert 1 <= len(alts) <= 5
    assert all(office.slug == NORTE for office, _ in alts)  # the same office has enough free times
    distances = [abs(s.starts_at - norte_slot) for _, s in alts]
    assert distances == sorted(distances) and distances[0] == timedelta(minutes=20)
    assert norte_slot not in {s.starts_at for _, s in alts}
    assert all(s.free > 0 for _, s in alts)
    assert count(session) == 2


def test_alternatives_same_office_first_then_others(session, clock, norte_slot):
    # The North board offers this procedure only on 2 December, 10:10 and 10:30.
    p, o = ids(session, PADRON, NORTE)
    session.exec(delete(Schedule).where(Schedule.office_id == o, Schedule.procedure_id == p))
    session.add(Schedule(office_id=o, procedure_id=p, weekday=2, opens=time(10, 10), closes=time(10, 50),
                         slot_minutes=20, capacity=2, valid_from=date(2026, 12, 2), valid_until=date(2026, 12, 2)))
    session.commit()
    book_ok(session, norte_slot, clock)
    book_ok(session, norte_slot, clock)
    with pytest.raises(BookingError) as exc:
        book(session, PADRON, NORTE, norte_slot, person(), now=clock.now)
    session.rollback()
    alts = [(office.slug, s.starts_at) for office, s in exc.value.alternatives]
    assert len(alts) == 5
    assert alts[0] == (NORTE, clock.at(2026, 12, 2, 10, 30))
    others = alts[1:]
    assert {slug for slug, _ in others} == {OAC}
    # OAC slots are on the hour and at :20/:40: 10:00 and 10:20 are 10 minutes away, then 9:40 and 10:40.
    assert [start for _, start in others] == [clock.at(2026, 12, 2, h, m) for h, m in
                                              ((10, 0), (10, 20), (9, 40), (10, 40))]


def test_cancel_frees_the_seat_at_once(session, clock, norte_slot):
    first, second = book_ok(session, norte_slot, clock), book_ok(session, norte_slot, clock)
    cancelled = cancel(session, first, now=clock.now)
    session.commit()
    assert cancelled.status == "cancelled" and cancelled.seat is None and cancelled.cancelled_at is not None
    assert slot_of(session, norte_slot, clock).free == 1
    third = book_ok(session, norte_slot, clock, name="Otra Persona")
    assert third.seat == first_seat_freed(first, second)
    assert count(session, Appointment.seat != None) == 2  # noqa: E711
    assert count(session) == 3
    # Cancelling twice changes nothing.
    again = cancel(session, cancelled, now=clock.now)
    session.commit()
    assert again.status == "cancelled" and count(session, Appointment.status == "cancelled") == 1


def first_seat_freed(first: Appointment, second: Appointment) -> int:
    return ({1, 2} - {second.seat}).pop()


def test_cannot_cancel_a_past_appointment(session, clock, norte_slot):
    appt = book_ok(session, norte_slot, clock)
    later = clock.moved(days=2)
    with pytest.raises(BookingError) as exc:
        cancel(session, appt, now=later.now)
    assert exc.value.errors == {"slot": "not_changeable"}
    session.rollback()
    assert session.get(Appointment, appt.id).status == "booked"


def test_reschedule_keeps_the_code_and_frees_the_old_seat(session, clock, norte_slot):
    appt = book_ok(session, norte_slot, clock)
    code = appt.code
    later = clock.at(2026, 12, 3, 11, 50)
    moved = reschedule(session, appt, NORTE, later, now=clock.now)
    session.commit()
    assert moved.code == code and moved.starts_at == later and moved.seat == 1
    assert slot_of(session, norte_slot, clock).free == 2
    assert slot_of(session, later, clock).taken == 1
    # To another office handling the procedure.
    oac_time = clock.at(2026, 12, 4, 9, 0)
    moved = reschedule(session, moved, OAC, oac_time, now=clock.now)
    session.commit()
    assert (moved.code, moved.starts_at) == (code, oac_time)
    assert slot_of(session, later, clock).taken == 0
    assert slot_of(session, oac_time, clock, office=OAC).taken == 1
    assert count(session) == 1
    # Rescheduling to the same time is a no-op.
    assert reschedule(session, moved, OAC, oac_time, now=clock.now).seat == moved.seat


def test_reschedule_into_a_full_slot_changes_nothing(session, clock, norte_slot):
    book_ok(session, norte_slot, clock)
    book_ok(session, norte_slot, clock)
    mine = book_ok(session, clock.at(2026, 12, 2, 11, 10), clock)
    with pytest.raises(BookingError) as exc:
        reschedule(session, mine, NORTE, norte_slot, now=clock.now)
    assert exc.value.errors == {"slot": "taken"} and exc.value.alternatives
    session.rollback()
    again = session.get(Appointment, mine.id)
    assert again.starts_at == clock.at(2026, 12, 2, 11, 10) and again.seat == 1
    with pytest.raises(BookingError) as bad_office:
        reschedule(session, again, CSSU, norte_slot, now=clock.now)
    assert bad_office.value.errors == {"office": "unknown_office"}
    session.rollback()


# --- refusals store nothing -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "procedure, office, when, expected",
    [
        (PADRON, NORTE, (2026, 11, 30, 10, 10), {"slot": "unavailable"}),  # the past
        (PADRON, NORTE, (2026, 12, 1, 9, 30), {"slot": "unavailable"}),  # within the 2-hour notice
        (PADRON, NORTE, (2026, 12, 8, 10, 10), {"slot": "unavailable"}),  # national holiday
        (PADRON, NORTE, (2026, 12, 14, 10, 10), {"slot": "unavailable"}),  # the office's closure
        (PADRON, NORTE, (2026, 12, 2, 15, 10), {"slot": "unavailable"}),  # after closing time
        (PADRON, NORTE, (2026, 12, 2, 8, 10), {"slot": "unavailable"}),  # before opening
        (PADRON, NORTE, (2026, 12, 2, 10, 15), {"slot": "unavailable"}),  # not a slot start
        (PADRON, NORTE, (2026, 12, 5, 10, 10), {"slot": "unavailable"}),  # Saturday
        (PADRON, NORTE, (2027, 2, 3, 10, 10), {"slot": "unavailable"}),  # beyond the horizon
        ("no-existe", NORTE, (2026, 12, 2, 10, 10), {"procedure": "unknown_procedure"}),
        ("volante-empadronamiento", NORTE, (2026, 12, 2, 10, 10), {"procedure": "unknown_procedure"}),  # no cita
        (PADRON, "no-existe", (2026, 12, 2, 10, 10), {"office": "unknown_office"}),
        (PADRON, CSSU, (2026, 12, 2, 10, 10), {"office": "unknown_office"}),  # office without this procedure
    ],
    ids=["past", "notice", "holiday", "closure", "after-hours", "before-hours", "off-grid", "weekend", "horizon",
         "unknown-procedure", "no-appointment-procedure", "unknown-office", "wrong-office"],
)
def test_refused_bookings_store_nothing(session, clock, procedure, office, when, expected):
    with pytest.raises(BookingError) as exc:
        book(session, procedure, office, clock.at(*when), person(), now=clock.now)
    session.rollback()
    assert exc.value.errors == expected
    assert count(session) == 0


def test_refused_booking_in_a_transaction_leaves_no_trace(session, clock, norte_slot):
    """A refusal after a successful booking in the same unit of work: the caller's rollback undoes it all."""
    book(session, PADRON, NORTE, norte_slot, person(), now=clock.now)
    with pytest.raises(BookingError):
        book(session, PADRON, NORTE, clock.at(2026, 12, 8, 10, 10), person(), now=clock.now)
    session.rollback()
    assert count(session) == 0


# --- the citizen's details ------------------------------------------------------------------------------------


def test_every_problem_is_reported_at_once(session, clock, norte_slot):
    raw = person(name="   ", document="12345678A", email="ana@", consent=False, phone="12")
    with pytest.raises(BookingError) as exc:
        book(session, PADRON, NORTE, norte_slot, raw, now=clock.now)
    session.rollback()
    assert exc.value.errors == {"name": "required", "document": "document_letter", "email": "email",
                                "consent": "consent", "phone": "phone"}
    assert exc.value.alternatives == []
    assert count(session) == 0


@pytest.mark.parametrize(
    "changes, errors",
    [
        ({"name": ""}, {"name": "required"}),
        ({"name": "A" * 101}, {"name": "too_long"}),
        ({"name": "Ana <script>alert(1)</script>"}, {"name": "chars"}),
        ({"name": "Ana {{7*7}}"}, {"name": "chars"}),
        ({"name": "Ana\x00"}, {"name": "chars"}),
        ({"document": "12345678A"}, {"document": "document_letter"}),
        ({"document": ""}, {"document": "required"}),
        ({"document": "12345678"}, {"document": "document_format"}),
        ({"consent": False}, {"consent": "consent"}),
        ({"consent": "no"}, {"consent": "consent"}),
        ({"email": "not-an-email"}, {"email": "email"}),
        ({"email": "a@b.es<script>"}, {"email": "email"}),
        ({"phone": "61234"}, {"phone": "phone"}),
    ],
)
def test_details_are_checked(session, clock, norte_slot, changes, errors):
    with pytest.raises(BookingError) as exc:
        book(session, PADRON, NORTE, norte_slot, person(**changes), now=clock.now)
    session.rollback()
    assert exc.value.errors == errors
    assert count(session) == 0


def test_valid_variants_are_accepted(session, clock, norte_slot):
    appt = book_ok(session, norte_slot, clock, name="María-José O'Neill Peña", document="X1234567L", email="",
                   phone="", consent="on")
    assert appt.document == "X1234567L" and appt.phone == "" and appt.email == ""
    assert booking.verifier_of(appt) == "567L"


def test_phone_needed_when_the_procedure_takes_no_document(session, clock):
    start = clock.at(2026, 12, 3, 9, 0)  # consulta-urbanistica (Tuesdays and Thursdays at the CSSU): no document
    with pytest.raises(BookingError) as exc:
        book(session, "consulta-urbanistica", CSSU, start, person(document="", phone=""), now=clock.now)
    session.rollback()
    assert exc.value.errors == {"phone": "phone_for_lookup"}
    assert count(session) == 0
    appt = book_ok(session, start, clock, procedure="consulta-urbanistica", office=CSSU, document="",
                   phone="+34 612 345 678")
    assert appt.document == "" and appt.phone == "+34612345678"
    assert booking.verifier_of(appt) == "5678"
    assert find(session, appt.code, "5678") is not None


def test_optional_document_is_checked_when_given(session, clock):
    start = clock.at(2026, 12, 3, 9, 0)
    with pytest.raises(BookingError) as exc:
        book(session, "consulta-urbanistica", CSSU, start, person(document="12345678A", phone=""), now=clock.now)
    session.rollback()
    assert exc.value.errors == {"document": "document_letter"}
    appt = book_ok(session, start, clock, procedure="consulta-urbanistica", office=CSSU, phone="")
    assert booking.verifier_of(appt) == "678Z"


# --- finding a booking ----------------------------------------------------------------------------------------


def test_find_needs_the_right_verifier(session, clock, norte_slot):
    appt = book_ok(session, norte_slot, clock)
    assert find(session, appt.code, "678Z").id == appt.id
    assert find(session, appt.code, "678z").id == appt.id
    assert find(session, appt.code, "12.345.678-Z").id == appt.id  # the whole document works too
    assert find(session, appt.code, "5678") is None  # the phone is not the verifier when there is a document
    assert find(session, appt.code, "678A") is None
    assert find(session, appt.code, "") is None
    assert find(session, appt.code, None) is None
    assert find(session, "ZZZZZZZZZZ", "678Z") is None
    assert find(session, "not a code!", "678Z") is None
    assert find(session, "", "678Z") is None


def test_find_accepts_typed_variants_of_the_code(session, clock, norte_slot):
    appt = book_ok(session, norte_slot, clock)
    appt.code = "0A1BC2DEF3"
    session.add(appt)
    session.commit()
    for typed in ("0A1BC2DEF3", "0a1bc2def3", "0A1BC-2DEF3", "oa1bc-2def3", "OAIBC 2DEF3", "0alBC-2dEF3",
                  codes.format_code("0A1BC2DEF3"), " 0a1bc - 2def3 "):
        found = find(session, typed, "678Z")
        assert found is not None and found.id == appt.id, typed


def test_find_never_opens_a_booking_without_a_verifier(session, clock, norte_slot):
    """A booking made at the desk may carry neither a document nor a phone: the code alone must not open it."""
    p, o = ids(session, PADRON, NORTE)
    session.add(Appointment(code="0A1BC2DEF3", procedure_id=p, office_id=o, starts_at=norte_slot, seat=1,
                            name="En ventanilla"))
    session.commit()
    for verifier in ("", "   ", "-", None):
        assert find(session, "0A1BC2DEF3", verifier) is None, verifier


# --- concurrency ----------------------------------------------------------------------------------------------


def _book_worker(url: str, procedure: str, office: str, start: str, now: str, attempts: int, barrier, results):
    """One process with its own engine trying to book the same slot `attempts` times."""
    engine = make_engine(url)
    outcome = []
    try:
        with Session(engine) as s:  # warm the connection before the race starts
            s.exec(select(func.count()).select_from(Procedure)).one()
            s.rollback()
        barrier.wait(timeout=60)
        for i in range(attempts):
            with Session(engine, expire_on_commit=False) as s:
                try:
                    appt = book(s, procedure, office, datetime.fromisoformat(start),
                                person(name=f"Persona {i}"), now=datetime.fromisoformat(now))
                    s.commit()
                    outcome.append(("ok", appt.seat))
                except BookingError as exc:
                    s.rollback()
                    outcome.append((exc.errors.get("slot", repr(exc.errors)), None))
                except IntegrityError:
                    s.rollback()
                    outcome.append(("integrity_error", None))
    except Exception as exc:  # pragma: no cover - reported to the parent
        outcome.append((f"crash: {exc!r}", None))
    finally:
        engine.dispose()
        results.put(outcome)


def race(url: str, processes: int, attempts: int, start: datetime, now: datetime,
         procedure=PADRON, office=NORTE) -> list:
    ctx = multiprocessing.get_context("spawn")
    barrier, results = ctx.Barrier(processes), ctx.Queue()
    workers = [ctx.Process(target=_book_worker, args=(url, procedure, office, start.isoformat(), now.isoformat(),
                                                      attempts, barrier, results)) for _ in range(processes)]
    for w in workers:
        w.start()
    outcomes = [item for _ in workers for item in results.get(timeout=120)]
    for w in workers:
        w.join(timeout=30)
        assert w.exitcode == 0
    return outcomes


def assert_two_booked(session, outcomes, start, attempts):
    kinds = Counter(kind for kind, _ in outcomes)
    assert kinds == Counter({"ok": 2, "taken": attempts - 2}), kinds
    assert sorted(seat for kind, seat in outcomes if kind == "ok") == [1, 2]
    stored = session.exec(select(Appointment).where(Appointment.starts_at == start)).all()
    assert len(stored) == 2 and sorted(a.seat for a in stored) == [1, 2]
    assert len({a.code for a in stored}) == 2


@pytest.fixture
def patient(monkeypatch):
    """Racing processes wait for the write lock as long as it takes: these tests are about over-booking and
    exactly-once, and a cold process on a busy test machine can hold the lock past the 2 s a request waits (a 503
    the outbox retries; tests/unit/test_busy_database.py)."""
    override_settings(monkeypatch, CITA_DB_BUSY_TIMEOUT="60")


@pytest.mark.slow
def test_processes_racing_on_sqlite_never_overbook(engine, clock, patient):
    start = clock.at(2026, 12, 2, 10, 10)
    with Session(engine) as s:
        p, o = ids(s, PADRON, NORTE)
        assert find_slot(s, p, o, start, clock.now).capacity == 2
    outcomes = race(engine.url.render_as_string(hide_password=False), 4, 5, start, clock.now)
    assert len(outcomes) == 20
    with Session(engine) as s:
        assert_two_booked(s, outcomes, start, 20)


@pytest.mark.slow
def test_processes_racing_on_postgresql_never_overbook(pg_engine, clock):
    start = clock.at(2026, 12, 2, 10, 10)
    with Session(pg_engine) as s:
        p, o = ids(s, PADRON, NORTE)
        assert find_slot(s, p, o, start, clock.now).capacity == 2
    outcomes = race(pg_engine.url.render_as_string(hide_password=False), 10, 2, start, clock.now)
    assert len(outcomes) == 20
    with Session(pg_engine) as s:
        assert_two_booked(s, outcomes, start, 20)


def test_postgresql_booking_cancel_reschedule(pg_engine, clock):
    """The same service code on PostgreSQL: aware datetimes round-trip and seats are reused."""
    start = clock.at(2026, 12, 2, 10, 10)
    with Session(pg_engine, expire_on_commit=False) as s:
        first, second = book_ok(s, start, clock), book_ok(s, start, clock)
        with pytest.raises(BookingError):
            book(s, PADRON, NORTE, start, person(), now=clock.now)
        s.rollback()
        cancel(s, first, now=clock.now)
        s.commit()
        third = book_ok(s, start, clock)
        assert third.seat == first_seat_freed(first, second)
        moved = reschedule(s, third, OAC, clock.at(2026, 12, 2, 10, 20), now=clock.now)
        s.commit()
        assert s.get(Appointment, moved.id).starts_at == clock.at(2026, 12, 2, 10, 20)
        assert find(s, third.code.lower(), "678z").id == third.id


# --- idempotency ----------------------------------------------------------------------------------------------


def booking_action(session, start, clock, **changes):
    def action():
        appt = book(session, PADRON, NORTE, start, person(**changes), now=clock.now)
        return 201, {"code": appt.code, "seat": appt.seat, "start": appt.starts_at.isoformat()}

    return action


def test_same_key_twice_books_once(session, clock, norte_slot):
    payload = {"procedure": PADRON, "office": NORTE, "start": norte_slot.isoformat(), **person()}
    first = run_once(session, "key-00000001", "book", payload, booking_action(session, norte_slot, clock))
    again = run_once(session, "key-00000001", "book", payload, booking_action(session, norte_slot, clock))
    assert first == again and first[0] == 201
    assert count(session) == 1
    record = session.get(IdempotencyRecord, "key-00000001")
    assert record.operation == "book" and record.status_code == 201
    assert record.request_hash == request_hash("book", payload)


def test_same_key_other_payload_is_refused(session, clock, norte_slot):
    payload = {"procedure": PADRON, "office": NORTE, "start": norte_slot.isoformat(), **person()}
    run_once(session, "key-00000002", "book", payload, booking_action(session, norte_slot, clock))
    other = {**payload, "name": "Otra Persona"}
    with pytest.raises(KeyReused):
        run_once(session, "key-00000002", "book", other, booking_action(session, norte_slot, clock, name="Otra"))
    session.rollback()
    with pytest.raises(KeyReused):  # the operation is part of the request too
        run_once(session, "key-00000002", "reschedule", payload, booking_action(session, norte_slot, clock))
    session.rollback()
    assert count(session) == 1


def test_without_key_every_call_runs(session, clock, norte_slot):
    payload = {"start": norte_slot.isoformat()}
    run_once(session, None, "book", payload, booking_action(session, norte_slot, clock))
    run_once(session, None, "book", payload, booking_action(session, norte_slot, clock))
    assert count(session) == 2
    assert session.exec(select(func.count()).select_from(IdempotencyRecord)).one() == 0


def test_failures_are_not_remembered(session, clock, norte_slot):
    book_ok(session, norte_slot, clock)
    book_ok(session, norte_slot, clock)
    payload = {"start": norte_slot.isoformat()}
    with pytest.raises(BookingError):
        run_once(session, "key-00000003", "book", payload, booking_action(session, norte_slot, clock))
    session.rollback()
    assert session.get(IdempotencyRecord, "key-00000003") is None
    # Once a seat is free, the same key can still succeed.
    cancel(session, session.exec(select(Appointment)).first(), now=clock.now)
    session.commit()
    status, body = run_once(session, "key-00000003", "book", payload, booking_action(session, norte_slot, clock))
    assert status == 201 and count(session, Appointment.seat != None) == 2  # noqa: E711


@pytest.mark.parametrize("key, ok", [(None, True), ("abcdefgh", True), ("A" * 64, True), ("abc", False),
                                     ("A" * 65, False), ("spaces not ok", False), ("semi;colon1", False)])
def test_valid_keys(key, ok):
    assert valid_key(key) is ok


@pytest.mark.slow
def test_processes_racing_with_the_same_key_book_once_on_postgresql(pg_engine, clock):
    # A slot of capacity 1: a racing repeat must get the first answer back, not "taken".
    start = clock.at(2026, 12, 2, 10, 0)
    with Session(pg_engine) as s:
        p, o = ids(s, "plusvalia", OAC)
        assert find_slot(s, p, o, start, clock.now).capacity == 1
    ctx = multiprocessing.get_context("spawn")
    n = 4
    barrier, results = ctx.Barrier(n), ctx.Queue()
    url = pg_engine.url.render_as_string(hide_password=False)
    workers = [ctx.Process(target=_same_key_worker, args=(url, "same-key-0001", start.isoformat(),
                                                           clock.now.isoformat(), barrier, results))
               for _ in range(n)]
    for w in workers:
        w.start()
    answers = [results.get(timeout=120) for _ in workers]
    for w in workers:
        w.join(timeout=30)
    assert all(status == 201 for status, _ in answers), answers
    assert len({body["code"] for _, body in answers}) == 1
    with Session(pg_engine) as s:
        assert count(s) == 1
        assert s.exec(select(func.count()).select_from(IdempotencyRecord)).one() == 1


def _same_key_worker(url, key, start, now, barrier, results):
    engine = make_engine(url)
    try:
        with Session(engine) as s:
            s.exec(select(func.count()).select_from(Procedure)).one()
            s.rollback()
        barrier.wait(timeout=60)
        with Session(engine, expire_on_commit=False) as s:
            payload = {"procedure": "plusvalia", "office": OAC, "start": start}

            def action():
                appt = book(s, "plusvalia", OAC, datetime.fromisoformat(start), person(),
                            now=datetime.fromisoformat(now))
                return 201, {"code": appt.code}

            try:
                results.put(run_once(s, key, "book", payload, action))
            except BookingError as exc:
                s.rollback()
                results.put((409, exc.errors))
    except Exception as exc:  # pragma: no cover - reported to the parent
        results.put((500, repr(exc)))
    finally:
        engine.dispose()


@pytest.mark.slow
def test_processes_racing_with_the_same_key_book_once_on_sqlite(engine, clock, patient):
    start = clock.at(2026, 12, 2, 10, 0)
    ctx = multiprocessing.get_context("spawn")
    n = 3
    barrier, results = ctx.Barrier(n), ctx.Queue()
    url = engine.url.render_as_string(hide_password=False)
    workers = [ctx.Process(target=_same_key_worker, args=(url, "same-key-0002", start.isoformat(),
                                                           clock.now.isoformat(), barrier, results))
               for _ in range(n)]
    for w in workers:
        w.start()
    answers = [results.get(timeout=120) for _ in workers]
    for w in workers:
        w.join(timeout=30)
    assert all(status == 201 for status, _ in answers), answers
    assert len({body["code"] for _, body in answers}) == 1
    with Session(engine) as s:
        assert count(s) == 1
