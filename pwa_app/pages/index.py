"""The root address: sends the visitor to their language (remembered on the device, else the browser's)."""

import reflex as rx

from components.data import hook
from pwa_app.services.i18n import LANGUAGES


def index() -> rx.Component:
    go = hook("useLanguageRedirect", list(LANGUAGES), var_type=str)
    return rx.el.main(
        rx.el.p(*[rx.el.a(name, href=f"/{code}/", lang=code, class_name="lang-link") for code, name in LANGUAGES.items()],
                go, class_name="lang-list"),
        class_name="main",
    )
