"""Staff accounts (roles, offices, second factor) and the audit log."""

import json

from sqlmodel import Session, select

from pwa_app.common.i18n import local
from pwa_app.models import AuditEvent, Department, Office, StaffOffice, StaffUser
from pwa_app.staff import audit, permissions, second_factor
from pwa_app.staff import auth
from pwa_app.staff.auth import AuthError
from pwa_app.staff.forms import is_checked, text_field
from pwa_app.staff.permissions import StaffError, Viewer, require


# --- staff accounts -------------------------------------------------------------------------------------------


def users(session: Session, viewer: Viewer) -> list[dict]:
    require(viewer, "users")
    links: dict[int, list[int]] = {}
    for link in session.exec(select(StaffOffice)):
        links.setdefault(link.staff_id, []).append(link.office_id)
    return [{"id": u.id, "email": u.email, "name": u.name, "role": u.role, "active": u.active,
             "department_id": u.department_id or 0, "office_ids": sorted(links.get(u.id, [])),
             "second_factor": bool(u.totp_secret)}
            for u in session.exec(select(StaffUser).order_by(StaffUser.name))]


def save_user(session: Session, viewer: Viewer, user_id: int | None, data: dict) -> StaffUser:
    """Create an account (with a first password) or change its role, offices, department or state."""
    require(viewer, "users")
    office_ids = [int(o) for o in data.get("office_ids") or []]
    known = set(session.exec(select(Office.id)))
    if not set(office_ids) <= known:
        raise StaffError({"office_ids": "not_found"})
    department_id = int(data.get("department_id") or 0) or None
    if department_id and session.get(Department, department_id) is None:
        raise StaffError({"department_id": "not_found"})
    role = str(data.get("role") or "desk")
    if role not in permissions.ROLES:
        raise StaffError({"role": "role"})
    if role != "admin" and not office_ids and role == "desk":
        raise StaffError({"office_ids": "required"})
    try:
        if user_id is None:
            user = auth.create_user(session, str(data.get("email") or ""), str(data.get("name") or ""), role,
                                    str(data.get("password") or ""), office_ids=office_ids,
                                    department_id=department_id)
        else:
            user = session.get(StaffUser, user_id)
            if user is None:
                raise StaffError({"form": "not_found"})
            if user.id == viewer.id and (role != "admin" or not is_checked(data.get("active", True))):
                raise StaffError({"role": "self"})  # an administrator cannot lock themselves out
            errors: dict[str, str] = {}
            user.name = text_field(data.get("name", user.name), "name", errors, limit=100)
            if errors:
                raise StaffError(errors)
            user.role, user.department_id = role, department_id
            auth.set_offices(session, user, office_ids)
            if not is_checked(data.get("active", True)):
                auth.deactivate(session, user)
            else:
                user.active = True
            if data.get("password"):
                auth.set_password(session, user, str(data["password"]))
            session.add(user)
            session.flush()
    except AuthError as exc:
        raise StaffError({"email" if exc.code in ("email", "exists") else "password"
                          if exc.code == "weak_password" else "role": exc.code}) from None
    audit.audit(session, viewer, "user.create" if user_id is None else "user.update", f"staff:{user.id}",
               email=user.email, role=role, office_ids=office_ids, department_id=department_id, active=user.active,
               password_changed=bool(data.get("password")))
    return user


def reset_second_factor(session: Session, viewer: Viewer, user_id: int, ip: str = "") -> StaffUser:
    """An administrator turns another member of staff's second factor off (a lost phone): their sessions end, and
    an administrator or manager enrols again at the next sign-in. Audited."""
    require(viewer, "users")
    user = session.get(StaffUser, user_id)
    if user is None:
        raise StaffError({"form": "not_found"})
    if user.id == viewer.id:
        raise StaffError({"form": "self_second_factor"})
    second_factor.clear_second_factor(session, user)
    audit.audit(session, viewer, "user.second_factor_reset", f"staff:{user.id}", ip=ip, email=user.email)
    return user


def audit_log(session: Session, viewer: Viewer, limit: int = 200) -> list[dict]:
    require(viewer, "audit")
    rows = session.exec(select(AuditEvent).order_by(AuditEvent.at.desc(), AuditEvent.id.desc()).limit(limit))
    return [{"id": e.id, "at": local(e.at).strftime("%d/%m/%Y %H:%M:%S"), "actor": e.actor, "action": e.action,
             "target": e.target, "detail": readable_detail(e.detail), "ip": e.ip} for e in rows]


def readable_detail(detail: str) -> list[str]:
    """An audit event's details (stored as JSON) as "key: value" lines a person reads at a glance."""
    try:
        values = json.loads(detail or "{}")
    except ValueError:
        return [detail]
    if not isinstance(values, dict):
        return [detail]

    def say(value) -> str:
        if isinstance(value, bool):
            return "sí" if value else "no"
        if isinstance(value, list | tuple):
            return ", ".join(say(v) for v in value) or "–"
        if isinstance(value, dict):
            return ", ".join(f"{k}={say(v)}" for k, v in value.items()) or "–"
        return "–" if value is None or value == "" else str(value)

    return [f"{key}: {say(value)}" for key, value in values.items()]
