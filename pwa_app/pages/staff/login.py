"""Staff sign-in: the password, then (for an account with a second factor) the code of the authenticator app or a
recovery code. Each form posts to the API, which sets the HttpOnly session cookie: natively before the page is
interactive, else through fetch, then a full page load (the websocket then carries the new cookie). After several
failures for an account the API asks for a proof of work (428): the script solves one (assets/proof.js) and sends
again."""

import reflex as rx
from reflex_base.utils.imports import ImportVar
from reflex_base.vars.base import Var, VarData
from reflex_base.vars.function import FunctionVar

from components.staff import FORGET_STATE, _s, input_field, ready_marker
from pwa_app import routes
from state.login import LoginState

KEPT_EMAIL = "cita-staff-email"  # sessionStorage: the address typed, kept when the sign-in is refused
PROOF_MODULE = "$/public/proof.js"


def submit(action: str) -> FunctionVar:
    """The form's fields posted to `action`; a 428 answer is sent again once with a solved proof of work."""
    code = (
        "((data) => { const send = (altcha) => { const body = new URLSearchParams(); "
        "for (const [k, v] of Object.entries(data)) body.append(k, v == null ? '' : String(v)); "
        "if (altcha) body.append('altcha', altcha); "
        f"return fetch('{action}', {{method: 'POST', body, credentials: 'same-origin', "
        "headers: {Accept: 'application/json'}}).then((r) => r.json()); }; "
        f"if (data.email) sessionStorage.setItem('{KEPT_EMAIL}', String(data.email)); "
        "send().then((answer) => answer.prove ? proofOfWork().then(send) : answer)"
        ".then((answer) => { " + FORGET_STATE + "; "
        f"if (!answer.location.startsWith('{routes.STAFF_LOGIN}')) sessionStorage.removeItem('{KEPT_EMAIL}'); "
        "window.location.assign(answer.location); })"
        f".catch(() => window.location.assign('{routes.STAFF_LOGIN}?error=network')); }})"
    )
    return Var(code, _var_data=VarData(imports={PROOF_MODULE: [ImportVar(tag="proofOfWork")]})).to(FunctionVar)


def password_form() -> rx.Component:
    return rx.el.form(
        input_field(_s("Correo electrónico"), "email", id="staff-email", type="email", auto_complete="username",
                    required=True, auto_focus=True),
        input_field(_s("Contraseña"), "password", id="staff-password", type="password",
                    auto_complete="current-password", required=True),
        rx.el.input(type="hidden", name="next", value=LoginState.next_page),
        rx.el.button(_s("Entrar"), type="submit", class_name="btn btn-primary staff-btn staff-wide"),
        action="/api/staff/login", method="post", on_submit=submit("/api/staff/login"),
        class_name="form staff-login-form",
    )


def code_form() -> rx.Component:
    return rx.el.form(
        rx.el.p(_s("Abra la aplicación de códigos de su móvil y escriba el código de 6 números que muestra para "
                   "Cita. Si no tiene el móvil, escriba uno de sus códigos de recuperación (cada uno sirve una vez).")),
        input_field(_s("Código de verificación"), "code", id="staff-code", type="text", required=True,
                    auto_complete="one-time-code", auto_focus=True, max_length=20, spell_check=False),
        rx.el.input(type="hidden", name="next", value=LoginState.next_page),
        rx.el.button(_s("Comprobar"), type="submit", class_name="btn btn-primary staff-btn staff-wide"),
        rx.el.p(rx.el.a(_s("Volver a empezar"), href=routes.STAFF_LOGIN)),
        action="/api/staff/login/code", method="post", on_submit=submit("/api/staff/login/code"),
        class_name="form staff-login-form",
    )


# After a refusal the page loads again: the address stays typed and the password field takes the focus.
KEEP_EMAIL_HOOK = (
    "useEffect(() => { const kept = sessionStorage.getItem('" + KEPT_EMAIL + "'); "
    "const field = document.getElementById('staff-email'); "
    "if (kept && field && new URLSearchParams(window.location.search).has('error')) { field.value = kept; "
    "document.getElementById('staff-password')?.focus(); } }, []);"
)


def keep_email() -> Var:
    return Var("null", _var_data=VarData(imports={"react": ["useEffect"]}, hooks={KEEP_EMAIL_HOOK: None}))


def login_page() -> rx.Component:
    return rx.el.div(
        ready_marker(),
        keep_email(),
        rx.el.header(
            rx.el.div(rx.el.span("Cita", class_name="brand-name"),
                      rx.el.span(_s("Personal del ayuntamiento"), class_name="brand-town"), class_name="brand"),
            class_name="header staff-header staff-header-login",
        ),
        rx.el.main(
            rx.el.h1(rx.cond(LoginState.step == "code", _s("Segundo paso: el código"), _s("Acceso del personal"))),
            rx.cond(LoginState.error != "", rx.el.div(LoginState.error, role="alert", class_name="notice notice-error")),
            rx.cond(LoginState.info != "", rx.el.div(LoginState.info, role="status", class_name="notice")),
            rx.cond(LoginState.step == "code", code_form(), password_form()),
            rx.el.p(_s("Solo para el personal del ayuntamiento. Si ha olvidado la contraseña o ha perdido el móvil "
                       "con la aplicación de códigos, pida ayuda a administración."), class_name="muted"),
            id="main", class_name="main staff-login",
        ),
        class_name="app staff",
        lang="es",
    )
