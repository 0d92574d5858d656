"""The root address. Its head script (LANG_SCRIPT in pwa_app.py) sends the visitor on to their language before
anything else loads; these links are for a browser without JavaScript."""

import reflex as rx

from pwa_app.common.i18n import LANGUAGES


def index() -> rx.Component:
    return rx.el.main(
        rx.el.p(*[rx.el.a(name, href=f"/{code}/", lang=code, class_name="lang-link") for code, name in LANGUAGES.items()],
                class_name="lang-list"),
        class_name="main",
    )
