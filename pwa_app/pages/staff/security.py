"""The second factor (Seguridad): enrolment with a QR code made on the server (segno, inline SVG: no third party
sees the secret), then the recovery codes, shown once."""

import reflex as rx

from components.staff import _s, button, frame, input_field, section
from pwa_app import routes
from state.security import SecurityState


def enrolment() -> rx.Component:
    s = SecurityState
    return section(
        _s("Activar el segundo factor"),
        rx.el.ol(
            rx.el.li(_s("Instale en su móvil una aplicación de códigos (por ejemplo FreeOTP, Aegis, Google "
                        "Authenticator o Microsoft Authenticator).")),
            rx.el.li(_s("En la aplicación, añada una cuenta y escanee este código QR. Si no puede escanearlo, "
                        "escriba la clave que aparece debajo.")),
            rx.el.li(_s("Escriba el código de 6 números que muestra la aplicación y pulse «Activar».")),
            class_name="staff-steps",
        ),
        rx.html(s.qr, class_name="staff-qr"),
        rx.el.p(_s("Clave para escribirla a mano: "), rx.el.code(s.secret_text, id="staff-totp-secret")),
        rx.el.form(
            input_field(_s("Código de la aplicación"), "code", id="staff-enrol-code", required=True,
                        auto_complete="one-time-code", max_length=10),
            button(_s("Activar"), type="submit"),
            on_submit=s.confirm,
        ),
    )


def recovery_codes() -> rx.Component:
    s = SecurityState
    return section(
        _s("Sus códigos de recuperación"),
        rx.el.p(rx.el.strong(_s("Guárdelos ahora en un lugar seguro (impresos o en un gestor de contraseñas): no se "
                                "volverán a mostrar.")),
                " ", _s("Si pierde el móvil, cada código sirve una vez en lugar del código de la aplicación.")),
        rx.el.ul(rx.foreach(s.recovery, lambda c: rx.el.li(rx.el.code(c))), id="staff-recovery-codes",
                 class_name="staff-recovery"),
        rx.el.a(_s("Continuar"), href=routes.STAFF_HOME, class_name="btn btn-primary staff-btn"),
    )


def enrolled() -> rx.Component:
    return section(
        _s("Segundo factor activado"),
        rx.el.p(_s("Al entrar se le pedirá el código de su aplicación. Si pierde el móvil, use un código de "
                   "recuperación o pida a administración que restablezca su segundo factor.")),
    )


def security_page() -> rx.Component:
    s = SecurityState
    return frame(
        s, _s("Segundo factor"),
        rx.cond(s.recovery.length() > 0, recovery_codes(), rx.cond(s.enrolled, enrolled(), enrolment())),
        rx.cond(~s.required & ~s.enrolled,
                rx.el.p(_s("Para su puesto es opcional, pero protege su cuenta si alguien averigua su contraseña."),
                        class_name="muted")),
        active=routes.STAFF_SECURITY,
    )
