"""The staff start page: large tiles for what this person may do, and today's figures for their offices."""

from components.staff import _s
from pwa_app import db
from pwa_app.staff import desk, forms, setup
from state.base import StaffState, staff_event, viewer


class HomeState(StaffState):
    offices: list[dict] = []

    @staff_event("home")
    def load(self):
        if self.router.url.query_parameters.get("denied"):
            self._say(_s("Su cuenta no tiene acceso a esa sección."), "error")
        else:
            self._say("")
        with db.session() as session:
            today = forms.today()
            self.offices = [
                {"name": o.name, "slug": o.slug,
                 **desk.day_counts(session, viewer(), o.id, today)}
                for o in setup.offices(session, viewer())
            ]
