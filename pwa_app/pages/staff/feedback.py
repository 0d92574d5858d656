"""Citizen feedback (issue 9): satisfaction per office, procedure and month, what citizens said was missing from
the checklists, recent comments and suggestions (shown escaped, as plain text), and the CSV export."""

import reflex as rx

from components.staff import _s, frame, period_picker, section, stat, table
from pwa_app import routes
from state.feedback import FeedbackState

PRE = {"white-space": "pre-wrap", "word-break": "break-word"}


def figures_row(r) -> rx.Component:
    return rx.el.tr(rx.el.td(r["name"]), rx.el.td(r["answers"], class_name="num"),
                    rx.el.td(r["average"], class_name="num"), rx.el.td(r["satisfied"], class_name="num"),
                    rx.el.td(r["checklist"], class_name="num"), rx.el.td(r["long_wait"], class_name="num"),
                    rx.el.td(r["ratings"]))


def figures(title: str, rows) -> rx.Component:
    headers = [_s("Nombre"), _s("Respuestas"), _s("Media (1–5)"), _s("Satisfechos %"), _s("Lista correcta %"),
               _s("Espera larga %"), _s("Votos 1 · 2 · 3 · 4 · 5")]
    return section(title, rx.cond(rows.length() > 0,
                                  table(headers, rx.foreach(rows, figures_row), caption=title,
                                        numeric=(1, 2, 3, 4, 5)),
                                  rx.el.p(_s("No hay respuestas en este periodo."), class_name="muted")))


def feedback_page() -> rx.Component:
    s = FeedbackState
    d = s.totals
    return frame(
        s, _s("Opiniones de la ciudadanía"),
        period_picker(s, "staff-feedback-office"),
        rx.el.div(
            stat(_s("Respuestas"), d["answers"]),
            stat(_s("Satisfacción media"), d["average"], "/ 5"),
            stat(_s("Satisfechos (4 o 5)"), d["satisfied"], "%"),
            stat(_s("Lista de documentos correcta"), d["checklist"], "%"),
            stat(_s("Espera larga"), d["long_wait"], "%"),
            class_name="staff-stats",
        ),
        figures(_s("Por oficina"), s.by_office),
        figures(_s("Por trámite"), s.by_procedure),
        figures(_s("Por mes"), s.by_month),
        section(_s("Lo que faltaba en la lista de documentos"), rx.cond(
            s.missing.length() > 0,
            table([_s("Trámite"), _s("Lo que faltaba"), _s("Veces")],
                  rx.foreach(s.missing, lambda m: rx.el.tr(rx.el.td(m["procedure"]), rx.el.td(m["text"], style=PRE),
                                                           rx.el.td(m["count"], class_name="num"))),
                  caption=_s("Lo que faltaba en la lista de documentos"), numeric=(2,)),
            rx.el.p(_s("Nadie ha echado nada en falta en este periodo."), class_name="muted"))),
        section(_s("Comentarios recientes"), rx.cond(
            s.comments.length() > 0,
            rx.el.ul(rx.foreach(s.comments, lambda c: rx.el.li(
                rx.el.p(rx.el.strong(c["rating"], " / 5"), " · ", c["day"], " · ", c["procedure"], " · ",
                        c["office"], class_name="muted"),
                rx.el.p(c["text"], style=PRE, class_name="feedback-comment"),
                class_name="item",
            )), class_name="list", id="feedback-comments"),
            rx.el.p(_s("No hay comentarios en este periodo."), class_name="muted"))),
        rx.cond(s.suggestions.length() > 0, section(_s("Buzón de sugerencias"), rx.el.ul(
            rx.foreach(s.suggestions, lambda n: rx.el.li(
                rx.el.p(n["at"], " · ", rx.cond(n["name"], n["name"], _s("Anónima")),
                        rx.cond(n["request"], rx.el.span(" · ", _s("Pide respuesta: solicitud "),
                                                         rx.el.span(n["request"], class_name="code-inline"))),
                        class_name="muted"),
                rx.el.p(n["text"], style=PRE),
                class_name="item",
            )), class_name="list"))),
        rx.el.p(_s("Las respuestas son anónimas: se guardan el trámite, la oficina y el día de la cita, no la persona. "
                   "Satisfechos = valoraciones 4 o 5. El periodo se cuenta por el día de la cita. Las sugerencias que "
                   "piden respuesta están también en Solicitudes."), class_name="muted"),
        active=routes.STAFF_FEEDBACK,
    )
