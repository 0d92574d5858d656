"""The day view: an office's appointments of a day in time order; check in by booking code (typed or scanned),
attended / did not come, what the citizen must bring."""

from datetime import date, datetime, timedelta

from components.staff import S_, _s
from pwa_app import db
from pwa_app.appointments.booking import BookingError
from pwa_app.common.times import utcnow
from pwa_app.common.i18n import long_day_label
from pwa_app.staff import counter, desk, forms, setup
from pwa_app.staff.permissions import StaffError
from state.base import StaffState, staff_event, viewer
from state.counter import CHANNEL_LABELS, booking_message

STATUS_LABELS = {
    "booked": S_("Reservada"), "checked_in": S_("Ha llegado"), "done": S_("Atendida"),
    "no_show": S_("No se presentó"), "cancelled": S_("Anulada"),
    "pending": S_("Pendiente de confirmar por correo"), "expired": S_("No confirmada a tiempo"),
}


def office_options(session) -> list[dict]:
    return [{"value": str(o.id), "label": o.name} for o in setup.offices(session, viewer())]


class DayState(StaffState):
    office_options: list[dict] = []
    office_id: str = ""
    day: str = ""
    day_label: str = ""
    is_today: bool = True
    appointments: list[dict] = []
    counts: dict[str, int] = {}
    open_id: int = 0
    last_ticket: str = ""
    confirm_cancel: int = 0  # the appointment whose cancellation waits for "Sí, anular"
    procedure_filter: str = ""  # the list (screen, print, CSV) of one procedure's appointments
    procedure_options: list[dict[str, str]] = []
    csv_url: str = ""
    office_name: str = ""

    def _day(self) -> date:
        try:
            return date.fromisoformat(self.day)
        except ValueError:
            return forms.today()

    def _refresh(self, session) -> None:
        office = setup.office_of(session, viewer(), int(self.office_id) if self.office_id else None)
        self.office_id, self.office_name, day = str(office.id), office.name, self._day()
        self.day, self.day_label, self.is_today = day.isoformat(), long_day_label(day, "es"), day == forms.today()
        rows = desk.day_appointments(session, viewer(), office.id, day)
        now = utcnow()
        self.procedure_options = sorted(({"value": r["procedure_slug"], "label": r["procedure"]} for r in rows),
                                        key=lambda o: o["label"])
        self.procedure_options = [o for i, o in enumerate(self.procedure_options)
                                  if o not in self.procedure_options[:i]]
        if self.procedure_filter not in {o["value"] for o in self.procedure_options}:
            self.procedure_filter = ""
        rows = [r for r in rows if not self.procedure_filter or r["procedure_slug"] == self.procedure_filter]
        for r in rows:
            r["status_label"] = _s(STATUS_LABELS.get(r["status"], r["status"]))
            r["channel_label"] = _s(CHANNEL_LABELS.get(r["channel"], r["channel"]))
            r["changeable"] = r["status"] in ("booked", "pending") and datetime.fromisoformat(r["starts_at"]) > now
        self.appointments = rows
        self.csv_url = (f"/api/staff/day.csv?office={office.slug}&day={day.isoformat()}"
                        + (f"&procedure={self.procedure_filter}" if self.procedure_filter else ""))
        self.counts = {s: sum(1 for r in rows if r["status"] == s) for s in STATUS_LABELS}

    @staff_event("day")
    def load(self):
        params = self.router.url.query_parameters
        self.flash, self.last_ticket, self.open_id = "", "", 0
        self.day = params.get("fecha", "") or forms.today().isoformat()
        with db.session() as session:
            self.office_options = office_options(session)
            self.office_id = params.get("oficina", "") or self.office_id
            try:
                self._refresh(session)
            except StaffError as exc:
                self.office_id = ""
                self.appointments = []
                self._fail(exc)

    @staff_event("day")
    def refresh(self):
        self._reload(refused=(StaffError,))

    @staff_event("day")
    def set_office(self, value: str):
        self.office_id, self.flash, self.open_id = value, "", 0
        self._reload(refused=(StaffError,))

    @staff_event("day")
    def set_day(self, value: str):
        self.day, self.flash, self.open_id = value, "", 0
        self._reload()

    @staff_event("day")
    def shift_day(self, days: int):
        self.day, self.flash, self.open_id = (self._day() + timedelta(days=int(days))).isoformat(), "", 0
        self._reload()

    @staff_event("day")
    def check_in(self, form_data: dict):
        code = str(form_data.get("code") or "")
        with db.session() as session:
            try:
                appt, ticket = desk.check_in(session, viewer(), code, int(self.office_id) if self.office_id else None)
                session.commit()
            except StaffError as exc:
                session.rollback()
                self.last_ticket = ""
                self._fail(exc)
                return
            self.day = forms.today().isoformat()
            self._refresh(session)
        self.last_ticket, self.open_id = ticket, appt.id
        self._say(_s("Llegada registrada: %(name)s. Su turno es %(ticket)s.") % {"name": appt.name, "ticket": ticket},
                  "ok")

    @staff_event("day")
    def mark(self, appointment_id: int, outcome: str):
        ok, appt = self._save(lambda session: desk.set_outcome(session, viewer(), int(appointment_id), outcome))
        if not ok:
            return
        self._say((_s("Marcada como atendida: %(name)s.") if outcome == "done"
                   else _s("Marcada como no presentada: %(name)s.")) % {"name": appt.name}, "ok")

    @staff_event("day")
    def set_procedure_filter(self, value: str):
        self.procedure_filter, self.open_id, self.confirm_cancel = value, 0, 0
        self._reload(refused=(StaffError,))

    @staff_event("day")
    def ask_cancel(self, appointment_id: int):
        self.confirm_cancel = int(appointment_id)

    @staff_event("day")
    def keep(self):
        self.confirm_cancel = 0

    @staff_event("day")
    def cancel(self, appointment_id: int):
        ip = self._client_ip()
        self.confirm_cancel = 0
        ok, appt = self._save(lambda session: counter.cancel(session, viewer(), int(appointment_id), utcnow(), ip=ip),
                              refused=(StaffError, BookingError))
        if ok:
            self._say(_s("Cita anulada: %(name)s. La hora queda libre.") % {"name": appt.name}, "ok")

    def _fail(self, exc) -> None:
        self._say(booking_message(exc), "error")  # the booking service's refusals too (a cancellation too late)

    @staff_event("day")
    def toggle(self, appointment_id: int):
        self.open_id = 0 if self.open_id == int(appointment_id) else int(appointment_id)
