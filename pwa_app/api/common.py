"""What every API router shares: the database session, the language parameter, translated error answers and
ETag-validated JSON."""

import hashlib
import json
from collections.abc import Iterator
from datetime import datetime

from fastapi import FastAPI, Query, Request, Response
from fastapi.responses import JSONResponse
from sqlalchemy.exc import OperationalError, TimeoutError as PoolTimeout
from sqlmodel import Session

from pwa_app import db, proxy
from pwa_app.common.errors import translated_errors
from pwa_app.common.i18n import LANGUAGES, day_label, gettext, local, pick_lang, time_label
from pwa_app.common.idempotency import KeyReused, run_once, valid_key
from pwa_app.common.messages import ERRORS
from pwa_app.models import Office

Lang = Query("es", max_length=5, description="Language of texts and labels: " + ", ".join(LANGUAGES))


def get_session() -> Iterator[Session]:
    with db.session() as session:
        yield session


def client_address(request: Request) -> str:
    """The client's address for limits and the audit trail (see pwa_app/proxy.py)."""
    return proxy.client_address(request.headers, request.client and request.client.host)


def error(status: int, errors: dict[str, str], lang: str, **extra) -> JSONResponse:
    return JSONResponse({"errors": translated_errors(errors, lang), "codes": errors, **extra}, status_code=status)


BUSY_RETRY_SECONDS = 5


def install_busy(api: FastAPI) -> None:
    """A write that could not get the database's lock within the busy timeout (db.busy_timeout) answers 503 with
    Retry-After, and the device outbox sends it again later, instead of a 500 (or a request thread held for
    long). Any other database error stays a 500."""

    async def busy(request: Request, exc: Exception) -> Response:
        if not db.is_busy(exc):
            raise exc
        headers = {"Retry-After": str(BUSY_RETRY_SECONDS)}
        # Writes carry their language in the body, already read by now: the device's language stands in.
        device = (request.headers.get("accept-language") or "es").split(",")[0].split("-")[0].strip().lower()
        lang = pick_lang(request.query_params.get("lang") or device)
        if request.url.path.startswith("/api/open311/"):
            text = gettext(lang, ERRORS["busy"])
            return JSONResponse([{"code": 503, "description": text}], status_code=503, headers=headers)
        answer = error(503, {"database": "busy"}, lang, retry_after=BUSY_RETRY_SECONDS)
        answer.headers.update(headers)
        return answer

    api.add_exception_handler(OperationalError, busy)
    api.add_exception_handler(PoolTimeout, busy)


def etagged(request: Request, body: dict) -> Response:
    payload = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()
    etag = '"' + hashlib.sha256(payload).hexdigest()[:32] + '"'
    headers = {"ETag": etag, "Cache-Control": "no-cache"}
    if request.headers.get("if-none-match") == etag:
        return Response(status_code=304, headers=headers)
    return Response(payload, media_type="application/json", headers=headers)


class Refused(Exception):
    """Raised inside a write's action with the answer that refuses it (a proof of work, a limit): everything the
    action did is rolled back."""

    def __init__(self, answer: JSONResponse):
        super().__init__(answer.status_code)
        self.answer = answer


def idempotent_write(session: Session, key: str | None, operation: str, payload: dict, lang: str, action,
                     refusals: dict, headers: dict | None = None) -> JSONResponse:
    """Runs a write once per Idempotency-Key (see common/idempotency.py); a domain error listed in `refusals`
    (exception class -> answer) rolls everything back and answers for itself."""
    if not valid_key(key):
        return error(400, {"idempotency_key": "bad_request"}, lang)
    try:
        status, body = run_once(session, key, operation, payload, action)
    except KeyReused:
        session.rollback()
        return error(422, {"idempotency_key": "key_reused"}, lang)
    except Refused as exc:
        session.rollback()
        return exc.answer
    except tuple(refusals) as exc:
        answer = refusals[type(exc)](exc)  # before the rollback, which would make every row it names load again
        session.rollback()
        return answer
    return JSONResponse(body, status_code=status, headers=headers)


def iso_local(moment_utc: datetime) -> str:
    return local(moment_utc).isoformat()


def slot_view(office: Office, starts_at: datetime, lang: str) -> dict:
    moment = local(starts_at)
    return {"office": office.slug, "office_name": office.name, "start": moment.isoformat(),
            "day": day_label(moment.date(), lang), "time": time_label(moment, lang)}
