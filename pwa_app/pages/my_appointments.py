"""My appointments: what this device booked, what is still waiting to be sent, and a look-up by code."""

import reflex as rx

from components.data import client_fn, hook, page_const
from components.layout import page
from components.ui import button, field
from components.views import MyAppointments
from pwa_app.common.messages import ERRORS, translated
from pwa_app.routes import APPOINTMENT, citizen


def appointment_item(t, lang, a) -> rx.Component:
    return rx.el.li(
        rx.el.a(
            rx.el.span(a["procedure"]["name"], class_name="item-title"),
            rx.el.span(a["day"], " · ", a["time"], class_name="item-text"),
            rx.el.span(a["office"]["name"], class_name="item-text"),
            rx.el.span(a["status_label"], class_name="tag tag-" + a["status"]),
            href=citizen(lang, APPOINTMENT) + "?c=" + a["key"],
            class_name="item-link",
        ),
        class_name="item",
    )


def waiting_item(t, i) -> rx.Component:
    return rx.el.li(
        rx.el.span(i["label"]["procedure"], class_name="item-title"),
        rx.el.span(i["label"]["when"], class_name="item-text"),
        rx.el.span(
            rx.match(
                i["status"],
                ("conflict", t.gettext("That time was taken: choose another")),
                ("failed", t.gettext("Not accepted: check the details")),
                t.gettext("Pending — will be sent when you are online"),
            ),
            class_name="tag tag-pending",
        ),
        class_name="item",
    )


def lookup_form(t, lang, m, msgs) -> rx.Component:
    err = m["lookup"]["errors"]
    return rx.el.section(
        rx.el.h2(t.gettext("Find a booking"), class_name="h2"),
        rx.el.p(t.gettext("Booked on another device or by phone? Enter its code to see, change or cancel it."),
                class_name="muted"),
        rx.el.form(
            field(t.gettext("Booking code"), "code", error=rx.cond(err["code"], msgs[err["code"]], ""),
                  hint=t.gettext("For example: 7K3QM-2XH9D"), auto_complete="off",
                  auto_capitalize="characters", spell_check=False, max_length=20),
            field(t.gettext("Last four characters of your document or phone"), "verifier",
                  error=rx.cond(err["verifier"], msgs[err["verifier"]], ""),
                  auto_complete="off", auto_capitalize="characters", max_length=4, size=6),
            button(t.gettext("Find my booking"), type="submit"),
            on_submit=client_fn("lookUp").partial(lang),
            no_validate=True,
            class_name="form",
        ),
        class_name="card",
    )


def my_appointments(t, lang: str) -> rx.Component:
    m = hook("useMyAppointments", lang, var_type=MyAppointments)
    msgs = page_const(translated(ERRORS, t.gettext))
    return page(
        t, lang, "mis-citas/",
        rx.el.h1(t.gettext("My appointments")),
        rx.cond(
            m["waitingCount"] > 0,
            rx.el.section(
                rx.el.h2(t.gettext("Waiting to be sent"), class_name="h2"),
                rx.el.ul(rx.foreach(m["waiting"], lambda i: waiting_item(t, i)), class_name="list"),
            ),
        ),
        rx.cond(
            m["count"] > 0,
            rx.el.ul(rx.foreach(m["list"], lambda a: appointment_item(t, lang, a)), class_name="list"),
            rx.el.p(t.gettext("There are no appointments saved on this device."), class_name="muted"),
        ),
        lookup_form(t, lang, m, msgs),
    )
