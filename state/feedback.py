"""Citizen feedback for staff (issue 9): satisfaction per office, procedure and month, the checklist items citizens
said were missing, recent comments and suggestions, and the CSV export (/api/staff/feedback.csv). Thin: the
figures come from pwa_app.feedback.surveys; the same "reports" permission and office scope as the reports."""

from typing import ClassVar

from pwa_app.feedback import surveys
from state.base import StaffState
from state.period import PeriodMixin
from state.reports import shown


def _row(r: dict) -> dict[str, str]:
    return {"name": r["name"] or r["key"], "answers": str(r["answers"]), "average": shown(r["average"]),
            "satisfied": shown(r["satisfied_rate"]), "checklist": shown(r["checklist_ok_rate"]),
            "long_wait": shown(r["long_wait_rate"]), "ratings": " · ".join(str(n) for n in r["ratings"])}


class FeedbackState(PeriodMixin, StaffState):
    totals: dict[str, str] = {}
    by_office: list[dict[str, str]] = []
    by_procedure: list[dict[str, str]] = []
    by_month: list[dict[str, str]] = []
    missing: list[dict[str, str]] = []
    comments: list[dict[str, str]] = []
    suggestions: list[dict[str, str]] = []

    CSV_PATH: ClassVar[str] = "/api/staff/feedback.csv"
    DEFAULT_DAYS: ClassVar[int] = 90

    def _show(self, session, who, office_id: int | None) -> None:
        s = surveys.summary(session, who, self.first, self.last, office_id)
        overall = s["overall"] or {"answers": 0, "average": None, "satisfied_rate": None, "checklist_ok_rate": None,
                                   "long_wait_rate": None}
        self.totals = {"answers": str(s["answers"]), "average": shown(overall["average"]),
                       "satisfied": shown(overall["satisfied_rate"]), "checklist": shown(overall["checklist_ok_rate"]),
                       "long_wait": shown(overall["long_wait_rate"])}
        self.by_office = [_row(r) for r in s["by_office"]]
        self.by_procedure = [_row(r) for r in s["by_procedure"]]
        self.by_month = [_row(r) for r in s["by_month"]]
        self.missing = [{**r, "count": str(r["count"])} for r in s["missing"]]
        self.comments = [{**c, "rating": str(c["rating"])} for c in s["comments"]]
        self.suggestions = s["suggestions"]
