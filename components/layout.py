"""The frame of every citizen page: skip link, header, offline notice, main, language picker, footer."""

import reflex as rx

from components.data import built_catalogue, client_fn, hook, page_const
from components.ui import icon, notice
from components.views import Shell
from pwa_app.common.i18n import LANGUAGES, text_direction
from pwa_app.routes import ACCESSIBILITY, HOME, MY_APPOINTMENTS, MY_REQUESTS, citizen


def language_picker(t, lang: str, path: str, search) -> rx.Component:
    """Plain links to the same page in each language, each named in itself; the query string is kept."""
    return rx.el.nav(
        rx.el.h2(t.gettext("Language"), class_name="visually-hidden", id="lang-heading"),
        rx.el.ul(
            *[
                rx.el.li(
                    rx.el.a(
                        name,
                        href=f"/{code}/{path}" + search,
                        lang=code,
                        custom_attrs={"hrefLang": code},  # as a keyword Reflex would make it CSS
                        dir=text_direction(code),
                        aria_current="true" if code == lang else None,
                        class_name="lang-link",
                    )
                )
                for code, name in LANGUAGES.items()
            ],
            class_name="lang-list",
        ),
        aria_labelledby="lang-heading",
        id="languages",
        tab_index=-1,
        class_name="lang-picker",
    )


def waiting(count, label: str, href: str) -> rx.Component:
    """Writes of one kind still in the device outbox, named as what they are (bookings, changes, requests)."""
    return rx.cond(count > 0, rx.el.p(rx.el.a(label, ": ", count, href=href), class_name="offline-text"))


def offline_notice(t, lang: str, shell) -> rx.Component:
    """A calm notice when the device is offline, announced politely to screen readers."""
    return rx.el.div(
        rx.cond(
            ~shell["online"],
            rx.el.p(t.gettext("You are offline — showing saved information."), class_name="offline-text"),
        ),
        waiting(shell["bookingsWaiting"], t.gettext("Bookings waiting to be sent"), citizen(lang, MY_APPOINTMENTS)),
        waiting(shell["changesWaiting"], t.gettext("Changes to appointments waiting to be sent"),
                citizen(lang, MY_APPOINTMENTS)),
        waiting(shell["requestsWaiting"], t.gettext("Requests waiting to be sent"), citizen(lang, MY_REQUESTS)),
        role="status",
        aria_live="polite",
        class_name=rx.cond(~shell["online"] | (shell["bookingsWaiting"] + shell["changesWaiting"]
                                               + shell["requestsWaiting"] > 0), "offline-bar", "offline-bar empty"),
    )


def loading(t) -> rx.Component:
    """What a page shows until its data is read: offline and never saved, it says how to get it."""
    online = hook("useOnline", var_type=bool)
    return rx.el.div(
        rx.cond(
            online,
            t.gettext("Loading…"),
            t.gettext("This information has not been saved on this device yet. Connect to the internet once "
                      "to see it; afterwards it also works without connection."),
        ),
        role="status",
        class_name="notice notice-info",
    )


def kept_here(t, v, body: rx.Component, title: str, missing: str, find: str, href: str) -> rx.Component:
    """A page about one thing kept on this device (`v["found"]`): its body; else a heading over "loading", or,
    once read (`v["ready"]`), the notice that it is not here with a link to find it by its code. The heading stays
    while it loads or finds nothing (axe: page-has-heading-one)."""
    return rx.cond(
        v["found"],
        body,
        rx.fragment(
            rx.el.h1(title),
            rx.cond(v["ready"], notice(missing, " ", rx.el.a(find, href=href), kind="error"), loading(t)),
        ),
    )


def page(t, lang: str, path: str, *children, wide: bool = False) -> rx.Component:
    town = (built_catalogue(lang) or {}).get("municipality", {})  # in the first paint, before any script
    shell = hook("useShell", lang, text_direction(lang), page_const(town), var_type=Shell)
    return rx.el.div(
        # In-page links keep the query string (the procedure, the booking): see `jump` in assets/offline.js.
        rx.el.a(t.gettext("Skip to main content"), href=shell["search"] + "#main", class_name="skip-link",
                custom_attrs={"data-jump": "main"}),
        rx.el.header(
            rx.el.div(
                rx.el.a(
                    rx.el.span("Cita", class_name="brand-name"),
                    rx.el.span(shell["town"], class_name="brand-town"),
                    href=citizen(lang, HOME),
                    class_name="brand",
                ),
                rx.el.nav(
                    rx.el.a(t.gettext("Procedures"), href=citizen(lang, HOME), class_name="nav-link"),
                    rx.el.a(t.gettext("My appointments"), href=citizen(lang, MY_APPOINTMENTS), class_name="nav-link"),
                    rx.el.a(t.gettext("Requests"), href=citizen(lang, MY_REQUESTS), class_name="nav-link"),
                    rx.el.a(icon("globe"), LANGUAGES[lang], href=shell["search"] + "#languages",
                            aria_label=t.gettext("Language") + ": " + LANGUAGES[lang], class_name="nav-link",
                            custom_attrs={"data-jump": "languages"}),
                    aria_label=t.gettext("Main menu"),
                    class_name="nav",
                ),
                class_name="header-inner",
            ),
            class_name="header",
        ),
        offline_notice(t, lang, shell),
        rx.cond(
            shell["updateReady"],
            rx.el.div(
                rx.el.p(t.gettext("A new version of Cita is available."), class_name="offline-text"),
                rx.el.button(t.gettext("Update now"), type="button", class_name="btn btn-secondary",
                             on_click=client_fn("applyUpdate")),
                role="status",
                class_name="update-bar",
            ),
        ),
        rx.el.main(*children, id="main", tab_index=-1, class_name="main wide" if wide else "main"),
        rx.el.footer(
            language_picker(t, lang, path, shell["search"]),
            rx.el.p(
                t.gettext("Town hall appointments and procedures. Your data is used only to attend you."),
                class_name="muted",
            ),
            rx.el.p(rx.el.a(t.gettext("Accessibility statement"), href=citizen(lang, ACCESSIBILITY),
                            id="footer-accessibility")),
            class_name="footer",
        ),
        class_name="app",
        lang=lang,
        dir=text_direction(lang),
    )
