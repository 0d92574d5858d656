"""Citizen feedback (issue 9): the 30-second survey after an attended appointment (/<lang>/valoracion/?c=CODE,
linked from "my appointment" once it is attended) and the suggestion box (/<lang>/sugerencias/), open to anyone.
Like the other citizen pages they read the data module (assets/feedback.js) and write through the outbox, so
both work offline."""

from typing import TypedDict

import reflex as rx

from components.data import client_fn as data_fn, hook, page_const
from components.layout import kept_here, page
from components.ui import back_link, button, checkbox, field, link_button, notice
from components.views import AppointmentView
from pwa_app.common.messages import ERRORS, translated
from pwa_app.feedback.surveys import FEEDBACK_ERRORS
from pwa_app.routes import APPOINTMENT, MY_APPOINTMENTS, SERVICE_REQUEST, citizen

MODULE = "$/public/feedback.js"


def client_fn(name: str):
    return data_fn(name, MODULE)


class SurveyPage(TypedDict):
    ready: bool
    found: bool
    key: str
    a: AppointmentView
    open: bool
    isOnline: bool
    errors: dict[str, str]
    sent: bool
    status: str
    retrying: bool
    itemErrorList: list[str]


class SuggestionDraft(TypedDict):
    anonymous: bool
    wants_answer: bool
    consent: bool
    errors: dict[str, str]
    outbox: str


class SuggestionPage(TypedDict):
    draft: SuggestionDraft
    isOnline: bool
    sent: bool
    code: str
    hasCode: bool
    status: str
    retrying: bool
    itemErrorList: list[str]


def messages(t):
    return page_const(translated({**ERRORS, **FEEDBACK_ERRORS}, t.gettext))


def choices(legend, name: str, options: list[tuple[str, str]], *, error=None, hint=None) -> rx.Component:
    """A group of radio buttons (native controls, 44 px targets) with its legend and an error."""
    return rx.el.fieldset(
        rx.el.legend(legend, class_name="label"),
        rx.el.p(hint, class_name="hint") if hint is not None else rx.fragment(),
        rx.cond(error, rx.el.p(error, id=f"field-{name}-error", class_name="field-error", role="alert"))
        if error is not None else rx.fragment(),
        *[rx.el.div(
            rx.el.input(type="radio", id=f"field-{name}" if i == 0 else f"field-{name}-{value}", name=name,
                        value=value, class_name="check-input"),
            rx.el.label(label, html_for=f"field-{name}" if i == 0 else f"field-{name}-{value}",
                        class_name="check-label"),
            class_name="check",
        ) for i, (value, label) in enumerate(options)],
        class_name=rx.cond(error, "field field-has-error", "field") if error is not None else "field",
    )


def outbox_state(t, v, done: rx.Component, what: str) -> rx.Component:
    """What became of the answer: accepted, refused with the town hall's reasons, or waiting to be sent."""
    return rx.match(
        v["status"],
        ("done", done),
        ("failed", notice(rx.el.p(t.gettext("The town hall could not accept this:")),
                          rx.el.ul(rx.foreach(v["itemErrorList"], lambda e: rx.el.li(e))), kind="error")),
        notice(
            rx.cond(
                ~v["isOnline"],
                what,
                rx.cond(v["retrying"],
                        t.gettext("The town hall cannot be reached right now. Your answer is saved on this device "
                                  "and will be sent automatically."),
                        t.gettext("Sending…")),
            ),
            class_name="pending",
        ),
    )


def survey_form(t, lang, v, msgs) -> rx.Component:
    err = v["errors"]

    def problem(name):
        return rx.cond(err[name], msgs[err[name]], "")

    return rx.el.form(
        choices(t.gettext("Overall, how satisfied are you?"), "rating",
                [("5", t.gettext("5 — Very satisfied")), ("4", t.gettext("4 — Satisfied")),
                 ("3", t.gettext("3 — Neither satisfied nor dissatisfied")), ("2", t.gettext("2 — Dissatisfied")),
                 ("1", t.gettext("1 — Very dissatisfied"))], error=problem("rating")),
        choices(t.gettext("Was the list of what to bring right?"), "checklist_ok",
                [("yes", t.gettext("Yes")), ("no", t.gettext("No, something was missing"))]),
        field(t.gettext("What was missing? (optional)"), "missing", error=problem("missing"), multiline=True,
              rows=2, max_length=2000),
        choices(t.gettext("How did the waiting time feel?"), "waiting",
                [("short", t.gettext("Short")), ("ok", t.gettext("Reasonable")), ("long", t.gettext("Long"))]),
        field(t.gettext("Anything else you want to tell us? (optional)"), "comment", error=problem("comment"),
              hint=t.gettext("Your answer is anonymous: the town hall sees the procedure, office and day, not who "
                             "you are. Please do not write personal data."),
              multiline=True, rows=4, max_length=2000),
        button(t.gettext("Send my answer"), type="submit"),
        on_submit=client_fn("submitSurvey").partial(lang, v["key"]),
        no_validate=True,
        class_name="form",
    )


def survey_body(t, lang, v, msgs) -> rx.Component:
    a = v["a"]
    thanks = rx.el.div(rx.el.h2(t.gettext("Thank you for your answer"), class_name="h2"),
                       rx.el.p(t.gettext("It helps us improve how we attend you.")),
                       class_name="panel-success", role="status")
    return rx.fragment(
        back_link(t.gettext("My appointment"), citizen(lang, APPOINTMENT) + "?c=" + v["key"]),
        rx.el.h1(t.gettext("How did it go?")),
        rx.el.p(a["procedure"]["name"], " · ", a["office"]["name"], " · ", a["day"], class_name="lead"),
        rx.cond(
            v["open"],
            rx.cond(
                v["sent"],
                outbox_state(t, v, thanks, t.gettext("You are offline. Your answer is saved on this device and "
                                                     "will be sent when you are online.")),
                rx.fragment(rx.el.p(t.gettext("Four quick questions, about 30 seconds.")), survey_form(t, lang, v, msgs)),
            ),
            notice(msgs["survey_not_open"]),
        ),
    )


def survey(t, lang: str) -> rx.Component:
    v = hook("useSurvey", lang, var_type=SurveyPage, module=MODULE)
    msgs = messages(t)
    return page(
        t, lang, "valoracion/",
        kept_here(t, v, survey_body(t, lang, v, msgs), t.gettext("How did it go?"),
                  t.gettext("This appointment is not saved on this device."), t.gettext("Find it with its code"),
                  citizen(lang, MY_APPOINTMENTS)),
    )


def suggestion_form(t, lang, v, msgs) -> rx.Component:
    d, err = v["draft"], v["draft"]["errors"]

    def problem(name):
        return rx.cond(err[name], msgs[err[name]], "")

    toggle = client_fn("toggleSuggestion")
    return rx.el.form(
        field(t.gettext("Your suggestion"), "text", error=problem("text"),
              hint=t.gettext("Tell us what works badly or how we could improve. Plain text, up to 2000 characters."),
              multiline=True, rows=6, max_length=2000),
        checkbox(t.gettext("Send it anonymously"), "anonymous", checked=d["anonymous"],
                 on_change=toggle.partial("anonymous")),
        checkbox(t.gettext("I would like an answer"), "wants_answer", checked=d["wants_answer"],
                 on_change=toggle.partial("wants_answer")),
        rx.cond(
            d["wants_answer"],
            rx.el.p(t.gettext("You will get a tracking code to follow the answer, also without giving your name."),
                    class_name="hint"),
        ),
        rx.cond(
            d["anonymous"],
            rx.fragment(),
            rx.fragment(
                field(t.gettext("Name (optional)"), "name", error=problem("name"), auto_complete="name",
                      max_length=100),
                rx.cond(d["wants_answer"], rx.fragment(
                    field(t.gettext("Email"), "email", error=problem("email"), hint=t.gettext("Optional."),
                          type="email", auto_complete="email", max_length=254),
                    field(t.gettext("Phone"), "phone", error=problem("phone"), hint=t.gettext("Optional."),
                          type="tel", auto_complete="tel", input_mode="tel", max_length=20),
                )),
            ),
        ),
        rx.cond(
            d["wants_answer"],
            checkbox(
                t.gettext("I have read the privacy notice: the town hall uses these details only to handle this "
                          "request and keeps them for the legal period."),
                "consent", checked=d["consent"], on_change=toggle.partial("consent"),
                error=problem("consent"),
            ),
        ),
        rx.cond(v["isOnline"], rx.fragment(),
                notice(t.gettext("You are offline. Your suggestion will be saved and sent when you are online."))),
        button(t.gettext("Send suggestion"), type="submit"),
        on_submit=client_fn("submitSuggestion").partial(lang),
        no_validate=True,
        class_name="form",
    )


def suggestion_sent(t, lang, v) -> rx.Component:
    done = rx.el.div(
        rx.el.div(
            rx.el.h2(t.gettext("Thank you for your suggestion"), class_name="h2"),
            rx.cond(v["hasCode"], rx.fragment(
                rx.el.p(t.gettext("Your tracking code")),
                rx.el.p(v["code"], class_name="code", id="tracking-code"),
                rx.el.p(t.gettext("Keep this code to follow the answer. It is also saved on this device.")),
            )),
            class_name="panel-success",
            role="status",
        ),
        rx.cond(v["hasCode"],
                link_button(t.gettext("Follow the answer"), citizen(lang, SERVICE_REQUEST) + "?c=" + v["code"])),
    )
    return rx.fragment(
        outbox_state(t, v, done, t.gettext("You are offline. Your suggestion is saved on this device and will be "
                                           "sent when you are online.")),
        button(t.gettext("Write another suggestion"), kind="link", on_click=client_fn("newSuggestion")),
    )


def suggestions(t, lang: str) -> rx.Component:
    v = hook("useSuggestion", lang, var_type=SuggestionPage, module=MODULE)
    msgs = messages(t)
    return page(
        t, lang, "sugerencias/",
        rx.el.h1(t.gettext("Suggestion box")),
        rx.el.p(t.gettext("Anyone can write to the town hall: ideas, complaints or thanks. You do not need an "
                          "appointment or an account."), class_name="lead"),
        rx.cond(v["sent"], suggestion_sent(t, lang, v), suggestion_form(t, lang, v, msgs)),
    )
