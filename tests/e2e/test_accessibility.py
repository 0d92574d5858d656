"""The accessibility statement (RD 1112/2018): one prerendered page per language, linked from every citizen
page's footer, with the town hall's contact from the saved catalogue; it opens offline after one visit to the
home page, and in Arabic (right to left) once the citizen has chosen Arabic online (each language is stored on the
device when chosen)."""

import re

from playwright.sync_api import expect

from tests.e2e.test_offline import install


def test_statement_is_linked_from_the_footer_and_opens_offline(page, context, shot):
    install(page)
    page.goto("/es/mis-citas/")
    page.locator("#footer-accessibility").click()
    expect(page).to_have_url(re.compile(r"/es/accesibilidad/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Declaración de accesibilidad")
    expect(page.get_by_text(re.compile("parcialmente conforme"))).to_be_visible()
    expect(page.locator("#a11y-phone")).to_have_text("918 45 20 00")
    shot(page, "accessibility-es")
    page.get_by_role("link", name="العربية").first.click()
    page.wait_for_selector("html[data-stored=ar]", state="attached", timeout=60_000)
    context.set_offline(True)
    page.goto("/ar/accesibilidad/")
    expect(page.get_by_role("heading", level=1)).to_have_text("بيان إمكانية الوصول")
    expect(page.locator("html")).to_have_attribute("dir", "rtl")
    expect(page.get_by_role("heading", name="إجراءات التظلّم")).to_be_visible()
    expect(page.locator("#a11y-phone")).to_have_text("918 45 20 00")  # from the catalogue saved on the device
    shot(page, "accessibility-ar-offline")
    page.goto("/es/accesibilidad/")
    expect(page.get_by_role("heading", name="Procedimiento de aplicación")).to_be_visible()
    expect(page.locator("#footer-accessibility")).to_have_attribute("href", "/es/accesibilidad/")
