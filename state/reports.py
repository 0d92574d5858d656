"""Reports for a chosen period, with charts (rx.recharts) and the CSV export (/api/staff/reports.csv)."""

from typing import ClassVar

from pwa_app.staff import reports
from state.base import StaffState
from state.period import PeriodMixin


def shown(value) -> str:
    return "–" if value is None else str(value).replace(".", ",")


class ReportsState(PeriodMixin, StaffState):
    data: dict = {}
    by_day: list[dict] = []
    by_procedure: list[dict] = []
    by_office: list[dict] = []
    by_channel: list[dict] = []
    procedure_chart_height: int = 120

    CSV_PATH: ClassVar[str] = "/api/staff/reports.csv"
    DEFAULT_DAYS: ClassVar[int] = 30

    def _show(self, session, who, office_id: int | None) -> None:
        summary = reports.summary(session, who, self.first, self.last, office_id)
        self.by_day, self.by_procedure, self.by_office = (
            summary.pop("by_day"), summary.pop("by_procedure")[:15], summary.pop("by_office"))
        self.procedure_chart_height = 60 + 44 * len(self.by_procedure)
        labels = {"web": "Web", "phone": "Teléfono", "counter": "Mostrador"}
        percent = lambda v: "–" if v is None else f"{shown(v)} %"  # noqa: E731
        self.by_channel = [{**{k: shown(v) for k, v in r.items()}, "share": percent(r["share"]),
                            "no_show_rate": percent(r["no_show_rate"]), "name": labels.get(r["channel"], r["channel"])}
                           for r in summary.pop("by_channel")]
        requests = summary.pop("requests")
        self.data = {**{k: shown(v) for k, v in summary.items()}, **{f"req_{k}": shown(v) for k, v in requests.items()}}
