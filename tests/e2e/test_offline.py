"""Offline: after one visit to the home page, every citizen page opens without network, and a booking made
offline (or while the server is down) is sent exactly once when it can be, then confirmed or re-offered."""

import re

from playwright.sync_api import expect

from pwa_app.appointments import booking
from pwa_app.common.times import to_utc
from tests.e2e.conftest import ROOT

PROCEDURE = "cambio-domicilio-padron"


def install(page):
    """One online visit to the home page: the service worker takes control and the data is saved."""
    page.goto("/es/")
    page.wait_for_function("() => navigator.serviceWorker && navigator.serviceWorker.controller !== null",
                           timeout=60_000)
    page.wait_for_selector("html[data-saved]", state="attached", timeout=60_000)


def fill_booking(page, name, document):
    page.goto(f"/es/reservar/?p={PROCEDURE}")
    page.get_by_role("button", name=re.compile("Oficina de Atención a la Ciudadanía")).click()
    page.locator("button.day.open").first.click()
    page.locator("button.time:not([disabled])").first.click()
    page.get_by_label("Nombre y apellidos").fill(name)
    page.get_by_label(re.compile("DNI, NIE")).fill(document)
    page.locator("#field-consent").check()


def test_every_page_opens_offline(page, context, shot):
    install(page)
    context.set_offline(True)
    page.goto("/es/tramite/?p=alta-padron")
    expect(page.get_by_text("No tiene conexión")).to_be_visible()
    expect(page.get_by_role("heading", level=1)).to_have_text(re.compile("Alta en el padrón"))
    expect(page.locator(".checklist li")).not_to_have_count(0)
    shot(page, "checklist-offline")
    page.get_by_role("link", name="Mis citas").first.click()
    expect(page.get_by_role("heading", name="Mis citas")).to_be_visible()
    page.get_by_role("link", name="Trámites").first.click()
    expect(page.get_by_role("link", name=re.compile("Licencia de obra menor"))).to_be_visible()
    for path in ("/en/", "/en/tramite/?p=vado-permanente", "/en/mis-citas/", f"/en/reservar/?p={PROCEDURE}",
                 "/es/cita/?c=NOTSAVED00"):
        page.goto(path)
        expect(page.get_by_role("heading", level=1).or_(page.get_by_role("alert")).first).to_be_visible()
    # The calendar of a procedure never opened online comes from the data saved by the home page.
    page.goto("/en/reservar/?p=certificado-empadronamiento")
    page.locator("button.choice").first.click()
    expect(page.locator("button.day.open").first).to_be_visible()
    # ... saved in Spanish (the home page was Spanish): the page says so.
    expect(page.locator(".month-label")).to_have_text(re.compile(r"^[a-zñ]+ de 20\d\d$"))
    expect(page.get_by_text("Part of this information is not available in your language yet.")).to_be_visible()
    shot(page, "calendar-offline")


def test_only_the_languages_read_are_stored(page):
    """The service worker installs the shell; the pages of the language read (and the browser's, English here)
    are stored when a page asks; no other language's."""
    install(page)
    stored = page.evaluate("""async () => {
        const pages = await (await caches.open("cita-pages")).keys();
        const shell = (await Promise.all((await caches.keys()).filter((n) => n.includes("precache"))
            .map(async (n) => (await caches.open(n)).keys()))).flat();
        return [pages.map((r) => new URL(r.url).pathname), shell.map((r) => new URL(r.url).pathname)];
    }""")
    pages, shell = stored
    assert {p.split("/")[1] for p in pages} == {"es", "en", "assets"}, sorted(pages)[:20]
    assert {"/es/", "/es/reservar/", "/en/tramite/"} <= set(pages)
    assert not any(p.startswith("/assets/_fr_") for p in pages)
    assert not [p for p in shell if p.startswith(("/es/", "/assets/_es_", "/ar/"))]


def test_booking_made_offline_is_sent_once_when_online(page, context, app_server, shot):
    install(page)
    context.set_offline(True)
    fill_booking(page, "Lucía Offline Prieto", "00000000T")
    page.get_by_role("button", name="Confirmar la reserva").click()
    expect(page.locator(".pending")).to_contain_text("Pendiente")
    expect(page.get_by_text(re.compile("pendientes de envío"))).to_be_visible()
    shot(page, "pending")
    assert app_server.appointments(name="Lucía Offline Prieto") == []
    context.set_offline(False)
    expect(page.get_by_role("heading", name="Cita reservada")).to_be_visible(timeout=15_000)
    shot(page, "confirmed")
    page.wait_for_timeout(6_000)  # the outbox timer has run again: nothing more is sent
    assert len(app_server.appointments(name="Lucía Offline Prieto")) == 1


def test_time_taken_meanwhile_offers_alternatives(page, context, app_server, shot):
    install(page)
    context.set_offline(True)
    fill_booking(page, "Jorge Conflicto Sanz", "11111111H")
    start = page.evaluate("""() => new Promise((ok) => {
        const r = indexedDB.open("cita"); r.onsuccess = () => {
          const q = r.result.transaction("kv").objectStore("kv").get("draft:%s");
          q.onsuccess = () => ok(q.result.start); };
      })""" % PROCEDURE)
    page.get_by_role("button", name="Confirmar la reserva").click()
    expect(page.locator(".pending")).to_contain_text("Pendiente")
    # Meanwhile other people take every seat of that time.
    from datetime import datetime

    with app_server.session() as s:
        for n, doc in enumerate(("22222222J", "33333333P", "44444444A")):
            try:
                booking.book(s, PROCEDURE, "oac-casa-consistorial", to_utc(datetime.fromisoformat(start)),
                             {"name": f"Otra persona {n}", "document": doc, "consent": True})
                s.commit()
            except booking.BookingError:
                s.rollback()
    context.set_offline(False)
    expect(page.get_by_role("heading", name="Horas libres más cercanas")).to_be_visible(timeout=15_000)
    shot(page, "alternatives")
    page.locator("button.choice").first.click()
    expect(page.get_by_role("heading", name="Cita reservada")).to_be_visible(timeout=15_000)
    [mine] = app_server.appointments(name="Jorge Conflicto Sanz")
    assert mine.starts_at != to_utc(datetime.fromisoformat(start))


def test_server_down_then_back(page, context, app_server):
    install(page)
    fill_booking(page, "Ana Servidor Caído", "55555555K")
    page.route("**/api/v1/appointments", lambda route: route.abort("connectionrefused"))
    page.get_by_role("button", name="Confirmar la reserva").click()
    expect(page.locator(".pending")).to_contain_text("no se puede contactar", timeout=10_000)
    assert app_server.appointments(name="Ana Servidor Caído") == []
    page.unroute("**/api/v1/appointments")
    # No "online" event comes: the outbox timer sends it.
    expect(page.get_by_role("heading", name="Cita reservada")).to_be_visible(timeout=30_000)
    assert len(app_server.appointments(name="Ana Servidor Caído")) == 1


def test_lost_response_and_two_tabs_book_once(page, context, app_server):
    install(page)
    context.set_offline(True)
    fill_booking(page, "Pablo Dos Pestañas", "66666666Q")
    page.get_by_role("button", name="Confirmar la reserva").click()
    expect(page.locator(".pending")).to_contain_text("Pendiente")
    second = context.new_page()
    second.goto("/es/mis-citas/")
    expect(second.locator(".tag-pending")).to_be_visible()

    # The first answer is lost on the way back: the server booked, the phone never heard.
    lost = []

    def lose_answer(route):
        route.fetch()
        lost.append(1)
        route.abort("connectionreset")

    for tab in (page, second):
        tab.route("**/api/v1/appointments", lambda route: lose_answer(route) if not lost else route.continue_())
    context.set_offline(False)
    expect(page.get_by_role("heading", name="Cita reservada")).to_be_visible(timeout=30_000)
    assert lost == [1]
    assert len(app_server.appointments(name="Pablo Dos Pestañas")) == 1


def test_new_version_is_offered(page, context):
    install(page)
    sw = ROOT / ".web" / "build" / "client" / "sw.js"
    original = sw.read_text()
    # A new deployment: another service worker (the server prefers its precompressed twins: set them aside).
    twins = [sw.with_name(sw.name + ext) for ext in (".gz", ".br")]
    for twin in twins:
        twin.rename(twin.with_suffix(twin.suffix + ".bak"))
    try:
        sw.write_text(original + "\n// a new deployment\n")
        page.evaluate("navigator.serviceWorker.getRegistration().then((r) => r.update())")
        expect(page.get_by_text("Hay una nueva versión de Cita")).to_be_visible(timeout=15_000)
        page.get_by_role("button", name="Actualizar ahora").click()
        page.wait_for_load_state()
        expect(page.get_by_text("Hay una nueva versión de Cita")).to_be_hidden(timeout=15_000)
    finally:
        sw.write_text(original)
        for twin in twins:
            twin.with_suffix(twin.suffix + ".bak").rename(twin)


def test_installable(browser_type, browser_type_launch_args, app_server, tmp_path):
    """Chrome reports no installability errors (a persistent profile: incognito is never installable)."""
    ctx = browser_type.launch_persistent_context(str(tmp_path / "profile"), **browser_type_launch_args)
    try:
        page = ctx.new_page()
        page.goto(app_server.base_url + "/es/")
        page.wait_for_function("() => navigator.serviceWorker.controller !== null", timeout=60_000)
        cdp = ctx.new_cdp_session(page)
        errors = cdp.send("Page.getInstallabilityErrors")["installabilityErrors"]
        assert errors == [], errors
        manifest = cdp.send("Page.getAppManifest")
        assert not manifest.get("errors"), manifest["errors"]
    finally:
        ctx.close()
