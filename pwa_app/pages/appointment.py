"""One appointment saved on this device: when and where, what to bring, the calendar file, and the ways to
change the time or cancel (both through the outbox, so they also work offline)."""

import reflex as rx

from components.data import client_fn, hook
from components.layout import kept_here, page
from components.push import notify_me
from components.ui import back_link, button, download_button, focus_here, link_button, notice, summary_list
from components.views import AppointmentPage
from pwa_app.pages.visit import booked_visit, further_checklists, visit_end
from pwa_app.routes import BOOK, MY_APPOINTMENTS, SURVEY, citizen


def confirm_box(t, asking, question: str, yes: str, yes_action, name: str, ask_kind: str, ask_action) -> rx.Component:
    """A button that asks first: while `asking`, the question with "yes" and "no, keep it" in its place."""
    return rx.cond(
        asking,
        rx.el.div(
            rx.el.p(question, class_name="strong"),
            rx.el.div(
                button(yes, kind="warning", on_click=yes_action),
                button(t.gettext("No, keep it"), kind="secondary", on_click=client_fn("keepAppointment")),
                class_name="actions",
            ),
            class_name="panel-warning",
            role="alertdialog",
            aria_label=name,
            **focus_here("asking"),
        ),
        button(name, kind=ask_kind, on_click=ask_action),
    )


def cancel_box(t, lang, v) -> rx.Component:
    return confirm_box(
        t, v["confirming"],
        t.gettext("Do you want to cancel this appointment? The time will be offered to other people."),
        t.gettext("Yes, cancel it"), client_fn("cancelAppointment").partial(lang, v["key"]),
        t.gettext("Cancel appointment"), "warning", client_fn("askCancel").partial(v["key"]),
    )


def forget_box(t, lang, v) -> rx.Component:
    """The citizen's right to erasure, with a confirmation: the booking's personal data is deleted for good."""
    return confirm_box(
        t, v["forgetting"],
        t.gettext("Delete your name, document, phone and email from this booking? If it is still to come, it will "
                  "be cancelled. This cannot be undone."),
        t.gettext("Yes, delete my data"), client_fn("forgetAppointment").partial(lang, v["key"]),
        t.gettext("Delete my personal data"), "link", client_fn("askForget").partial(v["key"]),
    )


def appointment_body(t, lang, v) -> rx.Component:
    a = v["a"]
    return rx.fragment(
        back_link(t.gettext("My appointments"), citizen(lang, MY_APPOINTMENTS)),
        rx.el.h1(a["procedure"]["name"]),
        rx.el.p(rx.el.span(a["status_label"], class_name="tag tag-" + a["status"]), class_name="status-line"),
        rx.cond(a["status"] == "cancelled", rx.el.div(
            rx.el.h2(t.gettext("Appointment cancelled"), class_name="h2", **focus_here("cancelled")),
            rx.el.p(t.gettext("The time is free again for other people.")),
            class_name="panel-success",
            role="status",
        )),
        rx.cond(a["confirm_note"], notice(a["confirm_note"])),
        rx.cond(v["pendingCount"] > 0,
                notice(t.gettext("A change to this appointment is waiting to be sent. It will be sent when you are online."),
                       **focus_here("pending"))),
        summary_list(
            (t.gettext("Booking code"), rx.el.span(a["code"], class_name="code-inline")),
            (t.gettext("When"), rx.el.span(a["day"], " · ", a["time"], visit_end(a))),
            (t.gettext("Where"), rx.el.span(a["office"]["name"], rx.el.br(), a["office"]["address"])),
            (t.gettext("Name"), a["name"]),
        ),
        booked_visit(t, a),
        rx.cond(a["office"]["map_url"], rx.el.p(rx.el.a(t.gettext("See on the map"), href=a["office"]["map_url"],
                                                        rel="noopener", target="_blank"))),
        rx.cond(
            a["changeable"],  # what to bring, reminders: only for an appointment still to come (not a cancelled one)
            rx.el.div(
                rx.el.h2(t.gettext("What to bring"), class_name="h2"),
                rx.el.ul(rx.foreach(a["requirements"], lambda r: rx.el.li(r)), class_name="bullets"),
                further_checklists(t, a, "h2"),
            ),
        ),
        rx.cond(
            a["changeable"],
            rx.el.div(
                rx.cond(a["confirm_note"], rx.fragment(),
                        download_button(t.gettext("Add to my calendar"), a["ics_url"])),
                link_button(t.gettext("Change the time"),
                            citizen(lang, BOOK) + "?p=" + a["procedure"]["slug"] + "&r=" + v["key"], kind="secondary",
                            on_click=client_fn("openBooking").partial(a["procedure"]["slug"] + ":" + v["key"],
                                                                       a["office"]["slug"])),
                cancel_box(t, lang, v),
                class_name="actions stack",
            ),
        ),
        rx.cond(a["status"] == "done",  # issue 9: survey
                link_button(t.gettext("Tell us how it went (30 seconds)"), citizen(lang, SURVEY) + "?c=" + v["key"])),
        rx.cond(a["changeable"], notify_me(t, lang, "appointment")),
        forget_box(t, lang, v),
        rx.el.p(t.gettext("Last updated"), ": ", rx.el.time(v["asOfLabel"], date_time=v["asOf"]), class_name="hint"),
    )


def appointment(t, lang: str) -> rx.Component:
    v = hook("useAppointment", lang, var_type=AppointmentPage)
    return page(
        t, lang, "cita/",
        kept_here(t, v, appointment_body(t, lang, v), t.gettext("My appointment"),
                  t.gettext("This appointment is not saved on this device."), t.gettext("Find it with its code"),
                  citizen(lang, MY_APPOINTMENTS)),
    )
