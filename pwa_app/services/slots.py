"""Which times can be booked: weekly schedules in Madrid wall time, minus closures, the past and taken seats.

Slots are not stored: they follow from `Schedule` rows, so a schedule change applies at once. A slot is
identified by (office, procedure, start in UTC)."""

from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone

from sqlmodel import Session, func, or_, select

from pwa_app.models import Appointment, Closure, Municipality, Schedule, utcnow
from pwa_app.services.i18n import TZ

UTC = timezone.utc


@dataclass(frozen=True)
class Slot:
    starts_at: datetime  # aware UTC, as stored
    capacity: int
    taken: int

    @property
    def free(self) -> int:
        return max(self.capacity - self.taken, 0)


def local_to_utc(day: date, wall) -> datetime | None:
    """Madrid wall time to UTC; None for a time that does not exist (the spring-forward gap)."""
    aware = datetime.combine(day, wall, tzinfo=TZ)
    utc = aware.astimezone(UTC)
    if utc.astimezone(TZ).replace(tzinfo=None) != aware.replace(tzinfo=None):
        return None
    return utc


def to_utc(moment: datetime) -> datetime:
    """Any datetime to aware UTC; a naive one is taken as UTC already."""
    return moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)


def closed_days(session: Session, office_id: int, start: date, end: date) -> set[date]:
    rows = session.exec(
        select(Closure.day).where(
            Closure.day >= start,
            Closure.day <= end,
            or_(Closure.office_id == None, Closure.office_id == office_id),  # noqa: E711
        )
    )
    return set(rows)


def schedule_starts(sched: Schedule, day: date) -> list[datetime]:
    """The slot starts (UTC) a schedule row gives on one day."""
    if sched.weekday != day.weekday() or sched.slot_minutes <= 0:
        return []
    if (sched.valid_from and day < sched.valid_from) or (sched.valid_until and day > sched.valid_until):
        return []
    starts, wall = [], datetime.combine(day, sched.opens)
    last = datetime.combine(day, sched.closes) - timedelta(minutes=sched.slot_minutes)
    while wall <= last:
        utc = local_to_utc(day, wall.time())
        if utc is not None:
            starts.append(utc)
        wall += timedelta(minutes=sched.slot_minutes)
    return starts


def booking_window(session: Session, now: datetime | None = None) -> tuple[datetime, date]:
    """The earliest bookable start (UTC) and the last bookable day, from the municipality's rules."""
    now = to_utc(now or utcnow())
    town = session.exec(select(Municipality)).first()
    notice = timedelta(minutes=town.min_notice_minutes if town else 120)
    horizon = town.booking_horizon_days if town else 60
    today = now.astimezone(TZ).date()
    return now + notice, today + timedelta(days=horizon)


def taken_seats(session: Session, office_id: int, procedure_id: int, start: datetime, end: datetime) -> Counter:
    rows = session.exec(
        select(Appointment.starts_at, func.count())
        .where(
            Appointment.office_id == office_id,
            Appointment.procedure_id == procedure_id,
            Appointment.starts_at >= start,
            Appointment.starts_at < end,
            Appointment.seat != None,  # noqa: E711  (cancelled appointments hold no seat)
        )
        .group_by(Appointment.starts_at)
    )
    return Counter({starts_at: n for starts_at, n in rows})


def slots(
    session: Session, procedure_id: int, office_id: int, first: date, last: date, now: datetime | None = None
) -> list[Slot]:
    """Every bookable slot between two local days (inclusive), free or full, in time order."""
    earliest, horizon = booking_window(session, now)
    last = min(last, horizon)
    if last < first:
        return []
    schedules = session.exec(
        select(Schedule).where(Schedule.office_id == office_id, Schedule.procedure_id == procedure_id)
    ).all()
    closed = closed_days(session, office_id, first, last)
    capacity: dict[datetime, int] = {}
    day = first
    while day <= last:
        if day not in closed:
            for sched in schedules:
                for start in schedule_starts(sched, day):
                    capacity[start] = capacity.get(start, 0) + sched.capacity
        day += timedelta(days=1)
    starts = sorted(s for s in capacity if s >= earliest)
    if not starts:
        return []
    taken = taken_seats(session, office_id, procedure_id, starts[0], starts[-1] + timedelta(seconds=1))
    return [Slot(s, capacity[s], taken[s]) for s in starts]


def find_slot(session: Session, procedure_id: int, office_id: int, start: datetime, now=None) -> Slot | None:
    """The slot starting exactly at `start` if it is bookable now (open, not past, within the horizon)."""
    start = to_utc(start)
    day = start.astimezone(TZ).date()
    return next((s for s in slots(session, procedure_id, office_id, day, day, now) if s.starts_at == start), None)
