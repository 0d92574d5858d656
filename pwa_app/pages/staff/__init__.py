"""Staff pages (Spanish-only routes under /staff/): online, on a tablet, with Reflex state. Every page but the
sign-in loads through a guarded handler (state.base.staff_event): anonymous visitors are sent to the sign-in
page and the wrong role to the start page before any data is read.

`STAFF_PAGES` lists (route, page function, title, on_load handlers); tests walk it."""

import reflex as rx

from pwa_app.pages.staff.home import home_page
from pwa_app.pages.staff.login import login_page
from state.home import HomeState
from state.login import LoginState

STAFF_PAGES = [
    ("/staff/login", login_page, "Acceso del personal", [LoginState.load]),
    ("/staff", home_page, "Inicio", [HomeState.load]),
]


def register_staff_pages(app: rx.App) -> None:
    for route, page_fn, title, on_load in STAFF_PAGES:
        app.add_page(page_fn(), route=route, title=f"{title} · Cita personal", on_load=on_load)
