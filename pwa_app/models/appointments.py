"""Appointments, the holds that keep a picked time for a few minutes, and spent proof-of-work challenges."""

from datetime import datetime

from sqlmodel import Field, SQLModel, UniqueConstraint

from pwa_app.common.times import utcnow


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
    # A visit (appointments/visits.py): the other people and procedures of one booking are rows of their own (each
    # its seat, guarded by the unique index) pointing to the visit's first row, whose code opens, moves and cancels
    # them all; their own codes open nothing.
    visit_of: int | None = Field(default=None, foreign_key="appointment.id", index=True)
    # Booking for someone else (Ley 39/2015 art. 5): name, document and limits are the person's; the representative
    # who booked with their consent gets the notices too.
    representative_name: str = Field(default="", max_length=100, sa_column_kwargs={"server_default": ""})
    representative_email: str = Field(default="", max_length=254, sa_column_kwargs={"server_default": ""})
    representative_phone: str = Field(default="", max_length=20, sa_column_kwargs={"server_default": ""})
    # How it was booked: "web" (the citizen pages and the API), "phone" or "counter" (staff booked it for the person).
    channel: str = Field(default="web", max_length=10, sa_column_kwargs={"server_default": "web"})


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
