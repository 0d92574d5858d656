"""The department's requests inbox: the list (overdue first) beside the selected request."""

import reflex as rx

from components.staff import _s, button, frame, input_field, select_field, tag, textarea_field
from pwa_app import routes
from state.inbox import SHOW, InboxState


def request_item(i) -> rx.Component:
    s = InboxState
    return rx.el.li(rx.el.button(
        rx.el.span(
            rx.el.span(i["type"], class_name="staff-req-type"),
            tag(i["status_label"], i["status"]),
            rx.cond(i["overdue"], tag(_s("Fuera de plazo"), "overdue")),
            class_name="staff-req-top",
        ),
        rx.el.span(i["summary"], class_name="staff-req-text"),
        rx.el.span(_s("Plazo"), ": ", i["due"], " · ", i["code"],
                   rx.cond(i["assignee"] != "", rx.el.span(" · ", i["assignee"])), class_name="muted"),
        type="button",
        on_click=s.select(i["id"]),
        aria_pressed=rx.cond(s.selected_id == i["id"], "true", "false"),
        class_name=rx.cond(s.selected_id == i["id"], "staff-req selected", "staff-req"),
    ))


def attachment(a) -> rx.Component:
    """A thumbnail (or the file's name) that opens the file full size in a new tab."""
    return rx.el.li(rx.el.a(
        rx.cond(a["image"] != "", rx.el.img(src=a["url"], alt=a["filename"], loading="lazy",
                                            class_name="staff-thumb")),
        rx.el.span(a["filename"], " (", a["size"], ")"),
        href=a["url"], target="_blank", rel="noopener",
    ))


def detail() -> rx.Component:
    s = InboxState
    d = s.detail
    return rx.el.section(
        rx.el.h2(d["type"], class_name="h2"),
        rx.el.p(tag(d["status_label"], d["status"]), " ", rx.el.span(d["code"], class_name="staff-code")),
        rx.cond(d["overdue_label"] != "", rx.el.p(_s("Fuera de plazo."), " ", d["due_label"],
                                                  class_name="field-error")),
        rx.el.dl(
            rx.el.div(rx.el.dt(_s("Departamento")), rx.el.dd(d["department"]), class_name="row"),
            rx.el.div(rx.el.dt(_s("Presentada")), rx.el.dd(d["submitted_label"]), class_name="row"),
            rx.el.div(rx.el.dt(_s("Plazo")), rx.el.dd(d["due_label"]), class_name="row"),
            rx.el.div(rx.el.dt(_s("Persona asignada")), rx.el.dd(rx.cond(d["assignee"] != "", d["assignee"], "–")),
                      class_name="row"),
            rx.el.div(rx.el.dt(_s("Dirección")), rx.el.dd(rx.cond(d["address"] != "", d["address"], "–")),
                      class_name="row"),
            rx.el.div(rx.el.dt(_s("Contacto")), rx.el.dd(d["contact"]), class_name="row"),
            class_name="summary",
        ),
        rx.el.p(d["description"], style={"white-space": "pre-wrap"}),
        rx.cond(s.attachments.length() > 0, rx.el.section(
            rx.el.h3(_s("Fotos y documentos"), class_name="h3"),
            rx.el.ul(rx.foreach(s.attachments, attachment), class_name="staff-files", id="staff-attachments"),
        )),
        rx.el.h3(_s("Historial público"), class_name="h3"),
        rx.el.ol(rx.foreach(s.timeline, lambda e: rx.el.li(
            rx.el.strong(e["label"]), " · ", rx.el.span(e["at"], class_name="muted"),
            rx.cond(e["comment"] != "", rx.el.div(e["comment"])))), class_name="staff-timeline"),
        rx.el.form(
            select_field(_s("Asignar a"), "assignee", s.assignee_options, field_id="staff-assignee",
                         placeholder=_s("Elija a la persona"), required=True),
            button(_s("Asignar"), type="submit", kind="secondary"),
            on_submit=s.assign, class_name="staff-row", key=s.form_key,
        ),
        rx.cond(d["public"] != "", open311_form()),
        rx.cond(s.status_options.length() > 0, rx.el.form(
            rx.el.h3(_s("Cambiar estado"), class_name="h3"),
            select_field(_s("Nuevo estado"), "status", s.status_options, field_id="staff-new-status",
                         placeholder=_s("Elija el nuevo estado"), required=True),
            textarea_field(_s("Comentario público"), "comment", id="staff-comment",
                           hint=_s("Lo leerá el vecino en el seguimiento (y, en las incidencias públicas, cualquiera). "
                                   "No escriba nombres del personal ni datos de otras personas. Obligatorio para "
                                   "pedir algo al vecino o rechazar.")),
            button(_s("Cambiar estado"), type="submit"),
            on_submit=s.change_status, key=s.form_key,
        )),
        rx.cond(s.status_options.length() > 0, rx.el.form(
            rx.el.h3(_s("Enviar a otro departamento"), class_name="h3"),
            select_field(_s("Departamento"), "department", s.department_options, field_id="staff-handover",
                         placeholder=_s("Elija el departamento"), required=True),
            textarea_field(_s("Comentario público"), "comment", id="staff-handover-comment"),
            button(_s("Enviar"), type="submit", kind="secondary"),
            on_submit=s.hand_over, key=s.form_key,
        )),
        class_name="card staff-card",
    )


def open311_form() -> rx.Component:
    """What the public Open311 feed shows of this request: nothing of the citizen's text until staff approve it."""
    s = InboxState
    d = s.detail
    published = d["public_description"] != ""
    return rx.el.form(
        rx.el.h3(_s("Publicación en Open311"), class_name="h3"),
        rx.el.p(rx.cond(published, _s("Publicado. Open311 muestra el texto y la dirección de abajo."),
                        rx.el.span(_s("Sin publicar. Open311 muestra solo el tipo de solicitud: "), d["type"])),
                id="staff-public-status", class_name="muted"),
        textarea_field(_s("Texto público"), "public_description", id="staff-public-text", rows=4,
                       max_length=4000, default_value=rx.cond(published, d["public_description"], d["description"]),
                       hint=_s("Cualquiera lo leerá. Quite nombres, teléfonos, matrículas, números de piso y lo "
                               "que identifique a alguien; describa solo el problema.")),
        input_field(_s("Dirección pública"), "public_address", id="staff-public-address", max_length=200,
                    default_value=rx.cond(published, d["public_address"], d["address"]),
                    hint=_s("Calle y tramo, sin portal ni piso. Vacía: no se publica ninguna.")),
        rx.el.div(
            button(_s("Aprobar y publicar"), type="submit"),
            rx.cond(published, button(_s("Retirar"), type="button", kind="secondary", on_click=s.unpublish)),
            class_name="staff-row",
        ),
        on_submit=s.publish, key=s.form_key,
    )


def inbox_page() -> rx.Component:
    s = InboxState
    return frame(
        s, _s("Solicitudes"),
        rx.el.div(
            select_field(_s("Mostrar"), "show", [(k, _s(v)) for k, v in SHOW], value=s.show, on_change=s.set_show,
                         field_id="staff-show"),
            rx.cond(s.is_admin, select_field(_s("Departamento"), "department", s.department_options,
                                             value=s.department_id, on_change=s.set_department,
                                             field_id="staff-dept", placeholder=_s("Todos"))),
            class_name="staff-row",
        ),
        rx.el.div(
            rx.el.section(
                rx.el.h2(_s("Bandeja"), " (", s.items.length(), ")", class_name="h2"),
                rx.cond(s.items.length() > 0,
                        rx.el.ul(rx.foreach(s.items, request_item), class_name="list", id="staff-inbox"),
                        rx.el.p(_s("No hay solicitudes."), class_name="muted")),
                class_name="card staff-card",
            ),
            rx.cond(s.selected_id != 0, detail()),
            class_name="staff-inbox",
        ),
        active=routes.STAFF_INBOX,
    )
