"""Confirming a high-demand booking: the citizen opens the link e-mailed to them (…/confirmar/?t=TOKEN). The page
sends the token through the outbox (an Idempotency-Key, like every citizen write) and shows the booking, or, when
it came too late, says so and offers the nearest free times to book again."""

import reflex as rx

from components.data import client_fn, hook
from components.layout import loading, page
from components.ui import notice
from components.views import ConfirmPage
from pwa_app.pages.booking import booked_panel
from pwa_app.routes import BOOK, citizen


def too_late(t, lang, v) -> rx.Component:
    return rx.el.section(
        notice(rx.foreach(v["errorList"], lambda e: rx.el.p(e)), kind="error"),
        rx.cond(v["alternatives"].length() > 0, rx.fragment(
            rx.el.h2(t.gettext("Book again"), class_name="h2"),
            rx.el.ul(
                rx.foreach(v["alternatives"], lambda alt: rx.el.li(rx.el.a(
                    rx.el.span(alt["day"], " · ", alt["time"], class_name="item-title"),
                    rx.el.span(alt["office_name"], class_name="item-text"),
                    href=citizen(lang, BOOK) + "?p=" + alt["procedure"],
                    class_name="choice",
                    on_click=client_fn("bookAgain").partial(alt["procedure"], alt["office"], alt["start"],
                                                            alt["day"], alt["time"]),
                ))),
                class_name="list",
            ),
        )),
    )


def confirm(t, lang: str) -> rx.Component:
    v = hook("useConfirm", lang, t.gettext("Booking confirmation"), var_type=ConfirmPage)
    return page(
        t, lang, "confirmar/",
        rx.el.h1(t.gettext("Confirm your appointment")),
        rx.match(
            v["status"],
            ("done", rx.cond(v["isConfirmed"],
                             booked_panel(t, lang, v["confirmed"], t.gettext("Appointment confirmed")),
                             loading(t))),
            ("conflict", too_late(t, lang, v)),
            ("failed", notice(rx.foreach(v["errorList"], lambda e: rx.el.p(e)), kind="error")),
            ("missing", notice(t.gettext("This confirmation link is not complete. Please open the link from your "
                                         "email again."), kind="error")),
            notice(rx.cond(v["ready"], t.gettext("Confirming your booking…"), ""), class_name="pending"),
        ),
    )
