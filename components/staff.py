"""The staff workspace's pieces: the frame (header, navigation by role, sign-out), forms, tables and tags for a
tablet at arm's length (touch targets of 56 px, large type). `rx.el.*` only, styled by the `/* staff */` part of
assets/cita.css.

Texts go through gettext in their own domain, "staff" (`_s`), because the staff routes are Spanish-only: they are
written in Spanish and stay out of the citizen catalogue (messages.pot), which is translated into every citizen
language. To translate them later (e.g. into Catalan for a Catalan town hall):
    pybabel extract -k _s -k S_ --no-default-keywords -o locales/staff.pot components/staff.py state pwa_app/pages/staff
    pybabel init -D staff -i locales/staff.pot -d locales -l ca     # then translate, and compile with -D staff
"""

from functools import cache

import reflex as rx
from babel.support import NullTranslations, Translations
from reflex_base.event import EventChain, no_args_event_spec
from reflex_base.vars.base import LiteralVar, Var, VarData, get_unique_variable_name

from components.ui import download_button
from pwa_app import routes
from pwa_app.common.i18n import LOCALES_DIR

STAFF_LANG = "es"
LOGIN = routes.STAFF_LOGIN
ENROL = routes.STAFF_SECURITY  # the second factor's page


@cache
def staff_translations(lang: str = STAFF_LANG) -> NullTranslations:
    found = Translations.load(str(LOCALES_DIR), [lang], "staff")
    return found if isinstance(found, Translations) else NullTranslations()


def _s(message: str) -> str:
    """A staff text, translated through the "staff" gettext domain (Spanish source)."""
    return staff_translations().gettext(message)


def S_(message: str) -> str:
    """Marks a staff text for extraction without translating it here (static tables)."""
    return message


# (href, label, permission); the permission decides who sees the link (the page checks again).
NAV = [
    (routes.STAFF_HOME, S_("Inicio"), "home"),
    (routes.STAFF_DAY, S_("Citas del día"), "day"),
    (routes.STAFF_BOOK, S_("Reservar"), "day"),
    (routes.STAFF_FIND, S_("Buscar cita"), "day"),
    (routes.STAFF_QUEUE, S_("Turnos"), "queue"),
    (routes.STAFF_INBOX, S_("Solicitudes"), "requests"),
    (routes.STAFF_REPORTS, S_("Informes"), "reports"),
    (routes.STAFF_FEEDBACK, S_("Opiniones"), "reports"),
    (routes.STAFF_OFFICES, S_("Configuración"), "setup_office"),
    (routes.STAFF_USERS, S_("Personal"), "users"),
]

# Reflex keeps this tab's state on the server under the token in sessionStorage (names, documents, contacts of
# the day, the staff list): dropping the token on sign-out and sign-in gives the next person a fresh, empty state.
FORGET_STATE = "sessionStorage.removeItem('token')"
LOGOUT_JS = (
    "(() => { fetch('/api/staff/logout', {method: 'POST', credentials: 'same-origin', "
    "headers: {Accept: 'application/json'}}).finally(() => { " + FORGET_STATE + "; "
    f"window.location.assign('{routes.STAFF_LOGIN}?signed_out=1'); }}); }})"
)


def js(code: str):
    """A JavaScript function as an event handler (runs in the browser, outside Reflex's event queue)."""
    return Var(code).to(rx.vars.FunctionVar)


def frame(state, title: str, *children, active: str = "", wide: bool = True) -> rx.Component:
    """Every staff page: header with the sections this person may open, their name, sign-out; then the page."""
    return rx.el.div(
        ready_marker(),
        rx.el.a(_s("Saltar al contenido"), href="#main", class_name="skip-link"),
        rx.el.header(
            rx.el.div(
                rx.el.a(rx.el.span("Cita", class_name="brand-name"),
                        rx.el.span(_s("Personal del ayuntamiento"), class_name="brand-town"),
                        href=routes.STAFF_HOME, class_name="brand"),
                rx.el.div(
                    rx.el.span(state.me_name, class_name="staff-me-name"),
                    rx.el.span(state.me_role, class_name="staff-me-role"),
                    class_name="staff-me",
                ),
                rx.el.button(_s("Salir"), type="button", on_click=js(LOGOUT_JS), class_name="staff-signout"),
                class_name="staff-header-inner",
            ),
            rx.el.nav(
                *[rx.cond(state.me_permissions.contains(perm),
                          rx.el.a(_s(label), href=href, class_name="staff-tab",
                                  aria_current="page" if href == active else None))
                  for href, label, perm in NAV],
                aria_label=_s("Secciones"),
                class_name="staff-nav",
            ),
            class_name="header staff-header",
        ),
        rx.el.main(
            rx.el.h1(title, class_name="staff-title"),
            rx.cond(state.flash != "",
                    rx.el.div(state.flash,
                              rx.cond(state.flash_retry,
                                      button(_s("Reintentar"), kind="secondary", on_click=state.retry,
                                             class_name="staff-retry")),
                              role=rx.cond(state.flash_kind == "error", "alert", "status"),
                              class_name=rx.cond(state.flash_kind == "error", "notice notice-error staff-flash",
                                                 rx.cond(state.flash_kind == "ok", "notice notice-ok staff-flash",
                                                         "notice staff-flash")))),
            *children,
            id="main", tab_index=-1, class_name="main staff-main" + (" wide" if wide else ""),
        ),
        class_name="app staff",
        lang="es",
    )


def button(label, *, kind: str = "primary", **props) -> rx.Component:
    extra = props.pop("class_name", "")
    return rx.el.button(label, class_name=f"btn btn-{kind} staff-btn {extra}".strip(),
                        type=props.pop("type", "button"), **props)


def tile(label: str, hint: str, href: str) -> rx.Component:
    return rx.el.a(rx.el.span(label, class_name="staff-tile-title"), rx.el.span(hint, class_name="staff-tile-hint"),
                   href=href, class_name="staff-tile")


def input_field(label: str, name: str, *, hint: str | None = None, error=None, **props) -> rx.Component:
    """A labelled input (uncontrolled: read from the form's data on submit)."""
    field_id = props.pop("id", f"staff-{name}")
    return rx.el.div(
        rx.el.label(label, html_for=field_id, class_name="label"),
        rx.el.p(hint, class_name="hint", id=f"{field_id}-hint") if hint else rx.fragment(),
        rx.cond(error, rx.el.p(error, class_name="field-error", id=f"{field_id}-error")) if error is not None
        else rx.fragment(),
        rx.el.input(id=field_id, name=name, class_name="input staff-input",
                    aria_describedby=f"{field_id}-hint" if hint else None, **props),
        class_name="field",
    )


def textarea_field(label: str, name: str, *, hint: str | None = None, **props) -> rx.Component:
    field_id = props.pop("id", f"staff-{name}")
    return rx.el.div(
        rx.el.label(label, html_for=field_id, class_name="label"),
        rx.el.p(hint, class_name="hint") if hint else rx.fragment(),
        rx.el.textarea(id=field_id, name=name, class_name="input staff-input staff-textarea", **props),
        class_name="field",
    )


def select_field(label: str, name: str, options, *, value=None, on_change=None, field_id: str | None = None,
                 placeholder: str | None = None, **props) -> rx.Component:
    """A labelled <select>. `options` is a Var list of {"value", "label"} dicts or a Python list of pairs."""
    field_id = field_id or f"staff-{name}"
    if isinstance(options, list):
        items = [rx.el.option(text, value=str(val)) for val, text in options]
    else:
        items = [rx.foreach(options, lambda o: rx.el.option(o["label"], value=o["value"]))]
    if placeholder is not None:
        items.insert(0, rx.el.option(placeholder, value=""))
    controlled = {"value": value, "on_change": on_change} if on_change is not None else (
        {"default_value": value} if value is not None else {})
    return rx.el.div(
        rx.el.label(label, html_for=field_id, class_name="label"),
        rx.el.select(*items, id=field_id, name=name, class_name="input staff-input staff-select", **controlled,
                     **props),
        class_name="field",
    )


def check_field(label: str, name: str, *, checked=None, **props) -> rx.Component:
    field_id = props.pop("id", f"staff-{name}")
    extra = {"default_checked": checked} if checked is not None else {}
    return rx.el.div(
        rx.el.input(type="checkbox", id=field_id, name=name, class_name="check-input", **extra, **props),
        rx.el.label(label, html_for=field_id, class_name="check-label"),
        class_name="check",
    )


def tag(text, status) -> rx.Component:
    return rx.el.span(text, class_name=f"tag staff-tag tag-{status}")


def stat(label: str, value, unit: str = "") -> rx.Component:
    return rx.el.div(
        rx.el.span(label, class_name="staff-stat-label"),
        rx.el.span(value, rx.el.span(unit, class_name="staff-stat-unit") if unit else rx.fragment(),
                   class_name="staff-stat-value"),
        class_name="staff-stat",
    )


def table(headers: list[str], body, caption: str | None = None, numeric: tuple[int, ...] = (), **props) -> rx.Component:
    """A table; `numeric` lists the columns aligned to the end (figures). A column without a title (the row's
    buttons) is named for screen readers only."""
    titles = [h or rx.el.span(_s("Acciones"), class_name="visually-hidden") for h in headers]
    return rx.el.div(
        rx.el.table(
            rx.el.caption(caption, class_name="visually-hidden") if caption else rx.fragment(),
            rx.el.thead(rx.el.tr(*[rx.el.th(h, scope="col", class_name="num" if i in numeric else None)
                                   for i, h in enumerate(titles)])),
            rx.el.tbody(body),
            class_name="staff-table", **props,
        ),
        class_name="staff-table-wrap",
    )


def section(title: str, *children, **props) -> rx.Component:
    return rx.el.section(rx.el.h2(title, class_name="h2"), *children,
                         class_name="card staff-card " + props.pop("class_name", ""), **props)


def ready_marker() -> Var:
    """Marks <html data-ready> once the page has hydrated (controls respond), as the citizen pages do; render the
    returned Var anywhere in the page (it renders nothing)."""
    hook = "useEffect(() => { document.documentElement.dataset.ready = '1'; }, []);"
    return Var("null", _var_data=VarData(imports={"react": ["useEffect"]}, hooks={hook: None}))


def every(milliseconds: int, handler) -> Var:
    """Calls a (backend) event handler every `milliseconds` while the page is open: render the returned Var
    anywhere in the page (it renders nothing). Each call reads the database, so any worker can answer."""
    chain = LiteralVar.create(EventChain.create(handler, args_spec=no_args_event_spec, key="every"))
    name = get_unique_variable_name()
    hook = (f"useEffect(() => {{ const {name} = setInterval(() => {{ ({chain!s})(); }}, {int(milliseconds)}); "
            f"return () => clearInterval({name}); }}, []);")
    data = VarData.merge(chain._get_all_var_data(), VarData(imports={"react": ["useEffect"]}, hooks={hook: None}))
    return Var("null", _var_data=data)


def day_fields(state, field_id: str) -> list[rx.Component]:
    """A day to look at (`state.day`, `set_day`) with the day before and after (`shift_day`)."""
    return [
        rx.el.div(
            rx.el.label(_s("Fecha"), html_for=field_id, class_name="label"),
            rx.el.input(id=field_id, type="date", value=state.day, on_change=state.set_day,
                        class_name="input staff-input"),
            class_name="field",
        ),
        button("‹", kind="secondary", aria_label=_s("Día anterior"), on_click=state.shift_day(-1)),
        button("›", kind="secondary", aria_label=_s("Día siguiente"), on_click=state.shift_day(1)),
    ]


def period_picker(state, office_field_id: str) -> rx.Component:
    """From, to, office, the usual periods and the CSV of what is shown (the report pages' PeriodMixin)."""
    return rx.fragment(
        rx.el.div(
            rx.el.div(rx.el.label(_s("Desde"), html_for="staff-from", class_name="label"),
                      rx.el.input(id="staff-from", type="date", value=state.first, on_change=state.set_first,
                                  class_name="input staff-input"), class_name="field"),
            rx.el.div(rx.el.label(_s("Hasta"), html_for="staff-to", class_name="label"),
                      rx.el.input(id="staff-to", type="date", value=state.last, on_change=state.set_last,
                                  class_name="input staff-input"), class_name="field"),
            select_field(_s("Oficina"), "office", state.office_options, value=state.office_id,
                         on_change=state.set_office, field_id=office_field_id, placeholder=_s("Todas mis oficinas")),
            class_name="staff-row",
        ),
        rx.el.div(
            button(_s("Últimos 7 días"), kind="secondary", class_name="btn-small", on_click=state.preset(7)),
            button(_s("Últimos 30 días"), kind="secondary", class_name="btn-small", on_click=state.preset(30)),
            button(_s("Últimos 90 días"), kind="secondary", class_name="btn-small", on_click=state.preset(90)),
            download_button(_s("Exportar CSV"), state.csv_url, kind="primary"),
            class_name="actions",
        ),
    )
