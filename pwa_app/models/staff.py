"""The staff workspace: accounts, offices, sessions, sign-in attempts, the audit log, the walk-in queue's
tickets and the wall screens' keys."""

from datetime import date, datetime

from sqlmodel import Field, SQLModel, UniqueConstraint

from pwa_app.common.times import utcnow


# --- Staff workspace (sign-in, set-up, day view, queue, reports) -----------------------------------------------


class StaffUser(SQLModel, table=True):
    """A member of staff. Roles: "admin" (everything), "manager" (set-up, requests and reports of their offices and
    department), "desk" (their office's day view and queue). The password is kept only as an argon2 hash."""

    id: int | None = Field(default=None, primary_key=True)
    email: str = Field(unique=True, index=True, max_length=254)  # lower-cased
    name: str
    role: str = "desk"  # admin | manager | desk
    password_hash: str
    department_id: int | None = Field(default=None, foreign_key="department.id")  # whose requests they answer
    active: bool = True
    created_at: datetime = Field(default_factory=utcnow)
    password_changed_at: datetime = Field(default_factory=utcnow)
    # Second factor (TOTP): the secret sealed with the installation's key (never in clear), the last time step
    # accepted (a code is good once), and the keyed hashes of the unused recovery codes, space-separated.
    totp_secret: str = ""
    totp_last_step: int = 0
    recovery_codes: str = ""


class StaffOffice(SQLModel, table=True):
    """The offices a manager or front-desk user works for (administrators work for all)."""

    staff_id: int = Field(foreign_key="staffuser.id", primary_key=True)
    office_id: int = Field(foreign_key="office.id", primary_key=True)


class DisplayToken(SQLModel, table=True):
    """A waiting room's wall screen: its address carries a long random token that opens one office's queue board
    (ticket numbers, no names) without a staff sign-in. Only the token's SHA-256 is stored. A manager creates it on
    the office settings page; revoking it (revoked_at) stops the board at its next refresh."""

    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(unique=True, index=True, max_length=64)
    office_id: int = Field(foreign_key="office.id", index=True)
    created_by: str = Field(default="", max_length=254)
    created_at: datetime = Field(default_factory=utcnow)
    revoked_at: datetime | None = None


class StaffSession(SQLModel, table=True):
    """A signed-in browser. The cookie holds a random token; only its SHA-256 is stored, so a copy of the database
    opens no session. A session ends at `expires_at`, after `IDLE` without use, or at sign-out (row deleted)."""

    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(unique=True, index=True, max_length=64)
    staff_id: int = Field(foreign_key="staffuser.id", index=True)
    created_at: datetime = Field(default_factory=utcnow)
    last_seen_at: datetime = Field(default_factory=utcnow)
    expires_at: datetime
    ip: str = ""
    user_agent: str = ""
    pending: bool = False  # password checked, the second factor not yet: opens nothing


class LoginAttempt(SQLModel, table=True):
    """One sign-in attempt, kept for the lock-out (per e-mail address and per client address) and the audit."""

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(default_factory=utcnow, index=True)
    email: str = Field(index=True, max_length=254)
    ip: str = Field(default="", index=True)
    # ok (signed in) | password (right password, second factor awaited) | bad (wrong e-mail, password or code) |
    # locked (refused unchecked: the address is locked, or the account's delay is running)
    outcome: str = "bad"


class AuditEvent(SQLModel, table=True):
    """Who changed what: every staff write and sign-in. `detail` is JSON without citizens' personal data."""

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(default_factory=utcnow, index=True)
    staff_id: int | None = Field(default=None, foreign_key="staffuser.id", index=True)
    actor: str = ""  # the staff e-mail at the time (kept if the account is removed), or "system"
    action: str = Field(index=True)  # e.g. closure.create, appointment.check_in
    target: str = ""  # e.g. "closure:12"
    detail: str = "{}"
    ip: str = ""


class QueueTicket(SQLModel, table=True):
    """A place in an office's queue for one day: a walk-in ticket ("A007") or a checked-in appointment ("C003").
    The queue lives in the database, so every backend worker and every wall screen sees the same one.
    Waiting time = called_at - issued_at (arrival); service time = done_at - called_at."""

    __table_args__ = (UniqueConstraint("office_id", "day", "label"),)

    id: int | None = Field(default=None, primary_key=True)
    office_id: int = Field(foreign_key="office.id", index=True)
    procedure_id: int | None = Field(default=None, foreign_key="procedure.id", index=True)
    day: date = Field(index=True)  # local (Madrid) day
    kind: str = "walk_in"  # walk_in | appointment
    number: int
    label: str = Field(max_length=8)
    appointment_id: int | None = Field(default=None, foreign_key="appointment.id", unique=True)
    status: str = Field(default="waiting", index=True)  # waiting | called | done | no_show | cancelled
    desk: int | None = None
    estimated_wait_minutes: int = 0
    issued_at: datetime = Field(default_factory=utcnow)
    called_at: datetime | None = None
    done_at: datetime | None = None
    issued_by: int | None = Field(default=None, foreign_key="staffuser.id")
    called_by: int | None = Field(default=None, foreign_key="staffuser.id")
