"""Web push (subscriptions, topics, links to appointments and requests, events, deliveries) and the mail
outbox."""

from datetime import datetime

from sqlmodel import Field, SQLModel, UniqueConstraint

from pwa_app.common.times import utcnow


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
