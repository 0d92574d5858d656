"""Service requests as citizens and the API see them: texts in the citizen's language (falling back to
Spanish), pre-formatted dates, the public timeline."""

from datetime import datetime

from babel.dates import format_date, format_time, get_datetime_format
from sqlmodel import Session, select

from pwa_app.common.i18n import DEFAULT_LANG, local, long_day_label, pick_lang, say, translations
from pwa_app.common.messages import REQUEST_STATUSES, REQUEST_STATUS_HELP, TRACKING
from pwa_app.common.text import NAME_MAX
from pwa_app.common.times import utc_or_now
from pwa_app.models import Attachment, ContentTranslation, Department, RequestType, ServiceRequest, StatusChange
from pwa_app.service_requests.rules import (
    ADDRESS_MAX, CITIZEN_RESPONSE_DAYS, DESCRIPTION_MAX, FILE_TYPES, MAX_FILES, MAX_FILE_BYTES, OPEN, PHOTO_TYPES,
    STATUSES, WorkCalendar, format_code, is_overdue,
)


class Content:
    """Departments' and request types' texts in one language, falling back to Spanish."""

    FIELDS = {"department": ("name",), "requesttype": ("name", "description", "hint", "keywords")}

    def __init__(self, session: Session, lang: str):
        self.session, self.lang, self.texts = session, lang, {}
        if lang != DEFAULT_LANG:
            rows = session.exec(select(ContentTranslation).where(
                ContentTranslation.lang == lang, ContentTranslation.table_name.in_(list(self.FIELDS)),
                ContentTranslation.stale == False))  # noqa: E712 - one to review shows the Spanish
            self.texts = {(r.table_name, r.row_id, r.field): r.text for r in rows}
        self.departments: dict[int, Department] = {}
        self.fallback = False  # something was shown in Spanish for want of a translation

    def text(self, obj, name: str) -> str:
        value = getattr(obj, name)
        if not value or self.lang == DEFAULT_LANG:
            return value
        found = self.texts.get((obj.__tablename__, obj.id, name))
        self.fallback |= found is None
        return value if found is None else found

    def department(self, department_id: int | None) -> dict | None:
        if department_id is None:
            return None
        if department_id not in self.departments:
            self.departments[department_id] = self.session.get(Department, department_id)
        d = self.departments[department_id]
        return {"slug": d.slug, "name": self.text(d, "name"), "email": d.email, "phone": d.phone}


def moment_label(moment: datetime, lang: str) -> str:
    """A date and time in Madrid, e.g. "4 dic 2026, 17:30" / "Dec 4, 2026, 17:30"."""
    lang, wall = pick_lang(lang), local(moment)
    pattern = get_datetime_format("medium", locale=lang).replace("'", "")
    return pattern.format(format_time(wall, "HH:mm", locale=lang), format_date(wall.date(), "medium", locale=lang))


def response_label(rtype: RequestType, lang: str) -> str:
    t = translations(pick_lang(lang))
    if rtype.response_months > 0:
        n = rtype.response_months
        return t.ngettext("Answer within %(num)d month", "Answer within %(num)d months", n) % {"num": n}
    n = rtype.response_days
    return t.ngettext("Answer within %(num)d working day", "Answer within %(num)d working days", n) % {"num": n}


def status_label(status: str, lang: str) -> str:
    return say(lang, REQUEST_STATUSES[status])


def type_view(content: Content, rtype: RequestType) -> dict:
    lang = content.lang
    return {
        "slug": rtype.slug, "name": content.text(rtype, "name"), "description": content.text(rtype, "description"),
        "hint": content.text(rtype, "hint"), "keywords": content.text(rtype, "keywords"),
        "department": content.department(rtype.department_id),
        "response_days": rtype.response_days if not rtype.response_months else None,
        "response_months": rtype.response_months or None,
        "response_label": response_label(rtype, lang),
        "allows_photo": rtype.allows_photo, "allows_files": rtype.allows_files,
        "allows_location": rtype.allows_location or rtype.needs_location, "needs_location": rtype.needs_location,
        "needs_contact": rtype.needs_contact, "needs_document": rtype.needs_document, "public": rtype.public,
        "accept": list((PHOTO_TYPES if rtype.allows_photo else ()) + (FILE_TYPES if rtype.allows_files else ())),
    }


def request_types(session: Session, lang: str) -> dict:
    """What citizens can send, per language, with the form's limits and the workflow's labels."""
    lang = pick_lang(lang)
    content = Content(session, lang)
    rows = session.exec(select(RequestType).where(RequestType.active == True)  # noqa: E712
                        .order_by(RequestType.position, RequestType.id))
    types = [type_view(content, r) for r in rows]
    return {
        "lang": lang,
        "fallback": content.fallback,
        "types": types,
        "limits": {"description_max": DESCRIPTION_MAX, "address_max": ADDRESS_MAX, "name_max": NAME_MAX,
                   "max_files": MAX_FILES, "max_file_bytes": MAX_FILE_BYTES,
                   "photo_types": list(PHOTO_TYPES), "file_types": list(FILE_TYPES)},
        "statuses": [{"status": s, "label": status_label(s, lang), "help": say(lang, REQUEST_STATUS_HELP[s]),
                      "open": s in OPEN} for s in STATUSES],
    }


def timeline(session: Session, req: ServiceRequest) -> list[StatusChange]:
    return list(session.exec(select(StatusChange).where(StatusChange.request_id == req.id)
                             .order_by(StatusChange.at, StatusChange.id)))


def attachment_rows(session: Session, req: ServiceRequest) -> list[tuple]:
    """(position, filename, content_type, size, status_change_id, public) without loading the bytes."""
    return list(session.exec(select(Attachment.position, Attachment.filename, Attachment.content_type,
                                    Attachment.size, Attachment.status_change_id, Attachment.public)
                             .where(Attachment.request_id == req.id).order_by(Attachment.position)))


def _comments(session: Session, changes: list[StatusChange], lang: str) -> dict[int, str]:
    ids = [c.id for c in changes if c.comment and c.comment_lang != lang]
    if not ids:
        return {}
    rows = session.exec(select(ContentTranslation).where(
        ContentTranslation.table_name == "statuschange", ContentTranslation.field == "comment",
        ContentTranslation.lang == lang, ContentTranslation.row_id.in_(ids)))
    return {r.row_id: r.text for r in rows}


def comment_in(session: Session, change: StatusChange, lang: str) -> str:
    return _comments(session, [change], lang).get(change.id, change.comment)


def _short(department: dict | None) -> dict | None:
    return {"slug": department["slug"], "name": department["name"]} if department else None


def request_view(session: Session, req: ServiceRequest, lang: str, now: datetime | None = None) -> dict:
    """Everything the tracking page shows, in `lang`, with pre-formatted dates (see the API docs)."""
    lang, now = pick_lang(lang), utc_or_now(now)
    content = Content(session, lang)
    rtype = session.get(RequestType, req.type_id)
    changes = timeline(session, req)
    translated = _comments(session, changes, lang)
    files = attachment_rows(session, req)
    files_of: dict[int | None, list[int]] = {}
    for position, *_, change_id, _public in files:
        files_of.setdefault(change_id, []).append(position)

    def entry(c: StatusChange) -> dict:
        citizen = c.actor == "citizen"
        comment = translated.get(c.id, c.comment)
        return {
            "status": c.status, "label": say(lang, TRACKING["reply"]) if citizen else status_label(c.status, lang),
            "actor": c.actor, "department": None if citizen else _short(content.department(c.department_id)),
            "at": local(c.at).isoformat(), "at_label": moment_label(c.at, lang),
            "comment": comment, "comment_lang": lang if c.id in translated else c.comment_lang,
            "attachments": files_of.get(c.id, []) if citizen else [],
        }

    expected = None
    if req.status == "waiting_citizen":
        asked = next((c for c in reversed(changes) if c.status == "waiting_citizen" and c.actor == "department"),
                     None)
        since = req.waiting_since or (asked.at if asked else now)
        by = WorkCalendar(session).add_days(local(since).date(), CITIZEN_RESPONSE_DAYS)
        expected = {"text": translated.get(asked.id, asked.comment) if asked else "",
                    "respond_by": by.isoformat(),
                    "respond_by_label": say(lang, TRACKING["respond_by"], date=long_day_label(by, lang))}
    overdue = is_overdue(req, now)
    due_label = long_day_label(req.due_date, lang)
    code = req.code
    view = {
        "code": format_code(code),
        "lang": lang,
        "type": {"slug": rtype.slug, "name": content.text(rtype, "name"), "public": rtype.public},
        "open311_id": req.public_id if rtype.public else None,
        "description": req.description,
        "address": req.address,
        "lat": req.lat,
        "lon": req.lon,
        "status": req.status,
        "status_label": status_label(req.status, lang),
        "status_help": say(lang, REQUEST_STATUS_HELP[req.status]),
        "open": req.status in OPEN,
        "department": content.department(req.department_id),
        "submitted_at": local(req.submitted_at).isoformat(),
        "submitted_label": moment_label(req.submitted_at, lang),
        "updated_at": local(req.updated_at).isoformat(),
        "due_date": req.due_date.isoformat(),
        "due_label": say(lang, TRACKING["due"], date=due_label),
        "response_label": response_label(rtype, lang),
        "overdue": overdue,
        "overdue_label": say(lang, TRACKING["overdue"], date=due_label) if overdue else None,
        "paused": req.status == "waiting_citizen",
        "paused_label": say(lang, TRACKING["paused"]) if req.status == "waiting_citizen" else None,
        "expected_from_citizen": expected,
        "can_reply": req.status in OPEN,
        "closed_at": local(req.closed_at).isoformat() if req.closed_at else None,
        "timeline": [entry(c) for c in changes],
        "attachments": [
            {"n": position, "filename": filename, "content_type": content_type, "size": size,
             "url": f"/api/v1/requests/{code}/attachments/{position}"}
            for position, filename, content_type, size, _change, _public in files
        ],
        "as_of": local(now).isoformat(),
        "as_of_label": moment_label(now, lang),
    }
    view["fallback"] = content.fallback  # names shown in Spanish for want of a translation
    return view


def attachment(session: Session, req: ServiceRequest, position: int) -> Attachment | None:
    return session.exec(select(Attachment).where(Attachment.request_id == req.id,
                                                 Attachment.position == position)).first()
