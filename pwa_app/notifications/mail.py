"""E-mail to citizens: the booking confirmation (with the calendar file and a link to see, change or cancel the
appointment), the confirmation link of high-demand procedures, cancellations, moves, and the reminder the day
before for citizens whose device gets no web push. For requests (solicitudes): the confirmation with the tracking
code and a link to follow it, and a mail at each status change (`post_request`, on the service request events:
pwa_app/notifications/__init__.py).

A mail is written in the booking's language when it is queued, in the same transaction as the change it tells
about (`post`): no booking, no mail; a mail queued is never lost. The backend's push worker sends the outbox
(`send_due`) every round: a row is claimed before it is sent (common/once.py), so two workers never send it
at the same time; a worker that dies between the SMTP server's acceptance and recording it sends it again when the
claim runs out (at least once, not exactly once). A failure is logged and retried later with back-off, and never
reaches a booking.

Settings (environment): CITA_SMTP_HOST (unset: mails are written as .eml files into CITA_MAIL_DIR, default
instance/mail/, so the app runs with one command), CITA_SMTP_PORT (587), CITA_SMTP_USER, CITA_SMTP_PASSWORD,
CITA_SMTP_STARTTLS (1), CITA_MAIL_FROM, CITA_PUBLIC_URL (the address in links; default REFLEX_API_URL)."""

import html
import logging
import secrets
import smtplib
import ssl
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import make_msgid
from functools import partial
from pathlib import Path

from sqlalchemy import delete, update
from sqlmodel import Session, select

from pwa_app.appointments import booking, calendar_file, fairness, visits
from pwa_app.catalogue.published import Translator
from pwa_app.common import codes, i18n, once
from pwa_app.common.i18n import Fallback, isolate, local, long_day_label, pick_lang, text_direction, time_label
from pwa_app.common.messages import N_
from pwa_app.common.times import to_utc, utcnow
from pwa_app.models import Appointment, MailOutbox, Municipality, Office, Procedure, PushLink, Requirement
from pwa_app.routes import APPOINTMENT, BOOK, CONFIRM, SERVICE_REQUEST, citizen
from pwa_app.security import public_url
from pwa_app.settings import get_settings

log = logging.getLogger(__name__)
UTC = timezone.utc

BATCH = 20  # mails claimed and sent together
SMTP_TIMEOUT = 20  # seconds per SMTP conversation
LEASE = timedelta(seconds=60 + BATCH * SMTP_TIMEOUT)  # a claim outlasts a batch that times out on every mail
MAX_TRIES = 12  # ~1 day of retries with the back-off below
KEEP = timedelta(days=30)  # sent and failed mails (address and text) are deleted after this
REMINDER_BEFORE, REMINDER_UNTIL = timedelta(hours=24), timedelta(hours=3)  # as the web push reminder

SUBJECTS = {
    "confirm": N_("Please confirm your appointment: %(procedure)s"),
    "booked": N_("Appointment booked: %(procedure)s"),
    "moved": N_("Appointment moved: %(procedure)s"),
    "cancelled": N_("Appointment cancelled: %(procedure)s"),
    "closed": N_("Appointment cancelled: %(procedure)s"),
    "reminder": N_("Appointment reminder: %(procedure)s"),
}
INTROS = {
    "confirm": N_("To keep this appointment, open the link below within %(minutes)s minutes (by %(time)s). If you "
                  "do not, the time will be offered to other people."),
    "booked": N_("Your appointment is booked. Please keep this email: you will need the booking code."),
    "moved": N_("Your appointment has been moved to a new time. The booking code stays the same."),
    "cancelled": N_("Your appointment has been cancelled, and the time has been offered to other people."),
    "closed": N_("We are sorry: the town hall has had to cancel your appointment because the office is closed that "
                 "day (%(reason)s). Please book another time with the link below."),
    "reminder": N_("This is a reminder of your appointment. If you cannot come, please cancel it so that someone "
                   "else can have the time."),
}
LINKS = {
    "confirm": N_("Confirm my appointment"),
    "manage": N_("See, change or cancel my appointment"),
    "book": N_("Book another time"),
}
REQUEST_SUBJECTS = {
    "request_received": N_("Request received: %(type)s"),
    "request_status": N_("Your request has been updated: %(status)s"),
}
REQUEST_INTROS = {
    "request_received": N_("The town hall has received your request. Please keep this email: with the tracking code "
                           "you can follow the request at any time."),
    "request_status": N_("There is news about your request."),
}
FOOTER = N_("This message was sent by %(town)s. Please do not reply to it.")


# --- settings ---------------------------------------------------------------------------------------------------


def mail_dir() -> Path:
    return get_settings().mail_dir or get_settings().instance_dir / "mail"


def sender_address() -> str:
    return get_settings().mail_from


# --- writing a mail -----------------------------------------------------------------------------------------------


@dataclass
class Letter:
    """What a mail about one appointment (or one request) says, already in the citizen's language."""

    kind: str
    lang: str
    subject: str
    intro: str
    facts: list[tuple[str, str]]  # (label, value)
    bring_label: str
    bring: list[str]
    links: list[tuple[str, str]]  # (text, address)
    footer: str
    calendar: bytes | None


def letter(session: Session, appt: Appointment, kind: str, reason: str = "") -> Letter:
    lang = pick_lang(appt.lang)
    say = partial(i18n.say, lang)
    names = Translator(session, lang)
    procedure = names.row(session.get(Procedure, appt.procedure_id), ("name", "duration_minutes"))
    office = names.row(session.get(Office, appt.office_id), ("name", "address"))
    bring = [names.row(r, ("text",))["text"] for r in session.exec(
        select(Requirement).where(Requirement.procedure_id == appt.procedure_id).order_by(Requirement.position))]
    start, code = local(appt.starts_at), codes.format_code(appt.code)
    town = session.exec(select(Municipality)).first()
    deadline = local(appt.confirm_by) if appt.confirm_by else start
    links = [(say(LINKS["confirm"]), public_url() + citizen(lang, CONFIRM, t=appt.confirm_token))] \
        if kind == "confirm" else []
    if kind == "closed":
        slug = session.get(Procedure, appt.procedure_id).slug
        links.append((say(LINKS["book"]), public_url() + citizen(lang, BOOK, p=slug)))
    elif kind != "cancelled":
        links.append((say(LINKS["manage"]),
                      public_url() + citizen(lang, APPOINTMENT, c=appt.code, v=booking.verifier_of(appt))))
    procedure, bring, people, end = _visit(session, names, appt, procedure, bring)
    calendar = None if kind in ("confirm", "cancelled", "closed") else calendar_file.for_appointment(
        appt, procedure, office, bring, lang, people)
    where = f"{office['name']}, {office['address']}"
    return Letter(
        kind=kind, lang=lang, subject=say(SUBJECTS[kind], procedure=isolate(procedure["name"])),
        intro=say(INTROS[kind], minutes=f"{booking.CONFIRM_MINUTES:g}", time=time_label(deadline, lang),
                  reason=reason),
        facts=[(say("Booking code"), code), (say("Procedure"), procedure["name"]),
               (say("When"), f"{long_day_label(start.date(), lang)} · {time_label(start, lang)}{end}"),
               (say("Where"), Fallback(where) if isinstance(office["name"], Fallback) else where),
               *([(say("People"), ", ".join(people))] if people else []),
               *([(say("Booked by"), appt.representative_name)] if appt.representative_name else [])],
        bring_label=say("What to bring"), bring=bring, links=links,
        footer=say(FOOTER, town=town.name if town else "Cita"), calendar=calendar)


def _visit(session: Session, names: Translator, appt: Appointment, procedure: dict, bring: list[str]):
    """A visit's procedures (joined), checklists, people and end ("–10:30"); as they were for a single booking."""
    others = visits.rows_of(session, appt)
    if not others:
        return procedure, bring, [], ""
    rows = {pid: session.get(Procedure, pid) for pid in {r.procedure_id for r in others}}
    people, ids, minutes = visits.summary(appt, others, {pid: p.duration_minutes for pid, p in rows.items()}
                                          | {appt.procedure_id: procedure["duration_minutes"]})
    for pid in ids[1:]:
        procedure = {**procedure, "name": f"{procedure['name']} + {names.row(rows[pid], ('name',))['name']}"}
        bring = [*bring, *(names.row(r, ("text",))["text"] for r in session.exec(
            select(Requirement).where(Requirement.procedure_id == pid).order_by(Requirement.position)))]
    end = f"–{time_label(local(appt.starts_at) + timedelta(minutes=minutes), pick_lang(appt.lang))}" if len(ids) > 1 else ""
    return {**procedure, "duration_minutes": minutes}, bring, people if len(people) > 1 else [], end


def request_letter(view: dict, kind: str, comment: str = "", town: str = "Cita") -> Letter:
    """A mail about a request, from its tracking view in the citizen's language (service_requests/views.py)."""
    lang = view["lang"]
    say = partial(i18n.say, lang)
    facts = [(say("Tracking code"), view["code"]), (say("Request"), view["type"]["name"]),
             (say(N_("Status")), f"{view['status_label']}. {view['status_help']}")]
    if comment:
        facts.append((say(N_("Comment from the town hall")), comment))
    if view["open"]:
        facts.append((say("Answer"), view["due_label"]))
    return Letter(
        kind=kind, lang=lang,
        subject=say(REQUEST_SUBJECTS[kind], type=isolate(view["type"]["name"]), status=view["status_label"]),
        intro=say(REQUEST_INTROS[kind]), facts=facts, bring_label="", bring=[],
        links=[(say("Follow my request"),
                public_url() + citizen(lang, SERVICE_REQUEST, c=view["code"].replace("-", "")))],
        footer=say(FOOTER, town=town), calendar=None)


def plain_text(let: Letter) -> str:
    lines = [let.intro, ""]
    lines += [f"{label}: {isolate(value)}" for label, value in let.facts]
    lines += ["", let.bring_label + ":", *(f"- {isolate(item)}" for item in let.bring)] if let.bring else []
    lines += [""]
    lines += [f"{text}:\n{url}\n" for text, url in let.links]
    return "\n".join([*lines, "--", let.footer, ""])


def html_text(let: Letter) -> str:
    """A plain, accessible HTML version: every text escaped, the language and direction set."""
    def e(text: str) -> str:
        escaped = html.escape(text)
        return f'<span lang="es" dir="ltr">{escaped}</span>' if isinstance(text, Fallback) else escaped

    facts = "".join(f"<tr><th scope=\"row\" align=\"start\">{e(label)}</th><td>{e(value)}</td></tr>"
                    for label, value in let.facts)
    bring = "".join(f"<li>{e(item)}</li>" for item in let.bring)
    bring = f"<h2>{e(let.bring_label)}</h2><ul>{bring}</ul>" if let.bring else ""
    links = "".join(f"<p><a href=\"{e(url)}\">{e(text)}</a></p>" for text, url in let.links)
    return (f"<!doctype html><html lang=\"{let.lang}\" dir=\"{text_direction(let.lang)}\"><body>"
            f"<p>{e(let.intro)}</p><table>{facts}</table>{bring}{links}"
            f"<hr><p><small>{e(let.footer)}</small></p></body></html>")


def message(let: Letter, recipient: str) -> EmailMessage:
    msg = EmailMessage(policy=SMTP)
    msg["Subject"], msg["From"], msg["To"] = let.subject, sender_address(), recipient
    msg["Message-ID"] = make_msgid(domain="cita")
    msg["Auto-Submitted"] = "auto-generated"  # no out-of-office answers, please
    msg.set_content(plain_text(let))
    msg.add_alternative(html_text(let), subtype="html")
    if let.calendar:
        msg.add_attachment(let.calendar, maintype="text", subtype="calendar", filename="cita.ics")
    msg["Content-Language"] = let.lang  # after the parts: setting content replaces the Content-* headers
    return msg


# --- posting into the outbox --------------------------------------------------------------------------------------


def post(session: Session, appt: Appointment, kind: str, now: datetime | None = None, reason: str = "") -> bool:
    """Posts a mail about `appt` into the outbox, in the caller's transaction (nothing without an address). The
    key makes each mail unique: a confirmation per booking, a move per new time, a reminder per appointment time.
    A mail that cannot be written is logged and never stops the booking. True when a mail was posted."""
    start = to_utc(appt.starts_at)
    once_only = ("confirm", "booked", "cancelled", "closed")
    key = f"{kind}:{appt.id}" if kind in once_only else f"{kind}:{appt.id}:{start:%Y%m%dT%H%MZ}"
    posted = False  # the person's, and the representative's who booked for them (Ley 39/2015 art. 5)
    for recipient, whose in ((appt.email, ""), (appt.representative_email, ":representative")):
        if recipient:
            posted |= _post(session, key + whose, kind, recipient, lambda: letter(session, appt, kind, reason), now,
                            appt.id)
    return posted


def post_request(session: Session, email: str, key: str, kind: str, view: dict, comment: str = "",
                 now: datetime | None = None) -> bool:
    """Posts a mail about a service request (kind request_received or request_status) into the outbox, from its
    view in the citizen's language, in the caller's transaction. Nothing without an address; once per key."""
    if not email:
        return False
    town = session.exec(select(Municipality)).first()
    return _post(session, key, kind, email,
                    lambda: request_letter(view, kind, comment, town.name if town else "Cita"), now)


def _post(session: Session, key: str, kind: str, recipient: str, write, now: datetime | None,
             appointment_id: int | None = None) -> bool:
    try:
        with session.begin_nested():
            raw = message(write(), recipient).as_string()
            return once.insert_ignoring_duplicates(session, MailOutbox, [{
                "key": key, "kind": kind, "appointment_id": appointment_id, "recipient": recipient,
                "message": raw, "status": "queued", "tries": 0, "next_at": to_utc(now or utcnow()), "claim": "",
                "last_error": "", "created_at": to_utc(now or utcnow())}]) == 1
    except Exception:  # a mail must never stop a booking or a request
        log.exception("mail: could not queue the %s mail %s", kind, key)
        return False


def forget(session: Session, appointment_id: int) -> None:
    """Drops the mails not yet sent about an appointment whose personal data the citizen deleted."""
    session.execute(delete(MailOutbox).where(MailOutbox.appointment_id == appointment_id,
                                             MailOutbox.status == "queued"))


def post_reminders(session: Session, now: datetime | None = None) -> int:
    """Queues the reminder the day before for booked appointments with an e-mail address that no device follows
    by web push (iPhones get web push only in installed apps). Due and skipped as the push reminder is; the key
    makes it once per appointment time. The caller commits."""
    now = to_utc(now or utcnow())
    followed = select(PushLink.id).where(PushLink.appointment_id == Appointment.id).exists()
    rows = session.exec(select(Appointment).where(
        Appointment.status == "booked", (Appointment.email != "") | (Appointment.representative_email != ""), Appointment.starts_at > now + REMINDER_UNTIL,
        Appointment.starts_at <= now + REMINDER_BEFORE, ~followed)).all()
    due = [a for a in rows if to_utc(a.created_at) <= to_utc(a.starts_at) - REMINDER_BEFORE]
    return sum(post(session, appt, "reminder", now) for appt in due)


def scan(session_factory, now: datetime | None = None) -> Counter:
    """The worker's periodic look: pending bookings that ran out are marked expired, holds and spent proofs of
    work that ran out are dropped (bookings no longer sweep them), reminders are queued."""
    counts: Counter = Counter()
    with session_factory() as session:
        counts["pending_expired"] = booking.expire_pendings(session, to_utc(now or utcnow()))
        counts["holds_expired"] = fairness.drop_expired_holds(session, to_utc(now or utcnow()))
        counts["challenges_expired"] = fairness.drop_spent_challenges(session, to_utc(now or utcnow()))
        counts["mail_reminders"] = post_reminders(session, now)
        session.commit()
    return counts


# --- sending --------------------------------------------------------------------------------------------------


def transmit(recipient: str, raw: str) -> None:
    """Hands one message to the SMTP server, or, with none configured, writes it into the mail folder."""
    settings = get_settings()
    host = settings.smtp_host
    if not host:
        folder = mail_dir()
        folder.mkdir(parents=True, exist_ok=True)
        name = f"{utcnow():%Y%m%dT%H%M%S}-{secrets.token_hex(4)}.eml"
        (folder / f".{name}").write_text(raw, encoding="utf-8")
        (folder / f".{name}").rename(folder / name)  # readers never see half a file
        return
    with smtplib.SMTP(host, settings.smtp_port, timeout=SMTP_TIMEOUT) as smtp:
        if settings.smtp_starttls:
            # A verifying context: without one, smtplib encrypts to whoever answers (a man in the middle would
            # read the password and every link).
            smtp.starttls(context=ssl.create_default_context())
        if user := settings.smtp_user:
            smtp.login(user, settings.smtp_password)
        smtp.sendmail(sender_address(), [recipient], raw.encode("utf-8"))


def retry_delay(tries: int) -> timedelta:
    """A minute after the first failure, doubling up to six hours: an SMTP server may be down for a while."""
    return timedelta(minutes=min(2 ** (tries - 1), 360))


def send_due(session_factory, transport=transmit, now: datetime | None = None, batch: int = BATCH) -> Counter:
    """Claims the mails that are due and sends them, one batch. Returns counts (mail_sent, mail_retry,
    mail_failed). Never raises: a failure is recorded on its row and logged."""
    counts: Counter = Counter()
    moment, token = to_utc(now or utcnow()), secrets.token_hex(8)
    try:
        with session_factory() as session:
            if not once.claim(session, MailOutbox, once.due(MailOutbox, "queued", moment), token, moment + LEASE,
                              batch):
                session.commit()
                return counts
            rows = session.exec(select(MailOutbox).where(MailOutbox.claim == token)).all()
            session.commit()
        for row in rows:
            _record(session_factory, row, token, _attempt(transport, row), moment, counts)
    except Exception:
        log.exception("mail: a round failed; the claimed mails are sent again when their claim runs out")
    return counts


def _attempt(transport, row: MailOutbox) -> str:
    """"" when the mail went out, else why not."""
    try:
        transport(row.recipient, row.message)
        return ""
    except Exception as exc:  # noqa: BLE001  (SMTP refusals, timeouts, a full disk: all retried)
        return f"{type(exc).__name__}: {exc}"[:500]


def _record(session_factory, row: MailOutbox, token: str, problem: str, now: datetime, counts: Counter) -> None:
    values = {"claim": "", "claimed_until": None, "tries": row.tries + 1, "last_error": problem}
    if not problem:
        values.update(status="sent", sent_at=now)
        counts["mail_sent"] += 1
    elif row.tries + 1 >= MAX_TRIES:
        values.update(status="failed")
        counts["mail_failed"] += 1
        log.error("mail: %s mail %s given up after %s tries: %s", row.kind, row.id, row.tries + 1, problem)
    else:
        values.update(next_at=now + retry_delay(row.tries + 1))
        counts["mail_retry"] += 1
        log.warning("mail: %s mail %s not sent (%s); trying again later", row.kind, row.id, problem)
    with session_factory() as session:
        session.execute(update(MailOutbox).where(MailOutbox.id == row.id, MailOutbox.claim == token).values(**values))
        session.commit()


def purge(session: Session, now: datetime | None = None) -> int:
    """Deletes mails sent or given up more than KEEP ago (they hold an address). The caller commits."""
    before = to_utc(now or utcnow()) - KEEP
    return session.execute(delete(MailOutbox).where(MailOutbox.status != "queued",
                                                    MailOutbox.created_at < before)).rowcount or 0
