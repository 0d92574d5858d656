"""Requests (solicitudes): send one from the phone, follow it by its tracking code, see the last known state
offline. Like the booking pages, they read the data module (assets/requests.js) and write through the outbox."""

import reflex as rx

from components.data import REQUESTS_MODULE, built_request_types, hook, page_const
from components.data import client_fn as data_fn
from components.layout import kept_here, loading, page
from components.push import notify_me
from components.ui import back_link, button, checkbox, field, focus_here, icon, link_button, notice, summary_list
from components.views import MyRequests, NewRequest, RequestPage
from pwa_app.common.messages import ERRORS, translated
from pwa_app.routes import MY_REQUESTS, NEW_REQUEST, SERVICE_REQUEST, SUGGESTIONS, citizen


def client_fn(name: str):
    return data_fn(name, REQUESTS_MODULE)


def request_item(lang, r) -> rx.Component:
    return rx.el.li(
        rx.el.a(
            rx.el.span(r["type"]["name"], class_name="item-title"),
            rx.el.span(r["submitted_label"], " · ", rx.el.span(r["code"], class_name="code-inline"),
                       class_name="item-text"),
            rx.el.span(r["status_label"], class_name="tag tag-" + r["status"]),
            href=citizen(lang, SERVICE_REQUEST) + "?c=" + r["key"],
            class_name="item-link",
        ),
        class_name="item",
    )


def my_requests(t, lang: str) -> rx.Component:
    m = hook("useMyRequests", lang, var_type=MyRequests, module=REQUESTS_MODULE)
    msgs = page_const(translated(ERRORS, t.gettext))
    err = m["lookup"]["errors"]
    return page(
        t, lang, "solicitudes/",
        rx.el.h1(t.gettext("My requests")),
        rx.el.p(t.gettext("Send a request, complaint or suggestion to the town hall and follow its progress."),
                class_name="lead"),
        rx.el.div(
            link_button(t.gettext("Send a new request"), citizen(lang, NEW_REQUEST)),
            link_button(t.gettext("Suggestion box"), citizen(lang, SUGGESTIONS), kind="secondary"),
            class_name="actions",
        ),
        rx.cond(
            m["waitingCount"] > 0,
            rx.el.section(
                rx.el.h2(t.gettext("Waiting to be sent"), class_name="h2"),
                rx.el.ul(rx.foreach(m["waiting"], lambda i: rx.el.li(
                    rx.el.span(i["label"]["procedure"], class_name="item-title"),
                    rx.el.span(t.gettext("Pending — will be sent when you are online"), class_name="tag tag-pending"),
                    class_name="item")), class_name="list"),
            ),
        ),
        rx.el.h2(t.gettext("Requests saved on this device"), class_name="h2"),
        rx.cond(
            m["count"] > 0,
            rx.el.ul(rx.foreach(m["list"], lambda r: request_item(lang, r)), class_name="list"),
            rx.el.p(t.gettext("There are no requests saved on this device."), class_name="muted"),
        ),
        rx.el.section(
            rx.el.h2(t.gettext("Follow a request"), class_name="h2"),
            rx.el.form(
                field(t.gettext("Tracking code"), "code", error=rx.cond(err["code"], msgs[err["code"]], ""),
                      hint=t.gettext("You received it when you sent the request."), auto_complete="off",
                      auto_capitalize="characters", spell_check=False, max_length=40),
                button(t.gettext("Find my request"), type="submit"),
                on_submit=client_fn("lookUpRequest").partial(lang),
                no_validate=True,
                class_name="form",
            ),
            class_name="card",
        ),
    )


def type_step(t, n) -> rx.Component:
    return rx.el.section(
        rx.el.h2(t.gettext("What is it about?"), class_name="h2"),
        rx.el.ul(
            rx.foreach(n["types"], lambda rt: rx.el.li(rx.el.button(
                rx.el.span(rt["name"], class_name="item-title"),
                rx.el.span(rt["description"], class_name="item-text"),
                rx.el.span(rt["response_label"], class_name="tag"),
                type="button", class_name="choice",
                on_click=client_fn("chooseRequestType").partial(rt["slug"]),
            ))),
            class_name="list",
        ),
    )


def location_fields(t, n, text_field) -> rx.Component:
    where = hook("useMyLocation", var_type=str, module=REQUESTS_MODULE)
    return rx.fragment(
        text_field(t.gettext("Address or place"), "address", t.gettext("For example: Calle del Molino 12, "
                                                                      "in front of the school"), max_length=300),
        button(icon("pin"), t.gettext("Use my location"), kind="secondary",
               on_click=client_fn("locateMe")),
        rx.el.p(
            rx.match(
                where,
                ("busy", t.gettext("Finding your location…")),
                ("done", t.gettext("Your location has been added.")),
                ("unavailable", t.gettext("Your location is not available. Please type the address.")),
                "",
            ),
            role="status",
            class_name="hint",
        ),
    )


def attachment_field(t, lang, n, msgs) -> rx.Component:
    """The type's own rules: photos, PDF documents or both; a wrong file is refused as soon as it is picked."""
    err = n["draft"]["errors"]["attachments"]
    return rx.el.div(
        rx.el.label(rx.match(n["fileKind"], ("both", t.gettext("Photos or documents (optional)")),
                             ("pdf", t.gettext("Documents (optional)")), t.gettext("Photos (optional)")),
                    html_for="field-attachments", class_name="label"),
        rx.el.p(rx.match(n["fileKind"],
                         ("both", t.gettext("Up to three files, 5 MB each: JPEG, PNG or WebP photos, or PDF "
                                            "documents.")),
                         ("pdf", t.gettext("Up to three PDF documents, 5 MB each.")),
                         t.gettext("Up to three photos, 5 MB each: JPEG, PNG or WebP.")),
                id="field-attachments-hint", class_name="hint"),
        rx.cond(err, rx.el.p(msgs[err], id="field-attachments-error", class_name="field-error", role="alert")),
        rx.el.input(type="file", id="field-attachments", multiple=True, accept=n["type"]["accept"].join(","),
                    aria_describedby="field-attachments-hint field-attachments-error", class_name="input",
                    aria_invalid=rx.cond(err, "true", "false"),
                    on_change=client_fn("addAttachments").partial(lang)),
        rx.el.ul(rx.foreach(n["files"], lambda f: rx.el.li(
            f["filename"], " (", f["size"], ") ",
            button(t.gettext("Remove"), kind="link", on_click=client_fn("removeAttachment").partial(f["n"])),
        )), class_name="bullets"),
        class_name=rx.cond(err, "field field-has-error", "field"),
    )


def error_summary(t, n, msgs) -> rx.Component:
    """GOV.UK's error summary: what stopped the request, each line a link to its field; it takes the focus."""
    return rx.el.div(
        rx.el.h2(t.gettext("There is a problem"), class_name="h2"),
        rx.el.ul(rx.foreach(n["errorList"], lambda e: rx.el.li(rx.el.a(
            msgs[e["code"]], href=e["href"], on_click=client_fn("focusField").partial(e["target"]))))),
        id="error-summary", class_name="error-summary", role="alert", tab_index=-1,
    )


def details_step(t, lang, n, msgs) -> rx.Component:
    d, err, rt = n["draft"], n["draft"]["errors"], n["type"]
    set_field = client_fn("setRequestField")

    def text_field(label, name, hint=None, **props):
        return field(label, name, error=rx.cond(err[name], msgs[err[name]], ""), value=d[name], hint=hint,
                     on_change=set_field.partial(name), **props)

    return rx.el.section(
        rx.el.h2(rt["name"], class_name="h2"),
        summary_list((t.gettext("Handled by"), rt["department"]["name"]), (t.gettext("Answer"), rt["response_label"])),
        rx.cond(n["errorList"].length() > 0, error_summary(t, n, msgs)),
        rx.el.form(
            text_field(t.gettext("Describe your request"), "description", rt["hint"], multiline=True, rows=6,
                       max_length=4000),
            rx.cond(rt["allows_location"], location_fields(t, n, text_field)),
            rx.cond(rt["accept"].length() > 0, attachment_field(t, lang, n, msgs)),
            rx.el.h3(t.gettext("How can we answer you?"), class_name="h3"),
            text_field(t.gettext("Name (optional)"), "name", auto_complete="name", max_length=100),
            text_field(t.gettext("Email"), "email", rx.cond(rt["needs_contact"], t.gettext(
                "An email or a phone number is needed for this request."), t.gettext("Optional.")),
                type="email", auto_complete="email", max_length=254),
            text_field(t.gettext("Phone"), "phone", t.gettext("Optional: so the town hall can call you about this "
                                                              "request."), type="tel", auto_complete="tel",
                       input_mode="tel", max_length=20),
            rx.cond(rt["needs_document"], text_field(t.gettext("DNI, NIE or passport number"), "document",
                                                     auto_complete="off", max_length=20)),
            checkbox(
                t.gettext("I have read the privacy notice: the town hall uses these details only to handle this "
                          "request and keeps them for the legal period."),
                "consent", checked=d["consent"], on_change=client_fn("toggleRequestField").partial("consent"),
                error=rx.cond(err["consent"], msgs[err["consent"]], ""),
            ),
            rx.cond(n["isOnline"], rx.fragment(),
                    notice(t.gettext("You are offline. Your request will be saved and sent when you are online."))),
            button(t.gettext("Send request"), type="submit"),
            on_submit=client_fn("submitRequest").partial(lang),
            no_validate=True,
            class_name="form",
            id="request-form",
        ),
        button(t.gettext("Choose another type"), kind="link", on_click=client_fn("changeRequestType")),
    )


def sent_step(t, lang, n) -> rx.Component:
    r = n["confirmed"]
    return rx.match(
        n["status"],
        ("done", rx.el.section(
            rx.el.div(
                rx.el.h2(t.gettext("Request sent"), class_name="h2", **focus_here("sent")),
                rx.el.p(t.gettext("Your tracking code")),
                rx.el.p(r["code"], class_name="code", id="tracking-code"),
                rx.el.p(t.gettext("Keep this code to follow your request. It is also saved on this device.")),
                class_name="panel-success",
                role="status",
            ),
            summary_list((t.gettext("Handled by"), r["department"]["name"]), (t.gettext("Answer"), r["due_label"])),
            link_button(t.gettext("Follow my request"), citizen(lang, SERVICE_REQUEST) + "?c=" + r["code"]),
        )),
        notice(
            rx.cond(
                ~n["isOnline"],
                t.gettext("Pending — your request is saved on this device and will be sent when you are online."),
                rx.cond(n["retrying"],
                        t.gettext("The town hall cannot be reached right now. Your request is saved on this device "
                                  "and will be sent automatically."),
                        t.gettext("Sending your request…")),
            ),
            class_name="pending",
            **focus_here("pending"),
        ),
    )


def new_request(t, lang: str) -> rx.Component:
    n = hook("useNewRequest", lang, page_const(built_request_types(lang)), var_type=NewRequest, module=REQUESTS_MODULE)
    msgs = page_const(translated(ERRORS, t.gettext))
    return page(
        t, lang, "solicitud/nueva/",
        back_link(t.gettext("My requests"), citizen(lang, MY_REQUESTS)),
        rx.el.h1(t.gettext("Send a request")),
        rx.cond(
            n["ready"],
            rx.match(
                n["step"],
                ("type", type_step(t, n)),
                ("details", details_step(t, lang, n, msgs)),
                rx.fragment(sent_step(t, lang, n),
                            button(t.gettext("Send another request"), kind="link", on_click=client_fn("newRequest"))),
            ),
            loading(t),
        ),
    )


def timeline(t, v) -> rx.Component:
    return rx.el.ol(
        rx.foreach(v["r"]["timeline"], lambda e: rx.el.li(
            rx.el.p(rx.el.strong(e["label"]), " · ", rx.el.time(e["at_label"], date_time=e["at"]), class_name="when"),
            rx.cond(e["department"], rx.el.p(e["department"]["name"], class_name="muted")),
            rx.cond(e["comment"], rx.el.p(e["comment"], class_name="comment")),
            class_name="timeline-item",
        )),
        class_name="timeline",
        aria_label=t.gettext("History of the request"),
    )


def reply_form(t, lang, v, msgs) -> rx.Component:
    err = v["reply"]["errors"]
    return rx.el.form(
        field(t.gettext("Your answer"), "text", error=rx.cond(err["text"], msgs[err["text"]], ""),
              value=v["reply"]["text"], on_change=client_fn("setReply"), multiline=True, rows=4, max_length=4000),
        button(t.gettext("Send answer"), type="submit"),
        on_submit=client_fn("submitReply").partial(lang, v["key"]),
        no_validate=True,
        class_name="form",
    )


def sent_files(t, v) -> rx.Component:
    """The photos and documents the citizen sent: thumbnails that open the file full size."""
    return rx.el.section(
        rx.el.h2(t.gettext("Photos and documents you sent"), class_name="h2"),
        rx.el.ul(rx.foreach(v["files"], lambda f: rx.el.li(rx.el.a(
            rx.cond(f["image"], rx.el.img(src=f["url"], alt=f["filename"], loading="lazy", class_name="thumb")),
            rx.el.span(f["filename"], " (", f["size"], ")"),
            href=f["url"], target="_blank", rel="noopener",
        ))), class_name="files", id="request-files"),
    )


def request_body(t, lang, v, msgs) -> rx.Component:
    r = v["r"]
    return rx.fragment(
        back_link(t.gettext("My requests"), citizen(lang, MY_REQUESTS)),
        rx.el.h1(r["type"]["name"]),
        rx.el.p(rx.el.span(r["status_label"], class_name="tag tag-" + r["status"]), class_name="status-line"),
        rx.el.p(r["status_help"]),
        rx.cond(r["overdue"], notice(r["overdue_label"], kind="error", live=False)),
        rx.cond(v["hasExpected"], rx.el.div(
            rx.el.h2(t.gettext("What we need from you"), class_name="h2"),
            rx.el.p(v["expected"]["text"]),
            rx.el.p(rx.el.strong(v["expected"]["respond_by_label"])),
            rx.cond(r["paused_label"], rx.el.p(r["paused_label"], class_name="muted")),
            class_name="panel-warning",
        )),
        summary_list(
            (t.gettext("Tracking code"), rx.el.span(r["code"], class_name="code-inline")),
            (t.gettext("Handled by"), r["department"]["name"]),
            (t.gettext("Sent"), r["submitted_label"]),
            (t.gettext("Answer"), rx.cond(r["open"], r["due_label"], r["status_label"])),
        ),
        rx.cond(v["pendingCount"] > 0,
                notice(t.gettext("Your answer is saved on this device and will be sent when you are online."))),
        rx.cond(r["can_reply"], reply_form(t, lang, v, msgs)),
        notify_me(t, lang, "request"),
        rx.el.h2(t.gettext("History"), class_name="h2"),
        timeline(t, v),
        rx.el.h2(t.gettext("Your request"), class_name="h2"),
        rx.el.p(r["description"], class_name="comment"),
        rx.cond(r["address"], rx.el.p(icon("pin"), r["address"], class_name="icon-text")),
        rx.cond(v["files"].length() > 0, sent_files(t, v)),
        rx.el.p(t.gettext("Last updated"), ": ", v["asOfLabel"], class_name="hint"),
    )


def request_status(t, lang: str) -> rx.Component:
    v = hook("useRequest", lang, var_type=RequestPage, module=REQUESTS_MODULE)
    msgs = page_const(translated(ERRORS, t.gettext))
    return page(
        t, lang, "solicitud/",
        kept_here(t, v, request_body(t, lang, v, msgs), t.gettext("Request"),
                  t.gettext("This request is not saved on this device."),
                  t.gettext("Find it with its tracking code"), citizen(lang, MY_REQUESTS)),
    )
