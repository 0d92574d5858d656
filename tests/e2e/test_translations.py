"""Staff keep the translations alive, on a tablet: an administrator changes the Spanish summary of a procedure,
sees its nine other languages marked to review (the procedures page says so, the translations page tags each
one, the report counts them, citizens get the Spanish with the note), confirms one, then exports the Arabic
texts as .po, translates the summary in the file and imports it back through the page."""

import json
import re
import urllib.request

from babel.messages.pofile import read_po, write_po
from playwright.sync_api import expect

from tests.e2e.test_staff import ADMIN, accounts, sign_in, tablet  # noqa: F401  (fixture)

SLUG = "objetos-perdidos"
NEW = "Pregunte si alguien ha entregado lo que perdió en el municipio y recójalo en la OAC, sin cita."
ARABIC = "اسأل إن كان أحد قد سلّم ما فقدته في البلدية، واستلمه من مكتب خدمة المواطنين دون موعد."


def catalogue_entry(app_server, lang: str) -> dict:
    with urllib.request.urlopen(f"{app_server.base_url}/api/v1/procedures?lang={lang}", timeout=30) as answer:
        return next(p for p in json.loads(answer.read())["procedures"] if p["slug"] == SLUG)


def edit_summary(browser, app_server, procedure: str, summary: str):
    """An administrator, on a tablet, gives a procedure a new Spanish summary."""
    context, page, errors = tablet(browser, app_server)
    sign_in(page, ADMIN, "/staff/ajustes/tramites/")
    page.get_by_label("Trámite", exact=True).select_option(label=procedure)
    expect(page.locator("#staff-proc-name")).to_have_value(procedure)
    page.locator("#staff-proc-summary").fill(summary)
    page.get_by_role("button", name="Guardar trámite").click()
    return context, page, errors


def test_a_spanish_edit_marks_the_translations_to_review_and_a_po_round_trip_updates_them(browser, accounts, shot,
                                                                                      tmp_path):
    app_server = accounts
    context, page, errors = edit_summary(browser, app_server, "Objetos perdidos", NEW)
    expect(page.locator("#staff-proc-stale")).to_contain_text("9 traducciones por revisar")
    shot(page, "procedure-stale")
    assert catalogue_entry(app_server, "en")["summary"] == NEW  # citizens: the Spanish, with the note
    assert catalogue_entry(app_server, "en")["fallback"] is True

    page.locator("#staff-proc-stale").get_by_role("link", name="Revisarlas").click()
    expect(page.locator("#staff-tr-item")).to_have_value(re.compile(r"^procedure:\d+$"))
    expect(page.locator("#staff-tr-form")).to_contain_text(NEW)
    expect(page.locator("#staff-tr-form .staff-tag", has_text="Por revisar")).to_have_count(9)
    expect(page.locator("#staff-tr-report tr", has_text="English (en)")).to_contain_text("1")
    shot(page, "translations-stale")
    page.locator("#staff-tr-summary__en").fill("Ask whether someone handed in what you lost in town, and collect it "
                                              "at the OAC, no appointment needed.")
    page.get_by_label("Revisada: sigue siendo correcta").first.check()  # the first stale one shown: Català
    page.get_by_role("button", name="Guardar traducciones").click()
    expect(page.get_by_role("status").filter(has_text="Traducciones guardadas: 2 cambios")).to_be_visible()
    expect(page.locator("#staff-tr-form .staff-tag", has_text="Por revisar")).to_have_count(7)
    assert catalogue_entry(app_server, "en")["fallback"] is False
    shot(page, "translations-saved")

    # The agency's round trip: export Arabic, translate the summary, import the file back.
    with page.expect_download() as download:
        page.get_by_role("link", name=re.compile(r"\(ar\)")).click()
    catalog = read_po(open(download.value.path(), "rb"))
    message = next(m for m in catalog if m.id == NEW)
    assert message.fuzzy
    message.string, message.flags = ARABIC, set()
    edited = tmp_path / "ar.po"
    with open(edited, "wb") as f:
        write_po(f, catalog)
    page.locator("#staff-tr-file").set_input_files(str(edited))
    page.get_by_role("button", name="Importar").click()
    expect(page.get_by_role("status").filter(has_text="Archivo importado")).to_contain_text("1 cambiadas")
    shot(page, "translations-imported")
    arabic = catalogue_entry(app_server, "ar")
    assert arabic["summary"] == ARABIC and arabic["fallback"] is False

    # A file that is not a catalogue is refused with a clear message.
    bad = tmp_path / "bad.po"
    bad.write_text("Nombre;Name\n")
    page.locator("#staff-tr-file").set_input_files(str(bad))
    page.get_by_role("button", name="Importar").click()
    expect(page.get_by_role("alert")).to_contain_text("no es un catálogo .po válido")
    assert not errors
    context.close()


VADO = "Solicite la placa de vado para reservar la entrada de vehículos a su garaje."
VADO_NEW = "Pida la placa de vado: reserva la entrada de vehículos a su garaje las 24 horas."


def test_the_home_page_shows_the_catalogue_it_was_built_with_then_a_staff_edit_made_after(browser, accounts):
    """The catalogue is in the prerendered page (shown with no script at all), as are the request form's types; a
    staff edit made after the build reaches the page online, revalidated in the background."""
    app_server = accounts
    with urllib.request.urlopen(f"{app_server.base_url}/es/", timeout=30) as answer:
        built = answer.read().decode()
    assert VADO in built and "Licencia de vado permanente" in built and "Villanueva del Pinar" in built
    with urllib.request.urlopen(f"{app_server.base_url}/ar/solicitud/nueva/", timeout=30) as answer:
        form = answer.read().decode()
    assert form.count('class="choice"') >= 3  # the request types, in the page before any script
    no_script = browser.new_context(java_script_enabled=False, base_url=app_server.base_url)
    page = no_script.new_page()
    page.goto("/es/")
    expect(page.get_by_role("link", name=re.compile("Licencia de vado permanente"))).to_contain_text(VADO)
    no_script.close()

    context, page, errors = edit_summary(browser, app_server, "Licencia de vado permanente", VADO_NEW)
    expect(page.locator("#staff-proc-stale")).to_contain_text("traducciones por revisar")
    context.close()

    citizen = browser.new_context(base_url=app_server.base_url, locale="es-ES")
    page = citizen.new_page()
    page.goto("/es/")
    expect(page.get_by_role("link", name=re.compile("Licencia de vado permanente"))).to_contain_text(VADO_NEW,
                                                                                                    timeout=10_000)
    with urllib.request.urlopen(f"{app_server.base_url}/es/", timeout=30) as answer:
        assert VADO in answer.read().decode()  # the page itself is the one built before the edit
    citizen.close()
    assert not errors
