"""The department's requests inbox: overdue first, assign, change status with a public comment. Reads and writes
through pwa_app.staff.setup, which uses the tracking service (the citizen's timeline is the same one)."""

from components.staff import S_, _s
from pwa_app import db
from pwa_app.models import Department
from pwa_app.service_requests import rules, views
from pwa_app.staff import inbox
from pwa_app.staff.permissions import StaffError
from state.base import StaffState, staff_event, viewer

SHOW = [("open", S_("Abiertas")), ("closed", S_("Cerradas")), ("all", S_("Todas"))]


class InboxState(StaffState):
    show: str = "open"
    department_id: str = ""
    department_options: list[dict[str, str]] = []
    is_admin: bool = False
    items: list[dict] = []
    selected_id: int = 0
    detail: dict = {}
    timeline: list[dict[str, str]] = []
    attachments: list[dict[str, str]] = []
    status_options: list[dict[str, str]] = []
    assignee_options: list[dict[str, str]] = []
    form_key: int = 0

    def _refresh(self, session) -> None:
        who = viewer()
        self.is_admin = who.is_admin
        self.department_options = [{"value": str(d.id), "label": d.name} for d in inbox.departments(session)]
        items = inbox.inbox(session, who, self.show, int(self.department_id) if self.department_id else None)
        for i in items:
            i["status_label"] = views.status_label(i["status"], "es")  # the words the citizen reads
        self.items = items
        if self.selected_id and not any(i["id"] == self.selected_id for i in items):
            self.selected_id = 0
        if not self.selected_id and items:
            self.selected_id = items[0]["id"]
        self._detail(session)

    def _detail(self, session) -> None:
        if not self.selected_id:
            self.detail, self.timeline, self.status_options, self.assignee_options = {}, [], [], []
            self.attachments = []
            return
        view = inbox.request_detail(session, viewer(), self.selected_id)
        self.detail = {k: ("" if view.get(k) is None else str(view.get(k))) for k in (
            "code", "description", "address", "name", "email", "phone", "document", "assignee", "due_label",
            "submitted_label", "status", "overdue_label", "public_description", "public_address")}
        self.detail["public"] = "1" if view["type"]["public"] else ""
        self.detail["type"] = view["type"]["name"]
        self.detail["department"] = view["department"]["name"] if view["department"] else ""
        self.detail["status_label"] = view["status_label"]
        self.detail["contact"] = " · ".join(x for x in (view["name"], view["email"], view["phone"], view["document"])
                                            if x) or "–"
        self.detail["id"] = str(view["id"])
        self.timeline = [{"label": e["label"], "at": e["at_label"], "comment": e["comment"] or "",
                          "actor": e["actor"]} for e in view["timeline"]]
        self.attachments = [{
            "url": f"/api/staff/requests/{view['id']}/attachments/{a['n']}", "filename": a["filename"],
            "image": "1" if a["content_type"].startswith("image/") else "", "size": f"{-(-a['size'] // 1024)} KB",
        } for a in view["attachments"]]
        self.status_options = [{"value": s, "label": views.status_label(s, "es")}
                               for s in rules.STATUSES if s in view["next_statuses"]]
        self.assignee_options = [{"value": str(u.id), "label": u.name}
                                 for u in inbox.colleagues(session, viewer(), self.selected_id)]
        self.form_key += 1

    def _guarded(self, action, message: str):
        ok, _ = self._save(action)
        if not ok:
            return
        self._say(message, "ok")

    @staff_event("requests")
    def load(self):
        self.flash = ""
        self._reload()

    @staff_event("requests")
    def set_show(self, value: str):
        self.show, self.flash = value if value in dict(SHOW) else "open", ""
        self._reload()

    @staff_event("requests")
    def set_department(self, value: str):
        self.department_id, self.flash = value, ""
        self._reload()

    @staff_event("requests")
    def select(self, request_id: int):
        self.selected_id, self.flash = int(request_id), ""
        with db.session() as session:
            try:
                self._detail(session)
            except StaffError as exc:
                self.selected_id = 0
                self._fail(exc)

    @staff_event("requests")
    def assign(self, form_data: dict):
        raw = str(form_data.get("assignee") or "")
        self._guarded(lambda s: inbox.assign_request(s, viewer(), self.selected_id, int(raw) if raw.isdigit() else 0),
                      _s("Solicitud asignada."))

    @staff_event("requests")
    def change_status(self, form_data: dict):
        status = str(form_data.get("status") or "")
        self._guarded(lambda s: inbox.change_request_status(s, viewer(), self.selected_id, status,
                                                            str(form_data.get("comment") or "")),
                      _s("Estado cambiado. El vecino lo verá en el seguimiento."))

    @staff_event("requests")
    def publish(self, form_data: dict):
        text, place = str(form_data.get("public_description") or ""), str(form_data.get("public_address") or "")
        if not text.strip():
            self._fail(StaffError({"public_description": "required"}))
            return
        self._guarded(lambda s: inbox.publish_request_text(s, viewer(), self.selected_id, text, place),
                      _s("Texto público aprobado: ya se ve en Open311."))

    @staff_event("requests")
    def unpublish(self):
        self._guarded(lambda s: inbox.publish_request_text(s, viewer(), self.selected_id, ""),
                      _s("Texto público retirado: Open311 muestra solo el tipo de solicitud."))

    @staff_event("requests")
    def hand_over(self, form_data: dict):
        raw = str(form_data.get("department") or "")
        with db.session() as session:
            dept = session.get(Department, int(raw)) if raw.isdigit() else None
        self._guarded(lambda s: inbox.change_request_status(s, viewer(), self.selected_id, "assigned",
                                                            str(form_data.get("comment") or ""),
                                                            department=dept.slug if dept else "?"),
                      _s("Solicitud enviada al otro departamento."))

