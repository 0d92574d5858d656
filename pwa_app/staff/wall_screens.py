"""The waiting room's wall screens: the keys that open an office's board without a staff
session."""

import secrets
from datetime import datetime

from sqlmodel import Session, select

from pwa_app.common.times import utcnow
from pwa_app.models import DisplayToken, Office
from pwa_app.staff import audit
from pwa_app.staff import auth
from pwa_app.staff.permissions import StaffError, Viewer, require


# --- wall screens ---------------------------------------------------------------------------------------------


def display_tokens(session: Session, viewer: Viewer, office_id: int) -> list[DisplayToken]:
    """An office's wall screen keys still in force, newest first."""
    require(viewer, "setup_office", office_id)
    return list(session.exec(select(DisplayToken).where(DisplayToken.office_id == office_id,
                                                        DisplayToken.revoked_at == None)  # noqa: E711
                             .order_by(DisplayToken.created_at.desc(), DisplayToken.id.desc())))


def create_display_token(session: Session, viewer: Viewer, office_id: int, now: datetime | None = None) -> str:
    """A new key for one office's wall screen; returns the token (only its hash is kept: shown once)."""
    require(viewer, "setup_office", office_id)
    if session.get(Office, office_id) is None:
        raise StaffError({"form": "not_found"})
    token = secrets.token_urlsafe(32)  # 256 bits: the address is the only key
    row = DisplayToken(token_hash=auth.token_hash(token), office_id=office_id, created_by=viewer.email,
                       created_at=now or utcnow())
    session.add(row)
    session.flush()
    audit.audit(session, viewer, "display.create", f"display:{row.id}", office_id=office_id)
    return token


def revoke_display_token(session: Session, viewer: Viewer, token_id: int, now: datetime | None = None) -> None:
    row = session.get(DisplayToken, token_id)
    if row is None:
        raise StaffError({"form": "not_found"})
    require(viewer, "setup_office", row.office_id)
    row.revoked_at = now or utcnow()
    session.add(row)
    session.flush()
    audit.audit(session, viewer, "display.revoke", f"display:{row.id}", office_id=row.office_id)


def display_office(session: Session, token: str) -> Office | None:
    """The office a wall screen's token opens, or None (unknown or revoked)."""
    if not token or len(token) > 100:
        return None
    row = session.exec(select(DisplayToken).where(DisplayToken.token_hash == auth.token_hash(token),
                                                  DisplayToken.revoked_at == None)).first()  # noqa: E711
    return session.get(Office, row.office_id) if row else None
