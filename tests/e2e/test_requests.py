"""A resident sends a request from a phone (with a photo), follows its timeline, sees a department's status
change, reads the last known status offline, and sends one offline that goes out when back online."""

import base64
import re

from playwright.sync_api import expect

from pwa_app.models import ServiceRequest
from pwa_app.service_requests import views, workflow
from pwa_app.service_requests import rules
from tests.e2e.test_offline import install

# A 1×1 PNG: a photo of the broken street light, as far as the test is concerned.
PNG = base64.b64decode("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==")


def loaded(img, timeout: float = 15) -> None:
    """Waits until an <img> has really loaded its picture (a string predicate would break the pages' CSP)."""
    import time

    deadline = time.time() + timeout
    while img.evaluate("(el) => el.naturalWidth") == 0:
        assert time.time() < deadline, "the image did not load"
        time.sleep(0.2)


def change_status(app_server, code, status, comment, department=None):
    with app_server.session() as s:
        req = rules.find(s, code)
        workflow.change_status(s, req, status, comment=comment, department=department)
        s.commit()


def fill_street_light_request(page, tmp_path):
    page.get_by_label("Describa su solicitud").fill("La farola delante del número 12 lleva tres noches apagada.")
    page.get_by_label("Dirección o lugar").fill("Calle del Molino 12")
    photo = tmp_path / "farola.png"
    photo.write_bytes(PNG)
    page.locator("#field-attachments").set_input_files(str(photo))
    expect(page.get_by_text("farola.png")).to_be_visible()
    page.get_by_label("Correo electrónico").fill("vecina@example.com")
    page.locator("#field-consent").check()


def test_send_follow_and_see_status_change(page, context, app_server, smtp_inbox, shot, tmp_path):
    install(page)
    page.goto("/es/solicitudes/")
    page.get_by_role("link", name="Enviar una solicitud nueva").click()
    shot(page, "types")
    page.get_by_role("button", name=re.compile("alumbrado", re.I)).click()
    page.get_by_role("button", name="Enviar la solicitud").click()
    shot(page, "errors")
    expect(page.get_by_text("Este dato es obligatorio.").first).to_be_visible()
    fill_street_light_request(page, tmp_path)
    page.get_by_role("button", name="Enviar la solicitud").click()
    expect(page.get_by_role("heading", name="Solicitud enviada")).to_be_visible(timeout=15_000)
    code = page.locator("#tracking-code").inner_text()
    shot(page, "sent")
    with app_server.session() as s:
        req = rules.find(s, code)
        assert req.address == "Calle del Molino 12" and len(views.attachment_rows(s, req)) == 1

    # The confirmation mail brings the tracking code and a link to follow the request.
    received = smtp_inbox.wait_for("vecina@example.com", "Solicitud recibida")
    text = received.get_body(("plain",)).get_content()
    assert code in text and re.search(r"http://localhost:\d+/es/solicitud/\?c=" + code.replace("-", ""), text)

    page.get_by_role("link", name="Seguir mi solicitud").click()
    expect(page.get_by_text("Recibida").first).to_be_visible()
    expect(page.get_by_text(re.compile("Respuesta prevista"))).to_be_visible()
    photo = page.locator("#request-files img")  # the photo the citizen sent, shown to them
    expect(photo).to_have_attribute("alt", "farola.png")
    loaded(photo)

    change_status(app_server, code, "assigned", "", department="vias-publicas")
    change_status(app_server, code, "in_progress", "Hemos enviado una cuadrilla para cambiar la lámpara.")
    moved = smtp_inbox.wait_for("vecina@example.com", "Su solicitud ha cambiado de estado: En curso")
    assert "Hemos enviado una cuadrilla" in moved.get_body(("plain",)).get_content()
    page.reload()
    expect(page.get_by_text("Hemos enviado una cuadrilla para cambiar la lámpara.")).to_be_visible()
    shot(page, "timeline")
    expect(page.locator(".status-line")).to_contain_text("En curso")

    # Offline, the last known state stays readable, with the time it was saved, and the photo too.
    context.set_offline(True)
    page.reload()
    expect(page.get_by_text("Hemos enviado una cuadrilla para cambiar la lámpara.")).to_be_visible()
    expect(page.get_by_text(re.compile("Última actualización"))).to_be_visible()
    loaded(photo)
    shot(page, "timeline-offline")


def test_a_refused_request_keeps_everything_and_names_the_field(page, app_server, shot, tmp_path):
    install(page)
    page.goto("/es/solicitud/nueva/")
    page.get_by_role("button", name=re.compile("alumbrado", re.I)).click()
    expect(page.locator("#field-attachments-hint")).to_have_text("Hasta tres fotos de 5 MB cada una: JPEG, PNG o WebP.")
    # Files are checked as they are picked: too big, or not a photo, is refused at once with the reason.
    big, gif = tmp_path / "grande.jpg", tmp_path / "dibujo.gif"
    big.write_bytes(b"\xff\xd8\xff" + b"\x00" * (6 * 1024 * 1024))
    gif.write_bytes(b"GIF89a" + b"\x00" * 100)
    page.locator("#field-attachments").set_input_files(str(big))
    expect(page.locator("#field-attachments-error")).to_have_text(
        "Cada archivo debe ocupar 5 MB como máximo. Adjunte uno más pequeño.")
    expect(page.locator("#field-attachments")).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_text("grande.jpg")).to_have_count(0)
    shot(page, "too-big")
    page.locator("#field-attachments").set_input_files(str(gif))
    expect(page.locator("#field-attachments-error")).to_contain_text("JPEG, PNG o WebP")
    expect(page.get_by_text("dibujo.gif")).to_have_count(0)

    # The server refuses the address (characters the page does not check): everything stays, the field is named.
    fill_street_light_request(page, tmp_path)
    expect(page.locator("#field-attachments-error")).to_have_count(0)
    page.get_by_label("Dirección o lugar").fill("Calle del Molino {12}")
    page.get_by_role("button", name="Enviar la solicitud").click()
    summary = page.locator("#error-summary")
    expect(summary).to_be_focused(timeout=15_000)
    expect(summary).to_contain_text("Hay un problema")
    address = page.get_by_label("Dirección o lugar")
    summary.get_by_role("link").click()
    expect(address).to_be_focused()
    expect(address).to_have_attribute("aria-invalid", "true")
    expect(address).to_have_value("Calle del Molino {12}")
    expect(page.locator("#field-address-error")).to_contain_text("letras, números")
    assert "field-address-error" in address.get_attribute("aria-describedby")
    expect(page.get_by_label("Describa su solicitud")).to_have_value(re.compile("lleva tres noches apagada"))
    expect(page.get_by_text("farola.png")).to_be_visible()
    expect(page.get_by_label("Correo electrónico")).to_have_value("vecina@example.com")
    shot(page, "refused")

    # Corrected, it goes, with the photo.
    address.fill("Calle del Molino 12")
    page.get_by_role("button", name="Enviar la solicitud").click()
    expect(page.get_by_role("heading", name="Solicitud enviada")).to_be_visible(timeout=15_000)
    code = page.locator("#tracking-code").inner_text()
    with app_server.session() as s:
        assert len(views.attachment_rows(s, rules.find(s, code))) == 1


def test_request_sent_offline_goes_out_once(page, context, app_server, tmp_path):
    install(page)
    context.set_offline(True)
    page.goto("/es/solicitud/nueva/")
    page.get_by_role("button", name=re.compile("alumbrado", re.I)).click()
    fill_street_light_request(page, tmp_path)
    page.get_by_role("button", name="Enviar la solicitud").click()
    expect(page.locator(".pending")).to_contain_text("Pendiente")
    with app_server.session() as s:
        before = s.query(ServiceRequest).count()
    context.set_offline(False)
    expect(page.get_by_role("heading", name="Solicitud enviada")).to_be_visible(timeout=20_000)
    page.wait_for_timeout(6_000)
    with app_server.session() as s:
        assert s.query(ServiceRequest).count() == before + 1
