"""Reservar (tablet): book for a person on the phone or at the counter, move an appointment to another time, and
print the slip (the browser's print dialog; the print stylesheet leaves the slip alone on the page). The slip is
in the person's language; the rest of the page is Spanish. Buscar cita: find a booking."""

import reflex as rx

from components.staff import _s, button, day_fields, frame, js, select_field, tag
from pwa_app import routes
from pwa_app.common.i18n import LANGUAGES
from state.counter import CHANNEL_LABELS, CounterState
from state.find import KIND_LABELS, FindState

PRINT_JS = "(() => window.print())"


def time_button(t) -> rx.Component:
    chosen = CounterState.start == t["start"]
    return rx.el.button(
        t["label"], rx.el.span(" · ", t["free"], " ", _s("libres"), class_name="staff-time-free"),
        type="button", aria_pressed=rx.cond(chosen, "true", "false"),
        class_name=rx.cond(chosen, "btn staff-btn staff-time is-chosen", "btn staff-btn staff-time"),
        on_click=CounterState.pick(t["start"], t["label"]),
    )


def when_picker() -> rx.Component:
    s = CounterState
    return rx.el.section(
        rx.el.h2(rx.cond(s.move_id > 0, _s("Nueva hora"), _s("Trámite, oficina y hora")), class_name="h2"),
        rx.cond(s.move_id > 0, rx.el.p(s.move_info, class_name="muted", id="staff-move-info")),
        rx.el.div(
            select_field(_s("Trámite"), "procedure", s.procedure_options, value=s.procedure,
                         on_change=s.set_procedure, placeholder=_s("Elija un trámite"), disabled=s.move_id > 0),
            rx.cond(s.office_options.length() > 1,
                    select_field(_s("Oficina"), "office", s.office_options, value=s.office, on_change=s.set_office)),
            class_name="staff-row",
        ),
        rx.cond(s.procedure != "", rx.fragment(
            rx.el.div(*day_fields(s, "staff-book-day"), class_name="staff-row"),
            rx.el.h3(s.day_label, class_name="h3"),
            rx.cond(s.times.length() > 0,
                    rx.el.div(rx.foreach(s.times, time_button), class_name="staff-times", role="group",
                              aria_label=_s("Horas libres")),
                    rx.el.p(_s("No quedan horas libres este día."), class_name="muted")),
        )),
        class_name="card staff-card",
    )


def person_form() -> rx.Component:
    s = CounterState
    field = lambda label, name, hint=None, **props: rx.el.div(  # noqa: E731
        rx.el.label(label, html_for=f"staff-person-{name}", class_name="label"),
        rx.el.p(hint, class_name="hint") if hint else rx.fragment(),
        rx.el.input(id=f"staff-person-{name}", name=name, class_name="input staff-input", auto_complete="off",
                    **props),
        class_name="field")
    return rx.el.section(
        rx.el.h2(_s("La persona"), class_name="h2"),
        rx.el.form(
            rx.el.fieldset(
                rx.el.legend(_s("Cómo pide la cita"), class_name="label"),
                *[rx.el.label(rx.el.input(type="radio", name="channel", value=value, checked=s.channel == value,
                                          on_change=s.set_channel(value), class_name="check-input"),
                              rx.el.span(_s(label)), class_name="staff-radio")
                  for value, label in CHANNEL_LABELS.items()],
                class_name="staff-row staff-channel",
            ),
            field(_s("Nombre y apellidos"), "name", required=True),
            field(_s("Documento (DNI, NIE o pasaporte)"), "document", None, auto_capitalize="characters"),
            rx.cond(s.requires_document, rx.el.p(_s("Este trámite pide el documento."), class_name="hint")),
            field(_s("Teléfono"), "phone", _s("Teléfono o documento: con uno de los dos la persona podrá consultar "
                                              "su cita."), type="tel"),
            field(_s("Correo electrónico (si tiene)"), "email", _s("Si lo da, recibirá la confirmación en su idioma."),
                  type="email"),
            select_field(_s("Idioma de la persona"), "lang", list(LANGUAGES.items()), value="es",
                         field_id="staff-person-lang"),
            rx.el.p(_s("Diga a la persona que sus datos se usan solo para gestionar la cita (aviso de privacidad)."),
                    class_name="hint"),
            button(rx.cond(s.start_label != "", _s("Reservar a las ") + s.start_label, _s("Reservar")),
                   type="submit", disabled=s.start == ""),
            on_submit=s.submit,
            class_name="staff-person",
        ),
        class_name="card staff-card",
    )


def slip_view() -> rx.Component:
    """The printed slip, in the person's language and direction."""
    s, d = CounterState, CounterState.slip
    return rx.el.section(
        rx.el.div(
            rx.el.h2(d["title"], class_name="h2"),
            rx.el.div(
                rx.html(d["qr"], class_name="staff-slip-qr"),
                rx.el.dl(
                    rx.el.dt(d["code_label"]), rx.el.dd(d["code"], class_name="staff-slip-code", id="staff-slip-code"),
                    rx.el.dt(d["procedure_label"]), rx.el.dd(d["procedure"]),
                    rx.el.dt(d["when_label"]), rx.el.dd(d["when"], id="staff-slip-when"),
                    rx.el.dt(d["where_label"]), rx.el.dd(d["where"]),
                    class_name="staff-slip-facts",
                ),
                class_name="staff-slip-top",
            ),
            rx.el.h3(d["bring_label"], class_name="h3"),
            rx.el.ul(rx.foreach(s.slip_bring, lambda r: rx.el.li(r)), class_name="bullets"),
            rx.el.p(d["show"], class_name="staff-slip-show"),
            lang=d["lang"], dir=d["dir"], class_name="staff-slip", id="staff-slip",
        ),
        rx.el.div(
            button(_s("Imprimir justificante"), on_click=js(PRINT_JS)),
            rx.el.a(_s("Cambiar hora"), href=routes.STAFF_BOOK + "?mover=" + s.slip_id.to(str),
                    class_name="btn btn-secondary staff-btn"),
            rx.el.a(_s("Nueva reserva"), href=routes.STAFF_BOOK, class_name="btn btn-secondary staff-btn"),
            rx.el.span(_s("Idioma del justificante"), ": ", d["language"], class_name="muted"),
            class_name="staff-row no-print",
        ),
        class_name="card staff-card staff-print",
    )


def counter_page() -> rx.Component:
    s = CounterState
    return frame(
        s, rx.cond(s.move_id > 0, _s("Cambiar la hora de una cita"), _s("Reservar para una persona")),
        rx.cond(s.slip_id > 0, slip_view(),
                rx.fragment(when_picker(),
                            rx.cond(s.move_id > 0,
                                    rx.el.div(button(rx.cond(s.start_label != "", _s("Cambiar a las ") + s.start_label,
                                                             _s("Cambiar")), on_click=s.move, disabled=s.start == ""),
                                              class_name="staff-row"),
                                    rx.cond(s.procedure != "", person_form())))),
        active=routes.STAFF_BOOK,
    )


def result_row(r) -> rx.Component:
    day_link = routes.STAFF_DAY + "?oficina=" + r["office_id"] + "&fecha=" + r["day"]
    return rx.el.li(
        rx.el.span(r["time"], class_name="staff-appt-time"),
        rx.el.div(
            rx.el.span(r["name"], class_name="staff-appt-name"),
            rx.el.span(r["day_label"], class_name="staff-appt-meta staff-appt-day"),
            rx.el.span(r["procedure"], " · ", r["office"], class_name="staff-appt-meta"),
            rx.el.span(rx.el.span(r["code"], class_name="staff-code"),
                       rx.cond(r["document_hint"] != "", rx.el.span(" · ", _s("Documento"), " ", r["document_hint"])),
                       rx.cond(r["phone"] != "", rx.el.span(" · ", _s("Teléfono"), " ", r["phone"])),
                       class_name="staff-appt-meta"),
            rx.el.span(r["booked_by"], class_name="staff-appt-meta"),
            class_name="staff-appt-who",
        ),
        rx.el.div(
            tag(r["status_label"], r["status"]),
            rx.el.a(_s("Ver el día"), href=day_link, class_name="btn btn-link staff-btn btn-small"),
            rx.cond((r["status"] == "booked") | (r["status"] == "pending"), rx.fragment(
                rx.el.a(_s("Justificante"), href=routes.STAFF_BOOK + "?justificante=" + r["id"],
                        class_name="btn btn-link staff-btn btn-small"),
                rx.el.a(_s("Cambiar hora"), href=routes.STAFF_BOOK + "?mover=" + r["id"],
                        class_name="btn btn-link staff-btn btn-small"))),
            class_name="staff-appt-actions",
        ),
        class_name="staff-appt",
    )


def find_page() -> rx.Component:
    s = FindState
    return frame(
        s, _s("Buscar cita"),
        rx.el.section(
            rx.el.form(
                select_field(_s("Buscar por"), "kind", [(k, _s(v)) for k, v in KIND_LABELS.items()],
                             value=s.kind, on_change=s.set_kind, field_id="staff-find-kind"),
                rx.el.div(
                    rx.el.label(_s("Qué buscar"), html_for="staff-find-query", class_name="label"),
                    rx.el.input(id="staff-find-query", name="query", class_name="input staff-input",
                                auto_complete="off", required=True),
                    class_name="field",
                ),
                button(_s("Buscar"), type="submit"),
                on_submit=s.search,
                class_name="staff-row staff-find",
            ),
            rx.el.p(_s("Solo se buscan las citas de sus oficinas. Cada búsqueda queda registrada."), class_name="hint"),
            class_name="card staff-card",
        ),
        rx.cond(s.searched, rx.el.section(
            rx.el.h2(_s("Resultados"), ": ", s.results.length(), class_name="h2"),
            rx.cond(s.results.length() > 0,
                    rx.el.ul(rx.foreach(s.results, result_row), class_name="staff-appts", id="staff-find-results"),
                    rx.el.p(_s("No se ha encontrado ninguna cita."), class_name="muted")),
            class_name="card staff-card",
        )),
        active=routes.STAFF_FIND,
    )
