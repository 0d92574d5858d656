"""What citizens send: a new service request (`submit`) and their answers to it (`reply`), checked
field by field, with their photos and documents. Nothing is written when a check fails; the caller commits."""

import base64
import binascii
import hashlib
import math
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import datetime

from sqlmodel import Session, func, select

from pwa_app.common import events, images
from pwa_app.common.documents import DocumentError, check_document
from pwa_app.common.i18n import DEFAULT_LANG, pick_lang
from pwa_app.common.text import EMAIL_MAX, EMAIL_RE, NAME_MAX, PHONE_RE, UNSAFE_RE
from pwa_app.common.times import utc_or_now
from pwa_app.models import Attachment, RequestType, ServiceRequest, StatusChange
from pwa_app.service_requests.rules import (
    ADDRESS_MAX, CLOSED, CODE_LENGTH, DESCRIPTION_MAX, EXTENSIONS, FILENAME_UNSAFE, FILE_TYPES, MAX_BASE64,
    MAX_FILES, MAX_FILES_TOTAL, MAX_FILE_BYTES, PHOTO_TYPES, PUBLIC_ID_LENGTH, ServiceRequestError, WorkCalendar,
    _unused, clean_text, due_date_for,
)
from pwa_app.service_requests.workflow import change_status


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
    if c.email and (len(c.email) > EMAIL_MAX or not EMAIL_RE.match(c.email)):
        c.errors["email"] = "email"
    if rtype.needs_contact and not c.email and not c.phone and "phone" not in c.errors:
        c.errors["email"] = "contact_required"
    if rtype.needs_document:  # asked only where a formal application needs it; otherwise never kept
        try:
            c.document = check_document(str(raw.get("document") or ""))
        except DocumentError as exc:
            c.errors["document"] = exc.form_code
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
    now = utc_or_now(now)
    slug = str(raw.get("type") or "")
    rtype = session.exec(select(RequestType).where(RequestType.slug == slug, RequestType.active == True)).first()  # noqa: E712
    cleaned = clean_request(rtype or RequestType(slug="", name="", description="", department_id=0), raw)
    if not rtype:
        cleaned.errors = {"type": "unknown_request_type", **cleaned.errors}
        cleaned.errors.pop("attachments", None)  # a type that takes none: says nothing about the real one
    if cleaned.errors:
        raise ServiceRequestError(cleaned.errors)
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
    events.record(session, "request_received", req=req, now=now)
    return req


def reply(session: Session, req: ServiceRequest, raw: dict, now: datetime | None = None) -> StatusChange:
    """The citizen answers (text and/or files). An answer to a request waiting for them resumes the work and
    the time limit."""
    now = utc_or_now(now)
    # One answer at a time per request: two sent at once would both number their files from the same count.
    session.exec(select(ServiceRequest.id).where(ServiceRequest.id == req.id).with_for_update()).one()
    if req.status in CLOSED:
        raise ServiceRequestError({"text": "not_open"})
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
        raise ServiceRequestError(errors)
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
