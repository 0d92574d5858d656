"""A procedure: what it is, who can apply, the checklist of what to bring (ticks remembered on the device),
where it is done, and the way to book it."""

import reflex as rx

from components.data import client_fn, hook
from components.layout import loading, page
from components.ui import back_link, catalogue_preload, link_button, notice, summary_list
from components.views import ProcedurePage


def checklist_item(slug, r) -> rx.Component:
    box_id = "req-" + r["id"].to(str)
    return rx.el.li(
        rx.el.input(type="checkbox", id=box_id, checked=r["ticked"], class_name="check-input",
                    on_change=client_fn("toggleTick").partial(slug, r["id"])),
        rx.el.label(
            rx.el.span(r["text"], class_name="check-text"),
            rx.cond(r["note"], rx.el.span(r["note"], class_name="hint")),
            html_for=box_id,
            class_name="check-label",
        ),
        class_name="check",
    )


def office_card(t, o) -> rx.Component:
    return rx.el.li(
        rx.el.h3(o["name"], class_name="h3"),
        rx.el.p(o["address"]),
        rx.el.p(o["opening_hours"], class_name="muted"),
        rx.cond(o["accessibility"], rx.el.p(rx.el.span("♿ ", aria_hidden="true"), o["accessibility"], class_name="muted")),
        rx.cond(o["map_url"], rx.el.a(t.gettext("See on the map"), href=o["map_url"], rel="noopener", target="_blank")),
        class_name="office",
    )


def procedure_body(lang: str, t, v) -> rx.Component:
    p = v["p"]
    return rx.fragment(
        back_link(t.gettext("All procedures"), f"/{lang}/"),
        rx.el.h1(p["name"]),
        rx.cond(p["fallback"], notice(t.gettext("Part of this information is not available in your language yet."), live=False)),
        rx.el.p(p["description"], class_name="lead"),
        summary_list(
            (t.gettext("Who can apply"), p["who_can_apply"]),
            (t.gettext("Fee"), p["fee"]),
            (t.gettext("Time at the desk"), rx.el.span(p["duration_minutes"], " min")),
        ),
        rx.cond(
            p["needs_appointment"],
            link_button(t.gettext("Book an appointment"), f"/{lang}/reservar/?p=" + p["slug"],
                        on_click=client_fn("openBooking").partial(p["slug"])),
            link_button(t.gettext("Do it online"), p["online_url"], rel="noopener"),
        ),
        rx.el.section(
            rx.el.h2(t.gettext("What to bring"), class_name="h2"),
            rx.el.p(t.gettext("Tick what you already have ready. This list is saved on this device."),
                    class_name="muted"),
            rx.el.p(t.gettext("Ready"), ": ", v["done"], " / ", v["total"], class_name="progress", aria_live="polite"),
            rx.el.ul(rx.foreach(p["requirements"], lambda r: checklist_item(p["slug"], r)), class_name="checklist"),
            class_name="card",
        ),
        rx.el.section(
            rx.el.h2(t.gettext("Where"), class_name="h2"),
            rx.el.ul(rx.foreach(p["officeList"], lambda o: office_card(t, o)), class_name="offices"),
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
                       rx.el.a(t.gettext("See all procedures"), href=f"/{lang}/"), kind="error"),
                loading(t),
            ),
        ),
    )
