"""Visits (appointments/visits.py): several people in one booking (one seat each, one code), several procedures in
one visit, and booking for someone else. Capacity is checked as one unit, per-person limits count each person's
document (the represented person's, never the representative's), and a visit of two procedures lasts the sum of
their durations."""

import threading
from datetime import timedelta

import pytest
from icalendar import Calendar
from sqlmodel import Session, select, update

from pwa_app.appointments import visits
from pwa_app.appointments.booking import BookingError, book, cancel, find, reschedule
from pwa_app.common.i18n import gettext
from pwa_app.common.messages import ERRORS
from pwa_app.models import Appointment, MailOutbox, Municipality, Procedure
from pwa_app.retention import forget_appointment

from .test_api import free_at, free_slot, new_key, post_booking
from .test_booking import OAC, PADRON, book_ok, count, person, slot_of

# At the OAC: the change of address, 15-minute slots and three desks; the register certificate, 15 minutes, one desk.
CAMBIO, CERTIFICADO = "cambio-domicilio-padron", "certificado-empadronamiento"
OTHERS = ["87654321X", "11111111H", "22222222J", "33333333P"]
REP = {"on_behalf": True, "rep_name": "Laura Ruiz (trabajadora social)", "rep_email": "laura@example.org",
       "rep_phone": "", "rep_consent": True}


def family(size: int) -> list[dict]:
    """The others coming with Ana: `size` people in all."""
    return [{"name": f"Hija {n}", "document": doc} for n, doc in zip(range(2, size + 1), OTHERS)]


@pytest.fixture
def ten(clock):
    """Wednesday 2 December 2026, 10:00 at the OAC: padrón 10:00–10:20 (3 desks), volante from 10:20 (1 desk)."""
    return clock.at(2026, 12, 2, 10, 0)


@pytest.fixture
def limits(session):
    """The town's own limits (the test database lifts them): one active appointment per procedure, three in all."""
    session.exec(update(Procedure).values(max_active_per_person=1))
    session.exec(update(Municipality).values(max_active_per_person=3))
    session.commit()


def rows_at(session, start):
    return session.exec(select(Appointment).where(Appointment.starts_at == start)).all()


def test_a_family_takes_its_seats_as_one_unit_with_one_code(session, clock, ten):
    appt = book(session, PADRON, OAC, ten, person(people=family(3)), now=clock.now)
    session.commit()
    rows = rows_at(session, ten)
    assert sorted(r.seat for r in rows) == [1, 2, 3] and {r.visit_of for r in rows} == {None, appt.id}
    assert sorted(r.name for r in rows) == ["Ana García López", "Hija 2", "Hija 3"]
    assert slot_of(session, ten, clock, office=OAC).free == 0
    other = next(r for r in rows if r.visit_of)
    assert find(session, other.code, other.document[-4:]) is None  # the others' codes open nothing
    assert find(session, appt.code, "678Z").id == appt.id
    cancel(session, appt, now=clock.now)  # the first row's code cancels the whole visit
    session.commit()
    assert slot_of(session, ten, clock, office=OAC).free == 3
    assert {(r.status, r.seat) for r in session.exec(select(Appointment))} == {("cancelled", None)}


def test_a_family_larger_than_the_seats_left_books_nobody(session, clock, ten):
    book_ok(session, ten, clock, office=OAC, document="44444444A", name="Otra vecina")  # 2 of 3 seats left
    with pytest.raises(BookingError) as refused:
        book(session, PADRON, OAC, ten, person(people=family(3)), now=clock.now)
    session.rollback()
    assert refused.value.errors == {"slot": "party_taken"}
    assert refused.value.alternatives and all(s.free >= 3 for _, s in refused.value.alternatives)
    assert count(session) == 1 and slot_of(session, ten, clock, office=OAC).free == 2
    two = book(session, PADRON, OAC, ten, person(people=family(2)), now=clock.now)  # two fit
    session.commit()
    assert two.id and slot_of(session, ten, clock, office=OAC).free == 0


@pytest.mark.parametrize("people, errors", [
    (family(5), {"people": "party_too_big"}),  # CITA_PARTY_MAX is 4 by default
    ([{"name": "", "document": "12345678Z"}], {"name_2": "required", "document_2": "same_person"}),
    ([{"name": "Hija 2", "document": "87654321X"}, {"name": "Hija 3", "document": "87654321-x"}],
     {"document_3": "same_person"}),
    ([{"name": "Hija 2", "document": "87654321A"}], {"document_2": "document_letter"}),
])
def test_each_person_is_named_and_checked(session, clock, ten, people, errors):
    with pytest.raises(BookingError) as refused:
        book(session, PADRON, OAC, ten, person(people=people), now=clock.now)
    session.rollback()
    assert refused.value.errors == errors and count(session) == 0


def test_per_person_limits_count_each_persons_own_document(session, clock, ten, limits):
    book_ok(session, ten + timedelta(days=1), clock, office=OAC, document=OTHERS[0], name="Hija 2")
    with pytest.raises(BookingError) as refused:
        book(session, PADRON, OAC, ten, person(people=family(3)), now=clock.now)
    session.rollback()
    assert refused.value.errors == {"document_2": "limit_procedure"} and count(session) == 1
    session.exec(update(Procedure).values(max_active_per_person=2))
    session.commit()
    for day in (7, 8):  # Wednesday 9 and Thursday 10 December
        book_ok(session, ten + timedelta(days=day), clock, office=OAC)
    with pytest.raises(BookingError) as refused:  # Ana has two: the change of address is her third, the certificate a fourth
        book(session, CAMBIO, OAC, ten + timedelta(hours=2), person(also=[CERTIFICADO]), now=clock.now)
    session.rollback()
    assert refused.value.errors == {"person": "limit_total"}


def test_a_representative_books_for_people_and_the_limits_are_theirs(session, clock, ten, limits):
    """A social worker books for two neighbours: neither booking counts against her, both count against them."""
    first = book(session, PADRON, OAC, ten, person(name="Vecino Uno", document="44444444A", **REP), now=clock.now)
    second = book(session, PADRON, OAC, ten, person(name="Vecina Dos", document="55555555K", email="", **REP),
                  now=clock.now)
    session.commit()
    assert (first.representative_name, first.representative_email) == (REP["rep_name"], REP["rep_email"])
    assert second.person_key != first.person_key
    with pytest.raises(BookingError) as refused:  # the same neighbour again, through someone else
        book(session, PADRON, OAC, ten + timedelta(hours=1), person(
            name="Vecino Uno", document="44444444A", **{**REP, "rep_name": "Su hijo", "rep_email": "hijo@example.org"}),
            now=clock.now)
    session.rollback()
    assert refused.value.errors == {"person": "limit_procedure"}
    sent = session.exec(select(MailOutbox.recipient, MailOutbox.key)).all()  # both get the notices
    assert sorted(sent) == sorted([("ana@example.com", f"booked:{first.id}"),
                                   ("laura@example.org", f"booked:{first.id}:representative"),
                                   ("laura@example.org", f"booked:{second.id}:representative")])
    cancel(session, first, now=clock.now)
    session.commit()
    assert {r for r, k in session.exec(select(MailOutbox.recipient, MailOutbox.key)) if k.startswith("cancelled")} \
        == {"ana@example.com", "laura@example.org"}


@pytest.mark.parametrize("changes, errors", [
    ({"rep_consent": False}, {"rep_consent": "rep_consent"}),
    ({"rep_email": "", "rep_phone": ""}, {"rep_email": "rep_contact"}),
    ({"rep_name": "", "rep_phone": "12"}, {"rep_name": "required", "rep_phone": "phone"}),
])
def test_a_representative_gives_a_name_a_contact_and_the_persons_consent(session, clock, ten, changes, errors):
    with pytest.raises(BookingError) as refused:
        book(session, PADRON, OAC, ten, person(**{**REP, **changes}), now=clock.now)
    session.rollback()
    assert refused.value.errors == errors


def test_two_procedures_in_one_visit_take_the_summed_length(session, clock, ten):
    appt = book(session, CAMBIO, OAC, ten, person(also=[CERTIFICADO]), now=clock.now)
    session.commit()
    (then,) = visits.rows_of(session, appt)
    certificado = session.exec(select(Procedure).where(Procedure.slug == CERTIFICADO)).one()
    assert (then.procedure_id, then.starts_at, then.name) == (certificado.id, ten + timedelta(minutes=15), appt.name)
    _, ids, minutes = visits.summary(appt, [then], {appt.procedure_id: 15, certificado.id: 15})
    assert minutes == 30 and ids == [appt.procedure_id, certificado.id]
    assert slot_of(session, ten + timedelta(minutes=15), clock, procedure=CERTIFICADO, office=OAC).free == 0
    later = ten + timedelta(hours=1)
    reschedule(session, appt, OAC, later, now=clock.now)  # moved together
    session.commit()
    moved = session.get(Appointment, then.id)
    assert (moved.procedure_id, moved.starts_at) == (certificado.id, later + timedelta(minutes=15))
    assert slot_of(session, ten + timedelta(minutes=15), clock, procedure=CERTIFICADO, office=OAC).free == 1


def test_a_visit_whose_next_procedure_has_too_few_seats_books_nothing(session, clock, ten):
    with pytest.raises(BookingError) as refused:  # two people, the certificate's one desk
        book(session, CAMBIO, OAC, ten, person(people=family(2), also=[CERTIFICADO]), now=clock.now)
    session.rollback()
    assert refused.value.errors == {"slot": "visit_taken"} and count(session) == 0
    with pytest.raises(BookingError) as refused:  # the padrón takes 20 minutes: no certificate starts at 10:20
        book(session, PADRON, OAC, ten, person(also=[CERTIFICADO]), now=clock.now)
    session.rollback()
    assert refused.value.errors == {"slot": "visit_taken"} and count(session) == 0
    with pytest.raises(BookingError) as refused:
        book(session, PADRON, OAC, ten, person(also=["cita-trabajador-social"]), now=clock.now)
    session.rollback()
    assert refused.value.errors == {"also": "not_at_office"}


def test_the_api_books_a_family_shows_its_people_and_refuses_with_messages(api, engine):
    slot = free_slot(api, office=OAC, seats=3)
    answer = post_booking(api, slot["start"], new_key(), office=OAC, people=family(3))
    assert answer.status_code == 201, answer.text
    body = answer.json()
    assert body["people"] == ["Ana García López", "Hija 2", "Hija 3"] and body["also"] == []
    assert free_at(api, slot["start"], office=OAC) == 0
    ics = api.get(body["ics_url"])
    assert ics.status_code == 200 and "Hija 3" in ics.text
    other = free_slot(api, office=OAC, seats=3)
    refused = post_booking(api, other["start"], new_key(), office=OAC, people=[{"name": "", "document": "12345678Z"}])
    assert refused.status_code == 422 and refused.json()["codes"] == {"name_2": "required",
                                                                       "document_2": "same_person"}
    assert refused.json()["errors"]["document_2"] == gettext("es", ERRORS["same_person"])  # translated
    too_many = post_booking(api, other["start"], new_key(), office=OAC, people=family(10))
    assert too_many.status_code == 422


def test_the_api_shows_a_visit_of_two_procedures_with_both_checklists(api):
    slot = free_slot(api, procedure=CAMBIO, office=OAC, seats=3)
    answer = post_booking(api, slot["start"], new_key(), procedure=CAMBIO, office=OAC, also=[CERTIFICADO])
    assert answer.status_code == 201, answer.text
    body = answer.json()
    assert body["minutes"] == 30 and len(body["also"]) == 1 and body["also"][0]["requirements"] and body["end"]
    event = Calendar.from_ical(api.get(body["ics_url"]).content).walk("VEVENT")[0]
    assert event["DTEND"].dt - event["DTSTART"].dt == timedelta(minutes=30)


@pytest.mark.slow
def test_on_postgresql_families_racing_for_one_time_never_overbook(pg_engine, clock):
    """Four families of two at once for a time of three seats (the advisory locks of each person and the slot):
    one family gets two seats, the others hear it is full; no half family, no unique-index error."""
    start = clock.at(2026, 12, 2, 10, 0)
    documents = iter(["44444444A", "55555555K", "66666666Q", "77777777B", "88888888Y", "99999999R", "12345678Z",
                      "87654321X"])
    raws = [person(document=next(documents), people=[{"name": "Hijo", "document": next(documents)}])
            for _ in range(4)]
    barrier, outcomes = threading.Barrier(4), []

    def attempt(raw):
        with Session(pg_engine, expire_on_commit=False) as s:
            barrier.wait()
            try:
                book(s, PADRON, OAC, start, raw, now=clock.now)
                s.commit()
                outcomes.append("ok")
            except BookingError as exc:
                s.rollback()
                outcomes.append(exc.errors["slot"])

    threads = [threading.Thread(target=attempt, args=(raw,)) for raw in raws]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert sorted(outcomes) == ["ok", "party_taken", "party_taken", "party_taken"]
    with Session(pg_engine) as s:
        rows = s.exec(select(Appointment).where(Appointment.starts_at == start)).all()
        assert sorted(r.seat for r in rows) == [1, 2]
        first = next(r for r in rows if r.visit_of is None)
        cancel(s, first, now=clock.now)  # the whole visit, on PostgreSQL too
        s.commit()
        assert {r.seat for r in s.exec(select(Appointment))} == {None}


def test_erasing_the_visits_personal_data_erases_everyone_and_the_representative(session, clock, ten):
    appt = book(session, PADRON, OAC, ten, person(people=family(2), **REP), now=clock.now)
    session.commit()
    forget_appointment(session, appt, now=clock.now)
    session.commit()
    rows = session.exec(select(Appointment)).all()
    assert len(rows) == 2 and {(r.status, r.name, r.document, r.person_key, r.representative_name,
                                r.representative_email) for r in rows} == {("cancelled", "", "", "", "", "")}
