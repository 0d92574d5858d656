"""Reports for a chosen period, with charts (rx.recharts) and the CSV export (/api/staff/reports.csv)."""

from datetime import timedelta

from pwa_app import db
from pwa_app.models import Office
from pwa_app.services import reports, staff
from pwa_app.services.reports import ReportError
from pwa_app.services.staff import StaffError
from state.base import StaffState, staff_event, viewer


class ReportsState(StaffState):
    first: str = ""
    last: str = ""
    office_id: str = ""
    office_options: list[dict[str, str]] = []
    data: dict = {}
    by_day: list[dict] = []
    by_procedure: list[dict] = []
    by_office: list[dict] = []
    csv_url: str = "/api/staff/reports.csv"
    procedure_chart_height: int = 120

    def _refresh(self, session) -> None:
        who = viewer()
        self.office_options = [{"value": str(o.id), "label": o.name} for o in staff.offices(session, who)]
        office_id = int(self.office_id) if self.office_id else None
        summary = reports.summary(session, who, self.first, self.last, office_id)
        self.by_day, self.by_procedure, self.by_office = (
            summary.pop("by_day"), summary.pop("by_procedure")[:15], summary.pop("by_office"))
        self.procedure_chart_height = 60 + 44 * len(self.by_procedure)
        requests = summary.pop("requests")
        shown = {k: ("–" if v is None else str(v).replace(".", ",")) for k, v in summary.items()}
        shown.update({f"req_{k}": ("–" if v is None else str(v).replace(".", ",")) for k, v in requests.items()})
        self.data = shown
        slug = session.get(Office, office_id).slug if office_id else ""
        self.csv_url = f"/api/staff/reports.csv?from={self.first}&to={self.last}" + (f"&office={slug}" if slug else "")

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
        self.first = self.first or (today - timedelta(days=29)).isoformat()
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

    @staff_event("reports")
    def preset(self, days: int):
        today = staff.today()
        self.last, self.first = today.isoformat(), (today - timedelta(days=int(days) - 1)).isoformat()
        self._run()

