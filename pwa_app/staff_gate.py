"""The server sends a browser without a staff session to the sign-in page before it serves any staff page.

Each staff page also checks on its first event (state.base), but that answer needs the websocket: connect,
hydrate, the page's on_load, then a redirect back. Under load with several workers that took seconds, during which
a visitor who had just signed out (or anyone) saw the page's empty frame. Checking the session cookie on the
page's own request costs one query per page load, not per event."""

from urllib.parse import quote

from starlette.concurrency import run_in_threadpool
from starlette.responses import RedirectResponse

from pwa_app import db, routes
from pwa_app.staff import auth

LOGIN = routes.STAFF_LOGIN
# The sign-in, and the wall screen opened by its display key.
OPEN = (routes.registered(routes.STAFF_LOGIN), routes.registered(routes.STAFF_SCREEN_BY_KEY))


def _signed_in(token: str | None) -> bool:
    """False sends to the sign-in page. When the database is too busy to say, the page is served: its own first
    event checks again, and says calmly that the system is busy."""
    if not token:
        return False
    try:
        with db.session() as session:
            return auth.viewer_for_token(session, token) is not None
    except Exception as exc:
        if db.is_busy(exc):
            return True
        raise


def _is_staff_page(scope) -> bool:
    path = scope.get("path", "")
    if scope["type"] != "http" or scope.get("method") not in ("GET", "HEAD"):
        return False
    staff = path == routes.registered(routes.STAFF_HOME) or path.startswith(routes.STAFF_HOME)
    if not staff or path.startswith(OPEN):
        return False
    accept = next((v for k, v in scope.get("headers", ()) if k == b"accept"), b"")
    return b"text/html" in accept  # a page load, not a script's fetch


class StaffPagesGuard:
    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if _is_staff_page(scope):
            cookie = next((v for k, v in scope.get("headers", ()) if k == b"cookie"), b"").decode("latin-1")
            if not await run_in_threadpool(_signed_in, auth.token_from_cookie_header(cookie)):
                query = scope.get("query_string", b"").decode("latin-1")
                wanted = scope["path"] + (f"?{query}" if query else "")
                answer = RedirectResponse(f"{LOGIN}?next={quote(wanted, safe='/')}", status_code=303,
                                          headers={"Cache-Control": "no-store"})
                return await answer(scope, receive, send)
        await self.app(scope, receive, send)
