"""Every setting Cita reads from its environment, typed and documented in one place, read once per process.

`get_settings()` is the only way in: modules ask it when they need a value (or once at import, for the few that
were always fixed at start-up: hold minutes, the proof-of-work cost...). Variable names are the deployment's
contract (scripts, CI and the browser tests set them), so each field keeps its variable as its alias. An empty
variable counts as unset. Tests change settings in one place, `tests/unit/conftest.py::override_settings`.

`python -m pwa_app.settings --readme` writes the README's Configuration table (without `--readme`: prints it);
`tests/unit/test_settings.py` fails when the README's copy differs from it or names a variable that is not here.
"""

import os
from functools import cache
from pathlib import Path

from pydantic import AliasChoices, Field
from pydantic_settings import BaseSettings, SettingsConfigDict

RATE_PREFIX = "CITA_RATE_"
INSTANCE_DIR = Path(__file__).resolve().parents[1] / "instance"


def _rates() -> dict[str, str]:
    """CITA_RATE_<SCOPE>=N/S variables by lower-case scope (the scopes are many and each may be set)."""
    return {name[len(RATE_PREFIX):].lower(): value for name, value in os.environ.items()
            if name.startswith(RATE_PREFIX) and value}


def _outbound_proxy() -> bool:
    return any(name.lower().endswith("_proxy") for name in os.environ)


def _env(name: str, default, description: str, **kw):
    return Field(default, validation_alias=AliasChoices(name), description=description, **kw)


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_ignore_empty=True, extra="ignore", frozen=True, populate_by_name=True)

    # --- where things are -------------------------------------------------------------------------------------
    database_url: str = _env("DATABASE_URL", "sqlite:///cita.db",
                             "The database: e.g. `postgresql+psycopg://postgres@127.0.0.1:5432/test`.")
    redis_url: str | None = _env("REDIS_URL", None, "Redis: with it, Reflex runs several backend workers "
                                 "(`GRANIAN_WORKERS` chooses how many) sharing state, rate limits and kept answers.")
    port: int = _env("PORT", 3000, "`scripts/run.sh` serves frontend, API and websocket on this one port.")
    reflex_api_url: str = _env("REFLEX_API_URL", "", "The public address the build is made for "
                               "(`scripts/run.sh`: `http://localhost:$PORT`); baked into the build.")
    public_url: str | None = _env("CITA_PUBLIC_URL", None, "The address in mails' links and the one origin "
                                  "allowed by CORS and the websocket; unset: `REFLEX_API_URL`.")
    instance_dir: Path = _env("CITA_INSTANCE_DIR", INSTANCE_DIR, "Files the installation keeps (secret key, "
                              "local mail folder); git-ignored.")
    secret_key: str | None = _env("CITA_SECRET_KEY", None, "The installation's secret for keyed hashes and the "
                                  "second factor's encryption; unset: `instance/secret.key`, made on first run.",
                                  repr=False)
    trusted_proxies: str = _env("CITA_TRUSTED_PROXIES", "", "Reverse proxies whose `X-Forwarded-For` / "
                                "`-Proto` count (addresses or networks, comma separated; `none`: clients connect "
                                "directly). Production with `REDIS_URL` refuses to start without it.")

    # --- the database -----------------------------------------------------------------------------------------
    db_busy_timeout: float = _env("CITA_DB_BUSY_TIMEOUT", 2.0, "Seconds a write waits for SQLite's write lock "
                                  "before it answers 503 + `Retry-After` (see Operations).", ge=0)
    db_pool_size: int = _env("CITA_DB_POOL_SIZE", 5, "PostgreSQL connections kept per worker.", ge=1)
    db_max_overflow: int = _env("CITA_DB_MAX_OVERFLOW", 10, "PostgreSQL connections per worker beyond the pool: "
                                "keep workers × (pool + overflow) under `max_connections`.", ge=0)

    # --- bookings and abuse -----------------------------------------------------------------------------------
    hold_minutes: float = _env("CITA_HOLD_MINUTES", 10.0, "Minutes a picked time is held for the citizen.", gt=0)
    max_holds: int = _env("CITA_MAX_HOLDS", 3, "Held times at once per client address.", ge=1)
    party_max: int = _env("CITA_PARTY_MAX", 4, "People one booking may bring (a family renewing documents: one "
                          "seat each, one code).", ge=1, le=9)
    confirm_minutes: float = _env("CITA_CONFIRM_MINUTES", 30.0, "How long a high-demand booking waits for the "
                                  "citizen to confirm it from the mail.", gt=0)
    altcha: bool = _env("CITA_ALTCHA", True, "`off`: bookings need no proof of work (only for load tests of the "
                        "booking path).")
    altcha_max_number: int = _env("CITA_ALTCHA_MAX_NUMBER", 50000, "The proof of work's cost (~0.1–0.5 s on a "
                                  "cheap phone).", ge=1)
    rates: dict[str, str] = Field(default_factory=_rates, description="`CITA_RATE_<SCOPE>=N/S`: N hits in any S "
                                  "seconds, one variable per scope (see Security).")
    open311_api_keys: str = _env("CITA_OPEN311_API_KEYS", "", "Comma-separated keys that may post to Open311 "
                                 "(in production, none: nobody can post).")

    # --- staff ------------------------------------------------------------------------------------------------
    argon2_at_once: int = _env("CITA_ARGON2_AT_ONCE", 2, "Argon2 password checks (64 MiB each) at once per "
                               "worker.", ge=1)
    secure_cookies: bool = _env("CITA_SECURE_COOKIES", False, "`1`: the staff cookie is Secure also when the "
                                "request does not look like HTTPS.")
    hsts: bool = _env("CITA_HSTS", True, "`0`: no `Strict-Transport-Security` on HTTPS answers.")
    staff_password: str | None = _env("CITA_STAFF_PASSWORD", None, "`python -m pwa_app.staff_admin`: the "
                                      "password, instead of asking for it twice.", repr=False)
    staff_totp_secret: str | None = _env("CITA_STAFF_TOTP_SECRET", None, "`python -m pwa_app.staff_admin "
                                         "create-admin`: enrol this second-factor secret (demo and tests only).",
                                         repr=False)

    # --- mail -------------------------------------------------------------------------------------------------
    smtp_host: str | None = _env("CITA_SMTP_HOST", None, "Unset: **no mail leaves the machine**; each one is "
                                 "written as an `.eml` file into `CITA_MAIL_DIR`.")
    mail_dir: Path | None = _env("CITA_MAIL_DIR", None, "The local mail folder (unset: `instance/mail/`); open "
                                 "the files with any mail program.")
    smtp_port: int = _env("CITA_SMTP_PORT", 587, "The SMTP server's port.")
    smtp_starttls: bool = _env("CITA_SMTP_STARTTLS", True, "`0` for a server without TLS (a local relay).")
    smtp_user: str | None = _env("CITA_SMTP_USER", None, "SMTP login, when the server asks for one.")
    smtp_password: str = _env("CITA_SMTP_PASSWORD", "", "SMTP password.", repr=False)
    mail_from: str = _env("CITA_MAIL_FROM", "Cita <no-reply@localhost>",
                          "e.g. `Ayuntamiento de Villanueva del Pinar <cita@villanuevadelpinar.es>`.")

    # --- web push ---------------------------------------------------------------------------------------------
    vapid_dir: Path | None = _env("CITA_VAPID_DIR", None, "Where the VAPID key pair is kept (unset: "
                                  "`$XDG_DATA_HOME/cita`).")
    xdg_data_home: Path = _env("XDG_DATA_HOME", Path("~/.local/share"), "The user's data folder (for the VAPID "
                               "keys).")
    vapid_subject: str = _env("CITA_VAPID_SUBJECT", "mailto:cita@localhost", "How a push service can reach "
                              "whoever runs this server (VAPID `sub`).")
    push_hosts: str | None = _env("CITA_PUSH_HOSTS", None, "Push services we POST to (host suffixes, comma "
                                  "separated; `*`: any https host); unset: the browsers' own.")
    push_concurrency: int = _env("CITA_PUSH_CONCURRENCY", 32, "Pushes sent at once per worker.", ge=1)
    push_worker: bool = _env("CITA_PUSH_WORKER", True, "`0`: this process runs no notification worker.")
    push_interval: float = _env("CITA_PUSH_INTERVAL", 2.0, "Seconds between the notification worker's rounds.",
                                gt=0)
    push_scan: float = _env("CITA_PUSH_SCAN", 60.0, "Seconds between looks for reminders due.", gt=0)
    outbound_proxy: bool = Field(default_factory=_outbound_proxy, description="Any `*_PROXY` variable set: push "
                                 "requests go through the proxy they name.")

    # --- retention (whole days, see Production) ---------------------------------------------------------------
    retention_schedule: bool = _env("CITA_RETENTION_SCHEDULE", True, "`0`: no daily purge in this process.")
    retention_days: int = _env("CITA_RETENTION_DAYS", 365, "Personal data of appointments and requests.", ge=1)
    attachment_days: int | None = _env("CITA_ATTACHMENT_DAYS", None, "A closed request's photos and documents "
                                       "(unset: as `CITA_RETENTION_DAYS`).", ge=1)
    reply_days: int | None = _env("CITA_REPLY_DAYS", None, "A closed request's timeline comments (unset: as "
                                  "`CITA_RETENTION_DAYS`).", ge=1)
    suggestion_days: int | None = _env("CITA_SUGGESTION_DAYS", None, "The name signed under a suggestion (unset: "
                                       "as `CITA_RETENTION_DAYS`).", ge=1)
    audit_days: int = _env("CITA_AUDIT_DAYS", 730, "The staff audit trail.", ge=1)
    idempotency_days: int = _env("CITA_IDEMPOTENCY_DAYS", 30, "First answers kept for resends.", ge=1)
    login_attempt_days: int = _env("CITA_LOGIN_ATTEMPT_DAYS", 1, "Staff sign-in attempts.", ge=1)

    retention_every_hours: int = _env("CITA_RETENTION_EVERY_HOURS", 24, "Hours between two purges (the workers "
                                      "look hourly whether one is due).", ge=1)

    # --- serving ----------------------------------------------------------------------------------------------
    respawn_workers: bool = _env("CITA_RESPAWN_WORKERS", True, "`0`: keep Granian's default (a dead worker stops "
                                 "the app).")

    def rate(self, scope: str) -> str | None:
        return self.rates.get(scope.lower())


_current: Settings | None = None


def get_settings() -> Settings:
    """The process's settings, read from the environment on first use."""
    global _current
    if _current is None:
        _current = Settings()
    return _current


def override(**fields) -> Settings:
    """Replace this process's settings by a copy with `fields` changed and checked (a command-line option that
    wins over its variable)."""
    global _current
    _current = Settings(**{**get_settings().model_dump(), **fields})
    return _current


def production() -> bool:
    """Served by `reflex run --env prod` (scripts/run.sh). Reflex sets REFLEX_ENV_MODE itself while it starts, after
    rxconfig.py has read the settings, so this one is looked up each time."""
    return os.environ.get("REFLEX_ENV_MODE") == "prod"


@cache
def variables() -> dict[str, str]:
    """Field name -> environment variable (fields without one are derived from several variables)."""
    return {name: field.validation_alias.choices[0] for name, field in Settings.model_fields.items()
            if isinstance(field.validation_alias, AliasChoices)}


def readme_table() -> str:
    """The README's Configuration table, generated from the fields."""
    rows = ["| Variable | Default | |", "|---|---|---|"]
    for name, field in Settings.model_fields.items():
        variable = variables().get(name)
        if variable is None:
            continue
        default = field.default
        shown = "unset" if default in (None, "") else f"`{_plain(default)}`"
        rows.append(f"| `{variable}` | {shown} | {field.description} |")
    rows.append(f"| `{RATE_PREFIX}<SCOPE>` | see Security | {Settings.model_fields['rates'].description} |")
    return "\n".join(rows)


def _plain(value) -> str:
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if value == INSTANCE_DIR:
        return "instance/"
    return str(value)


README = Path(__file__).resolve().parents[1] / "README.md"
BEGIN, END = "<!-- settings: begin (generated by `python -m pwa_app.settings --readme`) -->\n", "<!-- settings: end -->"


def write_readme(readme: Path = README) -> None:
    """Replace the README's Configuration table by the one made from the fields."""
    text = readme.read_text(encoding="utf-8")
    start, end = text.index(BEGIN) + len(BEGIN), text.index(END)
    readme.write_text(text[:start] + readme_table() + "\n" + text[end:], encoding="utf-8")


if __name__ == "__main__":
    import sys

    write_readme() if sys.argv[1:] == ["--readme"] else print(readme_table())
