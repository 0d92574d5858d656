"""A citizen on a phone finds a procedure, books, finds the booking again, moves it and cancels it."""

import re

from playwright.sync_api import expect
from tests.e2e.conftest import wait_hydrated

PROCEDURE = "cambio-domicilio-padron"


def pick_first_time(page):
    page.locator("button.day.open").first.click()
    page.locator("button.time:not([disabled])").first.click()


NAME = "María José Fernández Ruiz"


def test_find_book_reschedule_cancel(page, app_server, shot):
    before = len(app_server.appointments())
    page.goto("/en/")
    expect(page.get_by_role("heading", name="Appointments and procedures")).to_be_visible()
    page.get_by_label("What do you need to do?").fill("address")
    expect(page.get_by_role("link", name=re.compile("Change of address"))).to_be_visible()
    shot(page, "search")
    page.get_by_role("link", name=re.compile("Change of address")).click()

    # The checklist: a tick is remembered on the device.
    expect(page.get_by_role("heading", name="What to bring")).to_be_visible()
    page.get_by_label(re.compile("Original, valid DNI")).check()
    expect(page.get_by_text("Ready: 1 / 5")).to_be_visible()
    shot(page, "procedure")
    page.reload()
    expect(page.get_by_label(re.compile("Original, valid DNI"))).to_be_checked()

    page.get_by_role("link", name="Book an appointment").click()
    page.get_by_role("button", name=re.compile("Citizen Service Office")).click()
    shot(page, "calendar")
    page.locator("button.day.open").first.click()
    shot(page, "times")
    page.locator("button.time:not([disabled])").first.click()

    # Bad input: messages next to the fields, nothing stored.
    page.get_by_label("Full name").fill("<script>alert(1)</script>")
    page.get_by_label("DNI, NIE or passport number").fill("12345678A")
    page.get_by_role("button", name="Confirm booking").click()
    expect(page.get_by_text("Please use only letters, numbers")).to_be_visible()
    expect(page.get_by_text("The letter does not match the number")).to_be_visible()
    expect(page.get_by_text("To book, please accept the privacy notice.")).to_be_visible()
    shot(page, "errors")
    assert len(app_server.appointments()) == before

    page.get_by_label("Full name").fill(NAME)
    page.get_by_label("DNI, NIE or passport number").fill("12345678z")
    page.get_by_label(re.compile("I have read the privacy notice")).check()
    page.get_by_role("button", name="Confirm booking").click()
    expect(page.get_by_role("heading", name="Appointment booked")).to_be_visible()
    code = page.locator("#booking-code").inner_text()
    assert re.fullmatch(r"[0-9A-Z]{5}-[0-9A-Z]{5}", code)
    shot(page, "confirmation")
    [booked] = app_server.appointments("booked", NAME)
    assert booked.document == "12345678Z"

    # The calendar file is offered for download.
    with page.expect_download() as download:
        page.get_by_role("link", name="Add to my calendar").click()
    assert download.value.suggested_filename.endswith(".ics")

    # My appointments lists it; its page shows it.
    page.get_by_role("link", name="My appointments").first.click()
    page.get_by_role("link", name=re.compile("Change of address")).click()
    expect(page.get_by_text(code)).to_be_visible()
    shot(page, "my-appointment")

    # Change the time: the code stays, the old seat is free again.
    old_start = booked.starts_at
    page.get_by_role("link", name="Change the time").click()
    page.locator("button.day.open").nth(1).click()
    shot(page, "move-times")
    page.locator("button.time:not([disabled])").last.click()
    page.get_by_role("button", name="Move it to this time").click()
    expect(page.get_by_role("heading", name="Appointment moved")).to_be_visible()
    expect(page.locator("#booking-code")).to_have_text(code)
    shot(page, "moved")
    [moved] = app_server.appointments("booked", NAME)
    assert moved.id == booked.id and moved.starts_at != old_start

    # Cancel, with a confirmation step.
    page.get_by_role("link", name="See my appointment").click()
    page.get_by_role("button", name="Cancel appointment").click()
    shot(page, "confirm-cancel")
    page.get_by_role("button", name="Yes, cancel it").click()
    expect(page.get_by_text("Cancelled", exact=True)).to_be_visible()
    shot(page, "cancelled")
    [cancelled] = app_server.appointments("cancelled", NAME)
    assert cancelled.seat is None


def test_find_a_booking_from_another_device(page, app_server, browser, shot):
    # Book on one phone...
    page.goto(f"/es/reservar/?p={PROCEDURE}")
    page.locator("button.choice").first.click()
    pick_first_time(page)
    page.locator("#field-name").fill("Ahmed Benali")
    page.locator("#field-document").fill("X1234567L")
    page.locator("#field-consent").check()
    page.locator("form button[type=submit]").click()
    code = page.locator("#booking-code").inner_text()

    # ...and look it up on another, by code and the last four characters of the document.
    fresh = browser.new_context(viewport={"width": 360, "height": 740}, is_mobile=True, has_touch=True,
                                base_url=page.url.split("/es/")[0])
    phone = wait_hydrated(fresh.new_page())
    phone.goto("/en/mis-citas/")
    expect(phone.get_by_text("There are no appointments saved on this device.")).to_be_visible()
    phone.get_by_label("Booking code").fill(code.lower())
    phone.get_by_label("Last four characters of your document or phone").fill("999X")
    phone.get_by_role("button", name="Find my booking").click()
    expect(phone.get_by_text("We could not find a booking")).to_be_visible()
    phone.get_by_label("Last four characters of your document or phone").fill("567L")
    phone.get_by_role("button", name="Find my booking").click()
    expect(phone.get_by_role("link", name=re.compile("Change of address"))).to_be_visible()
    shot(phone, "found")
    assert phone.evaluate("document.documentElement.scrollWidth") <= 360
    fresh.close()


def test_picked_time_is_held_with_a_countdown_then_released(page, app_server, shot):
    page.goto(f"/en/reservar/?p={PROCEDURE}")
    page.locator("button.choice").first.click()
    page.locator("button.day.open").first.click()
    page.locator("button.time:not([disabled])").first.click()
    hold = page.locator(".hold")
    expect(hold).to_contain_text("We are keeping this time for you")
    first = hold.locator(".clock").inner_text()
    page.wait_for_timeout(2_000)
    assert hold.locator(".clock").inner_text() != first  # it counts down
    shot(page, "countdown")
    # Nobody else can take the seat meanwhile: the slot shows one seat less.
    # Then the citizen waits too long: the time goes back to others and fresh choices are offered.
    expect(page.get_by_text("The time we kept for you has run out")).to_be_visible(timeout=40_000)
    expect(page.locator("button.time").first).to_be_visible()
    shot(page, "hold-expired")
    # Booking a held time goes through with the hold.
    page.locator("button.time:not([disabled])").first.click()
    page.locator("#field-name").fill("Hold Test")
    page.locator("#field-document").fill("87654321X")
    page.locator("#field-consent").check()
    page.locator("form button[type=submit]").click()
    expect(page.get_by_role("heading", name="Appointment booked")).to_be_visible(timeout=15_000)
    assert len(app_server.appointments(name="Hold Test")) == 1


def test_citizen_deletes_the_personal_data_of_their_booking(page, app_server):
    page.goto(f"/en/reservar/?p={PROCEDURE}")
    page.locator("button.choice").first.click()
    pick_first_time(page)
    page.locator("#field-name").fill("Forget Me")
    page.locator("#field-document").fill("61616161N")  # its own: test_offline books 11111111H
    page.locator("#field-consent").check()
    page.locator("form button[type=submit]").click()
    page.get_by_role("link", name="See my appointment").click()
    page.get_by_role("button", name="Delete my personal data").click()
    page.get_by_role("button", name="Yes, delete my data").click()
    expect(page.get_by_text("This appointment is not saved on this device.")).to_be_visible(timeout=15_000)
    assert app_server.appointments(name="Forget Me") == []
    assert [a for a in app_server.appointments(status="cancelled") if a.document == "61616161N"] == []
