"""A resident sends a request from a phone (with a photo), follows its timeline, sees a department's status
change, reads the last known status offline, and sends one offline that goes out when back online."""

import base64
import re

from playwright.sync_api import expect

from pwa_app.models import ServiceRequest
from pwa_app.services import tracking
from tests.e2e.test_offline import install

# A 1×1 PNG: a photo of the broken street light, as far as the test is concerned.
PNG = base64.b64decode("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==")


def change_status(app_server, code, status, comment, department=None):
    with app_server.session() as s:
        req = tracking.find(s, code)
        tracking.change_status(s, req, status, comment=comment, department=department)
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


def test_send_follow_and_see_status_change(page, context, app_server, shot, tmp_path):
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
        req = tracking.find(s, code)
        assert req.address == "Calle del Molino 12" and len(tracking.attachment_rows(s, req)) == 1

    page.get_by_role("link", name="Seguir mi solicitud").click()
    expect(page.get_by_text("Recibida").first).to_be_visible()
    expect(page.get_by_text(re.compile("Respuesta prevista"))).to_be_visible()

    change_status(app_server, code, "assigned", "", department="vias-publicas")
    change_status(app_server, code, "in_progress", "Hemos enviado una cuadrilla para cambiar la lámpara.")
    page.reload()
    expect(page.get_by_text("Hemos enviado una cuadrilla para cambiar la lámpara.")).to_be_visible()
    shot(page, "timeline")
    expect(page.locator(".status-line")).to_contain_text("En curso")

    # Offline, the last known state stays readable, with the time it was saved.
    context.set_offline(True)
    page.reload()
    expect(page.get_by_text("Hemos enviado una cuadrilla para cambiar la lámpara.")).to_be_visible()
    expect(page.get_by_text(re.compile("Última actualización"))).to_be_visible()
    shot(page, "timeline-offline")


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
