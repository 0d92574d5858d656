"""Seats per channel (issue 26): a schedule keeps some seats of each slot for staff (phone and counter) until some
hours before the start. The web's answer, calendar and bookings leave them out until then, exactly; staff see and
take them. The clock is passed as `now`."""

import asyncio
import os
from datetime import timedelta

import pytest
from sqlmodel import select

from pwa_app.appointments import availability, booking
from pwa_app.appointments.booking import BookingError
from pwa_app.appointments.slots import TZ, find_slot
from pwa_app.models import Appointment, Municipality, ProcedureOffice, Schedule
from pwa_app.staff import counter, schedules, walk_in
from pwa_app.staff.permissions import Forbidden, StaffError
from pwa_app.staff.walk_in import WalkInError

from .test_availability import check, free_at
from .test_booking import NORTE, PADRON, book_ok, ids, norte_slot, person  # noqa: F401  (a fixture)
from .test_staff_services import OAC, office, viewers
from tests.unit.conftest import override_settings

OTHERS = ("00000000T", "12345678Z", "87654321X", "11111111H")  # documents of other people (one active each)


def keep_for_staff(session, seats: int = 1, hours: int = 24) -> None:
    """The North board's Wednesday padrón schedule (capacity 2) keeps `seats` for staff until `hours` before."""
    p, o = ids(session, PADRON, NORTE)
    sched = session.exec(select(Schedule).where(Schedule.office_id == o, Schedule.procedure_id == p,
                                                Schedule.weekday == 2)).one()
    sched.staff_seats, sched.staff_seats_hours = seats, hours
    session.add(sched)
    session.commit()


def staff_free(session, start, now, channel="phone") -> int:
    pair = availability.pair_of(session, PADRON, NORTE)
    day = start.astimezone(TZ).date()
    return next(s.free for s in availability.slots_between(session, pair, day, day, now, channel)
                if s.starts_at == start)


def notice_apart(session) -> None:
    """The notice moves the window at xx:x5, apart from the releases at xx:x0 (each is seen to end the answer)."""
    town = session.exec(select(Municipality)).one()
    town.min_notice_minutes = 125
    session.add(town)
    session.commit()


def test_kept_seats_are_left_out_of_the_web_answer_and_open_to_it_exactly_at_the_release(session, clock, norte_slot):
    notice_apart(session)
    assert free_at(check(session, clock.now), norte_slot) == 2
    keep_for_staff(session)
    opening = norte_slot - timedelta(hours=24)  # Tuesday 10:10
    assert free_at(check(session, clock.now), norte_slot) == 1  # check: the kept answer is the exact one
    assert staff_free(session, norte_slot, clock.now) == 2
    p, o = ids(session, PADRON, NORTE)
    assert find_slot(session, p, o, norte_slot, clock.now).free == 1
    assert find_slot(session, p, o, norte_slot, clock.now, channel="counter").free == 2
    minute_before = opening - timedelta(minutes=1)
    assert free_at(check(session, minute_before), norte_slot) == 1
    pair = availability.pair_of(session, PADRON, NORTE)
    kept = availability.answer(session, PADRON, NORTE, pair, "es", minute_before)
    assert kept.valid_until == opening  # the shared answer ends when the seats open, not a moment later
    assert free_at(check(session, opening), norte_slot) == 2
    assert staff_free(session, norte_slot, opening) == 2


def test_the_web_cannot_book_hold_or_move_onto_a_kept_seat_and_staff_can(session, clock, norte_slot):
    keep_for_staff(session)
    staff = booking.book(session, PADRON, NORTE, norte_slot, person(document=OTHERS[0]), now=clock.now,
                         channel="phone")
    session.commit()
    assert staff.seat == 2  # staff take the kept seat first, leaving the web's seat to the web
    assert free_at(check(session, clock.now), norte_slot) == 1
    web = book_ok(session, norte_slot, clock)
    assert web.seat == 1
    assert free_at(check(session, clock.now), norte_slot) == 0 and staff_free(session, norte_slot, clock.now) == 0
    booking.cancel(session, staff, now=clock.now)
    session.commit()
    assert free_at(check(session, clock.now), norte_slot) == 0  # the free seat is the staff's
    assert staff_free(session, norte_slot, clock.now) == 1
    with pytest.raises(BookingError) as refused:
        booking.book(session, PADRON, NORTE, norte_slot, person(document=OTHERS[1]), now=clock.now)
    assert refused.value.errors == {"slot": "taken"}
    assert refused.value.alternatives and norte_slot not in {s.starts_at for _, s in refused.value.alternatives}
    session.rollback()
    with pytest.raises(BookingError):
        booking.hold(session, PADRON, NORTE, norte_slot, now=clock.now)
    session.rollback()
    other = book_ok(session, norte_slot + timedelta(days=7), clock, document=OTHERS[2])
    with pytest.raises(BookingError):
        booking.reschedule(session, other, NORTE, norte_slot, now=clock.now)
    session.rollback()
    moved = booking.reschedule(session, other, NORTE, norte_slot, now=clock.now, channel="counter")
    session.commit()
    assert moved.seat == 2 and staff_free(session, norte_slot, clock.now) == 0


def test_once_released_the_web_books_the_seat_that_was_kept(session, clock, norte_slot):
    keep_for_staff(session, seats=2, hours=24)  # every seat kept
    opening = norte_slot - timedelta(hours=24)
    with pytest.raises(BookingError) as refused:
        booking.book(session, PADRON, NORTE, norte_slot, person(), now=opening - timedelta(seconds=1))
    assert refused.value.errors == {"slot": "taken"}
    session.rollback()
    assert book_ok(session, norte_slot, clock.moved(hours=3)).seat == 1  # Tuesday 11:00, after 10:10


def test_with_redis_the_kept_calendar_refuses_kept_seats_at_once_until_the_release(api, session, clock, norte_slot,
                                                                                   monkeypatch):
    """The rush's shortcut (no database): the calendar kept in the process, exact by the versions in Redis, shows
    the web no kept seat, and stops being used at the release moment."""
    import redis

    url = os.environ.get("CITA_TEST_REDIS_URL") or "redis://127.0.0.1:6379/9"
    redis.Redis.from_url(url).flushdb()
    monkeypatch.setattr(availability, "_redis_paused_until", 0.0)
    override_settings(monkeypatch, REDIS_URL=url)
    notice_apart(session)
    keep_for_staff(session)
    opening = norte_slot - timedelta(hours=24)
    now = opening - timedelta(minutes=1)
    booking.book(session, PADRON, NORTE, norte_slot, person(), now=now)  # the web's seat
    session.commit()
    availability.answer_for(session, PADRON, NORTE, "es", now)  # kept, the versions seeded in Redis
    cal = asyncio.run(availability.kept_calendar(PADRON, NORTE, now))
    assert cal is not None
    assert cal.by_start[norte_slot].free == 0 and cal.every_by_start[norte_slot].free == 1
    raw = person(document=OTHERS[1])
    refused = asyncio.run(booking.refusal_at_once(PADRON, NORTE, norte_slot, raw, now))
    assert refused is not None and refused.errors == {"slot": "taken"}
    before = opening - timedelta(seconds=1)
    assert asyncio.run(availability.kept_answer(PADRON, NORTE, "es", before)) is not None
    assert asyncio.run(availability.kept_answer(PADRON, NORTE, "es", opening)) is None
    assert asyncio.run(booking.refusal_at_once(PADRON, NORTE, norte_slot, raw, opening)) is None
    assert free_at(check(session, opening), norte_slot) == 1
    assert booking.book(session, PADRON, NORTE, norte_slot, raw, now=opening).seat == 2


def test_a_capacity_lowered_under_the_seats_in_use_leaves_the_web_and_staff_nothing(session, clock, norte_slot):
    p, o = ids(session, PADRON, NORTE)
    sched = session.exec(select(Schedule).where(Schedule.office_id == o, Schedule.procedure_id == p,
                                                Schedule.weekday == 2)).one()
    sched.capacity = 3
    session.add(sched)
    session.commit()
    first, *_ = [book_ok(session, norte_slot, clock, document=d) for d in OTHERS[:3]]  # seats 1, 2 and 3
    booking.cancel(session, first, now=clock.now)  # seat 1 free
    sched.capacity, sched.staff_seats = 2, 1  # two seats now, both in use (numbers 2 and 3)
    session.add(sched)
    session.commit()
    for channel in ("web", "phone"):  # before any calendar is kept: the check under the slot's lock
        with pytest.raises(BookingError):
            booking.book(session, PADRON, NORTE, norte_slot, person(), now=clock.now, channel=channel)
        session.rollback()
    assert free_at(check(session, clock.now), norte_slot) == 0 and staff_free(session, norte_slot, clock.now) == 0


# --- set in the schedules screen ------------------------------------------------------------------------------


def test_staff_seats_are_set_with_the_schedule_and_never_exceed_its_seats(session, clock):
    manager = viewers(session)["manager"]
    p, o = ids(session, PADRON, OAC)  # the manager's office
    form = {"office_id": o, "procedure_id": p, "weekday": 5, "opens": "10:00", "closes": "12:00",
            "slot_minutes": "20", "capacity": "2", "staff_seats": "3", "staff_seats_hours": "48"}
    with pytest.raises(StaffError) as refused:
        schedules.save_schedule(session, manager, None, form)
    assert refused.value.errors == {"staff_seats": "more_than_capacity"}
    session.rollback()
    row = schedules.save_schedule(session, manager, None, {**form, "staff_seats": "1"})
    session.commit()
    assert (row.staff_seats, row.staff_seats_hours) == (1, 48)
    saturday = clock.at(2026, 12, 5, 10, 0)
    assert find_slot(session, p, o, saturday, clock.now).free == 1  # Thursday 10:00 it opens to the web
    assert find_slot(session, p, o, saturday, clock.on(2026, 12, 3, 10, 0).now).free == 2
    plain = schedules.save_schedule(session, manager, row.id, {k: v for k, v in form.items()
                                                               if not k.startswith("staff_")})
    assert (plain.staff_seats, plain.staff_seats_hours) == (0, 24)  # blank: none kept


# --- the walk-in quota ----------------------------------------------------------------------------------------


def test_the_queue_refuses_a_walk_in_ticket_past_the_offices_daily_quota(session, clock):
    v = viewers(session)
    oac = office(session).id
    with pytest.raises(Forbidden):
        walk_in.set_quota(session, v["desk"], oac, "2")  # a desk clerk cannot set it
    with pytest.raises(WalkInError) as wrong:
        walk_in.set_quota(session, v["manager"], oac, "-1")
    assert wrong.value.errors == {"walk_in_quota": "range"}
    versions = session.exec(select(ProcedureOffice.grid_version).where(ProcedureOffice.office_id == oac)).all()
    walk_in.set_quota(session, v["manager"], oac, "2")
    session.commit()
    assert session.exec(select(ProcedureOffice.grid_version).where(ProcedureOffice.office_id == oac)).all() == \
        versions  # no availability shows the quota: the office's answers stay
    labels = [walk_in.issue(session, v["desk"], oac, None, now=clock.now).label for _ in range(2)]
    session.commit()
    assert labels == ["A001", "A002"]
    with pytest.raises(WalkInError) as full:
        walk_in.issue(session, v["desk"], oac, None, now=clock.now)
    assert full.value.errors == {"office": "walk_in_quota"}
    session.rollback()
    view = walk_in.desk_view(session, v["desk"], oac, 1, now=clock.now)
    assert (view["walk_ins"], view["quota"]) == (2, 2)
    assert walk_in.issue(session, v["desk"], oac, None, now=clock.moved(days=1).now).label == "A001"  # a new day
    walk_in.set_quota(session, v["admin"], oac, "")  # blank: no quota
    assert walk_in.issue(session, v["desk"], oac, None, now=clock.now).label == "A003"


# --- with the desk's booking and the visits of several people -------------------------------------------------


def test_a_family_on_the_web_cannot_take_kept_seats_and_at_the_desk_can(session, clock, norte_slot):
    keep_for_staff(session)  # capacity 2, one kept
    family = [{"name": "Hija Romero", "document": OTHERS[0]}]
    with pytest.raises(BookingError):
        booking.book(session, PADRON, NORTE, norte_slot, person(people=family), now=clock.now)
    session.rollback()
    appt = booking.book(session, PADRON, NORTE, norte_slot, person(people=family), now=clock.now, channel="phone")
    session.commit()
    seats = session.exec(select(Appointment.seat).where(Appointment.starts_at == norte_slot,
                                                        Appointment.seat != None)).all()  # noqa: E711
    assert appt.seat == 2 and sorted(seats) == [1, 2]


def test_the_desk_sees_and_moves_onto_the_seats_kept_for_it(session, clock, norte_slot):
    keep_for_staff(session)
    v = viewers(session)
    web = book_ok(session, norte_slot, clock)  # the web's seat: the slot is full for the web
    assert free_at(check(session, clock.now), norte_slot) == 0
    norte_admin = v["admin"]  # every office
    times = counter.free_times(session, norte_admin, PADRON, NORTE, norte_slot.astimezone(TZ).date(), clock.now)
    assert next(t["free"] for t in times if t["start"] == norte_slot.isoformat()) == 1
    other = book_ok(session, norte_slot + timedelta(days=7), clock, document=OTHERS[3])
    with pytest.raises(BookingError):  # the citizen moving it
        booking.reschedule(session, other, NORTE, norte_slot, now=clock.now)
    session.rollback()
    moved = counter.move(session, norte_admin, other.id, norte_slot, clock.now)
    session.commit()
    assert moved.seat == 2 and web.seat == 1
