"""The office queue: walk-in tickets and checked-in appointments, called to a desk, shown on the wall screen.

The queue lives in the database (QueueTicket rows), never in a process's memory, so several backend workers and
any number of screens share it. Numbers are per office and local day ("A001" walk-ins, "C001" appointments); a
lock per office and day (the database write lock on SQLite, an advisory lock on PostgreSQL) plus the unique
(office, day, label) index keep two desks from taking the same number or calling the same ticket.

Who goes next: a checked-in appointment whose time has come (from `EARLY_MINUTES` before it) goes first, in
appointment order; everyone else in order of arrival. Estimated wait: the service time of everyone waiting
ahead (measured today when there are enough samples, else the procedures' expected durations) divided by the
desks that have called someone in the last hour (at least one).

An office may set a daily quota of walk-in tickets (`Office.walk_in_quota`, 0: none): past it the queue refuses a
new one, and the desk offers an appointment instead (checked-in appointments always join).
"""

import math
import zlib
from datetime import UTC, date, datetime, timedelta

from sqlmodel import Session, func, select, text

from pwa_app import db
from pwa_app.common.errors import DomainError
from pwa_app.common.i18n import local, time_label
from pwa_app.common.times import utc_or_now
from pwa_app.models import Appointment, Office, Procedure, QueueTicket
from pwa_app.staff import audit
from pwa_app.staff.permissions import require

UTC = UTC
PREFIX = {"walk_in": "A", "appointment": "C"}
EARLY_MINUTES = 10
DEFAULT_MINUTES = 10
ACTIVE_DESK_MINUTES = 60
MIN_SAMPLES = 3
MAX_DESK = 99
MAX_QUOTA = 9999
BOARD_SIZE = 6


class WalkInError(DomainError):
    """A ticket that cannot be issued, called or finished."""


def local_day(now: datetime | None = None) -> date:
    return local(utc_or_now(now)).date()


def _lock(session: Session, office_id: int, day: date) -> None:
    """Serialise numbering and calling in one office's queue of one day across processes (SQLite: the database's
    write lock)."""
    db.write_lock(session)
    if session.get_bind().dialect.name == "postgresql":
        key = zlib.crc32(f"queue:{office_id}:{day.isoformat()}".encode())
        session.exec(text("SELECT pg_advisory_xact_lock(:k)").bindparams(k=key))


def _next_number(session: Session, office_id: int, day: date, kind: str) -> int:
    last = session.exec(select(func.max(QueueTicket.number)).where(
        QueueTicket.office_id == office_id, QueueTicket.day == day, QueueTicket.kind == kind)).one()
    return (last or 0) + 1


def _waiting(session: Session, office_id: int, day: date) -> list[QueueTicket]:
    return list(session.exec(select(QueueTicket).where(
        QueueTicket.office_id == office_id, QueueTicket.day == day, QueueTicket.status == "waiting")
        .order_by(QueueTicket.issued_at, QueueTicket.id)))


def _service_minutes(session: Session, office_id: int, day: date) -> float | None:
    """The measured average time at the desk today, when there are enough finished tickets."""
    rows = session.exec(select(QueueTicket.called_at, QueueTicket.done_at).where(
        QueueTicket.office_id == office_id, QueueTicket.day == day, QueueTicket.status == "done",
        QueueTicket.called_at != None, QueueTicket.done_at != None)).all()
    if len(rows) < MIN_SAMPLES:
        return None
    return sum((utc_or_now(d) - utc_or_now(c)).total_seconds() for c, d in rows) / len(rows) / 60


def _active_desks(session: Session, office_id: int, day: date, now: datetime) -> int:
    since = now - timedelta(minutes=ACTIVE_DESK_MINUTES)
    desks = session.exec(select(func.count(func.distinct(QueueTicket.desk))).where(
        QueueTicket.office_id == office_id, QueueTicket.day == day, QueueTicket.called_at >= since)).one()
    return max(desks or 0, 1)


def estimate_minutes(session: Session, office_id: int, now: datetime | None = None,
                     ahead: list[QueueTicket] | None = None) -> int:
    """Minutes until someone joining now would be called."""
    now = utc_or_now(now)
    day = local_day(now)
    ahead = _waiting(session, office_id, day) if ahead is None else ahead
    if not ahead:
        return 0
    measured = _service_minutes(session, office_id, day)
    if measured is not None:
        total = measured * len(ahead)
    else:
        durations = dict(session.exec(select(Procedure.id, Procedure.duration_minutes).where(
            Procedure.id.in_({t.procedure_id for t in ahead if t.procedure_id} or {0}))).all())
        total = sum(durations.get(t.procedure_id, DEFAULT_MINUTES) or DEFAULT_MINUTES for t in ahead)
    return math.ceil(total / _active_desks(session, office_id, day, now))


def _new_ticket(session: Session, viewer, office_id: int, kind: str, now: datetime, quota: int = 0,
                **fields) -> QueueTicket:
    day = local_day(now)
    _lock(session, office_id, day)
    number = _next_number(session, office_id, day, kind)
    if quota and number > quota:  # under the lock: two desks cannot both give the last one
        raise WalkInError({"office": "walk_in_quota"})
    ticket = QueueTicket(office_id=office_id, day=day, kind=kind, number=number,
                         label=f"{PREFIX[kind]}{number:03d}", issued_at=now,
                         estimated_wait_minutes=estimate_minutes(session, office_id, now),
                         issued_by=viewer.id if viewer else None, **fields)
    session.add(ticket)
    session.flush()
    return ticket


def issue(session: Session, viewer, office_id: int, procedure_id: int | None,
          now: datetime | None = None) -> QueueTicket:
    """A walk-in ticket for a procedure, with its estimated wait."""
    require(viewer, "queue", office_id)
    office = session.get(Office, office_id)
    if office is None:
        raise WalkInError({"office": "not_found"})
    if procedure_id is not None and session.get(Procedure, procedure_id) is None:
        raise WalkInError({"procedure": "not_found"})
    ticket = _new_ticket(session, viewer, office_id, "walk_in", utc_or_now(now), quota=office.walk_in_quota,
                         procedure_id=procedure_id)
    audit.audit(session, viewer, "queue.issue", f"ticket:{ticket.id}", office_id=office_id, label=ticket.label)
    return ticket


def set_quota(session: Session, viewer, office_id: int, quota) -> Office:
    """The office's daily quota of walk-in tickets (0 or blank: no limit); its managers and administrators set it."""
    require(viewer, "setup_office", office_id)
    office = session.get(Office, office_id)
    if office is None:
        raise WalkInError({"office": "not_found"})
    try:
        value = int(str(quota).strip() or "0")
    except ValueError:
        raise WalkInError({"walk_in_quota": "number"}) from None
    if not 0 <= value <= MAX_QUOTA:
        raise WalkInError({"walk_in_quota": "range"})
    before, office.walk_in_quota = office.walk_in_quota, value
    session.add(office)
    session.flush()
    audit.audit(session, viewer, "queue.quota", f"office:{office_id}", before=before, walk_in_quota=value)
    return office


def enqueue_appointment(session: Session, viewer, appt: Appointment, now: datetime | None = None) -> QueueTicket:
    """A checked-in appointment joins the queue (arrival = now)."""
    found = session.exec(select(QueueTicket).where(QueueTicket.appointment_id == appt.id)).first()
    if found:
        return found
    return _new_ticket(session, viewer, appt.office_id, "appointment", utc_or_now(now), procedure_id=appt.procedure_id,
                       appointment_id=appt.id)


def _priority(ticket: QueueTicket, starts: dict[int, datetime], now: datetime) -> tuple:
    start = starts.get(ticket.appointment_id) if ticket.appointment_id else None
    if start is not None and start <= now + timedelta(minutes=EARLY_MINUTES):
        return (0, start, ticket.id)
    return (1, utc_or_now(ticket.issued_at), ticket.id)


def order(session: Session, tickets: list[QueueTicket], now: datetime) -> list[QueueTicket]:
    ids = [t.appointment_id for t in tickets if t.appointment_id]
    starts = {a: utc_or_now(s) for a, s in session.exec(select(Appointment.id, Appointment.starts_at)
                                                   .where(Appointment.id.in_(ids or [0]))).all()}
    return sorted(tickets, key=lambda t: _priority(t, starts, now))


def _finish_desk(session: Session, office_id: int, day: date, desk: int, now: datetime) -> None:
    """Calling the next person ends the desk's current one (attended)."""
    for current in session.exec(select(QueueTicket).where(
            QueueTicket.office_id == office_id, QueueTicket.day == day, QueueTicket.desk == desk,
            QueueTicket.status == "called")):
        _close(session, current, "done", now)


def _close(session: Session, ticket: QueueTicket, outcome: str, now: datetime) -> None:
    ticket.status, ticket.done_at = outcome, now
    session.add(ticket)
    if ticket.appointment_id:
        appt = session.get(Appointment, ticket.appointment_id)
        if appt and appt.status in ("booked", "checked_in"):
            appt.status = "done" if outcome == "done" else "no_show"
            session.add(appt)


def _check_desk(desk) -> int:
    try:
        desk = int(desk)
    except (TypeError, ValueError):
        raise WalkInError({"desk": "number"}) from None
    if not 1 <= desk <= MAX_DESK:
        raise WalkInError({"desk": "range"})
    return desk


def call_next(session: Session, viewer, office_id: int, desk, now: datetime | None = None) -> QueueTicket | None:
    """Call whoever is next to desk `desk`; None when nobody is waiting."""
    require(viewer, "queue", office_id)
    desk, now = _check_desk(desk), utc_or_now(now)
    day = local_day(now)
    _lock(session, office_id, day)
    waiting = session.exec(select(QueueTicket).where(
        QueueTicket.office_id == office_id, QueueTicket.day == day, QueueTicket.status == "waiting")
        .with_for_update()).all()
    _finish_desk(session, office_id, day, desk, now)
    if not waiting:
        session.flush()
        return None
    ticket = order(session, list(waiting), now)[0]
    return _call(session, viewer, ticket, desk, now)


def _call(session: Session, viewer, ticket: QueueTicket, desk: int, now: datetime) -> QueueTicket:
    ticket.status, ticket.desk, ticket.called_at, ticket.called_by = "called", desk, now, viewer.id
    session.add(ticket)
    session.flush()
    audit.audit(session, viewer, "queue.call", f"ticket:{ticket.id}", office_id=ticket.office_id, label=ticket.label,
               desk=desk)
    return ticket


def call_ticket(session: Session, viewer, ticket_id: int, desk, now: datetime | None = None) -> QueueTicket:
    """Call one waiting ticket out of turn (e.g. someone who needs help)."""
    ticket = session.get(QueueTicket, ticket_id)
    if ticket is None:
        raise WalkInError({"ticket": "not_found"})
    require(viewer, "queue", ticket.office_id)
    desk, now = _check_desk(desk), utc_or_now(now)
    _lock(session, ticket.office_id, ticket.day)
    session.refresh(ticket)
    if ticket.status != "waiting":
        raise WalkInError({"ticket": "not_waiting"})
    _finish_desk(session, ticket.office_id, ticket.day, desk, now)
    return _call(session, viewer, ticket, desk, now)


def finish(session: Session, viewer, ticket_id: int, outcome: str, now: datetime | None = None) -> QueueTicket:
    """The person called was attended ("done") or did not come to the desk ("no_show")."""
    ticket = session.get(QueueTicket, ticket_id)
    if ticket is None:
        raise WalkInError({"ticket": "not_found"})
    require(viewer, "queue", ticket.office_id)
    if outcome not in ("done", "no_show"):
        raise WalkInError({"ticket": "unknown_status"})
    if ticket.status != "called":
        raise WalkInError({"ticket": "not_called"})
    _close(session, ticket, outcome, utc_or_now(now))
    session.flush()
    audit.audit(session, viewer, f"queue.{outcome}", f"ticket:{ticket.id}", office_id=ticket.office_id,
               label=ticket.label)
    return ticket


def tickets_for_appointments(session: Session, appointment_ids: list[int]) -> dict[int, str]:
    if not appointment_ids:
        return {}
    return dict(session.exec(select(QueueTicket.appointment_id, QueueTicket.label)
                             .where(QueueTicket.appointment_id.in_(appointment_ids))).all())


def cancel_for_appointment(session: Session, appointment_id: int) -> None:
    for t in session.exec(select(QueueTicket).where(QueueTicket.appointment_id == appointment_id,
                                                    QueueTicket.status.in_(["waiting", "called"]))):
        t.status = "cancelled"
        session.add(t)


def close_for_appointment(session: Session, appointment_id: int, outcome: str, now: datetime | None = None) -> None:
    """The day view marked an appointment done or no-show: its ticket follows."""
    for t in session.exec(select(QueueTicket).where(QueueTicket.appointment_id == appointment_id,
                                                    QueueTicket.status.in_(["waiting", "called"]))):
        t.status, t.done_at = outcome, utc_or_now(now)
        t.called_at = t.called_at or t.done_at
        session.add(t)


# --- views ----------------------------------------------------------------------------------------------------


def _minutes(a: datetime | None, b: datetime | None) -> int:
    return int((utc_or_now(b) - utc_or_now(a)).total_seconds() // 60) if a and b else 0


def ticket_view(ticket: QueueTicket, procedures: dict[int, str], now: datetime) -> dict:
    return {"id": ticket.id, "label": ticket.label, "kind": ticket.kind, "status": ticket.status,
            "procedure": procedures.get(ticket.procedure_id, ""), "desk": ticket.desk or 0,
            "issued": time_label(local(utc_or_now(ticket.issued_at)), "es"),
            "waited": _minutes(ticket.issued_at, ticket.called_at or now),
            "estimate": ticket.estimated_wait_minutes}


def _procedure_names(session: Session, tickets: list[QueueTicket]) -> dict[int, str]:
    ids = {t.procedure_id for t in tickets if t.procedure_id}
    return dict(session.exec(select(Procedure.id, Procedure.name).where(Procedure.id.in_(ids or {0}))).all())


def board(session: Session, office_id: int, now: datetime | None = None) -> dict:
    """What the wall screen shows: the latest calls (newest first) and how many are waiting. No names."""
    now = utc_or_now(now)
    day = local_day(now)
    called = session.exec(select(QueueTicket).where(
        QueueTicket.office_id == office_id, QueueTicket.day == day, QueueTicket.called_at != None,
        QueueTicket.status.in_(["called", "done", "no_show"]))
        .order_by(QueueTicket.called_at.desc(), QueueTicket.id.desc()).limit(BOARD_SIZE)).all()
    waiting = _waiting(session, office_id, day)
    return {
        "calls": [{"label": t.label, "desk": t.desk or 0, "current": t.status == "called",
                   "at": time_label(local(utc_or_now(t.called_at)), "es")} for t in called],
        "waiting": len(waiting),
        "estimate": estimate_minutes(session, office_id, now, waiting),
    }


def desk_view(session: Session, viewer, office_id: int, desk, now: datetime | None = None) -> dict:
    """The desk console: who this desk is serving, who is waiting (in calling order) and today's totals."""
    require(viewer, "queue", office_id)
    now = utc_or_now(now)
    day = local_day(now)
    desk = _check_desk(desk)
    waiting = order(session, _waiting(session, office_id, day), now)
    current = session.exec(select(QueueTicket).where(
        QueueTicket.office_id == office_id, QueueTicket.day == day, QueueTicket.desk == desk,
        QueueTicket.status == "called").order_by(QueueTicket.called_at.desc())).first()
    names = _procedure_names(session, waiting + ([current] if current else []))
    served = session.exec(select(func.count()).select_from(QueueTicket).where(
        QueueTicket.office_id == office_id, QueueTicket.day == day, QueueTicket.status == "done")).one()
    office = session.get(Office, office_id)
    return {
        "current": ticket_view(current, names, now) if current else None,
        "waiting": [ticket_view(t, names, now) for t in waiting],
        "served": served,
        "estimate": estimate_minutes(session, office_id, now, waiting),
        "walk_ins": _next_number(session, office_id, day, "walk_in") - 1,  # walk-in tickets given today
        "quota": office.walk_in_quota if office else 0,
    }
