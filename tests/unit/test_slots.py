"""Slots from weekly schedules in Madrid wall time: counts, length, capacity, closures, the booking window and
daylight-saving days."""

from datetime import date, time, timedelta, timezone
from itertools import pairwise
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import select

from pwa_app.appointments import slots as slots_service
from pwa_app.appointments.slots import local_to_utc, slots
from pwa_app.models import Appointment, Office, Procedure, Schedule

OAC, NORTE, CSSU = "oac-casa-consistorial", "junta-distrito-norte", "centro-servicios-sociales-urbanismo"
MADRID, UTC = ZoneInfo("Europe/Madrid"), timezone.utc


def ids(session, procedure: str, office: str) -> tuple[int, int]:
    p = session.exec(select(Procedure).where(Procedure.slug == procedure)).one()
    o = session.exec(select(Office).where(Office.slug == office)).one()
    return p.id, o.id


def day_slots(session, procedure, office, day: date, clock):
    p, o = ids(session, procedure, office)
    return slots(session, p, o, day, day, now=clock.now)


def walls(found) -> list[str]:
    return [wall(s.starts_at).strftime("%H:%M") for s in found]


def wall(moment) -> time:
    return moment.astimezone(MADRID).time()


# --- schedules ------------------------------------------------------------------------------------------------


def test_weekday_slots_follow_the_schedule(session, clock):
    # Alta en el padrón at the OAC: 9:00-14:00 in 20-minute slots, 3 desks.
    found = day_slots(session, "alta-padron", OAC, date(2026, 12, 2), clock)  # Wednesday
    assert len(found) == 15
    assert walls(found)[0] == "09:00" and walls(found)[-1] == "13:40"
    assert all(b.starts_at - a.starts_at == timedelta(minutes=20) for a, b in pairwise(found))
    assert {(s.capacity, s.taken, s.free) for s in found} == {(3, 0, 3)}
    assert all(s.starts_at.tzinfo is not None and s.starts_at.utcoffset() == timedelta(0) for s in found)
    # Winter: 9:00 in Madrid is 8:00 UTC.
    assert found[0].starts_at == clock.at(2026, 12, 2, 9, 0) and found[0].starts_at.hour == 8


def test_thursday_afternoon_adds_slots(session, clock):
    found = day_slots(session, "alta-padron", OAC, date(2026, 12, 3), clock)  # Thursday: also 16:00-18:30
    assert len(found) == 15 + 7
    assert walls(found)[15:] == ["16:00", "16:20", "16:40", "17:00", "17:20", "17:40", "18:00"]


def test_other_office_has_its_own_hours_and_capacity(session, clock):
    found = day_slots(session, "alta-padron", NORTE, date(2026, 12, 2), clock)  # 8:30-14:30, 2 desks
    assert len(found) == 18
    assert walls(found)[0] == "08:30" and walls(found)[-1] == "14:10"
    assert {s.capacity for s in found} == {2}


def test_slot_length_comes_from_the_schedule(session, clock):
    found = day_slots(session, "cambio-domicilio-padron", OAC, date(2026, 12, 2), clock)  # 15-minute slots
    assert len(found) == 20
    assert found[1].starts_at - found[0].starts_at == timedelta(minutes=15)


def test_office_not_handling_the_procedure_has_no_slots(session, clock):
    assert day_slots(session, "alta-padron", CSSU, date(2026, 12, 2), clock) == []


def test_taken_seats_are_counted_and_cancelled_ones_are_not(session, clock):
    p, o = ids(session, "alta-padron", NORTE)
    start = clock.at(2026, 12, 2, 10, 10)
    session.add(Appointment(code="AAAAA11111", procedure_id=p, office_id=o, starts_at=start, seat=1, name="A"))
    session.add(Appointment(code="AAAAA22222", procedure_id=p, office_id=o, starts_at=start, seat=None,
                            status="cancelled", name="B"))
    session.commit()
    found = {s.starts_at: s for s in slots(session, p, o, date(2026, 12, 2), date(2026, 12, 2), now=clock.now)}
    assert (found[start].capacity, found[start].taken, found[start].free) == (2, 1, 1)
    assert found[start + timedelta(minutes=20)].taken == 0


def test_capacity_adds_up_when_two_schedules_overlap(session, clock):
    p, o = ids(session, "alta-padron", NORTE)
    session.add(Schedule(office_id=o, procedure_id=p, weekday=2, opens=time(10, 10), closes=time(10, 30),
                         slot_minutes=20, capacity=1))
    session.commit()
    found = {wall(s.starts_at): s.capacity
             for s in slots(session, p, o, date(2026, 12, 2), date(2026, 12, 2), now=clock.now)}
    assert found[time(10, 10)] == 3 and found[time(10, 30)] == 2


def test_valid_from_and_until_limit_a_schedule(session, clock):
    p, o = ids(session, "alta-padron", NORTE)
    session.add(Schedule(office_id=o, procedure_id=p, weekday=5, opens=time(10, 0), closes=time(11, 0),
                         slot_minutes=20, capacity=1, valid_from=date(2026, 12, 12), valid_until=date(2026, 12, 12)))
    session.commit()
    saturdays = [date(2026, 12, 5), date(2026, 12, 12), date(2026, 12, 19)]
    assert [len(slots(session, p, o, d, d, now=clock.now)) for d in saturdays] == [0, 3, 0]


# --- closed days ----------------------------------------------------------------------------------------------


def test_weekends_are_closed(session, clock):
    p, o = ids(session, "alta-padron", OAC)
    found = slots(session, p, o, date(2026, 12, 5), date(2026, 12, 6), now=clock.now)  # Saturday, Sunday
    assert found == []


@pytest.mark.parametrize("day", [date(2026, 12, 7), date(2026, 12, 8), date(2026, 12, 25), date(2027, 1, 1),
                                 date(2027, 1, 6)])
def test_public_holidays_close_every_office(session, clock, day):
    assert day.weekday() < 5
    for office in (OAC, NORTE):
        assert day_slots(session, "alta-padron", office, day, clock) == []


def test_office_closure_closes_only_that_office(session, clock):
    closed = date(2026, 12, 14)  # Monday: the North district board is closed for works
    assert day_slots(session, "alta-padron", NORTE, closed, clock) == []
    assert len(day_slots(session, "alta-padron", OAC, closed, clock)) == 15
    assert len(day_slots(session, "alta-padron", NORTE, closed + timedelta(days=7), clock)) == 18


def test_range_skips_closed_days(session, clock):
    p, o = ids(session, "alta-padron", NORTE)
    found = slots(session, p, o, date(2026, 12, 7), date(2026, 12, 18), now=clock.now)
    days = sorted({clock.local(s.starts_at).date() for s in found})
    assert days == [date(2026, 12, d) for d in (9, 10, 11, 15, 16, 17, 18)]
    assert [s.starts_at for s in found] == sorted(s.starts_at for s in found)


# --- the booking window ---------------------------------------------------------------------------------------


def test_no_slot_in_the_past(session, clock):
    assert day_slots(session, "alta-padron", OAC, date(2026, 11, 30), clock) == []


def test_no_slot_within_the_minimum_notice(session, clock):
    clock = clock.on(2026, 12, 1, 7, 50)  # Tuesday 7:50: the first bookable start is 9:50
    found = day_slots(session, "alta-padron", OAC, date(2026, 12, 1), clock)
    assert walls(found)[0] == "10:00"
    assert len(found) == 12
    assert all(s.starts_at >= clock.now + timedelta(minutes=120) for s in found)
    # Exactly at the notice limit is still bookable.
    at_limit = clock.on(2026, 12, 1, 8, 0)
    assert walls(day_slots(session, "alta-padron", OAC, date(2026, 12, 1), at_limit))[0] == "10:00"
    past_limit = clock.on(2026, 12, 1, 8, 1)
    assert walls(day_slots(session, "alta-padron", OAC, date(2026, 12, 1), past_limit))[0] == "10:20"


def test_minimum_notice_is_read_from_the_municipality(session, clock):
    from pwa_app.models import Municipality

    town = session.exec(select(Municipality)).one()
    town.min_notice_minutes = 24 * 60
    session.add(town)
    session.commit()
    clock = clock.on(2026, 12, 1, 12, 0)
    assert day_slots(session, "alta-padron", OAC, date(2026, 12, 2), clock)[0].starts_at == clock.at(2026, 12, 2, 12)


def test_no_slot_beyond_the_horizon(session, clock):
    clock = clock.on(2026, 12, 4, 8, 0)  # Friday; 60 days later is Tuesday 2 February 2027
    horizon = clock.horizon()
    assert horizon == date(2027, 2, 2)
    p, o = ids(session, "alta-padron", OAC)
    found = slots(session, p, o, date(2027, 1, 25), date(2027, 2, 20), now=clock.now)
    last_day = max(clock.local(s.starts_at).date() for s in found)
    assert last_day == horizon
    assert slots(session, p, o, horizon + timedelta(days=1), horizon + timedelta(days=10), now=clock.now) == []
    window = slots_service.booking_window(session, None, clock.now)
    assert (window.earliest, window.last) == (clock.now + timedelta(minutes=120), horizon)


def test_find_slot_only_for_exact_bookable_starts(session, clock):
    p, o = ids(session, "alta-padron", OAC)
    assert slots_service.find_slot(session, p, o, clock.at(2026, 12, 2, 9, 20), clock.now).capacity == 3
    assert slots_service.find_slot(session, p, o, clock.at(2026, 12, 2, 9, 25), clock.now) is None  # off-grid
    assert slots_service.find_slot(session, p, o, clock.at(2026, 12, 2, 15, 0), clock.now) is None  # closed
    assert slots_service.find_slot(session, p, o, clock.at(2026, 12, 8, 9, 20), clock.now) is None  # holiday
    # A naive datetime is taken as UTC.
    naive = clock.at(2026, 12, 2, 9, 20).astimezone(UTC).replace(tzinfo=None)
    assert slots_service.find_slot(session, p, o, naive, clock.now) is not None


# --- daylight saving time -------------------------------------------------------------------------------------

SPRING = date(2027, 3, 28)  # last Sunday of March 2027: 02:00 CET -> 03:00 CEST
AUTUMN = date(2026, 10, 25)  # last Sunday of October 2026: 03:00 CEST -> 02:00 CET


@pytest.fixture
def spring_clock(clock):
    return clock.on(2027, 3, 1)  # the spring change is within the 60-day horizon


@pytest.fixture
def autumn_clock(clock):
    return clock.on(2026, 10, 1)


def add_sunday_schedule(session, opens: time, closes: time, slot_minutes: int = 20, capacity: int = 3) -> None:
    p, o = ids(session, "alta-padron", OAC)
    session.add(Schedule(office_id=o, procedure_id=p, weekday=6, opens=opens, closes=closes,
                         slot_minutes=slot_minutes, capacity=capacity))
    session.commit()


def test_local_to_utc_across_the_changes(clock):
    assert local_to_utc(date(2027, 3, 27), time(9)).hour == 8  # CET
    assert local_to_utc(SPRING, time(1, 59)).hour == 0
    assert local_to_utc(SPRING, time(2, 0)) is None  # does not exist
    assert local_to_utc(SPRING, time(2, 30)) is None
    assert local_to_utc(SPRING, time(3, 0)).hour == 1  # CEST
    # The repeated hour in autumn means its first occurrence (summer time).
    assert local_to_utc(AUTUMN, time(2, 30)) == clock.at(2026, 10, 25, 2, 30, fold=0)
    assert local_to_utc(AUTUMN, time(2, 30)).hour == 0
    assert local_to_utc(AUTUMN, time(3, 0)).hour == 2


@pytest.mark.parametrize(
    "now_day, change, other_sunday, utc_hour",
    [((2027, 3, 1), SPRING, date(2027, 4, 4), 7), ((2026, 10, 1), AUTUMN, date(2026, 10, 18), 8)],
    ids=["spring", "autumn"],
)
def test_sunday_schedule_on_change_days(session, clock, now_day, change, other_sunday, utc_hour):
    clock = clock.on(*now_day)
    add_sunday_schedule(session, time(9, 0), time(14, 0))
    found = day_slots(session, "alta-padron", OAC, change, clock)
    normal_sunday = day_slots(session, "alta-padron", OAC, other_sunday, clock)
    normal_weekday = day_slots(session, "alta-padron", OAC, change + timedelta(days=2), clock)
    assert len(found) == len(normal_sunday) == len(normal_weekday) == 15
    assert walls(found) == walls(normal_sunday)
    assert found[0].starts_at.hour == utc_hour and found[0].starts_at.minute == 0
    assert wall(found[0].starts_at) == time(9, 0)
    assert all(b.starts_at - a.starts_at == timedelta(minutes=20) for a, b in pairwise(found))


def test_summer_and_winter_offsets(session, spring_clock, autumn_clock):
    add_sunday_schedule(session, time(9, 0), time(14, 0))
    summer = day_slots(session, "alta-padron", OAC, SPRING, spring_clock)
    winter = day_slots(session, "alta-padron", OAC, AUTUMN, autumn_clock)
    assert (summer[0].starts_at.hour, summer[0].starts_at.tzinfo) == (7, UTC)
    assert (winter[0].starts_at.hour, winter[0].starts_at.tzinfo) == (8, UTC)
    # Weekday schedules too: the Mondays after the changes.
    monday_summer = day_slots(session, "alta-padron", OAC, SPRING + timedelta(days=1), spring_clock)
    monday_winter = day_slots(session, "alta-padron", OAC, AUTUMN + timedelta(days=1), autumn_clock)
    assert monday_summer[0].starts_at.hour == 7 and monday_winter[0].starts_at.hour == 8
    # And the Sunday before the spring change is still winter, the Sunday before the autumn one still summer.
    assert day_slots(session, "alta-padron", OAC, SPRING - timedelta(days=7), spring_clock)[0].starts_at.hour == 8
    assert day_slots(session, "alta-padron", OAC, AUTUMN - timedelta(days=7), autumn_clock)[0].starts_at.hour == 7


def test_spring_forward_night_skips_the_missing_hour(session, spring_clock):
    add_sunday_schedule(session, time(1, 0), time(4, 0), slot_minutes=15)
    found = day_slots(session, "alta-padron", OAC, SPRING, spring_clock)
    assert walls(found) == ["01:00", "01:15", "01:30", "01:45", "03:00", "03:15", "03:30", "03:45"]
    starts = [s.starts_at for s in found]
    assert len(set(starts)) == len(starts)
    # In real time the night is continuous: 00:00 to 01:45 UTC, no gap and no overlap.
    assert starts == [spring_clock.at(2027, 3, 28, 1, 0) + timedelta(minutes=15 * i) for i in range(8)]


def test_fall_back_night_does_not_double_book_the_repeated_hour(session, clock, autumn_clock):
    add_sunday_schedule(session, time(1, 0), time(4, 0), slot_minutes=15, capacity=1)
    found = day_slots(session, "alta-padron", OAC, AUTUMN, autumn_clock)
    # Each wall-clock time once: 12 slots, 02:00-02:45 only in its first (summer-time) occurrence.
    assert walls(found) == [f"{h:02d}:{m:02d}" for h in (1, 2, 3) for m in (0, 15, 30, 45)]
    starts = [s.starts_at for s in found]
    assert len(set(starts)) == 12 and starts == sorted(starts)
    two_thirty = [s for s in found if wall(s.starts_at) == time(2, 30)]
    assert len(two_thirty) == 1 and two_thirty[0].capacity == 1
    assert two_thirty[0].starts_at == clock.at(2026, 10, 25, 2, 30, fold=0)
    # The second 02:30 (winter time, an hour later in real time) is not a slot of its own.
    p, o = ids(session, "alta-padron", OAC)
    second = clock.at(2026, 10, 25, 2, 30, fold=1)
    assert second - two_thirty[0].starts_at == timedelta(hours=1)
    assert slots_service.find_slot(session, p, o, second, autumn_clock.now) is None
    assert second not in starts


def test_booking_the_repeated_hour_twice_is_refused(session, clock, autumn_clock):
    from pwa_app.appointments.booking import BookingError, book

    add_sunday_schedule(session, time(1, 0), time(4, 0), slot_minutes=15, capacity=1)
    raw = {"name": "Ana García", "document": "12345678Z", "consent": True}
    first = clock.at(2026, 10, 25, 2, 30, fold=0)
    book(session, "alta-padron", OAC, first, raw, now=autumn_clock.now)
    session.commit()
    with pytest.raises(BookingError) as taken:
        book(session, "alta-padron", OAC, first, raw, now=autumn_clock.now)
    assert taken.value.errors == {"slot": "taken"}
    session.rollback()
    with pytest.raises(BookingError) as again:
        book(session, "alta-padron", OAC, clock.at(2026, 10, 25, 2, 30, fold=1), raw, now=autumn_clock.now)
    assert again.value.errors == {"slot": "unavailable"}
    session.rollback()
    assert len(session.exec(select(Appointment)).all()) == 1
