"""Every address of the app's pages in one place: the page registrations, the links between pages, the mails and
the pushes take them from here. (The service worker keeps its own copy of the few it needs: pwa_app/pwa/sw.js.)

Citizen pages exist once per language at /<lang>/<page>/; staff pages are Spanish only, under /staff/. Links end
with a slash: Reflex answers /x with a 307 to /x/. Pages are registered without it (`registered`)."""

from urllib.parse import urlencode

# Citizen pages: the part after /<lang>/.
HOME = ""
PROCEDURE = "tramite"
BOOK = "reservar"
APPOINTMENT = "cita"
CONFIRM = "confirmar"
MY_APPOINTMENTS = "mis-citas"
MY_REQUESTS = "solicitudes"
NEW_REQUEST = "solicitud/nueva"
SERVICE_REQUEST = "solicitud"
SURVEY = "valoracion"
SUGGESTIONS = "sugerencias"
PRIVACY = "privacidad"
ACCESSIBILITY = "accesibilidad"

# Staff pages.
STAFF_HOME = "/staff/"
STAFF_LOGIN = "/staff/login/"
STAFF_DAY = "/staff/dia/"
STAFF_BOOK = "/staff/reservar/"  # booking for a person on the phone or at the counter; its printed slip
STAFF_FIND = "/staff/buscar/"  # finding a booking by code, document, name, phone or e-mail
STAFF_QUEUE = "/staff/cola/"  # the walk-in queue's desk
STAFF_SCREEN = "/staff/pantalla/"  # the waiting room's wall screen
STAFF_SCREEN_BY_KEY = "/staff/pantalla/clave/"  # the wall screen opened by its display key, without a session
STAFF_INBOX = "/staff/solicitudes/"  # the staff inbox of service requests
STAFF_REPORTS = "/staff/informes/"
STAFF_OFFICES = "/staff/ajustes/"
STAFF_PROCEDURES = "/staff/ajustes/tramites/"
STAFF_SCHEDULES = "/staff/ajustes/horarios/"
STAFF_CLOSURES = "/staff/ajustes/cierres/"
STAFF_TRANSLATIONS = "/staff/ajustes/traducciones/"
STAFF_USERS = "/staff/usuarios/"
STAFF_AUDIT = "/staff/auditoria/"
STAFF_FEEDBACK = "/staff/opiniones/"
STAFF_SECURITY = "/staff/seguridad/"  # the second factor


def citizen(lang: str, page: str, **query) -> str:
    """The address of a citizen page in `lang`, with its query (`citizen("es", BOOK, p="padron")`)."""
    path = f"/{lang}/{page}/" if page else f"/{lang}/"
    return path + ("?" + urlencode(query) if query else "")


def registered(path: str) -> str:
    """The route a page is added under (without the trailing slash)."""
    return path.rstrip("/") or "/"
