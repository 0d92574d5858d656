"""The period of the report pages (from, to, office, "the last N days") and the CSV link that goes with it. A
mixin: each report state says what it shows for the period (`_show`), its CSV address and its default length."""

from datetime import timedelta
from typing import ClassVar

import reflex as rx

from pwa_app import db
from pwa_app.models import Office
from pwa_app.staff import forms, setup
from pwa_app.staff.permissions import StaffError
from pwa_app.staff.reports import ReportError
from state.base import staff_event, viewer


class PeriodMixin(rx.State, mixin=True):
    first: str = ""
    last: str = ""
    office_id: str = ""
    office_options: list[dict[str, str]] = []
    csv_url: str = ""

    CSV_PATH: ClassVar[str] = ""
    DEFAULT_DAYS: ClassVar[int] = 30

    def _show(self, session, who, office_id: int | None) -> None:
        raise NotImplementedError

    def _run(self):
        who = viewer()
        with db.session() as session:
            try:
                self.office_options = [{"value": str(o.id), "label": o.name} for o in setup.offices(session, who)]
                office_id = int(self.office_id) if self.office_id else None
                self._show(session, who, office_id)
                slug = session.get(Office, office_id).slug if office_id else ""
                self.csv_url = f"{self.CSV_PATH}?from={self.first}&to={self.last}" + (f"&office={slug}" if slug else "")
                self.flash = ""
            except (ReportError, StaffError) as exc:
                too_long = isinstance(exc, ReportError) and exc.errors.get("period") == "too_long"
                self._fail(StaffError({"period": "too_long_period"}) if too_long else exc)

    def _last_days(self, days: int) -> None:
        today = forms.today()
        self.last, self.first = today.isoformat(), (today - timedelta(days=int(days) - 1)).isoformat()

    @staff_event("reports")
    def load(self):
        if not (self.first and self.last):
            self._last_days(self.DEFAULT_DAYS)
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
        self._last_days(days)
        self._run()
