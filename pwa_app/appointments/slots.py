"""Which times can be booked: weekly schedules in Madrid wall time, minus closures, the past and taken seats.

Slots are not stored: they follow from `Schedule` rows, so a schedule change applies at once. A slot is
identified by (office, procedure, start in UTC).

Seats per channel: a schedule may keep `staff_seats` of each slot for staff booking (people who phone or come to the
counter) until `staff_seats_hours` before the start; then they open to the web too. Seats are numbered: the web
takes the low numbers (1 .. capacity - staff seats still kept), staff take the kept numbers above first. So the
seats the web may take are those numbers not in use, whoever booked the others; any `channel` but "web" is staff,
who may take every seat."""

from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone

from sqlmodel import Session, func, or_, select

from pwa_app.common.i18n import TZ
from pwa_app.common.times import to_utc, utcnow
from pwa_app.models import Appointment, Closure, Hold, Municipality, Procedure, Schedule

UTC = timezone.utc


WEB = "web"  # the channel of citizens booking themselves; "phone" and "counter" are staff's


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


Parts = tuple[tuple[int, datetime], ...]  # per schedule giving a start: (staff seats, when they open to the web)


def capacity_grid(schedules: list[Schedule], closed: set[date], first: date, last: date,
                  buffer_minutes: int = 0) -> dict[datetime, tuple[int, Parts]]:
    """Every slot start the schedules give between two local days, closed days left out: its capacity (the sum of
    the schedules giving it) and its staff seats with the moment each schedule's open to the web."""
    grid: dict[datetime, tuple[int, Parts]] = {}
    day = first
    while day <= last:
        if day not in closed:
            for sched in schedules:
                for start in schedule_starts(sched, day, buffer_minutes):
                    capacity, parts = grid.get(start, (0, ()))
                    if sched.staff_seats > 0:
                        parts += ((sched.staff_seats, start - timedelta(hours=sched.staff_seats_hours)),)
                    grid[start] = (capacity + sched.capacity, parts)
        day += timedelta(days=1)
    return grid


def staff_kept(capacity: int, parts: Parts, now: datetime) -> int:
    """How many of a slot's seats only staff may take at this moment."""
    return min(capacity, sum(n for n, opens in parts if now < opens))


def next_opening(grid, now: datetime) -> datetime | None:
    """When the next staff seats of these starts open to the web (the web's view changes with the clock alone)."""
    return min((opens for _, (_, parts) in grid for _, opens in parts if opens > now), default=None)


def seat_order(capacity: int, staff: int, channel: str) -> list[int]:
    """The seat numbers a booking may take, in the order it takes them: the web the low ones only, staff the kept
    ones first (leaving the web's to the web), then the others."""
    web = list(range(1, capacity - staff + 1))
    return web if channel == WEB else [*range(capacity - staff + 1, capacity + 1), *web]


def count_slots(capacity: dict[datetime, int], staff: dict[datetime, int], taken) -> tuple[tuple, tuple]:
    """(the web's slots, every seat's slots) in time order, from the seats in use: per start when no seat is kept
    for staff (`staff` empty: both views are one), else per (start, seat number)."""
    if not staff:
        every = tuple(Slot(s, c, taken[s]) for s, c in capacity.items())
        return every, every
    total, web = Counter(), Counter()
    for (start, seat), n in taken.items():
        total[start] += n
        if seat <= capacity.get(start, 0) - staff.get(start, 0):
            web[start] += n
    # The web never gets more than the slot has free (seat numbers above a capacity lowered since count too).
    kept = lambda s: staff.get(s, 0)  # noqa: E731
    return (tuple(Slot(s, c - kept(s), max(web[s], total[s] - kept(s))) for s, c in capacity.items()),
            tuple(Slot(s, c, total[s]) for s, c in capacity.items()))


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
                now: datetime, by_seat: bool = False) -> Counter:
    """Seats in use per slot start (per (start, seat number) `by_seat`): appointments (pending ones until their
    confirmation time) and holds that have not expired."""
    booked = session.exec(
        select(Appointment.starts_at, *([Appointment.seat] if by_seat else []), func.count())
        .where(
            Appointment.office_id == office_id,
            Appointment.procedure_id == procedure_id,
            Appointment.starts_at >= start,
            Appointment.starts_at < end,
            Appointment.seat != None,  # noqa: E711  (cancelled appointments hold no seat)
            not_lapsed(now),
        )
        .group_by(Appointment.starts_at, *([Appointment.seat] if by_seat else []))
    )
    held = session.exec(
        select(Hold.starts_at, *([Hold.seat] if by_seat else []), func.count())
        .where(Hold.office_id == office_id, Hold.procedure_id == procedure_id, Hold.starts_at >= start,
               Hold.starts_at < end, Hold.expires_at > now)
        .group_by(Hold.starts_at, *([Hold.seat] if by_seat else []))
    )
    taken = Counter()
    for starts_at, *seat, n in [*booked, *held]:
        taken[(to_utc(starts_at), *seat) if by_seat else to_utc(starts_at)] += n
    return taken


def slots(
    session: Session, procedure_id: int, office_id: int, first: date, last: date, now: datetime | None = None,
    channel: str = WEB,
) -> list[Slot]:
    """Every bookable slot between two local days (inclusive), free or full, in time order, with the seats the
    channel may take (the web: not those kept for staff)."""
    now = to_utc(now or utcnow())
    procedure = session.get(Procedure, procedure_id)
    window = booking_window(session, procedure, now)
    last = min(last, window.last)
    if last < first:
        return []
    schedules = session.exec(
        select(Schedule).where(Schedule.office_id == office_id, Schedule.procedure_id == procedure_id)
    ).all()
    grid = capacity_grid(schedules, closed_days(session, office_id, first, last), first, last,
                         procedure.buffer_minutes if procedure else 0)
    starts = sorted(s for s in grid if s >= window.earliest)
    if not starts:
        return []
    capacity = {s: grid[s][0] for s in starts}
    staff = {s: n for s in starts if (n := staff_kept(*grid[s], now))}
    taken = taken_seats(session, office_id, procedure_id, starts[0], starts[-1] + timedelta(seconds=1), now,
                        by_seat=bool(staff))
    web, every = count_slots(capacity, staff, taken)
    return list(web if channel == WEB else every)


def find_slot(session: Session, procedure_id: int, office_id: int, start: datetime, now=None,
              channel: str = WEB) -> Slot | None:
    """The slot starting exactly at `start` if it is bookable now (open, not past, within the horizon)."""
    start = to_utc(start)
    day = start.astimezone(TZ).date()
    return next((s for s in slots(session, procedure_id, office_id, day, day, now, channel)
                 if s.starts_at == start), None)
