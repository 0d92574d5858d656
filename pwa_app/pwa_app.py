"""The Reflex app: our stylesheet, per-language citizen pages, the JSON API, no Radix and no English toasts."""

import json

import reflex as rx

from pwa_app import proxy, routes
from pwa_app.api import create_api
from pwa_app.common.i18n import LANGUAGES, RTL_LANGS, translations
from pwa_app.common.messages import N_
from pwa_app.notifications import rounds
from pwa_app.pages.accessibility import accessibility
from pwa_app.pages.appointment import appointment
from pwa_app.pages.booking import booking
from pwa_app.pages.confirm import confirm
from pwa_app.pages.feedback import suggestions as feedback_suggestions, survey as feedback_survey
from pwa_app.pages.home import home
from pwa_app.pages.index import index
from pwa_app.pages.my_appointments import my_appointments
from pwa_app.pages.privacy import privacy
from pwa_app.pages.procedure import procedure
from pwa_app.pages.service_requests import my_requests, new_request, request_status
from pwa_app.pages.staff import register_staff_pages
from pwa_app.retention import scheduled_purge
from pwa_app.security import SecurityHeaders
from pwa_app.staff_gate import StaffPagesGuard
from state.base import server_exception_handler

# Runs first on every page, before any module script: React does not repair <html> attributes, and Reflex's
# runtime reads its `backend-enabled` cookie when it starts.
# - <html lang dir> from the address.
# - On a citizen page: that cookie, false, for each language's path. Citizen pages never use backend state, so
#   Reflex opens no websocket (nor keeps state on the server) per citizen page view, online or off; staff pages
#   (/staff/) do not see these cookies and keep theirs.
# - "/" goes at once to the language remembered on this device, else the browser's best, else Spanish.
LANG_SCRIPT = (
    "(function(){var L=%s,R=%s,h=document.documentElement,p=location.pathname,"
    "l=(p.match(/^\\/([a-z]{2})(\\/|$)/)||[])[1];"
    "if(p==='/'){try{l=localStorage.getItem('cita-lang')}catch(e){}"
    "if(L.indexOf(l)<0)l=(navigator.languages||[navigator.language||'']).map(function(x){"
    "return x.toLowerCase().split('-')[0]}).filter(function(x){return L.indexOf(x)>=0})[0]||L[0];"
    "location.replace('/'+l+'/');return}"
    "if(L.indexOf(l)<0)l='es';else L.forEach(function(x){"
    "document.cookie='backend-enabled=false;path=/'+x+'/;max-age=31536000;samesite=strict'});"
    "h.lang=l;h.dir=R.indexOf(l)<0?'ltr':'rtl'})();"
) % (json.dumps(list(LANGUAGES)), json.dumps(list(RTL_LANGS)))

CITIZEN_PAGES = [
    (routes.HOME, home, N_("Appointments and procedures")),
    (routes.PROCEDURE, procedure, N_("Procedure")),
    (routes.BOOK, booking, N_("Book an appointment")),
    (routes.APPOINTMENT, appointment, N_("My appointment")),
    (routes.CONFIRM, confirm, N_("Confirm your appointment")),
    (routes.MY_APPOINTMENTS, my_appointments, N_("My appointments")),
    (routes.MY_REQUESTS, my_requests, N_("My requests")),
    (routes.NEW_REQUEST, new_request, N_("Send a request")),
    (routes.SERVICE_REQUEST, request_status, N_("Request")),
    (routes.SURVEY, feedback_survey, N_("How did it go?")),  # issue 9
    (routes.SUGGESTIONS, feedback_suggestions, N_("Suggestion box")),
    (routes.PRIVACY, privacy, N_("Privacy notice")),
    (routes.ACCESSIBILITY, accessibility, N_("Accessibility statement")),  # RD 1112/2018
]

proxy.check_production()  # several workers and no proxy setting: the whole town would share one address

app = rx.App(
    stylesheets=["/cita.css"],
    toaster=None,
    head_components=[
        rx.el.script(LANG_SCRIPT),
        rx.el.meta(name="theme-color", content="#0b4f6c"),
        rx.el.link(rel="icon", href="/favicon.ico", sizes="48x48"),
        rx.el.link(rel="apple-touch-icon", href="/icon-192.png"),
        rx.el.link(rel="manifest", href="/manifest.webmanifest"),
        rx.el.meta(name="description", content="Cita previa y trámites del ayuntamiento / Town hall appointments"),
    ],
    # The API (with Reflex's app mounted inside it), staff pages only with a session, wrapped in the security and
    # cache headers.
    api_transformer=[create_api(), StaffPagesGuard, SecurityHeaders],
    # Reflex's default shows a toast through eval (blocked by our CSP): staff get a message line and a retry.
    backend_exception_handler=server_exception_handler,
)
# Our pages show their own calm offline notice; Reflex's overlay would cover them with an English message.
app.app_wraps.pop((5, "Overlay"), None)
# Personal data past retention is blanked once a day (one worker does it; see pwa_app/retention.py).
app.register_lifespan_task(scheduled_purge)
app.register_lifespan_task(rounds.worker)  # web push: reminders, fan-out and sending

app.add_page(index(), route="/", title="Cita")
for lang in LANGUAGES:
    t = translations(lang)
    for path, page_fn, title in CITIZEN_PAGES:
        app.add_page(
            page_fn(t, lang),
            route=f"/{lang}/{path}",
            title=t.gettext(title) + " · Cita",
        )
register_staff_pages(app)
