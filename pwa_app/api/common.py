"""What every API router shares: the database session, the language parameter, translated error answers and
ETag-validated JSON."""

import hashlib
import json
from collections.abc import Iterator

from fastapi import Query, Request, Response
from fastapi.responses import JSONResponse
from sqlmodel import Session

from pwa_app import db
from pwa_app.services.i18n import LANGUAGES, gettext, pick_lang
from pwa_app.services.messages import ERRORS

Lang = Query("es", max_length=5, description="Language of texts and labels: " + ", ".join(LANGUAGES))


def get_session() -> Iterator[Session]:
    with db.session() as session:
        yield session


def error(status: int, errors: dict[str, str], lang: str, **extra) -> JSONResponse:
    lang = pick_lang(lang)
    messages = {f: gettext(lang, ERRORS.get(code, ERRORS["bad_request"])) for f, code in errors.items()}
    return JSONResponse({"errors": messages, "codes": errors, **extra}, status_code=status)


def etagged(request: Request, body: dict) -> Response:
    payload = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()
    etag = '"' + hashlib.sha256(payload).hexdigest()[:32] + '"'
    headers = {"ETag": etag, "Cache-Control": "no-cache"}
    if request.headers.get("if-none-match") == etag:
        return Response(status_code=304, headers=headers)
    return Response(payload, media_type="application/json", headers=headers)
