"""The "Notify me" panel of the appointment and request pages (assets/push.js does the work in the browser).

Nothing happens on page load: the browser asks for permission and subscribes only when the citizen taps the
button. Offline, the button says that it needs a connection. Once on, the citizen chooses topics and can turn
notifications off on this device at any time."""

from typing import TypedDict

import reflex as rx

from components.data import client_fn, hook, page_const
from components.ui import button

PUSH_MODULE = "$/public/push.js"


class PushChoice(TypedDict):
    slug: str
    name: str
    on: bool


class PushPanel(TypedDict):
    supported: bool
    unsupported: bool
    online: bool
    busy: bool
    message: str
    on: bool
    here: bool
    reminders: bool
    updates: bool
    news: bool
    offices: list[PushChoice]
    areas: list[PushChoice]


def _messages(t) -> dict[str, str]:
    return {
        "on": t.gettext("Notifications are on. You can change what you receive below."),
        "off": t.gettext("Notifications are off on this device."),
        "saved": t.gettext("Your choice has been saved."),
        "offline": t.gettext("Notifications need an internet connection. Please try again when you are online."),
        "denied": t.gettext("Notifications are blocked for Cita in this browser. Allow them in the browser's "
                            "site settings, then try again."),
        "dismissed": t.gettext("Notifications were not allowed. Tap the button again to allow them."),
        "unsupported": t.gettext("This browser cannot receive notifications from Cita. On an iPhone or iPad, add "
                                 "Cita to the home screen first and open it from there."),
        "failed": t.gettext("Notifications could not be changed right now. Please try again later."),
    }


def _fn(name: str):
    return client_fn(name, PUSH_MODULE)


def _check(field_id, label, checked, on_change, disabled) -> rx.Component:
    return rx.el.div(
        rx.el.input(type="checkbox", id=field_id, checked=checked, on_change=on_change, disabled=disabled,
                    class_name="check-input"),
        rx.el.label(label, html_for=field_id, class_name="check-label"),
        class_name="check",
    )


def _topics(t, lang: str, v) -> rx.Component:
    toggle = _fn("togglePushTopic")
    locked = ~v["online"]  # while saving, taps are ignored (push.js) rather than the boxes disabled: focus stays
    return rx.el.div(
        rx.el.fieldset(
            rx.el.legend(t.gettext("Notify me about"), class_name="label"),
            _check("push-reminders", t.gettext("Reminders of my appointments, the day before and 2 hours before"),
                   v["reminders"], toggle.partial(lang, "reminders"), locked),
            _check("push-updates", t.gettext("Changes in the status of my requests"), v["updates"],
                   toggle.partial(lang, "updates"), locked),
            _check("push-news", t.gettext("News from the town hall"), v["news"], toggle.partial(lang, "news"), locked),
            rx.el.details(
                rx.el.summary(t.gettext("News for a district office or a kind of procedure")),
                rx.foreach(v["offices"], lambda o: _check(
                    "push-office-" + o["slug"], o["name"], o["on"], toggle.partial(lang, "office:" + o["slug"]),
                    locked)),
                rx.foreach(v["areas"], lambda a: _check(
                    "push-area-" + a["slug"], a["name"], a["on"], toggle.partial(lang, "area:" + a["slug"]), locked)),
            ),
        ),
        rx.el.div(
            button(t.gettext("Turn off notifications on this device"), kind="secondary", id="push-off",
                   on_click=_fn("turnOffPush"), disabled=locked),
            class_name="actions",
        ),
    )


def notify_me(t, lang: str, kind: str) -> rx.Component:
    """The panel for one appointment (kind "appointment") or request (kind "request") page."""
    v = hook("usePush", lang, kind, var_type=PushPanel, module=PUSH_MODULE)
    msgs = page_const(_messages(t))
    if kind == "appointment":
        label = t.gettext("Notify me about this appointment")
        hint = t.gettext("We will send a reminder to this device the day before and 2 hours before. No account "
                         "is needed, and you can turn it off at any time.")
        here = t.gettext("This device will receive reminders of this appointment.")
    else:
        label = t.gettext("Notify me about this request")
        hint = t.gettext("We will tell this device each time the status of this request changes. No account is "
                         "needed, and you can turn it off at any time.")
        here = t.gettext("This device will be told about every change to this request.")
    return rx.el.section(
        rx.el.h2(t.gettext("Notifications"), class_name="h2", id="push-heading"),
        rx.cond(
            v["here"],
            rx.el.p(here, class_name="strong", id="push-here"),
            rx.el.div(
                rx.el.p(hint, class_name="hint", id="push-hint"),
                button(rx.cond(v["online"], label, t.gettext("Notifications need an internet connection")),
                       id="push-on", aria_describedby="push-hint", disabled=~v["online"] | v["busy"],
                       on_click=_fn("turnOnPush").partial(lang, kind)),
            ),
        ),
        rx.cond(v["on"], _topics(t, lang, v)),
        rx.el.p(rx.cond(v["unsupported"], msgs["unsupported"], rx.cond(v["message"], msgs[v["message"]], "")),
                role="status", class_name="hint", id="push-status"),
        class_name="card push",
        aria_labelledby="push-heading",
    )
