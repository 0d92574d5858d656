"""The translations screen: one text of the catalogue (a procedure, checklist item, office, area, holiday, request
type or department) in every language side by side with its Spanish; what is missing or to review per language;
the .po files for a translation agency (export links, and the import form posting to the staff API, which comes
back here with the counts in the address). Everything goes through pwa_app.staff.setup."""

from sqlmodel import select

from components.staff import S_, _s
from pwa_app.catalogue import content
from pwa_app.common.i18n import LANGUAGES, RTL_LANGS
from pwa_app.models import Procedure
from pwa_app.staff import setup
from pwa_app.staff.permissions import StaffError
from state.base import MESSAGES, staff_event, viewer
from state.setup import SetupBase

KINDS = {"procedure": S_("Trámite"), "requirement": S_("Documento"), "office": S_("Oficina"), "area": S_("Área"),
         "closure": S_("Festivo o cierre"), "department": S_("Departamento"), "requesttype": S_("Tipo de solicitud")}
FIELD_LABELS = {
    "name": S_("Nombre"), "summary": S_("Resumen en una frase"), "description": S_("Descripción"),
    "who_can_apply": S_("Quién puede hacerlo"), "fee": S_("Tasa"), "keywords": S_("Palabras de búsqueda"),
    "text": S_("Documento"), "note": S_("Nota"), "opening_hours": S_("Horario que ven los vecinos"),
    "accessibility": S_("Accesibilidad"), "reason": S_("Motivo"), "hint": S_("Ayuda para el vecino"),
}
COUNTS = {"added": S_("nuevas"), "updated": S_("cambiadas"), "unchanged": S_("iguales"),
          "fuzzy": S_("marcadas «fuzzy» (sin aplicar)"), "untranslated": S_("sin traducir"),
          "outdated": S_("de un texto en español que ha cambiado (sin aplicar)")}
TODO_SHOWN = 60


def language_name(lang: str) -> str:
    return f"{LANGUAGES[lang]} ({lang})"


def item_options(session) -> list[dict[str, str]]:
    procedures = {p.id: p.name for p in session.exec(select(Procedure))}
    options = []
    for table, model in content.MODELS.items():
        for obj in session.exec(select(model).order_by(model.id)):
            label = content.label(obj)
            if table == "requirement":
                label = f"{procedures.get(obj.procedure_id, '')}: {label}"
            options.append({"value": f"{table}:{obj.id}", "label": f"{_s(KINDS[table])} · {label}"})
    return options


def entries_of(fields: list[dict]) -> list[dict[str, str]]:
    """content.side_by_side flattened for one rx.foreach: a row per (field, language); the first of each field
    carries the field's title and Spanish text."""
    out = []
    for f in fields:
        for i, t in enumerate(f["langs"]):
            out.append({"key": f"{f['field']}__{t['lang']}", "first": "" if i else "1",
                        "field": _s(FIELD_LABELS.get(f["field"], f["field"])), "spanish": f["es"],
                        "lang": t["lang"], "lang_name": language_name(t["lang"]), "text": t["text"],
                        "stale": "1" if t["stale"] else "", "dir": "rtl" if t["lang"] in RTL_LANGS else "ltr",
                        "long": "1" if len(f["es"]) > 90 else ""})
    return out


class TranslationsState(SetupBase):
    items: list[dict[str, str]] = []
    item: str = ""
    entries: list[dict[str, str]] = []
    report: list[dict[str, str]] = []
    todo: list[dict[str, str]] = []
    downloads: list[dict[str, str]] = []

    def _refresh(self, session) -> None:
        self.items = item_options(session)
        if self.item not in {o["value"] for o in self.items}:
            self.item = self.items[0]["value"] if self.items else ""
        table, _, row_id = self.item.partition(":")
        obj = setup.content_row(session, viewer(), table, int(row_id)) if self.item else None
        self.entries = entries_of(content.side_by_side(session, obj)) if obj is not None else []
        labels = {o["value"]: o["label"] for o in self.items}
        report = setup.translation_report(session, viewer())
        self.report = [{"lang": r["lang"], "name": language_name(r["lang"]), "total": str(r["total"]),
                        "missing": str(len(r["missing"])), "stale": str(len(r["stale"]))} for r in report]
        todo = [{"lang": r["lang"], "what": _s("Por revisar") if kind == "stale" else _s("Falta"),
                 "item": f"{i['table']}:{i['row_id']}", "label": labels.get(f"{i['table']}:{i['row_id']}", ""),
                 "field": _s(FIELD_LABELS.get(i["field"], i["field"]))}
                for r in report for kind in ("stale", "missing") for i in r[kind]]
        self.todo = todo[:TODO_SHOWN]
        self.downloads = [{"lang": lang, "name": language_name(lang), "href": f"/api/staff/content/{lang}.po"}
                          for lang in content.TARGETS]
        self.form_key += 1

    def _import_result(self) -> None:
        params = self.router.url.query_parameters
        if params.get("error"):
            self._say(_s(MESSAGES.get(params["error"], S_("No se ha podido importar el archivo."))), "error")
        elif params.get("lang") in content.TARGETS:
            counts = ", ".join(f"{int(params[k])} {_s(label)}" for k, label in COUNTS.items()
                               if str(params.get(k, "")).isdigit() and int(params[k]))
            self._say(_s("Archivo importado (%(lang)s): %(counts)s.")
                      % {"lang": language_name(params["lang"]), "counts": counts or _s("ningún cambio")}, "ok")

    @staff_event("setup_town")
    def load(self):
        self.flash = ""
        self.item = self.router.url.query_parameters.get("item", self.item)
        self._reload()
        self._import_result()

    @staff_event("setup_town")
    def select(self, value: str):
        self.item, self.flash = value, ""
        self._reload()

    @staff_event("setup_town")
    def save(self, form_data: dict):
        """Texts named "t__field__lang"; "ok__field__lang" ticked confirms a translation to review unchanged."""
        texts = {tuple(k.split("__")[1:3]): v for k, v in form_data.items() if k.startswith("t__")}
        confirmed = {tuple(k.split("__")[1:3]) for k in form_data if k.startswith("ok__")}
        table, _, row_id = self.item.partition(":")
        ok, counts = self._save(lambda session: setup.save_translations(session, viewer(), table, int(row_id or 0),
                                texts, confirmed), refused=(StaffError, ValueError))
        if not ok:
            return
        changed = sum(counts.values())
        self._saved(_s("Traducciones guardadas: %(count)d cambios.") % {"count": changed} if changed
                    else _s("No había cambios que guardar."))
