"""Database tables, in the town hall's words. Plain SQLModel: no Reflex import, so services test without it.

Times are stored as aware UTC datetimes; offices publish schedules in local wall time (Europe/Madrid) and the
slots service converts, so daylight-saving days come out right.
"""

import secrets
from datetime import date, datetime, time, timezone

import sqlalchemy as sa
from sqlalchemy import event, inspect, update
from sqlalchemy.orm import Session as OrmSession
from sqlmodel import Field, SQLModel, UniqueConstraint


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


class Municipality(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    name: str
    timezone: str = "Europe/Madrid"
    region: str = ""  # autonomous community, for regional holidays
    phone: str = ""
    website: str = ""
    booking_horizon_days: int = 60  # how far ahead citizens may book
    min_notice_minutes: int = 120  # no booking closer to the start than this
    max_active_per_person: int = 3  # active appointments one person may hold in all procedures


class Area(SQLModel, table=True):
    """A group of procedures as the town hall presents them (padrón, tributos, urbanismo...)."""

    id: int | None = Field(default=None, primary_key=True)
    slug: str = Field(unique=True, index=True)
    name: str
    position: int = 0


class Office(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    slug: str = Field(unique=True, index=True)
    name: str
    address: str
    opening_hours: str  # as shown to citizens, e.g. "Lunes a viernes, 9:00–14:00"
    accessibility: str = ""
    map_url: str = ""
    phone: str = ""


class Procedure(SQLModel, table=True):
    """A trámite: what a citizen comes to do."""

    id: int | None = Field(default=None, primary_key=True)
    slug: str = Field(unique=True, index=True)
    area_id: int = Field(foreign_key="area.id", index=True)
    name: str
    summary: str  # one plain-language sentence for lists and search
    description: str
    who_can_apply: str
    fee: str = ""  # as shown, e.g. "Gratuito" or "3,50 €"
    duration_minutes: int = 10  # expected time at the desk
    needs_appointment: bool = True
    online_url: str = ""  # sede electrónica, when it can also be done online
    requires_document: bool = True  # ask and check the DNI/NIE when booking
    keywords: str = ""  # extra words citizens search with
    # Booking rules (None: the municipality's default). Days open in batches: every working day at
    # `release_hour` (Madrid), `release_days_ahead` days ahead; before that they are not offered.
    booking_horizon_days: int | None = None
    min_notice_minutes: int | None = None
    next_working_day: bool = False  # "from the next working day" instead of a notice in minutes
    buffer_minutes: int = 0  # a pause at the desk between two appointments
    release_days_ahead: int | None = None
    release_hour: int = 8
    max_active_per_person: int = 1  # active appointments one person may hold for this procedure
    high_demand: bool = False  # bookings wait for a confirmation link sent by email


class Requirement(SQLModel, table=True):
    """One item of a procedure's checklist (what to bring)."""

    id: int | None = Field(default=None, primary_key=True)
    procedure_id: int = Field(foreign_key="procedure.id", index=True)
    position: int = 0
    text: str
    note: str = ""
    optional: bool = False


class ProcedureOffice(SQLModel, table=True):
    """Which offices handle which procedures. The two versions name the state of the pair's availability answer
    (services/availability.py): `grid_version` changes with what can be booked (schedules, closures, holidays,
    booking rules), `seats_version` with the seats taken; both are bumped in the transaction that changes them
    (see `_availability_changed` below). They start at a random number, so a pair removed and added again never
    matches an answer kept for its earlier self."""

    procedure_id: int = Field(foreign_key="procedure.id", primary_key=True)
    office_id: int = Field(foreign_key="office.id", primary_key=True)
    grid_version: int = Field(default_factory=lambda: secrets.randbelow(1 << 30))
    seats_version: int = 0


class Schedule(SQLModel, table=True):
    """Weekly opening of an office for a procedure: slots of `slot_minutes` with `capacity` desks each."""

    id: int | None = Field(default=None, primary_key=True)
    office_id: int = Field(foreign_key="office.id", index=True)
    procedure_id: int = Field(foreign_key="procedure.id", index=True)
    weekday: int  # 0 = Monday ... 6 = Sunday
    opens: time  # local wall time
    closes: time
    slot_minutes: int = 15
    capacity: int = 1
    valid_from: date | None = None  # e.g. a summer timetable
    valid_until: date | None = None


class Closure(SQLModel, table=True):
    """A day without appointments: a public holiday (office_id None = every office) or an office's closure."""

    id: int | None = Field(default=None, primary_key=True)
    office_id: int | None = Field(default=None, foreign_key="office.id", index=True)
    day: date = Field(index=True)
    reason: str


class Appointment(SQLModel, table=True):
    """A booked seat of a slot. A cancelled appointment gives up its seat (seat = None), so the
    unique (office, procedure, start, seat) index is the last guard against over-booking."""

    __table_args__ = (UniqueConstraint("office_id", "procedure_id", "starts_at", "seat"),)

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(unique=True, index=True)
    procedure_id: int = Field(foreign_key="procedure.id", index=True)
    office_id: int = Field(foreign_key="office.id", index=True)
    starts_at: datetime = Field(index=True)  # UTC
    seat: int | None = None
    # booked | pending (high demand: waiting for the e-mailed link) | expired (not confirmed in time) | cancelled |
    # checked_in | done | no_show
    status: str = "booked"
    name: str
    document: str = ""  # normalised DNI/NIE/passport, only when the procedure needs it
    phone: str = ""
    email: str = ""
    lang: str = "es"
    created_at: datetime = Field(default_factory=utcnow)
    cancelled_at: datetime | None = None
    # "closure" when the town hall closed the office that day: staff call those it could not tell otherwise.
    cancel_reason: str = Field(default="", max_length=20, sa_column_kwargs={"server_default": ""})
    # Keyed hash of the normalised document (pwa_app.appointments.fairness.person_key): per-person limits count on it,
    # so no limit query or log needs the plain number.
    person_key: str = Field(default="", index=True)
    client_key: str = Field(default="", index=True)  # keyed hash of the client address, for staff signals
    confirm_token: str | None = Field(default=None, unique=True)  # high-demand: the e-mailed confirmation link
    confirm_by: datetime | None = None  # pending until confirmed; the seat goes back after this


class IdempotencyRecord(SQLModel, table=True):
    """The first answer given to a write with this Idempotency-Key; a repeat gets the same answer."""

    key: str = Field(primary_key=True, max_length=64)
    operation: str
    request_hash: str  # the same key with another payload is refused
    status_code: int
    body: str  # JSON
    created_at: datetime = Field(default_factory=utcnow)


class ContentTranslation(SQLModel, table=True):
    """Database content in other languages: one row per (table, row, field, language). `stale`: the Spanish text
    changed after this translation was written; citizens get the Spanish until staff confirm or update it."""

    __table_args__ = (UniqueConstraint("table_name", "row_id", "field", "lang"),)

    id: int | None = Field(default=None, primary_key=True)
    table_name: str
    row_id: int
    field: str
    lang: str
    text: str
    stale: bool = Field(default=False, sa_column_kwargs={"server_default": sa.false()})


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


# --- Staff workspace (sign-in, set-up, day view, queue, reports) -----------------------------------------------


class StaffUser(SQLModel, table=True):
    """A member of staff. Roles: "admin" (everything), "manager" (set-up, requests and reports of their offices and
    department), "desk" (their office's day view and queue). The password is kept only as an argon2 hash."""

    id: int | None = Field(default=None, primary_key=True)
    email: str = Field(unique=True, index=True, max_length=254)  # lower-cased
    name: str
    role: str = "desk"  # admin | manager | desk
    password_hash: str
    department_id: int | None = Field(default=None, foreign_key="department.id")  # whose requests they answer
    active: bool = True
    created_at: datetime = Field(default_factory=utcnow)
    password_changed_at: datetime = Field(default_factory=utcnow)
    # Second factor (TOTP): the secret sealed with the installation's key (never in clear), the last time step
    # accepted (a code is good once), and the keyed hashes of the unused recovery codes, space-separated.
    totp_secret: str = ""
    totp_last_step: int = 0
    recovery_codes: str = ""


class StaffOffice(SQLModel, table=True):
    """The offices a manager or front-desk user works for (administrators work for all)."""

    staff_id: int = Field(foreign_key="staffuser.id", primary_key=True)
    office_id: int = Field(foreign_key="office.id", primary_key=True)


class DisplayToken(SQLModel, table=True):
    """A waiting room's wall screen: its address carries a long random token that opens one office's queue board
    (ticket numbers, no names) without a staff sign-in. Only the token's SHA-256 is stored. A manager creates it on
    the office settings page; revoking it (revoked_at) stops the board at its next refresh."""

    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(unique=True, index=True, max_length=64)
    office_id: int = Field(foreign_key="office.id", index=True)
    created_by: str = Field(default="", max_length=254)
    created_at: datetime = Field(default_factory=utcnow)
    revoked_at: datetime | None = None


class StaffSession(SQLModel, table=True):
    """A signed-in browser. The cookie holds a random token; only its SHA-256 is stored, so a copy of the database
    opens no session. A session ends at `expires_at`, after `IDLE` without use, or at sign-out (row deleted)."""

    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(unique=True, index=True, max_length=64)
    staff_id: int = Field(foreign_key="staffuser.id", index=True)
    created_at: datetime = Field(default_factory=utcnow)
    last_seen_at: datetime = Field(default_factory=utcnow)
    expires_at: datetime
    ip: str = ""
    user_agent: str = ""
    pending: bool = False  # password checked, the second factor not yet: opens nothing


class LoginAttempt(SQLModel, table=True):
    """One sign-in attempt, kept for the lock-out (per e-mail address and per client address) and the audit."""

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(default_factory=utcnow, index=True)
    email: str = Field(index=True, max_length=254)
    ip: str = Field(default="", index=True)
    # ok (signed in) | password (right password, second factor awaited) | bad (wrong e-mail, password or code) |
    # locked (refused unchecked: the address is locked, or the account's delay is running)
    outcome: str = "bad"


class AuditEvent(SQLModel, table=True):
    """Who changed what: every staff write and sign-in. `detail` is JSON without citizens' personal data."""

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(default_factory=utcnow, index=True)
    staff_id: int | None = Field(default=None, foreign_key="staffuser.id", index=True)
    actor: str = ""  # the staff e-mail at the time (kept if the account is removed), or "system"
    action: str = Field(index=True)  # e.g. closure.create, appointment.check_in
    target: str = ""  # e.g. "closure:12"
    detail: str = "{}"
    ip: str = ""


class QueueTicket(SQLModel, table=True):
    """A place in an office's queue for one day: a walk-in ticket ("A007") or a checked-in appointment ("C003").
    The queue lives in the database, so every backend worker and every wall screen sees the same one.
    Waiting time = called_at - issued_at (arrival); service time = done_at - called_at."""

    __table_args__ = (UniqueConstraint("office_id", "day", "label"),)

    id: int | None = Field(default=None, primary_key=True)
    office_id: int = Field(foreign_key="office.id", index=True)
    procedure_id: int | None = Field(default=None, foreign_key="procedure.id", index=True)
    day: date = Field(index=True)  # local (Madrid) day
    kind: str = "walk_in"  # walk_in | appointment
    number: int
    label: str = Field(max_length=8)
    appointment_id: int | None = Field(default=None, foreign_key="appointment.id", unique=True)
    status: str = Field(default="waiting", index=True)  # waiting | called | done | no_show | cancelled
    desk: int | None = None
    estimated_wait_minutes: int = 0
    issued_at: datetime = Field(default_factory=utcnow)
    called_at: datetime | None = None
    done_at: datetime | None = None
    issued_by: int | None = Field(default=None, foreign_key="staffuser.id")
    called_by: int | None = Field(default=None, foreign_key="staffuser.id")


class RequestAssignment(SQLModel, table=True):
    """Which member of staff is handling a request, inside the department. Internal: never shown to citizens
    (the public timeline names the department only)."""

    request_id: int = Field(foreign_key="servicerequest.id", primary_key=True)
    staff_id: int = Field(foreign_key="staffuser.id", index=True)
    assigned_at: datetime = Field(default_factory=utcnow)
    assigned_by: int | None = Field(default=None, foreign_key="staffuser.id")


class Hold(SQLModel, table=True):
    """A seat kept for a few minutes while a citizen types their details. Counts against capacity until
    `expires_at`; an expired hold simply stops counting (no background job needed)."""

    __table_args__ = (UniqueConstraint("office_id", "procedure_id", "starts_at", "seat"),)

    id: int | None = Field(default=None, primary_key=True)
    token: str = Field(unique=True, index=True)
    procedure_id: int = Field(foreign_key="procedure.id", index=True)
    office_id: int = Field(foreign_key="office.id", index=True)
    starts_at: datetime = Field(index=True)
    seat: int
    expires_at: datetime = Field(index=True)
    client_key: str = Field(default="", index=True)
    created_at: datetime = Field(default_factory=utcnow)


class UsedChallenge(SQLModel, table=True):
    """An ALTCHA proof-of-work already spent: the same solution cannot be replayed before it expires."""

    signature: str = Field(primary_key=True, max_length=128)
    expires_at: datetime = Field(index=True)


# --- Web push ("Notify me") --------------------------------------------------------------------------------------


class PushSubscription(SQLModel, table=True):
    """A browser's Push API subscription, without an account. `endpoint` is the push service's address for this
    browser (a secret URL), `p256dh`/`auth` the keys its messages are encrypted with; the device proves that the
    subscription is its own with `auth`, which only it and we know. Removed when the citizen turns notifications off
    or the push service answers 404/410."""

    id: int | None = Field(default=None, primary_key=True)
    endpoint: str = Field(unique=True, max_length=1024)
    p256dh: str = Field(max_length=128)
    auth: str = Field(max_length=64)
    lang: str = "es"  # messages are written in this language
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)
    last_sent_at: datetime | None = None


class PushTopic(SQLModel, table=True):
    """What a subscription wants to hear about: "reminders" (its appointments), "updates" (its requests), "news"
    (the whole town), "office:<slug>" (a district office) or "area:<slug>" (a procedure area)."""

    __table_args__ = (UniqueConstraint("subscription_id", "topic"),)

    id: int | None = Field(default=None, primary_key=True)
    subscription_id: int = Field(foreign_key="pushsubscription.id", ondelete="CASCADE", index=True)
    topic: str = Field(max_length=100, index=True)


class PushLink(SQLModel, table=True):
    """An appointment or a request made on (or looked up by) the subscribed device: the device sent its code (and
    the appointment's verifier), so the server knows whose reminders and status changes go to that browser."""

    __table_args__ = (UniqueConstraint("subscription_id", "appointment_id"),
                      UniqueConstraint("subscription_id", "request_id"))

    id: int | None = Field(default=None, primary_key=True)
    subscription_id: int = Field(foreign_key="pushsubscription.id", ondelete="CASCADE", index=True)
    appointment_id: int | None = Field(default=None, foreign_key="appointment.id", ondelete="CASCADE", index=True)
    request_id: int | None = Field(default=None, foreign_key="servicerequest.id", ondelete="CASCADE", index=True)


class PushEvent(SQLModel, table=True):
    """Something to tell subscribers: an appointment reminder, a request's status change, a staff notice. `key` is
    unique: a reminder ("reminder:24h:<appointment>:<start>") is inserted once, whatever the restarts and the number
    of workers. A worker fans an event out into one PushDelivery per subscriber."""

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(unique=True, max_length=160)
    kind: str = Field(max_length=20)  # reminder_24h | reminder_2h | request_status | notice
    appointment_id: int | None = Field(default=None, foreign_key="appointment.id", ondelete="CASCADE", index=True)
    request_id: int | None = Field(default=None, foreign_key="servicerequest.id", ondelete="CASCADE", index=True)
    status_change_id: int | None = Field(default=None, foreign_key="statuschange.id", ondelete="CASCADE")
    topic: str = Field(default="", max_length=100)  # a notice's audience
    params: str = "{}"  # JSON: a notice's texts per language, its link
    created_at: datetime = Field(default_factory=utcnow, index=True)
    claimed_until: datetime | None = None
    fanned_out_at: datetime | None = Field(default=None, index=True)
    recipients: int = 0


class PushDelivery(SQLModel, table=True):
    """One message to one subscription, already written in its language. Sent by whichever worker claims it
    (`claim`, until `claimed_until`); 429/5xx answers are retried at `next_at` with back-off; 404/410 remove the
    subscription (and with it this row)."""

    __table_args__ = (UniqueConstraint("event_id", "subscription_id"),)

    id: int | None = Field(default=None, primary_key=True)
    event_id: int = Field(foreign_key="pushevent.id", ondelete="CASCADE", index=True)
    subscription_id: int = Field(foreign_key="pushsubscription.id", ondelete="CASCADE", index=True)
    payload: str  # JSON shown by the service worker: title, body, url, tag, lang
    ttl: int = 86400  # seconds the push service keeps it for an offline device
    urgency: str = "normal"  # very-low | low | normal | high
    topic: str = Field(default="", max_length=32)  # Topic header: a newer message replaces an undelivered one
    status: str = Field(default="pending", max_length=10, index=True)  # pending | sent | failed | expired
    tries: int = 0
    next_at: datetime = Field(default_factory=utcnow, index=True)
    expires_at: datetime
    claim: str = Field(default="", max_length=32)
    claimed_until: datetime | None = None
    sent_at: datetime | None = None
    last_status: int | None = None
    last_error: str = ""


# --- E-mail -----------------------------------------------------------------------------------------------------


class MailOutbox(SQLModel, table=True):
    """One e-mail to a citizen, written in their language when it was queued (in the same transaction as the
    booking, cancellation or move it tells about). `key` is unique, so a reminder is queued once whoever inserts it;
    the sender claims a row (`claim`, until `claimed_until`) before sending, so several workers never send it twice.
    Failures are retried at `next_at` with back-off; sent and failed rows are purged after a while (they hold the
    address and the message)."""

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(unique=True, max_length=160)  # e.g. "booked:<appointment>", "reminder:24h:<appointment>:<start>"
    kind: str = Field(max_length=20)  # confirm | booked | cancelled | moved | reminder | request_received | request_status
    appointment_id: int | None = Field(default=None, foreign_key="appointment.id", ondelete="CASCADE", index=True)
    recipient: str = Field(max_length=254)
    message: str  # the whole RFC 5322 message, attachments included
    status: str = Field(default="queued", max_length=10, index=True)  # queued | sent | failed
    tries: int = 0
    next_at: datetime = Field(default_factory=utcnow, index=True)
    claim: str = Field(default="", max_length=32)
    claimed_until: datetime | None = None
    sent_at: datetime | None = None
    last_error: str = ""
    created_at: datetime = Field(default_factory=utcnow)


# --- Citizen feedback (issue 9) -------------------------------------------------------------------------------


class SurveyAnswer(SQLModel, table=True):
    """The 30-second survey after an attended appointment, one per appointment. Anonymous to staff: it keeps the
    appointment's procedure, office and day, never the person; `appointment_key` is a keyed hash of the booking
    code (pwa_app.appointments.fairness.keyed), which only enforces the one answer per appointment."""

    __table_args__ = (UniqueConstraint("appointment_key"),)

    id: int | None = Field(default=None, primary_key=True)
    appointment_key: str = Field(max_length=64)
    procedure_id: int = Field(foreign_key="procedure.id", index=True)
    office_id: int = Field(foreign_key="office.id", index=True)
    day: date = Field(index=True)  # the appointment's local (Madrid) day
    rating: int  # overall satisfaction, 1 (very bad) to 5 (very good)
    checklist_ok: bool | None = None  # was "what to bring" right? None: not answered
    missing: str = Field(default="", max_length=2000)  # what was missing from the checklist (plain text)
    waiting: str = Field(default="", max_length=8)  # short | ok | long | "" (not answered)
    comment: str = Field(default="", max_length=2000)  # plain text, shown escaped
    lang: str = Field(default="es", max_length=5)
    created_at: datetime = Field(default_factory=utcnow, index=True)


class Suggestion(SQLModel, table=True):
    """A note in the suggestion box, open to anyone. Anonymous ones keep no name; one that asks for an answer is
    also a tracked request of type queja-sugerencia (`request_id`), which holds the contact details."""

    id: int | None = Field(default=None, primary_key=True)
    text: str = Field(max_length=2000)  # plain text, shown escaped
    name: str = Field(default="", max_length=100)  # "" when anonymous
    request_id: int | None = Field(default=None, foreign_key="servicerequest.id", index=True)
    lang: str = Field(default="es", max_length=5)
    created_at: datetime = Field(default_factory=utcnow, index=True)


# ---- the availability versions, bumped in the transaction of every change -----------------------------------

CHANGED = "availability_changed"  # in Session.info while a transaction holds bumped, uncommitted versions
BUMPED = "availability_bumped"  # {(procedure id, office id): (grid, seats) as bumped, or None: pair added/removed}
SEAT_FIELDS = ("procedure_id", "office_id", "starts_at", "seat", "status", "confirm_by", "expires_at")


def _values(obj, name: str, dirty: bool) -> set:
    """The attribute's value, and its value before this flush for a changed row (a move has two pairs)."""
    now = {getattr(obj, name)}
    if dirty:
        now |= set(inspect(obj).attrs[name].history.deleted or ())
    return now


def _pairs_changed(session) -> tuple[set, set]:
    """(procedure id, office id) pairs whose seats changed, and whose grid changed (None: every one)."""
    seats, grids = set(), set()
    for rows, dirty in ((session.new, False), (session.deleted, False), (session.dirty, True)):
        for obj in rows:
            if dirty and not session.is_modified(obj):
                continue
            if isinstance(obj, (Appointment, Hold)):
                attrs = inspect(obj).attrs
                if dirty and not any(f in attrs.keys() and attrs[f].history.has_changes() for f in SEAT_FIELDS):
                    continue
                seats |= {(p, o) for p in _values(obj, "procedure_id", dirty) for o in _values(obj, "office_id", dirty)}
            elif isinstance(obj, Schedule):
                grids |= {(p, o) for p in _values(obj, "procedure_id", dirty) for o in _values(obj, "office_id", dirty)}
            elif isinstance(obj, Closure):
                grids |= {(None, o) for o in _values(obj, "office_id", dirty)}  # no office: a holiday, all of them
            elif isinstance(obj, Procedure):
                grids.add((obj.id, None))
            elif isinstance(obj, Municipality):
                grids.add((None, None))
    return seats, grids


@event.listens_for(OrmSession, "after_flush")
def _availability_changed(session, _context) -> None:
    seats, grids = _pairs_changed(session)
    if seats or grids:
        session.info[CHANGED] = True
    table = ProcedureOffice.__table__
    bumped = session.info.setdefault(BUMPED, {})
    for column, pairs in (("seats_version", seats), ("grid_version", grids)):
        for procedure_id, office_id in sorted(pairs, key=str):
            where = [c == v for c, v in ((table.c.procedure_id, procedure_id), (table.c.office_id, office_id))
                     if v is not None]
            rows = session.connection().execute(update(table).where(*where).values({column: table.c[column] + 1})
                                                .returning(table.c.procedure_id, table.c.office_id,
                                                           table.c.grid_version, table.c.seats_version))
            bumped.update({(p, o): (g, s) for p, o, g, s in rows})
    for obj in (*session.new, *session.deleted):  # a pair added or removed starts its versions afresh
        if isinstance(obj, ProcedureOffice):
            bumped[(obj.procedure_id, obj.office_id)] = None


@event.listens_for(OrmSession, "after_transaction_end")
def _availability_settled(session, transaction) -> None:
    if transaction.parent is None:  # committed or rolled back: the versions are the database's again
        session.info.pop(CHANGED, None)
        session.info.pop(BUMPED, None)
