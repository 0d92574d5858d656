"""The desk's day: the appointments of an office on a day, check-in (which gives a walk-in queue
ticket), done and no-show."""

from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import func
from sqlmodel import Session, select

from pwa_app.appointments import visits
from pwa_app.common import codes
from pwa_app.common.i18n import TZ, local, long_day_label, time_label
from pwa_app.common.times import to_utc, utcnow
from pwa_app.models import Appointment, Office, Procedure, QueueTicket, Requirement
from pwa_app.staff import audit
from pwa_app.staff import walk_in
from pwa_app.staff.permissions import StaffError, Viewer, require


OUTCOMES = ("done", "no_show")


# --- the day view ---------------------------------------------------------------------------------------------


def day_bounds(day: date) -> tuple[datetime, datetime]:
    """A local day as [start, end) in UTC, the way times are stored."""
    start = datetime.combine(day, time(0), tzinfo=TZ).astimezone(UTC)
    return start, datetime.combine(day + timedelta(days=1), time(0), tzinfo=TZ).astimezone(UTC)


def day_appointments(session: Session, viewer: Viewer, office_id: int, day: date) -> list[dict]:
    """An office's appointments of a local day, in time order, with what each citizen must bring."""
    require(viewer, "day", office_id)
    start, end = day_bounds(day)
    rows = session.exec(select(Appointment).where(Appointment.office_id == office_id, Appointment.starts_at >= start,
                                                  Appointment.starts_at < end)
                        .order_by(Appointment.starts_at, Appointment.id)).all()
    names = {p.id: p for p in session.exec(select(Procedure).where(
        Procedure.id.in_({a.procedure_id for a in rows} or {0})))}
    needs: dict[int, list[str]] = {}
    for r in session.exec(select(Requirement).where(Requirement.procedure_id.in_(list(names) or [0]))
                          .order_by(Requirement.position)):
        needs.setdefault(r.procedure_id, []).append(r.text + (" (si procede)" if r.optional else ""))
    tickets = walk_in.tickets_for_appointments(session, [a.id for a in rows])
    firsts = {a.id: a for a in rows}
    return [{
        "id": a.id, "code": codes.format_code(firsts[a.visit_of].code if a.visit_of in firsts else a.code),
        "visit": visit_note(a, rows, firsts), "time": time_label(local(a.starts_at), "es"),
        "name": a.name, "phone": a.phone, "procedure": names[a.procedure_id].name if a.procedure_id in names else "",
        "status": a.status, "requirements": needs.get(a.procedure_id, []),
        "ticket": tickets.get(a.id, ""), "document_hint": ("···" + a.document[-4:]) if a.document else "",
        "channel": a.channel, "starts_at": to_utc(a.starts_at).isoformat(),
        "procedure_slug": names[a.procedure_id].slug if a.procedure_id in names else "",
    } for a in rows]


def visit_note(a: Appointment, rows: list[Appointment], firsts: dict[int, Appointment]) -> str:
    """Who comes together (a visit of several people or procedures: one code) and who booked for the person."""
    first = firsts.get(a.visit_of, a)
    people = [r.name for r in rows if (r.id == first.id or r.visit_of == first.id)
              and (r.procedure_id, r.starts_at) == (first.procedure_id, first.starts_at)]
    notes = [f"Visita de {len(people)} personas: {', '.join(people)}" if len(people) > 1 else "",
             f"Con la cita de {first.name}" if a.visit_of and len(people) == 1 else "",
             f"Reservada por {first.representative_name} ({first.representative_email or first.representative_phone})"
             if first.representative_name else ""]
    return " · ".join(n for n in notes if n)


def day_counts(session: Session, viewer: Viewer, office_id: int, day: date) -> dict:
    """How an office's day is going: appointments per status and people waiting in the queue."""
    require(viewer, "home", office_id)
    start, end = day_bounds(day)
    counts = dict(session.exec(select(Appointment.status, func.count()).where(
        Appointment.office_id == office_id, Appointment.starts_at >= start, Appointment.starts_at < end)
        .group_by(Appointment.status)).all())
    waiting = session.exec(select(func.count()).select_from(QueueTicket).where(
        QueueTicket.office_id == office_id, QueueTicket.day == day, QueueTicket.status == "waiting")).one()
    return {"booked": counts.get("booked", 0), "checked_in": counts.get("checked_in", 0),
            "done": counts.get("done", 0), "no_show": counts.get("no_show", 0), "waiting": waiting}


def check_in(session: Session, viewer: Viewer, code: str, office_id: int | None = None,
             now: datetime | None = None) -> tuple[Appointment, str]:
    """The citizen has arrived: by the booking code typed (or scanned from their QR). Returns the appointment and
    its queue ticket label. Only today's appointments of the viewer's offices."""
    require(viewer, "day")
    now = now or utcnow()
    try:
        normal = codes.normalize_code(code)
    except ValueError:
        raise StaffError({"code": "code_format"}) from None
    # Locked: two desks checking in one code at once queue it once (the second sees it checked in).
    appt = session.exec(select(Appointment).where(Appointment.code == normal).with_for_update()).first()
    if appt is None:
        raise StaffError({"code": "not_found"})
    if not viewer.can_office(appt.office_id) or (office_id is not None and appt.office_id != office_id):
        office = session.get(Office, appt.office_id)
        raise StaffError({"code": "other_office"}, office=office.name if office else "")
    if appt.status == "cancelled":  # whatever its day: that it was cancelled is what the desk must say
        raise StaffError({"code": "cancelled"}, day=long_day_label(local(appt.cancelled_at).date(), "es")
                         if appt.cancelled_at else "")
    day = local(appt.starts_at).date()
    if day != local(now).date():
        raise StaffError({"code": "not_today"}, day=long_day_label(day, "es"), time=time_label(local(appt.starts_at),
                                                                                              "es"))
    if appt.status in ("done", "no_show"):
        raise StaffError({"code": "closed"})
    if appt.status == "checked_in":
        return appt, walk_in.tickets_for_appointments(session, [appt.id]).get(appt.id, "")
    appt.status = "checked_in"
    session.add(appt)
    for other in visits.rows_of(session, appt):  # a visit arrives together: its people and procedures, one ticket
        if other.status == "booked":
            other.status = "checked_in"
            session.add(other)
    ticket = walk_in.enqueue_appointment(session, viewer, appt, now)
    audit.audit(session, viewer, "appointment.check_in", f"appointment:{appt.id}", office_id=appt.office_id,
               ticket=ticket.label)
    return appt, ticket.label


def set_outcome(session: Session, viewer: Viewer, appointment_id: int, outcome: str,
                now: datetime | None = None) -> Appointment:
    """Attended ("done") or did not come ("no_show")."""
    require(viewer, "day")
    appt = session.get(Appointment, appointment_id)
    if appt is None:
        raise StaffError({"form": "not_found"})
    require(viewer, "day", appt.office_id)
    if outcome not in OUTCOMES:
        raise StaffError({"form": "unknown_status"})
    if appt.status == "cancelled":
        raise StaffError({"form": "cancelled"})
    if outcome == "no_show" and appt.status != "booked":
        raise StaffError({"form": "checked_in"})
    appt.status = outcome
    session.add(appt)
    walk_in.close_for_appointment(session, appt.id, outcome, now)
    session.flush()
    audit.audit(session, viewer, f"appointment.{outcome}", f"appointment:{appt.id}", office_id=appt.office_id)
    return appt
