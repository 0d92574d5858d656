"""The shapes of the requests API's answers, for the OpenAPI document (/api/v1/docs) and the pages' authors.
The answers are built by pwa_app.service_requests.rules; a unit test checks them against these models (extra fields
forbidden), so the documentation cannot drift from what is sent. Dates come as ISO strings in Madrid time plus
`*_label` texts already formatted in the requested language."""

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

Status = Literal["received", "assigned", "in_progress", "waiting_citizen", "resolved", "rejected", "closed"]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class DepartmentOut(Strict):
    slug: str
    name: str = Field(description="in the requested language (Spanish when untranslated)")
    email: str = Field(description="the department's public mailbox")
    phone: str


class DepartmentRef(Strict):
    slug: str
    name: str


class TypeRef(Strict):
    slug: str
    name: str
    public: bool = Field(description="street reports: the description and public comments appear in Open311")


class TimelineEntry(Strict):
    status: Status = Field(description="the status after this entry (for a citizen's reply: the status then)")
    label: str = Field(description="the status label, or 'Your reply' for the citizen's own entries")
    actor: Literal["department", "citizen"]
    department: DepartmentRef | None = Field(description="who made the change; never a person; null for replies")
    at: str = Field(description="ISO 8601, Madrid time")
    at_label: str = Field(description="e.g. '4 dic 2026, 17:30'")
    comment: str = Field(description="public comment (plain text: render as text, keep line breaks)")
    comment_lang: str = Field(description="the comment's language (it may differ from the requested one)")
    attachments: list[int] = Field(description="numbers (`n`) of the files sent with a citizen's reply")


class Expected(Strict):
    text: str = Field(description="what the department asks of the citizen")
    respond_by: str = Field(description="ISO date: 10 working days after the question (Ley 39/2015 art. 68)")
    respond_by_label: str = Field(description="'Please answer by <date>', translated")


class AttachmentOut(Strict):
    n: int
    filename: str
    content_type: Literal["image/jpeg", "image/png", "image/webp", "application/pdf"]
    size: int
    url: str = Field(description="GET it (rate-limited like lookups)")


class RequestView(Strict):
    """A request as its tracking page shows it: everything is already in the requested language."""

    code: str = Field(description="the tracking code, XXXX-XXXX-XXXX-XXXX: keep it on the device ('my requests')")
    lang: str
    type: TypeRef
    open311_id: str | None = Field(description="its Open311 service_request_id (public types only)")
    description: str
    address: str
    lat: float | None
    lon: float | None
    status: Status
    status_label: str
    status_help: str = Field(description="one sentence on what the status means for the citizen")
    open: bool = Field(description="false once resolved, rejected or closed")
    department: DepartmentOut = Field(description="the department handling it now")
    submitted_at: str
    submitted_label: str
    updated_at: str
    due_date: str = Field(description="ISO date by which the answer is expected (working days, holidays skipped)")
    due_label: str = Field(description="'Answer expected by <long date>', translated")
    response_label: str = Field(description="the type's time limit, e.g. 'Answer within 10 working days'")
    overdue: bool = Field(description="past the due date and still with the town hall")
    overdue_label: str | None
    paused: bool = Field(description="waiting for the citizen: the time limit is suspended")
    paused_label: str | None
    expected_from_citizen: Expected | None = Field(description="set while the status is waiting_citizen")
    can_reply: bool = Field(description="POST /api/v1/requests/{code}/replies is accepted")
    closed_at: str | None
    timeline: list[TimelineEntry] = Field(description="oldest first")
    attachments: list[AttachmentOut]
    as_of: str = Field(description="when this answer was made: show 'as of <as_of_label>' when offline")
    as_of_label: str
    fallback: bool = Field(description="some names are in Spanish for want of a translation")


class LookupOut(Strict):
    requests: list[RequestView]
    missing: list[str] = Field(description="codes (as sent) that match no request")


class RequestTypeOut(Strict):
    slug: str
    name: str
    description: str
    hint: str = Field(description="what a good description says; show beside the description field")
    keywords: str
    department: DepartmentOut
    response_days: int | None = Field(description="working days to answer (null when counted in months)")
    response_months: int | None
    response_label: str
    allows_photo: bool
    allows_files: bool = Field(description="PDF documents")
    allows_location: bool
    needs_location: bool = Field(description="an address or lat/lon is required")
    needs_contact: bool = Field(description="name and an email or a phone are required")
    needs_document: bool = Field(description="the applicant's DNI/NIE is required")
    public: bool = Field(description="warn: the description will be public (Open311)")
    accept: list[str] = Field(description="content types accepted as attachments (for <input accept>)")


class Limits(Strict):
    description_max: int
    address_max: int
    name_max: int
    max_files: int = Field(description="per submission or reply")
    max_file_bytes: int
    photo_types: list[str]
    file_types: list[str]


class StatusOut(Strict):
    status: Status
    label: str
    help: str
    open: bool


class RequestTypesOut(Strict):
    lang: str
    fallback: bool
    types: list[RequestTypeOut]
    limits: Limits
    statuses: list[StatusOut] = Field(description="the workflow's statuses in order, with labels")


class ErrorOut(BaseModel):
    errors: dict[str, str] = Field(description="field -> translated message")
    codes: dict[str, str] = Field(description="field -> message code (see pwa_app/common/messages.py ERRORS)")
    retry_after: int | None = Field(None, description="on 429: seconds to wait (also in the Retry-After header)")
