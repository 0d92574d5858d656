"""Every channel, on a tablet: a front desk books for a caller who has no e-mail (the phone channel), prints the
slip in the caller's language (the print layout is screenshot: tests/e2e/screenshots/counter-slip-print.png), moves
the appointment to another time, finds it by name, downloads the day list and cancels it from the day view; every
step is in the audit trail."""

import csv
import io
import json
import re
import time

from playwright.sync_api import expect
from sqlmodel import select

from tests.e2e.test_staff import DESK, OAC, PROCEDURE, accounts, sign_in, tablet  # noqa: F401  (fixture)


def appointment(app_server, name: str):
    from pwa_app.models import Appointment

    with app_server.session() as s:
        return s.exec(select(Appointment).where(Appointment.name == name)).one()


def audit_actions(app_server, target: str) -> list[str]:
    from pwa_app.models import AuditEvent

    with app_server.session() as s:
        return [e.action for e in s.exec(select(AuditEvent).where(AuditEvent.target == target)
                                         .order_by(AuditEvent.id))]


def test_a_desk_books_for_a_caller_prints_the_slip_moves_and_cancels(browser, accounts, shot):
    app_server = accounts
    context, page, errors = tablet(browser, app_server)
    sign_in(page, DESK, "/staff/reservar/")
    expect(page.get_by_role("heading", name="Reservar para una persona")).to_be_visible()

    # The procedure; the first day with a free time comes up by itself.
    page.get_by_label("Trámite").select_option(PROCEDURE)
    times = page.locator(".staff-time")
    expect(times.first).to_be_visible(timeout=15_000)
    first_time = times.first.text_content().split("·")[0].strip()
    times.first.click()
    expect(page.get_by_role("button", name=f"Reservar a las {first_time}")).to_be_enabled()
    expect(page.get_by_label("Por teléfono")).to_be_checked()
    page.get_by_label("Nombre y apellidos").fill("Rosario Llamada Sin Correo")
    page.get_by_label("Documento (DNI, NIE o pasaporte)").fill("23456789D")
    page.get_by_label("Teléfono", exact=True).fill("612 345 678")
    page.get_by_label("Idioma de la persona").select_option("fr")
    shot(page, "counter-form")
    page.get_by_role("button", name=f"Reservar a las {first_time}").click()

    # The slip, in French, with the code and its QR; nothing mailed (no address).
    expect(page.get_by_role("status")).to_contain_text("Cita reservada", timeout=15_000)
    slip = page.locator("#staff-slip")
    expect(slip.get_by_role("heading", name="Votre rendez-vous")).to_be_visible()
    expect(slip).to_have_attribute("lang", "fr")
    code = page.locator("#staff-slip-code").text_content()
    assert re.fullmatch(r"[A-Z0-9]{5}-[A-Z0-9]{5}", code)
    expect(slip.locator(".staff-slip-qr svg")).to_be_visible()
    booked = appointment(app_server, "Rosario Llamada Sin Correo")
    assert (booked.channel, booked.email, booked.lang, booked.status) == ("phone", "", "fr", "booked")

    # Printing opens the browser's dialog; the print layout shows the slip alone.
    page.evaluate("window.__printed = 0; window.print = () => { window.__printed += 1; }; 0")
    page.get_by_role("button", name="Imprimir justificante").click()
    for _ in range(100):  # (wait_for_function evaluates a string: the Content-Security-Policy forbids it)
        if page.evaluate("window.__printed") == 1:
            break
        time.sleep(0.1)
    time.sleep(0.5)  # and only once
    assert page.evaluate("window.__printed") == 1
    page.emulate_media(media="print")
    expect(page.locator(".staff-header")).to_be_hidden()
    expect(page.get_by_role("button", name="Imprimir justificante")).to_be_hidden()
    expect(slip).to_be_visible()
    shot(page, "counter-slip-print")
    page.emulate_media(media="screen")

    # Move it to another time of the same day.
    page.get_by_role("link", name="Cambiar hora").click()
    expect(page.get_by_role("heading", name="Cambiar la hora de una cita")).to_be_visible(timeout=15_000)
    expect(page.locator("#staff-move-info")).to_contain_text(code)
    other = page.locator(".staff-time").nth(1)
    expect(other).to_be_visible(timeout=15_000)
    new_time = other.text_content().split("·")[0].strip()
    other.click()
    page.get_by_role("button", name=f"Cambiar a las {new_time}").click()
    expect(page.get_by_role("status")).to_contain_text("Cita cambiada", timeout=15_000)
    expect(page.locator("#staff-slip-code")).to_have_text(code)
    expect(page.locator("#staff-slip-when")).to_contain_text(new_time)
    moved = appointment(app_server, "Rosario Llamada Sin Correo")
    assert moved.starts_at != booked.starts_at and moved.code == booked.code

    # Find it by name; the search is audited without what was typed.
    page.goto("/staff/buscar/")
    page.wait_for_selector("html[data-ready]", state="attached")
    page.get_by_label("Buscar por").select_option("name")
    page.get_by_label("Qué buscar").fill("rosario llamada")
    page.get_by_role("button", name="Buscar", exact=True).click()
    results = page.locator("#staff-find-results li")
    expect(results).to_have_count(1, timeout=15_000)
    expect(results.first).to_contain_text(code)
    expect(results.first).to_contain_text("Reservada por teléfono")
    shot(page, "counter-find")
    from pwa_app.models import AuditEvent

    with app_server.session() as s:
        searched = s.exec(select(AuditEvent).where(AuditEvent.action == "appointment.search")
                          .order_by(AuditEvent.id.desc())).first()
    assert json.loads(searched.detail)["kind"] == "name" and "rosario" not in searched.detail.lower()

    # The day view: the list to print or download, then the cancellation.
    results.first.get_by_role("link", name="Ver el día").click()
    row = page.locator(f"#appt-{booked.id}")
    expect(row).to_be_visible(timeout=15_000)
    expect(row).to_contain_text("Reservada por teléfono")
    answer = page.request.get(page.locator("a", has_text="Descargar CSV").get_attribute("href"))
    assert answer.status == 200
    table = list(csv.reader(io.StringIO(answer.text().lstrip("\ufeff")), delimiter=";"))
    assert any(r[4] == code and r[8] == "Teléfono" for r in table[1:])
    page.emulate_media(media="print")
    expect(page.locator(".staff-checkin")).to_be_hidden()
    shot(page, "counter-day-list-print")
    page.emulate_media(media="screen")
    row.get_by_role("button", name="Anular").click()
    row.get_by_role("button", name="Sí, anular").click()
    expect(page.get_by_role("status")).to_contain_text("Cita anulada", timeout=15_000)
    assert appointment(app_server, "Rosario Llamada Sin Correo").status == "cancelled"
    assert audit_actions(app_server, f"appointment:{booked.id}") == [
        "appointment.book", "appointment.move", "appointment.cancel"]
    assert errors == []
    context.close()
