"""Staff sign-in. The form posts to /api/staff/login, which sets the HttpOnly session cookie: natively before the
page is interactive, else through fetch, then a full page load (the websocket then carries the new cookie)."""

import reflex as rx
from reflex_base.vars.base import Var, VarData

from components.staff import FORGET_STATE, _s, js, ready_marker
from state.login import LoginState

KEPT_EMAIL = "cita-staff-email"  # sessionStorage: the address typed, kept when the sign-in is refused
SUBMIT_JS = (
    "((data) => { const body = new URLSearchParams(); "
    "for (const [k, v] of Object.entries(data)) body.append(k, v == null ? '' : String(v)); "
    f"sessionStorage.setItem('{KEPT_EMAIL}', String(data.email || '')); "
    "fetch('/api/staff/login', {method: 'POST', body, credentials: 'same-origin', headers: {Accept: 'application/json'}})"
    ".then((r) => r.json()).then((answer) => { " + FORGET_STATE + "; "
    f"if (!answer.location.startsWith('/staff/login')) sessionStorage.removeItem('{KEPT_EMAIL}'); "
    "window.location.assign(answer.location); })"
    ".catch(() => window.location.assign('/staff/login/?error=network')); })"
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
            rx.el.h1(_s("Acceso del personal")),
            rx.cond(LoginState.error != "", rx.el.div(LoginState.error, role="alert", class_name="notice notice-error")),
            rx.cond(LoginState.info != "", rx.el.div(LoginState.info, role="status", class_name="notice")),
            rx.el.form(
                rx.el.div(
                    rx.el.label(_s("Correo electrónico"), html_for="staff-email", class_name="label"),
                    rx.el.input(id="staff-email", name="email", type="email", auto_complete="username",
                                required=True, class_name="input staff-input", auto_focus=True),
                    class_name="field",
                ),
                rx.el.div(
                    rx.el.label(_s("Contraseña"), html_for="staff-password", class_name="label"),
                    rx.el.input(id="staff-password", name="password", type="password",
                                auto_complete="current-password", required=True, class_name="input staff-input"),
                    class_name="field",
                ),
                rx.el.input(type="hidden", name="next", value=LoginState.next_page),
                rx.el.button(_s("Entrar"), type="submit", class_name="btn btn-primary staff-btn staff-wide"),
                action="/api/staff/login",
                method="post",
                on_submit=js(SUBMIT_JS),
                class_name="form staff-login-form",
            ),
            rx.el.p(_s("Solo para el personal del ayuntamiento. Si ha olvidado la contraseña, pida a "
                       "administración que le asigne una nueva."), class_name="muted"),
            id="main", class_name="main staff-login",
        ),
        class_name="app staff",
        lang="es",
    )
