"""Booking for a person on the phone or at the counter (Reservar): procedure, office, day, a free time, the
person's details, then the printable slip; the same page moves an appointment to another time (?mover=<id>) and
prints the slip of one again (?justificante=<id>). Calls pwa_app.staff.counter; the page keeps only what it shows."""

from datetime import date, datetime, timedelta

from components.staff import S_, _s
from pwa_app import db
from pwa_app.appointments.booking import BookingError
from pwa_app.common import codes
from pwa_app.common.i18n import local, long_day_label, time_label
from pwa_app.common.times import utcnow
from pwa_app.models import Office, Procedure
from pwa_app.staff import counter, forms
from pwa_app.staff.permissions import StaffError
from state.base import StaffState, describe, staff_event, viewer

# The booking service's refusals, as the desk reads them (staff screens are Spanish).
BOOKING_MESSAGES = {
    "taken": S_("Esa hora se acaba de ocupar. Elija otra."),
    "unavailable": S_("Esa hora ya no se puede reservar. Elija otra."),
    "limit_procedure": S_("Esta persona ya tiene una cita pendiente de este trámite: búsquela y cámbiela si hace "
                          "falta."),
    "limit_total": S_("Esta persona ya tiene el máximo de citas pendientes que se permite a una persona."),
    "phone_for_lookup": S_("Escriba un teléfono o un documento: sin ninguno de los dos la persona no podría "
                           "consultar ni cambiar su cita."),
    "phone": S_("Teléfono: escriba un número válido, por ejemplo 612 345 678."),
    "email": S_("Correo: escriba una dirección válida o déjelo vacío."),
    "not_changeable": S_("Esta cita ya no se puede cambiar ni anular."),
}
DOCUMENT = S_("Documento: escriba un DNI, NIE o pasaporte válido.")
CHANNEL_LABELS = {"phone": S_("Por teléfono"), "counter": S_("En el mostrador")}
SEARCH_DAYS = 60  # how far ahead the first day with a free time is looked for


def booking_message(exc: Exception) -> str:
    errors = getattr(exc, "errors", {"form": "forbidden"})
    parts = []
    for field, code in errors.items():
        if field == "document" and code != "required":
            parts.append(_s(DOCUMENT))
        elif code in BOOKING_MESSAGES:
            parts.append(_s(BOOKING_MESSAGES[code]))
        else:
            parts.append(describe({field: code}, getattr(exc, "info", None)))
    return " ".join(parts)


class CounterState(StaffState):
    procedure_options: list[dict[str, str]] = []
    procedure: str = ""  # slug
    requires_document: bool = False
    office_options: list[dict[str, str]] = []
    office: str = ""  # slug
    day: str = ""
    day_label: str = ""
    times: list[dict[str, str]] = []
    start: str = ""
    start_label: str = ""
    channel: str = "phone"
    move_id: int = 0
    move_info: str = ""
    slip: dict[str, str] = {}
    slip_bring: list[str] = []
    slip_id: int = 0
    _procedures: list[dict] = []

    def _now(self) -> datetime:
        return utcnow()

    def _offices(self) -> None:
        entry = next((p for p in self._procedures if p["slug"] == self.procedure), None)
        self.requires_document = bool(entry and entry["requires_document"])
        self.office_options = [{"value": o["slug"], "label": o["name"]} for o in (entry["offices"] if entry else [])]
        if self.office not in {o["value"] for o in self.office_options}:
            self.office = self.office_options[0]["value"] if self.office_options else ""

    def _times(self, session, first_free: bool = False) -> None:
        """The chosen day's free times; `first_free`: move on to the first day that has any."""
        self.start, self.start_label, self.times = "", "", []
        if not (self.procedure and self.office):
            return
        day = self._day()
        for _ in range(SEARCH_DAYS if first_free else 1):
            found = counter.free_times(session, viewer(), self.procedure, self.office, day, self._now())
            if found or not first_free:
                break
            day += timedelta(days=1)
        self.day, self.day_label = day.isoformat(), long_day_label(day, "es")
        self.times = [{**t, "free": str(t["free"])} for t in found]

    def _day(self) -> date:
        try:
            return date.fromisoformat(self.day)
        except ValueError:
            return forms.today()

    def _show_slip(self, session, appointment_id: int) -> None:
        slip = counter.slip(session, viewer(), appointment_id)
        self.slip_bring, self.slip_id = slip.pop("bring"), appointment_id
        self.slip = slip

    @staff_event("day")
    def load(self):
        params = self.router.url.query_parameters
        self.flash, self.slip, self.slip_bring, self.slip_id, self.move_id, self.move_info = "", {}, [], 0, 0, ""
        self.start, self.start_label, self.times, self.day = "", "", [], forms.today().isoformat()
        with db.session() as session:
            try:
                self._procedures = counter.procedures(session, viewer())
                self.procedure_options = [{"value": p["slug"], "label": p["name"]} for p in self._procedures]
                if params.get("justificante", "").isdigit():
                    self._show_slip(session, int(params["justificante"]))
                elif params.get("mover", "").isdigit():
                    appt = counter.appointment(session, viewer(), int(params["mover"]))
                    self.move_id = appt.id
                    self.procedure = session.get(Procedure, appt.procedure_id).slug
                    self.office = session.get(Office, appt.office_id).slug
                    start = local(appt.starts_at)
                    self.move_info = _s("Cita %(code)s de %(name)s, ahora el %(day)s a las %(time)s.") % {
                        "code": codes.format_code(appt.code), "name": appt.name,
                        "day": long_day_label(start.date(), "es"), "time": time_label(start, "es")}
                    self.day = max(start.date(), forms.today()).isoformat()
                    self._offices()
                    self._times(session)
                else:
                    self.procedure = ""
                    self._offices()
            except StaffError as exc:
                self._fail(exc)

    @staff_event("day")
    def set_procedure(self, value: str):
        self.procedure, self.flash = value, ""
        self._offices()
        with db.session() as session:
            self._times(session, first_free=True)

    @staff_event("day")
    def set_office(self, value: str):
        self.office, self.flash = value, ""
        with db.session() as session:
            self._times(session, first_free=True)

    @staff_event("day")
    def set_day(self, value: str):
        self.day, self.flash = value, ""
        with db.session() as session:
            self._times(session)

    @staff_event("day")
    def shift_day(self, days: int):
        self.day, self.flash = (self._day() + timedelta(days=int(days))).isoformat(), ""
        with db.session() as session:
            self._times(session)

    @staff_event("day")
    def pick(self, start: str, label: str):
        self.start, self.start_label = start, label

    @staff_event("day")
    def set_channel(self, value: str):
        self.channel = value if value in counter.CHANNELS else "phone"

    def _start(self) -> datetime | None:
        try:
            return datetime.fromisoformat(self.start)
        except ValueError:
            self._say(_s("Elija una hora."), "error")
            return None

    @staff_event("day")
    def submit(self, form_data: dict):
        if (start := self._start()) is None:
            return
        details = {k: str(form_data.get(k) or "") for k in ("name", "document", "phone", "email", "lang")}
        ip = self._client_ip()
        with db.session() as session:
            try:
                appt = counter.book(session, viewer(), self.procedure, self.office, start, details, self.channel,
                                    self._now(), ip=ip)
                session.commit()
            except (StaffError, BookingError) as exc:
                session.rollback()
                self._say(booking_message(exc), "error")
                if "slot" in getattr(exc, "errors", {}):
                    self._times(session)
                return
            self._show_slip(session, appt.id)
        self._say(_s("Cita reservada: %(code)s, %(when)s. Imprima el justificante.") % {
            "code": self.slip["code"], "when": self.start_label}, "ok")
        self.times, self.start = [], ""

    @staff_event("day")
    def move(self):
        if (start := self._start()) is None:
            return
        ip = self._client_ip()
        with db.session() as session:
            try:
                counter.move(session, viewer(), self.move_id, start, self._now(), ip=ip)
                session.commit()
            except (StaffError, BookingError) as exc:
                session.rollback()
                self._say(booking_message(exc), "error")
                self._times(session)
                return
            self._show_slip(session, self.move_id)
        self._say(_s("Cita cambiada a las %(time)s. Imprima el justificante nuevo.") % {"time": self.start_label},
                  "ok")
        self.times, self.start, self.move_id = [], "", 0
