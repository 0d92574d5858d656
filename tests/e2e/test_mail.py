"""A high-demand booking on a phone waits for the link e-mailed through a real local SMTP server (aiosmtpd, see
conftest.smtp_inbox); opening the link confirms it, and the confirmation mail brings the calendar file."""

import re

from playwright.sync_api import expect

WEDDING = "matrimonio-civil"  # high demand in the demo town hall
NAME, EMAIL = "Lucía Romero Vidal", "lucia.romero@example.com"


def test_high_demand_booking_confirmed_by_the_emailed_link(page, app_server, smtp_inbox, shot):
    page.goto(f"/en/reservar/?p={WEDDING}")
    page.locator("button.day.open").first.click()
    page.locator("button.time:not([disabled])").first.click()
    page.get_by_label("Full name").fill(NAME)
    page.get_by_label("DNI, NIE or passport number").fill("87654321X")
    page.get_by_label(re.compile("I have read the privacy notice")).check()

    # Without an email address: a clear message, nothing stored.
    page.get_by_role("button", name="Confirm booking").click()
    expect(page.get_by_text("This procedure is in high demand: enter your email address.")).to_be_visible()
    assert app_server.appointments(name=NAME) == []

    page.get_by_label("Email", exact=False).fill(EMAIL)
    page.get_by_role("button", name="Confirm booking").click()
    expect(page.get_by_role("heading", name="Check your email to confirm")).to_be_visible()
    expect(page.locator("#confirm-note")).to_contain_text("within 30 minutes")
    expect(page.get_by_role("link", name="Add to my calendar")).to_have_count(0)  # not an appointment yet
    shot(page, "check-your-email")
    [pending] = app_server.appointments("pending", NAME)

    mail = smtp_inbox.wait_for(EMAIL, "Please confirm your appointment")
    text = mail.get_body(("plain",)).get_content()
    link = re.search(r"http://localhost:\d+/en/confirmar/\?t=[\w-]+", text).group(0)
    assert pending.confirm_token in link

    page.goto(link)
    expect(page.get_by_role("heading", name="Appointment confirmed")).to_be_visible()
    expect(page.locator("#booking-code")).to_have_text(pending.code[:5] + "-" + pending.code[5:])
    expect(page.get_by_role("link", name="Add to my calendar")).to_be_visible()
    shot(page, "confirmed")
    assert [a.status for a in app_server.appointments(name=NAME)] == ["booked"]

    booked = smtp_inbox.wait_for(EMAIL, "Appointment booked")
    assert [p.get_filename() for p in booked.iter_attachments()] == ["cita.ics"]
    manage = re.search(r"http://localhost:\d+/en/cita/\?c=\w+&v=\w+", booked.get_body(("plain",)).get_content())
    page.goto(manage.group(0))  # the link to see, change or cancel it
    expect(page.get_by_role("button", name="Cancel appointment")).to_be_visible()
