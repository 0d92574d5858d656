"""Reports: a period, the figures, charts (rx.recharts, not Radix) and the CSV export."""

import reflex as rx

from components.staff import _s, frame, period_picker, section, stat, table
from pwa_app import routes
from state.reports import ReportsState

COLOURS = {"done": "#00703c", "no_show": "#b3261e", "booked": "#0b4f6c", "checked_in": "#e8b100",
           "cancelled": "#929191"}


def day_chart() -> rx.Component:
    bars = [rx.recharts.bar(data_key=key, name=label, stack_id="a", fill=COLOURS[key], is_animation_active=False)
            for key, label in (("done", _s("Atendidas")), ("no_show", _s("No presentadas")),
                               ("booked", _s("Reservadas")), ("checked_in", _s("Han llegado")),
                               ("cancelled", _s("Anuladas")))]
    return rx.el.div(
        rx.recharts.responsive_container(
            rx.recharts.bar_chart(
                rx.recharts.cartesian_grid(stroke_dasharray="3 3"),
                rx.recharts.x_axis(data_key="day"),
                rx.recharts.y_axis(allow_decimals=False),
                rx.recharts.graphing_tooltip(),
                rx.recharts.legend(),
                *bars,
                data=ReportsState.by_day,
            ),
            width="100%", height=280,
        ),
        class_name="staff-chart",
        role="img",
        aria_label=_s("Citas por día y estado"),
    )


def procedure_chart() -> rx.Component:
    return rx.el.div(
        rx.recharts.responsive_container(
            rx.recharts.bar_chart(
                rx.recharts.cartesian_grid(stroke_dasharray="3 3"),
                rx.recharts.x_axis(type_="number", allow_decimals=False),
                rx.recharts.y_axis(data_key="name", type_="category", width=260),
                rx.recharts.graphing_tooltip(),
                rx.recharts.bar(data_key="total", name=_s("Citas"), fill="#0b4f6c", is_animation_active=False),
                data=ReportsState.by_procedure,
                layout="vertical",
            ),
            width="100%", height=ReportsState.procedure_chart_height,
        ),
        class_name="staff-chart",
        role="img",
        aria_label=_s("Citas por trámite"),
    )


def group_row(r) -> rx.Component:
    return rx.el.tr(rx.el.td(r["name"]), rx.el.td(r["total"], class_name="num"), rx.el.td(r["done"], class_name="num"),
                    rx.el.td(r["no_show"], class_name="num"), rx.el.td(r["cancelled"], class_name="num"))


def channel_row(r) -> rx.Component:
    return rx.el.tr(rx.el.td(r["name"]), rx.el.td(r["total"], class_name="num"),
                    rx.el.td(r["share"], class_name="num"), rx.el.td(r["no_show"], class_name="num"),
                    rx.el.td(r["no_show_rate"], class_name="num"))


def reports_page() -> rx.Component:
    s = ReportsState
    d = s.data
    headers = [_s("Nombre"), _s("Citas"), _s("Atendidas"), _s("No presentadas"), _s("Anuladas")]
    return frame(
        s, _s("Informes"),
        period_picker(s, "staff-report-office"),
        rx.el.div(
            stat(_s("Citas"), d["appointments"]),
            stat(_s("Atendidas"), d["done"]),
            stat(_s("Tasa de no presentados"), d["no_show_rate"], "%"),
            stat(_s("Sin confirmar a tiempo"), d["expired"]),
            stat(_s("Turnos sin cita"), d["walk_ins"]),
            stat(_s("Espera media"), d["wait_avg"], "min"),
            stat(_s("Espera, percentil 90"), d["wait_p90"], "min"),
            stat(_s("Atención media"), d["service_avg"], "min"),
            stat(_s("Solicitudes en plazo"), d["req_on_time_rate"], "%"),
            class_name="staff-stats",
        ),
        section(_s("Citas por día"),
                rx.cond(s.by_procedure.length() > 0, day_chart(),
                        rx.el.p(_s("No hay citas en este periodo."), class_name="muted"))),
        rx.cond(s.by_procedure.length() > 0, rx.fragment(
            section(_s("Citas por trámite"), procedure_chart(),
                    table(headers, rx.foreach(s.by_procedure, group_row), caption=_s("Citas por trámite"),
                          numeric=(1, 2, 3, 4))),
            section(_s("Citas por oficina"),
                    table(headers, rx.foreach(s.by_office, group_row), caption=_s("Citas por oficina"),
                          numeric=(1, 2, 3, 4))),
        )),
        section(_s("Citas por canal"),
                table([_s("Canal"), _s("Citas"), _s("Del total"), _s("No presentadas"), _s("Tasa de no presentados")],
                      rx.foreach(s.by_channel, channel_row), caption=_s("Citas por canal"), numeric=(1, 2, 3, 4),
                      id="staff-report-channels"),
                rx.el.p(_s("Teléfono y mostrador: citas que el personal reservó para la persona. Citas que "
                           "conservaron su hora (sin anuladas ni sin confirmar)."), class_name="muted")),
        section(
            _s("Solicitudes"),
            rx.el.div(
                stat(_s("Presentadas"), d["req_submitted"]),
                stat(_s("Contestadas"), d["req_answered"]),
                stat(_s("Contestadas en plazo"), d["req_on_time"]),
                stat(_s("Abiertas fuera de plazo"), d["req_overdue_open"]),
                class_name="staff-stats",
            ),
        ),
        rx.el.p(_s("Tasa de no presentados = no presentadas / (atendidas + no presentadas). Espera = de la llegada "
                   "(turno o registro de la cita) a la llamada. En plazo = contestadas no más tarde de su fecha "
                   "límite. El CSV usa punto y coma y coma decimal, como las hojas de cálculo en español."),
                class_name="muted"),
        active=routes.STAFF_REPORTS,
    )
