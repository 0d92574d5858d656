"""The base of every staff page's state: who is signed in, checked on every event.

`@staff_event("permission")` is the one door: before the handler runs it reads the session cookie (HttpOnly: it
reaches the server with the websocket's handshake and never the page's scripts), looks the session up in the
database and checks the role; check and handler run in a thread, off the event loop. Anonymous → sent to the sign-in page; wrong role → sent home with a notice; the
handler never runs. Inside, `viewer()` is the signed-in member of staff. State classes stay thin: they call
the domain packages and keep only what the page shows.
"""

import asyncio
import contextvars
import functools
import inspect
import logging
from urllib.parse import quote

import reflex as rx
from reflex.event import EventSpec

from components.staff import ENROL, LOGIN, S_, _s
from pwa_app import db, proxy, routes
from pwa_app.staff import auth, permissions
from pwa_app.staff.permissions import StaffError, Viewer

log = logging.getLogger(__name__)

ROLE_LABELS = {"admin": S_("Administración"), "manager": S_("Responsable de oficina"), "desk": S_("Atención al público")}

# Messages for the codes that services raise (StaffError, WalkInError, ReportError, ServiceRequestError).
MESSAGES = {
    "forbidden": S_("No tiene permiso para hacer esto."),
    "required": S_("Este campo es obligatorio."),
    "too_long": S_("Es demasiado largo."),
    "chars": S_("Use solo letras, números y signos de puntuación habituales."),
    "number": S_("Escriba un número."),
    "range": S_("El valor está fuera del intervalo permitido."),
    "time": S_("Escriba una hora como 09:30."),
    "date": S_("Escriba una fecha válida."),
    "slug": S_("Use minúsculas, números y guiones (por ejemplo, oficina-centro)."),
    "exists": S_("Ya existe."),
    "not_found": S_("No se ha encontrado."),
    "no_office": S_("Su cuenta no tiene ninguna oficina asignada. Pida a administración que le asigne una."),
    "closes_before_opens": S_("La hora de cierre debe ser posterior a la de apertura."),
    "shorter_than_slot": S_("El horario es más corto que un tramo."),
    "more_than_capacity": S_("No puede reservar para teléfono y mostrador más puestos de los que tiene el tramo."),
    "walk_in_quota": S_("Se ha alcanzado el cupo de turnos sin cita de hoy en esta oficina. Ofrezca una cita "
                        "(por teléfono o en el mostrador) para otro momento."),
    "past": S_("La fecha ya ha pasado."),
    "already_closed": S_("Ese día ya está cerrado."),
    "has_appointments": S_("Ese día hay citas reservadas. Decida qué hacer con ellas."),
    "code_format": S_("El código no es válido: son 10 letras y números, por ejemplo ABCDE-12345."),
    "other_office": S_("Esta cita es de otra oficina."),
    "not_today": S_("Esta cita no es para hoy."),
    "cancelled": S_("Esta cita está anulada."),
    "closed": S_("Esta cita ya está cerrada (atendida o no presentada)."),
    "checked_in": S_("La persona ya ha llegado: márquela como atendida."),
    "unknown_status": S_("Estado desconocido."),
    "not_waiting": S_("Ese turno ya no está esperando."),
    "not_called": S_("Ese turno no está llamado."),
    "transition": S_("Ese cambio de estado no es posible desde el estado actual."),
    "unknown_department": S_("Departamento desconocido."),
    "no_html": S_("Escriba texto sin etiquetas HTML."),
    "not_open": S_("La solicitud está cerrada."),
    "not_public": S_("Este tipo de solicitud no se publica en Open311."),
    "too_long_period": S_("El periodo es demasiado largo (máximo un año)."),
    "self": S_("No puede quitarse a sí mismo el rol de administración ni desactivar su cuenta."),
    "self_second_factor": S_("No puede restablecer su propio segundo factor: pídaselo a otra persona de "
                             "administración."),
    "weak_password": S_("La contraseña debe tener al menos 12 caracteres."),
    "email": S_("Escriba una dirección de correo válida."),
    "role": S_("Rol desconocido."),
    "po_invalid": S_("El archivo no es un catálogo .po válido (gettext, UTF-8). No se ha cambiado nada."),
    "po_lang": S_("El archivo no dice en qué idioma está (cabecera Language) o no es un idioma de Cita. "
                  "No se ha cambiado nada."),
    "po_context": S_("El archivo tiene textos que no son de Cita (msgctxt desconocido). Importe un archivo "
                     "exportado desde aquí. No se ha cambiado nada."),
    "too_large": S_("El archivo es demasiado grande (máximo 2 MB). No se ha cambiado nada."),
    "rate": S_("Demasiados intentos seguidos. Espere unos minutos."),
}

# Said when an event failed on the server (backend_exception_handler), with a button to try again.
BUSY = S_("El sistema está muy ocupado en este momento y no se ha podido completar. Lo ya guardado sigue "
          "guardado: pulse «Reintentar» dentro de unos segundos.")
FAILED = S_("No se ha podido completar por un error del servidor. Lo ya guardado sigue guardado: pulse "
            "«Reintentar»; si vuelve a ocurrir, avise al servicio de informática.")

FIELDS = {
    "name": S_("Nombre"), "address": S_("Dirección"), "opening_hours": S_("Horario"), "slug": S_("Identificador"),
    "summary": S_("Resumen"), "text": S_("Texto"), "note": S_("Nota"), "duration_minutes": S_("Duración"),
    "area_id": S_("Área"), "office_id": S_("Oficina"), "procedure_id": S_("Trámite"), "weekday": S_("Día"),
    "opens": S_("Apertura"), "closes": S_("Cierre"), "slot_minutes": S_("Tramo"), "capacity": S_("Puestos"),
    "valid_from": S_("Desde"), "valid_until": S_("Hasta"), "day": S_("Fecha"), "reason": S_("Motivo"),
    "booking_horizon_days": S_("Días de antelación"), "min_notice_minutes": S_("Aviso mínimo"),
    "comment": S_("Comentario"), "status": S_("Estado"), "department": S_("Departamento"),
    "desk": S_("Puesto"), "email": S_("Correo"), "password": S_("Contraseña"), "role": S_("Rol"),
    "office_ids": S_("Oficinas"), "period": S_("Periodo"), "code": S_("Código"), "assignee": S_("Persona"),
    "public_description": S_("Texto público"), "public_address": S_("Dirección pública"),
}

_viewer: contextvars.ContextVar[Viewer | None] = contextvars.ContextVar("staff_viewer", default=None)


def viewer() -> Viewer:
    """The member of staff the current event was checked for (inside a @staff_event handler)."""
    found = _viewer.get()
    if found is None:
        raise RuntimeError("viewer() outside a @staff_event handler")
    return found


def describe(errors: dict[str, str], info: dict | None = None) -> str:
    """One readable sentence for a service error."""
    parts = []
    for field, code in errors.items():
        text = _s(MESSAGES.get(code, S_("No se ha podido guardar. Revise los datos.")))
        if code == "has_appointments" and info:
            text = _s("Ese día hay %(count)d citas reservadas. Decida qué hacer con ellas.") % {"count": info["count"]}
        if code == "other_office" and info and info.get("office"):
            text = _s("Esta cita es de otra oficina: %(office)s.") % {"office": info["office"]}
        if code == "not_today" and info:
            text = _s("Esta cita es el %(day)s a las %(time)s, no hoy.") % info
        if code == "cancelled" and info and info.get("day"):
            text = _s("Esta cita está anulada: se canceló el %(day)s.") % info
        label = FIELDS.get(field)
        parts.append(f"{_s(label)}: {text}" if label and field not in ("form", "code") else text)
    return " ".join(parts)


def staff_event(permission: str):
    """Guard an event handler: it runs only for a signed-in member of staff holding `permission`."""

    def decorate(fn):
        if inspect.isgeneratorfunction(fn) or inspect.isasyncgenfunction(fn) or inspect.iscoroutinefunction(fn):
            raise TypeError("staff event handlers are plain functions (return the events)")

        def run(guard, self, args, kwargs):
            refused, who = self._authorize(permission)
            if refused is not None:
                return refused
            token = _viewer.set(who)
            try:
                return guard.__wrapped__(self, *args, **kwargs)
            finally:
                _viewer.reset(token)

        @functools.wraps(fn)
        async def guarded(self, *args, **kwargs):
            # In a thread: Reflex runs a plain handler on the event loop, so a handler waiting for SQLite's write
            # lock stopped the whole process (pages, API, every tablet) for as long as it waited.
            return await asyncio.to_thread(run, guarded, self, args, kwargs)

        guarded._staff_permission = permission
        return guarded

    return decorate


class StaffState(rx.State):
    """Who is signed in (for the header) and the page's one message line."""

    me_name: str = ""
    me_role: str = ""
    me_permissions: list[str] = []
    flash: str = ""
    flash_kind: str = "info"  # info | ok | error
    flash_retry: bool = False  # the message is about a failure on the server: offer "Reintentar"

    def _authorize(self, permission: str):
        """(None, viewer) when allowed; else (events to send, None)."""
        headers = self.router.headers
        token = auth.token_from_cookie_header(headers.cookie)
        with db.session() as session:
            who = auth.viewer_for_token(session, token)
        if who is None:
            self.me_name, self.me_role, self.me_permissions = "", "", []
            url = self.router.url
            path = (url.path or routes.STAFF_HOME) + (f"?{url.query}" if url.query else "")
            return rx.redirect(f"{LOGIN}?next={quote(path, safe='/')}", replace=True), None
        self.me_name = who.name
        self.me_role = _s(ROLE_LABELS.get(who.role, who.role))
        if who.must_enrol:  # administrators and managers enrol before anything else
            self.me_permissions = ["second_factor"]
            if permission != "second_factor":
                return rx.redirect(ENROL, replace=True), None
            return None, who
        self.me_permissions = sorted(p for p in permissions.PERMISSIONS if who.can(p))
        if not who.can(permission):
            return rx.redirect(routes.STAFF_HOME + "?denied=1", replace=True), None
        return None, who

    def _say(self, message: str, kind: str = "info") -> None:
        self.flash, self.flash_kind, self.flash_retry = message, kind, False

    @rx.event
    def server_failed(self, busy: bool):
        """What staff see when an event failed on the server (the database busy, a bug): a calm message."""
        self._say(_s(BUSY if busy else FAILED), "error")
        self.flash_retry = True

    @rx.event
    def retry(self):
        """Load the page again (its on_load runs again) after a failure on the server."""
        self._say("")
        url = self.router.url
        return rx.redirect((url.path or routes.STAFF_HOME) + (f"?{url.query}" if url.query else ""), replace=True)

    def _reload(self, refused: tuple = ()) -> None:
        """Read the page's data again in a unit of work of its own; a refusal among `refused` is shown."""
        with db.session() as session:
            try:
                self._refresh(session)
            except refused as exc:
                self._fail(exc)

    def _save(self, action, then=None, refused: tuple = (StaffError,)) -> tuple[bool, object]:
        """One staff write: `action(session)` committed in its own unit of work, `then(result)`, and the page's data
        read again (`_refresh`) in the same session. A refusal is rolled back and shown on the message line.
        Returns (done, the action's result)."""
        with db.session() as session:
            try:
                result = action(session)
                session.commit()
            except refused as exc:
                session.rollback()
                self._fail(exc)
                return False, None
            if then:
                then(result)
            self._refresh(session)
        return True, result

    def _fail(self, exc) -> None:
        self._say(describe(getattr(exc, "errors", {"form": "forbidden"}), getattr(exc, "info", None)), "error")

    def _client_ip(self) -> str:
        """The same address the API sees (pwa_app/proxy.py), from the websocket's own connection."""
        headers = self.router.headers.raw_headers
        return proxy.client_address(headers, headers.get("asgi-scope-client"))


def server_exception_handler(exception: Exception) -> EventSpec | None:
    """The app's backend_exception_handler. Reflex's default answers with a toast run through `eval` in the
    browser, which the Content-Security-Policy blocks (staff then saw nothing); this sets the page's message line
    through state instead."""
    busy = db.is_busy(exception)
    if busy:
        log.warning("staff event: the database was busy (%s)", exception)
    else:
        log.error("staff event failed", exc_info=exception)
    return StaffState.server_failed(busy)
