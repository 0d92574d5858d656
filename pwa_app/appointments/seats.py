"""The seats of one slot: its lock, the seat numbers in use, and the lowest free ones. A seat is taken under the
slot's lock (the database's write lock on SQLite, an advisory lock on PostgreSQL), so the capacity check and the
insert cannot interleave between processes; the unique (slot, seat) index backs it up."""

import zlib
from datetime import datetime

from sqlalchemy import case, union_all
from sqlmodel import Session, select, text, update

from pwa_app import db
from pwa_app.appointments import fairness
from pwa_app.appointments.slots import WEB, not_lapsed, seat_order
from pwa_app.models import Appointment, Hold


def lock_slot(session: Session, office_id: int, procedure_id: int, starts_at: datetime, person: str = "",
              *others: str) -> None:
    """Serialise bookings of one slot across processes and, when given, the bookings of the people coming before
    it (so two at once cannot both pass a per-person limit): one statement; on SQLite the database's write lock,
    from now on. Nothing takes a slot's lock before a person's, and people are locked in one order: no two
    requests can wait for each other."""
    db.write_lock(session)
    if session.get_bind().dialect.name == "postgresql":
        key = zlib.crc32(f"{office_id}:{procedure_id}:{starts_at.isoformat()}".encode())
        people = sorted({p for p in (person, *others) if p})
        first = "".join(f"pg_advisory_xact_lock(2, hashtext(:p{n})), " for n in range(len(people)))
        session.exec(text(f"SELECT {first}pg_advisory_xact_lock(:k)").bindparams(
            k=key, **{f"p{n}": p for n, p in enumerate(people)}))


def expire_pendings(session: Session, now: datetime, *slot) -> int:
    """Pending bookings whose confirmation time has passed become "expired" and give their seat number back. They
    already count for nothing (slots.taken_seats); this frees the number, for the slot (office id, procedure id,
    start) about to be booked, or for all of them (the worker's periodic look). Returns how many."""
    where = [Appointment.status == "pending", Appointment.confirm_by <= now]
    if slot:
        office_id, procedure_id, starts_at = slot
        where += [Appointment.office_id == office_id, Appointment.procedure_id == procedure_id,
                  Appointment.starts_at == starts_at]
    return session.execute(update(Appointment).where(*where).values(status="expired", seat=None)).rowcount or 0


def seat_rows(office_id: int, procedure_id: int, starts_at: datetime, now: datetime):
    """(seat, 1 if live else 0) of every appointment and hold with a seat number in a slot."""
    in_slot = lambda model: (model.office_id == office_id, model.procedure_id == procedure_id,  # noqa: E731
                             model.starts_at == starts_at)
    live = lambda condition: case((condition, 1), else_=0).label("alive")  # noqa: E731
    return union_all(
        select(Appointment.seat.label("seat"), live(not_lapsed(now))).where(*in_slot(Appointment),
                                                                            Appointment.seat != None),  # noqa: E711
        select(Hold.seat.label("seat"), live(Hold.expires_at > now)).where(*in_slot(Hold)))


def free_seat(session: Session, office_id: int, procedure_id: int, starts_at: datetime, capacity: int,
              now: datetime, rows: list | None = None, staff: int = 0, channel: str = WEB) -> int | None:
    """The first seat number of a slot, in the channel's order (slots.seat_order: the web never takes the `staff`
    seats kept for staff), that no live appointment or hold uses; None when none is left to the channel (one query,
    unless the caller read `rows` already; call under the slot lock). Holds that ran out and pending bookings not
    confirmed in time count for nothing: they keep their number until the worker's periodic look frees it (the
    mail worker's scan), or until a booking needs that very number."""
    seats = free_seats(session, office_id, procedure_id, starts_at, capacity, now, rows, staff=staff,
                       channel=channel)
    return seats[0] if seats else None


def free_seats(session: Session, office_id: int, procedure_id: int, starts_at: datetime, capacity: int,
               now: datetime, rows: list | None = None, count: int = 1, besides=(), staff: int = 0,
               channel: str = WEB) -> list[int] | None:
    """The `count` first free seat numbers of a slot for the channel, leaving out `besides` (taken by this very
    booking), or None when there are not that many: a party's seats are taken all together or not at all (see
    `free_seat`)."""
    if rows is None:
        rows = session.execute(seat_rows(office_id, procedure_id, starts_at, now)).all()
    used = {seat for seat, alive in rows if alive} | set(besides)
    if len(used) + count > capacity:  # seat numbers above a capacity lowered since count too
        return None
    seats = [n for n in seat_order(capacity, staff, channel) if n not in used][:count]
    if len(seats) < count:
        return None
    if any(n in seats for n, alive in rows if not alive):
        fairness.drop_expired_holds(session, now, office_id, procedure_id, starts_at)
        expire_pendings(session, now, office_id, procedure_id, starts_at)
    return seats
