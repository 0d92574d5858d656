"""Finding a booking (Buscar cita) by code, document, name, phone or e-mail, in the viewer's offices; every search
is audited by pwa_app.staff.lookup (the kind of search, never what was typed)."""

from components.staff import S_, _s
from pwa_app import db
from pwa_app.staff import lookup
from pwa_app.staff.permissions import StaffError
from state.base import StaffState, describe, staff_event, viewer

BOOKED_BY = {"web": S_("Reservada por internet"), "phone": S_("Reservada por teléfono"),
             "counter": S_("Reservada en el mostrador")}
KIND_LABELS = {"code": S_("Código de reserva"), "document": S_("Documento (DNI, NIE, pasaporte)"),
               "name": S_("Nombre"), "phone": S_("Teléfono"), "email": S_("Correo electrónico")}
QUERY_MESSAGES = {
    "too_short": S_("Escriba al menos 3 letras del nombre."),
    "document": S_("Escriba un DNI, NIE o pasaporte válido."),
    "phone": S_("Escriba un teléfono válido, por ejemplo 612 345 678."),
    "email": S_("Escriba una dirección de correo completa."),
}


class FindState(StaffState):
    kind: str = "code"
    results: list[dict[str, str]] = []
    searched: bool = False

    @staff_event("day")
    def load(self):
        self.flash, self.results, self.searched = "", [], False

    @staff_event("day")
    def set_kind(self, value: str):
        self.kind = value if value in lookup.KINDS else "code"

    @staff_event("day")
    def search(self, form_data: dict):
        kind = str(form_data.get("kind") or self.kind)
        self.kind = kind if kind in lookup.KINDS else "code"
        ip = self._client_ip()
        with db.session() as session:
            try:
                found = lookup.search(session, viewer(), self.kind, str(form_data.get("query") or ""), ip=ip)
                session.commit()
            except StaffError as exc:
                session.rollback()
                code = next(iter(exc.errors.values()), "")
                self._say(_s(QUERY_MESSAGES[code]) if code in QUERY_MESSAGES else describe(exc.errors), "error")
                self.results, self.searched = [], False
                return
        self.results = [{**{k: str(v) for k, v in r.items()}, "booked_by": _s(BOOKED_BY.get(r["channel"], ""))}
                        for r in found]
        self.searched, self.flash = True, ""
        if len(found) >= lookup.MAX_RESULTS:
            self._say(_s("Hay muchas coincidencias: se muestran las %(n)d más recientes. Precise la búsqueda.")
                      % {"n": lookup.MAX_RESULTS}, "info")
