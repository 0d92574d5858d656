"""Database tables, in the town hall's words. Plain SQLModel: no Reflex import, so services test without it.

Times are stored as aware UTC datetimes; offices publish schedules in local wall time (Europe/Madrid) and the
slots service converts, so daylight-saving days come out right.
"""

from datetime import date, datetime, time, timezone

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


class Requirement(SQLModel, table=True):
    """One item of a procedure's checklist (what to bring)."""

    id: int | None = Field(default=None, primary_key=True)
    procedure_id: int = Field(foreign_key="procedure.id", index=True)
    position: int = 0
    text: str
    note: str = ""
    optional: bool = False


class ProcedureOffice(SQLModel, table=True):
    """Which offices handle which procedures."""

    procedure_id: int = Field(foreign_key="procedure.id", primary_key=True)
    office_id: int = Field(foreign_key="office.id", primary_key=True)


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
    status: str = "booked"  # booked | cancelled | checked_in | done | no_show
    name: str
    document: str = ""  # normalised DNI/NIE/passport, only when the procedure needs it
    phone: str = ""
    email: str = ""
    lang: str = "es"
    created_at: datetime = Field(default_factory=utcnow)
    cancelled_at: datetime | None = None


class IdempotencyRecord(SQLModel, table=True):
    """The first answer given to a write with this Idempotency-Key; a repeat gets the same answer."""

    key: str = Field(primary_key=True, max_length=64)
    operation: str
    request_hash: str  # the same key with another payload is refused
    status_code: int
    body: str  # JSON
    created_at: datetime = Field(default_factory=utcnow)


class ContentTranslation(SQLModel, table=True):
    """Database content in other languages: one row per (table, row, field, language)."""

    __table_args__ = (UniqueConstraint("table_name", "row_id", "field", "lang"),)

    id: int | None = Field(default=None, primary_key=True)
    table_name: str
    row_id: int
    field: str
    lang: str
    text: str
