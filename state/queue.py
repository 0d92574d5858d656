"""The desk console (walk-in tickets, call the next person to desk N, attended / did not come) and the wall
screen. The queue is read from the database on every event, so several workers and screens agree; both pages
refresh themselves every few seconds."""

import asyncio
from datetime import datetime

import reflex as rx
from sqlmodel import select

from components.staff import _s
from pwa_app import db
from pwa_app.common.i18n import TZ
from pwa_app.models import Office
from pwa_app.staff import setup, walk_in, wall_screens
from pwa_app.staff.permissions import StaffError
from pwa_app.staff.walk_in import WalkInError
from state.base import StaffState, staff_event, viewer
from state.day import office_options


class QueueState(StaffState):
    office_options: list[dict] = []
    procedure_options: list[dict] = []
    office_id: str = ""
    office_slug: str = ""
    desk: str = "1"
    current: dict[str, str] = {}
    waiting: list[dict] = []
    served: int = 0
    estimate: int = 0
    issued_label: str = ""
    issued_estimate: int = 0
    issued_ahead: int = 0
    walk_ins: int = 0  # walk-in tickets given today
    quota: int = 0  # the office's daily quota of them (0: none)
    can_quota: bool = False

    def _refresh(self, session) -> None:
        office = setup.office_of(session, viewer(), int(self.office_id) if self.office_id else None)
        self.office_id, self.office_slug = str(office.id), office.slug
        self.procedure_options = [{"value": str(p.id), "label": p.name} for p in setup.procedures_at(session, office.id)]
        view = walk_in.desk_view(session, viewer(), office.id, self.desk or 1)
        cur = view["current"]
        self.current = {k: str(v) for k, v in cur.items()} if cur else {}
        self.waiting, self.served, self.estimate = view["waiting"], view["served"], view["estimate"]
        self.walk_ins, self.quota = view["walk_ins"], view["quota"]
        self.can_quota = viewer().can("setup_office") and viewer().can_office(office.id)

    def _run(self, action, ok=None):
        with db.session() as session:
            try:
                result = action(session)
                session.commit()
            except (StaffError, WalkInError) as exc:
                session.rollback()
                self._fail(exc)
                result = None
            else:
                if ok:
                    self._say(*ok(result))
            try:
                self._refresh(session)
            except (StaffError, WalkInError) as exc:
                self._fail(exc)
        return result

    @staff_event("queue")
    def load(self):
        params = self.router.url.query_parameters
        self.flash, self.issued_label = "", ""
        with db.session() as session:
            self.office_options = office_options(session)
            if params.get("oficina"):
                found = session.exec(select(Office).where(Office.slug == params["oficina"])).first()
                self.office_id = str(found.id) if found else self.office_id
            if params.get("puesto", "").isdigit():
                self.desk = params["puesto"]
            try:
                self._refresh(session)
            except (StaffError, WalkInError) as exc:
                self._fail(exc)

    @staff_event("queue")
    def refresh(self):
        with db.session() as session:
            try:
                self._refresh(session)
            except (StaffError, WalkInError):
                pass

    @staff_event("queue")
    def set_office(self, value: str):
        self.office_id, self.flash, self.issued_label = value, "", ""
        self._run(lambda s: None)

    @staff_event("queue")
    def set_desk(self, value: str):
        self.desk, self.flash = value if value.isdigit() else "1", ""
        self._run(lambda s: None)

    @staff_event("queue")
    def issue(self, form_data: dict):
        raw = str(form_data.get("procedure") or "")
        procedure_id = int(raw) if raw.isdigit() else None
        ahead = len(self.waiting)
        ticket = self._run(lambda s: walk_in.issue(s, viewer(), int(self.office_id), procedure_id),
                           lambda t: (_s("Turno %(label)s entregado. Espera estimada: %(minutes)d min.")
                                      % {"label": t.label, "minutes": t.estimated_wait_minutes}, "ok"))
        if ticket is not None:
            self.issued_label, self.issued_estimate, self.issued_ahead = (
                ticket.label, ticket.estimated_wait_minutes, ahead)

    @staff_event("setup_office")
    def set_quota(self, form_data: dict):
        self._run(lambda s: walk_in.set_quota(s, viewer(), int(self.office_id), form_data.get("quota", "")),
                  lambda o: (_s("Cupo diario de turnos sin cita: %(quota)s.") % {"quota": o.walk_in_quota}
                             if o.walk_in_quota else _s("Sin cupo diario de turnos sin cita."), "ok"))

    @staff_event("queue")
    def call_next(self):
        self.issued_label = ""
        self._run(lambda s: walk_in.call_next(s, viewer(), int(self.office_id), self.desk),
                  lambda t: (_s("Llamando a %(label)s al puesto %(desk)s.") % {"label": t.label, "desk": t.desk}, "ok")
                  if t else (_s("No hay nadie esperando."), "info"))

    @staff_event("queue")
    def call_ticket(self, ticket_id: int):
        self.issued_label = ""
        self._run(lambda s: walk_in.call_ticket(s, viewer(), int(ticket_id), self.desk),
                  lambda t: (_s("Llamando a %(label)s al puesto %(desk)s.") % {"label": t.label, "desk": t.desk},
                             "ok"))

    @staff_event("queue")
    def finish(self, outcome: str):
        ticket_id = int(self.current.get("id", "0") or 0)
        self._run(lambda s: walk_in.finish(s, viewer(), ticket_id, outcome),
                  lambda t: ((_s("%(label)s atendido.") if outcome == "done" else _s("%(label)s no se presentó."))
                             % {"label": t.label}, "ok"))


def _show_board(state, session, office: Office) -> None:
    """What a wall screen shows of an office's queue: the latest calls and the wait. No names."""
    board = walk_in.board(session, office.id)
    state.office_name, state.calls = office.name, board["calls"]
    state.waiting, state.estimate = board["waiting"], board["estimate"]
    state.updated = datetime.now(TZ).strftime("%H:%M")


class ScreenState(StaffState):
    """The wall screen of the waiting room: the latest calls, newest first, and the queue's length. No names."""

    offices: list[dict[str, str]] = []
    office_slug: str = ""
    office_name: str = ""
    calls: list[dict] = []
    waiting: int = 0
    estimate: int = 0
    updated: str = ""

    def _refresh(self, session) -> None:
        found = session.exec(select(Office).where(Office.slug == self.office_slug)).first()
        if found is None or not viewer().can_office(found.id):
            self.office_slug, self.office_name, self.calls = "", "", []
            return
        _show_board(self, session, found)

    @staff_event("queue")
    def load(self):
        self.office_slug = self.router.url.query_parameters.get("oficina", "")
        with db.session() as session:
            self.offices = [{"slug": o.slug, "name": o.name} for o in setup.offices(session, viewer())]
            if not self.office_slug and len(self.offices) == 1:
                self.office_slug = self.offices[0]["slug"]
            self._refresh(session)

    @staff_event("queue")
    def refresh(self):
        if self.office_slug:
            with db.session() as session:
                self._refresh(session)


class DisplayState(rx.State):
    """The wall screen opened by its display token (/staff/pantalla/clave/?t=...), with no staff sign-in: the
    token, created by a manager on the office settings page, is checked at every refresh, so revoking it stops
    the board within seconds. It shows what ScreenState shows: ticket numbers and desks, no names."""

    office_name: str = ""
    calls: list[dict] = []
    waiting: int = 0
    estimate: int = 0
    updated: str = ""
    refused: bool = False

    def _refresh(self) -> None:
        with db.session() as session:
            office = wall_screens.display_office(session, self.router.url.query_parameters.get("t", ""))
            self.refused = office is None
            if office is None:
                self.office_name, self.calls, self.waiting, self.estimate = "", [], 0, 0
                return
            _show_board(self, session, office)

    async def load(self):
        """Not a staff event: the token in the address is the key (checked here and at every refresh)."""
        await asyncio.to_thread(self._refresh)

    async def refresh(self):
        await asyncio.to_thread(self._refresh)
