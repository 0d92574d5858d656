"""Booking for people who phone or come to the counter: the channel stored, the citizens' limits and mails,
office scope, moves and cancellations audited, the slip in the person's language; finding a booking (audited
without the searched value) and the day list's CSV; reports split by channel."""

import csv
import io
import json
from datetime import timedelta

import pytest
from sqlmodel import select

from pwa_app.appointments import booking
from pwa_app.models import Appointment, AuditEvent, MailOutbox
from pwa_app.staff import counter, desk, lookup, reports
from pwa_app.staff.permissions import Forbidden, StaffError
from tests.unit.conftest import override_settings
from tests.unit.test_staff_auth import PASSWORD, client, people, staff_env  # noqa: F401  (fixtures)
from tests.unit.test_staff_services import NORTE, OAC, PADRON, WED, free_slots, office, procedure, v  # noqa: F401

CALLER = {"name": "Rosa Pérez Gil", "phone": "612 345 678", "email": "", "lang": "ro"}


def dni(n: int) -> str:
    return f"{n:08d}" + "TRWAGMYFPDXBNJZSQVHLCKE"[n % 23]


def audits(session, action: str) -> list[AuditEvent]:
    return session.exec(select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)).all()


def desk_book(session, clock, v, who="desk", slot=0, channel="phone", **details):
    start = free_slots(session, clock, WED)[slot].starts_at
    details = {**CALLER, "document": dni(40000000 + slot), **details}
    appt = counter.book(session, v[who], PADRON, OAC, start, details, channel, clock.now)
    session.commit()
    return appt


def test_a_desk_books_for_a_caller_without_email_channel_stored_and_audited(session, clock, v):
    appt = desk_book(session, clock, v)
    stored = session.get(Appointment, appt.id)
    assert (stored.channel, stored.status, stored.lang, stored.email) == ("phone", "booked", "ro", "")
    assert session.exec(select(MailOutbox)).all() == []  # nobody to mail
    [event] = audits(session, "appointment.book")
    detail = json.loads(event.detail)
    assert event.target == f"appointment:{appt.id}" and detail["channel"] == "phone"
    assert "Rosa" not in event.detail and "612" not in event.detail  # no personal data in the audit
    web = booking.book(session, PADRON, OAC, free_slots(session, clock, WED)[1].starts_at,
                       {"name": "Web", "document": dni(30000001), "consent": True}, now=clock.now)
    assert web.channel == "web"  # the default: citizens' own bookings


def test_a_staff_booking_with_an_email_mails_the_citizen_in_their_language(session, clock, v):
    appt = desk_book(session, clock, v, channel="counter", email="rosa@example.org", lang="fr")
    [mail] = session.exec(select(MailOutbox).where(MailOutbox.appointment_id == appt.id)).all()
    assert mail.recipient == "rosa@example.org" and "Content-Language: fr" in mail.message


def test_per_person_limits_apply_to_staff_bookings(session, clock, v):
    procedure(session).max_active_per_person = 1  # the demo town's rule (the test template lifts it)
    session.commit()
    desk_book(session, clock, v, document=dni(12345678))
    with pytest.raises(booking.BookingError) as refused:
        desk_book(session, clock, v, slot=1, document=dni(12345678))
    assert refused.value.errors == {"person": "limit_procedure"}


def test_staff_book_only_for_their_offices_and_a_known_channel(session, clock, v):
    start = free_slots(session, clock, WED)[0].starts_at
    with pytest.raises(Forbidden):
        counter.book(session, v["norte"], PADRON, OAC, start, {**CALLER, "document": dni(1)}, "phone", clock.now)
    with pytest.raises(StaffError):
        counter.book(session, v["desk"], PADRON, OAC, start, {**CALLER, "document": dni(1)}, "web", clock.now)
    assert counter.procedures(session, v["norte"])  # the North board's own procedures
    assert all(o["slug"] != OAC for p in counter.procedures(session, v["norte"]) for o in p["offices"])


def test_a_desk_has_a_booking_rate_limit(session, clock, v, monkeypatch):
    override_settings(monkeypatch, CITA_RATE_STAFF_BOOKING="1/600")
    desk_book(session, clock, v)
    with pytest.raises(StaffError) as refused:
        desk_book(session, clock, v, slot=1)
    assert refused.value.errors == {"form": "rate"}


def test_free_times_move_and_cancel_from_the_desk(session, clock, v):
    appt = desk_book(session, clock, v)
    times = counter.free_times(session, v["desk"], PADRON, OAC, WED, clock.now)
    assert times and all(t["free"] > 0 for t in times)
    later = free_slots(session, clock, WED)[-1].starts_at
    moved = counter.move(session, v["desk"], appt.id, later, clock.now)
    session.commit()
    assert moved.starts_at == later and moved.code == appt.code
    with pytest.raises(Forbidden):
        counter.cancel(session, v["norte"], appt.id, clock.now)
    counter.cancel(session, v["desk"], appt.id, clock.now)
    session.commit()
    assert session.get(Appointment, appt.id).status == "cancelled"
    assert [e.target for e in audits(session, "appointment.move")] == [f"appointment:{appt.id}"]
    assert [e.target for e in audits(session, "appointment.cancel")] == [f"appointment:{appt.id}"]


def test_the_slip_speaks_the_persons_language(session, clock, v):
    appt = desk_book(session, clock, v, lang="fr")
    slip = counter.slip(session, v["desk"], appt.id)
    assert slip["lang"] == "fr" and slip["code_label"] != "Booking code" and slip["title"] != "Your appointment"
    assert slip["code"] in slip["qr"] and slip["qr"].startswith("<svg")
    assert 'viewBox="0 0 125 125"' in slip["qr"]  # a full QR code (21 + 2 × 2 modules, scale 5), never a Micro QR
    assert slip["bring"] and slip["where"]
    arabic = counter.slip(session, v["desk"], desk_book(session, clock, v, slot=1, lang="ar").id)
    assert arabic["dir"] == "rtl"


def test_search_by_each_kind_within_the_office_scope_audited_without_the_value(session, clock, v):
    appt = desk_book(session, clock, v, document="12345678Z", email="rosa@example.org")
    for kind, value in [("code", appt.code), ("document", "12345678-z"), ("name", "pérez"), ("phone", "612345678"),
                        ("phone", "+34 612 345 678"), ("email", "ROSA@example.org")]:
        found = lookup.search(session, v["desk"], kind, value)
        assert [r["id"] for r in found] == [appt.id], kind
        assert lookup.search(session, v["norte"], kind, value) == []  # another office's booking stays hidden
    assert lookup.search(session, v["admin"], "name", "rosa")
    session.commit()
    events = audits(session, "appointment.search")
    assert len(events) == 13
    for event in events:
        assert "Rosa" not in event.detail and "rosa" not in event.detail and "12345678" not in event.detail
        assert "612" not in event.detail and appt.code not in event.detail
    assert json.loads(events[0].detail) == {"appointments": [appt.id], "kind": "code", "results": 1}
    for kind, value in [("name", "ro"), ("code", "nope"), ("document", "123"), ("email", "x"), ("bogus", "x")]:
        with pytest.raises(StaffError):
            lookup.search(session, v["desk"], kind, value)


def test_the_day_list_csv_per_office_and_procedure(session, clock, v):
    appt = desk_book(session, clock, v, name="=HYPERLINK(1)")
    desk_book(session, clock, v, slot=1, name="Cancelada Luego")
    counter.cancel(session, v["desk"], session.exec(select(Appointment).where(
        Appointment.name == "Cancelada Luego")).one().id, clock.now)
    text, rows = lookup.day_csv(session, v["desk"], office(session).id, WED, procedure(session).id)
    session.commit()
    assert rows == 1
    table = list(csv.reader(io.StringIO(text.lstrip("\ufeff")), delimiter=";"))
    assert table[0] == lookup.CSV_HEADER
    assert table[1][4] == desk.codes.format_code(appt.code) and table[1][5] == "'=HYPERLINK(1)"
    assert table[1][8] == "Teléfono"
    assert lookup.day_list(session, v["desk"], office(session).id, WED, procedure(session).id + 1000) == []
    [event] = audits(session, "appointment.day_export")
    assert json.loads(event.detail)["rows"] == 1
    with pytest.raises(Forbidden):
        lookup.day_list(session, v["norte"], office(session).id, WED)


def test_reports_split_by_channel(session, clock, v):
    phone = desk_book(session, clock, v)
    desk_book(session, clock, v, slot=1, channel="counter")
    booking.book(session, PADRON, OAC, free_slots(session, clock, WED)[2].starts_at,
                 {"name": "Web", "document": dni(30000001), "consent": True}, now=clock.now)
    session.commit()
    desk.set_outcome(session, v["desk"], phone.id, "no_show", clock.now + timedelta(days=1, hours=12))
    session.commit()
    rows = {r["channel"]: r for r in reports.summary(session, v["manager"], WED, WED)["by_channel"]}
    assert {c: rows[c]["total"] for c in rows} == {"web": 1, "phone": 1, "counter": 1}
    assert rows["phone"]["share"] == 33.3 and rows["phone"]["no_show"] == 1 and rows["phone"]["no_show_rate"] == 100
    assert rows["web"]["no_show_rate"] is None
