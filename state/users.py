"""Staff accounts (administrators) and the audit trail."""

from components.staff import _s
from pwa_app import db
from pwa_app.staff import accounts, inbox, setup
from state.base import ROLE_LABELS, StaffState, staff_event, viewer


class UsersState(StaffState):
    users: list[dict] = []
    office_options: list[dict[str, str]] = []
    department_options: list[dict[str, str]] = []
    editing_id: int = 0  # 0: new account
    editing: dict[str, str] = {}
    editing_offices: list[str] = []
    form_key: int = 0

    def _refresh(self, session) -> None:
        who = viewer()
        offices = {o.id: o.name for o in setup.offices(session, who)}
        departments = {d.id: d.name for d in inbox.departments(session)}
        self.office_options = [{"value": str(k), "label": v} for k, v in offices.items()]
        self.department_options = [{"value": str(k), "label": v} for k, v in departments.items()]
        rows = accounts.users(session, who)
        self.users = [{**u, "role_label": _s(ROLE_LABELS[u["role"]]),
                       "offices": ", ".join(offices.get(o, "") for o in u["office_ids"]) or "–",
                       "department": departments.get(u["department_id"], "–"),
                       "state": _s("Activa") if u["active"] else _s("Desactivada"),
                       "second_factor": _s("Sí") if u["second_factor"] else _s("No")} for u in rows]
        found = next((u for u in rows if u["id"] == self.editing_id), None)
        if found is None:
            self.editing_id = 0
        self.editing = {"email": found["email"] if found else "", "name": found["name"] if found else "",
                        "role": found["role"] if found else "desk",
                        "department_id": str(found["department_id"] or "") if found else "",
                        "active": "1" if (found is None or found["active"]) else ""}
        self.editing_offices = [str(o) for o in found["office_ids"]] if found else []
        self.form_key += 1

    @staff_event("users")
    def load(self):
        self.flash = ""
        self._reload()

    @staff_event("users")
    def edit(self, user_id: int):
        self.editing_id, self.flash = int(user_id), ""
        self._reload()

    @staff_event("users")
    def save(self, form_data: dict):
        data = {**form_data, "office_ids": [k.removeprefix("office_") for k in form_data if k.startswith("office_")],
                "active": "active" in form_data or self.editing_id == 0}

        def then(user):
            self.editing_id = user.id

        ok, user = self._save(lambda session: accounts.save_user(session, viewer(), self.editing_id or None, data),
                              then)
        if not ok:
            return
        self._say(_s("Cuenta guardada: %(email)s.") % {"email": user.email}, "ok")


    @staff_event("users")
    def reset_second_factor(self, user_id: int):
        ok, user = self._save(lambda session: accounts.reset_second_factor(session, viewer(), int(user_id),
                              ip=self._client_ip()))
        if not ok:
            return
        self._say(_s("Segundo factor restablecido para %(email)s: sus sesiones se han cerrado.")
                  % {"email": user.email}, "ok")


class AuditState(StaffState):
    events: list[dict] = []

    @staff_event("audit")
    def load(self):
        with db.session() as session:
            self.events = accounts.audit_log(session, viewer())
