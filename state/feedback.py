"""Citizen feedback for staff (issue 9): satisfaction per office, procedure and month, the checklist items citizens
said were missing, recent comments and suggestions, and the CSV export (/api/staff/feedback.csv). Thin: the
figures come from pwa_app.services.feedback; the same "reports" permission and office scope as the reports."""

from datetime import timedelta

from pwa_app import db
from pwa_app.models import Office
from pwa_app.services import feedback, staff
from pwa_app.services.reports import ReportError
from pwa_app.services.staff import StaffError
from state.base import StaffState, staff_event, viewer


def _num(value) -> str:
    return "–" if value is None else str(value).replace(".", ",")


def _row(r: dict) -> dict[str, str]:
    return {"name": r["name"] or r["key"], "answers": str(r["answers"]), "average": _num(r["average"]),
            "satisfied": _num(r["satisfied_rate"]), "checklist": _num(r["checklist_ok_rate"]),
            "long_wait": _num(r["long_wait_rate"]), "ratings": " · ".join(str(n) for n in r["ratings"])}


class FeedbackState(StaffState):
    first: str = ""
    last: str = ""
    office_id: str = ""
    office_options: list[dict[str, str]] = []
    totals: dict[str, str] = {}
    by_office: list[dict[str, str]] = []
    by_procedure: list[dict[str, str]] = []
    by_month: list[dict[str, str]] = []
    missing: list[dict[str, str]] = []
    comments: list[dict[str, str]] = []
    suggestions: list[dict[str, str]] = []
    csv_url: str = "/api/staff/feedback.csv"

    def _refresh(self, session) -> None:
        who = viewer()
        self.office_options = [{"value": str(o.id), "label": o.name} for o in staff.offices(session, who)]
        office_id = int(self.office_id) if self.office_id else None
        s = feedback.summary(session, who, self.first, self.last, office_id)
        overall = s["overall"] or {"answers": 0, "average": None, "satisfied_rate": None, "checklist_ok_rate": None,
                                   "long_wait_rate": None}
        self.totals = {"answers": str(s["answers"]), "average": _num(overall["average"]),
                       "satisfied": _num(overall["satisfied_rate"]), "checklist": _num(overall["checklist_ok_rate"]),
                       "long_wait": _num(overall["long_wait_rate"])}
        self.by_office = [_row(r) for r in s["by_office"]]
        self.by_procedure = [_row(r) for r in s["by_procedure"]]
        self.by_month = [_row(r) for r in s["by_month"]]
        self.missing = [{**r, "count": str(r["count"])} for r in s["missing"]]
        self.comments = [{**c, "rating": str(c["rating"])} for c in s["comments"]]
        self.suggestions = s["suggestions"]
        slug = session.get(Office, office_id).slug if office_id else ""
        self.csv_url = (f"/api/staff/feedback.csv?from={self.first}&to={self.last}"
                        + (f"&office={slug}" if slug else ""))

    def _run(self):
        with db.session() as session:
            try:
                self._refresh(session)
                self.flash = ""
            except (ReportError, StaffError) as exc:
                self._fail(exc if not isinstance(exc, ReportError) or exc.errors.get("period") != "too_long"
                           else StaffError({"period": "too_long_period"}))

    @staff_event("reports")
    def load(self):
        today = staff.today()
        self.last = self.last or today.isoformat()
        self.first = self.first or (today - timedelta(days=89)).isoformat()
        self._run()

    @staff_event("reports")
    def set_first(self, value: str):
        self.first = value
        self._run()

    @staff_event("reports")
    def set_last(self, value: str):
        self.last = value
        self._run()

    @staff_event("reports")
    def set_office(self, value: str):
        self.office_id = value
        self._run()
