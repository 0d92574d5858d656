"""Booking (and rescheduling): office → day → time → details → sent. Every step reads the cached catalogue and
availability, the draft lives on the device, and the booking goes through the outbox, so all of it works
offline and nothing typed is lost when the language changes."""

import reflex as rx

from components.data import client_fn, hook, page_const
from components.layout import loading, page
from components.ui import (
    back_link, button, catalogue_preload, checkbox, content, download_button, field, focus_here, link_button, notice,
    summary_list,
)
from components.views import Booking
from pwa_app.common.i18n import weekday_names
from pwa_app.common.messages import ERRORS, translated
from pwa_app.pages.visit import (
    booked_visit, further_checklists, other_people, party_line, person_legend, representative_fields,
    representative_switch, visit_choice, visit_end,
)
from pwa_app.routes import APPOINTMENT, MY_APPOINTMENTS, PRIVACY, PROCEDURE, citizen

STEPS = ("office", "day", "time", "details")


def steps(t, b) -> rx.Component:
    names = (t.gettext("Office"), t.gettext("Day"), t.gettext("Time"),
             rx.cond(b["rescheduling"], t.gettext("Confirm"), t.gettext("Your details")))
    return rx.el.ol(
        *[
            rx.el.li(
                name,
                class_name=rx.cond(b["draft"]["step"] == key, "step current", "step"),
                aria_current=rx.cond(b["draft"]["step"] == key, "step", None),
            )
            for key, name in zip(STEPS, names)
        ],
        class_name="steps",
        aria_label=t.gettext("Booking steps"),
    )


def office_step(t, lang, slug, b) -> rx.Component:
    return rx.el.section(
        rx.el.h2(t.gettext("Choose an office"), class_name="h2", **focus_here("office")),
        rx.el.ul(
            rx.foreach(
                b["p"]["officeList"],
                lambda o: rx.el.li(
                    rx.el.button(
                        content(rx.el.span, o, "name", lang, class_name="item-title"),
                        rx.el.span(o["address"], class_name="item-text"),
                        content(rx.el.span, o, "opening_hours", lang, class_name="item-text"),
                        rx.cond(o["earliest"], rx.el.span(
                            rx.cond(o["soonest"], rx.el.strong(t.gettext("Earliest"), class_name="tag tag-resolved")),
                            " ", t.gettext("First free time"), ": ", o["earliest"], class_name="item-text")),
                        type="button",
                        class_name="choice",
                        on_click=client_fn("chooseOffice").partial(slug, o["slug"]),
                    ),
                ),
            ),
            class_name="list",
        ),
    )


def day_cell(t, slug, d) -> rx.Component:
    return rx.el.td(
        rx.cond(
            d["open"],
            rx.el.button(
                d["n"],
                type="button",
                class_name=rx.cond(d["selected"], "day open selected", "day open"),
                tab_index=rx.cond(d["tab"], 0, -1),  # roving: arrows move between days (assets/offline.js)
                aria_label=d["label"] + " · " + t.gettext("free times") + ": " + d["free"].to(str),
                aria_pressed=rx.cond(d["selected"], "true", "false"),
                on_click=client_fn("chooseDay").partial(slug, d["date"], d["label"]),
            ),
            rx.el.span(d["n"], class_name="day closed", aria_hidden="true"),
        ),
    )


def day_step(t, lang, slug, b) -> rx.Component:
    return rx.el.section(
        rx.el.h2(t.gettext("Choose a day"), class_name="h2", **focus_here("day")),
        rx.el.p(t.gettext("Office"), ": ", b["office"]["name"], class_name="muted"),
        visit_choice(t, slug, b),
        # Offline, a calendar saved in another language is better than none: say so (its dates are in that one).
        rx.cond(b["daysOtherLanguage"],
                notice(t.gettext("Part of this information is not available in your language yet."), live=False)),
        rx.cond(
            b["hasDays"],
            rx.fragment(
                rx.el.div(
                    # ‹ and › are bidi-mirrored glyphs: in Arabic the text direction already turns them.
                    button("‹", kind="secondary", class_name="month-nav",
                           aria_label=t.gettext("Previous month"), disabled=~b["prevMonth"].to(bool),
                           on_click=client_fn("showMonth").partial(slug, b["prevMonth"])),
                    rx.el.h3(b["monthLabel"], class_name="month-label", aria_live="polite"),
                    button("›", kind="secondary", class_name="month-nav",
                           aria_label=t.gettext("Next month"), disabled=~b["nextMonth"].to(bool),
                           on_click=client_fn("showMonth").partial(slug, b["nextMonth"])),
                    class_name="month-bar",
                ),
                rx.el.table(
                    rx.el.thead(rx.el.tr(*[rx.el.th(short, scope="col", custom_attrs={"abbr": full}) for short, full in weekday_names(lang)])),
                    rx.el.tbody(rx.foreach(b["weeks"], lambda w: rx.el.tr(rx.foreach(w, lambda d: day_cell(t, slug, d))))),
                    class_name="calendar",
                ),
                rx.el.p(t.gettext("Days with free times are shown in bold."), class_name="hint"),
            ),
            notice(t.gettext("No free times are known for this office. If you are offline, connect to see them.")),
        ),
        rx.cond(b["nextRelease"], rx.el.p(b["nextRelease"], class_name="hint")),
        rx.cond(b["asOf"], rx.el.p(t.gettext("Availability saved on this device."), class_name="hint")),
        rx.cond(b["p"]["officeList"].length() > 1,
                button(t.gettext("Change office"), kind="link", on_click=client_fn("goToStep").partial(slug, "office"))),
    )


def time_step(t, slug, b, msgs) -> rx.Component:
    return rx.el.section(
        rx.cond(b["draft"]["notice"], notice(msgs[b["draft"]["notice"]], kind="error")),
        rx.el.h2(t.gettext("Choose a time"), class_name="h2", **focus_here("time")),
        rx.el.p(b["dayLabel"], " · ", b["office"]["name"], class_name="muted"),
        party_line(t, b),
        rx.el.ul(
            rx.foreach(
                b["times"],
                lambda s: rx.el.li(
                    rx.el.button(
                        s["time"],
                        type="button",
                        class_name="time",
                        disabled=s["free"] <= 0,
                        aria_label=rx.cond(s["free"] > 0, s["time"], s["time"] + " · " + t.gettext("full")),
                        on_click=client_fn("chooseTime").partial(slug, s["start"], s["time"]),
                    )
                ),
            ),
            class_name="times",
        ),
        button(t.gettext("Choose another day"), kind="link", on_click=client_fn("goToStep").partial(slug, "day")),
    )


def chosen(t, b) -> rx.Component:
    return rx.fragment(summary_list(
        (t.gettext("Procedure"), b["p"]["name"]),
        (t.gettext("Office"), b["office"]["name"]),
        (t.gettext("When"), rx.el.span(b["dayLabel"], " · ", b["draft"]["time"])),
    ), party_line(t, b))


def hold_notice(t, slug, b) -> rx.Component:
    """The kept time's countdown: visible every second, announced to screen readers once a minute."""
    return rx.el.div(
        rx.el.p(t.gettext("We are keeping this time for you while you fill in your details."),
                " ", rx.el.strong(b["holdClock"], class_name="clock", aria_hidden="true")),
        rx.el.p(
            rx.cond(b["holdEnding"], t.gettext("Less than a minute left to confirm."),
                    t.gettext("Minutes left to confirm") + ": " + b["holdMinutes"]),
            class_name="visually-hidden",
            aria_live="polite",
        ),
        # WCAG 2.2.1: before the time runs out, the citizen can ask for more (at most twice).
        rx.cond(b["holdEnding"] & b["canRenew"],
                button(t.gettext("I need more time"), kind="secondary", on_click=client_fn("moreTime").partial(slug))),
        class_name=rx.cond(b["holdEnding"], "notice notice-error hold", "notice hold"),
    )


def person_fields(t, b, text_field) -> rx.Component:
    """The booking's own person: the one booking, or the person a representative books for."""
    return rx.el.fieldset(
        person_legend(t, b),
        text_field(t.gettext("Full name"), "name", auto_complete="name", max_length=100),
        rx.cond(
            b["p"]["requires_document"],
            text_field(t.gettext("DNI, NIE or passport number"), "document",
                       t.gettext("You will need to show it at the office."), auto_complete="off",
                       auto_capitalize="characters", spell_check=False, max_length=20),
        ),
        text_field(t.gettext("Mobile phone (optional)"), "phone",
                   rx.cond(b["p"]["requires_document"],
                           t.gettext("So the town hall can call you if your appointment has to change."),
                           t.gettext("Needed to find your booking later, and so the town hall can call you if "
                                     "your appointment has to change.")),
                   type="tel", auto_complete="tel", input_mode="tel", max_length=20),
        rx.cond(
            b["p"]["high_demand"],
            text_field(t.gettext("Email"), "email", t.gettext("Needed for this procedure: we will email you a "
                                                              "link to confirm the booking."),
                       type="email", auto_complete="email", max_length=254),
            text_field(t.gettext("Email (optional)"), "email", type="email", auto_complete="email", max_length=254),
        ),
        class_name="person",
    )


def details_step(t, lang, slug, b, msgs) -> rx.Component:
    d, err = b["draft"], b["draft"]["errors"]
    set_field = client_fn("setField")

    def text_field(label, name, hint=None, **props):
        return field(label, name, error=rx.cond(err[name], msgs[err[name]], ""), value=d[name], hint=hint,
                     on_change=set_field.partial(slug, name), **props)

    return rx.el.section(
        rx.el.h2(t.gettext("Your details"), class_name="h2", **focus_here("details")),
        chosen(t, b),
        rx.cond(b["held"], hold_notice(t, slug, b)),
        rx.el.form(
            representative_switch(t, slug, d),
            person_fields(t, b, text_field),
            other_people(t, b, text_field),
            representative_fields(t, slug, d, err, msgs, text_field),
            checkbox(
                rx.el.span(t.gettext("I have read the privacy notice: the town hall uses these details only to "
                                     "attend this appointment and deletes them after the retention period.")),
                "consent",
                details=rx.el.a(t.gettext("Read the privacy notice"), href=citizen(lang, PRIVACY),
                                target="_blank", rel="noopener"),
                checked=d["consent"],
                on_change=client_fn("toggleField").partial(slug, "consent"),
                error=rx.cond(err["consent"], msgs[err["consent"]], ""),
            ),
            rx.cond(b["isOnline"], rx.fragment(),
                    notice(t.gettext("You are offline. Your booking will be saved and sent when you are online."))),
            button(t.gettext("Confirm booking"), type="submit"),
            on_submit=client_fn("submitBooking").partial(lang, slug),
            no_validate=True,
            class_name="form",
        ),
        button(t.gettext("Choose another time"), kind="link", on_click=client_fn("goToStep").partial(slug, "time")),
    )


def reschedule_step(t, lang, slug, b) -> rx.Component:
    return rx.el.section(
        rx.el.h2(t.gettext("Move my appointment"), class_name="h2", **focus_here("details")),
        chosen(t, b),
        button(t.gettext("Move it to this time"),
               on_click=client_fn("submitReschedule").partial(lang, slug)),
        button(t.gettext("Choose another time"), kind="link", on_click=client_fn("goToStep").partial(slug, "time")),
    )


def confirmation(t, lang, slug, b) -> rx.Component:
    return booked_panel(t, lang, b["confirmed"],
                        rx.cond(b["rescheduling"], t.gettext("Appointment moved"), t.gettext("Appointment booked")))


def booked_panel(t, lang, a, heading) -> rx.Component:
    """A booking the town hall accepted: its code, when and where, what to bring. A high-demand booking still
    waiting for its e-mailed link says so first, plainly."""
    return rx.el.section(
        rx.cond(a["confirm_note"], rx.el.div(
            rx.el.h2(t.gettext("Check your email to confirm"), class_name="h2", **focus_here("confirm-note")),
            rx.el.p(a["confirm_note"], id="confirm-note"),
            class_name="panel-warning",
            role="status",
        )),
        rx.el.div(
            rx.el.h2(rx.cond(a["confirm_note"], t.gettext("Booking waiting for confirmation"), heading),
                     class_name="h2", **focus_here("booked")),
            rx.el.p(t.gettext("Your booking code")),
            rx.el.p(a["code"], class_name="code", id="booking-code"),
            rx.el.p(t.gettext("Keep this code. To see, change or cancel the appointment you will need it and the "
                              "last four characters of your document or phone: "), rx.el.strong(a["verifier"])),
            class_name=rx.cond(a["confirm_note"], "panel-pending", "panel-success"),
            role="status",
        ),
        summary_list(
            (t.gettext("Procedure"), a["procedure"]["name"]),
            (t.gettext("When"), rx.el.span(a["day"], " · ", a["time"], visit_end(a))),
            (t.gettext("Where"), rx.el.span(a["office"]["name"], rx.el.br(), a["office"]["address"])),
        ),
        booked_visit(t, a),
        rx.el.h3(t.gettext("What to bring"), class_name="h3"),
        rx.el.ul(rx.foreach(a["requirements"], lambda r: rx.el.li(r)), class_name="bullets"),
        further_checklists(t, a),
        rx.el.div(
            # Into the calendar once it is confirmed: a time that may go back to others is not an appointment yet.
            rx.cond(a["confirm_note"], rx.fragment(), download_button(t.gettext("Add to my calendar"), a["ics_url"])),
            link_button(t.gettext("See my appointment"), citizen(lang, APPOINTMENT) + "?c=" + a["code"]),
            class_name="actions",
        ),
    )


def sent_step(t, lang, slug, b) -> rx.Component:
    return rx.match(
        b["status"],
        ("done", rx.cond(b["isConfirmed"], confirmation(t, lang, slug, b), loading(t))),
        ("conflict", rx.el.section(
            notice(rx.el.p(b["itemErrorList"][0]), kind="error"),
            rx.el.h2(t.gettext("Nearest free times"), class_name="h2", **focus_here("conflict")),
            rx.el.ul(
                rx.foreach(b["alternatives"], lambda alt: rx.el.li(rx.el.button(
                    rx.el.span(alt["day"], " · ", alt["time"], class_name="item-title"),
                    rx.el.span(alt["office_name"], class_name="item-text"),
                    type="button", class_name="choice",
                    on_click=client_fn("acceptAlternative").partial(slug, alt["office"], alt["start"], alt["day"], alt["time"]),
                ))),
                class_name="list",
            ),
            button(t.gettext("Choose another day"), kind="link", on_click=client_fn("goToStep").partial(slug, "day")),
        )),
        ("failed", rx.el.section(
            notice(rx.el.p(t.gettext("The town hall could not accept this booking:")),
                   rx.el.ul(rx.foreach(b["itemErrorList"], lambda e: rx.el.li(e))), kind="error",
                   **focus_here("failed")),
            rx.cond(b["limitReached"], link_button(t.gettext("My appointments"), citizen(lang, MY_APPOINTMENTS),
                                                   kind="secondary")),
            button(t.gettext("Check my details"), on_click=client_fn("goToStep").partial(slug, "details")),
        )),
        ("ask", rx.el.section(
            notice(
                rx.el.p(t.gettext("The time we are keeping for you runs out before your booking can be sent "
                                  "again."), " ", b["limited"]),
                kind="error", **focus_here("ask"),
            ),
            chosen(t, b),
            rx.el.div(
                button(t.gettext("Choose another time"), on_click=client_fn("chooseAnotherTime").partial(slug)),
                button(t.gettext("Keep trying this time"), kind="secondary",
                       on_click=client_fn("keepTrying").partial(slug)),
                class_name="actions",
            ),
        )),
        rx.fragment(notice(
            rx.cond(
                b["limited"] != "",
                b["limited"],  # a 429: why and until when, from the town hall (never "cannot be reached")
                rx.cond(
                    ~b["isOnline"],
                    t.gettext("Pending — your booking is saved on this device and will be sent when you are online."),
                    rx.cond(
                        b["retrying"],
                        t.gettext("The town hall cannot be reached right now. Your booking is saved on this device "
                                  "and will be sent automatically."),
                        t.gettext("Sending your booking…"),
                    ),
                ),
            ),
            class_name="pending",
            **focus_here("pending"),
        ), chosen(t, b)),
    )


def booking_flow(t, lang, b, msgs) -> rx.Component:
    slug = b["id"]  # the draft: the procedure, or the procedure and the code being moved
    return rx.fragment(
        back_link(b["p"]["name"], citizen(lang, PROCEDURE) + "?p=" + b["p"]["slug"]),
        rx.el.h1(rx.cond(b["rescheduling"], t.gettext("Change the time"), t.gettext("Book an appointment"))),
        rx.cond(b["draft"]["step"] != "sent", steps(t, b)),
        rx.match(
            b["draft"]["step"],
            ("office", office_step(t, lang, slug, b)),
            ("day", day_step(t, lang, slug, b)),
            ("time", time_step(t, slug, b, msgs)),
            ("sent", sent_step(t, lang, slug, b)),
            rx.cond(b["rescheduling"], reschedule_step(t, lang, slug, b), details_step(t, lang, slug, b, msgs)),
        ),
        rx.cond(b["draft"]["step"] == "sent",
                button(t.gettext("Start a new booking"), kind="link", on_click=client_fn("restartBooking").partial(slug))),
    )


def booking(t, lang: str) -> rx.Component:
    b = hook("useBooking", lang, var_type=Booking)
    msgs = page_const(translated(ERRORS, t.gettext))
    return page(
        t, lang, "reservar/",
        catalogue_preload(lang),
        rx.cond(
            b["found"],
            booking_flow(t, lang, b, msgs),
            rx.cond(b["ready"], notice(t.gettext("We could not find this procedure."), kind="error"),
                    loading(t)),
        ),
    )
