"""The second factor of staff sign-in: a TOTP app (its secret sealed with the installation's key) or a
one-time recovery code, asked after the password; required for administrators and managers."""

import base64
import hashlib
import hmac
import re
from datetime import datetime, timedelta
from functools import cache

import pyotp
from cryptography.fernet import Fernet, InvalidToken
from sqlmodel import Session, delete, select, update

from pwa_app.appointments import fairness
from pwa_app.common import codes
from pwa_app.models import StaffSession, StaffUser
from pwa_app.common.times import utc_or_now
from pwa_app.staff.auth import (
    ISSUER, PENDING_MINUTES, RECOVERY_CODES, AuthError, _failed, _gate, _signed_in, token_hash,
)
from pwa_app.staff.permissions import Viewer


def confirm_second_factor(session: Session, token: str | None, code: str, *, ip: str = "",
                          proof: str | None = None, now: datetime) -> tuple[str, Viewer]:
    """The code after the password: a TOTP code or an unused recovery code (then spent) ends the pending session
    and opens a new one (a new token). A wrong code counts like a wrong password. Commits."""
    now = utc_or_now(now)
    row = session.exec(select(StaffSession).where(StaffSession.token_hash == token_hash(token or ""),
                                                  StaffSession.pending)).first() if token else None
    user = session.get(StaffUser, row.staff_id) if row else None
    if row is None or user is None or not user.active or \
            utc_or_now(row.created_at) + timedelta(minutes=PENDING_MINUTES) <= now:
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
    step = _totp_step(secret, code, utc_or_now(now))
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
