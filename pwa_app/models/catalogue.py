"""What citizens can book and where: the municipality, areas, offices, procedures and their checklists,
weekly schedules, closures, and the translations of all these texts."""

import secrets
from datetime import date, time

import sqlalchemy as sa
from sqlmodel import Field, SQLModel, UniqueConstraint


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
    # Walk-in tickets the queue issues per local day (0: no limit): past it, staff are told to offer an appointment.
    walk_in_quota: int = Field(default=0, sa_column_kwargs={"server_default": "0"})


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
    (appointments/availability.py): `grid_version` changes with what can be booked (schedules, closures, holidays,
    booking rules), `seats_version` with the seats taken; both are bumped in the transaction that changes them
    (see `_availability_changed` below). They start at a random number, so a pair removed and added again never
    matches an answer kept for its earlier self."""

    procedure_id: int = Field(foreign_key="procedure.id", primary_key=True)
    office_id: int = Field(foreign_key="office.id", primary_key=True)
    grid_version: int = Field(default_factory=lambda: secrets.randbelow(1 << 30))
    seats_version: int = 0


class Schedule(SQLModel, table=True):
    """Weekly opening of an office for a procedure: slots of `slot_minutes` with `capacity` desks each.

    `staff_seats` of each slot are for staff booking (phone and counter): the web cannot take them
    until `staff_seats_hours` before the slot starts, when they open to everyone (appointments/slots.py)."""

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
    staff_seats: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    staff_seats_hours: int = Field(default=24, sa_column_kwargs={"server_default": "24"})


class Closure(SQLModel, table=True):
    """A day without appointments: a public holiday (office_id None = every office) or an office's closure."""

    id: int | None = Field(default=None, primary_key=True)
    office_id: int | None = Field(default=None, foreign_key="office.id", index=True)
    day: date = Field(index=True)
    reason: str


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
