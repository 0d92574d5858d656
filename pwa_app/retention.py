"""Personal data retention: after the retention period, appointments and requests keep what the statistics need
(procedure, office, times, status, the request's text and timeline entries) and lose who they were for.

What goes, and after how many days (each an environment variable, whole days >= 1; PERIODS below):
- Appointments: `CITA_RETENTION_DAYS` (default 365) after their date, name, document, phone and e-mail are
  blanked, with the keyed hashes derived from them (person_key, client_key) and any confirmation token. A blank
  appointment can no longer be opened with its code (the verifier came from the document or the phone).
- Requests: the same number of days after they were closed (`workflow.forget_personal_data`); their photos and
  documents after `CITA_ATTACHMENT_DAYS`, the comments of their timeline (the citizen's replies and the
  department's answers) after `CITA_REPLY_DAYS` (both default to CITA_RETENTION_DAYS).
- Suggestion box: the name signed under a suggestion after `CITA_SUGGESTION_DAYS` (default CITA_RETENTION_DAYS).
- The staff audit trail after `CITA_AUDIT_DAYS` (default 730: two years of who changed what).
- Idempotency records keep the first answer to a write, which for a booking holds the citizen's name: they are
  needed only while a device may still resend, so they go after `CITA_IDEMPOTENCY_DAYS` (default 30).
- Staff sign-in attempts after `CITA_LOGIN_ATTEMPT_DAYS` (default 1; the lock-outs look back 15 minutes), and
  ended staff sessions.

It runs once a day by itself: every backend worker starts `scheduled_purge` (registered with
`app.register_lifespan_task`), which wakes up every hour and purges when the last purge (an AuditEvent
"retention.purge") is `CITA_RETENTION_EVERY_HOURS` (default 24) old. The check and the purge happen in one
transaction under a lock (a PostgreSQL advisory lock, taken without waiting; SQLite's BEGIN IMMEDIATE), so with
several workers one purges and the others find it done. `CITA_RETENTION_SCHEDULE=0` turns the task off.
By hand, or from cron:  python -m pwa_app.retention [--dry-run] [--days N]

A citizen may also delete the personal data of their own booking at any time (`forget_appointment`, behind
DELETE /api/v1/appointments/{code}/personal-data).
"""

import argparse
import asyncio
import json
import logging
import random
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta

from sqlmodel import Session, delete, select, text

from pwa_app import db, settings
from pwa_app.appointments import booking, visits
from pwa_app.common import codes
from pwa_app.common.times import utc_or_now
from pwa_app.models import Appointment, AuditEvent, IdempotencyRecord, Suggestion
from pwa_app.notifications import mail
from pwa_app.service_requests import workflow
from pwa_app.settings import get_settings
from pwa_app.staff import auth

log = logging.getLogger(__name__)

# What the purge forgets: the setting with its days (unset: as long as CITA_RETENTION_DAYS).
PERIODS: dict[str, str] = {
    "personal": "retention_days",
    "attachments": "attachment_days",
    "replies": "reply_days",
    "suggestions": "suggestion_days",
    "audit": "audit_days",
    "idempotency": "idempotency_days",
    "login_attempts": "login_attempt_days",
}
ACTION = "retention.purge"
LOCK_KEY = 0x43495441  # "CITA": the advisory lock of the purge (PostgreSQL)
PERSONAL = ("name", "document", "phone", "email", "person_key", "client_key", "representative_name",
            "representative_email", "representative_phone")


def period(name: str) -> int:
    """Days kept of `name` (a key of PERIODS), from the settings."""
    return getattr(get_settings(), PERIODS[name]) or retention_days()


def retention_days() -> int:
    return get_settings().retention_days


def idempotency_days() -> int:
    return period("idempotency")


def has_personal_data(appt: Appointment) -> bool:
    return any(getattr(appt, f) for f in PERSONAL) or appt.confirm_token is not None


def blank(appt: Appointment) -> None:
    for name in PERSONAL:
        setattr(appt, name, "")
    appt.confirm_token = None


def forget_appointment(session: Session, appt: Appointment, now: datetime | None = None) -> Appointment:
    """The citizen's own deletion: a future booking is cancelled first (its seat is free again), then the
    personal data is blanked. The caller commits."""
    if booking.is_changeable(appt, now):
        booking.cancel(session, appt, now)
    mail.forget(session, appt.id)  # nothing more is sent to an address the citizen asked us to delete
    for row in (appt, *visits.rows_of(session, appt)):  # the visit's other people too
        blank(row)
        session.add(row)
    forget_answers(session, appt)
    session.flush()
    return appt


PERSONAL_FIELDS = ("name", "verifier", "confirm_note", "ics_url")  # in a stored appointment answer


def forget_answers(session: Session, appt: Appointment) -> None:
    """Blank the personal fields of the first answers kept for resends (Idempotency-Key) about this booking: the
    booking's own answer held the name and the verifier for CITA_IDEMPOTENCY_DAYS after an erasure."""
    shown = codes.format_code(appt.code)
    for record in session.exec(select(IdempotencyRecord).where(IdempotencyRecord.body.contains(shown))):
        body = json.loads(record.body)
        if isinstance(body, dict) and body.get("code") == shown:
            record.body = json.dumps({**body, **{k: "" for k in PERSONAL_FIELDS if k in body}}, ensure_ascii=False)
            session.add(record)


@dataclass
class PurgeResult:
    appointments: int = 0
    requests: int = 0
    attachments: int = 0
    replies: int = 0
    suggestions: int = 0
    audit_events: int = 0
    idempotency_records: int = 0
    login_attempts: int = 0
    staff_sessions: int = 0
    skipped: str = ""  # why nothing was done ("locked", "recent"), else ""

    def total(self) -> int:
        return sum(v for k, v in asdict(self).items() if k != "skipped")


def _blank_appointments(session: Session, cutoff: datetime) -> int:
    rows = session.exec(select(Appointment).where(
        Appointment.starts_at < cutoff,
        (Appointment.name != "") | (Appointment.document != "") | (Appointment.phone != "")
        | (Appointment.email != "") | (Appointment.person_key != "") | (Appointment.client_key != "")
        | (Appointment.representative_name != "") | (Appointment.representative_email != "")
        | (Appointment.representative_phone != "") | (Appointment.confirm_token != None))).all()  # noqa: E711
    for appt in rows:
        blank(appt)
        session.add(appt)
    return len(rows)


def _unsign_suggestions(session: Session, cutoff: datetime) -> int:
    rows = session.exec(select(Suggestion).where(Suggestion.created_at < cutoff, Suggestion.name != "")).all()
    for note in rows:
        note.name = ""
        session.add(note)
    return len(rows)


def purge(session: Session, now: datetime | None = None, days: int | None = None,
          idempotency: int | None = None, **days_for: int) -> PurgeResult:
    """Blank or delete what is past its period (PERIODS; `days`, `idempotency` and `days_for` override them).
    Flushes; the caller commits (or rolls back: a dry run)."""
    now = utc_or_now(now)
    days_for = {"personal": days, "idempotency": idempotency, **days_for}

    def cutoff(name: str) -> datetime:
        return now - timedelta(days=days_for.get(name) or period(name))

    result = PurgeResult()
    result.appointments = _blank_appointments(session, cutoff("personal"))
    result.requests = workflow.forget_personal_data(session, cutoff("personal"))
    result.attachments = workflow.forget_files(session, cutoff("attachments"))
    result.replies = workflow.forget_replies(session, cutoff("replies"))
    result.suggestions = _unsign_suggestions(session, cutoff("suggestions"))
    result.audit_events = session.exec(delete(AuditEvent).where(AuditEvent.at < cutoff("audit"))).rowcount
    result.idempotency_records = session.exec(delete(IdempotencyRecord).where(
        IdempotencyRecord.created_at < cutoff("idempotency"))).rowcount
    attempts_days = days_for.get("login_attempts") or period("login_attempts")
    result.staff_sessions, result.login_attempts = auth.purge(session, now, attempts_days)
    session.flush()
    return result


def _take_lock(session: Session) -> bool:
    """True when this process may purge now. PostgreSQL: an advisory lock for the transaction, without waiting
    (another worker purging right now means there is nothing to do). SQLite: wait for, then hold, the
    database's write lock."""
    if session.get_bind().dialect.name == "postgresql":
        return bool(session.exec(text("SELECT pg_try_advisory_xact_lock(:k)").bindparams(k=LOCK_KEY)).one()[0])
    db.write_lock(session)
    return True


def last_purge(session: Session) -> datetime | None:
    found = session.exec(select(AuditEvent.at).where(AuditEvent.action == ACTION)
                         .order_by(AuditEvent.at.desc())).first()
    return utc_or_now(found) if found else None


def _recent(session: Session, now: datetime, every: timedelta) -> bool:
    last = last_purge(session)
    return last is not None and now - last < every - timedelta(minutes=5)


def run_if_due(session: Session, now: datetime | None = None, every: timedelta | None = None,
               force: bool = False) -> PurgeResult:
    """One scheduled run: purge and record it, unless another worker holds the lock or did it recently."""
    now = utc_or_now(now)
    every = every or timedelta(hours=get_settings().retention_every_hours)
    # Asked first without the lock (the hourly check usually ends here), then again under it.
    if not force and _recent(session, now, every):
        return PurgeResult(skipped="recent")
    if not _take_lock(session):
        session.rollback()
        return PurgeResult(skipped="locked")
    if not force and _recent(session, now, every):
        session.rollback()
        return PurgeResult(skipped="recent")
    result = purge(session, now)
    detail = {k: v for k, v in asdict(result).items() if k != "skipped"}
    detail["days"] = {name: period(name) for name in PERIODS}
    session.add(AuditEvent(at=now, actor="system", action=ACTION, target="retention",
                           detail=json.dumps(detail, sort_keys=True)))
    session.commit()
    return result


def _run_once_now() -> PurgeResult:
    with db.session() as session:
        return run_if_due(session)


async def scheduled_purge(check_every: float = 3600.0, first_delay: tuple[float, float] = (30.0, 120.0)) -> None:
    """The lifespan task: purge when due, hourly checks, for as long as the worker lives. Errors are logged
    and retried at the next check; they never stop the worker."""
    if not get_settings().retention_schedule:
        return
    await asyncio.sleep(random.uniform(*first_delay))  # not during start-up, and not all workers at once
    while True:
        try:
            result = await asyncio.to_thread(_run_once_now)
            if not result.skipped:
                log.info("retention purge: %s", result)
        except Exception:  # noqa: BLE001
            log.exception("retention purge failed; retrying at the next check")
        await asyncio.sleep(check_every)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m pwa_app.retention",
                                     description="Blank the personal data kept past the retention period.")
    parser.add_argument("--days", type=int, help="retention in days (default CITA_RETENTION_DAYS or 365)")
    parser.add_argument("--dry-run", action="store_true", help="count what would be blanked, change nothing")
    args = parser.parse_args(argv)
    if args.days is not None and args.days < 1:
        parser.error("--days must be >= 1")
    if args.days:
        settings.override(retention_days=args.days)
    with db.session() as session:
        if args.dry_run:
            result = purge(session)
            session.rollback()
        else:
            result = run_if_due(session, force=True)
    verb = "would blank" if args.dry_run else "blanked"
    if result.skipped:
        print(f"Nothing done: {result.skipped} (another worker is purging).")
        return 0
    print(f"Retention {retention_days()} days: {verb} {result.appointments} appointments and {result.requests} "
          f"requests; {result.attachments} attachments, {result.replies} timeline comments, {result.suggestions} "
          f"suggestion names, {result.audit_events} audit events, {result.idempotency_records} old idempotency "
          f"records, {result.login_attempts} sign-in attempts {'would be ' if args.dry_run else ''}forgotten.")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
