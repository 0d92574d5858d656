"""Citizen feedback: survey answers after an appointment or a service request, and suggestions."""

from datetime import date, datetime

from sqlmodel import Field, SQLModel, UniqueConstraint

from pwa_app.common.times import utcnow


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
