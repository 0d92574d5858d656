"""Citizen requests and their tracking (seguimiento): submit, due dates in working days, the status workflow,
the public timeline, and the views the API and the staff pages share.

Time limits follow Ley 39/2015: days are working days (art. 30.2: not Saturdays, Sundays or public holidays —
`Closure` rows with office_id None), counted from the day after the request; a request sent on a non-working
day counts as sent on the next working day (art. 31.2.b); months run date to date (art. 30.4) and a limit
ending on a non-working day moves to the next working day (art. 30.5). While the town hall waits for the citizen
the limit is suspended (art. 22.1.a): the days spent waiting are added to the due date when work resumes.

Errors carry a code per form field (like booking.clean_details); nothing is written when one is raised. The
caller commits (with its idempotency record).

Staff helpers are here too (`change_status`, `translate_comment`, `publish_attachment`, `publish_text`, `queue`,
`forget_personal_data`, `forget_files`, `forget_replies`); the staff pages call them. From a shell, for the desk or a browser test:
    python -m pwa_app.service_requests.requests show CODE
    python -m pwa_app.service_requests.requests status CODE in_progress [--department SLUG] [--comment TEXT]
"""

import base64
import binascii
import calendar
import hashlib
import math
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone

from babel.dates import format_date, format_time, get_datetime_format
from sqlmodel import Session, delete, func, select

from pwa_app.models import (
    Attachment, Closure, ContentTranslation, Department, RequestType, ServiceRequest, StatusChange, utcnow,
)
from pwa_app.notifications import push
from pwa_app.notifications import mail
from pwa_app.common import images
from pwa_app.common import codes
from pwa_app.appointments.booking import EMAIL_RE, NAME_MAX, PHONE_RE, UNSAFE_RE
from pwa_app.common.documents import DocumentError, check_document
from pwa_app.common.i18n import DEFAULT_LANG, LANGUAGES, local, long_day_label, pick_lang, translations
from pwa_app.common.messages import REQUEST_STATUS_HELP, REQUEST_STATUSES, TRACKING

UTC = timezone.utc

# --- the workflow ---------------------------------------------------------------------------------------------

STATUSES = ("received", "assigned", "in_progress", "waiting_citizen", "resolved", "rejected", "closed")
OPEN = frozenset({"received", "assigned", "in_progress", "waiting_citizen"})
CLOSED = frozenset({"resolved", "rejected", "closed"})
# From each status, the statuses a department may move a request to. Anything else is refused.
# - "assigned" -> "assigned" hands the request to another department (it must name a different one);
# - a resolved request may be reopened (back to in progress) or closed; rejected and closed are final;
# - nothing goes back to "received", and nothing is resolved before a department has taken it on.
TRANSITIONS: dict[str, frozenset[str]] = {
    "received": frozenset({"assigned", "in_progress", "rejected", "closed"}),
    "assigned": frozenset({"assigned", "in_progress", "waiting_citizen", "resolved", "rejected"}),
    "in_progress": frozenset({"assigned", "waiting_citizen", "resolved", "rejected"}),
    "waiting_citizen": frozenset({"in_progress", "resolved", "rejected", "closed"}),
    "resolved": frozenset({"in_progress", "closed"}),
    "rejected": frozenset(),
    "closed": frozenset(),
}
COMMENT_REQUIRED = frozenset({"waiting_citizen", "rejected"})  # what is expected; the reasons (art. 35)
CITIZEN_RESPONSE_DAYS = 10  # working days the citizen has to answer a request for more (art. 68.1)

# --- limits ---------------------------------------------------------------------------------------------------

CODE_LENGTH = 16  # 80 bits: the code alone opens the timeline (see ServiceRequest)
CODE_GROUP = 4  # shown as XXXX-XXXX-XXXX-XXXX
PUBLIC_ID_LENGTH = 10
DESCRIPTION_MAX = 4000  # also Open311's limit
COMMENT_MAX = 4000
ADDRESS_MAX = 200
MAX_FILES = 3  # per submission or reply
MAX_FILES_TOTAL = 10  # per request
MAX_FILE_BYTES = 5 * 1024 * 1024
PHOTO_TYPES = ("image/jpeg", "image/png", "image/webp")
FILE_TYPES = ("application/pdf",)
EXTENSIONS = {"image/jpeg": ".jpg", "image/png": ".png", "image/webp": ".webp", "application/pdf": ".pdf"}
# Base64 of the largest file, with slack for line breaks; anything longer is refused before decoding.
MAX_BASE64 = math.ceil(MAX_FILE_BYTES / 3) * 4 + 1024

HTML_RE = re.compile(r"<\s*/?\s*[A-Za-z!?][^<>]*>")
CONTROL_RE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
FILENAME_UNSAFE = re.compile(r"[^\w .()-]+")


class TrackingError(Exception):
    """A request (or a status change) that cannot be made. `errors` maps a field to a message code."""

    def __init__(self, errors: dict[str, str]):
        super().__init__(errors)
        self.errors = errors


# --- working days ---------------------------------------------------------------------------------------------


class WorkCalendar:
    """Working days: Monday to Friday except public holidays (Closure rows for every office). Holidays are read
    a year at a time and kept for the calendar's life (one unit of work)."""

    def __init__(self, session: Session):
        self.session = session
        self.years: dict[int, set[date]] = {}

    def holidays(self, year: int) -> set[date]:
        if year not in self.years:
            rows = self.session.exec(select(Closure.day).where(
                Closure.office_id == None,  # noqa: E711
                Closure.day >= date(year, 1, 1), Closure.day <= date(year, 12, 31)))
            self.years[year] = set(rows)
        return self.years[year]

    def is_working(self, day: date) -> bool:
        return day.weekday() < 5 and day not in self.holidays(day.year)

    def next_working(self, day: date) -> date:
        """`day` itself if it is a working day, else the first working day after it."""
        while not self.is_working(day):
            day += timedelta(days=1)
        return day

    def add_days(self, start: date, days: int) -> date:
        """The `days`-th working day after `start` (counting from the day after)."""
        day, counted = start, 0
        while counted < days:
            day += timedelta(days=1)
            counted += self.is_working(day)
        return day

    def add_months(self, start: date, months: int) -> date:
        """The same day `months` later (the month's last day if it has no such day), moved to a working day."""
        month0 = start.month - 1 + months
        year, month = start.year + month0 // 12, month0 % 12 + 1
        day = min(start.day, calendar.monthrange(year, month)[1])
        return self.next_working(date(year, month, day))

    def count_between(self, first: date, last: date) -> int:
        """Working days d with first < d <= last."""
        count, day = 0, first
        while day < last:
            day += timedelta(days=1)
            count += self.is_working(day)
        return count


def due_date_for(cal: WorkCalendar, rtype: RequestType, submitted_at: datetime) -> date:
    """When the answer is due for a request of `rtype` sent at `submitted_at` (Madrid's calendar day)."""
    start = cal.next_working(local(submitted_at).date())  # sent on a holiday: counts from the next working day
    if rtype.response_months > 0:
        return cal.add_months(start, rtype.response_months)
    return cal.add_days(start, max(rtype.response_days, 0))


def is_overdue(req: ServiceRequest, now: datetime | None = None) -> bool:
    """Past its due date and still with the town hall (not while waiting for the citizen, nor once closed)."""
    if req.status not in OPEN or req.status == "waiting_citizen":
        return False
    return local(now or utcnow()).date() > req.due_date


# --- codes ----------------------------------------------------------------------------------------------------


def format_code(code: str) -> str:
    """Display form "K7QM-3XJD-9TPA-W2RF"."""
    return "-".join(code[i : i + CODE_GROUP] for i in range(0, len(code), CODE_GROUP))


def normalize_tracking_code(raw: str) -> str | None:
    """The stored form of a typed code (spaces, hyphens, case and O/I/L confusions forgiven), or None."""
    try:
        code = codes.normalize_code(raw or "")
    except ValueError:
        return None
    return code if len(code) == CODE_LENGTH else None


def _unused(session: Session, column, length: int) -> str:
    while True:  # a collision of 50+ random bits is astronomically rare; the unique index is the last guard
        candidate = codes.new_code(length)
        if not session.exec(select(ServiceRequest.id).where(column == candidate)).first():
            return candidate


def find(session: Session, code: str) -> ServiceRequest | None:
    normal = normalize_tracking_code(code)
    if not normal:
        return None
    return session.exec(select(ServiceRequest).where(ServiceRequest.code == normal)).first()


def find_public(session: Session, public_id: str) -> ServiceRequest | None:
    """A request of a public type by its Open311 id; None for any other."""
    req = session.exec(select(ServiceRequest).where(ServiceRequest.public_id == (public_id or "").upper())).first()
    if req and session.get(RequestType, req.type_id).public:
        return req
    return None


# --- checking what the citizen sent ---------------------------------------------------------------------------


def clean_text(raw, limit: int) -> tuple[str, str | None]:
    """Plain text: newlines kept, other control characters dropped, HTML tags refused. (text, error code)."""
    text = unicodedata.normalize("NFC", str(raw or "")).replace("\r\n", "\n").replace("\r", "\n")
    text = CONTROL_RE.sub("", text).strip()
    if HTML_RE.search(text):
        return text, "no_html"
    if len(text) > limit:
        return text, "too_long"
    return text, None


def _coordinate(value, low: float, high: float) -> float | None:
    number = float(value)
    if not math.isfinite(number) or not low <= number <= high:
        raise ValueError(value)
    return round(number, 6)


@dataclass
class Cleaned:
    description: str = ""
    address: str = ""
    lat: float | None = None
    lon: float | None = None
    name: str = ""
    email: str = ""
    phone: str = ""
    document: str = ""
    lang: str = DEFAULT_LANG
    files: list[dict] = field(default_factory=list)
    errors: dict[str, str] = field(default_factory=dict)


def clean_request(rtype: RequestType, raw: dict) -> Cleaned:
    """Normalise and check a submission against its type's rules; `errors` lists every problem at once."""
    c = Cleaned(lang=pick_lang(str(raw.get("lang") or DEFAULT_LANG)[:5]))
    c.description, problem = clean_text(raw.get("description"), DESCRIPTION_MAX)
    if problem or not c.description:
        c.errors["description"] = problem or "required"
    if rtype.allows_location or rtype.needs_location:
        c.address = " ".join(str(raw.get("address") or "").split())
        if len(c.address) > ADDRESS_MAX:
            c.errors["address"] = "too_long"
        elif UNSAFE_RE.search(c.address):
            c.errors["address"] = "chars"
        lat, lon = raw.get("lat"), raw.get("lon")
        if lat not in (None, "") or lon not in (None, ""):
            try:
                c.lat, c.lon = _coordinate(lat, -90, 90), _coordinate(lon, -180, 180)
            except (TypeError, ValueError):
                c.errors["location"] = "location"
        if rtype.needs_location and not c.address and c.lat is None and "location" not in c.errors:
            c.errors["address"] = "location_required"
    c.name = " ".join(str(raw.get("name") or "").split())
    if len(c.name) > NAME_MAX:
        c.errors["name"] = "too_long"
    elif UNSAFE_RE.search(c.name):
        c.errors["name"] = "chars"
    elif rtype.needs_contact and not c.name:
        c.errors["name"] = "required"
    c.phone = re.sub(r"[\s().-]", "", str(raw.get("phone") or ""))
    if c.phone and not PHONE_RE.match(c.phone):
        c.errors["phone"] = "phone"
    c.email = str(raw.get("email") or "").strip()
    if c.email and (len(c.email) > 254 or not EMAIL_RE.match(c.email)):
        c.errors["email"] = "email"
    if rtype.needs_contact and not c.email and not c.phone and "phone" not in c.errors:
        c.errors["email"] = "contact_required"
    if rtype.needs_document:  # asked only where a formal application needs it; otherwise never kept
        try:
            c.document = check_document(str(raw.get("document") or ""))
        except DocumentError as exc:
            c.errors["document"] = "required" if exc.code == "empty" else f"document_{exc.code}"
    if raw.get("consent") not in (True, "true", "on", "1", 1):
        c.errors["consent"] = "consent_request"
    c.files, problem = clean_attachments(raw.get("attachments"), photos=rtype.allows_photo, pdfs=rtype.allows_files)
    if problem:
        c.errors["attachments"] = problem
    return c


def sniff(data: bytes) -> str | None:
    """The file's real type from its first bytes (the declared type and name are not trusted)."""
    if data[:3] == b"\xff\xd8\xff":
        return "image/jpeg"
    if data[:8] == b"\x89PNG\r\n\x1a\n":
        return "image/png"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    if data[:5] == b"%PDF-":
        return "application/pdf"
    return None


def _filename(raw, content_type: str, position: int) -> str:
    name = str(raw or "").replace("\\", "/").rsplit("/", 1)[-1]
    name = FILENAME_UNSAFE.sub("_", unicodedata.normalize("NFC", name)).strip(" ._")[:100]
    stem = name.rsplit(".", 1)[0] if "." in name else name
    return f"{stem or f'adjunto-{position}'}{EXTENSIONS[content_type]}"


def clean_attachments(items, photos: bool, pdfs: bool, already: int = 0) -> tuple[list[dict], str | None]:
    """Decode and check base64 attachments [{filename, content_type, data}]: (files, error code). Photos are
    re-encoded without their EXIF (images.clean_photo), so what is stored is what the checks saw."""
    if not items:
        return [], None
    if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
        return [], "file_unreadable"
    if not photos and not pdfs:
        return [], "no_files"
    if len(items) > MAX_FILES or already + len(items) > MAX_FILES_TOTAL:
        return [], "too_many_files"
    allowed = (PHOTO_TYPES if photos else ()) + (FILE_TYPES if pdfs else ())
    wrong_type = "file_type" if photos and pdfs else "file_type_photo" if photos else "file_type_pdf"
    files = []
    for position, item in enumerate(items, already + 1):
        text = item.get("data")
        if isinstance(text, str) and text.startswith("data:"):
            text = text.partition(",")[2]  # a data: URL from FileReader.readAsDataURL
        if not isinstance(text, str) or not text:
            return [], "file_unreadable"
        if len(text) > MAX_BASE64:
            return [], "file_too_big"
        try:
            data = base64.b64decode(re.sub(r"\s+", "", text), validate=True)
        except (binascii.Error, ValueError):
            return [], "file_unreadable"
        if len(data) > MAX_FILE_BYTES:
            return [], "file_too_big"
        if not data:
            return [], "file_unreadable"
        content_type = sniff(data)
        if content_type not in allowed:
            return [], wrong_type
        if content_type in PHOTO_TYPES:
            try:
                data = images.clean_photo(data, content_type)
            except images.PhotoRefused as exc:
                return [], exc.code
        files.append({"position": position, "filename": _filename(item.get("filename"), content_type, position),
                      "content_type": content_type, "size": len(data),
                      "sha256": hashlib.sha256(data).hexdigest(), "data": data})
    return files, None


def payload_digest(raw: dict) -> dict:
    """The submission as the idempotency hash sees it: attachments by their digest, not their megabytes."""
    out = {k: v for k, v in raw.items() if k != "attachments"}
    items = raw.get("attachments") or []
    out["attachments"] = [
        {"filename": i.get("filename"), "sha256": hashlib.sha256(str(i.get("data", "")).encode()).hexdigest()}
        if isinstance(i, dict) else repr(i)
        for i in (items if isinstance(items, list) else [items])
    ]
    return out


# --- writes ---------------------------------------------------------------------------------------------------


def _store_files(session: Session, req: ServiceRequest, files: list[dict], now: datetime,
                 change_id: int | None = None) -> None:
    session.add_all(Attachment(request_id=req.id, status_change_id=change_id, created_at=now, **f) for f in files)


def submit(session: Session, raw: dict, now: datetime | None = None, source: str = "web") -> ServiceRequest:
    """Register a citizen's request: a tracking code, the department of its type, the due date and a first
    "received" entry in its timeline."""
    now = _utc(now)
    slug = str(raw.get("type") or "")
    rtype = session.exec(select(RequestType).where(RequestType.slug == slug, RequestType.active == True)).first()  # noqa: E712
    cleaned = clean_request(rtype or RequestType(slug="", name="", description="", department_id=0), raw)
    if not rtype:
        cleaned.errors = {"type": "unknown_request_type", **cleaned.errors}
        cleaned.errors.pop("attachments", None)  # a type that takes none: says nothing about the real one
    if cleaned.errors:
        raise TrackingError(cleaned.errors)
    req = ServiceRequest(
        code=_unused(session, ServiceRequest.code, CODE_LENGTH),
        public_id=_unused(session, ServiceRequest.public_id, PUBLIC_ID_LENGTH),
        type_id=rtype.id, department_id=rtype.department_id,
        description=cleaned.description, address=cleaned.address, lat=cleaned.lat, lon=cleaned.lon,
        name=cleaned.name, email=cleaned.email, phone=cleaned.phone, document=cleaned.document,
        lang=cleaned.lang, source=source, status="received", submitted_at=now, updated_at=now,
        due_date=due_date_for(WorkCalendar(session), rtype, now),
    )
    session.add(req)
    session.flush()
    session.add(StatusChange(request_id=req.id, status="received", at=now, actor="department",
                             department_id=req.department_id, comment_lang=req.lang))
    _store_files(session, req, cleaned.files, now)
    session.flush()
    _mail(session, req, f"request_received:{req.id}", "request_received", now)
    return req


def change_status(session: Session, req: ServiceRequest, status: str, *, department: str | None = None,
                  comment: str = "", comment_lang: str | None = None, now: datetime | None = None) -> StatusChange:
    """A department moves a request along the workflow (staff side). `department` (a slug) hands the request
    over, with status "assigned". The comment is public: the citizen reads it in the timeline (and, for public
    types, anyone in the Open311 feed), so it must not name staff or third parties."""
    now = _utc(now)
    if status not in STATUSES:
        raise TrackingError({"status": "unknown_status"})
    target = None
    if department:
        target = session.exec(select(Department).where(Department.slug == department)).first()
        if not target:
            raise TrackingError({"department": "unknown_department"})
        if status != "assigned":
            raise TrackingError({"department": "transition"})
    moves_department = target is not None and target.id != req.department_id
    if status not in TRANSITIONS[req.status] or (status == req.status and not moves_department):
        raise TrackingError({"status": "transition"})
    text, problem = clean_text(comment, COMMENT_MAX)
    if problem or (status in COMMENT_REQUIRED and not text):
        raise TrackingError({"comment": problem or "required"})
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
    push.request_status_changed(session, req, change)  # web push to the devices following it, once committed
    _mail(session, req, f"request_status:{change.id}", "request_status", now, _comment_in(session, change, req.lang))
    return change


def _mail(session: Session, req: ServiceRequest, key: str, kind: str, now: datetime, comment: str = "") -> None:
    """A mail to the citizen who left an address (mail.queue_request: once per key, in this transaction)."""
    if req.email:
        mail.queue_request(session, req.email, key, kind, request_view(session, req, req.lang, now), comment, now)


def reply(session: Session, req: ServiceRequest, raw: dict, now: datetime | None = None) -> StatusChange:
    """The citizen answers (text and/or files). An answer to a request waiting for them resumes the work and
    the time limit."""
    now = _utc(now)
    # One answer at a time per request: two sent at once would both number their files from the same count.
    session.exec(select(ServiceRequest.id).where(ServiceRequest.id == req.id).with_for_update()).one()
    if req.status in CLOSED:
        raise TrackingError({"text": "not_open"})
    errors = {}
    text, problem = clean_text(raw.get("text"), DESCRIPTION_MAX)
    if problem:
        errors["text"] = problem
    rtype = session.get(RequestType, req.type_id)
    already = session.exec(select(func.count()).select_from(Attachment)
                           .where(Attachment.request_id == req.id)).one()
    # When the town hall asked for something, a document may be what it asked for.
    files, problem = clean_attachments(raw.get("attachments"), photos=rtype.allows_photo,
                                       pdfs=rtype.allows_files or req.status == "waiting_citizen",
                                       already=already)
    if problem:
        errors["attachments"] = problem
    if not text and not files and not errors:
        errors["text"] = "required"
    if errors:
        raise TrackingError(errors)
    answer = StatusChange(request_id=req.id, status=req.status, at=now, actor="citizen", comment=text,
                          comment_lang=req.lang)
    session.add(answer)
    session.flush()
    _store_files(session, req, files, now, answer.id)
    req.updated_at = now
    session.add(req)
    if req.status == "waiting_citizen":
        change_status(session, req, "in_progress", now=now)
    session.flush()
    return answer


def publish_attachment(session: Session, req: ServiceRequest, position: int, public: bool = True) -> Attachment:
    """Staff have looked at a photo (no faces, plates or private spaces) and publish it in the Open311 feed."""
    att = session.exec(select(Attachment).where(Attachment.request_id == req.id,
                                                Attachment.position == position)).first()
    if not att:
        raise TrackingError({"attachments": "file_unreadable"})
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
        raise TrackingError({"public_description": problem})
    place = " ".join(str(address or "").split())
    if len(place) > ADDRESS_MAX:
        raise TrackingError({"public_address": "too_long"})
    if UNSAFE_RE.search(place):
        raise TrackingError({"public_address": "chars"})
    if place and not text:
        raise TrackingError({"public_description": "required"})
    req.public_description, req.public_address = text, place
    session.add(req)
    session.flush()


def translate_comment(session: Session, change: StatusChange, lang: str, text: str) -> None:
    """A public comment in another language (staff side); shown to citizens reading in that language."""
    clean, problem = clean_text(text, COMMENT_MAX)
    if problem or not clean:
        raise TrackingError({"comment": problem or "required"})
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
        ServiceRequest.closed_at != None, ServiceRequest.closed_at < _utc(closed_before),  # noqa: E711
        (ServiceRequest.name != "") | (ServiceRequest.email != "") | (ServiceRequest.phone != "")
        | (ServiceRequest.document != ""))).all()
    for req in rows:
        req.name = req.email = req.phone = req.document = ""
        session.add(req)
    session.flush()
    return len(rows)


def _closed_before(closed_before: datetime):
    return select(ServiceRequest.id).where(ServiceRequest.closed_at != None,  # noqa: E711
                                           ServiceRequest.closed_at < _utc(closed_before))


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


def queue(session: Session, department: str | None = None, now: datetime | None = None,
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


# --- reading --------------------------------------------------------------------------------------------------


def _utc(moment: datetime | None) -> datetime:
    moment = moment or utcnow()
    return moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)


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


def _say(lang: str, message: str, **values) -> str:
    text = translations(pick_lang(lang)).gettext(message)
    return text % values if values else text


def status_label(status: str, lang: str) -> str:
    return _say(lang, REQUEST_STATUSES[status])


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
        "statuses": [{"status": s, "label": status_label(s, lang), "help": _say(lang, REQUEST_STATUS_HELP[s]),
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


def _comment_in(session: Session, change: StatusChange, lang: str) -> str:
    return _comments(session, [change], lang).get(change.id, change.comment)


def _short(department: dict | None) -> dict | None:
    return {"slug": department["slug"], "name": department["name"]} if department else None


def request_view(session: Session, req: ServiceRequest, lang: str, now: datetime | None = None) -> dict:
    """Everything the tracking page shows, in `lang`, with pre-formatted dates (see the API docs)."""
    lang, now = pick_lang(lang), _utc(now)
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
            "status": c.status, "label": _say(lang, TRACKING["reply"]) if citizen else status_label(c.status, lang),
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
                    "respond_by_label": _say(lang, TRACKING["respond_by"], date=long_day_label(by, lang))}
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
        "status_help": _say(lang, REQUEST_STATUS_HELP[req.status]),
        "open": req.status in OPEN,
        "department": content.department(req.department_id),
        "submitted_at": local(req.submitted_at).isoformat(),
        "submitted_label": moment_label(req.submitted_at, lang),
        "updated_at": local(req.updated_at).isoformat(),
        "due_date": req.due_date.isoformat(),
        "due_label": _say(lang, TRACKING["due"], date=due_label),
        "response_label": response_label(rtype, lang),
        "overdue": overdue,
        "overdue_label": _say(lang, TRACKING["overdue"], date=due_label) if overdue else None,
        "paused": req.status == "waiting_citizen",
        "paused_label": _say(lang, TRACKING["paused"]) if req.status == "waiting_citizen" else None,
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


# --- command line (staff desk, tests) -------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    import argparse
    import json

    from pwa_app import db

    parser = argparse.ArgumentParser(prog="python -m pwa_app.service_requests.requests")
    sub = parser.add_subparsers(dest="command", required=True)
    show = sub.add_parser("show", help="print a request's tracking view as JSON")
    show.add_argument("code")
    show.add_argument("--lang", default=DEFAULT_LANG, choices=list(LANGUAGES))
    move = sub.add_parser("status", help="change a request's status, as its department")
    move.add_argument("code")
    move.add_argument("status", choices=STATUSES)
    move.add_argument("--department", help="slug of the department taking it over (with 'assigned')")
    move.add_argument("--comment", default="", help="public comment, in the citizen's language")
    args = parser.parse_args(argv)
    with db.session() as session:
        req = find(session, args.code)
        if not req:
            print("No request with that code.")
            return 1
        if args.command == "status":
            try:
                change_status(session, req, args.status, department=args.department, comment=args.comment)
            except TrackingError as exc:
                print(f"Refused: {exc.errors}")
                return 2
            session.commit()
        print(json.dumps(request_view(session, req, getattr(args, "lang", req.lang)), ensure_ascii=False, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
