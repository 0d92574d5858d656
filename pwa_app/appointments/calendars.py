"""What availability is made of: a procedure at an office with its versions (`Pair`), the slow-changing
frame of bookable starts and capacities (`Frame`), the calendar with the seats taken (`Calendar`), and the shared,
gzipped answer (`Answer`). Built and kept by availability.py."""

from dataclasses import dataclass
from datetime import datetime
from functools import cached_property

from pwa_app.appointments.slots import WEB, Slot, Window


@dataclass(frozen=True)
class Pair:
    """A procedure at an office, with the versions of its availability as the database has them now."""

    procedure_id: int
    office_id: int
    grid: int
    seats: int


@dataclass(frozen=True)
class Booked:
    """What a refusal needs of a pair without the database: the office as citizens see it and the procedure's
    booking rules. An office or procedure edit bumps the grid version (models.py), so it is kept with the frame."""

    office_slug: str
    office_name: str
    requires_document: bool
    high_demand: bool


@dataclass(frozen=True)
class Frame:
    """The slow-changing part: the booking window and every bookable slot start in it with its capacity."""

    grid: int
    booked: Booked
    window: Window
    capacity: dict[datetime, int]  # in time order
    staff: dict[datetime, int]  # seats of these starts that only staff may take until valid_until (slots.py)
    since: datetime  # built at; right from then until valid_until (a clock set back gets a new one)
    valid_until: datetime


@dataclass(frozen=True)
class Calendar:
    """Every bookable slot of a pair from now to the end of its booking window, with its seats taken: `slots` with
    the seats the web may take (what citizens see), `every` with all of them (what staff see)."""

    grid: int
    seats: int
    booked: Booked
    window: Window
    slots: tuple[Slot, ...]
    every: tuple[Slot, ...]
    since: datetime
    valid_until: datetime

    @cached_property
    def by_start(self) -> dict[datetime, Slot]:
        return {s.starts_at: s for s in self.slots}

    @cached_property
    def every_by_start(self) -> dict[datetime, Slot]:
        return {s.starts_at: s for s in self.every}

    def view(self, channel: str) -> tuple[tuple[Slot, ...], dict[datetime, Slot]]:
        """The slots a channel may book, and the same by start."""
        return (self.slots, self.by_start) if channel == WEB else (self.every, self.every_by_start)


@dataclass(frozen=True)
class Answer:
    grid: int
    seats: int
    since: datetime
    valid_until: datetime
    etag: str
    gz: bytes
