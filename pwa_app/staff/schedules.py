"""When offices open: weekly schedules, closures and holidays (a closure may cancel the appointments
of its day, and the citizens are told), and the booking horizon. Availability follows at once."""

from datetime import date, datetime

from sqlmodel import Session, or_, select

from pwa_app import db
from pwa_app.catalogue import published
from pwa_app.common import codes, events
from pwa_app.common.i18n import local, time_label
from pwa_app.common.times import utcnow
from pwa_app.models import Appointment, Closure, Municipality, Office, Procedure, ProcedureOffice, PushLink, Schedule
from pwa_app.staff import audit
from pwa_app.staff import walk_in
from pwa_app.staff.desk import day_bounds
from pwa_app.staff.forms import date_field, int_field, text_field, time_field, today
from pwa_app.staff.permissions import StaffError, Viewer, require


HORIZON_MAX = 365
STAFF_HOURS_MAX = 30 * 24  # seats kept for staff open to the web at most this many hours before the slot


# --- weekly schedules -----------------------------------------------------------------------------------------


def schedules(session: Session, viewer: Viewer, office_id: int, procedure_id: int | None = None) -> list[Schedule]:
    require(viewer, "setup_office", office_id)
    query = select(Schedule).where(Schedule.office_id == office_id)
    if procedure_id:
        query = query.where(Schedule.procedure_id == procedure_id)
    return list(session.exec(query.order_by(Schedule.procedure_id, Schedule.weekday, Schedule.opens)))


def save_schedule(session: Session, viewer: Viewer, schedule_id: int | None, data: dict) -> Schedule:
    """A weekly opening of an office for a procedure: `capacity` desks, slots of `slot_minutes`; `staff_seats` of
    each slot kept for people who phone or come to the counter until `staff_seats_hours` before it starts (then
    the web may take them too). Blank: none kept, 24 hours."""
    errors: dict[str, str] = {}
    office_id = int_field(data.get("office_id"), "office_id", errors, 1, 10**9)
    require(viewer, "setup_office", office_id)
    procedure_id = int_field(data.get("procedure_id"), "procedure_id", errors, 1, 10**9)
    if "procedure_id" not in errors and session.get(Procedure, procedure_id) is None:
        errors["procedure_id"] = "required"
    weekday = int_field(data.get("weekday"), "weekday", errors, 0, 6)
    opens, closes = time_field(data.get("opens"), "opens", errors), time_field(data.get("closes"), "closes", errors)
    slot_minutes = int_field(data.get("slot_minutes"), "slot_minutes", errors, 5, 240)
    capacity = int_field(data.get("capacity"), "capacity", errors, 1, 50)
    staff_seats = int_field(data.get("staff_seats") or "0", "staff_seats", errors, 0, 50)
    staff_hours = int_field(data.get("staff_seats_hours") or "24", "staff_seats_hours", errors, 0, STAFF_HOURS_MAX)
    if not errors.keys() & {"capacity", "staff_seats"} and staff_seats > capacity:
        errors["staff_seats"] = "more_than_capacity"
    valid_from = date_field(data.get("valid_from"), "valid_from", errors, required=False)
    valid_until = date_field(data.get("valid_until"), "valid_until", errors, required=False)
    if not errors.keys() & {"opens", "closes", "slot_minutes"}:
        length = (datetime.combine(date.min, closes) - datetime.combine(date.min, opens)).total_seconds() / 60
        if length < slot_minutes:
            errors["closes"] = "closes_before_opens" if length <= 0 else "shorter_than_slot"
    if valid_from and valid_until and valid_until < valid_from:
        errors["valid_until"] = "range"
    if errors:
        raise StaffError(errors)
    if schedule_id is None:
        row = Schedule(office_id=office_id, procedure_id=procedure_id, weekday=weekday, opens=opens, closes=closes)
    else:
        row = session.get(Schedule, schedule_id)
        if row is None:
            raise StaffError({"form": "not_found"})
        require(viewer, "setup_office", row.office_id)
    row.office_id, row.procedure_id, row.weekday, row.opens, row.closes = (
        office_id, procedure_id, weekday, opens, closes)
    row.slot_minutes, row.capacity, row.valid_from, row.valid_until = slot_minutes, capacity, valid_from, valid_until
    row.staff_seats, row.staff_seats_hours = staff_seats, staff_hours
    session.add(row)
    if session.get(ProcedureOffice, (procedure_id, office_id)) is None:  # a schedule means the office handles it
        session.add(ProcedureOffice(procedure_id=procedure_id, office_id=office_id))
        published.changed()
    session.flush()
    audit.audit(session, viewer, "schedule.save", f"schedule:{row.id}", office_id=office_id,
               procedure_id=procedure_id, weekday=weekday, opens=opens.isoformat("minutes"),
               closes=closes.isoformat("minutes"), slot_minutes=slot_minutes, capacity=capacity,
               staff_seats=staff_seats, staff_seats_hours=staff_hours)
    return row


def delete_schedule(session: Session, viewer: Viewer, schedule_id: int) -> None:
    """Booked appointments stay booked; only new bookings follow the change."""
    row = session.get(Schedule, schedule_id)
    if row is None:
        require(viewer, "setup_office")
        return
    require(viewer, "setup_office", row.office_id)
    session.delete(row)
    session.flush()
    audit.audit(session, viewer, "schedule.delete", f"schedule:{schedule_id}", office_id=row.office_id,
               procedure_id=row.procedure_id, weekday=row.weekday)


# --- closures and holidays ------------------------------------------------------------------------------------


def closures(session: Session, viewer: Viewer, since: date | None = None) -> list[Closure]:
    """Coming closures the viewer may see: public holidays (every office) and their offices' own."""
    require(viewer, "setup_office")
    rows = session.exec(select(Closure).where(Closure.day >= (since or today())).order_by(Closure.day))
    return [c for c in rows if c.office_id is None or viewer.can_office(c.office_id)]


def closure_conflicts(session: Session, office_id: int | None, day: date) -> list[Appointment]:
    """Appointments still booked on a local day at an office (at every office when office_id is None)."""
    start, end = day_bounds(day)
    query = select(Appointment).where(Appointment.starts_at >= start, Appointment.starts_at < end,
                                      Appointment.status == "booked")
    if office_id is not None:
        query = query.where(Appointment.office_id == office_id)
    return list(session.exec(query.order_by(Appointment.starts_at)))


def add_closure(session: Session, viewer: Viewer, office_id: int | None, day, reason: str,
                on_conflict: str = "ask", now: datetime | None = None) -> tuple[Closure, int]:
    """Close an office (or, office_id None, every office: a public holiday) for a day. When appointments are
    booked that day, `on_conflict` says what to do with them: "ask" refuses with code "has_appointments" and their
    number; "cancel" cancels them (seats freed) and tells each citizen by e-mail and web push, where they can be
    reached (the others are on the call list, `call_list`); "keep" keeps them. Returns (closure, cancelled)."""
    require(viewer, "setup_town" if office_id is None else "setup_office", office_id)
    errors: dict[str, str] = {}
    day = date_field(day, "day", errors)
    reason = text_field(reason, "reason", errors, limit=200)
    if day and day < today() and now is None:
        errors["day"] = "past"
    if office_id is not None and session.get(Office, office_id) is None:
        errors["office_id"] = "not_found"
    if day and not errors:
        db.write_lock(session)  # no booking may land on the day between the look at it and the closure
        same = session.exec(select(Closure).where(Closure.day == day, or_(
            Closure.office_id == office_id, Closure.office_id == None))).first()
        if same:
            errors["day"] = "already_closed"
    if errors:
        raise StaffError(errors)
    booked = closure_conflicts(session, office_id, day)
    if booked and on_conflict not in ("cancel", "keep"):
        raise StaffError({"day": "has_appointments"}, count=len(booked))
    closure = Closure(office_id=office_id, day=day, reason=reason)
    session.add(closure)
    session.flush()
    cancelled = 0
    if booked and on_conflict == "cancel":
        moment = now or utcnow()
        for appt in booked:
            appt.status, appt.seat, appt.cancelled_at, appt.cancel_reason = "cancelled", None, moment, "closure"
            session.add(appt)
            events.record(session, "appointment_closed", appt=appt, reason=reason, now=moment)
            walk_in.cancel_for_appointment(session, appt.id)
            cancelled += 1
        session.flush()
    audit.audit(session, viewer, "closure.create", f"closure:{closure.id}", office_id=office_id, day=day.isoformat(),
               reason=reason, booked=len(booked), decision=on_conflict if booked else "none", cancelled=cancelled)
    return closure, cancelled


def call_list(session: Session, viewer: Viewer, since: date | None = None) -> list[dict]:
    """Coming appointments a closure cancelled whose citizen neither left an e-mail nor follows them by web push:
    staff must phone them (or, without a phone, wait for them at the door). In time order."""
    require(viewer, "setup_office")
    followed = select(PushLink.id).where(PushLink.appointment_id == Appointment.id).exists()
    rows = session.exec(select(Appointment).where(
        Appointment.cancel_reason == "closure", Appointment.email == "", ~followed,
        Appointment.starts_at >= day_bounds(since or today())[0]).order_by(Appointment.starts_at, Appointment.id))
    rows = [a for a in rows if viewer.can_office(a.office_id)]
    procedures = {p.id: p.name for p in session.exec(select(Procedure))}
    offices = {o.id: o.name for o in session.exec(select(Office))}
    return [{"day": local(a.starts_at).strftime("%d/%m/%Y"), "time": time_label(local(a.starts_at), "es"),
             "name": a.name, "phone": a.phone, "procedure": procedures.get(a.procedure_id, ""),
             "office": offices.get(a.office_id, ""), "code": codes.format_code(a.code)} for a in rows]


def delete_closure(session: Session, viewer: Viewer, closure_id: int) -> None:
    """Reopen: the day can be booked again at once (cancelled appointments stay cancelled)."""
    row = session.get(Closure, closure_id)
    if row is None:
        require(viewer, "setup_office")
        return
    require(viewer, "setup_town" if row.office_id is None else "setup_office", row.office_id)
    session.delete(row)
    session.flush()
    audit.audit(session, viewer, "closure.delete", f"closure:{closure_id}", office_id=row.office_id,
               day=row.day.isoformat(), reason=row.reason)


# --- booking rules --------------------------------------------------------------------------------------------


def municipality(session: Session) -> Municipality:
    return session.exec(select(Municipality)).first()


def set_booking_rules(session: Session, viewer: Viewer, horizon_days, min_notice_minutes) -> Municipality:
    require(viewer, "setup_town")
    errors: dict[str, str] = {}
    horizon = int_field(horizon_days, "booking_horizon_days", errors, 1, HORIZON_MAX)
    notice = int_field(min_notice_minutes, "min_notice_minutes", errors, 0, 7 * 24 * 60)
    if errors:
        raise StaffError(errors)
    town = municipality(session)
    before = (town.booking_horizon_days, town.min_notice_minutes)
    town.booking_horizon_days, town.min_notice_minutes = horizon, notice
    session.add(town)
    session.flush()
    audit.audit(session, viewer, "municipality.booking_rules", f"municipality:{town.id}", before=before,
               booking_horizon_days=horizon, min_notice_minutes=notice)
    return town
