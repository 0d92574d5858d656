"""Every staff page, staff event handler and staff API refuses anonymous users and the wrong role — table-driven
over everything that exists, so a new handler or route without a guard fails here."""

import asyncio
import inspect

import pytest
import reflex as rx
from reflex.istate.data import RouterData
from sqlmodel import Session, func, select

from pwa_app.api import staff as staff_api
from pwa_app.models import AuditEvent, Office, QueueTicket
from pwa_app.pages.staff import STAFF_PAGES
from pwa_app.staff import auth, desk, forms, permissions, second_factor, walk_in
from state.base import StaffState
from state.login import LoginState
from state.queue import DisplayState
from tests.unit.test_staff_auth import PASSWORD, client, people, staff_env  # noqa: F401  (fixtures)

# Handlers that anyone may call: the sign-in page's, which reads only its own query string; the message shown when
# an event failed on the server and its «Reintentar» (a reload of the page), which touch no data.
# The sign-in page, the connection handlers, and the wall screen opened by its display token (the token in the
# address is its key: checked at every refresh, see test_staff_services' display tests).
UNGUARDED = {("LoginState", "load"), ("StaffState", "server_failed"), ("StaffState", "retry"),
             ("DisplayState", "load"), ("DisplayState", "refresh")}
ROLES = ("admin", "manager", "desk")


def staff_state_classes() -> list[type]:
    found, todo = [], [StaffState]
    while todo:
        cls = todo.pop()
        found.append(cls)
        todo.extend(cls.get_substates())
    return found


def handlers() -> list[tuple[type, str, object]]:
    rows = []
    for cls in staff_state_classes() + [LoginState, DisplayState]:
        for name, handler in cls.event_handlers.items():
            if name == "setvar":
                continue  # Reflex's generic setter only calls set_<var> handlers: see test_setvar_*
            if name.startswith("set_") and not hasattr(handler.fn, "_staff_permission") and name[4:] in cls.vars:
                continue  # no automatic setters: state_auto_setters is off (checked below)
            rows.append((cls, name, handler))
    return rows


HANDLERS = handlers()


def test_no_automatic_setters_and_every_handler_is_known():
    for cls, name, handler in HANDLERS:
        assert name in cls.__dict__ or hasattr(handler.fn, "_staff_permission") or (cls.__name__, name) in UNGUARDED, \
            f"{cls.__name__}.{name}"
    for cls in staff_state_classes():
        for name in cls.event_handlers:
            assert not (name.startswith("set_") and name[4:] in cls.vars and name not in cls.__dict__), \
                f"{cls.__name__}.{name}: an automatic setter would let the page change this var unchecked"


@pytest.mark.parametrize("cls,name,handler", HANDLERS, ids=[f"{c.__name__}.{n}" for c, n, _ in HANDLERS])
def test_every_handler_is_guarded(cls, name, handler):
    if (cls.__name__, name) in UNGUARDED:
        return
    assert getattr(handler.fn, "_staff_permission", None) in permissions.PERMISSIONS, \
        f"{cls.__name__}.{name} is not decorated with @staff_event"


def test_every_page_loads_through_a_guarded_handler():
    routes = {route for route, *_ in STAFF_PAGES}
    assert {"/staff", "/staff/dia", "/staff/cola", "/staff/pantalla", "/staff/solicitudes", "/staff/informes",
            "/staff/ajustes", "/staff/ajustes/cierres", "/staff/usuarios"} <= routes
    for route, _page, _title, on_load in STAFF_PAGES:
        if route in ("/staff/login", "/staff/pantalla/clave"):
            continue
        assert getattr(on_load.fn, "_staff_permission", None), route


# --- calling the handlers -------------------------------------------------------------------------------------


@pytest.fixture
def root():
    return rx.State(_reflex_internal_init=True)


def substate(root, cls):
    return root.get_substate(cls.get_full_name().split(".")[1:])


def as_visitor(root, token: str | None, path: str = "/staff/"):
    headers = {"origin": "http://testserver", "user-agent": "pytest"}
    if token:
        headers["cookie"] = f"other=1; {auth.COOKIE}={token}"
    root.router = RouterData.from_router_data({"headers": headers, "pathname": path, "asPath": path})


def dummy_args(handler) -> list:
    params = list(inspect.signature(handler.fn).parameters.values())[1:]
    values = {str: "1", int: 1, dict: {"code": "ABCDE-FGHJK", "procedure": "1", "office": "1", "day": "2030-01-01",
                                       "reason": "x", "status": "closed", "email": "x@ayto.es"}}
    return [values.get(p.annotation, "1") for p in params]


def redirect_target(result) -> str | None:
    events = result if isinstance(result, list) else [result]
    for event in events:
        args = {k._js_expr: getattr(v, "_var_value", None) for k, v in getattr(event, "args", ())}
        if {"path", "external", "replace"} <= set(args):  # rx.redirect's event
            return args["path"]
    return None


def call(fn, *args):
    """Runs an event handler as Reflex does: a guarded one is a coroutine (its body runs in a thread)."""
    result = fn(*args)
    return asyncio.run(result) if inspect.iscoroutine(result) else result


def audit_count(engine) -> int:
    with Session(engine) as s:
        return s.exec(select(func.count()).select_from(AuditEvent)).one()


GUARDED = [(c, n, h) for c, n, h in HANDLERS if (c.__name__, n) not in UNGUARDED]


def guard(fn):
    """The guard that runs: Reflex copies a mixin's handlers onto each state class, and the copy's closure still
    holds the mixin's own guard, which is where the handler's body is looked up."""
    for cell in fn.__closure__ or ():
        if getattr(cell.cell_contents, "_staff_permission", None):
            return cell.cell_contents
    return fn


@pytest.mark.parametrize("cls,name,handler", GUARDED, ids=[f"{c.__name__}.{n}" for c, n, _ in GUARDED])
def test_anonymous_and_wrong_role_are_refused_by_every_handler(cls, name, handler, root, people, staff_env,
                                                               monkeypatch):
    ran = []
    original = guard(handler.fn).__wrapped__

    def spy(self, *args, **kwargs):
        ran.append(name)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(guard(handler.fn), "__wrapped__", spy)  # the guard calls __wrapped__ once it has let you in
    permission = handler.fn._staff_permission
    state_ = substate(root, cls)
    before = audit_count(staff_env)

    # Nobody signed in, a made-up token, an expired session: to the sign-in page.
    for token in (None, "made-up-token"):
        as_visitor(root, token, "/staff/dia/")
        result = call(handler.fn, state_, *dummy_args(handler))
        assert (redirect_target(result) or "").startswith("/staff/login/"), (name, token, result)

    # Signed in with a role that lacks the permission: back to the start page.
    for role in ROLES:
        if role in permissions.PERMISSIONS[permission]:
            continue
        as_visitor(root, people[role][1])
        result = call(handler.fn, state_, *dummy_args(handler))
        assert redirect_target(result) == "/staff/?denied=1", (name, role, result)
    assert not ran, f"{cls.__name__}.{name} ran for someone it should refuse"
    assert audit_count(staff_env) == before

    # The spy does see a call that is let in (so the check above means something).
    allowed = next(r for r in ("admin", "manager", "desk") if r in permissions.PERMISSIONS[permission])
    as_visitor(root, people[allowed][1])
    try:
        call(handler.fn, state_, *dummy_args(handler))
    except Exception:  # dummy arguments may not make sense to the handler; it ran all the same
        pass
    assert ran == [name]


def test_a_deactivated_account_is_refused_at_once(root, people, staff_env):
    from state.day import DayState

    user, token = people["desk"]
    as_visitor(root, token)
    assert redirect_target(call(DayState.event_handlers["load"].fn, substate(root, DayState))) is None
    with Session(staff_env) as s:
        auth.deactivate(s, s.get(type(user), user.id))
        s.commit()
    assert redirect_target(call(DayState.event_handlers["load"].fn, substate(root, DayState))).startswith("/staff/login/")


def test_an_administrator_without_a_second_factor_gets_only_enrolment(root, people, staff_env):
    from state.day import DayState
    from state.home import HomeState
    from state.security import SecurityState
    from state.users import UsersState

    user, token = people["admin"]
    with Session(staff_env) as s:
        second_factor.clear_second_factor(s, s.get(type(user), user.id))
        s.commit()
        token, _ = auth.sign_in(s, user.email, PASSWORD)
    as_visitor(root, token)
    for cls in (HomeState, DayState, UsersState):
        assert redirect_target(call(cls.event_handlers["load"].fn, substate(root, cls))) == "/staff/seguridad/"
    security = substate(root, SecurityState)
    assert redirect_target(call(SecurityState.event_handlers["load"].fn, security)) is None
    assert security.me_permissions == ["second_factor"] and "<svg" in security.qr and not security.enrolled


def test_setvar_reaches_only_guarded_setters(root, people):
    """Reflex's built-in `setvar` event calls `set_<name>`; without automatic setters those are our guarded
    handlers, so it cannot set a var unchecked (e.g. the permissions shown in the header)."""
    from state.day import DayState

    day = substate(root, DayState)
    setvar = DayState.event_handlers["setvar"].fn
    as_visitor(root, None)
    with pytest.raises(AttributeError):
        setvar(day, "me_permissions", ["users"])
    with pytest.raises(AttributeError):
        setvar(day, "appointments", [{"name": "x"}])
    assert day.me_permissions == []
    # set_office exists and is guarded: refused for an anonymous visitor (the redirect is the handler's answer).
    assert redirect_target(call(DayState.event_handlers["set_office"].fn, day, "1")).startswith("/staff/login/")


SIGNED_IN_PAGES = [p for p in STAFF_PAGES if hasattr(p[3].fn, "_staff_permission")]  # not sign-in, token screen


@pytest.mark.slow
@pytest.mark.parametrize("route,page,title,on_load", SIGNED_IN_PAGES, ids=[p[0] for p in SIGNED_IN_PAGES])
def test_every_page_opens_for_its_roles(route, page, title, on_load, root, people):
    """The positive side: each page's load works (no redirect, no error) for every role it admits."""
    cls = next(c for c in staff_state_classes() if on_load.fn.__name__ in c.__dict__
               and c.event_handlers.get("load") is on_load)
    for role in ROLES:
        if role not in permissions.PERMISSIONS[on_load.fn._staff_permission]:
            continue
        as_visitor(root, people[role][1], route + "/")
        result = call(on_load.fn, substate(root, cls))
        assert redirect_target(result) is None, (route, role)
        assert substate(root, cls).flash_kind != "error" or role != "admin", (route, substate(root, cls).flash)


def test_front_desk_sees_only_their_office(root, people, staff_env):
    from state.day import DayState
    from state.queue import QueueState

    as_visitor(root, people["desk"][1])
    day = substate(root, DayState)
    call(DayState.event_handlers["load"].fn, day)
    with Session(staff_env) as s:
        offices = s.exec(select(Office).order_by(Office.id)).all()
    assert [o["value"] for o in day.office_options] == [str(offices[0].id)]
    # Asking for another office through the page (a tampered select) is refused.
    call(DayState.event_handlers["set_office"].fn, day, str(offices[1].id))
    assert day.flash_kind == "error" and day.appointments == []
    q = substate(root, QueueState)
    call(QueueState.event_handlers["load"].fn, q)
    q.office_id = str(offices[1].id)
    call(QueueState.event_handlers["issue"].fn, q, {"procedure": ""})
    with Session(staff_env) as s:
        assert s.exec(select(QueueTicket)).first() is None
        viewer = auth.viewer_for_token(s, people["desk"][1])
        with pytest.raises(permissions.Forbidden):
            walk_in.issue(s, viewer, offices[1].id, None)
        with pytest.raises(permissions.Forbidden):
            desk.day_appointments(s, viewer, offices[1].id, forms.today())


# --- the staff API --------------------------------------------------------------------------------------------


def api_routes() -> list[tuple[str, str, str]]:
    rows = []
    for route in staff_api.router.routes:
        for method in route.methods - {"HEAD"}:
            if route.path.startswith("/api/staff/") and route.path not in ("/api/staff/login", "/api/staff/login/code",
                                                                            "/api/staff/logout"):
                rows.append((method, route.path, staff_api.GUARDED.get((method, route.path), "")))
    return rows


API = api_routes()


def concrete(path: str) -> str:
    return path.replace("{office}", "oac-casa-consistorial").replace("{lang}", "fr").replace(
        "{request_id}", "1").replace("{n}", "1")


def test_every_staff_api_route_has_a_permission():
    for method, path, permission in API:
        assert permission in permissions.PERMISSIONS or path == "/api/staff/me", (method, path)


@pytest.mark.parametrize("method,path,permission", API, ids=[f"{m} {p}" for m, p, _ in API])
def test_staff_api_refuses_anonymous_and_wrong_role(method, path, permission, client, people):
    client.cookies.clear()
    assert client.request(method, concrete(path)).status_code == 401
    client.cookies.set(auth.COOKIE, "made-up-token")
    assert client.request(method, concrete(path)).status_code == 401
    for role in ROLES:
        client.cookies.set(auth.COOKIE, people[role][1])
        status = client.request(method, concrete(path), headers={"Accept": "application/json"}).status_code
        if not permission or role in permissions.PERMISSIONS[permission]:
            allowed = 422 if path == "/api/staff/content/import" else 200  # let in, but no file was sent
            allowed = 404 if "/attachments/" in path else allowed  # let in: there is no such request's file
            assert status == allowed, (path, role, status)
        else:
            assert status == 403, (path, role, status)


def test_reports_csv_for_an_office_outside_the_managers_scope_is_refused(client, people):
    client.cookies.set(auth.COOKIE, people["manager"][1])
    assert client.get("/api/staff/reports.csv", params={"office": "junta-distrito-norte"}).status_code == 403
    assert client.get("/api/staff/reports.csv", params={"office": "oac-casa-consistorial"}).status_code == 200
    client.cookies.set(auth.COOKIE, people["desk2"][1])
    assert client.get("/api/staff/queue/oac-casa-consistorial/board").status_code == 403
