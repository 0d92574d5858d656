"""The staff workspace's services: set-up changes apply to availability at once, closures with booked
appointments, check-in, the queue (numbers, order, waits, the wall screen), reports and CSV, the requests inbox,
and the appointment QR code."""

import csv
import io
from datetime import date, timedelta
from email import message_from_string
from email.policy import default

import pytest
from sqlmodel import Session, select

from pwa_app.appointments import booking
from pwa_app.appointments.slots import slots
from pwa_app.common import codes
from pwa_app.common.i18n import local, long_day_label, time_label
from pwa_app.models import (
    Appointment, AuditEvent, Closure, Department, MailOutbox, Municipality, Office, Procedure, QueueTicket,
    RequestAssignment, ServiceRequest, StaffUser,
)
from pwa_app.service_requests import intake, views
from pwa_app.staff import accounts, desk, inbox, schedules, setup, wall_screens
from pwa_app.staff import reports
from pwa_app.staff import walk_in
from pwa_app.staff import auth
from pwa_app.staff.permissions import Forbidden, StaffError
from tests.unit.conftest import solve_challenge
from tests.unit.test_staff_auth import PASSWORD, client, people, staff_env  # noqa: F401  (fixtures)

OAC, NORTE = "oac-casa-consistorial", "junta-distrito-norte"
PADRON = "alta-padron"


def person(name="Ana García López", **changes) -> dict:
    return {"name": name, "document": "12345678Z", "phone": "612345678", "consent": True, "lang": "es", **changes}


def office(session, slug=OAC) -> Office:
    return session.exec(select(Office).where(Office.slug == slug)).one()


def procedure(session, slug=PADRON) -> Procedure:
    return session.exec(select(Procedure).where(Procedure.slug == slug)).one()


def viewers(session) -> dict:
    """Signed-in viewers: admin (all), manager and desk of the OAC (department 1), desk of the North board."""
    oac, norte = office(session).id, office(session, NORTE).id
    users = {
        "admin": auth.create_user(session, "admin@ayto.es", "Ana", "admin", PASSWORD),
        "manager": auth.create_user(session, "man@ayto.es", "Marta", "manager", PASSWORD, office_ids=[oac],
                                    department_id=1),
        "desk": auth.create_user(session, "desk@ayto.es", "Diego", "desk", PASSWORD, office_ids=[oac]),
        "norte": auth.create_user(session, "norte@ayto.es", "Nora", "desk", PASSWORD, office_ids=[norte]),
    }
    session.commit()
    return {k: auth.viewer_of(session, u) for k, u in users.items()}


@pytest.fixture
def v(session):
    return viewers(session)


def free_slots(session, clock, day: date, slug=OAC):
    return [s for s in slots(session, procedure(session).id, office(session, slug).id, day, day, clock.now) if s.free]


def book_at(session, clock, start, name="Ana García López", slug=OAC, **details) -> Appointment:
    appt = booking.book(session, PADRON, slug, start, person(name, **details), now=clock.now)
    session.commit()
    return appt


WED = date(2026, 12, 2)  # the default clock is Tuesday 1 December 2026, 08:00 in Madrid


# --- set-up ---------------------------------------------------------------------------------------------------


def test_closure_on_a_day_with_bookings_asks_then_cancels_and_mails_the_citizens(session, clock, v):
    first = book_at(session, clock, free_slots(session, clock, WED)[0].starts_at, "Primera Persona")
    second = book_at(session, clock, free_slots(session, clock, WED)[0].starts_at, "Segunda Persona",
                     email="segunda@example.com", lang="en")
    with pytest.raises(StaffError) as asked:
        schedules.add_closure(session, v["manager"], office(session).id, WED, "Obras en la oficina", now=clock.now)
    assert asked.value.errors == {"day": "has_appointments"} and asked.value.info == {"count": 2}
    session.rollback()
    assert session.exec(select(Closure).where(Closure.day == WED)).first() is None
    _, cancelled = schedules.add_closure(session, v["manager"], office(session).id, WED, "Obras en la oficina",
                                     on_conflict="cancel", now=clock.now)
    session.commit()
    assert cancelled == 2
    for appt in (first, second):
        session.refresh(appt)
        assert appt.status == "cancelled" and appt.seat is None
    # Whoever gave an address is told, in their language, with the reason and a way to book again.
    [closed] = session.exec(select(MailOutbox).where(MailOutbox.kind == "closed")).all()
    assert closed.appointment_id == second.id and closed.recipient == "segunda@example.com"
    text = message_from_string(closed.message, policy=default).get_body(("plain",)).get_content()
    assert "Obras en la oficina" in text and f"/en/reservar/?p={PADRON}" in text and "Book another time" in text
    assert free_slots(session, clock, WED) == []  # availability follows at once
    event = session.exec(select(AuditEvent).where(AuditEvent.action == "closure.create")).one()
    assert event.actor == "man@ayto.es" and '"cancelled": 2' in event.detail and "Primera" not in event.detail


def test_a_closure_gives_staff_the_call_list_of_whom_no_mail_or_push_reaches(session, clock, v):
    from pwa_app.models import PushLink, PushSubscription

    free = free_slots(session, clock, WED)
    phoned = book_at(session, clock, free[0].starts_at, "Rosa Llamada", phone="612 345 678")
    book_at(session, clock, free[1].starts_at, "Marcos Correo", email="marcos@example.com")
    pushed = book_at(session, clock, free[2].starts_at, "Pilar Push")
    gone = book_at(session, clock, free[3].starts_at, "Carlos Anula")
    sub = PushSubscription(endpoint="https://push.example/x", p256dh="k", auth="a")
    session.add(sub)
    session.flush()
    session.add(PushLink(subscription_id=sub.id, appointment_id=pushed.id))
    booking.cancel(session, gone, now=clock.now)  # cancelled by the citizen
    session.commit()
    schedules.add_closure(session, v["manager"], office(session).id, WED, "Corte de luz", on_conflict="cancel",
                      now=clock.now)
    session.commit()
    [call] = schedules.call_list(session, v["manager"], since=clock.today())
    assert call == {"day": "02/12/2026", "time": time_label(local(phoned.starts_at), "es"), "name": "Rosa Llamada",
                    "phone": "612345678", "procedure": procedure(session).name, "office": office(session).name,
                    "code": codes.format_code(phoned.code)}
    assert schedules.call_list(session, v["manager"], since=WED + timedelta(days=1)) == []  # the day has passed
    with pytest.raises(Forbidden):
        schedules.call_list(session, v["desk"])


def test_a_wall_screen_key_opens_one_offices_board_until_it_is_revoked(session, clock, v):
    from pwa_app.models import DisplayToken

    oac = office(session).id
    token = wall_screens.create_display_token(session, v["manager"], oac, now=clock.now)
    session.commit()
    assert len(token) >= 40 and wall_screens.display_office(session, token).id == oac
    [row] = wall_screens.display_tokens(session, v["manager"], oac)
    assert row.token_hash != token and token not in row.token_hash  # only the hash is kept
    assert wall_screens.display_office(session, token[:-1]) is None and wall_screens.display_office(session, "") is None
    with pytest.raises(Forbidden):
        wall_screens.create_display_token(session, v["desk"], oac)  # a manager's decision
    with pytest.raises(Forbidden):
        wall_screens.create_display_token(session, v["manager"], office(session, NORTE).id)  # not their office
    wall_screens.revoke_display_token(session, v["manager"], row.id, now=clock.now)
    session.commit()
    assert wall_screens.display_office(session, token) is None and wall_screens.display_tokens(session, v["manager"], oac) == []
    assert session.get(DisplayToken, row.id).revoked_at is not None
    actions = [e.action for e in session.exec(select(AuditEvent).order_by(AuditEvent.id))]
    assert actions[-2:] == ["display.create", "display.revoke"]


def test_closure_keeping_the_appointments(session, clock, v):
    appt = book_at(session, clock, free_slots(session, clock, WED)[0].starts_at)
    schedules.add_closure(session, v["admin"], office(session).id, WED, "Formación", on_conflict="keep", now=clock.now)
    session.commit()
    session.refresh(appt)
    assert appt.status == "booked" and free_slots(session, clock, WED) == []


def test_closure_rules(session, clock, v):
    oac, norte = office(session).id, office(session, NORTE).id
    with pytest.raises(Forbidden):  # a desk does not set up
        schedules.add_closure(session, v["desk"], oac, WED, "x", now=clock.now)
    with pytest.raises(Forbidden):  # a manager only for their offices
        schedules.add_closure(session, v["manager"], norte, WED, "x", now=clock.now)
    with pytest.raises(Forbidden):  # a public holiday (every office) is for administrators
        schedules.add_closure(session, v["manager"], None, WED, "x", now=clock.now)
    with pytest.raises(StaffError) as exc:
        schedules.add_closure(session, v["admin"], oac, date(2026, 12, 8), "Inmaculada", now=clock.now)
    assert exc.value.errors == {"day": "already_closed"}  # a public holiday of the seed
    with pytest.raises(StaffError) as exc:
        schedules.add_closure(session, v["admin"], oac, "2026-13-01", "", now=clock.now)
    assert exc.value.errors == {"day": "date", "reason": "required"}
    closure, _ = schedules.add_closure(session, v["admin"], None, WED, "Fiesta local", now=clock.now)
    session.commit()
    assert free_slots(session, clock, WED, NORTE) == []
    schedules.delete_closure(session, v["admin"], closure.id)
    session.commit()
    assert free_slots(session, clock, WED, NORTE)


def test_schedule_changes_apply_to_availability_at_once(session, clock, v):
    saturday = date(2026, 12, 5)
    assert free_slots(session, clock, saturday) == []
    oac = office(session).id
    with pytest.raises(StaffError) as exc:
        schedules.save_schedule(session, v["manager"], None, {"office_id": oac, "procedure_id": procedure(session).id,
                                                          "weekday": 5, "opens": "12:00", "closes": "10:00",
                                                          "slot_minutes": 20, "capacity": 2})
    assert exc.value.errors == {"closes": "closes_before_opens"}
    row = schedules.save_schedule(session, v["manager"], None, {
        "office_id": oac, "procedure_id": procedure(session).id, "weekday": 5, "opens": "10:00", "closes": "12:00",
        "slot_minutes": "20", "capacity": "2"})
    session.commit()
    found = free_slots(session, clock, saturday)
    assert len(found) == 6 and all(s.capacity == 2 for s in found)
    with pytest.raises(Forbidden):
        schedules.delete_schedule(session, v["norte"], row.id)
    schedules.delete_schedule(session, v["manager"], row.id)
    session.commit()
    assert free_slots(session, clock, saturday) == []


def test_booking_horizon_applies_at_once(session, clock, v):
    far = clock.today() + timedelta(days=70)
    far += timedelta(days=(7 - far.weekday()) % 7)  # a Monday
    assert free_slots(session, clock, far) == []
    with pytest.raises(Forbidden):
        schedules.set_booking_rules(session, v["manager"], 90, 120)
    with pytest.raises(StaffError) as exc:
        schedules.set_booking_rules(session, v["admin"], 0, 120)
    assert exc.value.errors == {"booking_horizon_days": "range"}
    schedules.set_booking_rules(session, v["admin"], 90, 120)
    session.commit()
    assert session.exec(select(Municipality)).one().booking_horizon_days == 90
    assert free_slots(session, clock, far)


def test_catalogue_edits_reach_the_citizen_api_at_once(client, staff_env):
    before = client.get("/api/v1/procedures").json()
    padron = next(p for p in before["procedures"] if p["slug"] == PADRON)
    with Session(staff_env, expire_on_commit=False) as s:
        admin = viewers(s)["admin"]
        proc = procedure(s)
        setup.save_requirement(s, admin, proc.id, None, {"text": "Certificado de convivencia", "optional": True})
        setup.save_procedure(s, admin, proc.id, {"fee": "Gratuito (nuevo)"})
        s.commit()
    after = next(p for p in client.get("/api/v1/procedures").json()["procedures"] if p["slug"] == PADRON)
    assert after["fee"] == "Gratuito (nuevo)"
    assert [r["text"] for r in after["requirements"]][-1] == "Certificado de convivencia"
    assert len(after["requirements"]) == len(padron["requirements"]) + 1


def test_requirements_reorder_and_delete(session, v):
    proc = procedure(session)
    items = setup.requirements(session, proc.id)
    setup.move_requirement(session, v["admin"], items[-1].id, -1)
    moved = setup.requirements(session, proc.id)
    assert moved[-2].id == items[-1].id and [r.position for r in moved] == list(range(1, len(items) + 1))
    setup.delete_requirement(session, v["admin"], items[0].id)
    assert len(setup.requirements(session, proc.id)) == len(items) - 1
    with pytest.raises(Forbidden):
        setup.delete_requirement(session, v["manager"], items[1].id)


def test_offices_and_procedures(session, v):
    with pytest.raises(Forbidden):
        setup.save_office(session, v["manager"], None, {"slug": "nueva"})
    with pytest.raises(StaffError) as exc:
        setup.save_office(session, v["admin"], None, {"slug": "Nueva Oficina", "name": "", "address": "x",
                                                      "opening_hours": "x"})
    assert exc.value.errors == {"slug": "slug", "name": "required"}
    created = setup.save_office(session, v["admin"], None, {"slug": "oficina-sur", "name": "Oficina Sur",
                                                            "address": "Calle Sur, 1", "opening_hours": "L-V 9-14"})
    assert created.id
    edited = setup.save_office(session, v["manager"], office(session).id, {"phone": "918000000"})
    assert edited.phone == "918000000" and edited.name.startswith("Oficina de Atención")
    with pytest.raises(Forbidden):
        setup.save_office(session, v["manager"], created.id, {"phone": "1"})
    proc = setup.save_procedure(session, v["admin"], None, {
        "slug": "tramite-nuevo", "name": "Trámite nuevo", "summary": "Uno nuevo.", "area_id": 1,
        "duration_minutes": 15, "office_ids": [created.id]})
    assert setup.procedure_office_ids(session, proc.id) == [created.id]


# --- day view and check-in ------------------------------------------------------------------------------------


def today_appointment(session, clock, slug=OAC, name="Ana García López") -> tuple[Appointment, object]:
    """An appointment this morning, and a clock at its time."""
    start = free_slots(session, clock, clock.today(), slug)[0].starts_at
    appt = book_at(session, clock, start, name, slug)
    return appt, clock.__class__(start - timedelta(minutes=5))


def test_check_in_by_code_gives_a_ticket(session, clock, v):
    appt, at = today_appointment(session, clock)
    typed = appt.code.lower()[:5] + " " + appt.code.lower()[5:]
    checked, label = desk.check_in(session, v["desk"], typed, now=at.now)
    session.commit()
    assert checked.status == "checked_in" and label == "C001"
    assert desk.check_in(session, v["desk"], appt.code, now=at.now)[1] == "C001"  # twice: same ticket
    rows = desk.day_appointments(session, v["desk"], office(session).id, clock.today())
    row = next(r for r in rows if r["id"] == appt.id)
    assert row["status"] == "checked_in" and row["ticket"] == "C001" and row["requirements"]
    assert row["document_hint"] == "···678Z"


def test_a_visit_shows_its_people_and_checks_in_together(session, clock, v):
    """A family of two booked by a relative: the day view names everyone and who booked, under the visit's one
    code; checking in that code checks the whole visit in."""
    start = free_slots(session, clock, clock.today())[0].starts_at
    appt = book_at(session, clock, start, people=[{"name": "Pablo García", "document": "87654321X"}],
                   on_behalf=True, rep_name="Marta García", rep_phone="600111222", rep_consent=True)
    at = clock.__class__(start - timedelta(minutes=5))
    rows = [r for r in desk.day_appointments(session, v["desk"], office(session).id, clock.today())
            if r["code"] == codes.format_code(appt.code)]
    assert len(rows) == 2 and all("Ana García López, Pablo García" in r["visit"] for r in rows)
    assert all("Reservada por Marta García (600111222)" in r["visit"] for r in rows)
    desk.check_in(session, v["desk"], appt.code, now=at.now)
    session.commit()
    assert {a.status for a in session.exec(select(Appointment))} == {"checked_in"}


@pytest.mark.parametrize("case,code", [("garbage", "code_format"), ("unknown", "not_found"),
                                       ("other_office", "other_office"), ("tomorrow", "not_today"),
                                       ("cancelled", "cancelled")])
def test_check_in_refusals(session, clock, v, case, code):
    appt, at = today_appointment(session, clock)
    typed = appt.code
    viewer = v["desk"]
    if case == "garbage":
        typed = "!!"
    elif case == "unknown":
        typed = "ZZZZZZZZZZ"
    elif case == "other_office":
        viewer = v["norte"]
    elif case == "tomorrow":
        at = at.moved(days=1)
    elif case == "cancelled":
        booking.cancel(session, appt, now=clock.now)
        session.commit()
    with pytest.raises(StaffError) as exc:
        desk.check_in(session, viewer, typed, now=at.now)
    assert exc.value.errors == {"code": code}


def test_a_cancelled_code_on_another_day_says_it_was_cancelled_and_when_in_words(session, clock, v):
    from state.base import describe

    appt, at = today_appointment(session, clock)
    booking.cancel(session, appt, now=clock.now)
    session.commit()
    with pytest.raises(StaffError) as exc:
        desk.check_in(session, v["desk"], appt.code, now=at.moved(days=3).now)  # its day has passed too
    day = long_day_label(clock.today(), "es")
    assert exc.value.errors == {"code": "cancelled"} and exc.value.info == {"day": day}
    assert describe(exc.value.errors, exc.value.info) == f"Esta cita está anulada: se canceló el {day}."
    assert "-" not in day and str(clock.today().year) in day  # "martes, 1 de diciembre de 2026", not ISO


def test_outcomes(session, clock, v):
    appt, at = today_appointment(session, clock)
    desk.set_outcome(session, v["desk"], appt.id, "no_show")
    assert appt.status == "no_show"
    other, _ = today_appointment(session, clock, name="Otra Persona")
    desk.check_in(session, v["desk"], other.code, now=at.now)
    with pytest.raises(StaffError):
        desk.set_outcome(session, v["desk"], other.id, "no_show")  # came in: attended or not, at the desk
    desk.set_outcome(session, v["desk"], other.id, "done")
    ticket = session.exec(select(QueueTicket).where(QueueTicket.appointment_id == other.id)).one()
    assert other.status == "done" and ticket.status == "done"
    with pytest.raises(Forbidden):
        desk.set_outcome(session, v["norte"], other.id, "done")


# --- the queue ------------------------------------------------------------------------------------------------


def test_queue_numbers_order_calls_and_waits(session, clock, v):
    oac = office(session).id
    clerk = v["desk"]
    t0 = clock.now
    a1 = walk_in.issue(session, clerk, oac, procedure(session).id, now=t0)
    a2 = walk_in.issue(session, clerk, oac, None, now=t0 + timedelta(minutes=1))
    assert (a1.label, a2.label) == ("A001", "A002")
    assert a1.estimated_wait_minutes == 0 and a2.estimated_wait_minutes == 20  # alta-padron takes 20 minutes
    # A checked-in appointment whose time has come goes before earlier walk-ins.
    appt, at = today_appointment(session, clock)
    _, c1 = desk.check_in(session, clerk, appt.code, now=at.now)
    first = walk_in.call_next(session, clerk, oac, 1, now=at.now)
    assert first.label == c1 == "C001" and first.desk == 1
    second = walk_in.call_next(session, clerk, oac, 2, now=at.now + timedelta(minutes=1))
    assert second.label == "A001"
    # Calling again at desk 1 finishes its current ticket (attended) first.
    third = walk_in.call_next(session, clerk, oac, 1, now=at.now + timedelta(minutes=9))
    assert third.label == "A002"
    session.refresh(appt)
    assert appt.status == "done"
    assert walk_in.call_next(session, clerk, oac, 2, now=at.now + timedelta(minutes=10)) is None
    walk_in.finish(session, clerk, third.id, "no_show", now=at.now + timedelta(minutes=12))
    with pytest.raises(walk_in.WalkInError):
        walk_in.finish(session, clerk, third.id, "done")
    session.commit()
    board = walk_in.board(session, oac, now=at.now + timedelta(minutes=12))
    assert [c["label"] for c in board["calls"]] == ["A002", "A001", "C001"]
    assert board["waiting"] == 0 and "name" not in str(board)
    waited = (second.called_at - second.issued_at).total_seconds() / 60
    assert waited == pytest.approx((at.now + timedelta(minutes=1) - t0).total_seconds() / 60)


def test_desk_view_and_call_out_of_turn(session, clock, v):
    oac = office(session).id
    walk_in.issue(session, v["desk"], oac, None, now=clock.now)
    b = walk_in.issue(session, v["desk"], oac, None, now=clock.now + timedelta(minutes=1))
    called = walk_in.call_ticket(session, v["desk"], b.id, 3, now=clock.now + timedelta(minutes=2))
    assert called.label == "A002"
    view = walk_in.desk_view(session, v["desk"], oac, 3, now=clock.now + timedelta(minutes=3))
    assert view["current"]["label"] == "A002" and [t["label"] for t in view["waiting"]] == ["A001"]
    with pytest.raises(walk_in.WalkInError):
        walk_in.call_ticket(session, v["desk"], b.id, 3)
    with pytest.raises(walk_in.WalkInError):
        walk_in.desk_view(session, v["desk"], oac, 0)


def test_queue_is_shared_through_the_database(staff_env, clock):
    """Two sessions (two workers) see and number the same queue."""
    with Session(staff_env, expire_on_commit=False) as s1, Session(staff_env, expire_on_commit=False) as s2:
        vs = viewers(s1)
        oac = office(s1).id
        walk_in.issue(s1, vs["desk"], oac, None, now=clock.now)
        s1.commit()
        second = walk_in.issue(s2, vs["desk"], oac, None, now=clock.now)
        s2.commit()
        assert second.label == "A002"
        called = walk_in.call_next(s2, vs["desk"], oac, 1, now=clock.now)
        s2.commit()
        assert [c["label"] for c in walk_in.board(s1, oac, now=clock.now)["calls"]] == [called.label]


# --- reports --------------------------------------------------------------------------------------------------


def test_percentile_and_mean():
    assert reports.percentile([], 90) is None
    assert reports.percentile([5], 90) == 5
    assert reports.percentile(list(range(1, 11)), 90) == 9
    assert reports.percentile(list(range(1, 101)), 90) == 90
    assert reports.mean([1, 2, 6]) == 3


def test_report_figures_and_csv(session, clock, v):
    oac = office(session).id
    done, at = today_appointment(session, clock, name="Uno Atendido")
    missed, _ = today_appointment(session, clock, name="Dos Ausente")
    desk.check_in(session, v["desk"], done.code, now=at.now)
    desk.set_outcome(session, v["desk"], missed.id, "no_show")
    for minutes in (0, 10):  # walk-ins waiting 10 and 20 minutes... plus the appointment's wait
        walk_in.issue(session, v["desk"], oac, procedure(session).id, now=at.now + timedelta(minutes=minutes))
    walk_in.call_next(session, v["desk"], oac, 1, now=at.now + timedelta(minutes=5))  # the appointment: 5 min
    walk_in.call_next(session, v["desk"], oac, 1, now=at.now + timedelta(minutes=10))  # A001: 10 min
    walk_in.call_next(session, v["desk"], oac, 1, now=at.now + timedelta(minutes=30))  # A002: 20 min
    session.commit()
    day = clock.today()
    summary = reports.summary(session, v["manager"], day, day, now=at.now)
    assert summary["appointments"] == 2 and summary["done"] == 1 and summary["no_show"] == 1
    assert summary["no_show_rate"] == 50.0
    assert summary["walk_ins"] == 2 and summary["called"] == 3
    assert summary["wait_avg"] == pytest.approx(35 / 3, abs=0.05) and summary["wait_p90"] == 20
    assert summary["service_avg"] == 12.5  # 5→10 and 10→30, attended
    assert summary["by_procedure"][0]["name"] == procedure(session).name
    rows = reports.csv_rows(session, v["manager"], day, day)
    text = reports.to_csv(rows)
    assert text.startswith("\ufeff")
    parsed = list(csv.reader(io.StringIO(text.lstrip("\ufeff")), delimiter=";"))
    assert parsed[0] == reports.CSV_HEADER
    row = dict(zip(parsed[0], parsed[1]))
    assert row["fecha"] == day.isoformat() and row["citas"] == "2" and row["no_presentadas"] == "1"
    assert row["turnos_sin_cita"] == "2" and row["espera_media_min"] == "11,7" and row["espera_p90_min"] == "20,0"
    assert "Uno Atendido" not in text and "12345678Z" not in text
    # The North board's desk sees no OAC figures; periods are checked.
    with pytest.raises(Forbidden):
        reports.summary(session, v["norte"], day, day)
    with pytest.raises(Forbidden):
        reports.summary(session, v["manager"], day, day, office(session, NORTE).id)
    with pytest.raises(reports.ReportError):
        reports.summary(session, v["admin"], day, day - timedelta(days=1))
    with pytest.raises(reports.ReportError):
        reports.summary(session, v["admin"], day - timedelta(days=400), day)


def test_reports_csv_endpoint(client, people):
    client.cookies.set(auth.COOKIE, people["admin"][1])
    answer = client.get("/api/staff/reports.csv", params={"from": "2026-11-01", "to": "2026-11-30"})
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/csv")
    assert 'filename="cita-informe-2026-11-01-2026-11-30.csv"' in answer.headers["content-disposition"]
    assert answer.text.lstrip("\ufeff").splitlines()[0] == ";".join(reports.CSV_HEADER)
    assert client.get("/api/staff/reports.csv", params={"from": "2026-11-30", "to": "2026-11-01"}).status_code == 422


# --- requests inbox -------------------------------------------------------------------------------------------


def submit(session, clock, rtype="instancia-general", days_ago=0, text="Solicito copia del expediente."):
    raw = {"type": rtype, "description": text, "name": "Ana García", "email": "ana@example.com",
           "document": "12345678Z", "address": "Calle Mayor, 12", "consent": True, "lang": "es"}
    req = intake.submit(session, raw, now=clock.now - timedelta(days=days_ago))
    session.commit()
    return req


def test_inbox_overdue_first_and_department_scope(session, clock, v):
    recent = submit(session, clock, days_ago=0, text="Reciente.")
    old = submit(session, clock, days_ago=150, text="Antigua.")
    street = submit(session, clock, rtype="incidencia-via-publica", text="Bache.")
    items = inbox.inbox(session, v["manager"], now=clock.now)  # department 1: atención a la ciudadanía
    assert [i["id"] for i in items] == [old.id, recent.id] and items[0]["overdue"] and not items[1]["overdue"]
    assert street.id in {i["id"] for i in inbox.inbox(session, v["admin"], now=clock.now)}
    with pytest.raises(Forbidden):
        inbox.request_detail(session, v["manager"], street.id)
    with pytest.raises(Forbidden):
        inbox.inbox(session, v["desk"])


def test_assign_and_change_status_with_a_public_comment(session, clock, v):
    req = submit(session, clock)
    manager_id = v["manager"].id
    inbox.assign_request(session, v["manager"], req.id, manager_id, now=clock.now)
    session.commit()
    assert req.status == "assigned" and session.get(RequestAssignment, req.id).staff_id == manager_id
    detail = inbox.request_detail(session, v["manager"], req.id, now=clock.now)
    assert detail["assignee"] == "Marta" and detail["email"] == "ana@example.com"
    assert "Marta" not in str(views.request_view(session, req, "es"))  # the public timeline names no one
    with pytest.raises(StaffError) as exc:
        inbox.change_request_status(session, v["manager"], req.id, "rejected", "", now=clock.now)
    assert exc.value.errors == {"comment": "required"}
    inbox.change_request_status(session, v["manager"], req.id, "in_progress", "Lo estamos revisando.", now=clock.now)
    session.commit()
    view = views.request_view(session, req, "es")
    assert view["status"] == "in_progress" and view["timeline"][-1]["comment"] == "Lo estamos revisando."
    # Handing over to another department drops the internal assignment.
    inbox.change_request_status(session, v["admin"], req.id, "assigned", "Corresponde a Urbanismo.",
                                department="urbanismo", now=clock.now)
    session.commit()
    assert session.get(RequestAssignment, req.id) is None
    assert req.department_id == session.exec(select(Department).where(Department.slug == "urbanismo")).one().id
    with pytest.raises(StaffError):
        inbox.assign_request(session, v["admin"], req.id, v["desk"].id)  # not someone who answers requests
    actions = session.exec(select(AuditEvent.action).where(AuditEvent.target == f"request:{req.id}")).all()
    assert actions == ["request.assign", "request.status", "request.status"]


def test_staff_approve_the_text_open311_publishes(session, clock, v):
    req = intake.submit(session, {"type": "alumbrado-publico", "description": "Farola apagada frente a mi casa, "
                                    "soy Luis (611223344).", "address": "Calle Real 3, 2ºB", "consent": True},
                          now=clock.now)
    private = submit(session, clock)
    session.commit()
    detail = inbox.request_detail(session, v["admin"], req.id, now=clock.now)
    assert (detail["public_description"], detail["public_address"]) == ("", "")
    inbox.publish_request_text(session, v["admin"], req.id, "Farola apagada.", "Calle Real")
    session.commit()
    assert (req.public_description, req.public_address) == ("Farola apagada.", "Calle Real")
    with pytest.raises(StaffError) as exc:
        inbox.publish_request_text(session, v["admin"], private.id, "Texto.")
    assert exc.value.errors == {"public_description": "not_public"}
    with pytest.raises(Forbidden):  # not their department's
        inbox.publish_request_text(session, v["manager"], req.id, "Otro texto.")
    inbox.publish_request_text(session, v["admin"], req.id, "")
    session.commit()
    events = session.exec(select(AuditEvent).where(AuditEvent.target == f"request:{req.id}")
                          .order_by(AuditEvent.id)).all()
    assert [e.action for e in events] == ["request.publish", "request.unpublish"]
    assert "Luis" not in events[0].detail and '"description_chars": 15' in events[0].detail


# --- accounts -------------------------------------------------------------------------------------------------


def test_users_are_managed_by_administrators_only(session, v):
    with pytest.raises(Forbidden):
        accounts.users(session, v["manager"])
    made = accounts.save_user(session, v["admin"], None, {"email": "nuevo@ayto.es", "name": "Nuevo", "role": "desk",
                                                       "office_ids": [office(session).id], "password": PASSWORD})
    assert made.role == "desk"
    with pytest.raises(StaffError) as exc:
        accounts.save_user(session, v["admin"], None, {"email": "otro@ayto.es", "role": "desk", "password": "corta",
                                                    "office_ids": [1]})
    assert exc.value.errors == {"password": "weak_password"}
    with pytest.raises(StaffError) as exc:
        accounts.save_user(session, v["admin"], v["admin"].id, {"name": "Ana", "role": "desk", "office_ids": [1]})
    assert exc.value.errors == {"role": "self"}
    accounts.save_user(session, v["admin"], made.id, {"name": "Nuevo", "role": "desk", "office_ids": [1],
                                                   "active": False})
    assert session.get(StaffUser, made.id).active is False
    assert accounts.audit_log(session, v["admin"])[0]["action"] == "user.update"
    assert accounts.readable_detail('{"active": true, "office_ids": [1, 2], "reason": "", "role": "desk"}') == [
        "active: sí", "office_ids: 1, 2", "reason: –", "role: desk"]


# --- QR -------------------------------------------------------------------------------------------------------


def test_appointment_qr_svg(client, staff_env):
    free = client.get("/api/v1/availability", params={"procedure": PADRON, "office": OAC}).json()
    start = next(s["start"] for d in free["days"] for s in d["slots"] if s["free"])
    booked = client.post("/api/v1/appointments", headers={"Idempotency-Key": "qr-test-0001"},
                         json={"procedure": PADRON, "office": OAC, "start": start, **person(),
                               "altcha": solve_challenge(client)}).json()
    assert "code" in booked, booked
    code = booked["code"]
    answer = client.get(f"/api/v1/appointments/{code}/qr.svg", params={"verifier": "678Z"})
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("image/svg+xml")
    assert answer.text.startswith("<svg") and f"<title>{code}</title>" in answer.text
    assert 'width="232"' in answer.text  # a full QR code, version 1 (21 + 2 × 4 modules, scale 8), not a Micro QR
    assert client.get(f"/api/v1/appointments/{code}/qr.svg", params={"verifier": "0000"}).status_code == 404
    with Session(staff_env) as s:
        assert s.exec(select(ServiceRequest)).first() is None  # nothing else was touched
