"""Citizen requests (seguimiento) in the JSON API under /api/v1.

    GET  /api/v1/request-types?lang=                  what can be sent, the form's limits, the status labels
    POST /api/v1/requests                             send a request (Idempotency-Key); 201 with the tracking view
    GET  /api/v1/requests/{code}?lang=                the tracking view: status, department, due date, timeline
    POST /api/v1/requests/lookup                      several tracking views at once ("my requests" refresh)
    POST /api/v1/requests/{code}/replies              the citizen answers (Idempotency-Key); 201 with the view
    GET  /api/v1/requests/{code}/attachments/{n}      a file sent with the request

Attachments travel inside the JSON body as base64 (`data`, a data: URL is fine too), so the device outbox can
store a submission and replay it as it is. Errors answer `{"errors": {field: message}, "codes": {field: code}}`
like the booking API; 404 {"codes": {"code": "request_not_found"}}; too many lookups from one address answer 429
with Retry-After. Every lookup by code (found or not) spends a token: codes cannot be guessed by trying.
"""

import re
from datetime import datetime
from urllib.parse import quote

from fastapi import APIRouter, Depends, Header, Path, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from sqlmodel import Session

from pwa_app.api import fair
from pwa_app.api.common import Lang, client_address, error, etagged, get_session, idempotent_write
from pwa_app.api.service_request_schemas import ErrorOut, LookupOut, RequestTypesOut, RequestView
from pwa_app.common import ratelimit
from pwa_app.common.i18n import pick_lang
from pwa_app.models import IdempotencyRecord
from pwa_app.service_requests import intake, rules, views
from pwa_app.service_requests.rules import MAX_BASE64, MAX_FILES, ServiceRequestError

router = APIRouter(prefix="/api/v1", tags=["requests"])
MAX_LOOKUP = 20
PRIVATE = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"}  # personal data: never kept in a cache
ERRORS_422 = {422: {"model": ErrorOut, "description": "`errors`/`codes` per field; nothing stored"}}
NOT_FOUND = {404: {"model": ErrorOut, "description": "no request has that code (`codes.code`: request_not_found)"}}
LIMITED = {429: {"model": ErrorOut, "description": "too many calls or bytes from this address; see Retry-After"}}


class AttachmentIn(BaseModel):
    filename: str = Field("", max_length=255)
    content_type: str = Field("", max_length=100, description="informative: the type is read from the content")
    data: str = Field(max_length=MAX_BASE64 + 100, description="the file in base64 (or a data: URL)")


class RequestIn(BaseModel):
    type: str = Field(max_length=80, description="slug of a request type")
    description: str = Field("", max_length=20_000, description="plain text, up to 4000 characters")
    address: str = Field("", max_length=1000)
    lat: float | None = None
    lon: float | None = None
    name: str = Field("", max_length=500)
    email: str = Field("", max_length=500)
    phone: str = Field("", max_length=100)
    document: str = Field("", max_length=100, description="DNI/NIE, only where the type needs_document")
    consent: bool = False
    lang: str = Field("es", max_length=5)
    attachments: list[AttachmentIn] = Field(default_factory=list, max_length=MAX_FILES + 2)
    altcha: str | None = Field(None, max_length=2000, description="the solved proof-of-work (GET /challenge)")
    client_created_at: datetime | None = Field(
        None, description="when the citizen pressed send (informative; the request counts from its arrival)")


class ReplyIn(BaseModel):
    text: str = Field("", max_length=20_000)
    lang: str = Field("es", max_length=5)
    attachments: list[AttachmentIn] = Field(default_factory=list, max_length=MAX_FILES + 2)


class LookupIn(BaseModel):
    codes: list[str] = Field(max_length=MAX_LOOKUP)
    lang: str = Field("es", max_length=5)


def too_many(request: Request, scope: str, lang: str, cost: int = 1) -> JSONResponse | None:
    """A 429 answer when this client has spent its tokens, else None."""
    wait = ratelimit.check(scope, client_address(request), cost)
    if not wait:
        return None
    answer = error(429, {"code": "rate_limited"}, lang, retry_after=wait)
    answer.headers["Retry-After"] = str(wait)
    return answer


def over_quota(request: Request, attachments: list[AttachmentIn], lang: str) -> JSONResponse | None:
    """A 429 when the attachments' bytes go over today's quota, of this address or of everyone together (the
    database that holds them is the one bookings need)."""
    size = sum(len(a.data) for a in attachments) * 3 // 4
    wait = ratelimit.spend_bytes("upload_bytes", client_address(request), size) \
        or ratelimit.spend_bytes("upload_bytes_total", "all", size)
    return fair.too_many(wait, lang) if wait else None


def not_found(lang: str) -> JSONResponse:
    return error(404, {"code": "request_not_found"}, lang)


def _write(session: Session, key: str | None, operation: str, payload: dict, lang: str, action) -> JSONResponse:
    return idempotent_write(session, key, operation, payload, lang, action,
                            {ServiceRequestError: lambda exc: error(422, exc.errors, lang)}, headers=PRIVATE)


@router.get("/request-types", summary="What citizens can send: request types, form limits and status labels",
            responses={200: {"model": RequestTypesOut}})
def get_request_types(request: Request, lang: str = Lang, session: Session = Depends(get_session)):
    return etagged(request, views.request_types(session, pick_lang(lang)))


@router.post("/requests", status_code=201, summary="Send a request (send an Idempotency-Key)",
             responses={201: {"model": RequestView, "description": "the tracking view, with the `code` to keep"},
                        413: {"model": ErrorOut, "description": "the body is too large (`too_large`)"},
                        428: {"model": ErrorOut, "description": "no valid proof of work: solve a new challenge"},
                        **ERRORS_422, **LIMITED})
def post_request(request: Request, data: RequestIn, idempotency_key: str | None = Header(None, max_length=64),
                 session: Session = Depends(get_session)):
    raw = data.model_dump(mode="json", exclude={"altcha"})  # the proof changes from one attempt to the next
    if not (idempotency_key and session.get(IdempotencyRecord, idempotency_key)):  # a replay needs no new proof
        if refused := fair.proven(session, data.altcha, data.lang, "challenge_request") or too_many(request, "request", data.lang) \
                or over_quota(request, data.attachments, data.lang):
            return refused

    def action():
        req = intake.submit(session, raw)
        return 201, views.request_view(session, req, data.lang)

    return _write(session, idempotency_key, "request", intake.payload_digest(raw), data.lang, action)


@router.get("/requests/{code}", summary="A request's tracking view, by its tracking code",
            responses={200: {"model": RequestView}, **NOT_FOUND, **LIMITED})
def get_request(request: Request, code: str = Path(max_length=40), lang: str = Lang,
                session: Session = Depends(get_session)):
    if limited := too_many(request, "lookup", lang):
        return limited
    req = rules.find(session, code)
    if not req:
        return not_found(lang)
    return JSONResponse(views.request_view(session, req, lang), headers=PRIVATE)


@router.post("/requests/lookup", summary="Several requests' tracking views at once (up to 20 codes)",
             responses={200: {"model": LookupOut}, **LIMITED})
def lookup_requests(request: Request, data: LookupIn, session: Session = Depends(get_session)):
    if limited := too_many(request, "lookup", data.lang, cost=max(len(data.codes), 1)):
        return limited
    found, missing = [], []
    for code in data.codes:
        req = rules.find(session, code)
        if req:
            found.append(views.request_view(session, req, data.lang))
        else:
            missing.append(code)
    return JSONResponse({"requests": found, "missing": missing}, headers=PRIVATE)


@router.post("/requests/{code}/replies", status_code=201,
             summary="The citizen answers a request (send an Idempotency-Key); 201 with the tracking view",
             responses={201: {"model": RequestView}, **ERRORS_422, **NOT_FOUND, **LIMITED})
def post_reply(request: Request, data: ReplyIn, code: str = Path(max_length=40),
               idempotency_key: str | None = Header(None, max_length=64), session: Session = Depends(get_session)):
    if limited := too_many(request, "lookup", data.lang) or over_quota(request, data.attachments, data.lang):
        return limited
    req = rules.find(session, code)
    if not req:
        return not_found(data.lang)
    raw = data.model_dump(mode="json")

    def action():
        intake.reply(session, req, raw)
        return 201, views.request_view(session, req, data.lang)

    return _write(session, idempotency_key, "reply", {"code": req.code, **intake.payload_digest(raw)},
                  data.lang, action)


@router.get("/requests/{code}/attachments/{n}", summary="A file sent with the request",
            responses={200: {"content": {"image/jpeg": {}, "image/png": {}, "image/webp": {}, "application/pdf": {}}},
                       **NOT_FOUND, **LIMITED})
def get_attachment(request: Request, code: str = Path(max_length=40), n: int = Path(ge=1, le=100),
                   lang: str = Lang, session: Session = Depends(get_session)):
    if limited := too_many(request, "lookup", lang):
        return limited
    req = rules.find(session, code)
    att = views.attachment(session, req, n) if req else None
    if not att:
        return not_found(lang)
    return file_response(att)


def file_response(att, private: bool = True) -> Response:
    disposition = "inline" if att.content_type.startswith("image/") else "attachment"
    plain = re.sub(r"[^A-Za-z0-9 ._()-]", "_", att.filename)
    return Response(att.data, media_type=att.content_type, headers={
        **(PRIVATE if private else {"Cache-Control": "public, max-age=3600"}),
        "Content-Disposition": f"{disposition}; filename=\"{plain}\"; filename*=UTF-8''{quote(att.filename)}",
        "X-Content-Type-Options": "nosniff",
        "Content-Security-Policy": "default-src 'none'; sandbox",
        "ETag": f'"{att.sha256[:32]}"',
    })
