"""The desk console (tablet) and the waiting room's wall screen."""

import reflex as rx

from components.staff import _s, button, every, frame, input_field, ready_marker, select_field
from pwa_app import routes
from state.queue import DisplayState, QueueState, ScreenState

DESKS = [(str(n), str(n)) for n in range(1, 13)]


def waiting_item(t) -> rx.Component:
    return rx.el.li(
        rx.el.span(t["label"], class_name="staff-waiting-label"),
        rx.el.span(t["procedure"], rx.el.br(), _s("Llegó a las"), " ", t["issued"], " · ", t["waited"], " min",
                   class_name="staff-waiting-what"),
        button(_s("Llamar"), kind="secondary", class_name="btn-small", on_click=QueueState.call_ticket(t["id"]),
               aria_label=f"{_s('Llamar')} {t['label']}"),
    )


def quota_form(s) -> rx.Component:
    """The office's daily quota of walk-in tickets, for its managers (past it the queue gives no more)."""
    return rx.el.form(
        input_field(_s("Cupo diario de turnos sin cita (0: sin cupo)"), "quota", type="number", min=0,
                    default_value=s.quota.to_string(), id="staff-quota"),
        button(_s("Guardar cupo"), kind="secondary", type="submit"),
        on_submit=s.set_quota, key=s.office_id + "-" + s.quota.to_string(), class_name="staff-row",
    )


def queue_page() -> rx.Component:
    s = QueueState
    return frame(
        s, _s("Turnos"),
        every(5000, QueueState.refresh),
        rx.el.div(
            select_field(_s("Oficina"), "office", s.office_options, value=s.office_id, on_change=s.set_office),
            select_field(_s("Puesto"), "desk", DESKS, value=s.desk, on_change=s.set_desk, field_id="staff-desk"),
            rx.el.a(_s("Abrir la pantalla de turnos"), href=routes.STAFF_SCREEN + "?oficina=" + s.office_slug,
                    target="_blank", class_name="btn btn-secondary staff-btn"),
            class_name="staff-row",
        ),
        rx.el.div(
            rx.el.section(
                rx.el.h2(_s("Atendiendo en el puesto"), " ", s.desk, class_name="h2"),
                rx.cond(
                    s.current.contains("label"),
                    rx.el.div(
                        rx.el.p(s.current["label"], class_name="staff-now-label", id="staff-current"),
                        rx.el.p(s.current["procedure"], class_name="muted"),
                        rx.el.p(_s("Esperó"), " ", s.current["waited"], " min", class_name="muted"),
                        rx.el.div(
                            button(_s("Atendido"), on_click=s.finish("done")),
                            button(_s("No se presentó"), kind="secondary", on_click=s.finish("no_show")),
                            class_name="actions",
                        ),
                        class_name="staff-now",
                    ),
                    rx.el.p(_s("Nadie en este puesto."), class_name="staff-now-empty"),
                ),
                button(_s("Llamar al siguiente"), on_click=s.call_next, class_name="staff-wide",
                       disabled=s.waiting.length() == 0, id="staff-call-next"),
                rx.el.p(_s("Atendidos hoy"), ": ", s.served, " · ", _s("Espera estimada para quien llegue ahora"), ": ",
                        s.estimate, " min", class_name="muted"),
                class_name="card staff-card",
            ),
            rx.el.section(
                rx.el.h2(_s("Dar turno sin cita"), class_name="h2"),
                rx.el.form(
                    select_field(_s("Trámite"), "procedure", s.procedure_options, field_id="staff-procedure",
                                 placeholder=_s("Otro / sin especificar")),
                    button(_s("Dar turno"), type="submit", class_name="staff-wide"),
                    on_submit=s.issue,
                ),
                rx.cond(s.issued_label != "",
                        rx.el.div(
                            rx.el.span(_s("Turno entregado"), class_name="staff-stat-label"),
                            rx.el.p(s.issued_label, class_name="staff-now-label", id="staff-issued"),
                            rx.el.p(_s("Espera estimada"), ": ", s.issued_estimate, " min · ",
                                    _s("Personas delante"), ": ", s.issued_ahead),
                            class_name="staff-ticket-issued",
                        )),
                rx.el.p(_s("Turnos sin cita hoy"), ": ", rx.el.strong(s.walk_ins),
                        rx.cond(s.quota > 0, rx.fragment(" ", _s("de"), " ", s.quota), " (" + _s("sin cupo") + ")"),
                        class_name="muted", id="staff-walk-ins"),
                rx.cond(s.can_quota, quota_form(s)),
                rx.el.h2(_s("En espera"), " (", s.waiting.length(), ")", class_name="h2"),
                rx.cond(s.waiting.length() > 0,
                        rx.el.ul(rx.foreach(s.waiting, waiting_item), class_name="staff-waiting"),
                        rx.el.p(_s("No hay nadie esperando."), class_name="muted")),
                class_name="card staff-card",
            ),
            class_name="staff-queue",
        ),
        active=routes.STAFF_QUEUE,
    )


def call_row(c) -> rx.Component:
    return rx.el.li(rx.el.span(c["label"]), rx.el.span(c["desk"]),
                    class_name=rx.cond(c["current"], "screen-call current", "screen-call"))


def board(s) -> rx.Component:
    """The wall screen's board, signed in (ScreenState) or opened by a display token (DisplayState)."""
    return rx.el.main(
        rx.el.div(rx.el.h1(_s("Turnos"), class_name="screen-title"),
                  rx.el.span(s.office_name, class_name="screen-office"), class_name="screen-head"),
        rx.el.div(rx.el.span(_s("Turno")), rx.el.span(_s("Puesto")), class_name="screen-cols", aria_hidden="true"),
        rx.el.ul(rx.foreach(s.calls, call_row), class_name="screen-list", id="screen-calls", aria_live="polite"),
        rx.el.div(rx.el.span(_s("En espera"), ": ", s.waiting),
                  rx.el.span(_s("Espera estimada"), ": ", s.estimate, " min"),
                  rx.el.span(s.updated), class_name="screen-foot"),
    )


def wall_screen(s, showing_board, *instead) -> rx.Component:
    """The waiting room's screen, refreshed every 3 s: the board while `showing_board`, else a page saying why not
    (`instead`)."""
    return rx.el.div(
        ready_marker(),
        every(3000, s.refresh),
        rx.cond(
            showing_board,
            board(s),
            rx.el.main(rx.el.h1(_s("Pantalla de turnos"), class_name="screen-title"), *instead,
                       class_name="screen-pick"),
        ),
        class_name="screen staff",
        lang="es",
    )


def display_page() -> rx.Component:
    """The wall screen opened by its display key."""
    return wall_screen(
        DisplayState, ~DisplayState.refused,
        rx.el.p(_s("Esta pantalla no tiene acceso: el enlace no es válido o se ha revocado. Pida uno nuevo a "
                   "la persona responsable de la oficina."), id="screen-refused"),
    )


def screen_page() -> rx.Component:
    """The wall screen opened by a member of staff, who picks its office."""
    s = ScreenState
    return wall_screen(
        s, s.office_slug != "",
        rx.el.p(_s("Elija la oficina de esta pantalla:")),
        rx.el.ul(rx.foreach(s.offices, lambda o: rx.el.li(
            rx.el.a(o["name"], href=routes.STAFF_SCREEN + f"?oficina={o['slug']}", class_name="staff-tab")))),
        rx.el.p(rx.el.a(_s("Volver"), href=routes.STAFF_HOME)),
    )
