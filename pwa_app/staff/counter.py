"""Booking for a person who phones or stands at the counter (desk role and up): the free times of a procedure at
one of the viewer's offices, booking through the citizens' own booking service (the same seats, per-person limits
and confirmation mail; no proof of work: a signed-in desk is no bot, but a desk has its own rate limit), moving and
cancelling from the day view, and the printed slip in the person's language. Every write is audited, with no
personal data in the audit (the appointment's id, office and channel)."""

import io
from datetime import date, datetime

import segno
from sqlmodel import Session, select

from pwa_app.appointments import booking
from pwa_app.appointments.slots import slots
from pwa_app.catalogue.published import Translator
from pwa_app.common import codes, i18n, ratelimit
from pwa_app.common.i18n import LANGUAGES, local, long_day_label, pick_lang, text_direction, time_label
from pwa_app.common.messages import N_
from pwa_app.common.times import to_utc
from pwa_app.models import Appointment, Office, Procedure, ProcedureOffice, Requirement
from pwa_app.staff import audit
from pwa_app.staff.permissions import StaffError, Viewer, require

CHANNELS = ("phone", "counter")  # how staff book; citizens' own bookings are "web"
STAFF = "counter"  # staff moving a booking or looking for times: any channel but "web" may take every seat
RATE_SCOPE = "staff_booking"  # bookings, moves and cancellations per member of staff (ratelimit.DEFAULTS)

# The slip's texts, in the person's language (the rest are the confirmation mail's own).
SLIP_TITLE = N_("Your appointment")
SLIP_SHOW = N_("Show this code or its QR code when you arrive.")


def _limited(viewer: Viewer) -> None:
    if ratelimit.check(RATE_SCOPE, f"staff:{viewer.id}"):
        raise StaffError({"form": "rate"})


def procedures(session: Session, viewer: Viewer) -> list[dict]:
    """The procedures booked by appointment at the viewer's offices, each with those offices (name order)."""
    require(viewer, "day")
    rows = session.exec(select(Procedure, Office).join(ProcedureOffice, ProcedureOffice.procedure_id == Procedure.id)
                        .join(Office, Office.id == ProcedureOffice.office_id)
                        .where(Procedure.needs_appointment).order_by(Procedure.name, Office.name)).all()
    found: dict[str, dict] = {}
    for procedure, office in rows:
        if viewer.can_office(office.id):
            entry = found.setdefault(procedure.slug, {"slug": procedure.slug, "name": procedure.name,
                                                      "requires_document": procedure.requires_document,
                                                      "offices": []})
            entry["offices"].append({"slug": office.slug, "name": office.name})
    return list(found.values())


def _pair(session: Session, viewer: Viewer, procedure_slug: str, office_slug: str) -> tuple[Procedure, Office]:
    try:
        procedure, office = booking.resolve(session, procedure_slug, office_slug)
    except booking.BookingError as exc:
        raise StaffError({"form": "not_found"}) from exc
    require(viewer, "day", office.id)
    return procedure, office


def free_times(session: Session, viewer: Viewer, procedure_slug: str, office_slug: str, day: date,
               now: datetime) -> list[dict]:
    """The times of a day with a free seat. Staff see every seat of the schedule: those kept for phone and counter
    too (counted from the schedules themselves, not from the citizens' calendar)."""
    procedure, office = _pair(session, viewer, procedure_slug, office_slug)
    return [{"start": s.starts_at.isoformat(), "label": time_label(local(s.starts_at), "es"),
             "free": s.capacity - s.taken}
            for s in slots(session, procedure.id, office.id, day, day, now, channel=STAFF) if s.free]


def book(session: Session, viewer: Viewer, procedure_slug: str, office_slug: str, starts_at: datetime,
         details: dict, channel: str, now: datetime, ip: str = "") -> Appointment:
    """Book for the person in front of the desk or on the line (the caller commits). `details`: name, document,
    phone, email, lang, as citizens type them; the person agreed by telling them to the desk."""
    if channel not in CHANNELS:
        raise StaffError({"channel": "required"})
    _, office = _pair(session, viewer, procedure_slug, office_slug)
    _limited(viewer)
    raw = {**details, "lang": pick_lang(str(details.get("lang") or "es")), "consent": True}
    appt = booking.book(session, procedure_slug, office_slug, starts_at, raw, now=now, channel=channel)
    audit.audit(session, viewer, "appointment.book", f"appointment:{appt.id}", ip=ip, office_id=office.id,
                procedure_id=appt.procedure_id, channel=channel)
    return appt


def appointment(session: Session, viewer: Viewer, appointment_id: int) -> Appointment:
    """An appointment of one of the viewer's offices."""
    require(viewer, "day")
    appt = session.get(Appointment, int(appointment_id))
    if appt is None:
        raise StaffError({"form": "not_found"})
    require(viewer, "day", appt.office_id)
    return appt


def move(session: Session, viewer: Viewer, appointment_id: int, starts_at: datetime, now: datetime,
         ip: str = "") -> Appointment:
    """Another time at the same office, keeping the code (the citizen is told by mail when they gave one)."""
    appt = appointment(session, viewer, appointment_id)
    _limited(viewer)
    before = to_utc(appt.starts_at)
    office = session.get(Office, appt.office_id)
    booking.reschedule(session, appt, office.slug, starts_at, now, channel=STAFF)
    audit.audit(session, viewer, "appointment.move", f"appointment:{appt.id}", ip=ip, office_id=appt.office_id,
                before=before.isoformat(), after=to_utc(appt.starts_at).isoformat())
    return appt


def cancel(session: Session, viewer: Viewer, appointment_id: int, now: datetime, ip: str = "") -> Appointment:
    appt = appointment(session, viewer, appointment_id)
    _limited(viewer)
    was = appt.status
    booking.cancel(session, appt, now)
    if was != "cancelled":
        audit.audit(session, viewer, "appointment.cancel", f"appointment:{appt.id}", ip=ip, office_id=appt.office_id)
    return appt


def qr_svg(code: str) -> str:
    """The booking code as an inline SVG QR code (what the desk's reader and camera scan at check-in)."""
    out = io.BytesIO()
    # A full QR code, never a Micro QR (segno.make picks one for short texts): the tablet's camera
    # (BarcodeDetector "qr_code") and phones do not read those. omitsize: the stylesheet sizes it.
    segno.make_qr(code, error="m").save(out, kind="svg", scale=5, border=2, dark="#0b0c0c", light="#ffffff",
                                     xmldecl=False, svgns=True, title=code, omitsize=True)
    return out.getvalue().decode()


def slip(session: Session, viewer: Viewer, appointment_id: int) -> dict:
    """What the printed slip says, in the person's language: code and QR, day and time, office, what to bring."""
    appt = appointment(session, viewer, appointment_id)
    lang = pick_lang(appt.lang)
    names = Translator(session, lang)
    procedure = names.row(session.get(Procedure, appt.procedure_id), ("name",))
    office = names.row(session.get(Office, appt.office_id), ("name", "address"))
    bring = [str(names.row(r, ("text",))["text"]) for r in session.exec(
        select(Requirement).where(Requirement.procedure_id == appt.procedure_id).order_by(Requirement.position))]
    start, code = local(appt.starts_at), codes.format_code(appt.code)
    say = lambda text: i18n.say(lang, text)  # noqa: E731
    return {
        "lang": lang, "dir": text_direction(lang), "title": say(SLIP_TITLE), "code": code, "qr": qr_svg(code),
        "code_label": say("Booking code"), "procedure_label": say("Procedure"), "procedure": str(procedure["name"]),
        "when_label": say("When"), "when": f"{long_day_label(start.date(), lang)} · {time_label(start, lang)}",
        "where_label": say("Where"), "where": f"{office['name']}, {office['address']}",
        "bring_label": say("What to bring"), "bring": bring, "show": say(SLIP_SHOW),
        "language": LANGUAGES.get(lang, lang),
    }
