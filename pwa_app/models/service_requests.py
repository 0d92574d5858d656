"""Service requests (solicitudes): departments, request types, the requests, their public timeline
(status changes), their files and who on the staff works on them."""

from datetime import date, datetime

from sqlmodel import Field, SQLModel, UniqueConstraint

from pwa_app.common.times import utcnow


# --- Request tracking (seguimiento de solicitudes) -----------------------------------------------------------


class Department(SQLModel, table=True):
    """A unit of the town hall that answers requests. Only its public contact details are kept: status changes
    name the department, never a member of staff."""

    id: int | None = Field(default=None, primary_key=True)
    slug: str = Field(unique=True, index=True)
    name: str
    email: str = ""  # the department's public mailbox
    phone: str = ""
    position: int = 0


class RequestType(SQLModel, table=True):
    """What a citizen can ask or report (instancia general, queja, incidencia en vía pública...), who answers and
    how soon. The time limit is either `response_days` working days (Ley 39/2015, art. 30.2) or, when
    `response_months` is set, months counted date to date (art. 30.4), e.g. the statutory 3 months of art. 21.3."""

    id: int | None = Field(default=None, primary_key=True)
    slug: str = Field(unique=True, index=True)
    department_id: int = Field(foreign_key="department.id", index=True)
    name: str
    description: str  # when to use it, in plain language
    hint: str = ""  # what a good description says, shown beside the field
    keywords: str = ""
    response_days: int = 10
    response_months: int = 0  # > 0: months instead of working days
    allows_photo: bool = False  # JPEG, PNG, WebP
    allows_files: bool = False  # PDF
    allows_location: bool = False
    needs_location: bool = False  # an address or a point is required
    needs_contact: bool = False  # name and an email or a phone, to send the answer
    needs_document: bool = False  # the applicant's DNI/NIE (a formal application, art. 66)
    public: bool = False  # listed in the Open311 API: description, status notes and published photos are public
    active: bool = True
    position: int = 0


class ServiceRequest(SQLModel, table=True):
    """A citizen's request. `code` is the citizen's secret tracking code (16 Crockford characters, 80 bits: the
    code alone opens the timeline, because requests may be anonymous and then there is no document or phone to
    check beside a shorter code). `public_id` is the Open311 service_request_id: it opens only what the public
    feed shows anyway, so it is shorter, but random too (no sequence that would tell volumes)."""

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(unique=True, index=True, max_length=16)
    public_id: str = Field(unique=True, index=True, max_length=16)
    type_id: int = Field(foreign_key="requesttype.id", index=True)
    department_id: int = Field(foreign_key="department.id", index=True)
    description: str
    address: str = ""
    lat: float | None = None
    lon: float | None = None
    name: str = ""  # personal data: never in the Open311 answers
    email: str = ""
    phone: str = ""
    document: str = ""
    lang: str = "es"
    source: str = "web"  # web | open311
    status: str = Field(default="received", index=True)
    submitted_at: datetime = Field(default_factory=utcnow, index=True)
    updated_at: datetime = Field(default_factory=utcnow)
    due_date: date  # the answer is expected by the end of this (working) day
    waiting_since: datetime | None = None  # the time limit is suspended while waiting for the citizen
    closed_at: datetime | None = None
    # What Open311 publishes, once staff have read the citizen's text and taken out what is personal ("" until
    # then: the feed shows the request type's name and no address).
    public_description: str = ""
    public_address: str = ""


class StatusChange(SQLModel, table=True):
    """One entry of a request's public timeline: a status change made by a department (or the citizen's reply),
    with a public comment written in the citizen's language (other languages in ContentTranslation, field
    "comment")."""

    id: int | None = Field(default=None, primary_key=True)
    request_id: int = Field(foreign_key="servicerequest.id", index=True)
    status: str
    at: datetime = Field(default_factory=utcnow)
    actor: str = "department"  # department | citizen
    department_id: int | None = Field(default=None, foreign_key="department.id")
    comment: str = ""
    comment_lang: str = "es"


class Attachment(SQLModel, table=True):
    """A photo or PDF sent with a request, kept in the database (one backup, transactional with the request,
    shared by every worker, purged with it). Checked by its content, not by its declared type."""

    __table_args__ = (UniqueConstraint("request_id", "position"),)

    id: int | None = Field(default=None, primary_key=True)
    request_id: int = Field(foreign_key="servicerequest.id", index=True)
    position: int = 1  # 1, 2, 3 within the request: the number in its URL
    status_change_id: int | None = Field(default=None, foreign_key="statuschange.id")  # sent with a reply
    filename: str
    content_type: str
    size: int
    sha256: str
    data: bytes
    public: bool = False  # published in Open311 media_url once staff have checked it
    created_at: datetime = Field(default_factory=utcnow)


class RequestAssignment(SQLModel, table=True):
    """Which member of staff is handling a request, inside the department. Internal: never shown to citizens
    (the public timeline names the department only)."""

    request_id: int = Field(foreign_key="servicerequest.id", primary_key=True)
    staff_id: int = Field(foreign_key="staffuser.id", index=True)
    assigned_at: datetime = Field(default_factory=utcnow)
    assigned_by: int | None = Field(default=None, foreign_key="staffuser.id")
