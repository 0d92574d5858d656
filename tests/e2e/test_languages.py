"""The booking flow in Spanish, Catalan and Arabic (right to left) at a phone viewport; switching language in the
middle keeps the step and what was typed; "/" picks the visitor's language."""

import re

import pytest
from playwright.sync_api import expect

PROCEDURE = "cambio-domicilio-padron"

def to_details(page, lang):
    page.goto(f"/{lang}/reservar/?p={PROCEDURE}")
    page.locator("button.choice").first.click()
    page.locator("button.day.open").first.click()
    page.locator("button.time:not([disabled])").first.click()
    expect(page.locator("#field-name")).to_be_visible()


@pytest.mark.parametrize("lang", ["es", "ca", "ar"])
def test_booking_in_each_language(page, app_server, shot, lang):
    to_details(page, lang)
    assert page.evaluate("document.documentElement.lang") == lang
    assert page.evaluate("document.documentElement.dir") == ("rtl" if lang == "ar" else "ltr")
    expect(page.locator(".steps")).to_be_visible()
    shot(page, "details")
    page.locator("form button[type=submit]").click()  # nothing filled: messages in the page's language
    expect(page.locator("#field-name-error")).to_be_visible()
    assert page.locator("#field-name-error").inner_text() not in ("", "This field is required.")
    page.locator("#field-name").fill(f"Prueba {lang}")
    # One person per language: a person may hold one active appointment per procedure.
    page.locator("#field-document").fill({"es": "12345678Z", "ca": "23456789D", "ar": "34567890V"}[lang])
    page.locator("#field-consent").check()
    page.locator("form button[type=submit]").click()
    expect(page.locator("#booking-code")).to_be_visible(timeout=15_000)
    assert page.locator("main").evaluate("(m) => getComputedStyle(m).direction") == ("rtl" if lang == "ar" else "ltr")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    shot(page, "booked")
    assert len(app_server.appointments(name=f"Prueba {lang}")) == 1


def test_switching_language_keeps_step_and_data(page, shot):
    to_details(page, "es")
    page.locator("#field-name").fill("Nour El Amrani")
    page.locator("#field-phone").fill("612 345 678")
    page.get_by_role("link", name="العربية").click()
    page.wait_for_url(f"**/ar/reservar/?p={PROCEDURE}")
    expect(page.locator("#field-name")).to_have_value("Nour El Amrani")
    expect(page.locator("#field-phone")).to_have_value("612 345 678")
    expect(page.locator("html")).to_have_attribute("dir", "rtl")
    shot(page, "arabic-details")
    page.get_by_role("link", name="Català").click()
    expect(page.locator("#field-name")).to_have_value("Nour El Amrani")
    expect(page.locator("html")).to_have_attribute("lang", "ca")


def test_root_sends_to_the_browser_language(browser, app_server):
    for locale, expected in (("ca-ES", "/ca/"), ("ar-MA", "/ar/"), ("de-DE", "/es/")):
        ctx = browser.new_context(locale=locale, base_url=app_server.base_url)
        page = ctx.new_page()
        page.goto("/")
        page.wait_for_url(f"**{expected}")
        ctx.close()


@pytest.mark.parametrize("lang, script", [("ar", r"[\u0600-\u06FF]"), ("zh", r"[\u4E00-\u9FFF]"),
                                          ("uk", r"[\u0400-\u04FF]")])
def test_the_procedure_page_is_all_in_the_citizens_language(page, shot, lang, script):
    """Every content text (not just the frame) is in the page's language: no "shown in Spanish" note, and each
    paragraph, checklist item and office text is written in the language's own script (Spanish desk terms such as
    padrón may stand inside it, explained)."""
    page.goto(f"/{lang}/tramite/?p=alta-padron")
    expect(page.locator(".checklist li")).not_to_have_count(0)
    expect(page.locator("main .notice")).to_have_count(0)
    texts = page.locator("main h1, main .lead, .summary .row:nth-child(-n+2) dd, .check-text, .checklist .hint, "
                         ".office h3, .office p.muted")
    assert texts.count() >= 10
    for text in texts.all_inner_texts():
        assert re.search(script, text), text
    if lang == "ar":
        assert page.locator("main .lead").evaluate("(p) => getComputedStyle(p).direction") == "rtl"
    shot(page, "procedure")
