"""Citizen feedback (issue 9) in Debian chromium: an appointment booked through the API is attended; the citizen
finds it on a phone, is invited to the survey and answers it (sent offline first, so it waits in the outbox and
goes out once back online); the answer appears, anonymous and escaped, in the staff view on a tablet. The
suggestion box gives a tracking code when an answer is asked."""

import re

from playwright.sync_api import expect
from sqlmodel import select

from pwa_app.common import codes
from pwa_app.models import Appointment, ServiceRequest, SurveyAnswer
from tests.e2e.test_staff import ADMIN, accounts, book, move_to_now, sign_in, tablet  # noqa: F401  (fixture)

COMMENT = "Muy amables & rápidos: 5 > 3 <3 <i"  # plain text with HTML characters: shown exactly as written


def mark_done(app_server, code: str) -> None:
    move_to_now(app_server, code)
    with app_server.session() as s:
        appt = s.exec(select(Appointment).where(Appointment.code == codes.normalize_code(code))).one()
        appt.status = "done"
        s.add(appt)
        s.commit()


def test_survey_after_an_attended_appointment_reaches_staff(page, context, browser, accounts, shot):  # noqa: F811
    app_server = accounts
    booked = book(app_server, "Lucía Feedback Prueba", "12345678Z", skip_days=1)
    mark_done(app_server, booked["code"])

    # The citizen's phone: find the appointment by code, then the invitation on "my appointment".
    page.goto("/en/mis-citas/")
    page.get_by_label("Booking code").fill(booked["code"])
    page.get_by_label("Last four characters of your document or phone").fill("678Z")
    page.get_by_role("button", name="Find my booking").click()
    expect(page.locator("a[href*='/cita/?c=']").first).to_be_visible()
    page.goto(f"/es/cita/?c={booked['code'].replace('-', '')}")
    expect(page.get_by_text("Atendida").first).to_be_visible()
    shot(page, "invitation")
    page.get_by_role("link", name="Cuéntenos qué tal le fue (30 segundos)").click()
    expect(page.get_by_role("heading", name="¿Qué tal le fue?")).to_be_visible()

    # Mistakes are shown at once, translated, also offline: no rating, a comment with too many links.
    page.get_by_label("¿Algo más que quiera contarnos? (opcional)").fill("http://a.es http://b.es www.c.es")
    page.get_by_role("button", name="Enviar mi respuesta").click()
    expect(page.get_by_text("Elija su grado de satisfacción, del 1 al 5.")).to_be_visible()
    expect(page.get_by_text("Escriba su mensaje sin enlaces.")).to_be_visible()
    page.get_by_label("¿Qué faltaba? (opcional)").fill("<b>DNI</b>")
    page.get_by_role("button", name="Enviar mi respuesta").click()
    expect(page.get_by_text("Escriba texto normal, sin etiquetas HTML.")).to_be_visible()
    shot(page, "errors")

    page.get_by_label("4 — Satisfecho").check()
    page.get_by_label("No, faltaba algo").check()
    page.get_by_label("¿Qué faltaba? (opcional)").fill("Fotocopia del contrato de alquiler")
    page.get_by_label("Razonable").check()
    page.get_by_label("¿Algo más que quiera contarnos? (opcional)").fill(COMMENT)
    context.set_offline(True)
    page.get_by_role("button", name="Enviar mi respuesta").click()
    expect(page.get_by_text(re.compile("Su respuesta está guardada en este dispositivo"))).to_be_visible()
    shot(page, "offline-pending")
    with app_server.session() as s:
        assert s.exec(select(SurveyAnswer)).all() == []
    context.set_offline(False)
    expect(page.get_by_role("heading", name="Gracias por su respuesta")).to_be_visible(timeout=20_000)
    shot(page, "thanks")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    with app_server.session() as s:
        answers = s.exec(select(SurveyAnswer)).all()
    assert len(answers) == 1 and (answers[0].rating, answers[0].checklist_ok, answers[0].waiting) == (4, False, "ok")
    assert answers[0].comment == COMMENT

    # Staff: satisfaction, the missing item and the comment, escaped.
    staff_context, staff_page, errors = tablet(browser, app_server)
    sign_in(staff_page, ADMIN, "/staff/opiniones/")
    comments = staff_page.locator("#feedback-comments")
    expect(comments.get_by_text(COMMENT)).to_be_visible(timeout=15_000)
    expect(staff_page.get_by_text("Fotocopia del contrato de alquiler")).to_be_visible()
    assert COMMENT in comments.inner_text() and staff_page.locator("#feedback-comments i").count() == 0
    expect(staff_page.locator(".staff-stat", has_text="Satisfacción media")).to_contain_text("4")
    shot(staff_page, "staff")
    assert not errors, errors
    staff_context.close()


def test_suggestion_box_with_an_answer_gives_a_tracking_code(page, app_server, shot):
    page.goto("/es/sugerencias/")
    page.get_by_role("button", name="Enviar la sugerencia").click()
    expect(page.get_by_text("Escriba su sugerencia.")).to_be_visible()
    page.get_by_label("Su sugerencia").fill("Estaría bien abrir la oficina un día por la tarde.")
    page.get_by_label("Enviarla de forma anónima").check()
    page.get_by_label("Quiero recibir respuesta").check()
    expect(page.get_by_label("Nombre (opcional)")).to_have_count(0)
    page.locator("#field-consent").check()
    shot(page, "form")
    page.get_by_role("button", name="Enviar la sugerencia").click()
    expect(page.get_by_role("heading", name="Gracias por su sugerencia")).to_be_visible(timeout=15_000)
    code = page.locator("#tracking-code").inner_text()
    shot(page, "sent")
    with app_server.session() as s:
        req = s.exec(select(ServiceRequest).where(ServiceRequest.code == code.replace("-", ""))).first()
    assert req is not None and req.name == "" and req.email == ""
    page.get_by_role("link", name="Seguir la respuesta").click()
    expect(page.get_by_text("Estaría bien abrir la oficina un día por la tarde.")).to_be_visible()
