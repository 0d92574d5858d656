"""Translations of the catalogue: one text in every language side by side with its Spanish, what is missing or
to review per language, and the .po files for a translation agency (export and import)."""

import reflex as rx

from components.staff import _s, button, frame, js, section, select_field, table, tag
from components.ui import download_button
from pwa_app import routes
from pwa_app.pages.staff.setup import subnav
from state.translations import TranslationsState

PAGE = routes.STAFF_TRANSLATIONS
# Reflex's forms stop the native submit; form.submit() sends the file as a plain multipart post (the API answers
# with a 303 back here, the counts in the address).
IMPORT_JS = ("(() => { const form = document.getElementById('staff-tr-import'); "
             "if (form.reportValidity()) form.submit(); })")


def entry(e) -> rx.Component:
    s = TranslationsState
    field_id = "staff-tr-" + e["key"]
    return rx.fragment(
        rx.cond(e["first"] != "", rx.el.div(
            rx.el.h3(e["field"], class_name="h3"),
            rx.el.p(rx.el.span(_s("Español"), ": ", class_name="muted"), rx.el.span(e["spanish"], lang="es"),
                    class_name="staff-tr-spanish"),
        )),
        rx.el.div(
            rx.el.div(
                rx.el.label(e["lang_name"], html_for=field_id, class_name="label"),
                rx.cond(e["stale"] != "", tag(_s("Por revisar"), "pending")),
                class_name="staff-row",
            ),
            rx.el.textarea(id=field_id, name="t__" + e["key"], default_value=e["text"], lang=e["lang"],
                           dir=e["dir"], rows=rx.cond(e["long"] != "", 4, 1),
                           class_name="input staff-input staff-textarea"),
            rx.cond(e["stale"] != "", rx.el.div(
                rx.el.input(type="checkbox", id="staff-ok-" + e["key"], name="ok__" + e["key"],
                            class_name="check-input"),
                rx.el.label(_s("Revisada: sigue siendo correcta"), html_for="staff-ok-" + e["key"],
                            class_name="check-label"),
                class_name="check",
            )),
            class_name="field", key=s.form_key.to_string() + e["key"],
        ),
    )


def report_row(r) -> rx.Component:
    return rx.el.tr(rx.el.td(r["name"]), rx.el.td(r["missing"], class_name="num"),
                    rx.el.td(r["stale"], class_name="num"), rx.el.td(r["total"], class_name="num"))


def todo_row(t) -> rx.Component:
    return rx.el.tr(rx.el.td(t["lang"]), rx.el.td(t["what"]),
                    rx.el.td(rx.el.a(t["label"], href=PAGE + "?item=" + t["item"])), rx.el.td(t["field"]))


def translations_page() -> rx.Component:
    s = TranslationsState
    return frame(
        s, _s("Configuración"),
        subnav(s, PAGE),
        section(
            _s("Textos en otros idiomas"),
            rx.el.p(_s("Cuando cambia el texto en español, sus traducciones quedan «por revisar» y los vecinos ven "
                       "el español con un aviso hasta que alguien las revise o las cambie."), class_name="muted"),
            select_field(_s("Texto"), "item", s.items, value=s.item, on_change=s.select, field_id="staff-tr-item"),
            rx.el.form(
                rx.foreach(s.entries, entry),
                button(_s("Guardar traducciones"), type="submit"),
                on_submit=s.save, key=s.form_key, id="staff-tr-form",
            ),
        ),
        section(
            _s("Qué falta o está por revisar"),
            table([_s("Idioma"), _s("Faltan"), _s("Por revisar"), _s("Textos")], rx.foreach(s.report, report_row),
                  caption=_s("Qué falta o está por revisar"), numeric=(1, 2, 3), id="staff-tr-report"),
            rx.cond(s.todo.length() > 0, table([_s("Idioma"), _s("Estado"), _s("Texto"), _s("Campo")],
                                               rx.foreach(s.todo, todo_row), caption=_s("Pendientes"),
                                               id="staff-tr-todo")),
        ),
        section(
            _s("Agencia de traducción (.po)"),
            rx.el.p(_s("Descargue un idioma como catálogo gettext (.po): las traducciones por revisar van marcadas "
                       "«fuzzy». Cuando vuelva traducido, impórtelo aquí."), class_name="muted"),
            rx.el.div(rx.foreach(s.downloads, lambda d: download_button(d["name"], d["href"])),
                      class_name="actions"),
            rx.el.form(
                rx.el.div(
                    rx.el.label(_s("Archivo .po traducido"), html_for="staff-tr-file", class_name="label"),
                    rx.el.input(type="file", id="staff-tr-file", name="file", accept=".po,text/x-gettext-translation",
                                required=True, class_name="input staff-input"),
                    class_name="field",
                ),
                button(_s("Importar"), kind="secondary", on_click=js(IMPORT_JS)),
                action="/api/staff/content/import", method="post", enc_type="multipart/form-data",
                id="staff-tr-import",
            ),
        ),
        active=routes.STAFF_OFFICES,
    )
