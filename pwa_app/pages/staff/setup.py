"""Set-up screens: offices and booking rules, procedures with their checklists, weekly schedules, closures."""

import reflex as rx

from components.staff import (
    _s, button, check_field, frame, input_field, js, section, select_field, table, textarea_field,
)
from pwa_app import routes
from state.setup import WEEKDAYS, ClosuresState, OfficesState, ProceduresState, SchedulesState

SUBNAV = [
    (routes.STAFF_OFFICES, _s("Oficinas y reglas"), None),
    (routes.STAFF_PROCEDURES, _s("Trámites y documentos"), "setup_town"),
    (routes.STAFF_SCHEDULES, _s("Horarios"), None),
    (routes.STAFF_CLOSURES, _s("Cierres y festivos"), None),
    (routes.STAFF_TRANSLATIONS, _s("Traducciones"), "setup_town"),
]


def subnav(state, active: str) -> rx.Component:
    links = []
    for href, label, perm in SUBNAV:
        link = rx.el.a(label, href=href, aria_current="page" if href == active else None)
        links.append(rx.cond(state.me_permissions.contains(perm), link) if perm else link)
    return rx.el.nav(*links, aria_label=_s("Configuración"), class_name="staff-subnav")


# --- offices and booking rules --------------------------------------------------------------------------------


def offices_page() -> rx.Component:
    s = OfficesState
    sel = s.selected
    return frame(
        s, _s("Configuración"),
        subnav(s, routes.STAFF_OFFICES),
        rx.cond(s.can_town, section(
            _s("Reglas de reserva"),
            rx.el.form(
                rx.el.div(
                    input_field(_s("Días de antelación"), "horizon", type="number", min=1, max=365,
                                default_value=s.horizon, id="staff-horizon",
                                hint=_s("Hasta cuántos días en adelante pueden reservar los vecinos.")),
                    input_field(_s("Aviso mínimo (minutos)"), "notice", type="number", min=0,
                                default_value=s.notice, id="staff-notice",
                                hint=_s("No se puede reservar una hora que empiece antes de este margen.")),
                    class_name="staff-grid2",
                ),
                button(_s("Guardar reglas"), type="submit"),
                on_submit=s.save_rules, key=s.form_key,
            ),
        )),
        section(
            _s("Oficinas"),
            rx.el.div(
                select_field(_s("Oficina"), "office", s.office_options,
                             value=s.editing_id.to_string(), on_change=s.edit, field_id="staff-office-pick"),
                rx.cond(s.can_town, button(_s("Nueva oficina"), kind="secondary", on_click=s.new)),
                class_name="staff-row",
            ),
            rx.el.form(
                rx.cond(s.editing_id == -1,
                        input_field(_s("Identificador"), "slug", hint=_s("En minúsculas, con guiones: aparece en la "
                                                                        "dirección web. No se puede cambiar después."),
                                    id="staff-office-slug")),
                input_field(_s("Nombre"), "name", default_value=sel["name"], id="staff-office-name", required=True),
                input_field(_s("Dirección"), "address", default_value=sel["address"], id="staff-office-address"),
                input_field(_s("Horario que ven los vecinos"), "opening_hours", default_value=sel["opening_hours"],
                            id="staff-office-hours"),
                textarea_field(_s("Accesibilidad"), "accessibility", default_value=sel["accessibility"],
                               id="staff-office-access"),
                rx.el.div(
                    input_field(_s("Teléfono"), "phone", default_value=sel["phone"], id="staff-office-phone",
                                type="tel"),
                    input_field(_s("Enlace al mapa"), "map_url", default_value=sel["map_url"], id="staff-office-map"),
                    class_name="staff-grid2",
                ),
                button(_s("Guardar oficina"), type="submit"),
                on_submit=s.save, key=s.form_key,
            ),
        ),
        rx.cond(s.editing_id > 0, display_keys(s)),
        active=routes.STAFF_OFFICES,
    )


def display_keys(s) -> rx.Component:
    """The wall screen's address: opens this office's board without a staff sign-in, until it is revoked."""
    return section(
        _s("Pantalla de turnos"),
        rx.el.p(_s("Para la pantalla de la sala de espera no hace falta iniciar sesión: cree un enlace y ábralo en "
                   "esa pantalla. Muestra solo los turnos de esta oficina, sin nombres. Si la pantalla se pierde o "
                   "cambia de sitio, revoque el enlace."), class_name="muted"),
        rx.cond(s.display_url != "", rx.el.div(
            rx.el.label(_s("Dirección de la pantalla (cópiela ahora)"), html_for="staff-display-url",
                        class_name="label"),
            rx.el.input(id="staff-display-url", value=s.display_url, read_only=True, class_name="input staff-input"),
            class_name="field",
        )),
        rx.cond(s.displays.length() > 0, table(
            [_s("Creado"), _s("Por"), ""],
            rx.foreach(s.displays, lambda d: rx.el.tr(
                rx.el.td(d["created"]), rx.el.td(d["by"]),
                rx.el.td(button(_s("Revocar"), kind="secondary", class_name="btn-small",
                                on_click=s.revoke_display(d["id"]))))),
            caption=_s("Enlaces de pantalla en uso"), id="staff-displays")),
        button(_s("Crear enlace de pantalla"), kind="secondary", on_click=s.create_display),
    )


# --- procedures and checklists --------------------------------------------------------------------------------


def requirement_row(r) -> rx.Component:
    s = ProceduresState
    return rx.el.tr(
        rx.el.td(r["text"], rx.cond(r["optional"] != "", rx.el.span(" (", _s("si procede"), ")", class_name="muted")),
                 rx.cond(r["note"] != "", rx.el.div(r["note"], class_name="muted"))),
        rx.el.td(
            rx.el.div(
                button("↑", kind="secondary", class_name="btn-small staff-arrow", aria_label=_s("Subir"),
                       on_click=s.move_requirement(r["id"], -1)),
                button("↓", kind="secondary", class_name="btn-small staff-arrow", aria_label=_s("Bajar"),
                       on_click=s.move_requirement(r["id"], 1)),
                button(_s("Quitar"), kind="secondary", class_name="btn-small",
                       on_click=s.delete_requirement(r["id"])),
                class_name="staff-row-actions",
            ),
        ),
    )


def procedures_page() -> rx.Component:
    s = ProceduresState
    p = s.proc
    return frame(
        s, _s("Configuración"),
        subnav(s, routes.STAFF_PROCEDURES),
        section(
            _s("Trámite"),
            rx.el.div(
                select_field(_s("Trámite"), "procedure", s.procedures, value=s.proc_id, on_change=s.select,
                             field_id="staff-proc-pick"),
                button(_s("Nuevo trámite"), kind="secondary", on_click=s.new),
                rx.cond(s.proc_id != "new", rx.el.a(_s("Traducciones"), class_name="btn btn-secondary staff-btn",
                                                    href=routes.STAFF_TRANSLATIONS + "?item=procedure:" + s.proc_id)),
                class_name="staff-row",
            ),
            rx.cond(s.stale > 0, rx.el.p(
                rx.el.strong(s.stale), " ", _s("traducciones por revisar: el texto en español ha cambiado. Los "
                                               "vecinos ven el español con un aviso hasta que se revisen."),
                " ", rx.el.a(_s("Revisarlas"), href=routes.STAFF_TRANSLATIONS + "?item=procedure:" + s.proc_id),
                role="status", class_name="notice", id="staff-proc-stale")),
            rx.el.form(
                rx.cond(s.proc_id == "new", input_field(_s("Identificador"), "slug", id="staff-proc-slug")),
                input_field(_s("Nombre"), "name", default_value=p["name"], id="staff-proc-name"),
                input_field(_s("Resumen en una frase"), "summary", default_value=p["summary"], id="staff-proc-summary"),
                textarea_field(_s("Descripción"), "description", default_value=p["description"],
                               id="staff-proc-description"),
                textarea_field(_s("Quién puede hacerlo"), "who_can_apply", default_value=p["who_can_apply"],
                               id="staff-proc-who"),
                rx.el.div(
                    select_field(_s("Área"), "area_id", s.area_options, value=p["area_id"], field_id="staff-proc-area"),
                    input_field(_s("Duración en el puesto (minutos)"), "duration_minutes", type="number", min=1,
                                default_value=p["duration_minutes"], id="staff-proc-duration"),
                    input_field(_s("Tasa"), "fee", default_value=p["fee"], id="staff-proc-fee"),
                    input_field(_s("Enlace a la sede electrónica"), "online_url", default_value=p["online_url"],
                                id="staff-proc-url"),
                    class_name="staff-grid2",
                ),
                input_field(_s("Palabras de búsqueda"), "keywords", default_value=p["keywords"], id="staff-proc-kw"),
                check_field(_s("Con cita previa"), "needs_appointment", checked=p["needs_appointment"] != "",
                            id="staff-proc-appt"),
                check_field(_s("Pide DNI/NIE al reservar"), "requires_document", checked=p["requires_document"] != "",
                            id="staff-proc-doc"),
                rx.el.fieldset(
                    rx.el.legend(_s("Oficinas que lo atienden"), class_name="label"),
                    rx.foreach(s.office_choices, lambda o: rx.el.div(
                        rx.el.input(type="checkbox", id="staff-proc-office-" + o["value"], name="office_" + o["value"],
                                    default_checked=o["checked"] != "", class_name="check-input"),
                        rx.el.label(o["label"], html_for="staff-proc-office-" + o["value"], class_name="check-label"),
                        class_name="check")),
                    class_name="field",
                ),
                button(_s("Guardar trámite"), type="submit"),
                on_submit=s.save, key=s.form_key,
            ),
        ),
        rx.cond(s.proc_id != "new", section(
            _s("Qué debe traer"),
            table([_s("Documento"), ""], rx.foreach(s.requirements, requirement_row), caption=_s("Qué debe traer")),
            rx.el.form(
                input_field(_s("Nuevo documento"), "text", id="staff-req-text"),
                input_field(_s("Nota"), "note", id="staff-req-note"),
                check_field(_s("Solo si procede"), "optional", id="staff-req-optional"),
                button(_s("Añadir a la lista"), type="submit", kind="secondary"),
                on_submit=s.add_requirement, reset_on_submit=True,
            ),
        )),
        active=routes.STAFF_OFFICES,
    )


# --- weekly schedules -----------------------------------------------------------------------------------------


def schedule_row(r) -> rx.Component:
    return rx.el.tr(
        rx.el.td(r["procedure"]), rx.el.td(r["day"]), rx.el.td(r["hours"], class_name="nowrap"),
        rx.el.td(r["slot"], " min", class_name="num nowrap"), rx.el.td(r["capacity"], class_name="num"),
        rx.el.td(r["kept"]),
        rx.el.td(r["valid"]),
        rx.el.td(rx.el.div(
            button(_s("Editar"), kind="secondary", class_name="btn-small", on_click=SchedulesState.edit(r["id"]),
                   aria_label=_s("Editar") + " " + r["day"] + " " + r["hours"]),
            button(_s("Quitar"), kind="secondary", class_name="btn-small", on_click=SchedulesState.delete(r["id"])),
            class_name="staff-row-actions",
        )),
    )


def schedule_form(s) -> rx.Component:
    """Adds a schedule, or, after "Editar" on a row, changes that one (the form then holds its values)."""
    e = s.editing
    editing = e.contains("id")

    def value(name: str, default: str):
        return rx.cond(editing, e[name], default)

    return rx.el.section(
        rx.el.h2(rx.cond(editing, _s("Cambiar horario"), _s("Añadir horario")), class_name="h2"),
        rx.el.form(
            select_field(_s("Trámite"), "procedure_id", s.procedure_options, field_id="staff-sched-proc",
                         default_value=value("procedure_id", s.procedure_id)),
            rx.el.div(
                select_field(_s("Día"), "weekday", [(str(i), _s(d)) for i, d in enumerate(WEEKDAYS)],
                             field_id="staff-sched-weekday", default_value=value("weekday", "0")),
                input_field(_s("Apertura"), "opens", type="time", default_value=value("opens", "09:00"),
                            id="staff-sched-opens"),
                input_field(_s("Cierre"), "closes", type="time", default_value=value("closes", "14:00"),
                            id="staff-sched-closes"),
                input_field(_s("Tramo (minutos)"), "slot_minutes", type="number", min=5,
                            default_value=value("slot_minutes", "15"), id="staff-sched-slot"),
                input_field(_s("Puestos (citas a la vez)"), "capacity", type="number", min=1,
                            default_value=value("capacity", "1"), id="staff-sched-capacity"),
                input_field(_s("De ellos, para teléfono y mostrador"), "staff_seats", type="number", min=0,
                            default_value=value("staff_seats", "0"), id="staff-sched-staff-seats",
                            hint=_s("Puestos de cada tramo que la web no ofrece: se reservan por teléfono o en el "
                                    "mostrador.")),
                input_field(_s("Se liberan a la web (horas antes)"), "staff_seats_hours", type="number", min=0,
                            default_value=value("staff_seats_hours", "24"), id="staff-sched-staff-hours",
                            hint=_s("Los que sigan libres pasan a la web este número de horas antes de la cita.")),
                input_field(_s("Desde (opcional)"), "valid_from", type="date", default_value=value("valid_from", ""),
                            id="staff-sched-from"),
                input_field(_s("Hasta (opcional)"), "valid_until", type="date",
                            default_value=value("valid_until", ""), id="staff-sched-until"),
                class_name="staff-grid2",
            ),
            rx.el.div(
                button(rx.cond(editing, _s("Guardar cambios"), _s("Añadir horario")), type="submit"),
                rx.cond(editing, button(_s("Cancelar"), kind="link", on_click=s.cancel_edit)),
                class_name="actions",
            ),
            on_submit=s.add, key=s.form_key,
        ),
        class_name="card staff-card", id="staff-sched-form",
    )


def schedules_page() -> rx.Component:
    s = SchedulesState
    return frame(
        s, _s("Configuración"),
        subnav(s, routes.STAFF_SCHEDULES),
        rx.el.div(
            select_field(_s("Oficina"), "office", s.office_options, value=s.office_id, on_change=s.set_office,
                         field_id="staff-sched-office"),
            select_field(_s("Trámite"), "procedure", s.procedure_options, value=s.procedure_id,
                         on_change=s.set_procedure, field_id="staff-sched-filter"),
            class_name="staff-row",
        ),
        section(
            _s("Horario semanal"),
            table([_s("Trámite"), _s("Día"), _s("Horas"), _s("Tramo"), _s("Puestos"), _s("Teléfono y mostrador"),
                   _s("Vigencia"), ""],
                  rx.foreach(s.rows, schedule_row), caption=_s("Horario semanal")),
            rx.cond(s.rows.length() == 0, rx.el.p(_s("No hay horarios: no se puede reservar."), class_name="muted")),
        ),
        schedule_form(s),
        active=routes.STAFF_OFFICES,
    )


# --- closures and holidays ------------------------------------------------------------------------------------


def closure_row(c) -> rx.Component:
    return rx.el.tr(
        rx.el.td(c["day"]), rx.el.td(c["office"]), rx.el.td(c["reason"]),
        rx.el.td(rx.cond(c["editable"] != "", button(_s("Quitar"), kind="secondary", class_name="btn-small",
                                                     on_click=ClosuresState.delete(c["id"])))),
    )


def call_row(c) -> rx.Component:
    return rx.el.tr(
        rx.el.td(c["day"], " ", c["time"], class_name="nowrap"), rx.el.td(c["name"]),
        rx.el.td(rx.cond(c["phone"] != "", rx.el.a(c["phone"], href="tel:" + c["phone"]), _s("Sin teléfono")),
                 class_name="nowrap"),
        rx.el.td(c["procedure"]), rx.el.td(c["office"]), rx.el.td(c["code"], class_name="staff-code"),
    )


def call_list() -> rx.Component:
    """Whom a closure left uninformed (no e-mail, no web push): to phone before they come to a closed office."""
    return section(
        _s("Lista de llamadas"),
        rx.el.p(_s("Citas anuladas por un cierre de personas que no dejaron correo ni reciben avisos en el móvil: "
                   "llámelas para que no acudan a la oficina cerrada."), class_name="muted"),
        table([_s("Cita"), _s("Nombre"), _s("Teléfono"), _s("Trámite"), _s("Oficina"), _s("Código")],
              rx.foreach(ClosuresState.calls, call_row), caption=_s("Lista de llamadas"), id="staff-calls"),
        button(_s("Imprimir la lista"), kind="secondary", class_name="no-print", on_click=js("() => window.print()")),
        class_name="staff-print",
    )


def closures_page() -> rx.Component:
    s = ClosuresState
    return frame(
        s, _s("Configuración"),
        subnav(s, routes.STAFF_CLOSURES),
        rx.cond(s.pending_count > 0, rx.el.div(
            rx.el.h2(_s("Hay citas reservadas ese día"), class_name="h2"),
            rx.el.p(_s("Citas reservadas"), ": ", rx.el.strong(s.pending_count), ". ",
                    _s("Si las anula, se quedan libres y quien dejó su correo electrónico recibe un aviso con el "
                       "motivo y un enlace para pedir otra cita. Si las mantiene, el día se cierra solo para "
                       "reservas nuevas.")),
            rx.el.div(
                button(_s("Anular las citas y avisar"), kind="warning", on_click=s.decide("cancel")),
                button(_s("Mantener las citas"), kind="secondary", on_click=s.decide("keep")),
                button(_s("No cerrar"), kind="link", on_click=s.decide("")),
                class_name="actions",
            ),
            role="alertdialog", aria_label=_s("Hay citas reservadas ese día"), class_name="staff-dialog",
        )),
        section(
            _s("Nuevo cierre"),
            rx.el.form(
                rx.el.div(
                    select_field(_s("Oficina"), "office", s.office_options, field_id="staff-closure-office"),
                    input_field(_s("Fecha"), "day", type="date", id="staff-closure-day", required=True),
                    class_name="staff-grid2",
                ),
                input_field(_s("Motivo"), "reason", id="staff-closure-reason",
                            hint=_s("Lo verán los vecinos, por ejemplo: «Fiestas locales» o «Obras en la oficina»."),
                            required=True),
                button(_s("Cerrar ese día"), type="submit"),
                on_submit=s.add, key=s.form_key,
            ),
        ),
        rx.cond(s.calls.length() > 0, call_list()),
        section(
            _s("Próximos cierres"),
            table([_s("Fecha"), _s("Oficina"), _s("Motivo"), ""], rx.foreach(s.closures, closure_row),
                  caption=_s("Próximos cierres"), id="staff-closures"),
        ),
        active=routes.STAFF_OFFICES,
    )
