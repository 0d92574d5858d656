"""The staff workspace's domain: set-up (offices, procedures and checklists, weekly schedules, closures, booking
horizon), the day view (check in, done, no-show), the requests inbox and staff accounts. Plain Python, no Reflex.

Every function takes the `Viewer` (pwa_app.staff.auth) and checks its permission and office scope itself, so
no caller can forget; errors are `StaffError` with a code per field; every write records an AuditEvent. The
caller commits. Availability follows at once: slots are computed from the Schedule/Closure/Municipality rows on
every request, and catalogue edits clear the citizen API's catalogue cache (`published.changed`).
"""

import json
import re
import secrets
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import func
from sqlmodel import Session, or_, select

from pwa_app import db
from pwa_app.catalogue import published, translations
from pwa_app.common import codes, events
from pwa_app.common.i18n import TZ, local, long_day_label, time_label
from pwa_app.models import (
    Appointment, Area, Closure, Department, DisplayToken, Municipality, Office, Procedure, ProcedureOffice, PushLink,
    QueueTicket, RequestAssignment, RequestType, Requirement, Schedule, ServiceRequest, StaffOffice, StaffUser,
    utcnow,
)
from pwa_app.notifications import mail, push
from pwa_app.service_requests import rules, views, workflow
from pwa_app.staff import auth, walk_in
from pwa_app.staff.auth import AuthError, Viewer

SLUG_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
UNSAFE_RE = re.compile(r"[<>{}\\\x00-\x08\x0b-\x1f]")
HORIZON_MAX = 365
OUTCOMES = ("done", "no_show")
UTC = UTC


class StaffError(Exception):
    """A refused staff action. `errors` maps a field (or "form") to a code; `info` carries numbers for messages."""

    def __init__(self, errors: dict[str, str], **info):
        super().__init__(errors)
        self.errors, self.info = errors, info


class Forbidden(StaffError):
    def __init__(self):
        super().__init__({"form": "forbidden"})


def require(viewer: Viewer | None, permission: str, office_id: int | None = -1) -> Viewer:
    """The viewer, if they hold `permission` (and may act on `office_id` when one is given)."""
    if viewer is None or not viewer.can(permission):
        raise Forbidden()
    if office_id != -1 and not viewer.can_office(office_id):
        raise Forbidden()
    return viewer


def today() -> date:
    return datetime.now(TZ).date()


def _text(raw, field: str, errors: dict, *, required: bool = True, limit: int = 200, multiline: bool = False) -> str:
    value = str(raw or "").strip() if multiline else " ".join(str(raw or "").split())
    if required and not value:
        errors[field] = "required"
    elif len(value) > limit:
        errors[field] = "too_long"
    elif UNSAFE_RE.search(value.replace("\n", " ").replace("\t", " ")):
        errors[field] = "chars"
    return value


def _int(raw, field: str, errors: dict, low: int, high: int) -> int:
    try:
        value = int(str(raw).strip())
    except (TypeError, ValueError):
        errors[field] = "number"
        return low
    if not low <= value <= high:
        errors[field] = "range"
    return value


def _time(raw, field: str, errors: dict) -> time:
    try:
        hh, mm = str(raw).strip().split(":")[:2]
        return time(int(hh), int(mm))
    except (TypeError, ValueError):
        errors[field] = "time"
        return time(0, 0)


def _date(raw, field: str, errors: dict, required: bool = True) -> date | None:
    if isinstance(raw, date):
        return raw
    if not raw:
        if required:
            errors[field] = "required"
        return None
    try:
        return date.fromisoformat(str(raw).strip())
    except ValueError:
        errors[field] = "date"
        return None


def _bool(raw) -> bool:
    return raw in (True, "true", "on", "1", 1, "yes")


# --- offices --------------------------------------------------------------------------------------------------

OFFICE_FIELDS = {"name": 200, "address": 200, "opening_hours": 300, "accessibility": 600, "phone": 40, "map_url": 300}


def offices(session: Session, viewer: Viewer) -> list[Office]:
    """The offices this member of staff works for (all of them for administrators)."""
    rows = session.exec(select(Office).order_by(Office.id)).all()
    return [o for o in rows if viewer.can_office(o.id)]


def office_of(session: Session, viewer: Viewer, office_id: int | None) -> Office:
    """An office the viewer works for: the one asked for, else their first."""
    mine = offices(session, viewer)
    if not mine:
        raise StaffError({"office": "no_office"})
    if office_id is None:
        return mine[0]
    found = next((o for o in mine if o.id == office_id), None)
    if found is None:
        raise Forbidden()
    return found


def save_office(session: Session, viewer: Viewer, office_id: int | None, data: dict) -> Office:
    """Create an office (administrators) or edit one (its managers too)."""
    if office_id is None:
        require(viewer, "setup_town")
        office = Office(slug="", name="", address="", opening_hours="")
    else:
        require(viewer, "setup_office", office_id)
        office = session.get(Office, office_id)
        if office is None:
            raise StaffError({"office": "not_found"})
    errors: dict[str, str] = {}
    values = {f: _text(data.get(f, getattr(office, f)), f, errors, required=f in ("name", "address", "opening_hours"),
                       limit=limit, multiline=f == "accessibility") for f, limit in OFFICE_FIELDS.items()}
    if office_id is None:
        slug = str(data.get("slug") or "").strip().lower()
        if not SLUG_RE.match(slug) or len(slug) > 80:
            errors["slug"] = "slug"
        elif session.exec(select(Office).where(Office.slug == slug)).first():
            errors["slug"] = "exists"
        office.slug = slug
    if errors:
        raise StaffError(errors)
    before = translations.snapshot(office)
    for f, value in values.items():
        setattr(office, f, value)
    session.add(office)
    session.flush()
    translations.mark_stale(session, office, before)
    auth.audit(session, viewer, "office.create" if office_id is None else "office.update", f"office:{office.id}",
               **values)
    published.changed()
    return office


# --- procedures and their checklists -------------------------------------------------------------------------

PROCEDURE_TEXT = {"name": 200, "summary": 300, "description": 4000, "who_can_apply": 1000, "fee": 200,
                  "online_url": 300, "keywords": 500}


def procedures(session: Session) -> list[Procedure]:
    return list(session.exec(select(Procedure).order_by(Procedure.name)))


def areas(session: Session) -> list[Area]:
    return list(session.exec(select(Area).order_by(Area.position)))


def procedure_office_ids(session: Session, procedure_id: int) -> list[int]:
    return sorted(session.exec(select(ProcedureOffice.office_id).where(ProcedureOffice.procedure_id == procedure_id)))


def save_procedure(session: Session, viewer: Viewer, procedure_id: int | None, data: dict) -> Procedure:
    """Create or edit a procedure (town-wide: administrators), including which offices handle it."""
    require(viewer, "setup_town")
    proc = session.get(Procedure, procedure_id) if procedure_id else Procedure(
        slug="", area_id=0, name="", summary="", description="", who_can_apply="")
    if proc is None:
        raise StaffError({"procedure": "not_found"})
    errors: dict[str, str] = {}
    values = {f: _text(data.get(f, getattr(proc, f)), f, errors, required=f in ("name", "summary"), limit=limit,
                       multiline=f in ("description", "who_can_apply")) for f, limit in PROCEDURE_TEXT.items()}
    duration = _int(data.get("duration_minutes", proc.duration_minutes), "duration_minutes", errors, 1, 480)
    area_id = _int(data.get("area_id", proc.area_id), "area_id", errors, 1, 10**9)
    if "area_id" not in errors and session.get(Area, area_id) is None:
        errors["area_id"] = "required"
    if procedure_id is None:
        slug = str(data.get("slug") or "").strip().lower()
        if not SLUG_RE.match(slug) or len(slug) > 80:
            errors["slug"] = "slug"
        elif session.exec(select(Procedure).where(Procedure.slug == slug)).first():
            errors["slug"] = "exists"
        proc.slug = slug
    office_ids = None
    if "office_ids" in data:
        office_ids = {int(o) for o in data["office_ids"]}
        known = set(session.exec(select(Office.id)))
        if not office_ids <= known:
            errors["office_ids"] = "not_found"
    if errors:
        raise StaffError(errors)
    before = translations.snapshot(proc)
    for f, value in values.items():
        setattr(proc, f, value)
    proc.duration_minutes, proc.area_id = duration, area_id
    for flag in ("needs_appointment", "requires_document"):
        if flag in data:
            setattr(proc, flag, _bool(data[flag]))
    session.add(proc)
    session.flush()
    translations.mark_stale(session, proc, before)
    if office_ids is not None:
        current = set(procedure_office_ids(session, proc.id))
        for gone in current - office_ids:
            session.delete(session.get(ProcedureOffice, (proc.id, gone)))
        session.add_all(ProcedureOffice(procedure_id=proc.id, office_id=o) for o in office_ids - current)
        session.flush()
    auth.audit(session, viewer, "procedure.create" if procedure_id is None else "procedure.update",
               f"procedure:{proc.id}", duration_minutes=duration, office_ids=sorted(office_ids or []),
               **{k: v for k, v in values.items() if k in ("name", "fee")})
    published.changed()
    return proc


def procedures_at(session: Session, office_id: int) -> list[Procedure]:
    """The procedures an office handles (for walk-in tickets)."""
    return list(session.exec(select(Procedure).join(ProcedureOffice, ProcedureOffice.procedure_id == Procedure.id)
                             .where(ProcedureOffice.office_id == office_id).order_by(Procedure.name)))


def requirements(session: Session, procedure_id: int) -> list[Requirement]:
    return list(session.exec(select(Requirement).where(Requirement.procedure_id == procedure_id)
                             .order_by(Requirement.position, Requirement.id)))


def save_requirement(session: Session, viewer: Viewer, procedure_id: int, requirement_id: int | None,
                     data: dict) -> Requirement:
    require(viewer, "setup_town")
    if session.get(Procedure, procedure_id) is None:
        raise StaffError({"procedure": "not_found"})
    errors: dict[str, str] = {}
    text = _text(data.get("text"), "text", errors, limit=300)
    note = _text(data.get("note"), "note", errors, required=False, limit=600)
    if errors:
        raise StaffError(errors)
    if requirement_id is None:
        last = session.exec(select(func.max(Requirement.position))
                            .where(Requirement.procedure_id == procedure_id)).one() or 0
        row = Requirement(procedure_id=procedure_id, position=last + 1, text=text)
    else:
        row = session.get(Requirement, requirement_id)
        if row is None or row.procedure_id != procedure_id:
            raise StaffError({"text": "not_found"})
    before = translations.snapshot(row)
    row.text, row.note, row.optional = text, note, _bool(data.get("optional", row.optional))
    session.add(row)
    session.flush()
    translations.mark_stale(session, row, before)
    auth.audit(session, viewer, "requirement.save", f"requirement:{row.id}", procedure_id=procedure_id, text=text)
    published.changed()
    return row


def delete_requirement(session: Session, viewer: Viewer, requirement_id: int) -> None:
    require(viewer, "setup_town")
    row = session.get(Requirement, requirement_id)
    if row is None:
        return
    session.delete(row)
    session.flush()
    auth.audit(session, viewer, "requirement.delete", f"requirement:{requirement_id}",
               procedure_id=row.procedure_id, text=row.text)
    published.changed()


def move_requirement(session: Session, viewer: Viewer, requirement_id: int, delta: int) -> None:
    """Move a checklist item up (-1) or down (+1)."""
    require(viewer, "setup_town")
    row = session.get(Requirement, requirement_id)
    if row is None:
        return
    items = requirements(session, row.procedure_id)
    i = next(i for i, r in enumerate(items) if r.id == row.id)
    j = max(0, min(len(items) - 1, i + delta))
    items.insert(j, items.pop(i))
    for position, item in enumerate(items, 1):
        item.position = position
        session.add(item)
    session.flush()
    auth.audit(session, viewer, "requirement.move", f"requirement:{requirement_id}", delta=delta)
    published.changed()


# --- content in other languages --------------------------------------------------------------------------------


def content_row(session: Session, viewer: Viewer, table: str, row_id: int):
    """A translatable row (procedure, requirement, office, area, closure, department, request type)."""
    require(viewer, "setup_town")
    obj = session.get(translations.MODELS[table], row_id) if table in translations.MODELS else None
    if obj is None:
        raise StaffError({"form": "not_found"})
    return obj


def save_translations(session: Session, viewer: Viewer, table: str, row_id: int, texts: dict[tuple[str, str], str],
                      confirmed: set[tuple[str, str]] = frozenset()) -> dict:
    """Save the other languages of one row's texts, side by side with the Spanish; see translations.apply."""
    obj = content_row(session, viewer, table, row_id)
    try:
        counts = translations.apply(session, obj, texts, confirmed)
    except translations.ContentError as exc:
        raise StaffError(exc.errors) from None
    session.flush()
    auth.audit(session, viewer, "translation.save", f"{table}:{row_id}", **counts)
    published.changed()
    return dict(counts)


def translation_report(session: Session, viewer: Viewer) -> list[dict]:
    require(viewer, "setup_town")
    return translations.report(session)


def export_translations(session: Session, viewer: Viewer, lang: str, ip: str = "") -> bytes:
    require(viewer, "setup_town")
    try:
        data = translations.export_po(session, lang)
    except translations.ContentError as exc:
        raise StaffError(exc.errors) from None
    auth.audit(session, viewer, "translation.export", f"lang:{lang}", ip=ip, size=len(data))
    return data


def import_translations(session: Session, viewer: Viewer, data: bytes, ip: str = "") -> dict:
    """Read an edited .po file back (all or nothing); the counts say what it changed."""
    require(viewer, "setup_town")
    try:
        counts = translations.import_po(session, data)
    except translations.ContentError as exc:
        raise StaffError(exc.errors) from None
    session.flush()
    auth.audit(session, viewer, "translation.import", f"lang:{counts['lang']}", ip=ip, **counts)
    published.changed()
    return counts


# --- weekly schedules -----------------------------------------------------------------------------------------


def schedules(session: Session, viewer: Viewer, office_id: int, procedure_id: int | None = None) -> list[Schedule]:
    require(viewer, "setup_office", office_id)
    query = select(Schedule).where(Schedule.office_id == office_id)
    if procedure_id:
        query = query.where(Schedule.procedure_id == procedure_id)
    return list(session.exec(query.order_by(Schedule.procedure_id, Schedule.weekday, Schedule.opens)))


def save_schedule(session: Session, viewer: Viewer, schedule_id: int | None, data: dict) -> Schedule:
    """A weekly opening of an office for a procedure: `capacity` desks, slots of `slot_minutes`."""
    errors: dict[str, str] = {}
    office_id = _int(data.get("office_id"), "office_id", errors, 1, 10**9)
    require(viewer, "setup_office", office_id)
    procedure_id = _int(data.get("procedure_id"), "procedure_id", errors, 1, 10**9)
    if "procedure_id" not in errors and session.get(Procedure, procedure_id) is None:
        errors["procedure_id"] = "required"
    weekday = _int(data.get("weekday"), "weekday", errors, 0, 6)
    opens, closes = _time(data.get("opens"), "opens", errors), _time(data.get("closes"), "closes", errors)
    slot_minutes = _int(data.get("slot_minutes"), "slot_minutes", errors, 5, 240)
    capacity = _int(data.get("capacity"), "capacity", errors, 1, 50)
    valid_from = _date(data.get("valid_from"), "valid_from", errors, required=False)
    valid_until = _date(data.get("valid_until"), "valid_until", errors, required=False)
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
    session.add(row)
    if session.get(ProcedureOffice, (procedure_id, office_id)) is None:  # a schedule means the office handles it
        session.add(ProcedureOffice(procedure_id=procedure_id, office_id=office_id))
        published.changed()
    session.flush()
    auth.audit(session, viewer, "schedule.save", f"schedule:{row.id}", office_id=office_id,
               procedure_id=procedure_id, weekday=weekday, opens=opens.isoformat("minutes"),
               closes=closes.isoformat("minutes"), slot_minutes=slot_minutes, capacity=capacity)
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
    auth.audit(session, viewer, "schedule.delete", f"schedule:{schedule_id}", office_id=row.office_id,
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
    day = _date(day, "day", errors)
    reason = _text(reason, "reason", errors, limit=200)
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
    auth.audit(session, viewer, "closure.create", f"closure:{closure.id}", office_id=office_id, day=day.isoformat(),
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
    auth.audit(session, viewer, "closure.delete", f"closure:{closure_id}", office_id=row.office_id,
               day=row.day.isoformat(), reason=row.reason)


# --- wall screens ---------------------------------------------------------------------------------------------


def display_tokens(session: Session, viewer: Viewer, office_id: int) -> list[DisplayToken]:
    """An office's wall screen keys still in force, newest first."""
    require(viewer, "setup_office", office_id)
    return list(session.exec(select(DisplayToken).where(DisplayToken.office_id == office_id,
                                                        DisplayToken.revoked_at == None)  # noqa: E711
                             .order_by(DisplayToken.created_at.desc(), DisplayToken.id.desc())))


def create_display_token(session: Session, viewer: Viewer, office_id: int, now: datetime | None = None) -> str:
    """A new key for one office's wall screen; returns the token (only its hash is kept: shown once)."""
    require(viewer, "setup_office", office_id)
    if session.get(Office, office_id) is None:
        raise StaffError({"form": "not_found"})
    token = secrets.token_urlsafe(32)  # 256 bits: the address is the only key
    row = DisplayToken(token_hash=auth.token_hash(token), office_id=office_id, created_by=viewer.email,
                       created_at=now or utcnow())
    session.add(row)
    session.flush()
    auth.audit(session, viewer, "display.create", f"display:{row.id}", office_id=office_id)
    return token


def revoke_display_token(session: Session, viewer: Viewer, token_id: int, now: datetime | None = None) -> None:
    row = session.get(DisplayToken, token_id)
    if row is None:
        raise StaffError({"form": "not_found"})
    require(viewer, "setup_office", row.office_id)
    row.revoked_at = now or utcnow()
    session.add(row)
    session.flush()
    auth.audit(session, viewer, "display.revoke", f"display:{row.id}", office_id=row.office_id)


def display_office(session: Session, token: str) -> Office | None:
    """The office a wall screen's token opens, or None (unknown or revoked)."""
    if not token or len(token) > 100:
        return None
    row = session.exec(select(DisplayToken).where(DisplayToken.token_hash == auth.token_hash(token),
                                                  DisplayToken.revoked_at == None)).first()  # noqa: E711
    return session.get(Office, row.office_id) if row else None


# --- booking rules --------------------------------------------------------------------------------------------


def municipality(session: Session) -> Municipality:
    return session.exec(select(Municipality)).first()


def set_booking_rules(session: Session, viewer: Viewer, horizon_days, min_notice_minutes) -> Municipality:
    require(viewer, "setup_town")
    errors: dict[str, str] = {}
    horizon = _int(horizon_days, "booking_horizon_days", errors, 1, HORIZON_MAX)
    notice = _int(min_notice_minutes, "min_notice_minutes", errors, 0, 7 * 24 * 60)
    if errors:
        raise StaffError(errors)
    town = municipality(session)
    before = (town.booking_horizon_days, town.min_notice_minutes)
    town.booking_horizon_days, town.min_notice_minutes = horizon, notice
    session.add(town)
    session.flush()
    auth.audit(session, viewer, "municipality.booking_rules", f"municipality:{town.id}", before=before,
               booking_horizon_days=horizon, min_notice_minutes=notice)
    return town


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
    return [{
        "id": a.id, "code": codes.format_code(a.code), "time": time_label(local(a.starts_at), "es"),
        "name": a.name, "phone": a.phone, "procedure": names[a.procedure_id].name if a.procedure_id in names else "",
        "status": a.status, "requirements": needs.get(a.procedure_id, []),
        "ticket": tickets.get(a.id, ""), "document_hint": ("···" + a.document[-4:]) if a.document else "",
    } for a in rows]


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
    ticket = walk_in.enqueue_appointment(session, viewer, appt, now)
    auth.audit(session, viewer, "appointment.check_in", f"appointment:{appt.id}", office_id=appt.office_id,
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
    auth.audit(session, viewer, f"appointment.{outcome}", f"appointment:{appt.id}", office_id=appt.office_id)
    return appt


# --- the requests inbox ---------------------------------------------------------------------------------------


def _may_see_request(viewer: Viewer, req: ServiceRequest) -> bool:
    return viewer.is_admin or (viewer.department_id is not None and req.department_id == viewer.department_id)


def inbox(session: Session, viewer: Viewer, show: str = "open", department_id: int | None = None,
          now: datetime | None = None) -> list[dict]:
    """The department's requests: overdue first, then by due date. `show`: open | closed | all."""
    require(viewer, "requests")
    query = select(ServiceRequest)
    if not viewer.is_admin:
        query = query.where(ServiceRequest.department_id == (viewer.department_id or -1))
    elif department_id:
        query = query.where(ServiceRequest.department_id == department_id)
    if show == "open":
        query = query.where(ServiceRequest.status.in_(sorted(rules.OPEN)))
    elif show == "closed":
        query = query.where(ServiceRequest.status.in_(sorted(rules.CLOSED)))
    rows = session.exec(query.order_by(ServiceRequest.due_date, ServiceRequest.submitted_at).limit(500)).all()
    types = {t.id: t.name for t in session.exec(select(RequestType))}
    departments = {d.id: d.name for d in session.exec(select(Department))}
    assignees = dict(session.exec(select(RequestAssignment.request_id, StaffUser.name)
                                  .join(StaffUser, StaffUser.id == RequestAssignment.staff_id)
                                  .where(RequestAssignment.request_id.in_([r.id for r in rows] or [0]))).all())
    items = [{
        "id": r.id, "code": rules.format_code(r.code), "type": types.get(r.type_id, ""),
        "department": departments.get(r.department_id, ""), "status": r.status,
        "submitted": local(r.submitted_at).strftime("%d/%m/%Y %H:%M"), "due": r.due_date.strftime("%d/%m/%Y"),
        "due_iso": r.due_date.isoformat(), "overdue": rules.is_overdue(r, now),
        "summary": r.description[:140], "assignee": assignees.get(r.id, ""),
    } for r in rows]
    items.sort(key=lambda i: (not i["overdue"], i["due_iso"]))
    return items


def request_for(session: Session, viewer: Viewer, request_id: int) -> ServiceRequest:
    require(viewer, "requests")
    req = session.get(ServiceRequest, request_id)
    if req is None or not _may_see_request(viewer, req):
        raise Forbidden()
    return req


def request_detail(session: Session, viewer: Viewer, request_id: int, now: datetime | None = None) -> dict:
    """The tracking view (as the citizen sees it, in Spanish) plus what only the department sees."""
    req = request_for(session, viewer, request_id)
    view = views.request_view(session, req, "es", now)
    assigned = session.get(RequestAssignment, req.id)
    person = session.get(StaffUser, assigned.staff_id) if assigned else None
    view.update(id=req.id, name=req.name, email=req.email, phone=req.phone, document=req.document,
                public_description=req.public_description, public_address=req.public_address,
                assignee=person.name if person else "", assignee_id=person.id if person else 0,
                next_statuses=sorted(rules.TRANSITIONS[req.status] - {"assigned"}))
    return view


def request_attachment(session: Session, viewer: Viewer, request_id: int, position: int):
    """A file of a request the viewer's department handles (Forbidden for any other); None when there is none."""
    return views.attachment(session, request_for(session, viewer, request_id), position)


def colleagues(session: Session, viewer: Viewer, request_id: int) -> list[StaffUser]:
    """Who may be given a request: active staff of its department (administrators too)."""
    req = request_for(session, viewer, request_id)
    rows = session.exec(select(StaffUser).where(StaffUser.active == True).order_by(StaffUser.name)).all()
    return [u for u in rows if u.role in ("admin", "manager") and (u.role == "admin" or u.department_id == req.department_id)]


def assign_request(session: Session, viewer: Viewer, request_id: int, staff_id: int,
                   now: datetime | None = None) -> ServiceRequest:
    """Give a request to a member of the department (internal). A request still "received" becomes "assigned":
    the citizen sees that the department has it, never who."""
    req = request_for(session, viewer, request_id)
    if staff_id not in {u.id for u in colleagues(session, viewer, request_id)}:
        raise StaffError({"assignee": "not_found"})
    row = session.get(RequestAssignment, req.id) or RequestAssignment(request_id=req.id, staff_id=staff_id)
    row.staff_id, row.assigned_at, row.assigned_by = staff_id, now or utcnow(), viewer.id
    session.add(row)
    if req.status == "received":
        workflow.change_status(session, req, "assigned", now=now)
    session.flush()
    auth.audit(session, viewer, "request.assign", f"request:{req.id}", staff_id=staff_id)
    return req


def change_request_status(session: Session, viewer: Viewer, request_id: int, status: str, comment: str = "",
                          department: str | None = None, now: datetime | None = None) -> ServiceRequest:
    """Move a request along its workflow with a public comment, or hand it to another department."""
    req = request_for(session, viewer, request_id)
    before = req.status
    try:
        workflow.change_status(session, req, status, department=department or None, comment=comment, now=now)
    except rules.TrackingError as exc:
        raise StaffError(exc.errors) from None
    if department:
        row = session.get(RequestAssignment, req.id)
        if row:
            session.delete(row)  # the other department decides who handles it
    session.flush()
    auth.audit(session, viewer, "request.status", f"request:{req.id}", before=before, status=status,
               department=department or "", comment_chars=len(comment or ""))
    return req


def publish_request_text(session: Session, viewer: Viewer, request_id: int, description: str,
                         address: str = "") -> ServiceRequest:
    """Approve (or, with empty texts, take back) what the Open311 feed shows of a public request."""
    req = request_for(session, viewer, request_id)
    if not session.get(RequestType, req.type_id).public:
        raise StaffError({"public_description": "not_public"})
    try:
        workflow.publish_text(session, req, description, address)
    except rules.TrackingError as exc:
        raise StaffError(exc.errors) from None
    auth.audit(session, viewer, "request.publish" if req.public_description else "request.unpublish",
               f"request:{req.id}", description_chars=len(req.public_description),
               address=bool(req.public_address))
    return req


def departments(session: Session) -> list[Department]:
    return list(session.exec(select(Department).order_by(Department.position)))


# --- staff accounts -------------------------------------------------------------------------------------------


def users(session: Session, viewer: Viewer) -> list[dict]:
    require(viewer, "users")
    links: dict[int, list[int]] = {}
    for link in session.exec(select(StaffOffice)):
        links.setdefault(link.staff_id, []).append(link.office_id)
    return [{"id": u.id, "email": u.email, "name": u.name, "role": u.role, "active": u.active,
             "department_id": u.department_id or 0, "office_ids": sorted(links.get(u.id, [])),
             "second_factor": bool(u.totp_secret)}
            for u in session.exec(select(StaffUser).order_by(StaffUser.name))]


def save_user(session: Session, viewer: Viewer, user_id: int | None, data: dict) -> StaffUser:
    """Create an account (with a first password) or change its role, offices, department or state."""
    require(viewer, "users")
    office_ids = [int(o) for o in data.get("office_ids") or []]
    known = set(session.exec(select(Office.id)))
    if not set(office_ids) <= known:
        raise StaffError({"office_ids": "not_found"})
    department_id = int(data.get("department_id") or 0) or None
    if department_id and session.get(Department, department_id) is None:
        raise StaffError({"department_id": "not_found"})
    role = str(data.get("role") or "desk")
    if role not in auth.ROLES:
        raise StaffError({"role": "role"})
    if role != "admin" and not office_ids and role == "desk":
        raise StaffError({"office_ids": "required"})
    try:
        if user_id is None:
            user = auth.create_user(session, str(data.get("email") or ""), str(data.get("name") or ""), role,
                                    str(data.get("password") or ""), office_ids=office_ids,
                                    department_id=department_id)
        else:
            user = session.get(StaffUser, user_id)
            if user is None:
                raise StaffError({"form": "not_found"})
            if user.id == viewer.id and (role != "admin" or not _bool(data.get("active", True))):
                raise StaffError({"role": "self"})  # an administrator cannot lock themselves out
            errors: dict[str, str] = {}
            user.name = _text(data.get("name", user.name), "name", errors, limit=100)
            if errors:
                raise StaffError(errors)
            user.role, user.department_id = role, department_id
            auth.set_offices(session, user, office_ids)
            if not _bool(data.get("active", True)):
                auth.deactivate(session, user)
            else:
                user.active = True
            if data.get("password"):
                auth.set_password(session, user, str(data["password"]))
            session.add(user)
            session.flush()
    except AuthError as exc:
        raise StaffError({"email" if exc.code in ("email", "exists") else "password"
                          if exc.code == "weak_password" else "role": exc.code}) from None
    auth.audit(session, viewer, "user.create" if user_id is None else "user.update", f"staff:{user.id}",
               email=user.email, role=role, office_ids=office_ids, department_id=department_id, active=user.active,
               password_changed=bool(data.get("password")))
    return user


def reset_second_factor(session: Session, viewer: Viewer, user_id: int, ip: str = "") -> StaffUser:
    """An administrator turns another member of staff's second factor off (a lost phone): their sessions end, and
    an administrator or manager enrols again at the next sign-in. Audited."""
    require(viewer, "users")
    user = session.get(StaffUser, user_id)
    if user is None:
        raise StaffError({"form": "not_found"})
    if user.id == viewer.id:
        raise StaffError({"form": "self_second_factor"})
    auth.clear_second_factor(session, user)
    auth.audit(session, viewer, "user.second_factor_reset", f"staff:{user.id}", ip=ip, email=user.email)
    return user


def audit_log(session: Session, viewer: Viewer, limit: int = 200) -> list[dict]:
    require(viewer, "audit")
    from pwa_app.models import AuditEvent

    rows = session.exec(select(AuditEvent).order_by(AuditEvent.at.desc(), AuditEvent.id.desc()).limit(limit))
    return [{"id": e.id, "at": local(e.at).strftime("%d/%m/%Y %H:%M:%S"), "actor": e.actor, "action": e.action,
             "target": e.target, "detail": readable_detail(e.detail), "ip": e.ip} for e in rows]


def readable_detail(detail: str) -> list[str]:
    """An audit event's details (stored as JSON) as "key: value" lines a person reads at a glance."""
    try:
        values = json.loads(detail or "{}")
    except ValueError:
        return [detail]
    if not isinstance(values, dict):
        return [detail]

    def say(value) -> str:
        if isinstance(value, bool):
            return "sí" if value else "no"
        if isinstance(value, list | tuple):
            return ", ".join(say(v) for v in value) or "–"
        if isinstance(value, dict):
            return ", ".join(f"{k}={say(v)}" for k, v in value.items()) or "–"
        return "–" if value is None or value == "" else str(value)

    return [f"{key}: {say(value)}" for key, value in values.items()]
