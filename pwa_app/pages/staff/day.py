"""Day view (tablet): check in by booking code or QR, today's appointments in time order with their status."""

import json

import reflex as rx

from components.staff import _s, button, day_fields, frame, js, select_field, tag
from pwa_app import routes
from state.day import DayState

# Reads a QR code with the tablet's camera where the browser can (BarcodeDetector), fills the code in and sends
# the form. A USB or Bluetooth code reader needs none of this: it types the code into the focused field.
SCAN_JS = """(() => {
  const msg = document.getElementById('staff-scan-msg');
  const video = document.getElementById('staff-scan-video');
  const say = (t) => { if (msg) msg.textContent = t; };
  if (!('BarcodeDetector' in window) || !navigator.mediaDevices) {
    say(%(unsupported)s); return;
  }
  const detector = new window.BarcodeDetector({formats: ['qr_code']});
  navigator.mediaDevices.getUserMedia({video: {facingMode: 'environment'}}).then((stream) => {
    video.hidden = false; video.srcObject = stream; video.play(); say(%(pointing)s);
    const stop = () => { stream.getTracks().forEach((t) => t.stop()); video.hidden = true; };
    const tick = () => detector.detect(video).then((found) => {
      if (found.length) {
        stop(); say('');
        const input = document.getElementById('staff-code');
        const set = Object.getOwnPropertyDescriptor(HTMLInputElement.prototype, 'value').set;
        set.call(input, found[0].rawValue); input.dispatchEvent(new Event('input', {bubbles: true}));
        input.form.requestSubmit();
      } else { setTimeout(tick, 250); }
    }).catch(() => setTimeout(tick, 500));
    setTimeout(tick, 300);
    setTimeout(stop, 60000);
  }).catch(() => say(%(denied)s));
})"""


def scan_js() -> str:
    return SCAN_JS % {
        "unsupported": json.dumps(_s("Este navegador no puede leer códigos QR con la cámara. Use un lector de "
                                     "códigos o escriba el código.")),
        "pointing": json.dumps(_s("Apunte la cámara al código QR de la cita.")),
        "denied": json.dumps(_s("No se ha podido usar la cámara.")),
    }


def check_in_form() -> rx.Component:
    return rx.el.section(
        rx.el.h2(_s("Registrar llegada"), class_name="h2"),
        rx.el.form(
            rx.el.div(
                rx.el.label(_s("Código de reserva"), html_for="staff-code", class_name="label"),
                rx.el.p(_s("Escríbalo o léalo con el lector; también puede escanear el QR de la confirmación."),
                        class_name="hint", id="staff-code-hint"),
                rx.el.input(id="staff-code", name="code", class_name="input staff-input", auto_complete="off",
                            auto_capitalize="characters", spell_check=False, aria_describedby="staff-code-hint",
                            placeholder="ABCDE-12345", enter_key_hint="go", required=True),
                class_name="field",
            ),
            button(_s("Registrar llegada"), type="submit"),
            button(_s("Escanear QR"), kind="secondary", on_click=js(scan_js())),
            on_submit=DayState.check_in,
            reset_on_submit=True,
            class_name="staff-checkin",
        ),
        rx.el.div(
            rx.el.video(id="staff-scan-video", hidden=True, muted=True, plays_inline=True),
            rx.el.p(id="staff-scan-msg", role="status", class_name="muted"),
            class_name="staff-scan",
        ),
        rx.cond(DayState.last_ticket != "",
                rx.el.div(rx.el.span(_s("Turno"), class_name="staff-stat-label"),
                          rx.el.p(DayState.last_ticket, class_name="staff-now-label", id="staff-last-ticket"),
                          class_name="staff-ticket-issued")),
        class_name="card staff-card",
    )


def appointment_row(a) -> rx.Component:
    actionable = DayState.is_today
    return rx.el.li(
        rx.el.span(a["time"], class_name="staff-appt-time"),
        rx.el.div(
            rx.el.span(a["name"], class_name="staff-appt-name"),
            rx.el.span(a["procedure"], class_name="staff-appt-meta"),
            rx.el.span(rx.el.span(a["code"], class_name="staff-code"),
                       rx.cond(a["document_hint"] != "", rx.el.span(" · ", _s("Documento"), " ", a["document_hint"])),
                       rx.cond(a["ticket"] != "", rx.el.span(" · ", _s("Turno"), " ", a["ticket"])),
                       class_name="staff-appt-meta"),
            rx.cond(a["visit"] != "", rx.el.span(a["visit"], class_name="staff-appt-meta")),
            rx.cond(a["phone"] != "", rx.el.span(_s("Teléfono"), " ", rx.el.a(a["phone"], href="tel:" + a["phone"].to(str)),
                                                 class_name="staff-appt-meta")),
            rx.cond(a["channel"] != "web", rx.el.span(_s("Reservada"), " ", a["channel_label"].to(str).lower(),
                                                      class_name="staff-appt-meta")),
            class_name="staff-appt-who",
        ),
        rx.el.div(
            tag(a["status_label"], a["status"]),
            rx.cond(actionable & (a["status"] == "checked_in"),
                    button(_s("Atendida"), kind="primary", class_name="btn-small",
                           on_click=DayState.mark(a["id"], "done"))),
            rx.cond(actionable & (a["status"] == "booked"),
                    button(_s("No se presentó"), kind="secondary", class_name="btn-small",
                           on_click=DayState.mark(a["id"], "no_show"))),
            rx.cond(a["changeable"] & (DayState.confirm_cancel != a["id"]), rx.fragment(
                rx.el.a(_s("Cambiar hora"), href=routes.STAFF_BOOK + "?mover=" + a["id"].to(str),
                        class_name="btn btn-link staff-btn btn-small no-print"),
                rx.el.a(_s("Justificante"), href=routes.STAFF_BOOK + "?justificante=" + a["id"].to(str),
                        class_name="btn btn-link staff-btn btn-small no-print"),
                button(_s("Anular"), kind="secondary", class_name="btn-small no-print",
                       on_click=DayState.ask_cancel(a["id"])))),
            rx.cond(DayState.confirm_cancel == a["id"], rx.el.span(
                rx.el.span(_s("¿Anular esta cita?"), class_name="staff-confirm-text"),
                button(_s("Sí, anular"), kind="primary", class_name="btn-small", on_click=DayState.cancel(a["id"])),
                button(_s("No"), kind="secondary", class_name="btn-small", on_click=DayState.keep),
                class_name="staff-confirm no-print", role="group")),
            button(rx.cond(DayState.open_id == a["id"], _s("Ocultar"), _s("Qué debe traer")), kind="link",
                   class_name="btn-small", on_click=DayState.toggle(a["id"]),
                   aria_expanded=rx.cond(DayState.open_id == a["id"], "true", "false")),
            class_name="staff-appt-actions",
        ),
        rx.cond(DayState.open_id == a["id"],
                rx.el.ul(rx.foreach(a["requirements"].to(list[str]), lambda r: rx.el.li(r)), class_name="staff-bring bullets")),
        class_name=rx.cond(a["status"] == "cancelled", "staff-appt is-cancelled", "staff-appt"),
        id=f"appt-{a['id']}",
    )


def day_page() -> rx.Component:
    s = DayState
    return frame(
        s, _s("Citas del día"),
        rx.el.div(
            select_field(_s("Oficina"), "office", s.office_options, value=s.office_id, on_change=s.set_office),
            *day_fields(s, "staff-day"),
            class_name="staff-row",
        ),
        rx.cond(s.is_today, check_in_form()),
        rx.el.section(
            rx.el.h2(s.day_label, class_name="h2"),
            rx.el.p(s.office_name, class_name="staff-print-only"),
            rx.el.div(
                rx.cond(s.procedure_options.length() > 1,
                        select_field(_s("Trámite"), "procedure", s.procedure_options, value=s.procedure_filter,
                                     on_change=s.set_procedure_filter, placeholder=_s("Todos los trámites"),
                                     field_id="staff-day-procedure")),
                button(_s("Imprimir lista"), kind="secondary", on_click=js("(() => window.print())")),
                rx.el.a(_s("Descargar CSV"), href=s.csv_url, class_name="btn btn-secondary staff-btn",
                        download=True),
                class_name="staff-row no-print",
            ),
            rx.el.p(
                rx.el.span(_s("Reservadas"), ": ", s.counts["booked"].to(int)),
                rx.el.span(_s("Han llegado"), ": ", s.counts["checked_in"].to(int)),
                rx.el.span(_s("Atendidas"), ": ", s.counts["done"].to(int)),
                rx.el.span(_s("No presentadas"), ": ", s.counts["no_show"].to(int)),
                class_name="staff-summary-line",
            ),
            rx.cond(s.appointments.length() > 0,
                    rx.el.ul(rx.foreach(s.appointments, appointment_row), class_name="staff-appts"),
                    rx.el.p(_s("No hay citas este día."), class_name="muted")),
            class_name="card staff-card staff-print",
        ),
        active=routes.STAFF_DAY,
    )
