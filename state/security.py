"""The second factor of the signed-in member of staff: enrolment (QR code and secret, a first code to confirm,
then the recovery codes shown once). Administrators and managers come here right after signing in until they
have enrolled (state.base sends them); front desks may enrol when they like."""

import io

import segno

from components.staff import _s
from pwa_app import db
from pwa_app.common.times import utcnow
from pwa_app.models import StaffUser
from pwa_app.staff import audit, permissions, second_factor
from pwa_app.staff.auth import AuthError
from state.base import StaffState, staff_event, viewer


def qr_svg(text: str) -> str:
    out = io.BytesIO()
    segno.make(text, error="m").save(out, kind="svg", scale=5, border=4, dark="#0b0c0c", light="#ffffff",
                                     xmldecl=False, svgns=True, title=_s("Código QR para la aplicación de códigos"))
    return out.getvalue().decode()


class SecurityState(StaffState):
    enrolled: bool = False
    required: bool = False  # administrators and managers: nothing else opens until they enrol
    qr: str = ""  # inline SVG
    secret_text: str = ""  # the same secret, to type in by hand
    recovery: list[str] = []  # shown once, right after enrolment
    _draft: str = ""  # the new secret, sealed, until the first code confirms it

    @staff_event("second_factor")
    def load(self):
        who = viewer()
        self.recovery, self.required = [], who.role in permissions.SECOND_FACTOR_REQUIRED
        with db.session() as session:
            self.enrolled = bool(session.get(StaffUser, who.id).totp_secret)
        if who.must_enrol:
            self._say(_s("Para entrar con una cuenta de %(role)s hace falta un segundo factor. Actívelo ahora: solo "
                         "se tarda un minuto.") % {"role": self.me_role.lower()}, "info")
        else:
            self._say("")
        if self.enrolled:
            self.qr, self.secret_text, self._draft = "", "", ""
            return
        # The same secret until it is confirmed: a reload must not undo a QR code already scanned.
        secret = (second_factor.unseal(self._draft) if self._draft else None) or second_factor.new_totp_secret()
        self._draft = second_factor.seal(secret)
        self.qr = qr_svg(second_factor.provisioning_uri(secret, who.email))
        self.secret_text = " ".join(secret[i:i + 4] for i in range(0, len(secret), 4))

    @staff_event("second_factor")
    def confirm(self, form_data: dict):
        who = viewer()
        secret = second_factor.unseal(self._draft)
        with db.session() as session:
            user = session.get(StaffUser, who.id)
            try:
                if secret is None or user.totp_secret:
                    raise AuthError("expired")
                codes = second_factor.enrol(session, user, secret, form_data.get("code", ""), now=utcnow())
            except AuthError as exc:
                session.rollback()
                self._say(_s("El código no coincide. Compruebe que la hora del móvil es correcta y escriba el código "
                             "que muestra ahora la aplicación.") if exc.code == "code"
                          else _s("Vuelva a cargar la página y empiece de nuevo."), "error")
                return
            audit.audit(session, who, "auth.second_factor_enrol", f"staff:{who.id}", ip=self._client_ip())
            session.commit()
        self.enrolled, self.recovery, self.qr, self.secret_text, self._draft = True, codes, "", "", ""
        self.me_permissions = sorted(p for p, roles in permissions.PERMISSIONS.items() if who.role in roles)
        self._say(_s("Segundo factor activado."), "ok")
