"""Database tables, in the town hall's words. Plain SQLModel: no Reflex import, so the domain tests without it.

Times are stored as UTC datetimes; offices publish schedules in local wall time (Europe/Madrid) and the
slots service converts, so daylight-saving days come out right. One module per part of the town hall's work;
import the tables from here (`from pwa_app.models import Appointment`)."""

from pwa_app.models.appointments import Appointment, Hold, UsedChallenge
from pwa_app.models.availability_versions import BUMPED, CHANGED
from pwa_app.models.base import IdempotencyRecord
from pwa_app.models.catalogue import (
    Area, Closure, ContentTranslation, Municipality, Office, Procedure, ProcedureOffice, Requirement, Schedule,
)
from pwa_app.models.feedback import Suggestion, SurveyAnswer
from pwa_app.models.notifications import MailOutbox, PushDelivery, PushEvent, PushLink, PushSubscription, PushTopic
from pwa_app.models.service_requests import (
    Attachment, Department, RequestAssignment, RequestType, ServiceRequest, StatusChange,
)
from pwa_app.models.staff import (
    AuditEvent, DisplayToken, LoginAttempt, QueueTicket, StaffOffice, StaffSession, StaffUser,
)

__all__ = [
    "IdempotencyRecord", "Municipality", "Area", "Office", "Procedure", "Requirement", "ProcedureOffice",
    "Schedule", "Closure", "ContentTranslation", "Appointment", "Hold", "UsedChallenge", "Department", "RequestType",
    "ServiceRequest", "StatusChange", "Attachment", "RequestAssignment", "StaffUser", "StaffOffice", "DisplayToken",
    "StaffSession", "LoginAttempt", "AuditEvent", "QueueTicket", "PushSubscription", "PushTopic", "PushLink",
    "PushEvent", "PushDelivery", "MailOutbox", "SurveyAnswer", "Suggestion", "BUMPED", "CHANGED",
]
