"""Staff sign-in, sessions and accounts (roles: permissions.py; the second factor: second_factor.py;
the audit trail: audit.py). Plain Python: the staff API and the staff Reflex state both
call it, so the rules live here once.

- Passwords: argon2id (argon2-cffi's defaults), never stored or logged in clear; at least 12 characters.
- Sessions: a random 256-bit token in an HttpOnly, SameSite=Lax cookie (Secure behind HTTPS); the database keeps
  only its SHA-256, with an absolute expiry (`SESSION_HOURS`) and an idle timeout (`IDLE_MINUTES`).
- Soft lock-out: after `ACCOUNT_FAILURES` wrong passwords or codes for one e-mail address within `WINDOW_MINUTES`,
  each further try must come a delay after the last failure (2 s, doubling with every failure, at most
  `MAX_DELAY_SECONDS`) and carry a proof of work (the citizens' ALTCHA challenge); the right password then always
  signs in, so an attacker can slow an account down but not lock its owner out. `IP_FAILURES` failures from one
  client address lock that address. Attempts are kept in the database, so every backend worker counts the same.
  Unknown addresses are counted and checked the same way as known ones (the answer does not tell whether an
  account exists).
- Second factor: TOTP (RFC 6238, 30 s, ±1 step of drift, each step accepted once per account) or a one-time
  recovery code, asked after the password; required for administrators and managers (`Viewer.must_enrol` until
  they enrol: the entry points then open nothing else), optional for front desks. The secret is sealed with the
  installation's key (Fernet), the recovery codes are kept as keyed hashes. Until the code is given, the session
  is `pending` and opens nothing.
- Roles: "admin" (everything), "manager" (set-up, requests and reports of their offices and department),
  "desk" (their office's day view and queue). `Viewer.can(permission)` and `Viewer.can_office(office_id)` are the
  only checks the callers make.
"""

import hashlib
import json
import math
import secrets
import threading
from datetime import UTC, datetime, timedelta
from http.cookies import SimpleCookie

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy.exc import OperationalError
from sqlmodel import Session, delete, func, select

from pwa_app import db
from pwa_app.appointments import fairness
from pwa_app.common.errors import DomainError
from pwa_app.common.text import EMAIL_RE
from pwa_app.common.times import utc_or_now, utcnow
from pwa_app.models import AuditEvent, LoginAttempt, StaffOffice, StaffSession, StaffUser
from pwa_app.settings import get_settings
from pwa_app.staff.permissions import ROLES, SECOND_FACTOR_REQUIRED, Viewer

UTC = UTC
COOKIE = "cita_staff"


# Over HTTPS the cookie is "__Host-" prefixed: the browser then keeps it only if Secure, for this host and path /,
# so a neighbouring subdomain or a plain-HTTP page cannot plant or overwrite it.
SECURE_COOKIE = "__Host-" + COOKIE
SESSION_HOURS = 12  # a working day, then sign in again
IDLE_MINUTES = 120
TOUCH_SECONDS = 60  # last_seen_at is written at most this often
WINDOW_MINUTES = 15
ACCOUNT_FAILURES = 5  # then each try waits and proves work
MAX_DELAY_SECONDS = 300
IP_FAILURES = 20
PENDING_MINUTES = 5  # to type the second factor's code after the password
RECOVERY_CODES = 10
ISSUER = "Cita"
PASSWORD_MIN = 12
PASSWORD_MAX = 256








_hasher = PasswordHasher()


# Each check holds 64 MiB for a moment: a burst of sign-ins waits its turn instead of exhausting the memory.
_checks_at_once = threading.BoundedSemaphore(get_settings().argon2_at_once)
_DUMMY_HASH = _hasher.hash(secrets.token_hex(16))  # checked for unknown e-mails, so timing tells nothing


class AuthError(DomainError):
    """A refused sign-in or account change. `code`: invalid | locked (the client address) | slow (the account's
    delay runs: `retry_after`) | proof (a proof of work is needed) | code (wrong second factor) | expired (the
    password step is too old) | weak_password | email | role | exists."""

    def __init__(self, code: str, retry_after: int = 0):
        super().__init__({"form": code})
        self.retry_after = retry_after




def normalize_email(raw: str) -> str:
    return (raw or "").strip().lower()[:254]


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


# --- accounts -------------------------------------------------------------------------------------------------


def password_problem(password: str) -> str | None:
    if len(password or "") < PASSWORD_MIN or len(password) > PASSWORD_MAX or not password.strip():
        return "weak_password"
    return None


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def create_user(session: Session, email: str, name: str, role: str, password: str, *,
                office_ids: list[int] | tuple = (), department_id: int | None = None) -> StaffUser:
    """A new account. The caller commits (with its audit event)."""
    email = normalize_email(email)
    if not EMAIL_RE.match(email):
        raise AuthError("email")
    if role not in ROLES:
        raise AuthError("role")
    if problem := password_problem(password):
        raise AuthError(problem)
    if session.exec(select(StaffUser).where(StaffUser.email == email)).first():
        raise AuthError("exists")
    user = StaffUser(email=email, name=" ".join((name or email).split())[:100], role=role,
                     password_hash=hash_password(password), department_id=department_id)
    session.add(user)
    session.flush()
    set_offices(session, user, office_ids)
    return user


def set_offices(session: Session, user: StaffUser, office_ids) -> None:
    session.exec(delete(StaffOffice).where(StaffOffice.staff_id == user.id))
    session.add_all(StaffOffice(staff_id=user.id, office_id=int(o)) for o in sorted(set(office_ids)))
    session.flush()


def set_password(session: Session, user: StaffUser, password: str) -> None:
    """A new password ends every session of the account."""
    if problem := password_problem(password):
        raise AuthError(problem)
    user.password_hash, user.password_changed_at = hash_password(password), utcnow()
    session.add(user)
    session.exec(delete(StaffSession).where(StaffSession.staff_id == user.id))
    session.flush()


def deactivate(session: Session, user: StaffUser) -> None:
    user.active = False
    session.add(user)
    session.exec(delete(StaffSession).where(StaffSession.staff_id == user.id))
    session.flush()


def viewer_of(session: Session, user: StaffUser, session_id: int | None = None) -> Viewer:
    offices = None
    if user.role != "admin":
        offices = frozenset(session.exec(select(StaffOffice.office_id).where(StaffOffice.staff_id == user.id)))
    return Viewer(id=user.id, email=user.email, name=user.name, role=user.role, office_ids=offices,
                  department_id=user.department_id, session_id=session_id,
                  must_enrol=user.role in SECOND_FACTOR_REQUIRED and not user.totp_secret)


# --- signing in -----------------------------------------------------------------------------------------------


def _failures(session: Session, since: datetime, *conditions) -> list[datetime]:
    return list(session.exec(select(LoginAttempt.at).where(LoginAttempt.at >= since, *conditions)
                             .order_by(LoginAttempt.at)))


def _since_last_sign_in(session: Session, email: str, now: datetime) -> datetime:
    since = now - timedelta(minutes=WINDOW_MINUTES)
    last_ok = session.exec(select(func.max(LoginAttempt.at)).where(
        LoginAttempt.email == email, LoginAttempt.outcome == "ok")).one()
    return max(since, utc_or_now(last_ok)) if last_ok is not None else since


def address_wait(session: Session, ip: str, now: datetime) -> int:
    """0 while this client address may try; else the seconds until it may (`IP_FAILURES` refused tries)."""
    by_ip = _failures(session, now - timedelta(minutes=WINDOW_MINUTES), LoginAttempt.ip == ip,
                      LoginAttempt.outcome.in_(("bad", "locked")))
    if not ip or len(by_ip) < IP_FAILURES:
        return 0
    return _seconds_until(utc_or_now(by_ip[-IP_FAILURES]) + timedelta(minutes=WINDOW_MINUTES), now)


def account_delay(session: Session, email: str, now: datetime) -> tuple[int, bool]:
    """(seconds to wait, proof of work needed) before the next try on this account."""
    failures = _failures(session, _since_last_sign_in(session, email, now), LoginAttempt.email == email,
                         LoginAttempt.outcome == "bad")
    extra = len(failures) - ACCOUNT_FAILURES
    if extra < 0:
        return 0, False
    delay = timedelta(seconds=min(2 ** (extra + 1), MAX_DELAY_SECONDS))
    return _seconds_until(utc_or_now(failures[-1]) + delay, now), True


def _seconds_until(moment: datetime, now: datetime) -> int:
    return max(math.ceil((moment - now).total_seconds()), 0)


def _gate(session: Session, email: str, ip: str, now: datetime, proof: str | None) -> None:
    """Refuses, without checking anything, a try that comes too soon or without the proof of work it needs."""
    code, wait = "locked", address_wait(session, ip, now)
    if not wait:
        wait, needs_proof = account_delay(session, email, now)
        code = "slow" if wait else "proof" if needs_proof and not fairness.spend_challenge(session, proof) else ""
    if code:
        session.add(LoginAttempt(at=now, email=email, ip=ip, outcome="locked" if wait else "proof"))
        session.commit()
        raise AuthError(code, retry_after=wait)


def recent_failures(session: Session, email: str, ip: str, now: datetime | None = None) -> int:
    """Failures in the window for this e-mail or client address (the API slows down its answer with it)."""
    since = utc_or_now(now) - timedelta(minutes=WINDOW_MINUTES)
    return len(_failures(session, since, (LoginAttempt.email == email) | (LoginAttempt.ip == ip),
                         LoginAttempt.outcome == "bad"))


def sign_in(session: Session, email: str, password: str, *, ip: str = "", user_agent: str = "",
            proof: str | None = None, now: datetime | None = None) -> tuple[str, Viewer | None]:
    """Check a password and open a session: (cookie token, viewer). For an account with a second factor the
    session is pending and the viewer None: `confirm_second_factor` completes it. Commits (the attempt is
    recorded either way)."""
    now, email = utc_or_now(now), normalize_email(email)
    _gate(session, email, ip, now, proof)
    user = session.exec(select(StaffUser).where(StaffUser.email == email)).first()
    ok = False
    try:
        with _checks_at_once:
            ok = _hasher.verify(user.password_hash if user else _DUMMY_HASH, password or "")
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        ok = False
    ok = ok and user is not None and user.active
    if not ok:
        _failed(session, email, ip, now, "auth.sign_in_failed")
        raise AuthError("invalid")
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
        session.add(user)
    if user.totp_secret:
        session.add(LoginAttempt(at=now, email=email, ip=ip, outcome="password"))
        token, _row = _open_session(session, user, now, ip, user_agent, pending=True)
        session.commit()
        return token, None
    return _signed_in(session, user, now, ip, user_agent)


def _failed(session: Session, email: str, ip: str, now: datetime, action: str) -> None:
    session.add(LoginAttempt(at=now, email=email, ip=ip, outcome="bad"))
    session.add(AuditEvent(at=now, actor=email, action=action, ip=ip))
    session.commit()


def _open_session(session: Session, user: StaffUser, now: datetime, ip: str, user_agent: str,
                  pending: bool = False) -> tuple[str, StaffSession]:
    token = secrets.token_urlsafe(32)
    row = StaffSession(token_hash=token_hash(token), staff_id=user.id, created_at=now, last_seen_at=now,
                       expires_at=now + timedelta(hours=SESSION_HOURS), ip=ip[:64], user_agent=user_agent[:300],
                       pending=pending)
    session.add(row)
    session.flush()
    return token, row


def _signed_in(session: Session, user: StaffUser, now: datetime, ip: str, user_agent: str,
               **detail) -> tuple[str, Viewer]:
    session.add(LoginAttempt(at=now, email=user.email, ip=ip, outcome="ok"))
    token, row = _open_session(session, user, now, ip, user_agent)
    session.add(AuditEvent(at=now, staff_id=user.id, actor=user.email, action="auth.sign_in", ip=ip,
                           detail=json.dumps(detail, sort_keys=True)))
    session.commit()
    return token, viewer_of(session, user, row.id)


def viewer_for_token(session: Session, token: str | None, now: datetime | None = None) -> Viewer | None:
    """The member of staff a session token belongs to, or None (no, unknown, expired or idle session, or a
    deactivated account). Refreshes the session's last use."""
    if not token or len(token) > 200:
        return None
    now = utc_or_now(now)
    row = session.exec(select(StaffSession).where(StaffSession.token_hash == token_hash(token))).first()
    if row is None or row.pending:
        return None
    if utc_or_now(row.expires_at) <= now or utc_or_now(row.last_seen_at) + timedelta(minutes=IDLE_MINUTES) <= now:
        session.delete(row)
        _housekeeping_commit(session)
        return None
    user = session.get(StaffUser, row.staff_id)
    if user is None or not user.active:
        return None
    if (now - utc_or_now(row.last_seen_at)).total_seconds() > TOUCH_SECONDS:
        row.last_seen_at = now
        session.add(row)
        _housekeeping_commit(session)
    return viewer_of(session, user, row.id)


def _housekeeping_commit(session: Session) -> None:
    """Commit a write that can wait for another time (a session's last use, dropping an ended one): a busy
    database must not turn a signed-in check into an error."""
    try:
        session.commit()
    except OperationalError as exc:
        session.rollback()
        if not db.is_busy(exc):
            raise


def sign_out(session: Session, token: str | None, ip: str = "") -> None:
    if not token:
        return
    row = session.exec(select(StaffSession).where(StaffSession.token_hash == token_hash(token))).first()
    if row:
        user = session.get(StaffUser, row.staff_id)
        session.delete(row)
        session.add(AuditEvent(staff_id=row.staff_id, actor=user.email if user else "", action="auth.sign_out",
                               ip=ip))
        session.commit()


def purge(session: Session, now: datetime | None = None, attempts_days: int = 1) -> tuple[int, int]:
    """Drop ended sessions and sign-in attempts older than `attempts_days` (the daily retention purge calls it;
    the caller commits). Returns (sessions, attempts) deleted."""
    now = utc_or_now(now)
    sessions = session.exec(delete(StaffSession).where(StaffSession.expires_at <= now)).rowcount
    attempts = session.exec(delete(LoginAttempt).where(LoginAttempt.at < now - timedelta(days=attempts_days))).rowcount
    session.flush()
    return sessions, attempts


# --- cookies --------------------------------------------------------------------------------------------------


def token_from_cookie_header(header: str | None) -> str | None:
    if not header:
        return None
    jar = SimpleCookie()
    try:
        jar.load(header)
    except Exception:  # a malformed Cookie header: no session
        return None
    return session_token({name: morsel.value for name, morsel in jar.items()})


def session_token(cookies) -> str | None:
    """The session token among a request's cookies (the prefixed one first)."""
    return cookies.get(SECURE_COOKIE) or cookies.get(COOKIE)


def cookie_settings(secure: bool) -> dict:
    """Arguments for Starlette's set_cookie: the session cookie is never readable by scripts."""
    return {"key": SECURE_COOKIE if secure else COOKIE, "httponly": True, "samesite": "lax", "secure": secure,
            "path": "/", "max_age": SESSION_HOURS * 3600}
