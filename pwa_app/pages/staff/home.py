"""The staff start page: tiles for each section this person may open, and today at a glance per office."""

import reflex as rx

from components.staff import _s, frame, tile
from pwa_app import routes
from state.home import HomeState

TILES = [
    ("day", _s("Citas del día"), _s("Registrar llegadas, atendidas y no presentadas"), routes.STAFF_DAY),
    ("day", _s("Reservar"), _s("Dar cita a quien llama o viene al mostrador"), routes.STAFF_BOOK),
    ("day", _s("Buscar cita"), _s("Por código, documento, nombre, teléfono o correo"), routes.STAFF_FIND),
    ("queue", _s("Turnos"), _s("Dar turno sin cita y llamar al siguiente"), routes.STAFF_QUEUE),
    ("queue", _s("Pantalla de turnos"), _s("Para la sala de espera"), routes.STAFF_SCREEN),
    ("requests", _s("Solicitudes"), _s("La bandeja del departamento"), routes.STAFF_INBOX),
    ("reports", _s("Informes"), _s("Citas, esperas y plazos; exportar CSV"), routes.STAFF_REPORTS),
    ("setup_office", _s("Configuración"), _s("Oficinas, trámites, horarios y cierres"), routes.STAFF_OFFICES),
    ("users", _s("Personal"), _s("Cuentas, roles y registro de cambios"), routes.STAFF_USERS),
    ("second_factor", _s("Segundo factor"), _s("Su aplicación de códigos y códigos de recuperación"),
     routes.STAFF_SECURITY),
]


def office_today(o) -> rx.Component:
    return rx.el.li(
        rx.el.span(o["name"], class_name="staff-today-name"),
        rx.el.span(
            rx.el.span(_s("Reservadas"), ": ", o["booked"]),
            rx.el.span(_s("Han llegado"), ": ", o["checked_in"]),
            rx.el.span(_s("Atendidas"), ": ", o["done"]),
            rx.el.span(_s("En espera"), ": ", o["waiting"]),
            class_name="staff-today-counts",
        ),
        class_name="staff-today-item",
    )


def home_page() -> rx.Component:
    s = HomeState
    return frame(
        s, _s("Inicio"),
        rx.el.div(*[rx.cond(s.me_permissions.contains(perm), tile(label, hint, href))
                    for perm, label, hint, href in TILES], class_name="staff-tiles"),
        rx.el.section(
            rx.el.h2(_s("Hoy en sus oficinas"), class_name="h2"),
            rx.el.ul(rx.foreach(s.offices, office_today), class_name="staff-today"),
            class_name="card staff-card",
        ),
        active=routes.STAFF_HOME,
    )
