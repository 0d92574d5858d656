"""Open311 GeoReport v2 under /api/open311/v2 (JSON only), so civic tools can read and send street reports.

    GET  /api/open311/v2/discovery.json
    GET  /api/open311/v2/services.json                 request types of public interest (street problems)
    GET  /api/open311/v2/services/{service_code}.json  service definition (no extra attributes)
    POST /api/open311/v2/requests.json                 form-encoded, per the spec; answers
                                                       [{service_request_id, service_notice, account_id}]
    GET  /api/open311/v2/requests.json                 service_request_id (comma list; overrides the rest),
                                                       service_code, status (open, closed), start_date, end_date
                                                       (at most 90 days; the last 90 by default); 1000 at most
    GET  /api/open311/v2/requests/{id}.json            [one request]
    GET  /api/open311/v2/media/{id}/{n}                a photo staff have published

Only request types marked `public` exist here; requests of any other type (social aid, applications with an
identity document...) are never listed nor found. No personal data ever leaves through these answers: no name,
email, phone, document, nor the citizen's tracking code (the Open311 id is a separate public reference). The
description and address are the ones staff approved (`public_description`, `public_address`); until then the
description is the request type's name and the address null. A civic tool that sends a request gets the
tracking code in `service_notice`, to hand to the citizen.

Extensions: `?lang=` (es, en) for names and labels. Errors answer [{"code": status, "description": text}];
GETs are rate-limited per client address (429 with Retry-After). POST takes an optional Idempotency-Key header
and, when CITA_OPEN311_API_KEYS (comma-separated) is set, requires one of those keys as `api_key`; in production
a key is always required (without any configured, nobody can post). Posts are limited per client address
(CITA_RATE_OPEN311_POST) and per key (CITA_RATE_OPEN311_KEY), checked before the body is read.
"""

from datetime import datetime, time, timedelta

from fastapi import APIRouter, Depends, Header, Path, Query, Request
from fastapi.responses import JSONResponse
from sqlmodel import Session, select

from pwa_app import proxy
from pwa_app.api.common import client_address, get_session
from pwa_app.api.service_requests import file_response
from pwa_app.appointments import fairness
from pwa_app.common import ratelimit, times
from pwa_app.common.i18n import LANGUAGES, TZ, gettext, local, long_day_label, pick_lang
from pwa_app.common.idempotency import KeyReused, run_once, valid_key
from pwa_app.common.messages import ERRORS, TRACKING
from pwa_app.models import Attachment, RequestType, ServiceRequest, StatusChange
from pwa_app.service_requests import intake, rules, views
from pwa_app.service_requests.rules import CLOSED, ServiceRequestError
from pwa_app.service_requests.views import Content
from pwa_app.settings import get_settings

PREFIX = "/api/open311/v2"
router = APIRouter(prefix=PREFIX, tags=["open311"])
MAX_RESULTS = 1000
MAX_SPAN = timedelta(days=90)
MAX_IDS = 100
SPEC = "http://wiki.open311.org/GeoReport_v2"
Lang = Query("es", max_length=5, description="Extension: language of names and notes: " + ", ".join(LANGUAGES))
# Our form fields as Open311 calls them, for error descriptions.
PARAMS = {"type": "service_code", "address": "address_string", "location": "lat/long", "name": "first_name"}


def problem(status: int, description: str, headers: dict | None = None) -> JSONResponse:
    return JSONResponse([{"code": status, "description": description}], status_code=status, headers=headers)


def too_many(request: Request, lang: str, scope: str = "open311", who: str = "") -> JSONResponse | None:
    wait = ratelimit.check(scope, who or client_address(request))
    if not wait:
        return None
    return problem(429, gettext(lang, ERRORS["rate_limited"]), {"Retry-After": str(wait)})


def iso(moment: datetime) -> str:
    return local(moment).replace(microsecond=0).isoformat()


def public_types(session: Session) -> list[RequestType]:
    return list(session.exec(select(RequestType).where(RequestType.public == True, RequestType.active == True)  # noqa: E712
                             .order_by(RequestType.position, RequestType.id)))


def service_view(content: Content, rtype: RequestType) -> dict:
    keywords = [k.strip() for k in content.text(rtype, "keywords").split(",") if k.strip()]
    return {
        "service_code": rtype.slug,
        "service_name": content.text(rtype, "name"),
        "description": content.text(rtype, "description"),
        "metadata": False,
        "type": "realtime",
        "keywords": ",".join(keywords),
        "group": content.department(rtype.department_id)["name"],
    }


@router.get("/discovery.json", summary="Open311 discovery")
def discovery(request: Request):
    base = str(request.base_url).rstrip("/") + PREFIX
    return {
        "changeset": "2026-11-25T00:00:00+01:00",
        "contact": "atencion@villanuevadelpinar.es",
        "key_service": "Ask Atención a la Ciudadanía for an api_key if POST requires one.",
        "endpoints": [{"specification": SPEC, "url": base, "changeset": "2026-11-25T00:00:00+01:00",
                       "type": "production", "formats": ["application/json"]}],
    }


@router.get("/services.json", summary="Open311: the services (request types) open to civic tools")
def services(request: Request, lang: str = Lang, jurisdiction_id: str | None = Query(None, max_length=100),
             session: Session = Depends(get_session)):
    lang = pick_lang(lang)
    if limited := too_many(request, lang):
        return limited
    content = Content(session, lang)
    return [service_view(content, t) for t in public_types(session)]


@router.get("/services/{service_code}.json", summary="Open311: a service definition")
def service_definition(request: Request, service_code: str = Path(max_length=80), lang: str = Lang,
                       session: Session = Depends(get_session)):
    lang = pick_lang(lang)
    if limited := too_many(request, lang):
        return limited
    if not any(t.slug == service_code for t in public_types(session)):
        return problem(404, f"service_code {service_code!r} not found")
    return {"service_code": service_code, "attributes": []}


def _request_views(session: Session, requests: list[ServiceRequest], lang: str, base: str) -> list[dict]:
    """Open311 requests, with their latest public note and published photo, in a few queries."""
    if not requests:
        return []
    content = Content(session, lang)
    types = {t.id: t for t in session.exec(select(RequestType))}
    ids = [r.id for r in requests]
    notes: dict[int, str] = {}
    for change in session.exec(select(StatusChange).where(StatusChange.request_id.in_(ids),
                                                          StatusChange.actor == "department",
                                                          StatusChange.comment != "")
                               .order_by(StatusChange.at, StatusChange.id)):
        notes[change.request_id] = change.comment
    media: dict[int, int] = {}
    for request_id, position in session.exec(select(Attachment.request_id, Attachment.position)
                                              .where(Attachment.request_id.in_(ids), Attachment.public == True)  # noqa: E712
                                              .order_by(Attachment.position.desc())):
        media[request_id] = position
    out = []
    for r in requests:
        rtype = types[r.type_id]
        out.append({
            "service_request_id": r.public_id,
            "status": "closed" if r.status in CLOSED else "open",
            "status_notes": notes.get(r.id),
            "service_name": content.text(rtype, "name"),
            "service_code": rtype.slug,
            # Only what staff approved (publish_text): the citizen's words may name people or their home.
            "description": r.public_description or content.text(rtype, "name"),
            "agency_responsible": content.department(r.department_id)["name"],
            "service_notice": views.response_label(rtype, lang),
            "requested_datetime": iso(r.submitted_at),
            "updated_datetime": iso(r.closed_at or r.updated_at),
            "expected_datetime": datetime.combine(r.due_date, time(23, 59, 59), tzinfo=TZ).isoformat(),
            "address": r.public_address or None,
            "address_id": None,
            "zipcode": None,
            "lat": public_coordinate(r.lat),
            "long": public_coordinate(r.lon),
            "media_url": f"{base}/media/{r.public_id}/{media[r.id]}" if r.id in media else None,
        })
    return out


def public_coordinate(value: float | None) -> float | None:
    """Three decimals, about 100 m: enough to find the street lamp, not the citizen's doorway."""
    return None if value is None else round(value, 3)


def _public_query():
    return select(ServiceRequest).join(RequestType, RequestType.id == ServiceRequest.type_id).where(
        RequestType.public == True)  # noqa: E712


def _when(text: str | None, name: str) -> datetime | None:
    if not text:
        return None
    try:
        moment = datetime.fromisoformat(text.strip().replace(" ", "+"))  # a "+" in a query string arrives as " "
    except ValueError:
        raise ValueError(f"{name} must be a W3C datetime, e.g. 2026-12-01T00:00:00+01:00") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=TZ)


@router.get("/requests.json", summary="Open311: requests, newest first")
def list_requests(
    request: Request,
    service_request_id: str | None = Query(None, max_length=2000),
    service_code: str | None = Query(None, max_length=500),
    status: str | None = Query(None, max_length=20),
    start_date: str | None = Query(None, max_length=40),
    end_date: str | None = Query(None, max_length=40),
    jurisdiction_id: str | None = Query(None, max_length=100),
    lang: str = Lang,
    session: Session = Depends(get_session),
):
    lang = pick_lang(lang)
    if limited := too_many(request, lang):
        return limited
    query = _public_query()
    if service_request_id:  # overrides every other filter
        ids = [i.strip().upper() for i in service_request_id.split(",") if i.strip()][:MAX_IDS]
        query = query.where(ServiceRequest.public_id.in_(ids))
    else:
        try:
            start, end = _when(start_date, "start_date"), _when(end_date, "end_date")
        except ValueError as exc:
            return problem(400, str(exc))
        end = end or (start + MAX_SPAN if start else times.utcnow())
        start = start or end - MAX_SPAN
        if end < start or end - start > MAX_SPAN:
            return problem(400, "start_date and end_date must be in order and at most 90 days apart")
        query = query.where(ServiceRequest.submitted_at >= start, ServiceRequest.submitted_at <= end)
        if service_code:
            query = query.where(RequestType.slug.in_([c.strip() for c in service_code.split(",") if c.strip()]))
        if status:
            wanted = {s.strip() for s in status.split(",") if s.strip()}
            if not wanted <= {"open", "closed"}:
                return problem(400, "status must be open, closed or both (comma-separated)")
            if wanted == {"open"}:
                query = query.where(ServiceRequest.status.not_in(CLOSED))
            elif wanted == {"closed"}:
                query = query.where(ServiceRequest.status.in_(CLOSED))
    rows = list(session.exec(query.order_by(ServiceRequest.submitted_at.desc(), ServiceRequest.id.desc())
                             .limit(MAX_RESULTS)))
    return _request_views(session, rows, lang, str(request.base_url).rstrip("/") + PREFIX)


@router.get("/requests/{service_request_id}.json", summary="Open311: one request")
def get_request(request: Request, service_request_id: str = Path(max_length=40), lang: str = Lang,
                jurisdiction_id: str | None = Query(None, max_length=100), session: Session = Depends(get_session)):
    lang = pick_lang(lang)
    if limited := too_many(request, lang):
        return limited
    req = rules.find_public(session, service_request_id)
    if not req:
        return problem(404, f"service_request_id {service_request_id!r} not found")
    return _request_views(session, [req], lang, str(request.base_url).rstrip("/") + PREFIX)


@router.get("/media/{service_request_id}/{n}", summary="A published photo of a request")
def media(request: Request, service_request_id: str = Path(max_length=40), n: int = Path(ge=1, le=100),
          session: Session = Depends(get_session)):
    if limited := too_many(request, "es"):
        return limited
    req = rules.find_public(session, service_request_id)
    att = views.attachment(session, req, n) if req else None
    if not att or not att.public:
        return problem(404, "media not found")
    return file_response(att, private=False)


def _api_keys() -> set[str]:
    return {k.strip() for k in get_settings().open311_api_keys.split(",") if k.strip()}


@router.post("/requests.json", summary="Open311: send a request (form-encoded)")
async def post_request(request: Request, idempotency_key: str | None = Header(None, max_length=64),
                       session: Session = Depends(get_session)):
    lang = pick_lang(request.query_params.get("lang"))
    if limited := too_many(request, lang, "open311_post"):
        return limited
    try:
        form = await request.form()
    except Exception:  # noqa: BLE001 - a body that is no form
        return problem(400, "send the parameters form-encoded (application/x-www-form-urlencoded)")
    field = {k: str(v) for k, v in form.items() if isinstance(v, str)}
    lang = pick_lang(field.get("lang") or request.query_params.get("lang"))
    keys, api_key = _api_keys(), field.get("api_key", "")
    if (keys or proxy.production()) and api_key not in keys:
        return problem(403, "api_key is missing or not valid")
    if api_key and (limited := too_many(request, lang, "open311_key", fairness.keyed("open311", api_key))):
        return limited
    if not valid_key(idempotency_key):
        return problem(400, "Idempotency-Key must be 8-64 letters, digits, '-' or '_'")
    code = field.get("service_code", "")
    if not code:
        return problem(400, "service_code is required")
    if not any(t.slug == code for t in public_types(session)):
        return problem(404, f"service_code {code!r} not found")
    name = " ".join(p for p in (field.get("first_name", ""), field.get("last_name", "")) if p.strip())
    raw = {
        "type": code, "description": field.get("description", ""), "address": field.get("address_string", ""),
        "lat": field.get("lat") or None, "lon": field.get("long") or None, "name": name,
        "email": field.get("email", ""), "phone": field.get("phone", ""),
        # The civic tool shows its users the town hall's privacy notice: that is the condition of its key.
        "consent": True, "lang": lang,
    }

    def action():
        req = intake.submit(session, raw, source="open311")
        notice = gettext(lang, TRACKING["tracking_notice"]) % {
            "code": rules.format_code(req.code), "date": long_day_label(req.due_date, lang)}
        return 200, [{"service_request_id": req.public_id, "service_notice": notice, "account_id": None}]

    try:
        status, body = run_once(session, idempotency_key, "open311", raw, action)
    except ServiceRequestError as exc:
        session.rollback()
        text = "; ".join(f"{PARAMS.get(f, f)}: {gettext(lang, ERRORS.get(c, ERRORS['bad_request']))}"
                         for f, c in exc.errors.items())
        return problem(400, text)
    except KeyReused:
        session.rollback()
        return problem(400, gettext(lang, ERRORS["key_reused"]))
    return JSONResponse(body, status_code=status)
