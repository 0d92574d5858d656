"""The parts of the booking page for a visit (appointments/visits.py): how many people come and which further
procedures they do right after, each other person's name and document, booking for someone else, and what a
booked visit shows (its people, who booked it, each procedure's checklist)."""

import reflex as rx

from components.data import client_fn
from components.ui import checkbox, field, notice, summary_list
from pwa_app.appointments.visits import PARTY_MAX


def visit_choice(t, slug, b) -> rx.Component:
    """Before the calendar: the party's size and the further procedures; the calendar then shows only the times
    when everyone and everything fits. A move keeps its visit as it is."""
    party_id = "field-party"
    return rx.cond(b["rescheduling"], rx.fragment(), rx.el.fieldset(
        rx.el.legend(t.gettext("Who is coming and what for"), class_name="label"),
        rx.el.div(
            rx.el.label(t.gettext("Number of people"), html_for=party_id, class_name="label"),
            rx.el.p(t.gettext("A family can come together: one booking and one code, with a place for each person."),
                    id=f"{party_id}-hint", class_name="hint"),
            rx.el.select(*[rx.el.option(str(n), value=str(n)) for n in range(1, PARTY_MAX + 1)],
                         id=party_id, name="party", value=b["draft"]["party"], aria_describedby=f"{party_id}-hint",
                         on_change=client_fn("setField").partial(slug, "party"), class_name="input select"),
            class_name="field",
        ),
        rx.cond(b["alsoOptions"].length() > 0, rx.el.details(
            rx.el.summary(t.gettext("Add another procedure to the same visit"), class_name="also-summary"),
            rx.el.p(t.gettext("It is done right after the first one, at the same office. Only the times when "
                              "everything fits are shown."), class_name="hint"),
            rx.foreach(b["alsoOptions"], lambda q: rx.el.div(
                rx.el.input(type="checkbox", id="also-" + q["slug"], checked=q["checked"], class_name="check-input",
                            on_change=client_fn("toggleAlso").partial(slug, q["slug"])),
                rx.el.label(q["name"], html_for="also-" + q["slug"], class_name="check-label"),
                class_name="check",
            )),
            open=b["alsoNames"].length() > 0,
            class_name="also",
        )),
        class_name="visit-choice",
    ))


def party_line(t, b) -> rx.Component:
    """What the calendar is showing times for, when it is more than one person or procedure."""
    return rx.cond(
        (b["party"] > 1) | (b["alsoNames"].length() > 0),
        rx.el.p(t.gettext("People"), ": ", b["partyLabel"],
                rx.cond(b["alsoNames"].length() > 0, rx.el.span(" · ", t.gettext("Also at this visit"), ": ",
                                                                 b["alsoNames"].join(", "))),
                class_name="muted", aria_live="polite"),
    )


def representative_switch(t, slug, d) -> rx.Component:
    return rx.fragment(
        checkbox(rx.el.span(t.gettext("I am booking for someone else (a relative, or a person I help)")), "on_behalf",
                 checked=d["on_behalf"], on_change=client_fn("toggleField").partial(slug, "on_behalf")),
        rx.cond(d["on_behalf"], notice(
            t.gettext("Below, write the details of the person who will be attended: the booking and its limits are "
                      "theirs. The town hall will send the notices to both of you."), live=False)),
    )


def person_legend(t, b) -> rx.Component:
    d = b["draft"]
    return rx.el.legend(rx.cond(d["on_behalf"], t.gettext("The person you are booking for"),
                                rx.cond(b["party"] > 1, t.gettext("Person 1"), t.gettext("Your details"))),
                        class_name="label")


def other_people(t, b, text_field) -> rx.Component:
    """Person 2, 3...: a name, and a document when the procedure needs one (each counts against their limits)."""
    return rx.fragment(*[
        rx.cond(b["party"] >= n, rx.el.fieldset(
            rx.el.legend(t.gettext("Person %(n)s") % {"n": n}, class_name="label"),
            text_field(t.gettext("Full name"), f"name_{n}", auto_complete="off", max_length=100),
            rx.cond(b["p"]["requires_document"],
                    text_field(t.gettext("DNI, NIE or passport number"), f"document_{n}",
                               t.gettext("Each person shows their own at the office."), auto_complete="off",
                               auto_capitalize="characters", spell_check=False, max_length=20)),
            class_name="person",
        )) for n in range(2, PARTY_MAX + 1)
    ])


def representative_fields(t, slug, d, err, msgs, text_field) -> rx.Component:
    return rx.cond(d["on_behalf"], rx.el.fieldset(
        rx.el.legend(t.gettext("Your details, as the person booking"), class_name="label"),
        text_field(t.gettext("Your full name"), "rep_name", auto_complete="name", max_length=100),
        text_field(t.gettext("Your email"), "rep_email", t.gettext("Give an email or a phone number (or both): the "
                                                                   "town hall will send you the notices too."),
                   type="email", auto_complete="email", max_length=254),
        text_field(t.gettext("Your mobile phone"), "rep_phone", type="tel", auto_complete="tel", input_mode="tel",
                   max_length=20),
        checkbox(rx.el.span(t.gettext("The person I am booking for has agreed to it and to their details being "
                                      "given to the town hall.")), "rep_consent",
                 checked=d["rep_consent"], on_change=client_fn("toggleField").partial(slug, "rep_consent"),
                 error=rx.cond(err["rep_consent"], msgs[err["rep_consent"]], "")),
        class_name="person",
    ))


def booked_visit(t, a) -> rx.Component:
    """A booked visit's people and who booked it (nothing for a booking of one person by themselves)."""
    return rx.fragment(
        rx.cond(a["people"].length() > 0, summary_list((t.gettext("People"), a["people"].join(", ")))),
        rx.cond(a["representative"] != "", summary_list((t.gettext("Booked by"), a["representative"]))),
    )


def visit_end(a) -> rx.Component:
    return rx.cond(a["end"] != "", rx.el.span("–", a["end"]))


def further_checklists(t, a, heading: str = "h3") -> rx.Component:
    """Each further procedure of the visit, at its time, with what to bring for it."""
    element = getattr(rx.el, heading)
    return rx.foreach(a["also"], lambda x: rx.el.div(
        element(t.gettext("Then"), ": ", x["name"], " · ", x["time"], class_name=heading),
        rx.el.ul(rx.foreach(x["requirements"], lambda r: rx.el.li(r)), class_name="bullets"),
    ))
