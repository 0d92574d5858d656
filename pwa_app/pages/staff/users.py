"""Staff accounts and the audit trail (administrators)."""

import reflex as rx

from components.staff import _s, button, frame, input_field, section, select_field, table
from pwa_app import routes
from state.base import ROLE_LABELS
from state.users import AuditState, UsersState


def user_row(u) -> rx.Component:
    return rx.el.tr(
        rx.el.td(u["name"], rx.el.div(u["email"], class_name="muted")), rx.el.td(u["role_label"]),
        rx.el.td(u["offices"]), rx.el.td(u["department"]), rx.el.td(u["state"]), rx.el.td(u["second_factor"]),
        rx.el.td(button(_s("Editar"), kind="secondary", class_name="btn-small", on_click=UsersState.edit(u["id"]))),
    )


def users_page() -> rx.Component:
    s = UsersState
    e = s.editing
    return frame(
        s, _s("Personal"),
        rx.el.nav(rx.el.a(_s("Cuentas"), href=routes.STAFF_USERS, aria_current="page"),
                  rx.el.a(_s("Registro de cambios"), href=routes.STAFF_AUDIT), class_name="staff-subnav"),
        section(_s("Cuentas"),
                table([_s("Nombre"), _s("Rol"), _s("Oficinas"), _s("Departamento"), _s("Estado"), _s("2.º factor"),
                       ""],
                      rx.foreach(s.users, user_row), caption=_s("Cuentas"))),
        section(
            rx.cond(s.editing_id == 0, _s("Nueva cuenta"), _s("Editar cuenta")),
            rx.cond(s.editing_id != 0, button(_s("Nueva cuenta"), kind="secondary", on_click=s.edit(0))),
            rx.el.form(
                rx.cond(s.editing_id == 0,
                        input_field(_s("Correo electrónico"), "email", type="email", id="staff-user-email"),
                        rx.el.p(rx.el.strong(e["email"]))),
                input_field(_s("Nombre"), "name", default_value=e["name"], id="staff-user-name"),
                rx.el.div(
                    select_field(_s("Rol"), "role", [(k, _s(v)) for k, v in ROLE_LABELS.items()], value=e["role"],
                                 field_id="staff-user-role"),
                    select_field(_s("Departamento (solicitudes)"), "department_id", s.department_options,
                                 value=e["department_id"], field_id="staff-user-dept", placeholder=_s("Ninguno")),
                    class_name="staff-grid2",
                ),
                rx.el.fieldset(
                    rx.el.legend(_s("Oficinas"), class_name="label"),
                    rx.foreach(s.office_options, lambda o: rx.el.div(
                        rx.el.input(type="checkbox", id="staff-user-office-" + o["value"], name="office_" + o["value"],
                                    default_checked=s.editing_offices.contains(o["value"]), class_name="check-input"),
                        rx.el.label(o["label"], html_for="staff-user-office-" + o["value"], class_name="check-label"),
                        class_name="check")),
                    class_name="field",
                ),
                input_field(rx.cond(s.editing_id == 0, _s("Contraseña inicial"), _s("Nueva contraseña (opcional)")),
                            "password", type="password", auto_complete="new-password", id="staff-user-password",
                            hint=_s("Al menos 12 caracteres. Cambiarla cierra las sesiones abiertas de la cuenta.")),
                rx.cond(s.editing_id != 0, rx.el.div(
                    rx.el.input(type="checkbox", id="staff-user-active", name="active",
                                default_checked=e["active"] != "", class_name="check-input"),
                    rx.el.label(_s("Cuenta activa"), html_for="staff-user-active", class_name="check-label"),
                    class_name="check")),
                button(_s("Guardar cuenta"), type="submit"),
                on_submit=s.save, key=s.form_key,
            ),
            rx.cond(s.editing_id != 0, rx.el.p(
                button(_s("Restablecer el segundo factor"), kind="secondary",
                       on_click=s.reset_second_factor(s.editing_id)),
                " ", _s("Si ha perdido el móvil: cierra sus sesiones y, si su rol lo exige, tendrá que activarlo de "
                        "nuevo al entrar."), class_name="muted")),
        ),
        active=routes.STAFF_USERS,
    )


def audit_row(e) -> rx.Component:
    return rx.el.tr(rx.el.td(e["at"]), rx.el.td(e["actor"]), rx.el.td(e["action"]), rx.el.td(e["target"]),
                    rx.el.td(rx.el.ul(rx.foreach(e["detail"].to(list[str]), lambda line: rx.el.li(line)),
                                      class_name="staff-detail"), style={"word-break": "break-word"}))


def audit_page() -> rx.Component:
    s = AuditState
    return frame(
        s, _s("Registro de cambios"),
        rx.el.nav(rx.el.a(_s("Cuentas"), href=routes.STAFF_USERS),
                  rx.el.a(_s("Registro de cambios"), href=routes.STAFF_AUDIT, aria_current="page"),
                  class_name="staff-subnav"),
        section(_s("Últimos 200 cambios"),
                table([_s("Cuándo"), _s("Quién"), _s("Qué"), _s("Sobre"), _s("Detalle")],
                      rx.foreach(s.events, audit_row), caption=_s("Registro de cambios"))),
        active=routes.STAFF_USERS,
    )
