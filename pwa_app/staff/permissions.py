"""Who may do what: roles and their permissions, the signed-in `Viewer`, the refused staff action (`StaffError`)
and the permission check every staff function starts with."""

from dataclasses import dataclass

from pwa_app.common.errors import DomainError


ROLES = ("admin", "manager", "desk")
PERMISSIONS: dict[str, frozenset[str]] = {
    "home": frozenset(ROLES),  # the staff start page
    "day": frozenset(ROLES),  # the day view: check in, done, no-show
    "queue": frozenset(ROLES),  # tickets, calling, the wall screen
    "setup_office": frozenset({"admin", "manager"}),  # their offices: details, schedules, closures
    "setup_town": frozenset({"admin"}),  # procedures, checklists, holidays, booking horizon
    "requests": frozenset({"admin", "manager"}),
    "reports": frozenset({"admin", "manager"}),
    "users": frozenset({"admin"}),
    "audit": frozenset({"admin"}),
    "second_factor": frozenset(ROLES),  # their own second factor (the one thing open before enrolment)
}
SECOND_FACTOR_REQUIRED = frozenset({"admin", "manager"})


@dataclass(frozen=True)
class Viewer:
    """The signed-in member of staff, as the checks need them."""

    id: int
    email: str
    name: str
    role: str
    office_ids: frozenset[int] | None  # None: every office (administrators)
    department_id: int | None
    session_id: int | None = None
    # An administrator or manager without a second factor: the entry points (the staff event guard, the staff
    # API's `need`) open them nothing but their enrolment.
    must_enrol: bool = False

    def can(self, permission: str) -> bool:
        return self.role in PERMISSIONS.get(permission, frozenset())

    def can_office(self, office_id: int | None) -> bool:
        """May act on this office. `None` (every office, e.g. a public holiday) is for administrators only."""
        if self.office_ids is None:
            return True
        return office_id is not None and office_id in self.office_ids

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"


class StaffError(DomainError):
    """A refused staff action."""


class Forbidden(StaffError):
    def __init__(self):
        super().__init__({"form": "forbidden"})


def require(viewer: Viewer | None, permission: str, office_id: int | None = -1) -> Viewer:
    """The viewer, if they hold `permission` (and may act on `office_id` when one is given)."""
    if viewer is None or not viewer.can(permission):
        raise Forbidden()
    if office_id != -1 and not viewer.can_office(office_id):
        raise Forbidden()
    return viewer
