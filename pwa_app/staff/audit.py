"""The audit log: every staff write, sign-in and export leaves an AuditEvent."""

import json

from sqlmodel import Session

from pwa_app.models import AuditEvent
from pwa_app.staff.permissions import Viewer


# --- audit ----------------------------------------------------------------------------------------------------


def audit(session: Session, viewer: Viewer | None, action: str, target: str = "", ip: str = "", **detail) -> None:
    """Record who changed what (in the caller's transaction)."""
    session.add(AuditEvent(staff_id=viewer.id if viewer else None, actor=viewer.email if viewer else "system",
                           action=action, target=target, ip=ip[:64],
                           detail=json.dumps(detail, ensure_ascii=False, default=str, sort_keys=True)))
