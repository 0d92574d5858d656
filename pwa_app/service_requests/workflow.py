"""The staff side of a service request: status changes along the workflow (with the citizen told
by mail and web push through the "request_status_changed" event), what the Open311 feed may publish,
translated comments, the staff inbox listing, and forgetting personal data once the retention period has run."""

from datetime import datetime

from sqlmodel import Session, delete, select

from pwa_app.common import events
from pwa_app.common.i18n import DEFAULT_LANG, local
from pwa_app.common.text import UNSAFE_RE
from pwa_app.common.times import utc_or_now
from pwa_app.models import Attachment, ContentTranslation, Department, RequestType, ServiceRequest, StatusChange
from pwa_app.service_requests.rules import (
    ADDRESS_MAX, CLOSED, COMMENT_MAX, COMMENT_REQUIRED, DESCRIPTION_MAX, OPEN, PHOTO_TYPES, STATUSES, TRANSITIONS,
    ServiceRequestError, WorkCalendar, clean_text, format_code, is_overdue,
)
from pwa_app.service_requests.views import Content, status_label


def change_status(session: Session, req: ServiceRequest, status: str, *, department: str | None = None,
                  comment: str = "", comment_lang: str | None = None, now: datetime | None = None) -> StatusChange:
    """A department moves a request along the workflow (staff side). `department` (a slug) hands the request
    over, with status "assigned". The comment is public: the citizen reads it in the timeline (and, for public
    types, anyone in the Open311 feed), so it must not name staff or third parties."""
    now = utc_or_now(now)
    if status not in STATUSES:
        raise ServiceRequestError({"status": "unknown_status"})
    target = None
    if department:
        target = session.exec(select(Department).where(Department.slug == department)).first()
        if not target:
            raise ServiceRequestError({"department": "unknown_department"})
        if status != "assigned":
            raise ServiceRequestError({"department": "transition"})
    moves_department = target is not None and target.id != req.department_id
    if status not in TRANSITIONS[req.status] or (status == req.status and not moves_department):
        raise ServiceRequestError({"status": "transition"})
    text, problem = clean_text(comment, COMMENT_MAX)
    if problem or (status in COMMENT_REQUIRED and not text):
        raise ServiceRequestError({"comment": problem or "required"})
    if req.status == "waiting_citizen" and req.waiting_since and status in OPEN:
        # The limit was suspended while waiting (art. 22.1.a): the working days spent waiting are added back.
        cal = WorkCalendar(session)
        req.due_date = cal.add_days(req.due_date, cal.count_between(local(req.waiting_since).date(),
                                                                    local(now).date()))
    req.waiting_since = now if status == "waiting_citizen" else None
    req.closed_at = now if status in CLOSED else None
    if moves_department:
        req.department_id = target.id
    req.status, req.updated_at = status, now
    change = StatusChange(request_id=req.id, status=status, at=now, actor="department",
                          department_id=req.department_id, comment=text, comment_lang=comment_lang or req.lang)
    session.add_all([req, change])
    session.flush()
    events.record(session, "request_status_changed", req=req, change=change, now=now)  # mail and web push
    return change


def publish_attachment(session: Session, req: ServiceRequest, position: int, public: bool = True) -> Attachment:
    """Staff have looked at a photo (no faces, plates or private spaces) and publish it in the Open311 feed."""
    att = session.exec(select(Attachment).where(Attachment.request_id == req.id,
                                                Attachment.position == position)).first()
    if not att:
        raise ServiceRequestError({"attachments": "file_unreadable"})
    att.public = public and att.content_type in PHOTO_TYPES
    session.add(att)
    session.flush()
    return att


def publish_text(session: Session, req: ServiceRequest, description: str, address: str = "") -> None:
    """Staff approve what the Open311 feed shows of a public request: the citizen's text and address as staff
    have edited them (no names, phone numbers, number plates, doorways...). Empty texts take it back: the feed
    then shows only the request type's name."""
    text, problem = clean_text(description, DESCRIPTION_MAX)
    if problem:
        raise ServiceRequestError({"public_description": problem})
    place = " ".join(str(address or "").split())
    if len(place) > ADDRESS_MAX:
        raise ServiceRequestError({"public_address": "too_long"})
    if UNSAFE_RE.search(place):
        raise ServiceRequestError({"public_address": "chars"})
    if place and not text:
        raise ServiceRequestError({"public_description": "required"})
    req.public_description, req.public_address = text, place
    session.add(req)
    session.flush()


def translate_comment(session: Session, change: StatusChange, lang: str, text: str) -> None:
    """A public comment in another language (staff side); shown to citizens reading in that language."""
    clean, problem = clean_text(text, COMMENT_MAX)
    if problem or not clean:
        raise ServiceRequestError({"comment": problem or "required"})
    found = session.exec(select(ContentTranslation).where(
        ContentTranslation.table_name == "statuschange", ContentTranslation.row_id == change.id,
        ContentTranslation.field == "comment", ContentTranslation.lang == lang)).first()
    row = found or ContentTranslation(table_name="statuschange", row_id=change.id, field="comment", lang=lang,
                                      text=clean)
    row.text = clean
    session.add(row)
    session.flush()


def forget_personal_data(session: Session, closed_before: datetime) -> int:
    """Blank the contact data (name, email, phone, document) of requests closed before `closed_before`: the
    municipality's retention period has run. The request, its timeline and its files stay, anonymous."""
    rows = session.exec(select(ServiceRequest).where(
        ServiceRequest.closed_at != None, ServiceRequest.closed_at < utc_or_now(closed_before),  # noqa: E711
        (ServiceRequest.name != "") | (ServiceRequest.email != "") | (ServiceRequest.phone != "")
        | (ServiceRequest.document != ""))).all()
    for req in rows:
        req.name = req.email = req.phone = req.document = ""
        session.add(req)
    session.flush()
    return len(rows)


def _closed_before(closed_before: datetime):
    return select(ServiceRequest.id).where(ServiceRequest.closed_at != None,  # noqa: E711
                                           ServiceRequest.closed_at < utc_or_now(closed_before))


def forget_files(session: Session, closed_before: datetime) -> int:
    """Delete the photos and documents of requests closed before `closed_before` (they may show faces, plates,
    homes, or be identity papers); the request says how many there were no more. Returns how many went."""
    ids = session.exec(select(Attachment.id).where(Attachment.request_id.in_(_closed_before(closed_before)))).all()
    if ids:
        session.exec(delete(Attachment).where(Attachment.id.in_(ids)))
    session.flush()
    return len(ids)


def forget_replies(session: Session, closed_before: datetime) -> int:
    """Blank the comments of the timelines of requests closed before `closed_before` — the citizen's replies and
    the department's answers, with their translations — keeping each entry's status and time for the statistics."""
    rows = session.exec(select(StatusChange).where(StatusChange.request_id.in_(_closed_before(closed_before)),
                                                   StatusChange.comment != "")).all()
    for change in rows:
        change.comment = ""
        session.add(change)
    if rows:
        session.exec(delete(ContentTranslation).where(ContentTranslation.table_name == "statuschange",
                                                      ContentTranslation.row_id.in_([c.id for c in rows])))
    session.flush()
    return len(rows)


def open_requests(session: Session, department: str | None = None, now: datetime | None = None,
                  limit: int = 500) -> list[dict]:
    """Open requests for the staff pages (of one department when given its slug): overdue first, then by due
    date. In Spanish, the staff's language; contact data stays out of the list (open the request to see it)."""
    query = select(ServiceRequest).where(ServiceRequest.status.in_(OPEN))
    if department:
        query = query.join(Department, Department.id == ServiceRequest.department_id).where(
            Department.slug == department)
    rows = session.exec(query.order_by(ServiceRequest.due_date, ServiceRequest.submitted_at).limit(limit)).all()
    content = Content(session, DEFAULT_LANG)
    types = {t.id: t for t in session.exec(select(RequestType))}
    out = [{
        "code": format_code(r.code), "type": types[r.type_id].name, "department": content.department(
            r.department_id)["name"], "status": r.status, "status_label": status_label(r.status, DEFAULT_LANG),
        "submitted_at": local(r.submitted_at).isoformat(), "due_date": r.due_date.isoformat(),
        "overdue": is_overdue(r, now), "waiting": r.status == "waiting_citizen",
    } for r in rows]
    return sorted(out, key=lambda row: not row["overdue"])  # stable: due-date order kept within each group
