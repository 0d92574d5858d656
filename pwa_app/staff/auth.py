"""Staff sign-in, sessions, roles and the audit trail. Plain Python: the staff API and the staff Reflex state both
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

import base64
import hashlib
import hmac
import json
import math
import os
import re
import secrets
import threading
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache
from http.cookies import SimpleCookie

import pyotp
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from cryptography.fernet import Fernet, InvalidToken
from sqlalchemy.exc import OperationalError
from sqlmodel import Session, delete, func, select, update

from pwa_app import db
from pwa_app.appointments import fairness
from pwa_app.common import codes
from pwa_app.models import AuditEvent, LoginAttempt, StaffOffice, StaffSession, StaffUser, utcnow

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
EMAIL_RE = re.compile(r"^[^@\s<>]+@[^@\s<>]+\.[^@\s<>]+$")

ROLES = ("admin", "manager", "desk")
PERMISSIONS: dict[str, frozenset[str]] = {
    "home": frozenset(ROLES),  # the staff start page
    "day": frozenset(ROLES),  # the day view: check in, done, no-show
    "queue": frozenset(ROLES),  # tickets, calling, the wall screen
    "setup_office": frozenset({"admin", "manager"}),  # their offices: details, schedules, closures
    "setup_town": frozenset({"admin"}),  # procedures, checklists, holidays, booking horizon
    "requests": frozenset({"admin", "manager"}),
    "reports": frozenset({"admin", "manager"}),
    "users": frozenset({"admin"}),
    "audit": frozenset({"admin"}),
    "second_factor": frozenset(ROLES),  # their own second factor (the one thing open before enrolment)
}
SECOND_FACTOR_REQUIRED = frozenset({"admin", "manager"})

_hasher = PasswordHasher()
# Each check holds 64 MiB for a moment: a burst of sign-ins waits its turn instead of exhausting the memory.
_checks_at_once = threading.BoundedSemaphore(int(os.environ.get("CITA_ARGON2_AT_ONCE") or 2))
_DUMMY_HASH = _hasher.hash(secrets.token_hex(16))  # checked for unknown e-mails, so timing tells nothing


class AuthError(Exception):
    """A refused sign-in or account change. `code`: invalid | locked (the client address) | slow (the account's
    delay runs: `retry_after`) | proof (a proof of work is needed) | code (wrong second factor) | expired (the
    password step is too old) | weak_password | email | role | exists."""

    def __init__(self, code: str, retry_after: int = 0):
        super().__init__(code)
        self.code, self.retry_after = code, retry_after


@dataclass(frozen=True)
class Viewer:
    """The signed-in member of staff, as the checks need them."""

    id: int
    email: str
    name: str
    role: str
    office_ids: frozenset[int] | None  # None: every office (administrators)
    department_id: int | None
    session_id: int | None = None
    # An administrator or manager without a second factor: the entry points (the staff event guard, the staff
    # API's `need`) open them nothing but their enrolment.
    must_enrol: bool = False

    def can(self, permission: str) -> bool:
        return self.role in PERMISSIONS.get(permission, frozenset())

    def can_office(self, office_id: int | None) -> bool:
        """May act on this office. `None` (every office, e.g. a public holiday) is for administrators only."""
        if self.office_ids is None:
            return True
        return office_id is not None and office_id in self.office_ids

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"


def _utc(moment: datetime | None) -> datetime:
    moment = moment or utcnow()
    return moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)


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
    return max(since, _utc(last_ok)) if last_ok is not None else since


def address_wait(session: Session, ip: str, now: datetime) -> int:
    """0 while this client address may try; else the seconds until it may (`IP_FAILURES` refused tries)."""
    by_ip = _failures(session, now - timedelta(minutes=WINDOW_MINUTES), LoginAttempt.ip == ip,
                      LoginAttempt.outcome.in_(("bad", "locked")))
    if not ip or len(by_ip) < IP_FAILURES:
        return 0
    return _seconds_until(_utc(by_ip[-IP_FAILURES]) + timedelta(minutes=WINDOW_MINUTES), now)


def account_delay(session: Session, email: str, now: datetime) -> tuple[int, bool]:
    """(seconds to wait, proof of work needed) before the next try on this account."""
    failures = _failures(session, _since_last_sign_in(session, email, now), LoginAttempt.email == email,
                         LoginAttempt.outcome == "bad")
    extra = len(failures) - ACCOUNT_FAILURES
    if extra < 0:
        return 0, False
    delay = timedelta(seconds=min(2 ** (extra + 1), MAX_DELAY_SECONDS))
    return _seconds_until(_utc(failures[-1]) + delay, now), True


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
    since = _utc(now) - timedelta(minutes=WINDOW_MINUTES)
    return len(_failures(session, since, (LoginAttempt.email == email) | (LoginAttempt.ip == ip),
                         LoginAttempt.outcome == "bad"))


def sign_in(session: Session, email: str, password: str, *, ip: str = "", user_agent: str = "",
            proof: str | None = None, now: datetime | None = None) -> tuple[str, Viewer | None]:
    """Check a password and open a session: (cookie token, viewer). For an account with a second factor the
    session is pending and the viewer None: `confirm_second_factor` completes it. Commits (the attempt is
    recorded either way)."""
    now, email = _utc(now), normalize_email(email)
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


def confirm_second_factor(session: Session, token: str | None, code: str, *, ip: str = "",
                          proof: str | None = None, now: datetime) -> tuple[str, Viewer]:
    """The code after the password: a TOTP code or an unused recovery code (then spent) ends the pending session
    and opens a new one (a new token). A wrong code counts like a wrong password. Commits."""
    now = _utc(now)
    row = session.exec(select(StaffSession).where(StaffSession.token_hash == token_hash(token or ""),
                                                  StaffSession.pending)).first() if token else None
    user = session.get(StaffUser, row.staff_id) if row else None
    if row is None or user is None or not user.active or \
            _utc(row.created_at) + timedelta(minutes=PENDING_MINUTES) <= now:
        if row is not None:
            session.delete(row)
            session.commit()
        raise AuthError("expired")
    _gate(session, user.email, ip, now, proof)
    used = "totp" if _accept_totp(session, user, code, now) else "recovery" if _spend_recovery(session, user, code) \
        else None
    if used is None:
        _failed(session, user.email, ip, now, "auth.second_factor_failed")
        raise AuthError("code")
    session.delete(row)
    return _signed_in(session, user, now, ip, row.user_agent, second_factor=used)


# --- the second factor ----------------------------------------------------------------------------------------


@cache
def _fernet() -> Fernet:
    return Fernet(base64.urlsafe_b64encode(hashlib.sha256(b"cita-totp:" + fairness.secret()).digest()))


def seal(secret: str) -> str:
    """A TOTP secret as stored: encrypted and authenticated with the installation's key."""
    return _fernet().encrypt(secret.encode()).decode()


def unseal(sealed: str) -> str | None:
    try:
        return _fernet().decrypt(sealed.encode()).decode()
    except (InvalidToken, ValueError):
        return None


def new_totp_secret() -> str:
    return pyotp.random_base32()


def provisioning_uri(secret: str, email: str) -> str:
    """What the QR code carries for the authenticator app."""
    return pyotp.TOTP(secret).provisioning_uri(name=email, issuer_name=ISSUER)


def _totp_step(secret: str | None, code: str, now: datetime) -> int | None:
    """The time step whose code this is (now, one before or one after: clocks drift), else None."""
    code = re.sub(r"\s", "", code or "")
    if not secret or not re.fullmatch(r"\d{6}", code):
        return None
    totp = pyotp.TOTP(secret)
    step = int(now.timestamp()) // totp.interval
    return next((s for s in (step - 1, step, step + 1) if hmac.compare_digest(totp.generate_otp(s), code)), None)


def _accept_totp(session: Session, user: StaffUser, code: str, now: datetime) -> bool:
    step = _totp_step(unseal(user.totp_secret), code, now)
    if step is None:
        return False
    # Compare-and-set: a step already used (or an older one) is refused, also when two workers race with it.
    done = session.exec(update(StaffUser).where(StaffUser.id == user.id, StaffUser.totp_last_step < step)
                        .values(totp_last_step=step))
    return done.rowcount == 1


def _recovery_key(code: str) -> str:
    try:
        return fairness.keyed("recovery", codes.normalize_code(code))
    except ValueError:
        return ""


def _spend_recovery(session: Session, user: StaffUser, code: str) -> bool:
    key, kept = _recovery_key(code), user.recovery_codes.split()
    if not key or key not in kept:
        return False
    done = session.exec(update(StaffUser).where(StaffUser.id == user.id,
                                                StaffUser.recovery_codes == user.recovery_codes)
                        .values(recovery_codes=" ".join(k for k in kept if k != key)))
    return done.rowcount == 1


def enrol(session: Session, user: StaffUser, secret: str, code: str, *, now: datetime) -> list[str]:
    """Turns the second factor on once the app's first code matches the new secret; returns the recovery codes,
    to show once (only their keyed hashes are kept). AuthError("code") when the code does not match. The caller
    commits (with its audit event)."""
    step = _totp_step(secret, code, _utc(now))
    if step is None:
        raise AuthError("code")
    recovery = set_second_factor(session, user, secret)
    user.totp_last_step = step  # the code just typed cannot sign in again
    session.flush()
    return recovery


def set_second_factor(session: Session, user: StaffUser, secret: str) -> list[str]:
    """Stores a (checked) secret with new recovery codes, which it returns; the command line uses it directly."""
    recovery = [codes.format_code(codes.new_code(10)) for _ in range(RECOVERY_CODES)]
    user.totp_secret, user.totp_last_step = seal(secret), 0
    user.recovery_codes = " ".join(_recovery_key(c) for c in recovery)
    session.add(user)
    session.flush()
    return recovery


def clear_second_factor(session: Session, user: StaffUser) -> None:
    """Turns the second factor off (an administrator's reset) and ends the account's sessions: administrators and
    managers enrol again at their next sign-in."""
    user.totp_secret, user.totp_last_step, user.recovery_codes = "", 0, ""
    session.add(user)
    session.exec(delete(StaffSession).where(StaffSession.staff_id == user.id))
    session.flush()


def viewer_for_token(session: Session, token: str | None, now: datetime | None = None) -> Viewer | None:
    """The member of staff a session token belongs to, or None (no, unknown, expired or idle session, or a
    deactivated account). Refreshes the session's last use."""
    if not token or len(token) > 200:
        return None
    now = _utc(now)
    row = session.exec(select(StaffSession).where(StaffSession.token_hash == token_hash(token))).first()
    if row is None or row.pending:
        return None
    if _utc(row.expires_at) <= now or _utc(row.last_seen_at) + timedelta(minutes=IDLE_MINUTES) <= now:
        session.delete(row)
        _housekeeping_commit(session)
        return None
    user = session.get(StaffUser, row.staff_id)
    if user is None or not user.active:
        return None
    if (now - _utc(row.last_seen_at)).total_seconds() > TOUCH_SECONDS:
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
    now = _utc(now)
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


# --- audit ----------------------------------------------------------------------------------------------------


def audit(session: Session, viewer: Viewer | None, action: str, target: str = "", ip: str = "", **detail) -> None:
    """Record who changed what (in the caller's transaction)."""
    session.add(AuditEvent(staff_id=viewer.id if viewer else None, actor=viewer.email if viewer else "system",
                           action=action, target=target, ip=ip[:64],
                           detail=json.dumps(detail, ensure_ascii=False, default=str, sort_keys=True)))
