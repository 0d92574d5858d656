"""Reports for a period: appointments by procedure, office and day, the no-show rate, waiting times (average and
90th percentile, from arrival to call), time at the desk, and requests answered within their time limit; the same
figures per day, office and procedure as CSV. No citizen's personal data leaves through here.

Definitions (also shown on the reports page):
- no-show rate = missed / (attended + missed), over appointments of the period whose outcome is known;
- waiting time = called_at - issued_at of queue tickets (arrival or check-in to being called), in minutes;
  the 90th percentile is the nearest-rank one;
- answered within target = requests closed (resolved, rejected or closed) in the period on or before their due
  date, over all requests closed in the period.
"""

import csv
import io
import math
from collections import Counter, defaultdict
from datetime import UTC, date, datetime, time, timedelta

from sqlmodel import Session, select

from pwa_app.common.errors import DomainError
from pwa_app.common.i18n import TZ, local
from pwa_app.common.times import to_utc
from pwa_app.models import Appointment, Office, Procedure, QueueTicket, ServiceRequest
from pwa_app.service_requests import rules
from pwa_app.staff.permissions import Viewer, require

UTC = UTC
MAX_DAYS = 366
STATUSES = ("booked", "pending", "checked_in", "done", "no_show", "cancelled", "expired")
NOT_HELD = ("cancelled", "expired")  # gave their time back: not counted as appointments


class ReportError(DomainError):
    """A report that cannot be made (a period too long, in the wrong order...)."""


def percentile(values: list[float], p: float) -> float | None:
    """Nearest-rank percentile (p in 0..100); None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(p / 100 * len(ordered)))
    return ordered[rank - 1]


def mean(values: list[float]) -> float | None:
    return sum(values) / len(values) if values else None


def period(first, last) -> tuple[date, date]:
    """Checked period bounds (inclusive local days)."""
    try:
        first = first if isinstance(first, date) else date.fromisoformat(str(first))
        last = last if isinstance(last, date) else date.fromisoformat(str(last))
    except ValueError:
        raise ReportError({"period": "date"}) from None
    if last < first:
        raise ReportError({"period": "range"})
    if (last - first).days >= MAX_DAYS:
        raise ReportError({"period": "too_long"})
    return first, last


def office_scope(session: Session, viewer: Viewer, office_id: int | None) -> list[int]:
    require(viewer, "reports")
    if office_id:
        require(viewer, "reports", office_id)
        return [office_id]
    return [o for o in session.exec(select(Office.id).order_by(Office.id)) if viewer.can_office(o)]


def _bounds(first: date, last: date) -> tuple[datetime, datetime]:
    return (datetime.combine(first, time(0), tzinfo=TZ).astimezone(UTC),
            datetime.combine(last + timedelta(days=1), time(0), tzinfo=TZ).astimezone(UTC))


def _minutes(a: datetime, b: datetime) -> float:
    return (to_utc(b) - to_utc(a)).total_seconds() / 60


def _rounded(value: float | None, digits: int = 1) -> float | None:
    return None if value is None else round(value, digits)


def _data(session: Session, offices: list[int], first: date, last: date):
    start, end = _bounds(first, last)
    appts = session.exec(select(Appointment.office_id, Appointment.procedure_id, Appointment.starts_at,
                                Appointment.status).where(
        Appointment.office_id.in_(offices or [0]), Appointment.starts_at >= start,
        Appointment.starts_at < end)).all()
    tickets = session.exec(select(QueueTicket).where(
        QueueTicket.office_id.in_(offices or [0]), QueueTicket.day >= first, QueueTicket.day <= last)).all()
    return appts, tickets


def summary(session: Session, viewer: Viewer, first, last, office_id: int | None = None,
            now: datetime | None = None) -> dict:
    """Every figure of the reports page for a period."""
    first, last = period(first, last)
    offices = office_scope(session, viewer, office_id)
    appts, tickets = _data(session, offices, first, last)
    office_names = dict(session.exec(select(Office.id, Office.name)).all())
    proc_names = dict(session.exec(select(Procedure.id, Procedure.name)).all())

    by_proc: dict[str, Counter] = defaultdict(Counter)
    by_office: dict[str, Counter] = defaultdict(Counter)
    by_day: dict[date, Counter] = {first + timedelta(days=i): Counter() for i in range((last - first).days + 1)}
    for office, proc, starts_at, status in appts:
        by_proc[proc_names.get(proc, "?")][status] += 1
        by_office[office_names.get(office, "?")][status] += 1
        by_day[local(to_utc(starts_at)).date()][status] += 1
    totals = Counter()
    for c in by_proc.values():
        totals.update(c)
    known = totals["done"] + totals["no_show"]

    waits = [_minutes(t.issued_at, t.called_at) for t in tickets if t.called_at]
    waits_walk_in = [_minutes(t.issued_at, t.called_at) for t in tickets if t.called_at and t.kind == "walk_in"]
    waits_appt = [_minutes(t.issued_at, t.called_at) for t in tickets if t.called_at and t.kind == "appointment"]
    service = [_minutes(t.called_at, t.done_at) for t in tickets if t.called_at and t.done_at and t.status == "done"]

    def rows(groups: dict) -> list[dict]:
        out = [{"name": name, "total": sum(c[s] for s in STATUSES if s not in NOT_HELD),
                **{s: c[s] for s in STATUSES}} for name, c in groups.items()]
        return sorted(out, key=lambda r: (-r["total"], r["name"]))

    return {
        "first": first.isoformat(), "last": last.isoformat(),
        "appointments": sum(totals[s] for s in STATUSES if s not in NOT_HELD),
        "cancelled": totals["cancelled"], "expired": totals["expired"], "done": totals["done"], "no_show": totals["no_show"],
        "no_show_rate": _rounded(100 * totals["no_show"] / known) if known else None,
        "walk_ins": sum(1 for t in tickets if t.kind == "walk_in"),
        "called": len(waits),
        "wait_avg": _rounded(mean(waits)), "wait_p90": _rounded(percentile(waits, 90)),
        "wait_walk_in_avg": _rounded(mean(waits_walk_in)), "wait_appointment_avg": _rounded(mean(waits_appt)),
        "service_avg": _rounded(mean(service)),
        "by_procedure": rows(by_proc), "by_office": rows(by_office),
        "by_day": [{"day": d.strftime("%d/%m"), "iso": d.isoformat(),
                    **{s: c[s] for s in STATUSES}} for d, c in sorted(by_day.items())],
        "by_channel": by_channel(session, offices, first, last),
        "requests": requests_summary(session, viewer, first, last, now),
    }


CHANNELS = ("web", "phone", "counter")


def by_channel(session: Session, offices: list[int], first: date, last: date) -> list[dict]:
    """Appointments per channel (web, phone, counter): how many, their share of all, and the no-shows with their
    rate, over the appointments of the period that kept their time."""
    start, end = _bounds(first, last)
    counts: dict[str, Counter] = {c: Counter() for c in CHANNELS}
    for channel, status in session.exec(select(Appointment.channel, Appointment.status).where(
            Appointment.office_id.in_(offices or [0]), Appointment.starts_at >= start, Appointment.starts_at < end,
            Appointment.status.not_in(NOT_HELD))).all():
        counts.setdefault(channel, Counter())[status] += 1
    everyone = sum(sum(c.values()) for c in counts.values())
    out = []
    for channel, c in counts.items():
        total, known = sum(c.values()), c["done"] + c["no_show"]
        out.append({"channel": channel, "total": total, "share": _rounded(100 * total / everyone) if everyone else None,
                    "done": c["done"], "no_show": c["no_show"],
                    "no_show_rate": _rounded(100 * c["no_show"] / known) if known else None})
    return out


def requests_summary(session: Session, viewer: Viewer, first: date, last: date,
                     now: datetime | None = None) -> dict:
    """Requests answered in the period and how many within their time limit (department-scoped for managers)."""
    start, end = _bounds(first, last)
    query = select(ServiceRequest).where(ServiceRequest.closed_at != None,
                                         ServiceRequest.closed_at >= start, ServiceRequest.closed_at < end)
    open_query = select(ServiceRequest).where(ServiceRequest.status.in_(sorted(rules.OPEN)))
    if not viewer.is_admin:
        query = query.where(ServiceRequest.department_id == (viewer.department_id or -1))
        open_query = open_query.where(ServiceRequest.department_id == (viewer.department_id or -1))
    closed = session.exec(query).all()
    on_time = sum(1 for r in closed if local(to_utc(r.closed_at)).date() <= r.due_date)
    submitted = session.exec(select(ServiceRequest.id).where(
        ServiceRequest.submitted_at >= start, ServiceRequest.submitted_at < end,
        *([] if viewer.is_admin else [ServiceRequest.department_id == (viewer.department_id or -1)]))).all()
    overdue = sum(1 for r in session.exec(open_query) if rules.is_overdue(r, now))
    return {"submitted": len(submitted), "answered": len(closed), "on_time": on_time,
            "on_time_rate": _rounded(100 * on_time / len(closed)) if closed else None, "overdue_open": overdue}


CSV_HEADER = ["fecha", "oficina", "tramite", "citas", "atendidas", "no_presentadas", "canceladas", "pendientes",
              "turnos_sin_cita", "llamados", "espera_media_min", "espera_p90_min", "atencion_media_min"]


def csv_rows(session: Session, viewer: Viewer, first, last, office_id: int | None = None) -> list[list]:
    """One row per day, office and procedure with any activity."""
    first, last = period(first, last)
    offices = office_scope(session, viewer, office_id)
    appts, tickets = _data(session, offices, first, last)
    office_names = dict(session.exec(select(Office.id, Office.name)).all())
    proc_names = dict(session.exec(select(Procedure.id, Procedure.name)).all())
    groups: dict[tuple, dict] = defaultdict(lambda: {"status": Counter(), "walk_ins": 0, "waits": [], "service": []})
    for office, proc, starts_at, status in appts:
        groups[(local(to_utc(starts_at)).date(), office, proc)]["status"][status] += 1
    for t in tickets:
        g = groups[(t.day, t.office_id, t.procedure_id)]
        g["walk_ins"] += t.kind == "walk_in"
        if t.called_at:
            g["waits"].append(_minutes(t.issued_at, t.called_at))
            if t.done_at and t.status == "done":
                g["service"].append(_minutes(t.called_at, t.done_at))
    out = []
    for (day, office, proc), g in sorted(groups.items(), key=lambda kv: (kv[0][0], office_names.get(kv[0][1], ""),
                                                                         proc_names.get(kv[0][2], ""))):
        s = g["status"]
        out.append([day.isoformat(), office_names.get(office, ""), proc_names.get(proc, "") if proc else "",
                    sum(s[x] for x in STATUSES if x not in NOT_HELD), s["done"], s["no_show"], s["cancelled"],
                    s["booked"] + s["checked_in"], g["walk_ins"], len(g["waits"]),
                    _rounded(mean(g["waits"])), _rounded(percentile(g["waits"], 90)), _rounded(mean(g["service"]))])
    return out


def to_csv(rows: list[list]) -> str:
    return spreadsheet_csv(CSV_HEADER, rows)


def spreadsheet_csv(header: list[str], rows: list[list]) -> str:
    """CSV as Spanish spreadsheets open it: `;` between fields, decimal comma, UTF-8 with a byte-order mark; a
    text cell a spreadsheet would run as a formula (=, +, -, @, tab, return) is defused with a leading quote
    (OWASP "CSV injection"): names of offices and procedures are typed by staff, and may be copied from anywhere."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    for row in [header, *rows]:
        writer.writerow([_cell(v) for v in row])
    return "\ufeff" + buffer.getvalue()


def _cell(value):
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.1f}".replace(".", ",")
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value
