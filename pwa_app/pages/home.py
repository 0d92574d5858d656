"""Home: search the procedures, or browse them by area."""

import reflex as rx

from components.data import built_catalogue, client_fn, hook, page_const
from components.layout import loading, page
from components.ui import catalogue_preload, content, notice
from components.views import Home
from pwa_app.routes import PROCEDURE, citizen


def procedure_item(lang: str, t, p) -> rx.Component:
    return rx.el.li(
        rx.el.a(
            content(rx.el.span, p, "name", lang, class_name="item-title"),
            content(rx.el.span, p, "summary", lang, class_name="item-text"),
            rx.el.span(
                rx.cond(p["needs_appointment"], t.gettext("With appointment"), t.gettext("Online or without appointment")),
                class_name="tag",
            ),
            href=citizen(lang, PROCEDURE) + "?p=" + p["slug"],
            class_name="item-link",
        ),
        class_name="item",
    )


def search_box(t, h) -> rx.Component:
    return rx.el.form(
        rx.el.label(t.gettext("What do you need to do?"), html_for="field-query", class_name="label"),
        rx.el.p(t.gettext("For example: register my address, parking card, building works"), id="query-hint",
                class_name="hint"),
        rx.el.input(id="field-query", type="search", value=h["query"], on_change=client_fn("setQuery"),
                    aria_describedby="query-hint", class_name="input", auto_complete="off", enter_key_hint="search"),
        role="search",
        on_submit=rx.prevent_default,
        class_name="search",
    )


def results(lang: str, t, h) -> rx.Component:
    return rx.el.section(
        rx.el.h2(t.gettext("Results"), class_name="h2"),
        rx.el.p(t.gettext("Procedures found"), ": ", h["count"], role="status", class_name="muted"),
        rx.el.ul(rx.foreach(h["results"], lambda p: procedure_item(lang, t, p)), class_name="list"),
    )


def areas(lang: str, t, h) -> rx.Component:
    return rx.foreach(
        h["areas"],
        lambda a: rx.el.section(
            content(rx.el.h2, a, "name", lang, class_name="h2"),
            rx.el.ul(rx.foreach(a["procedures"], lambda p: procedure_item(lang, t, p)), class_name="list"),
            class_name="area",
        ),
    )


def home(t, lang: str) -> rx.Component:
    h = hook("useHome", lang, page_const(built_catalogue(lang)), var_type=Home)
    return page(
        t, lang, "",
        catalogue_preload(lang),
        rx.el.h1(t.gettext("Appointments and procedures")),
        rx.el.p(t.gettext("Find what you need to do, check what to bring and book a time at the town hall."),
                class_name="lead"),
        search_box(t, h),
        rx.cond(h["otherLanguage"], notice(t.gettext("Part of this information is not available in your language yet."),
                                           live=False)),
        rx.cond(
            h["ready"],
            rx.cond(h["searching"], results(lang, t, h), areas(lang, t, h)),
            loading(t),
        ),
    )
