"""Booking, cancelling and rescheduling appointments without over-booking.

A seat is taken under a lock on the slot (the database's write lock on SQLite, an advisory lock on PostgreSQL), so the
capacity check and the insert cannot interleave between processes; the unique (slot, seat) index backs it up.
Errors carry a code the API translates; nothing is written when one is raised."""

import hmac
import re
import secrets
import time
from datetime import date, datetime, timedelta

from sqlalchemy import or_, true
from sqlmodel import Session, select, update

from pwa_app.appointments import availability, calendars, fairness, visits
from pwa_app.appointments.details import clean_details
from pwa_app.appointments.seats import expire_pendings, free_seat, free_seats, lock_slot, seat_rows  # noqa: F401
from pwa_app.appointments.slots import TZ, WEB, Slot
from pwa_app.common import codes, events
from pwa_app.common.documents import last_four
from pwa_app.common.errors import DomainError
from pwa_app.common.times import to_utc, utcnow
from pwa_app.models import Appointment, Hold, Office, Procedure, ProcedureOffice
from pwa_app.settings import get_settings

ACTIVE = ("booked", "checked_in")


# High-demand procedures: a booking waits this long for the citizen to open the link sent by e-mail.
CONFIRM_MINUTES = get_settings().confirm_minutes
ALTERNATIVES = 5  # free times offered with a refusal


class BookingError(DomainError):
    """A booking that cannot be made ("slot": taken, with the nearest free alternatives)."""

    def __init__(self, errors: dict[str, str], alternatives: list[tuple[Office, Slot]] | None = None,
                 procedure: str = ""):
        super().__init__(errors)
        self.alternatives = alternatives or []
        self.procedure = procedure  # the alternatives' procedure, when the citizen did not name it (a confirmation)


def verifier_of(appt: Appointment) -> str:
    """What the citizen types beside the code to see their booking: the end of the document, else the phone."""
    return last_four(appt.document) if appt.document else appt.phone[-4:]


def _person_and_slot(session: Session, procedure: Procedure, office_id: int, person: str, starts_at: datetime,
                     now: datetime) -> tuple[str | None, list]:
    """One query under the locks: whether the person has reached a limit, and the slot's seat rows."""
    counts = fairness.active_of(procedure, person, now).subquery()
    seats = seat_rows(office_id, procedure.id, starts_at, now).subquery()
    rows = session.execute(select(counts.c.total, counts.c.same, counts.c.most, seats.c.seat, seats.c.alive)
                           .select_from(counts.outerjoin(seats, true()))).all()
    problem = fairness.over_limit(procedure, *rows[0][:3]) if person else None
    return problem, [(r.seat, r.alive) for r in rows if r.seat is not None]


def alternatives(
    session: Session, procedure: Procedure, office: Office, around: datetime, now=None, limit: int = ALTERNATIVES,
    party: int = 1, channel: str = WEB,
) -> list[tuple[Office, Slot]]:
    """The free slots nearest to `around` that the channel may take: the same office first, then the other offices
    (from the shared calendars of appointments/availability.py; the offices and their versions in one query)."""
    now = to_utc(now or utcnow())
    first, last = _alternative_days(around, now)
    rows = session.exec(select(Office, ProcedureOffice.grid_version, ProcedureOffice.seats_version)
                        .join(ProcedureOffice, ProcedureOffice.office_id == Office.id)
                        .where(ProcedureOffice.procedure_id == procedure.id).order_by(Office.id)).all()
    found: list[tuple[Office, Slot]] = []
    for other, grid, seats in sorted(rows, key=lambda row: row[0].id != office.id):
        pair = calendars.Pair(procedure.id, other.id, grid, seats)
        free = _nearest(availability.slots_between(session, pair, first, last, now, channel), around, party)
        found += [(other, s) for s in free[: limit - len(found)]]
        if len(found) >= limit:
            break
    return found


def _alternative_days(around: datetime, now: datetime) -> tuple[date, date]:
    day = around.astimezone(TZ).date()
    return max(day - timedelta(days=7), now.astimezone(TZ).date()), day + timedelta(days=21)


def _nearest(slots: list[Slot], around: datetime, party: int = 1) -> list[Slot]:
    return sorted((s for s in slots if s.free >= party), key=lambda s: abs((s.starts_at - around).total_seconds()))


async def refusal_at_once(procedure_slug: str, office_slug: str, starts_at: datetime, raw: dict,
                          now: datetime) -> BookingError | None:
    """The refusal of a time that the calendar kept in this process, exact by the versions in Redis, shows full,
    with the nearest free times, as `book` would give it; without the database (the 9:00 rush: thousands asking
    for the few first times). None when that cannot be told so: no kept calendar, a free seat, details `book`
    refuses first, or too few free times at that office (the other offices' are asked by `book`). The web's only:
    the calendar's `slots` leave out the seats kept for staff."""
    cal = await availability.kept_calendar(procedure_slug, office_slug, now)
    if cal is None:
        return None
    start, info = to_utc(starts_at), cal.booked
    slot = cal.by_start.get(start)
    if slot is None or slot.free or clean_details(raw, info.requires_document, info.high_demand).errors:
        return None
    first, last = _alternative_days(start, now)
    near = _nearest([s for s in cal.slots if first <= s.starts_at.astimezone(TZ).date() <= last], start)[:ALTERNATIVES]
    if len(near) < ALTERNATIVES:
        return None
    office = Office(slug=info.office_slug, name=info.office_name)  # as the answer names it; never added to a session
    return BookingError({"slot": "taken"}, [(office, s) for s in near])


def _seat_or_alternatives(session, procedure: Procedure, office: Office, starts_at: datetime, now,
                          pair: calendars.Pair | None = None, channel: str = WEB) -> int:
    lock_slot(session, office.id, procedure.id, starts_at)
    return _free_seat_or_alternatives(session, procedure, office, starts_at, now, pair, channel=channel)


def _free_seat_or_alternatives(session, procedure: Procedure, office: Office, starts_at: datetime, now,
                               pair: calendars.Pair | None = None, rows: list | None = None,
                               channel: str = WEB) -> int:
    """The seat to take (call under the slot's lock), else the refusal with the nearest free times; the web never
    gets a seat kept for staff (the frame says which are, until they open to the web)."""
    now = to_utc(now or utcnow())
    pair = pair or availability.pair_by_id(session, procedure.id, office.id)
    fr = availability.frame(session, pair, now)
    capacity = fr.capacity.get(starts_at)
    seat = free_seat(session, office.id, procedure.id, starts_at, capacity, now, rows, fr.staff.get(starts_at, 0),
                     channel) if capacity else None
    if seat is None:
        raise BookingError({"slot": "taken" if capacity else "unavailable"},
                           alternatives(session, procedure, office, starts_at, now, channel=channel))
    return seat


def _refuse_when_full(session: Session, procedure: Procedure, office: Office, pair: calendars.Pair,
                      starts_at: datetime, now: datetime, channel: str = WEB) -> None:
    """Refuse at once a time that the shared calendar, exact for the versions just read, shows without a free seat:
    in a rush, requests for a full time must not queue for its lock only to hear "taken". Only a kept copy is
    asked: after every booking the copy is old, and rebuilding it here cost a booking ~40% of its time, while the
    check under the lock that follows is exact anyway."""
    if (kept := availability.kept_copy(session, pair, now)) is None:
        return
    slot = kept.view(channel)[1].get(starts_at)
    if slot is None or not slot.free:
        raise BookingError({"slot": "taken" if slot else "unavailable"},
                           alternatives(session, procedure, office, starts_at, now, channel=channel))


def bookable(session: Session, procedure_slug: str, office_slug: str) -> tuple[Procedure, Office, calendars.Pair]:
    """The procedure, the office and their availability versions, when that office books it (one query); else the
    reason, as an error."""
    found = session.exec(select(Procedure, Office, ProcedureOffice.grid_version, ProcedureOffice.seats_version)
                         .join(ProcedureOffice, ProcedureOffice.procedure_id == Procedure.id)
                         .join(Office, Office.id == ProcedureOffice.office_id)
                         .where(Procedure.slug == procedure_slug, Office.slug == office_slug,
                                Procedure.needs_appointment)).first()
    if found:
        procedure, office, grid, seats = found
        return procedure, office, calendars.Pair(procedure.id, office.id, grid, seats)
    procedure = session.exec(select(Procedure).where(Procedure.slug == procedure_slug)).first()
    if not procedure or not procedure.needs_appointment:
        raise BookingError({"procedure": "unknown_procedure"})
    raise BookingError({"office": "unknown_office"})


def resolve(session: Session, procedure_slug: str, office_slug: str) -> tuple[Procedure, Office]:
    """The procedure and the office, when that office books it; else the reason, as an error."""
    procedure, office, _ = bookable(session, procedure_slug, office_slug)
    return procedure, office


def hold(session: Session, procedure_slug: str, office_slug: str, starts_at: datetime, client: str = "",
         now=None, channel: str = WEB) -> Hold:
    """Keep one seat of a slot for a few minutes while the citizen types (the caller commits)."""
    procedure, office = resolve(session, procedure_slug, office_slug)
    start = to_utc(starts_at)
    seat = _seat_or_alternatives(session, procedure, office, start, now, channel=channel)
    return fairness.new_hold(session, procedure, office.id, start, seat, client, now)


def _held_seat(session: Session, token: str | None, procedure: Procedure, office: Office, start: datetime,
               now) -> int | None:
    """The seat of the citizen's own live hold on this very slot, handed over to the booking (call under the slot's
    lock: another request carrying the same hold, a second tab, may have used it just before)."""
    held = fairness.find_hold(session, token, now)
    if not held or (held.procedure_id, held.office_id, to_utc(held.starts_at)) != (procedure.id, office.id, start):
        return None
    seat = held.seat
    session.delete(held)
    session.flush()
    return seat


def book(
    session: Session, procedure_slug: str, office_slug: str, starts_at: datetime, raw: dict, now=None,
    hold_token: str | None = None, client: str = "", channel: str = "web",
) -> Appointment:
    """Take a seat of a slot for a citizen (their hold's, if they have one). For a high-demand procedure the
    booking is "pending" until the citizen opens the link e-mailed to them (`confirm`); staff booking for someone
    on the phone or at the counter (`channel`) book it at once, with or without an e-mail. The caller commits.
    The web never takes a seat kept for staff (slots.py); staff (any other channel) may take every seat, the
    kept ones first."""
    web = channel == WEB
    read_at = time.monotonic()
    procedure, office, pair = bookable(session, procedure_slug, office_slug)
    details = clean_details(raw, procedure.requires_document, needs_email=procedure.high_demand and web)
    plan = visits.clean_visit(raw, procedure_slug, procedure.requires_document, details.document)
    if errors := visits.problems(details.errors, plan):
        raise BookingError(errors)
    if (more := visits.procedures_at(session, plan.also, office.id)) is None:
        raise BookingError({"also": "not_at_office"})
    start, now = to_utc(starts_at), to_utc(now or utcnow())
    try:
        if not hold_token:
            _refuse_when_full(session, procedure, office, pair, start, now, channel)
        person = fairness.person_key(details.document)
        lock_slot(session, office.id, procedure.id, start, person, *(p.key for p in plan.people))
        problem, rows = _person_and_slot(session, procedure, office.id, person, start, now)
        if problem:
            raise BookingError({"person": problem})
        if (plan.people or more) and (over := visits.limit_problem(session, [procedure, *more], person, plan.people,
                                                                   now)):
            raise BookingError({over[0]: over[1]})
        seat = _held_seat(session, hold_token, procedure, office, start, now)
        if seat is None:
            seat = _free_seat_or_alternatives(session, procedure, office, start, now, pair, rows, channel)
        taken = visits.take_seats(session, office.id, visits.legs([procedure, *more], start), plan.seats, seat,
                                  rows, now, channel) if plan.people or more else []
        if isinstance(taken, str):  # the party's seats are taken all together or not at all
            raise BookingError({"slot": taken}, [] if more else alternatives(session, procedure, office, start, now,
                                                                            party=plan.seats, channel=channel))
    except BookingError as exc:
        if "slot" in exc.errors:  # the next requests for this full time can be refused at once (refusal_at_once)
            availability.remember(session, procedure_slug, office_slug, pair, read_at)
        raise
    appt = Appointment(
        created_at=now,
        person_key=person,
        client_key=client,
        code=codes.new_code(),
        procedure_id=procedure.id,
        office_id=office.id,
        starts_at=start,
        seat=seat,
        name=details.name,
        document=details.document,
        phone=details.phone,
        email=details.email,
        lang=details.lang,
        **visits.representative_fields(plan),
        channel=channel,
    )
    if procedure.high_demand and web:
        appt.status, appt.confirm_token = "pending", secrets.token_urlsafe(24)
        appt.confirm_by = now + timedelta(minutes=CONFIRM_MINUTES)
    session.add(appt)
    session.flush()
    if taken:
        visits.add_rows(session, appt, plan.people, taken)
    else:
        visits.remember(session, appt, [])
    events.record(session, "appointment_booked", appt=appt, now=now)
    return appt


def lapsed(appt: Appointment, now=None) -> bool:
    """A pending booking not confirmed in time (marked "expired" or not yet)."""
    return appt.status == "expired" or (
        appt.status == "pending" and to_utc(appt.confirm_by) <= to_utc(now or utcnow()))


def confirm(session: Session, token: str, now=None) -> Appointment:
    """The citizen opened the e-mailed link: a pending booking becomes "booked" (and gets its confirmation mail).
    Opening it again changes nothing. Too late, the seat is gone: refused with the nearest free times (the same
    one first, while nobody has taken it). The caller commits."""
    appt = session.exec(select(Appointment).where(Appointment.confirm_token == token)).first() if token else None
    if appt is None:
        raise BookingError({"confirm": "confirm_unknown"})
    if lapsed(appt, now):
        procedure, office = session.get(Procedure, appt.procedure_id), session.get(Office, appt.office_id)
        raise BookingError({"slot": "confirm_expired"}, alternatives(session, procedure, office, appt.starts_at, now),
                           procedure=procedure.slug)
    if appt.status == "pending":
        lock_slot(session, appt.office_id, appt.procedure_id, to_utc(appt.starts_at))
        # Conditional: a booking that freed this seat meanwhile (the time ran out) wins, never both.
        confirmed = session.execute(update(Appointment).where(  # the visit's other rows with it
            or_(Appointment.id == appt.id, Appointment.visit_of == appt.id), Appointment.status == "pending", Appointment.seat != None)  # noqa: E711
            .values(status="booked")).rowcount
        session.refresh(appt)
        if not confirmed:
            return confirm(session, token, now)
        events.record(session, "appointment_confirmed", appt=appt, now=now)
    return appt


def find(session: Session, code: str, verifier: str) -> Appointment | None:
    """The appointment for a code and its verifier; None for a wrong pair, without telling which part was wrong."""
    try:
        normal = codes.normalize_code(code)
    except ValueError:
        return None
    appt = session.exec(select(Appointment).where(Appointment.code == normal,
                                                  Appointment.visit_of == None)).first()  # noqa: E711
    expected = verifier_of(appt) if appt else "????"
    given = re.sub(r"[\s.-]", "", verifier or "").upper()[-4:]
    # An empty verifier (a desk booking without document or phone) never matches: the code alone opens nothing.
    # Compared as bytes: compare_digest refuses non-ASCII text (a crash, and a tell that the code exists).
    return appt if appt and expected and hmac.compare_digest(expected.upper().encode(), given.encode()) else None


def is_changeable(appt: Appointment, now: datetime | None = None) -> bool:
    return (appt.status == "booked" or (appt.status == "pending" and not lapsed(appt, now))) \
        and appt.starts_at > to_utc(now or utcnow())


def cancel(session: Session, appt: Appointment, now=None) -> Appointment:
    """Give the seat back at once. Cancelling twice is harmless: the second time changes nothing."""
    if appt.status == "cancelled":
        return appt
    if not is_changeable(appt, now):
        raise BookingError({"slot": "not_changeable"})
    for row in (appt, *visits.rows_of(session, appt)):  # a visit is cancelled whole
        row.status, row.seat, row.cancelled_at = "cancelled", None, to_utc(now or utcnow())
        session.add(row)
    session.flush()
    events.record(session, "appointment_cancelled", appt=appt, now=now)
    return appt


def reschedule(session: Session, appt: Appointment, office_slug: str, starts_at: datetime, now=None,
               channel: str = WEB) -> Appointment:
    """Move a booking to another slot of the same procedure, keeping its code; the old seat is freed. The web (the
    citizen moving it) cannot move it onto a seat kept for staff; staff (any other channel) can."""
    start = to_utc(starts_at)
    if not is_changeable(appt, now):
        raise BookingError({"slot": "not_changeable"})
    procedure = session.get(Procedure, appt.procedure_id)
    _, office = resolve(session, procedure.slug, office_slug)
    if office.id == appt.office_id and start == appt.starts_at:
        return appt
    seat = _seat_or_alternatives(session, procedure, office, start, now, channel=channel)
    if (others := visits.rows_of(session, appt)) and (problem := visits.move(session, appt, others, office.id, start,
                                                                              seat, to_utc(now or utcnow()))):
        raise BookingError({"slot": problem})
    appt.office_id, appt.starts_at, appt.seat = office.id, start, seat
    session.add(appt)
    session.flush()
    events.record(session, "appointment_moved", appt=appt, now=now)
    return appt
