"""E-mail (issue 12, item 5): the confirmation in the citizen's language with the calendar file and the link to
manage the booking, the folder when no SMTP server is set, a real SMTP conversation, high-demand bookings pending
until the e-mailed link is opened (confirmed, or expired with the seat free again at once), per-person limits
counting pending bookings, the outbox sent exactly once by two senders at once (SQLite and PostgreSQL), failures
retried, and the reminder by e-mail for appointments no device follows by web push."""

import email
import socket
import threading
import time
from datetime import timedelta
from email.policy import default

import pytest
from sqlmodel import Session, select, update

from pwa_app.appointments import booking
from pwa_app.appointments.booking import BookingError, book
from pwa_app.appointments.slots import slots
from pwa_app.common.i18n import gettext, local, long_day_label
from pwa_app.models import Appointment, MailOutbox, Procedure, PushLink, PushSubscription
from pwa_app.notifications import mail
from tests.unit.test_fairness import CSSU, OAC, PADRON, dni, ids, person
from tests.unit.conftest import override_settings

WEDDING = "matrimonio-civil"  # high demand, one seat per slot
AID = "ayudas-emergencia-social"  # high demand, two desks


def first_free(session, procedure: str, office: str, clock, skip: int = 0, days_ahead: int = 0):
    p, o = ids(session, procedure, office)
    start = clock.today() + timedelta(days=days_ahead)
    return [s for s in slots(session, p, o, start, clock.horizon(), clock.now) if s.free][skip]


def mails(session, kind: str | None = None) -> list[MailOutbox]:
    rows = session.exec(select(MailOutbox).order_by(MailOutbox.id)).all()
    return [m for m in rows if kind is None or m.kind == kind]


def parsed(row: MailOutbox) -> email.message.EmailMessage:
    return email.message_from_string(row.message, policy=default)


@pytest.fixture
def factory(engine):
    return lambda: Session(engine, expire_on_commit=False)


@pytest.fixture
def folder(tmp_path, monkeypatch):
    override_settings(monkeypatch, CITA_SMTP_HOST=None)
    override_settings(monkeypatch, CITA_MAIL_DIR=str(tmp_path / "mail"))
    override_settings(monkeypatch, CITA_PUBLIC_URL="https://cita.example.es")
    return tmp_path / "mail"


# --- what a mail says ---------------------------------------------------------------------------------------------


def test_confirmation_in_the_citizens_language_with_the_calendar_and_a_link_to_cancel(session, clock, folder):
    slot = first_free(session, PADRON, OAC, clock)
    appt = book(session, PADRON, OAC, slot.starts_at, person(lang="fr", document=dni(101)), now=clock.now)
    session.commit()
    [row] = mails(session)
    msg = parsed(row)
    assert row.kind == "booked" and msg["To"] == "ana@example.com" and msg["Content-Language"] == "fr"
    assert msg["Subject"].startswith(gettext("fr", "Appointment booked: %(procedure)s").split("%")[0])
    assert not msg["Subject"].startswith("Appointment")  # really French, not the English source
    text = msg.get_body(("plain",)).get_content()
    html = msg.get_body(("html",)).get_content()
    code = appt.code[:5] + "-" + appt.code[5:]
    assert code in text and long_day_label(local(slot.starts_at).date(), "fr") in text  # babel, Madrid time
    assert f"https://cita.example.es/fr/cita/?c={appt.code}&v=101Z"[:-1] in text  # see, change or cancel
    assert 'lang="fr"' in html and f"?c={appt.code}&amp;v=" in html  # escaped in HTML
    assert gettext("fr", "What to bring") in text
    [calendar] = [part for part in msg.iter_attachments() if part.get_content_type() == "text/calendar"]
    ics = calendar.get_content() if isinstance(calendar.get_content(), str) else calendar.get_content().decode()
    assert "BEGIN:VEVENT" in ics and "TZID=Europe/Madrid" in ics and code in ics.replace("\r\n ", "")


def test_the_html_version_escapes_what_citizens_and_staff_typed(session, clock, folder):
    slot = first_free(session, PADRON, OAC, clock)
    session.exec(update(Procedure).where(Procedure.slug == PADRON).values(name="Alta <b>padrón</b>"))
    book(session, PADRON, OAC, slot.starts_at, person(lang="es", document=dni(102)), now=clock.now)
    html = parsed(mails(session)[0]).get_body(("html",)).get_content()
    assert "<b>padrón</b>" not in html and "&lt;b&gt;padrón&lt;/b&gt;" in html


def test_no_address_no_mail_and_a_wrong_address_is_refused_with_nothing_stored(session, clock, folder):
    slot = first_free(session, PADRON, OAC, clock)
    book(session, PADRON, OAC, slot.starts_at, person(email="", document=dni(103)), now=clock.now)
    with pytest.raises(BookingError) as refused:
        book(session, PADRON, OAC, slot.starts_at, person(email="ana@", document=dni(104)), now=clock.now)
    assert refused.value.errors == {"email": "email"}
    assert mails(session) == []


def test_cancel_and_move_send_their_own_mails(session, clock, folder):
    first, second = first_free(session, PADRON, OAC, clock), first_free(session, PADRON, OAC, clock, skip=3)
    appt = book(session, PADRON, OAC, first.starts_at, person(lang="ca", document=dni(105)), now=clock.now)
    booking.reschedule(session, appt, OAC, second.starts_at, now=clock.now)
    booking.cancel(session, appt, now=clock.now)
    assert [m.kind for m in mails(session)] == ["booked", "moved", "cancelled"]
    cancelled = parsed(mails(session)[-1])
    assert "/ca/cita/" not in cancelled.get_body(("plain",)).get_content()  # nothing left to manage
    assert not list(cancelled.iter_attachments())


# --- sending ------------------------------------------------------------------------------------------------------


def test_without_an_smtp_server_mails_go_to_the_local_folder_once(session, factory, clock, folder):
    slot = first_free(session, PADRON, OAC, clock)
    book(session, PADRON, OAC, slot.starts_at, person(document=dni(106)), now=clock.now)
    session.commit()
    assert mail.send_due(factory, now=clock.now)["mail_sent"] == 1
    assert mail.send_due(factory, now=clock.now)["mail_sent"] == 0
    [file] = folder.glob("*.eml")
    assert parsed(MailOutbox(message=file.read_text())).get("To") == "ana@example.com"
    assert mails(session)[0].status == "sent"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_a_real_smtp_server_receives_the_mail(session, factory, clock, folder, monkeypatch):
    from aiosmtpd.controller import Controller
    from aiosmtpd.handlers import Sink

    received = []

    class Inbox(Sink):
        async def handle_DATA(self, server, smtp_session, envelope):
            received.append(envelope)
            return "250 OK"

    port = free_port()
    controller = Controller(Inbox(), hostname="127.0.0.1", port=port)
    controller.start()
    try:
        override_settings(monkeypatch, CITA_SMTP_HOST="127.0.0.1")
        override_settings(monkeypatch, CITA_SMTP_PORT=str(port))
        override_settings(monkeypatch, CITA_SMTP_STARTTLS="0")
        override_settings(monkeypatch, CITA_MAIL_FROM="Ayuntamiento <cita@villanuevadelpinar.es>")
        slot = first_free(session, PADRON, OAC, clock)
        book(session, PADRON, OAC, slot.starts_at, person(document=dni(107)), now=clock.now)
        session.commit()
        assert mail.send_due(factory, now=clock.now)["mail_sent"] == 1
    finally:
        controller.stop()
    [envelope] = received
    assert envelope.rcpt_tos == ["ana@example.com"] and envelope.mail_from == "cita@villanuevadelpinar.es"
    assert not list(folder.glob("*.eml"))


def test_a_failure_is_kept_and_retried_later(session, factory, clock, folder):
    slot = first_free(session, PADRON, OAC, clock)
    book(session, PADRON, OAC, slot.starts_at, person(document=dni(108)), now=clock.now)
    session.commit()

    def down(recipient, raw):
        raise ConnectionRefusedError("the SMTP server is down")

    assert mail.send_due(factory, transport=down, now=clock.now)["mail_retry"] == 1
    row = mails(session)[0]
    session.refresh(row)
    assert (row.status, row.tries, "down" in row.last_error) == ("queued", 1, True)
    session.commit()  # SQLite: a test's open transaction holds the write lock
    assert mail.send_due(factory, now=clock.now)["mail_sent"] == 0  # not due yet: back-off
    assert mail.send_due(factory, now=clock.moved(minutes=2).now)["mail_sent"] == 1
    session.refresh(row)
    assert row.status == "sent" and len(list(folder.glob("*.eml"))) == 1


def test_given_up_after_many_tries_and_logged(session, factory, clock, folder, caplog):
    slot = first_free(session, PADRON, OAC, clock)
    book(session, PADRON, OAC, slot.starts_at, person(document=dni(109)), now=clock.now)
    session.exec(update(MailOutbox).values(tries=mail.MAX_TRIES - 1))
    session.commit()
    counts = mail.send_due(factory, transport=lambda *_: 1 / 0, now=clock.now)
    assert counts["mail_failed"] == 1 and "given up" in caplog.text


def post_many(session, clock, n: int) -> None:
    slot = first_free(session, PADRON, OAC, clock)
    appt = book(session, PADRON, OAC, slot.starts_at, person(document=dni(110)), now=clock.now)
    session.add_all(MailOutbox(key=f"test:{i}", kind="booked", appointment_id=appt.id, recipient=f"p{i}@example.com",
                               message=mails(session)[0].message, next_at=clock.now) for i in range(n))
    session.commit()


def race_senders(factory, clock) -> list[str]:
    sent, lock = [], threading.Lock()

    def slow(recipient, raw):
        time.sleep(0.01)  # both senders are busy at the same time
        with lock:
            sent.append(recipient)

    threads = [threading.Thread(target=lambda: [mail.send_due(factory, transport=slow, now=clock.now, batch=5)
                                                 for _ in range(10)]) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return sent


def test_two_senders_at_once_send_each_mail_exactly_once(session, factory, clock, folder):
    post_many(session, clock, 30)
    sent = race_senders(factory, clock)
    assert len(sent) == len(set(sent)) == 31  # the booking's own mail and the 30 queued: each once
    assert {m.status for m in mails(session)} == {"sent"}


def test_two_senders_at_once_send_each_mail_exactly_once_on_postgresql(pg_engine, clock, folder):
    factory = lambda: Session(pg_engine, expire_on_commit=False)  # noqa: E731
    with factory() as session:
        post_many(session, clock, 30)
    sent = race_senders(factory, clock)
    assert len(sent) == len(set(sent)) == 31
    with factory() as session:
        assert {m.status for m in mails(session)} == {"sent"}


# --- high demand: pending until the e-mailed link is opened --------------------------------------------------------


def test_high_demand_needs_an_email_with_a_clear_message_and_stores_nothing(session, clock, folder):
    slot = first_free(session, WEDDING, OAC, clock, skip=5)
    with pytest.raises(BookingError) as refused:
        book(session, WEDDING, OAC, slot.starts_at, person(email="", document=dni(120)), now=clock.now)
    assert refused.value.errors == {"email": "email_required"}
    assert session.exec(select(Appointment)).all() == [] and mails(session) == []


def test_pending_then_confirmed_by_the_link(session, clock, folder):
    slot = first_free(session, WEDDING, OAC, clock, skip=5)
    appt = book(session, WEDDING, OAC, slot.starts_at, person(lang="en", document=dni(121)), now=clock.now)
    session.commit()
    assert appt.status == "pending" and len(appt.confirm_token) >= 32
    assert booking.to_utc(appt.confirm_by) == clock.now + timedelta(minutes=30)
    [row] = mails(session)
    text = parsed(row).get_body(("plain",)).get_content()
    assert row.kind == "confirm" and f"https://cita.example.es/en/confirmar/?t={appt.confirm_token}" in text
    assert "within 30 minutes" in text
    assert booking.confirm(session, appt.confirm_token, now=clock.moved(minutes=29).now).status == "booked"
    assert booking.confirm(session, appt.confirm_token, now=clock.moved(minutes=40).now).status == "booked"  # again
    assert [m.kind for m in mails(session)] == ["confirm", "booked"]  # now with the calendar file


def seats_free(session, procedure, office, slot, now) -> int:
    p, o = ids(session, procedure, office)
    day = slot.starts_at.astimezone(booking.TZ).date()
    return next(s.free for s in slots(session, p, o, day, day, now) if s.starts_at == slot.starts_at)


def test_an_unconfirmed_booking_gives_its_seat_back_at_once_and_it_can_be_booked(session, clock, folder):
    slot = first_free(session, WEDDING, OAC, clock, skip=5)
    assert slot.capacity == 1
    pending = book(session, WEDDING, OAC, slot.starts_at, person(document=dni(122)), now=clock.now)
    session.commit()
    assert seats_free(session, WEDDING, OAC, slot, clock.moved(minutes=29).now) == 0
    with pytest.raises(BookingError):
        book(session, WEDDING, OAC, slot.starts_at, person(document=dni(123)), now=clock.moved(minutes=29).now)
    later = clock.moved(minutes=31).now  # no job has run: the seat is free in the availability all the same
    assert seats_free(session, WEDDING, OAC, slot, later) == 1
    other = book(session, WEDDING, OAC, slot.starts_at, person(document=dni(123), email="b@example.com"), now=later)
    session.commit()
    session.refresh(pending)
    assert other.seat == 1 and (pending.status, pending.seat) == ("expired", None)


def test_confirming_too_late_is_refused_and_offers_the_same_time_while_it_is_free(session, clock, folder):
    slot = first_free(session, WEDDING, OAC, clock, skip=5)
    appt = book(session, WEDDING, OAC, slot.starts_at, person(document=dni(124)), now=clock.now)
    session.commit()
    with pytest.raises(BookingError) as refused:
        booking.confirm(session, appt.confirm_token, now=clock.moved(minutes=31).now)
    assert refused.value.errors == {"slot": "confirm_expired"} and refused.value.procedure == WEDDING
    assert refused.value.alternatives[0][1].starts_at == slot.starts_at
    with pytest.raises(BookingError) as unknown:
        booking.confirm(session, "not-a-token", now=clock.now)
    assert unknown.value.errors == {"confirm": "confirm_unknown"}


def test_the_worker_marks_unconfirmed_bookings_expired(session, factory, clock, folder):
    slot = first_free(session, AID, CSSU, clock)
    appt = book(session, AID, CSSU, slot.starts_at, person(document=dni(125)), now=clock.now)
    session.commit()
    assert mail.scan(factory, clock.moved(minutes=10).now)["pending_expired"] == 0
    assert mail.scan(factory, clock.moved(minutes=31).now)["pending_expired"] == 1
    session.refresh(appt)
    assert (appt.status, appt.seat) == ("expired", None)


def test_the_per_person_limit_counts_pending_bookings_until_they_run_out(session, clock, folder):
    session.exec(update(Procedure).where(Procedure.slug == AID).values(max_active_per_person=1))
    first, second = first_free(session, AID, CSSU, clock), first_free(session, AID, CSSU, clock, skip=4)
    book(session, AID, CSSU, first.starts_at, person(document=dni(126)), now=clock.now)
    with pytest.raises(BookingError) as refused:
        book(session, AID, CSSU, second.starts_at, person(document=dni(126)), now=clock.moved(minutes=5).now)
    assert refused.value.errors == {"person": "limit_procedure"}
    assert book(session, AID, CSSU, second.starts_at, person(document=dni(126)),
                now=clock.moved(minutes=31).now).status == "pending"


# --- reminders by e-mail ------------------------------------------------------------------------------------------


def test_reminder_by_email_the_day_before_when_no_device_follows_by_push_and_only_once(session, factory, clock,
                                                                                      folder):
    # Booked more than a day ahead, whatever the time of day the test runs: else there is no day before.
    slot = first_free(session, PADRON, OAC, clock, skip=40, days_ahead=2)
    followed_slot = first_free(session, PADRON, OAC, clock, skip=41, days_ahead=2)
    mine = book(session, PADRON, OAC, slot.starts_at, person(document=dni(130)), now=clock.now)
    pushed = book(session, PADRON, OAC, followed_slot.starts_at, person(document=dni(131)), now=clock.now)
    sub = PushSubscription(endpoint="https://fcm.googleapis.com/x", p256dh="k", auth="a")
    session.add(sub)
    session.flush()
    session.add(PushLink(subscription_id=sub.id, appointment_id=pushed.id))
    session.commit()
    day_before = slot.starts_at - timedelta(hours=23)
    assert mail.scan(factory, day_before - timedelta(hours=2))["mail_reminders"] == 0  # not yet
    assert mail.scan(factory, day_before)["mail_reminders"] == 1
    assert mail.scan(factory, day_before + timedelta(minutes=5))["mail_reminders"] == 0  # never twice
    [reminder] = mails(session, "reminder")
    assert reminder.appointment_id == mine.id and "cita.ics" in reminder.message


# --- requests (solicitudes) ---------------------------------------------------------------------------------------


def test_a_request_is_confirmed_by_mail_with_its_tracking_code_and_link_in_the_citizens_language(session, clock,
                                                                                                 folder):
    from pwa_app.service_requests import intake, workflow
    from pwa_app.service_requests import rules
    from tests.unit.test_tracking import application

    req = intake.submit(session, application(lang="uk"), now=clock.now)
    intake.submit(session, application(email="", phone="612345678"), now=clock.now)  # no address, no mail
    session.commit()
    [row] = mails(session)
    msg = parsed(row)
    assert row.kind == "request_received" and row.appointment_id is None and msg["To"] == "ana@example.com"
    assert msg["Content-Language"] == "uk" and msg["Subject"].startswith(
        gettext("uk", "Request received: %(type)s").split("%")[0]) and not msg["Subject"].startswith("Request")
    text = msg.get_body(("plain",)).get_content()
    assert rules.format_code(req.code) in text and f"https://cita.example.es/uk/solicitud/?c={req.code}" in text
    assert gettext("uk", "Follow my request") in text and gettext("uk", "What to bring") not in text


def test_each_status_change_of_a_request_is_mailed_once_with_the_public_comment(session, clock, folder):
    from pwa_app.service_requests import intake, workflow
    from pwa_app.service_requests import rules
    from tests.unit.test_tracking import application

    req = intake.submit(session, application(lang="ca"), now=clock.now)
    workflow.change_status(session, req, "in_progress", now=clock.now)
    workflow.change_status(session, req, "waiting_citizen", comment="Envieu el contracte & la factura.",
                           now=clock.now)
    session.commit()
    received, working, waiting = mails(session)
    assert [m.kind for m in (received, working, waiting)] == ["request_received", "request_status", "request_status"]
    assert len({m.key for m in (received, working, waiting)}) == 3
    msg = parsed(waiting)
    assert gettext("ca", "Waiting for you") in msg["Subject"]
    assert "Envieu el contracte & la factura." in msg.get_body(("plain",)).get_content()
    assert "contracte &amp; la factura" in msg.get_body(("html",)).get_content()
