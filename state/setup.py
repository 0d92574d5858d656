"""Set-up screens: offices and booking rules, procedures and their checklists, weekly schedules, closures and
holidays. Every change goes through pwa_app.staff.setup (checks, audit, catalogue cache) and applies to the
citizens' availability at once."""

from sqlmodel import select

from components.staff import S_, _s, staff_translations
from pwa_app import db
from pwa_app.catalogue import content
from pwa_app.common.i18n import local
from pwa_app.models import Office, Procedure
from pwa_app.security import public_url
from pwa_app.staff import schedules, setup, wall_screens
from pwa_app.staff.permissions import StaffError
from state.base import StaffState, staff_event, viewer

WEEKDAYS = [S_("Lunes"), S_("Martes"), S_("Miércoles"), S_("Jueves"), S_("Viernes"), S_("Sábado"), S_("Domingo")]
OFFICE_FIELDS = ("slug", "name", "address", "opening_hours", "accessibility", "phone", "map_url")
PROC_FIELDS = ("slug", "name", "summary", "description", "who_can_apply", "fee", "online_url", "keywords")


def _strings(obj, fields) -> dict[str, str]:
    return {f: "" if getattr(obj, f) is None else str(getattr(obj, f)) for f in fields}


class SetupBase(StaffState):
    form_key: int = 0  # changes to re-mount a form with new default values
    can_town: bool = False

    def _saved(self, message: str) -> None:
        self.form_key += 1
        self._say(message, "ok")


class OfficesState(SetupBase):
    offices: list[dict[str, str]] = []
    office_options: list[dict[str, str]] = []
    editing_id: int = 0
    selected: dict[str, str] = {}
    horizon: str = ""
    notice: str = ""
    displays: list[dict[str, str]] = []  # the selected office's wall screen keys in force
    display_url: str = ""  # a key just created: its address is shown this once (only its hash is kept)

    def _refresh(self, session) -> None:
        self.can_town = viewer().can("setup_town")
        self.offices = [{"id": str(o.id), **_strings(o, OFFICE_FIELDS)} for o in setup.offices(session, viewer())]
        self.office_options = [{"value": o["id"], "label": o["name"]} for o in self.offices]
        chosen = next((o for o in self.offices if o["id"] == str(self.editing_id)), None)
        if chosen is None and self.editing_id != -1:
            chosen = self.offices[0] if self.offices else None
            self.editing_id = int(chosen["id"]) if chosen else -1
        self.selected = chosen or {f: "" for f in OFFICE_FIELDS}
        town = schedules.municipality(session)
        self.horizon, self.notice = str(town.booking_horizon_days), str(town.min_notice_minutes)
        self.displays = [{"id": str(d.id), "created": local(d.created_at).strftime("%d/%m/%Y %H:%M"),
                          "by": d.created_by} for d in wall_screens.display_tokens(session, viewer(), self.editing_id)] \
            if self.editing_id > 0 else []

    @staff_event("setup_office")
    def load(self):
        self.flash, self.editing_id, self.display_url = "", 0, ""
        self._reload()
        self.form_key += 1

    @staff_event("setup_office")
    def edit(self, office_id: str):
        self.editing_id, self.flash, self.display_url = int(office_id or 0), "", ""
        self._reload()
        self.form_key += 1

    @staff_event("setup_town")
    def new(self):
        self.editing_id, self.flash = -1, ""
        self._reload()
        self.form_key += 1

    @staff_event("setup_office")
    def save(self, form_data: dict):
        office_id = None if self.editing_id == -1 else self.editing_id

        def then(office):
            self.editing_id = office.id

        ok, office = self._save(lambda session: setup.save_office(session, viewer(), office_id, form_data), then)
        if not ok:
            return
        self._saved(_s("Oficina guardada: %(name)s.") % {"name": office.name})

    @staff_event("setup_office")
    def create_display(self):
        with db.session() as session:
            token = wall_screens.create_display_token(session, viewer(), self.editing_id)
            session.commit()
            self._refresh(session)
        self.display_url = f"{public_url()}/staff/pantalla/clave/?t={token}"
        self._say(_s("Enlace de pantalla creado. Cópielo ahora: por seguridad no se volverá a mostrar."), "ok")

    @staff_event("setup_office")
    def revoke_display(self, display_id: str):
        with db.session() as session:
            wall_screens.revoke_display_token(session, viewer(), int(display_id))
            session.commit()
            self._refresh(session)
        self.display_url = ""
        self._say(_s("Enlace revocado: esa pantalla deja de mostrar los turnos."), "ok")

    @staff_event("setup_town")
    def save_rules(self, form_data: dict):
        ok, _ = self._save(lambda session: schedules.set_booking_rules(session, viewer(), form_data.get("horizon"),
                           form_data.get("notice")))
        if not ok:
            return
        self._saved(_s("Reglas de reserva guardadas. Se aplican ya a las citas nuevas."))


class ProceduresState(SetupBase):
    procedures: list[dict[str, str]] = []
    area_options: list[dict[str, str]] = []
    office_choices: list[dict[str, str]] = []
    proc_id: str = ""
    proc: dict[str, str] = {}
    requirements: list[dict[str, str]] = []
    stale: int = 0  # translations of this procedure and its checklist to review

    def _refresh(self, session) -> None:
        self.procedures = [{"value": str(p.id), "label": p.name} for p in setup.procedures(session)]
        self.area_options = [{"value": str(a.id), "label": a.name} for a in setup.areas(session)]
        if self.proc_id == "" and self.procedures:
            self.proc_id = self.procedures[0]["value"]
        p = session.get(Procedure, int(self.proc_id)) if self.proc_id.isdigit() else None
        linked = set(setup.procedure_office_ids(session, p.id)) if p else set()
        self.office_choices = [{"value": str(o.id), "label": o.name, "checked": "1" if o.id in linked else ""}
                               for o in session.exec(select(Office).order_by(Office.id))]
        if p:
            self.proc = {**_strings(p, PROC_FIELDS), "area_id": str(p.area_id),
                         "duration_minutes": str(p.duration_minutes),
                         "needs_appointment": "1" if p.needs_appointment else "",
                         "requires_document": "1" if p.requires_document else ""}
            items = setup.requirements(session, p.id)
            self.requirements = [{"id": str(r.id), "text": r.text, "note": r.note, "optional": "1" if r.optional else ""}
                                 for r in items]
            self.stale = content.stale_count(session, [p, *items])
        else:
            self.proc = {**{f: "" for f in PROC_FIELDS}, "area_id": "", "duration_minutes": "10",
                         "needs_appointment": "1", "requires_document": "1"}
            self.requirements, self.stale = [], 0
        self.form_key += 1

    @staff_event("setup_town")
    def load(self):
        self.flash = ""
        self._reload()

    @staff_event("setup_town")
    def select(self, value: str):
        self.proc_id, self.flash = value, ""
        self._reload()

    @staff_event("setup_town")
    def new(self):
        self.proc_id, self.flash = "new", ""
        self._reload()

    @staff_event("setup_town")
    def save(self, form_data: dict):
        data = dict(form_data)
        data["office_ids"] = [k.removeprefix("office_") for k in form_data if k.startswith("office_")]
        for flag in ("needs_appointment", "requires_document"):
            data[flag] = flag in form_data

        def then(proc):
            self.proc_id = str(proc.id)

        ok, proc = self._save(lambda session: setup.save_procedure(session, viewer(),
                              int(self.proc_id) if self.proc_id.isdigit() else None, data), then)
        if not ok:
            return
        self._saved(_s("Trámite guardado: %(name)s.") % {"name": proc.name})

    @staff_event("setup_town")
    def add_requirement(self, form_data: dict):
        data = {**form_data, "optional": "optional" in form_data}
        ok, _ = self._save(lambda session: setup.save_requirement(session, viewer(), int(self.proc_id), None, data),
                           refused=(StaffError, ValueError))
        if not ok:
            return
        self._saved(_s("Documento añadido a la lista."))

    @staff_event("setup_town")
    def delete_requirement(self, requirement_id: str):
        with db.session() as session:
            setup.delete_requirement(session, viewer(), int(requirement_id))
            session.commit()
            self._refresh(session)
        self._saved(_s("Documento quitado de la lista."))

    @staff_event("setup_town")
    def move_requirement(self, requirement_id: str, delta: int):
        with db.session() as session:
            setup.move_requirement(session, viewer(), int(requirement_id), int(delta))
            session.commit()
            self._refresh(session)


SCHEDULE_FORM = ("procedure_id", "weekday", "opens", "closes", "slot_minutes", "capacity", "staff_seats",
                 "staff_seats_hours", "valid_from", "valid_until")


def _schedule_form(r) -> dict[str, str]:
    """A schedule's values as its form's fields hold them."""
    return {"procedure_id": str(r.procedure_id), "weekday": str(r.weekday), "opens": f"{r.opens:%H:%M}",
            "closes": f"{r.closes:%H:%M}", "slot_minutes": str(r.slot_minutes), "capacity": str(r.capacity),
            "staff_seats": str(r.staff_seats), "staff_seats_hours": str(r.staff_seats_hours),
            "valid_from": r.valid_from.isoformat() if r.valid_from else "",
            "valid_until": r.valid_until.isoformat() if r.valid_until else ""}


class SchedulesState(SetupBase):
    office_options: list[dict[str, str]] = []
    procedure_options: list[dict[str, str]] = []
    office_id: str = ""
    procedure_id: str = ""
    rows: list[dict[str, str]] = []
    editing: dict[str, str] = {}  # the schedule being edited (its form values), or empty: a new one

    def _refresh(self, session) -> None:
        office = setup.office_of(session, viewer(), int(self.office_id) if self.office_id else None)
        self.office_id = str(office.id)
        self.office_options = [{"value": str(o.id), "label": o.name} for o in setup.offices(session, viewer())]
        self.procedure_options = [{"value": str(p.id), "label": p.name} for p in setup.procedures(session)
                                  if p.needs_appointment]
        if self.procedure_id == "" and self.procedure_options:
            self.procedure_id = self.procedure_options[0]["value"]
        names = {p.id: p.name for p in session.exec(select(Procedure))}
        rows = schedules.schedules(session, viewer(), office.id,
                               int(self.procedure_id) if self.procedure_id.isdigit() else None)
        self.rows = [{
            "id": str(r.id), "procedure": names.get(r.procedure_id, ""), "day": _s(WEEKDAYS[r.weekday]),
            "hours": f"{r.opens:%H:%M}–{r.closes:%H:%M}", "slot": str(r.slot_minutes), "capacity": str(r.capacity),
            "kept": (_s("%(seats)s hasta %(hours)s h antes") % {"seats": r.staff_seats, "hours": r.staff_seats_hours})
            if r.staff_seats else "—",
            "valid": " – ".join(d.strftime("%d/%m/%Y") for d in (r.valid_from, r.valid_until) if d) or _s("Siempre"),
            **_schedule_form(r),
        } for r in rows]

    @staff_event("setup_office")
    def load(self):
        self.flash = ""
        with db.session() as session:
            try:
                self._refresh(session)
            except StaffError as exc:
                self._fail(exc)

    @staff_event("setup_office")
    def set_office(self, value: str):
        self.office_id, self.flash = value, ""
        self._reload()

    @staff_event("setup_office")
    def set_procedure(self, value: str):
        self.procedure_id, self.flash = value or "all", ""
        self._reload()

    @staff_event("setup_office")
    def edit(self, schedule_id: str):
        """Fills the form with a schedule's values: saving it changes that schedule instead of adding one."""
        self.editing = next(({k: r[k] for k in (*SCHEDULE_FORM, "id")} for r in self.rows if r["id"] == schedule_id),
                            {})
        self.flash, self.form_key = "", self.form_key + 1

    @staff_event("setup_office")
    def cancel_edit(self):
        self.editing, self.flash, self.form_key = {}, "", self.form_key + 1

    @staff_event("setup_office")
    def add(self, form_data: dict):
        data = {**form_data, "office_id": self.office_id}
        schedule_id = int(self.editing["id"]) if self.editing else None
        ok, _ = self._save(lambda session: schedules.save_schedule(session, viewer(), schedule_id, data))
        if not ok:
            return
        self.editing = {}
        self._saved(_s("Horario añadido. Las nuevas horas ya se pueden reservar.") if schedule_id is None else
                    _s("Horario cambiado. Las citas ya reservadas se mantienen; las nuevas siguen el horario nuevo."))

    @staff_event("setup_office")
    def delete(self, schedule_id: str):
        ok, _ = self._save(lambda session: schedules.delete_schedule(session, viewer(), int(schedule_id)))
        if not ok:
            return
        self._saved(_s("Horario eliminado. Las citas ya reservadas se mantienen."))


class ClosuresState(SetupBase):
    office_options: list[dict[str, str]] = []
    closures: list[dict[str, str]] = []
    pending: dict[str, str] = {}  # a closure waiting for the decision about its booked appointments
    pending_count: int = 0
    calls: list[dict[str, str]] = []  # cancelled by a closure, with no e-mail or push: to phone

    def _refresh(self, session) -> None:
        self.can_town = viewer().can("setup_town")
        self.calls = schedules.call_list(session, viewer())
        offices = setup.offices(session, viewer())
        names = {o.id: o.name for o in session.exec(select(Office))}
        self.office_options = ([{"value": "all", "label": _s("Todas las oficinas (festivo)")}] if self.can_town
                               else []) + [{"value": str(o.id), "label": o.name} for o in offices]
        self.closures = [{"id": str(c.id), "day": c.day.strftime("%d/%m/%Y"), "reason": c.reason,
                          "office": names.get(c.office_id, "") if c.office_id else _s("Todas (festivo)"),
                          "editable": "1" if (c.office_id is not None or self.can_town) else ""}
                         for c in schedules.closures(session, viewer())]

    @staff_event("setup_office")
    def load(self):
        self.flash, self.pending, self.pending_count = "", {}, 0
        self._reload()

    def _add(self, data: dict, decision: str):
        office = data.get("office", "")
        office_id = None if office == "all" else (int(office) if str(office).isdigit() else -1)
        with db.session() as session:
            try:
                closure, cancelled = schedules.add_closure(session, viewer(), office_id, data.get("day"),
                                                       data.get("reason", ""), on_conflict=decision)
                session.commit()
            except StaffError as exc:
                session.rollback()
                if exc.errors.get("day") == "has_appointments":
                    self.pending, self.pending_count = {k: str(v) for k, v in data.items()}, exc.info["count"]
                    self.flash = ""  # the dialog asks (role=alertdialog)
                else:
                    self._fail(exc)
                return
            self.pending, self.pending_count = {}, 0
            self._refresh(session)
        if cancelled:
            self._saved(staff_translations().ngettext(
                "Cierre guardado. Se ha anulado %(count)d cita; si dejó su correo, se le avisa.",
                "Cierre guardado. Se han anulado %(count)d citas; se avisa por correo a quien lo dejó.", cancelled)
                % {"count": cancelled} + (" " + _s("A quien no dejó correo hay que llamarle: vea la lista de "
                                                   "llamadas.") if self.calls else ""))
        elif decision == "keep":
            self._saved(_s("Cierre guardado. Las citas ya reservadas se mantienen."))
        else:
            self._saved(_s("Cierre guardado: ese día ya no se puede reservar."))

    @staff_event("setup_office")
    def add(self, form_data: dict):
        self._add(dict(form_data), "ask")

    @staff_event("setup_office")
    def decide(self, decision: str):
        if not self.pending or decision not in ("cancel", "keep"):
            self.pending, self.pending_count = {}, 0
            self._say(_s("No se ha guardado el cierre."), "info")
            return
        self._add(dict(self.pending), decision)

    @staff_event("setup_office")
    def delete(self, closure_id: str):
        ok, _ = self._save(lambda session: schedules.delete_closure(session, viewer(), int(closure_id)))
        if not ok:
            return
        self._saved(_s("Cierre eliminado: el día se puede reservar de nuevo."))
