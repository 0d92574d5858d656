"""Issue 22, a citizen's first real day: in-page links keep the booking, focus follows each step and result, the
calendar answers the arrow keys, the kept time can be extended, a refused booking says why, Arabic arrows point
outwards."""

import json
import re

from playwright.sync_api import expect

PROCEDURE = "cambio-domicilio-padron"
PHONE_HEIGHT = 844


def focused(page) -> str:
    return page.evaluate("document.activeElement.textContent.trim()")


def focused_in_view(page) -> bool:
    """The focused heading is on screen, high enough for what follows it (the code) to show too."""
    top, bottom = page.evaluate("[document.activeElement.getBoundingClientRect().top, "
                                "document.activeElement.getBoundingClientRect().bottom]")
    assert -2 <= top and bottom <= PHONE_HEIGHT * 0.75, (top, bottom, page.evaluate("scrollY"))  # -2: subpixels
    return True


def fill_details(page, name, document):
    page.locator("#field-name").fill(name)
    page.locator("#field-document").fill(document)
    page.locator("#field-consent").check()


def test_skip_link_mid_booking_keeps_the_booking_and_the_language_link_the_procedure(page, app_server, shot):
    page.goto(f"/en/reservar/?p={PROCEDURE}")
    page.locator("button.choice").first.click()
    page.locator("button.day.open").first.click()
    expect(page.get_by_role("heading", name="Choose a time")).to_be_visible()
    # A keyboard user: the skip link is the first stop; Enter takes focus to the content, the booking stays.
    page.keyboard.press("Shift+Tab")  # from the heading focus moved to, back up the page
    page.locator(".skip-link").focus()
    expect(page.locator(".skip-link")).to_have_attribute("href", re.compile(rf"\?p={PROCEDURE}#main$"))
    shot(page, "skip-link")
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main"
    assert f"?p={PROCEDURE}" in page.url
    expect(page.get_by_role("heading", name="Choose a time")).to_be_visible()
    page.keyboard.press("Tab")  # on from the content: into the booking, not back to the header
    assert page.evaluate("document.activeElement.closest('main') !== null")
    page.locator("button.time:not([disabled])").first.click()
    fill_details(page, "Teclado Saltador", "71234567W")
    page.locator("form button[type=submit]").click()
    expect(page.get_by_role("heading", name="Appointment booked")).to_be_visible()
    assert len(app_server.appointments("booked", "Teclado Saltador")) == 1

    # The header's language link goes to the languages without losing the procedure...
    page.goto(f"/en/tramite/?p={PROCEDURE}")
    title = page.locator("h1").inner_text()
    page.get_by_role("link", name=re.compile("^Language: ")).click()
    assert page.evaluate("document.activeElement.id") == "languages"
    assert f"?p={PROCEDURE}" in page.url
    expect(page.locator("h1")).to_have_text(title)
    # ...and a language keeps it too.
    page.get_by_role("link", name="Español").click()
    expect(page).to_have_url(re.compile(rf"/es/tramite/\?p={PROCEDURE}"))
    expect(page.get_by_role("heading", name="Qué debe llevar")).to_be_visible()
    expect(page.get_by_text("Cargando…")).to_have_count(0)
    # The privacy notice the consent links to, in every language.
    page.goto("/ar/privacidad/")
    expect(page.get_by_role("heading", name="إشعار الخصوصية", level=1)).to_be_visible()
    shot(page, "privacy-ar")


def test_focus_and_view_follow_each_step_and_result(page, app_server, shot):
    page.goto(f"/en/reservar/?p={PROCEDURE}")
    # Which office has the earliest time is said, from the saved availability of each.
    expect(page.locator(".choice .tag", has_text="Earliest")).to_have_count(1, timeout=15_000)
    expect(page.get_by_text("First free time").first).to_be_visible()
    shot(page, "offices")
    page.locator("button.choice").first.click()
    expect(page.locator("h2", has_text="Choose a day")).to_be_focused()
    page.locator("button.day.open").first.click()
    expect(page.locator("h2", has_text="Choose a time")).to_be_focused()
    page.locator("button.time:not([disabled])").first.click()
    expect(page.locator("h2", has_text="Your details")).to_be_focused()
    expect(page.get_by_role("link", name="Read the privacy notice")).to_have_attribute("href", "/en/privacidad/")
    fill_details(page, "Foco Resultado", "72345678Y")
    submit = page.locator("form button[type=submit]")
    page.keyboard.press("Tab")  # from the consent box: the privacy notice link, then the button
    page.keyboard.press("Tab")
    expect(submit).to_be_focused()
    shot(page, "focus-ring")  # the green button, focused: yellow with a black bar
    assert page.evaluate("getComputedStyle(document.activeElement).backgroundColor") == "rgb(255, 221, 0)"
    submit.click()
    # The result: its heading has focus and is in view (not the blank space where the button was).
    booked = page.locator("h2", has_text="Appointment booked")
    expect(booked).to_be_focused()
    assert focused_in_view(page)
    shot(page, "booked")

    page.get_by_role("link", name="See my appointment").click()
    expect(page.get_by_role("heading", name="What to bring")).to_be_visible()
    page.get_by_role("button", name="Cancel appointment").click()
    expect(page.get_by_role("alertdialog")).to_be_focused()
    page.get_by_role("button", name="Yes, cancel it").click()
    expect(page.locator("h2", has_text="Appointment cancelled")).to_be_focused()
    assert focused_in_view(page)
    # Nothing is offered any more for a cancelled appointment: no checklist, no reminders.
    expect(page.get_by_role("heading", name="What to bring")).to_have_count(0)
    expect(page.get_by_text("Notify me about this appointment")).to_have_count(0)
    shot(page, "cancelled")
    assert len(app_server.appointments("cancelled", "Foco Resultado")) == 1


def test_calendar_answers_the_arrow_keys_and_counts_times(page, shot):
    page.goto(f"/en/reservar/?p={PROCEDURE}")
    page.locator("button.choice").first.click()
    stop = page.locator("button.day.open[tabindex='0']")
    expect(stop).to_have_count(1)  # one day in the tab order; the arrows do the rest
    assert page.locator("button.day.open[tabindex='-1']").count() > 2
    stop.focus()
    start = int(focused(page))
    page.keyboard.press("ArrowRight")
    assert int(focused(page)) > start
    page.keyboard.press("ArrowLeft")
    assert int(focused(page)) == start
    page.keyboard.press("End")
    end = int(focused(page))
    page.keyboard.press("Home")
    assert int(focused(page)) <= start <= end
    page.keyboard.press("ArrowDown")
    assert int(focused(page)) > start
    assert page.locator("button.day.open[tabindex='0']").count() == 1  # the tab stop moved with focus
    label = page.evaluate("document.activeElement.getAttribute('aria-label')")
    shot(page, "calendar-keys")
    page.keyboard.press("Enter")
    expect(page.locator("h2", has_text="Choose a time")).to_be_focused()
    times = page.locator("button.time:not([disabled])").count()
    assert label.endswith(f"free times: {times}"), (label, times)  # times, not seats
    # Past the month's last open day, the arrow goes on into the next month.
    page.get_by_role("button", name="Choose another day").click()
    month = page.locator(".month-label").inner_text()
    page.locator("button.day.open").last.focus()
    page.keyboard.press("ArrowRight")
    expect(page.locator(".month-label")).not_to_have_text(month)
    expect(page.locator("button.day.open").first).to_be_focused()


def test_the_kept_time_can_be_extended_before_it_runs_out(page):
    """WCAG 2.2.1 (the e2e hold is 30 s, so the last-minute warning shows at once)."""
    page.goto(f"/en/reservar/?p={PROCEDURE}")
    page.locator("button.choice").first.click()
    page.locator("button.day.open").first.click()
    page.locator("button.time:not([disabled])").first.click()
    clock = page.locator(".hold .clock")
    expect(page.get_by_text("Less than a minute left to confirm.")).to_be_attached()
    page.wait_for_timeout(4_000)

    def seconds() -> int:
        minutes, secs = clock.inner_text().split(":")
        return int(minutes) * 60 + int(secs)

    before = seconds()
    page.get_by_role("button", name="I need more time").click()
    expect(clock).to_have_text(re.compile(r"0:(29|30)"))
    assert seconds() > before


def test_a_refused_booking_says_why_and_an_expired_hold_asks(page, shot):
    """A 429 shows the town hall's reason and time, never "cannot be reached"; the kept time runs out before the
    next try, so the citizen is asked what to do instead of waiting silently."""
    reason = "Too many attempts from this connection in a short time. You can try again at 14:07 (in 40 min)."
    page.route("**/api/v1/appointments", lambda route: route.fulfill(
        status=429, headers={"Retry-After": "2400"}, content_type="application/json",
        body=json.dumps({"errors": {"rate": reason}, "codes": {"rate": "rate_limited"}, "retry_after": 2400})))
    page.goto(f"/en/reservar/?p={PROCEDURE}")
    page.locator("button.choice").first.click()
    page.locator("button.day.open").first.click()
    page.locator("button.time:not([disabled])").first.click()
    fill_details(page, "Rechazo Razonado", "55555555K")
    page.locator("form button[type=submit]").click()
    asking = page.get_by_text("The time we are keeping for you runs out before")
    expect(asking).to_be_visible()
    expect(page.get_by_text(reason)).to_be_visible()
    expect(page.get_by_text("cannot be reached")).to_have_count(0)
    expect(page.get_by_role("link", name=re.compile("Bookings waiting to be sent"))).to_be_visible()
    shot(page, "asks")
    page.get_by_role("button", name="Keep trying this time").click()
    expect(page.locator(".pending")).to_have_text(reason)
    shot(page, "keeps-trying")
    page.get_by_role("button", name="Start a new booking").click()
    expect(page.get_by_role("heading", name="Choose an office")).to_be_visible()


def test_arabic_month_arrows_point_outwards(page, shot):
    page.goto(f"/ar/reservar/?p={PROCEDURE}")
    page.locator("button.choice").first.click()
    previous, following = page.locator(".month-nav").nth(0), page.locator(".month-nav").nth(1)
    expect(previous).to_be_visible()
    assert previous.evaluate("b => getComputedStyle(b).transform") == "none"
    # Right to left: "previous" stands on the right and its arrow points right (the glyph is mirrored by bidi).
    assert previous.bounding_box()["x"] > following.bounding_box()["x"]
    shot(page, "arabic-calendar")
