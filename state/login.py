"""The sign-in page. The form posts to /api/staff/login (which sets the HttpOnly cookie); this state only turns
the answer's query parameters into a message, and sends someone already signed in to the start page."""

import asyncio

import reflex as rx

from components.staff import S_, _s
from pwa_app import db, routes
from pwa_app.staff import auth

ERRORS = {
    "invalid": S_("El correo o la contraseña no son correctos."),
    "locked": S_("Demasiados intentos fallidos. Por seguridad, espere %(wait)s minutos y vuelva a intentarlo."),
    "slow": S_("Ha habido varios intentos fallidos con esta cuenta. Por seguridad, espere %(wait)s segundos y "
               "vuelva a intentarlo: con la contraseña correcta entrará."),
    "proof": S_("No se ha podido hacer la comprobación de seguridad del navegador. Vuelva a intentarlo."),
    "code": S_("El código no es correcto. Escriba los 6 números que muestra ahora su aplicación de códigos, o uno "
               "de sus códigos de recuperación."),
    "expired": S_("Ha pasado demasiado tiempo desde que escribió la contraseña. Vuelva a empezar."),
    "origin": S_("El formulario no se ha enviado desde esta aplicación. Vuelva a intentarlo."),
    "network": S_("No se ha podido conectar con el servidor. Compruebe la conexión y vuelva a intentarlo."),
}


class LoginState(rx.State):
    error: str = ""
    info: str = ""
    next_page: str = routes.STAFF_HOME
    step: str = ""  # "code": the password was right, the second factor's code comes next

    async def load(self):
        """Not guarded: the sign-in page is the one staff page anyone may open. It shows no data."""
        params = self.router.url.query_parameters
        code, wait = params.get("error", ""), params.get("wait", "15")
        self.error = _s(ERRORS[code]) % {"wait": wait if wait.isdigit() else "15"} if code in ERRORS else ""
        self.step = "code" if params.get("step") == "code" else ""
        self.info = _s("Ha cerrado la sesión.") if params.get("signed_out") else ""
        nxt = params.get("next", "")
        self.next_page = nxt if nxt.startswith(routes.STAFF_HOME) and "//" not in nxt else routes.STAFF_HOME
        token = auth.token_from_cookie_header(self.router.headers.cookie)
        if token and await asyncio.to_thread(_signed_in, token):  # off the event loop, like staff events
            return rx.redirect(self.next_page, replace=True)


def _signed_in(token: str) -> bool:
    with db.session() as session:
        return auth.viewer_for_token(session, token) is not None
