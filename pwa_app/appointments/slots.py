"""Which times can be booked: weekly schedules in Madrid wall time, minus closures, the past and taken seats.

Slots are not stored: they follow from `Schedule` rows, so a schedule change applies at once. A slot is
identified by (office, procedure, start in UTC)."""

from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone

from sqlmodel import Session, func, or_, select

from pwa_app.common.i18n import TZ
from pwa_app.common.times import to_utc, utcnow
from pwa_app.models import Appointment, Closure, Hold, Municipality, Procedure, Schedule

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


def closed_days(session: Session, office_id: int, start: date, end: date) -> set[date]:
    rows = session.exec(
        select(Closure.day).where(
            Closure.day >= start,
            Closure.day <= end,
            or_(Closure.office_id == None, Closure.office_id == office_id),  # noqa: E711
        )
    )
    return set(rows)


def schedule_starts(sched: Schedule, day: date, buffer_minutes: int = 0) -> list[datetime]:
    """The slot starts (UTC) a schedule row gives on one day; a buffer adds a pause after each appointment."""
    step = sched.slot_minutes + max(buffer_minutes, 0)
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
        wall += timedelta(minutes=step)
    return starts


@dataclass(frozen=True)
class Window:
    """When a procedure can be booked now: from `earliest` (UTC) to the end of local day `last`; when the
    days are released in batches, `next_release` (UTC) is when the next day opens."""

    earliest: datetime
    last: date
    next_release: datetime | None = None


def working_day(day: date, holidays: set[date]) -> bool:
    return day.weekday() < 5 and day not in holidays


def public_holidays(session: Session, start: date, end: date) -> set[date]:
    rows = session.exec(select(Closure.day).where(Closure.office_id == None, Closure.day >= start,  # noqa: E711
                                                  Closure.day <= end))
    return set(rows)


def booking_window(session: Session, procedure: Procedure | None = None, now: datetime | None = None) -> Window:
    """The procedure's booking rules (falling back to the municipality's) applied to the current moment."""
    now = to_utc(now or utcnow())
    town = session.exec(select(Municipality)).first()
    rule = lambda name, default: next(  # noqa: E731
        v for v in (getattr(procedure, name, None), getattr(town, name, None), default) if v is not None)
    local_now = now.astimezone(TZ)
    today = local_now.date()
    last = today + timedelta(days=rule("booking_horizon_days", 60))
    holidays = public_holidays(session, today - timedelta(days=14), last + timedelta(days=14))
    if procedure is not None and procedure.next_working_day:
        day = today + timedelta(days=1)
        while not working_day(day, holidays):
            day += timedelta(days=1)
        earliest = local_to_utc(day, time(0)) or now
    else:
        earliest = now + timedelta(minutes=rule("min_notice_minutes", 120))
    release = getattr(procedure, "release_days_ahead", None)
    if release is None:
        return Window(earliest, last)
    # The most recent release moment (a working day at release_hour, Madrid time) decides the last open day.
    opening = time(procedure.release_hour)
    day = today if local_now.time() >= opening else today - timedelta(days=1)
    while not working_day(day, holidays):
        day -= timedelta(days=1)
    nxt = today + timedelta(days=1) if local_now.time() >= opening else today
    while not working_day(nxt, holidays):
        nxt += timedelta(days=1)
    return Window(earliest, min(last, day + timedelta(days=release)), local_to_utc(nxt, opening))


def not_lapsed(now: datetime):
    """Leaves out pending bookings whose confirmation time has passed: they give their seat back at that moment,
    before any job marks them expired."""
    return or_(Appointment.status != "pending", Appointment.confirm_by > now)


def taken_seats(session: Session, office_id: int, procedure_id: int, start: datetime, end: datetime,
                now: datetime) -> Counter:
    """Seats in use per slot start: appointments (pending ones until their confirmation time) and holds that
    have not expired."""
    booked = session.exec(
        select(Appointment.starts_at, func.count())
        .where(
            Appointment.office_id == office_id,
            Appointment.procedure_id == procedure_id,
            Appointment.starts_at >= start,
            Appointment.starts_at < end,
            Appointment.seat != None,  # noqa: E711  (cancelled appointments hold no seat)
            not_lapsed(now),
        )
        .group_by(Appointment.starts_at)
    )
    held = session.exec(
        select(Hold.starts_at, func.count())
        .where(Hold.office_id == office_id, Hold.procedure_id == procedure_id, Hold.starts_at >= start,
               Hold.starts_at < end, Hold.expires_at > now)
        .group_by(Hold.starts_at)
    )
    taken = Counter()
    for starts_at, n in [*booked, *held]:
        taken[to_utc(starts_at)] += n
    return taken


def slots(
    session: Session, procedure_id: int, office_id: int, first: date, last: date, now: datetime | None = None
) -> list[Slot]:
    """Every bookable slot between two local days (inclusive), free or full, in time order."""
    now = to_utc(now or utcnow())
    procedure = session.get(Procedure, procedure_id)
    window = booking_window(session, procedure, now)
    last = min(last, window.last)
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
                for start in schedule_starts(sched, day, procedure.buffer_minutes if procedure else 0):
                    capacity[start] = capacity.get(start, 0) + sched.capacity
        day += timedelta(days=1)
    starts = sorted(s for s in capacity if s >= window.earliest)
    if not starts:
        return []
    taken = taken_seats(session, office_id, procedure_id, starts[0], starts[-1] + timedelta(seconds=1), now)
    return [Slot(s, capacity[s], taken[s]) for s in starts]


def find_slot(session: Session, procedure_id: int, office_id: int, start: datetime, now=None) -> Slot | None:
    """The slot starting exactly at `start` if it is bookable now (open, not past, within the horizon)."""
    start = to_utc(start)
    day = start.astimezone(TZ).date()
    return next((s for s in slots(session, procedure_id, office_id, day, day, now) if s.starts_at == start), None)
