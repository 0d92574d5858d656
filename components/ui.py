"""Cita's small component set: native HTML elements (rx.el.*) styled by assets/cita.css, in the manner of the
GOV.UK Design System. No Radix Themes: one of those components would load 158 KB gz more on every page."""

import reflex as rx
from reflex_base.vars.base import Var
from reflex_components_core.react_router import link as router_link

from pwa_app.common.i18n import DEFAULT_LANG, text_direction


def button(*children, kind: str = "primary", **props) -> rx.Component:
    extra = props.pop("class_name", "")
    return rx.el.button(*children, class_name=f"btn btn-{kind} {extra}".strip(), type=props.pop("type", "button"),
                        **props)


def link_button(label, href, *, kind: str = "primary", **props) -> rx.Component:
    return rx.el.a(label, href=href, class_name=f"btn btn-{kind}", **props)


def download_button(label, href, *, kind: str = "secondary") -> rx.Component:
    """A link to a file (e.g. the .ics): a document request, not a client-side route change."""
    return router_link(label, href=href, download=True, reload_document=True, class_name=f"btn btn-{kind}")


def back_link(label, href) -> rx.Component:
    """A link back up; its arrow points the reading direction's way back (mirrored in Arabic)."""
    return rx.el.a(rx.el.span("←", class_name="arrow", aria_hidden="true"), label, href=href, class_name="back")


def heading(text, *, level: int = 1, **props) -> rx.Component:
    return getattr(rx.el, f"h{level}")(text, **props)


def focus_here(key: str) -> dict:
    """Props for a heading (or notice) that focus moves to when it appears or changes after the citizen acted: a
    new step or a result is read out and scrolled into view (assets/offline.js, `showFocus`)."""
    return {"tab_index": -1, "custom_attrs": {"data-focus": key}}


def para(*children, muted: bool = False, **props) -> rx.Component:
    return rx.el.p(*children, class_name="muted" if muted else "", **props)


def card(*children, **props) -> rx.Component:
    return rx.el.section(*children, class_name="card " + props.pop("class_name", ""), **props)


def notice(*children, kind: str = "info", live: bool = True, **props) -> rx.Component:
    """A highlighted message; `live` announces it to screen readers when it appears."""
    role = ("alert" if kind == "error" else "status") if live else None
    extra = props.pop("class_name", "")
    return rx.el.div(*children, class_name=f"notice notice-{kind} {extra}".strip(), role=role, **props)


def error_text(message: Var | str, field_id: str) -> rx.Component:
    return rx.el.p(message, id=f"{field_id}-error", class_name="field-error", role="alert")


def field(label, name: str, *, error: Var, value: Var | None = None, hint=None, on_change=None,
          multiline: bool = False, **input_props) -> rx.Component:
    """A labelled text input (or text area) with an optional hint and an error announced to screen readers."""
    field_id = f"field-{name}"
    described = f"{field_id}-hint {field_id}-error" if hint is not None else f"{field_id}-error"
    return rx.el.div(
        rx.el.label(label, html_for=field_id, class_name="label"),
        rx.el.p(hint, id=f"{field_id}-hint", class_name="hint") if hint is not None else rx.fragment(),
        rx.cond(error, error_text(error, field_id)),
        (rx.el.textarea if multiline else rx.el.input)(
            id=field_id,
            name=name,
            **({"value": value, "on_change": on_change} if value is not None else {}),
            aria_invalid=rx.cond(error, "true", "false"),
            aria_describedby=described,
            class_name=rx.cond(error, "input input-error", "input"),
            **input_props,
        ),
        class_name=rx.cond(error, "field field-has-error", "field"),
    )


def checkbox(label, name: str, *, checked: Var, on_change=None, error: Var | None = None, details=None,
             **props) -> rx.Component:
    """A checkbox with its label; `details` (e.g. a link to the privacy notice) follows, outside the label."""
    field_id = f"field-{name}"
    return rx.el.div(
        rx.cond(error, error_text(error, field_id)) if error is not None else rx.fragment(),
        rx.el.div(
            rx.el.input(type="checkbox", id=field_id, name=name, checked=checked, on_change=on_change,
                        aria_describedby=f"{field_id}-error", class_name="check-input", **props),
            rx.el.label(label, html_for=field_id, class_name="check-label"),
            class_name="check",
        ),
        rx.el.p(details, class_name="check-details") if details is not None else rx.fragment(),
        class_name=rx.cond(error, "field field-has-error", "field") if error is not None else "field",
    )


def summary_list(*rows) -> rx.Component:
    """Key–value rows (a description list), e.g. where, when, fee."""
    return rx.el.dl(*[rx.el.div(rx.el.dt(k), rx.el.dd(v), class_name="row") for k, v in rows], class_name="summary")


def content(element, row, field: str, lang: str, *before, **props) -> rx.Component:
    """One content text of a catalogue row, as `element` (e.g. rx.el.p) after `before`. Where it fell back to Spanish
    for want of a translation it carries lang="es" dir="ltr", so it is laid out and read aloud as Spanish."""
    if lang != DEFAULT_LANG:
        spanish = (row["untranslated"] | Var.create([])).to(list).contains(field)
        props |= {"lang": rx.cond(spanish, "es", lang), "dir": rx.cond(spanish, "ltr", text_direction(lang))}
    return element(*before, row[field], **props)


def icon(name: str) -> rx.Component:
    """A decorative icon from assets/icon-<name>.svg (served by the app, no icon font)."""
    return rx.el.img(src=f"/icon-{name}.svg", alt="", custom_attrs={"width": 20, "height": 20}, class_name="icon")


def catalogue_preload(lang: str) -> rx.Component:
    """For pages that always read the catalogue: its download starts with the page instead of after the page's
    scripts, so the procedures show sooner on a slow line (React places the <link> in the head)."""
    return rx.el.link(rel="preload", href=f"/api/v1/procedures?lang={lang}",
                      custom_attrs={"as": "fetch", "crossOrigin": "anonymous"})
