"""A procedure: what it is, who can apply, the checklist of what to bring (ticks remembered on the device),
where it is done, and the way to book it."""

import reflex as rx

from components.data import client_fn, hook
from components.layout import loading, page
from components.ui import back_link, catalogue_preload, content, link_button, notice, summary_list
from components.views import ProcedurePage
from pwa_app.routes import BOOK, HOME, citizen


def checklist_item(lang: str, slug, r) -> rx.Component:
    box_id = "req-" + r["id"].to(str)
    return rx.el.li(
        rx.el.input(type="checkbox", id=box_id, checked=r["ticked"], class_name="check-input",
                    on_change=client_fn("toggleTick").partial(slug, r["id"])),
        rx.el.label(
            content(rx.el.span, r, "text", lang, class_name="check-text"),
            rx.cond(r["note"], content(rx.el.span, r, "note", lang, class_name="hint")),
            html_for=box_id,
            class_name="check-label",
        ),
        class_name="check",
    )


def office_card(lang: str, t, o) -> rx.Component:
    return rx.el.li(
        content(rx.el.h3, o, "name", lang, class_name="h3"),
        rx.el.p(o["address"]),
        content(rx.el.p, o, "opening_hours", lang, class_name="muted"),
        rx.cond(o["accessibility"], content(rx.el.p, o, "accessibility", lang,
                                            rx.el.span("♿ ", aria_hidden="true"), class_name="muted")),
        rx.cond(o["map_url"], rx.el.a(t.gettext("See on the map"), href=o["map_url"], rel="noopener", target="_blank")),
        class_name="office",
    )


def procedure_body(lang: str, t, v) -> rx.Component:
    p = v["p"]
    return rx.fragment(
        back_link(t.gettext("All procedures"), citizen(lang, HOME)),
        content(rx.el.h1, p, "name", lang),
        rx.cond(p["fallback"], notice(t.gettext("Part of this information is not available in your language yet."), live=False)),
        content(rx.el.p, p, "description", lang, class_name="lead"),
        summary_list(
            (t.gettext("Who can apply"), content(rx.el.span, p, "who_can_apply", lang)),
            (t.gettext("Fee"), content(rx.el.span, p, "fee", lang)),
            (t.gettext("Time at the desk"), rx.el.span(p["duration_minutes"], " min")),
        ),
        rx.cond(
            p["needs_appointment"],
            link_button(t.gettext("Book an appointment"), citizen(lang, BOOK) + "?p=" + p["slug"],
                        on_click=client_fn("openBooking").partial(p["slug"])),
            link_button(t.gettext("Do it online"), p["online_url"], rel="noopener"),
        ),
        rx.el.section(
            rx.el.h2(t.gettext("What to bring"), class_name="h2"),
            rx.el.p(t.gettext("Tick what you already have ready. This list is saved on this device."),
                    class_name="muted"),
            rx.el.p(t.gettext("Ready"), ": ", v["done"], " / ", v["total"], class_name="progress", aria_live="polite"),
            rx.el.ul(rx.foreach(p["requirements"], lambda r: checklist_item(lang, p["slug"], r)), class_name="checklist"),
            class_name="card",
        ),
        rx.el.section(
            rx.el.h2(t.gettext("Where"), class_name="h2"),
            rx.el.ul(rx.foreach(p["officeList"], lambda o: office_card(lang, t, o)), class_name="offices"),
        ),
    )


def procedure(t, lang: str) -> rx.Component:
    v = hook("useProcedure", lang, var_type=ProcedurePage)
    return page(
        t, lang, "tramite/",
        catalogue_preload(lang),
        rx.cond(
            v["found"],
            procedure_body(lang, t, v),
            rx.cond(
                v["ready"],
                notice(t.gettext("We could not find this procedure."), " ",
                       rx.el.a(t.gettext("See all procedures"), href=citizen(lang, HOME)), kind="error"),
                loading(t),
            ),
        ),
    )
