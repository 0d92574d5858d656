"""Finding a booking for a person who asks at the desk or on the phone (by code, document, name, phone or e-mail),
and an office's day list to print or download as CSV (per office, and per procedure when chosen: appointments
have no desk of their own until they are called).

Only the viewer's offices are searched. Every search and every download of the list is in the audit trail with
what kind of search it was and which appointments it showed, never the name, number or address typed (the audit
keeps no citizen's personal data)."""

import re
from datetime import date

from sqlalchemy import func, or_
from sqlmodel import Session, select

from pwa_app.appointments import fairness
from pwa_app.common import codes, ratelimit
from pwa_app.common.documents import DocumentError, check_document
from pwa_app.common.i18n import local, long_day_label, time_label
from pwa_app.models import Appointment, Office, Procedure
from pwa_app.staff import audit
from pwa_app.staff.desk import day_bounds
from pwa_app.staff.permissions import StaffError, Viewer, require
from pwa_app.staff.reports import spreadsheet_csv

KINDS = ("code", "document", "name", "phone", "email")
MAX_RESULTS = 50
MIN_NAME = 3  # letters of a name to search by: fewer would list half the town
RATE_SCOPE = "staff_search"  # searches per member of staff (ratelimit.DEFAULTS)
CHANNEL_LABELS = {"web": "Web", "phone": "Teléfono", "counter": "Mostrador"}
STATUS_LABELS = {"booked": "Reservada", "checked_in": "Ha llegado", "done": "Atendida", "no_show": "No se presentó",
                 "cancelled": "Anulada", "pending": "Pendiente de confirmar", "expired": "No confirmada a tiempo"}


def _condition(kind: str, value: str):
    """The query condition for what was typed; a StaffError for something that cannot be that kind."""
    value = " ".join(str(value or "").split())
    if not value:
        raise StaffError({"query": "required"})
    if kind == "code":
        try:
            return Appointment.code == codes.normalize_code(value)
        except ValueError:
            raise StaffError({"query": "code_format"}) from None
    if kind == "document":
        try:
            document = check_document(value)
        except DocumentError:
            raise StaffError({"query": "document"}) from None
        return or_(Appointment.document == document, Appointment.person_key == fairness.person_key(document))
    if kind == "name":
        if len(value) < MIN_NAME:
            raise StaffError({"query": "too_short"})
        pattern = "%" + value.lower().replace("\\", "").replace("%", "").replace("_", "") + "%"
        return func.lower(Appointment.name).like(pattern)
    if kind == "phone":
        digits = re.sub(r"[\s().-]", "", value)
        if not re.fullmatch(r"\+?\d{6,15}", digits):
            raise StaffError({"query": "phone"})
        bare = digits.removeprefix("+34") if digits.startswith("+34") else digits
        return or_(Appointment.phone == digits, Appointment.phone == bare, Appointment.phone == "+34" + bare)
    if kind == "email":
        if "@" not in value:
            raise StaffError({"query": "email"})
        return func.lower(Appointment.email) == value.lower()
    raise StaffError({"kind": "required"})


def row_of(appt: Appointment, office: str, procedure: str) -> dict:
    start = local(appt.starts_at)
    return {"id": appt.id, "code": codes.format_code(appt.code), "day": start.date().isoformat(),
            "day_label": long_day_label(start.date(), "es"), "time": time_label(start, "es"), "name": appt.name,
            "document_hint": ("···" + appt.document[-4:]) if appt.document else "", "phone": appt.phone,
            "email": appt.email, "office_id": appt.office_id, "office": office, "procedure": procedure,
            "status": appt.status, "status_label": STATUS_LABELS.get(appt.status, appt.status),
            "channel": appt.channel, "channel_label": CHANNEL_LABELS.get(appt.channel, appt.channel)}


def search(session: Session, viewer: Viewer, kind: str, value: str, ip: str = "") -> list[dict]:
    """The viewer's offices' appointments matching what was typed, newest day first (at most MAX_RESULTS).
    Audited (the caller commits): the kind of search and the ids shown."""
    require(viewer, "day")
    if kind not in KINDS:
        raise StaffError({"kind": "required"})
    condition = _condition(kind, value)
    if ratelimit.check(RATE_SCOPE, f"staff:{viewer.id}"):
        raise StaffError({"form": "rate"})
    query = select(Appointment, Office.name, Procedure.name).join(Office, Office.id == Appointment.office_id) \
        .join(Procedure, Procedure.id == Appointment.procedure_id).where(condition)
    if viewer.office_ids is not None:
        query = query.where(Appointment.office_id.in_(sorted(viewer.office_ids) or [0]))
    rows = session.exec(query.order_by(Appointment.starts_at.desc(), Appointment.id).limit(MAX_RESULTS)).all()
    found = [row_of(appt, office, procedure) for appt, office, procedure in rows]
    audit.audit(session, viewer, "appointment.search", "", ip=ip, kind=kind, results=len(found),
                appointments=[r["id"] for r in found])
    return found


def day_list(session: Session, viewer: Viewer, office_id: int, day: date,
             procedure_id: int | None = None) -> list[dict]:
    """An office's appointments of a day (one procedure's when given), by procedure then time; cancelled and
    lapsed ones left out: the list is who is expected."""
    require(viewer, "day", office_id)
    start, end = day_bounds(day)
    query = select(Appointment, Office.name, Procedure.name).join(Office, Office.id == Appointment.office_id) \
        .join(Procedure, Procedure.id == Appointment.procedure_id) \
        .where(Appointment.office_id == office_id, Appointment.starts_at >= start, Appointment.starts_at < end,
               Appointment.status.not_in(("cancelled", "expired")))
    if procedure_id:
        query = query.where(Appointment.procedure_id == procedure_id)
    rows = session.exec(query.order_by(Procedure.name, Appointment.starts_at, Appointment.id)).all()
    return [row_of(appt, office, procedure) for appt, office, procedure in rows]


CSV_HEADER = ["fecha", "hora", "oficina", "tramite", "codigo", "nombre", "documento", "telefono", "canal", "estado"]


def day_csv(session: Session, viewer: Viewer, office_id: int, day: date, procedure_id: int | None = None,
            ip: str = "") -> tuple[str, int]:
    """The day list as a spreadsheet CSV, and how many rows; audited (the caller commits)."""
    rows = day_list(session, viewer, office_id, day, procedure_id)
    audit.audit(session, viewer, "appointment.day_export", f"office:{office_id}", ip=ip, day=day.isoformat(),
                procedure_id=procedure_id, rows=len(rows))
    return spreadsheet_csv(CSV_HEADER, [[r["day"], r["time"], r["office"], r["procedure"], r["code"], r["name"],
                                         r["document_hint"], r["phone"], r["channel_label"], r["status_label"]]
                                        for r in rows]), len(rows)
