"""Who may do what: the refused staff action (`StaffError`) and the permission check every staff
function starts with."""

from pwa_app.staff.auth import Viewer


class StaffError(Exception):
    """A refused staff action. `errors` maps a field (or "form") to a code; `info` carries numbers for messages."""

    def __init__(self, errors: dict[str, str], **info):
        super().__init__(errors)
        self.errors, self.info = errors, info


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
