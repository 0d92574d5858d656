"""Staff pages (Spanish-only routes under /staff/): online, on a tablet, with Reflex state. Every page but the
sign-in and the token-opened wall screen loads through a guarded handler (state.base.staff_event): anonymous
visitors are sent to the sign-in page and the wrong role to the start page before any data is read.

`STAFF_PAGES` lists (route, page function, title, on_load handlers); the tests walk it."""

import reflex as rx

from pwa_app import routes
from pwa_app.pages.staff.counter import counter_page, find_page
from pwa_app.pages.staff.day import day_page
from pwa_app.pages.staff.feedback import feedback_page
from pwa_app.pages.staff.home import home_page
from pwa_app.pages.staff.inbox import inbox_page
from pwa_app.pages.staff.login import login_page
from pwa_app.pages.staff.queue import display_page, queue_page, screen_page
from pwa_app.pages.staff.reports import reports_page
from pwa_app.pages.staff.security import security_page
from pwa_app.pages.staff.setup import closures_page, offices_page, procedures_page, schedules_page
from pwa_app.pages.staff.translations import translations_page
from pwa_app.pages.staff.users import audit_page, users_page
from state.counter import CounterState
from state.day import DayState
from state.find import FindState
from state.feedback import FeedbackState
from state.home import HomeState
from state.inbox import InboxState
from state.login import LoginState
from state.queue import DisplayState, QueueState, ScreenState
from state.reports import ReportsState
from state.security import SecurityState
from state.setup import ClosuresState, OfficesState, ProceduresState, SchedulesState
from state.translations import TranslationsState
from state.users import AuditState, UsersState

STAFF_PAGES = [
    (routes.registered(routes.STAFF_LOGIN), login_page, "Acceso del personal", LoginState.load),
    (routes.registered(routes.STAFF_HOME), home_page, "Inicio", HomeState.load),
    (routes.registered(routes.STAFF_DAY), day_page, "Citas del día", DayState.load),
    (routes.registered(routes.STAFF_BOOK), counter_page, "Reservar", CounterState.load),  # issue 26
    (routes.registered(routes.STAFF_FIND), find_page, "Buscar cita", FindState.load),
    (routes.registered(routes.STAFF_QUEUE), queue_page, "Turnos", QueueState.load),
    (routes.registered(routes.STAFF_SCREEN), screen_page, "Pantalla de turnos", ScreenState.load),
    # A wall screen opened by its display token (no sign-in; DisplayState checks the token).
    (routes.registered(routes.STAFF_SCREEN_BY_KEY), display_page, "Pantalla de turnos", DisplayState.load),
    (routes.registered(routes.STAFF_INBOX), inbox_page, "Solicitudes", InboxState.load),
    (routes.registered(routes.STAFF_REPORTS), reports_page, "Informes", ReportsState.load),
    (routes.registered(routes.STAFF_OFFICES), offices_page, "Oficinas y reglas", OfficesState.load),
    (routes.registered(routes.STAFF_PROCEDURES), procedures_page, "Trámites", ProceduresState.load),
    (routes.registered(routes.STAFF_SCHEDULES), schedules_page, "Horarios", SchedulesState.load),
    (routes.registered(routes.STAFF_CLOSURES), closures_page, "Cierres y festivos", ClosuresState.load),
    (routes.registered(routes.STAFF_TRANSLATIONS), translations_page, "Traducciones", TranslationsState.load),
    (routes.registered(routes.STAFF_USERS), users_page, "Personal", UsersState.load),
    (routes.registered(routes.STAFF_AUDIT), audit_page, "Registro de cambios", AuditState.load),
    (routes.registered(routes.STAFF_FEEDBACK), feedback_page, "Opiniones", FeedbackState.load),  # issue 9
    (routes.registered(routes.STAFF_SECURITY), security_page, "Segundo factor", SecurityState.load),
]


def register_staff_pages(app: rx.App) -> None:
    for route, page_fn, title, on_load in STAFF_PAGES:
        app.add_page(page_fn(), route=route, title=f"{title} · Cita personal", on_load=on_load)
