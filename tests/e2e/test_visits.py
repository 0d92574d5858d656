"""Visits on a phone: a family of three books one visit (three seats of one time, one code), and two procedures
are booked in one visit by someone for another person (the visit lasts the sum of both durations)."""

import re
from datetime import datetime, timedelta, timezone

from zoneinfo import ZoneInfo

from icalendar import Calendar
from playwright.sync_api import expect

CAMBIO = "cambio-domicilio-padron"  # 15 minutes, three desks at the OAC
CERTIFICADO = "certificado-empadronamiento"  # 15 minutes, one desk at the OAC
OAC = "oac-casa-consistorial"
MADRID = ZoneInfo("Europe/Madrid")
# Documents no other browser test books with: the per-person limits (one change of address each) are shared.
FAMILY = [("Lucía Moreno Gil", "41414141L"), ("Pablo Moreno Gil", "52525252Z"), ("Irene Moreno Gil", "63636363D")]


def free_seats(page, procedure: str, start: datetime) -> int | None:
    """The seats the shared availability answer offers at one time (what the calendar is built from)."""
    start = start if start.tzinfo else start.replace(tzinfo=timezone.utc)
    answer = page.request.get(f"/api/v1/availability?procedure={procedure}&office={OAC}&lang=en").json()
    return next((s["free"] for d in answer["days"] for s in d["slots"]
                 if datetime.fromisoformat(s["start"]) == start), None)


def test_a_family_of_three_books_one_visit(page, app_server, shot):
    page.goto(f"/en/reservar/?p={CAMBIO}")
    page.get_by_role("button", name=re.compile("Citizen Service Office")).click()
    page.get_by_label("Number of people").select_option("3")
    shot(page, "party")
    page.locator("button.day.open").first.click()
    page.locator("button.time:not([disabled])").first.click()
    expect(page.get_by_text("People: 3")).to_be_visible()

    # Each person: a name and a document; a document repeated is refused on the phone or by the town hall.
    for n, (name, document) in enumerate(FAMILY, 1):
        suffix = "" if n == 1 else f"_{n}"
        page.locator(f"#field-name{suffix}").fill(name)
        page.locator(f"#field-document{suffix}").fill(document)
    page.locator("#field-document_3").fill("")
    page.locator("#field-consent").check()
    page.get_by_role("button", name="Confirm booking").click()
    expect(page.locator("#field-document_3-error")).to_have_text("This field is required.")
    shot(page, "person-3-missing")
    page.locator("#field-document_3").fill(FAMILY[2][1])
    page.get_by_role("button", name="Confirm booking").click()

    expect(page.get_by_role("heading", name="Appointment booked")).to_be_visible()
    expect(page.get_by_text(", ".join(n for n, _ in FAMILY))).to_be_visible()
    shot(page, "booked")
    rows = [a for a in app_server.appointments("booked") if a.name in {n for n, _ in FAMILY}]
    assert len(rows) == 3 and len({(a.starts_at, a.seat) for a in rows}) == 3
    assert len({a.starts_at for a in rows}) == 1
    first = next(a for a in rows if a.visit_of is None)
    assert {a.visit_of for a in rows} == {None, first.id}
    assert free_seats(page, CAMBIO, first.starts_at) == 0  # three seats gone

    # The calendar of a new booking shows that time full; the appointment page lists the three people.
    page.get_by_role("button", name="Start a new booking").click()
    page.get_by_role("button", name=re.compile("Citizen Service Office")).click()
    page.get_by_label("Number of people").select_option("1")
    local = first.starts_at.replace(tzinfo=first.starts_at.tzinfo or timezone.utc).astimezone(MADRID)
    page.locator("button.day.open").get_by_text(str(local.day), exact=True).click()
    expect(page.locator("button.time").get_by_text(local.strftime("%H:%M"), exact=True)).to_be_disabled()
    shot(page, "calendar-after")
    page.get_by_role("link", name="My appointments").first.click()
    page.get_by_role("link", name=re.compile("Change of address")).first.click()
    expect(page.get_by_text(", ".join(n for n, _ in FAMILY))).to_be_visible()
    shot(page, "appointment-page")


def test_two_procedures_in_one_visit_booked_for_someone_else(page, app_server, shot):
    page.goto(f"/en/reservar/?p={CAMBIO}")
    page.get_by_role("button", name=re.compile("Citizen Service Office")).click()
    page.get_by_text("Add another procedure to the same visit").click()
    page.get_by_label(re.compile("Registration certificate")).check()
    shot(page, "also")
    page.locator("button.day.open").first.click()
    expect(page.get_by_text(re.compile("Also at this visit: Registration certificate"))).to_be_visible()
    page.locator("button.time:not([disabled])").first.click()

    page.get_by_label(re.compile("I am booking for someone else")).check()
    page.locator("#field-name").fill("Dolores Sanz Vidal")
    page.locator("#field-document").fill("74747474G")
    page.locator("#field-rep_name").fill("Marta Sanz (hija)")
    page.locator("#field-consent").check()
    page.get_by_role("button", name="Confirm booking").click()
    expect(page.locator("#field-rep_email-error")).to_be_visible()  # a way to reach the representative
    expect(page.locator("#field-rep_consent-error")).to_be_visible()
    shot(page, "representative-errors")
    page.locator("#field-rep_email").fill("marta@example.org")
    page.locator("#field-rep_consent").check()
    page.get_by_role("button", name="Confirm booking").click()

    expect(page.get_by_role("heading", name="Appointment booked")).to_be_visible()
    expect(page.get_by_text("Marta Sanz (hija)")).to_be_visible()
    expect(page.get_by_role("heading", name=re.compile("Then: Registration certificate"))).to_be_visible()
    shot(page, "booked")
    rows = [a for a in app_server.appointments("booked") if a.name == "Dolores Sanz Vidal"]
    first = next(a for a in rows if a.visit_of is None)
    (then,) = [a for a in rows if a.visit_of == first.id]
    assert then.starts_at - first.starts_at == timedelta(minutes=15)  # the change of address takes 15 minutes
    assert first.representative_email == "marta@example.org"

    ics = page.request.get(page.get_by_role("link", name="Add to my calendar").get_attribute("href"))
    event = Calendar.from_ical(ics.body()).walk("VEVENT")[0]
    assert event["DTEND"].dt - event["DTSTART"].dt == timedelta(minutes=30)  # the summed length
