"""Fair access to appointments: holds on a picked time, per-person limits, proof of work against bots, and the
signals staff need to spot hoarding. First come, first served for people, not for scripts.

Personal identifiers used for limits are keyed hashes (HMAC with the installation's secret): a limit query or a
log line never needs the plain document number or address."""

import base64
import hashlib
import hmac
import json
import os
import secrets
from datetime import datetime, timedelta
from functools import cache

import altcha
from sqlmodel import Session, delete, func, select

from pwa_app.appointments.slots import not_lapsed
from pwa_app.common import once
from pwa_app.common.documents import DocumentError, check_document, normalize_document
from pwa_app.common.times import to_utc, utcnow
from pwa_app.models import Appointment, Hold, Municipality, Procedure, UsedChallenge
from pwa_app.settings import get_settings

HOLD_MINUTES = get_settings().hold_minutes
MAX_LIVE_HOLDS = get_settings().max_holds  # held times at once per client address
MAX_HOLD_RENEWALS = 2  # "more time" on one hold: a seat is never kept from others for long
ACTIVE = ("booked", "pending", "checked_in")


@cache
def secret() -> bytes:
    """The installation's secret: CITA_SECRET_KEY, else a random key made on first run and kept in the
    instance folder (git-ignored), so keyed hashes stay stable across restarts."""
    if key := get_settings().secret_key:
        return key.encode()
    path = get_settings().instance_dir / "secret.key"
    if not path.exists():
        # Written whole under another name, then linked into place: two workers starting at once never read a
        # half-written key, and only the first link wins (the loser reads the winner's).
        path.parent.mkdir(parents=True, exist_ok=True)
        draft = path.with_name(f".secret.key.{secrets.token_hex(8)}")
        draft.write_text(secrets.token_hex(32))
        draft.chmod(0o600)
        try:
            os.link(draft, path)
        except FileExistsError:
            pass
        finally:
            draft.unlink()
    return path.read_text().strip().encode()


def keyed(kind: str, value: str) -> str:
    return hmac.new(secret(), f"{kind}:{value}".encode(), hashlib.sha256).hexdigest()[:32]


def person_key(document: str) -> str:
    """The same for "12345678-z", "12 345 678 Z" and "12345678Z" (and "1234567L" for "01234567L", as the booking
    stores it); empty when there is no document."""
    try:
        doc = check_document(document or "")
    except DocumentError:  # not a valid document: still one key per typed value (the rate limit counts it)
        doc = normalize_document(document or "")
    return keyed("person", doc) if doc else ""


def client_key(address: str | None) -> str:
    return keyed("client", address) if address else ""


# ---- holds ---------------------------------------------------------------------------------------------------

def drop_expired_holds(session: Session, now, *slot) -> int:
    """Expired holds already count for nothing; removing them frees their seat numbers, for the slot (office id,
    procedure id, start) about to be booked, or for all of them (the worker's periodic look). Returns how many."""
    where = [Hold.expires_at <= now]
    if slot:
        office_id, procedure_id, starts_at = slot
        where += [Hold.office_id == office_id, Hold.procedure_id == procedure_id, Hold.starts_at == starts_at]
    return session.execute(delete(Hold).where(*where)).rowcount or 0


def find_hold(session: Session, token: str | None, now=None) -> Hold | None:
    if not token:
        return None
    hold = session.exec(select(Hold).where(Hold.token == token)).first()
    return hold if hold and to_utc(hold.expires_at) > to_utc(now or utcnow()) else None


def live_holds(session: Session, client: str, now: datetime) -> int:
    """How many unexpired holds this client (a keyed address) has: one address cannot sit on many seats."""
    return session.exec(select(func.count()).select_from(Hold).where(
        Hold.client_key == client, Hold.expires_at > to_utc(now))).one()


def release_hold(session: Session, token: str) -> bool:
    found = session.exec(select(Hold).where(Hold.token == token)).first()
    if found:
        session.delete(found)
        session.flush()
    return found is not None


def renew_hold(session: Session, token: str, now: datetime) -> Hold | None:
    """More time on a live hold (WCAG 2.2.1), at most MAX_HOLD_RENEWALS times: the same seat for another
    HOLD_MINUTES from now. None when the hold is gone or has had all its renewals."""
    hold, now = find_hold(session, token, now), to_utc(now)
    last = to_utc(hold.created_at) + timedelta(minutes=HOLD_MINUTES * (MAX_HOLD_RENEWALS + 1)) if hold else now
    if hold is None or now + timedelta(minutes=HOLD_MINUTES) > last + timedelta(seconds=1):
        return None
    hold.expires_at = now + timedelta(minutes=HOLD_MINUTES)
    session.add(hold)
    session.flush()
    return hold


def new_hold(session: Session, procedure: Procedure, office_id: int, starts_at: datetime, seat: int,
             client: str, now=None) -> Hold:
    now = to_utc(now or utcnow())
    hold = Hold(token=secrets.token_urlsafe(18), procedure_id=procedure.id, office_id=office_id, starts_at=starts_at,
                seat=seat, created_at=now, expires_at=now + timedelta(minutes=HOLD_MINUTES), client_key=client)
    session.add(hold)
    session.flush()
    return hold


# ---- per-person limits ---------------------------------------------------------------------------------------

def active_of(procedure: Procedure, key: str, now: datetime, ignore: int | None = None):
    """One row: this person's active appointments, those of this procedure, and the town's limit."""
    town_limit = select(Municipality.max_active_per_person).limit(1).scalar_subquery()
    active = select(func.count(Appointment.id).label("total"), func.count(Appointment.id).filter(
        Appointment.procedure_id == procedure.id).label("same"), town_limit.label("most")).where(
        Appointment.person_key == key, Appointment.status.in_(ACTIVE), not_lapsed(now), Appointment.starts_at > now)
    return active.where(Appointment.id != ignore) if ignore is not None else active


def over_limit(procedure: Procedure, total: int, same: int, most: int | None) -> str | None:
    """The message code when these counts (`active_of`) reach a limit, else None."""
    if same >= max(procedure.max_active_per_person, 1):
        return "limit_procedure"
    if total >= (most if most is not None else 3):
        return "limit_total"
    return None


def limit_reached(session: Session, procedure: Procedure, key: str, now=None, ignore: int | None = None) -> str | None:
    """The message code when this person already has as many active appointments as allowed, else None."""
    if not key:
        return None
    return over_limit(procedure, *session.exec(active_of(procedure, key, to_utc(now or utcnow()), ignore)).one())


# ---- proof of work (ALTCHA, self-hosted: no third party sees the citizen) -----------------------------------

CHALLENGE_MAX = get_settings().altcha_max_number  # ~0.1–0.5 s on a cheap phone
CHALLENGE_MINUTES = 20


def challenge() -> dict:
    """A fresh proof-of-work challenge (ALTCHA v1: find n with SHA-256(salt + n) = challenge)."""
    expires = utcnow() + timedelta(minutes=CHALLENGE_MINUTES)
    made = altcha.create_challenge_v1(altcha.ChallengeOptionsV1(
        hmac_key=secret().decode(), max_number=CHALLENGE_MAX, expires=expires))
    return {"algorithm": made.algorithm, "challenge": made.challenge, "maxnumber": made.max_number,
            "salt": made.salt, "signature": made.signature}


def spend_challenge(session: Session, payload: str | None) -> bool:
    """True once for a valid, unexpired solution; a replay of the same solution is refused."""
    if not valid_proof(payload):
        return False
    signature = _signature(payload)
    expires = utcnow() + timedelta(minutes=CHALLENGE_MINUTES + 5)
    return once.insert_ignoring_duplicates(session, UsedChallenge, [{"signature": signature,
                                                                    "expires_at": expires}]) == 1


def valid_proof(payload: str | None) -> bool:
    """A solution that is right and unexpired (whether it was spent is for `spend_challenge` to tell)."""
    if not payload:
        return False
    try:
        ok, _ = altcha.verify_solution_v1(payload, secret().decode(), check_expires=True)
        _signature(payload)
    except Exception:  # noqa: BLE001  (any malformed payload is simply not a valid proof)
        return False
    return bool(ok)


def drop_spent_challenges(session: Session, now: datetime) -> int:
    """Spent proofs that have expired can no longer be replayed anyway (the worker's periodic look)."""
    return session.execute(delete(UsedChallenge).where(UsedChallenge.expires_at <= now)).rowcount or 0


def _signature(payload: str) -> str:
    return json.loads(base64.b64decode(payload))["signature"][:128]


# ---- signals for staff ---------------------------------------------------------------------------------------

def busy_clients(session: Session, since: datetime, at_least: int = 10) -> list[tuple[str, int]]:
    """Client addresses (keyed) that made many holds or bookings since a moment: likely scripts."""
    counts: dict[str, int] = {}
    for model in (Hold, Appointment):
        rows = session.exec(select(model.client_key, func.count()).where(model.client_key != "",
                                                                          model.created_at >= since)
                            .group_by(model.client_key))
        for key, n in rows:
            counts[key] = counts.get(key, 0) + n
    return sorted(((k, n) for k, n in counts.items() if n >= at_least), key=lambda kn: -kn[1])


def repeated_no_shows(session: Session, since: datetime, at_least: int = 2) -> list[tuple[str, int]]:
    """People (keyed) who missed several appointments since a moment."""
    rows = session.exec(select(Appointment.person_key, func.count()).where(
        Appointment.status == "no_show", Appointment.person_key != "", Appointment.starts_at >= since)
        .group_by(Appointment.person_key).having(func.count() >= at_least))
    return sorted(rows, key=lambda kn: -kn[1])
