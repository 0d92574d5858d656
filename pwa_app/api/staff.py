"""Staff endpoints: sign-in and sign-out (they set and clear the HttpOnly session cookie, which scripts can never
read), who is signed in, the reports CSV and the queue board; and the appointment's QR code for citizens.

    POST /api/staff/login                 form: email, password[, next][, altcha]  -> 303 to /staff/... (cookie
                                          set), or to the code step for an account with a second factor
    POST /api/staff/login/code            form: code[, next][, altcha]  -> 303 to /staff/... (new cookie)
    POST /api/staff/logout                -> 303 to /staff/login/ (session ended, cookie cleared)
    GET  /api/staff/me                    who is signed in (401 when nobody)
    GET  /api/staff/reports.csv?from=&to=[&office=]      figures per day, office and procedure (reports)
    GET  /api/staff/day.csv?office=&day=[&procedure=]   an office's day list, who is expected (day)
    GET  /api/staff/queue/{office}/board  the wall screen's data (queue)
    GET  /api/staff/requests/{id}/attachments/{n}   a file sent with a request of the viewer's department
    GET  /api/staff/content/{lang}.po     the content texts of one language as a gettext catalogue (setup_town)
    POST /api/staff/content/import        multipart `file`: an edited .po read back -> 303 to the translations page
    GET  /api/v1/appointments/{code}/qr.svg?verifier=     the booking code as a QR code (citizens; segno)

Every /api/staff/ endpoint but login answers 401 without a valid session and 403 for a role without the
permission (`GUARDED` lists them, for the tests).
"""

import asyncio
import io
from datetime import date, timedelta
from urllib.parse import parse_qs, quote, urlsplit

import segno
from fastapi import APIRouter, Depends, HTTPException, Path, Query, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, RedirectResponse
from sqlmodel import Session, select

from pwa_app import db, proxy, routes
from pwa_app.api import fair
from pwa_app.api.common import Lang, client_address, get_session
from pwa_app.api.service_requests import file_response
from pwa_app.catalogue import content
from pwa_app.common import codes, ratelimit
from pwa_app.common.times import utcnow
from pwa_app.models import Office, Procedure
from pwa_app.settings import get_settings
from pwa_app.staff import audit, auth, inbox, lookup, permissions, reports, second_factor, setup, walk_in
from pwa_app.staff.auth import AuthError
from pwa_app.staff.forms import today
from pwa_app.staff.permissions import Forbidden, StaffError, Viewer

router = APIRouter(tags=["staff"])
LOGIN_PAGE = routes.STAFF_LOGIN
CODE_PAGE = routes.STAFF_LOGIN + "?step=code"
HOME_PAGE = routes.STAFF_HOME
GUARDED: dict[tuple[str, str], str] = {}  # (method, path) -> permission
MAX_FORM = 4096


def secure_request(request: Request) -> bool:
    """HTTPS, directly or behind a trusted proxy that says so; CITA_SECURE_COOKIES=1 forces it."""
    return get_settings().secure_cookies or proxy.is_https(request.scope)


def current_viewer(request: Request, session: Session = Depends(get_session)) -> Viewer | None:
    """The signed-in member of staff; a call from another site's page is refused whatever its cookie."""
    if not same_origin(request):
        raise HTTPException(403, "cross-origin request")
    return auth.viewer_for_token(session, auth.session_token(request.cookies))


def need(permission: str):
    def check(viewer: Viewer | None = Depends(current_viewer)) -> Viewer:
        if viewer is None:
            raise HTTPException(401, "sign in first")
        if viewer.must_enrol:
            raise HTTPException(403, "enrol a second factor first")
        if not viewer.can(permission):
            raise HTTPException(403, "not allowed")
        return viewer

    return check


def guarded(method: str, path: str, permission: str):
    GUARDED[(method, path)] = permission
    return getattr(router, method.lower())(path, dependencies=[Depends(need(permission))])


def same_origin(request: Request) -> bool:
    """A form posted from another site is refused (on top of SameSite=Lax)."""
    origin = request.headers.get("origin")
    if not origin or origin == "null":
        return origin is None
    return urlsplit(origin).netloc == request.headers.get("host")


def safe_next(raw: str | None) -> str:
    inside = raw and raw.startswith(routes.STAFF_HOME) and "//" not in raw
    return raw if inside and not raw.startswith(routes.registered(routes.STAFF_LOGIN)) else HOME_PAGE


async def read_form(request: Request) -> dict[str, str]:
    body = await request.body()
    if len(body) > MAX_FORM:
        return {}
    fields = parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True)
    return {k: v[0] for k, v in fields.items()}


def go(request: Request, target: str, status: int = 200, retry_after: int = 0) -> Response:
    """Where the browser goes next: a 303 for a plain form post; {"location"} for the page's script (which then
    loads that address itself: a fetch that followed the redirect would fill the HTTP cache with the page), with
    `status` (429 while a delay runs, 428 when a proof of work is needed: the script solves one and sends again)."""
    headers = {"Cache-Control": "no-store"}
    if retry_after:
        headers["Retry-After"] = str(retry_after)
    if "application/json" in request.headers.get("accept", ""):
        return JSONResponse({"location": target, "prove": status == 428}, status_code=status, headers=headers)
    return RedirectResponse(target, status_code=303, headers=headers)


REFUSAL_STATUS = {"locked": 429, "slow": 429, "proof": 428}


async def refused(request: Request, form, exc: AuthError, failures: int, page: str = LOGIN_PAGE) -> Response:
    """The sign-in page again, with the reason (and how long to wait) in its address."""
    if exc.code in ("invalid", "code"):
        await asyncio.sleep(min(0.3 * failures, 3.0))  # slow down guessing, more with every failure
    target = f"{page}{'&' if '?' in page else '?'}error={exc.code}"
    if exc.retry_after:  # minutes for a locked client address, seconds for an account's delay
        target += f"&wait={exc.retry_after if exc.code == 'slow' else max(1, (exc.retry_after + 59) // 60)}"
    if (wanted := wanted_page(request, form)) != HOME_PAGE:
        target += "&next=" + quote(wanted)
    return go(request, target, REFUSAL_STATUS.get(exc.code, 200), exc.retry_after)


def signed_in(request: Request, token: str, target: str) -> Response:
    answer = go(request, target)
    answer.set_cookie(value=token, **auth.cookie_settings(secure_request(request)))
    return answer


def wanted_page(request: Request, form) -> str:
    """Where to go once signed in: the form's `next`, or, when the form went before the page had read its own
    address (a fast typist or a password manager), the `next` of the sign-in page's address (same-origin Referer)."""
    chosen = safe_next(form.get("next"))
    referer = urlsplit(request.headers.get("referer") or "")
    if chosen == HOME_PAGE and referer.netloc == request.headers.get("host"):
        chosen = safe_next((parse_qs(referer.query).get("next") or [""])[0])
    return chosen


@router.post("/api/staff/login", summary="Staff sign-in (form post); sets the session cookie")
async def login(request: Request):
    if not same_origin(request):
        return go(request, LOGIN_PAGE + "?error=origin")
    if wait := ratelimit.check("staff_login", client_address(request)):  # before any password is hashed
        return go(request, f"{LOGIN_PAGE}?error=locked&wait={max(1, (wait + 59) // 60)}", 429, wait)
    form = await read_form(request)
    email, password = form.get("email", "")[:254], form.get("password", "")[: auth.PASSWORD_MAX + 1]
    ip, agent = client_address(request), request.headers.get("user-agent", "")

    def attempt():
        with db.session() as session:
            try:
                return auth.sign_in(session, email, password, ip=ip, user_agent=agent, proof=form.get("altcha"),
                                    now=utcnow()), None, 0
            except AuthError as exc:
                return None, exc, auth.recent_failures(session, auth.normalize_email(email), ip)

    done, refusal, failures = await run_in_threadpool(attempt)
    if refusal is not None:
        return await refused(request, form, refusal, failures)
    token, viewer = done
    if viewer is None:  # the second factor's code comes next
        wanted = wanted_page(request, form)
        return signed_in(request, token, CODE_PAGE + ("&next=" + quote(wanted) if wanted != HOME_PAGE else ""))
    return signed_in(request, token, wanted_page(request, form))


@router.post("/api/staff/login/code", summary="Staff sign-in, second step: the authenticator's or a recovery code")
async def login_code(request: Request):
    if not same_origin(request):
        return go(request, LOGIN_PAGE + "?error=origin")
    if wait := ratelimit.check("staff_login", client_address(request)):
        return go(request, f"{CODE_PAGE}&error=locked&wait={max(1, (wait + 59) // 60)}", 429, wait)
    form = await read_form(request)
    ip, token = client_address(request), auth.session_token(request.cookies)

    def attempt():
        with db.session() as session:
            try:
                return second_factor.confirm_second_factor(session, token, form.get("code", "")[:40], ip=ip,
                                                  proof=form.get("altcha"), now=utcnow()), None, 0
            except AuthError as exc:
                return None, exc, auth.recent_failures(session, "", ip)

    done, refusal, failures = await run_in_threadpool(attempt)
    if refusal is not None:
        return await refused(request, form, refusal, failures, LOGIN_PAGE if refusal.code == "expired" else CODE_PAGE)
    return signed_in(request, done[0], wanted_page(request, form))


@router.post("/api/staff/logout", summary="Staff sign-out: ends the session and clears the cookie")
def logout(request: Request, session: Session = Depends(get_session)):
    if same_origin(request):
        auth.sign_out(session, auth.session_token(request.cookies), client_address(request))
    answer = go(request, LOGIN_PAGE + "?signed_out=1")
    secure = secure_request(request)
    answer.delete_cookie(auth.cookie_settings(secure)["key"], path="/", httponly=True, samesite="lax", secure=secure)
    return answer


@router.get("/api/staff/me", summary="The signed-in member of staff")
def me(viewer: Viewer | None = Depends(current_viewer)):
    if viewer is None:
        raise HTTPException(401, "sign in first")
    return {"email": viewer.email, "name": viewer.name, "role": viewer.role, "must_enrol": viewer.must_enrol,
            "offices": sorted(viewer.office_ids) if viewer.office_ids is not None else None,
            "permissions": sorted(p for p in permissions.PERMISSIONS if viewer.can(p))}


def period_csv(request: Request, session: Session, from_: date | None, to: date | None, office: str | None, *,
               rows_of, to_csv, action: str, name: str) -> Response:
    """A report of a period (default: the last 30 days) as a CSV download, for one office of the viewer's or all
    of them; every export is in the audit trail."""
    viewer = current_viewer(request, session)
    last = to or today()
    first = from_ or last - timedelta(days=29)
    office_id = None
    if office:
        found = session.exec(select(Office).where(Office.slug == office)).first()
        if found is None:
            raise HTTPException(404, "unknown office")
        office_id = found.id
    try:
        rows = rows_of(session, viewer, first, last, office_id)
    except reports.ReportError as exc:
        return JSONResponse({"codes": exc.errors}, status_code=422)
    except Forbidden:  # an office outside the viewer's scope
        raise HTTPException(403, "not allowed") from None
    audit.audit(session, viewer, action, "report", ip=client_address(request), first=first.isoformat(),
               last=last.isoformat(), office_id=office_id, rows=len(rows))
    session.commit()
    filename = f"{name}-{first.isoformat()}-{last.isoformat()}.csv"
    return Response(to_csv(rows), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{filename}"', "Cache-Control": "no-store"})


@guarded("GET", "/api/staff/reports.csv", "reports")
def reports_csv(
    request: Request,
    from_: date | None = Query(None, alias="from"),
    to: date | None = None,
    office: str | None = Query(None, max_length=80),
    session: Session = Depends(get_session),
):
    return period_csv(request, session, from_, to, office, rows_of=reports.csv_rows, to_csv=reports.to_csv,
                      action="report.export", name="cita-informe")


@guarded("GET", "/api/staff/day.csv", "day")
def day_csv(request: Request, office: str | None = Query(None, max_length=80), day: date | None = None,
            procedure: str | None = Query(None, max_length=80), session: Session = Depends(get_session)):
    """An office's day list (default: the viewer's first office, today; one procedure's when given) for a
    spreadsheet; every download is audited."""
    viewer = current_viewer(request, session)
    found = session.exec(select(Office).where(Office.slug == office)).first() if office else None
    chosen = session.exec(select(Procedure).where(Procedure.slug == procedure)).first() if procedure else None
    if (office and found is None) or (procedure and chosen is None):
        raise HTTPException(404, "unknown office or procedure")
    day = day or today()
    try:
        found = found or setup.office_of(session, viewer, None)
        text, _ = lookup.day_csv(session, viewer, found.id, day, chosen.id if chosen else None,
                                 ip=client_address(request))
    except StaffError:  # an office outside the viewer's scope, or none at all
        raise HTTPException(403, "not allowed") from None
    session.commit()
    filename = f"cita-dia-{found.slug}-{day.isoformat()}.csv"
    return Response(text, media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{filename}"', "Cache-Control": "no-store"})


@guarded("GET", "/api/staff/queue/{office}/board", "queue")
def queue_board(request: Request, office: str, session: Session = Depends(get_session)):
    viewer = current_viewer(request, session)
    found = session.exec(select(Office).where(Office.slug == office)).first()
    if found is None or not viewer.can_office(found.id):
        raise HTTPException(404 if found is None else 403)
    return JSONResponse(walk_in.board(session, found.id), headers={"Cache-Control": "no-store"})


@guarded("GET", "/api/staff/requests/{request_id}/attachments/{n}", "requests")
def request_attachment(request: Request, request_id: int = Path(ge=1), n: int = Path(ge=1, le=100),
                       session: Session = Depends(get_session)):
    try:
        att = inbox.request_attachment(session, current_viewer(request, session), request_id, n)
    except Forbidden:  # another department's request: as if it did not exist
        att = None
    if att is None:
        raise HTTPException(404, "no such file")
    return file_response(att)


TRANSLATIONS_PAGE = routes.STAFF_TRANSLATIONS


@guarded("GET", "/api/staff/content/{lang}.po", "setup_town")
def content_po(request: Request, lang: str, session: Session = Depends(get_session)):
    try:
        data = setup.export_translations(session, current_viewer(request, session), lang, ip=client_address(request))
    except StaffError:
        raise HTTPException(404, "unknown language") from None
    session.commit()
    return Response(data, media_type="text/x-gettext-translation; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="cita-contenido-{lang}.po"',
                             "Cache-Control": "no-store"})


async def _uploaded_po(request: Request) -> bytes:
    """The `file` of a multipart form, at most content.MAX_PO bytes (StaffError otherwise)."""
    if int(request.headers.get("content-length") or 0) > content.MAX_PO + 64 * 1024:
        raise StaffError({"form": "too_large"})
    try:
        form = await request.form(max_files=1, max_fields=5)
    except Exception:  # noqa: BLE001 - whatever the parser disliked, the answer is the same
        raise StaffError({"form": "po_invalid"}) from None
    upload = form.get("file")
    if upload is None or isinstance(upload, str):
        raise StaffError({"form": "po_invalid"})
    data = await upload.read(content.MAX_PO + 1)
    if len(data) > content.MAX_PO:
        raise StaffError({"form": "too_large"})
    return data


@guarded("POST", "/api/staff/content/import", "setup_town")
async def content_import(request: Request, session: Session = Depends(get_session)):
    """Reads an edited .po back (all or nothing). A browser form gets a 303 to the translations page with the
    counts (or the error code) in its address; `Accept: application/json` gets them as JSON (422 when refused)."""
    ip = client_address(request)

    def save(data: bytes) -> dict:  # in the session that checked the sign-in (SQLite has one writer at a time)
        try:
            counts = setup.import_translations(session, current_viewer(request, session), data, ip=ip)
        except StaffError:
            session.rollback()
            raise
        session.commit()
        return counts

    try:
        if not same_origin(request):
            raise Forbidden()
        if ratelimit.check("content_import", ip):
            raise StaffError({"form": "rate"})
        counts = await run_in_threadpool(save, await _uploaded_po(request))
    except StaffError as exc:
        code = next(iter(exc.errors.values()))
        if "application/json" in request.headers.get("accept", ""):
            return JSONResponse({"codes": {"file": code}}, status_code=403 if code == "forbidden" else 422)
        return go(request, f"{TRANSLATIONS_PAGE}?error={code}")
    if "application/json" in request.headers.get("accept", ""):
        return JSONResponse(counts, headers={"Cache-Control": "no-store"})
    return go(request, f"{TRANSLATIONS_PAGE}?" + "&".join(f"{k}={v}" for k, v in counts.items()))


@router.get("/api/v1/appointments/{code}/qr.svg", summary="The booking code as a QR code (SVG), for the desk")
def appointment_qr(request: Request, code: str, verifier: str = Query(max_length=20), lang: str = Lang,
                   session: Session = Depends(get_session)):
    appt, missing = fair.open_appointment(request, session, code, verifier, lang)
    if missing:
        return missing
    shown = codes.format_code(appt.code)
    # Alphanumeric mode (upper-case letters, digits and the hyphen); a full QR code: segno.make would pick a Micro QR
    # for so short a text, which the desk's camera (BarcodeDetector "qr_code") and most phones cannot read.
    qr = segno.make_qr(shown, error="m")
    out = io.BytesIO()
    qr.save(out, kind="svg", scale=8, border=4, dark="#0b0c0c", light="#ffffff", title=shown, xmldecl=False)
    return Response(out.getvalue(), media_type="image/svg+xml",
                    headers={"Cache-Control": "private, max-age=86400", "X-Content-Type-Options": "nosniff"})
