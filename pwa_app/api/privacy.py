"""The citizen's right to erasure for their own booking, in the JSON API under /api/v1.

    DELETE /api/v1/appointments/{code}/personal-data?verifier=&lang=     (header Idempotency-Key, recommended)

With the booking code and its verifier (the last four characters of the document or the phone, as for the
other appointment endpoints): a future booking is cancelled (its time is free again at once), then the name,
document, phone and e-mail are deleted for good. 200 {"code", "status", "status_label", "cancelled",
"personal_data": "deleted"}. Afterwards the code opens nothing (there is no verifier left), so a repeat without
the same Idempotency-Key answers 404; with it, the first answer again (the device outbox may resend).
"""

from typing import Literal

from fastapi import APIRouter, Depends, Header, Path, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from sqlmodel import Session

from pwa_app.api import fair
from pwa_app.api.common import Lang, error, get_session, idempotent_write
from pwa_app.api.service_request_schemas import ErrorOut
from pwa_app.common import codes
from pwa_app.common.i18n import gettext, pick_lang
from pwa_app.common.idempotency import earlier_answer, valid_key
from pwa_app.common.messages import STATUSES
from pwa_app.retention import forget_appointment

router = APIRouter(prefix="/api/v1", tags=["privacy"])
NO_STORE = {"Cache-Control": "no-store"}


class ForgottenOut(BaseModel):
    code: str = Field(description="the booking code, formatted")
    status: Literal["booked", "pending", "expired", "cancelled", "checked_in", "done", "no_show"] = Field(
        description="after the deletion: a future booking is now cancelled; a past one keeps its status")
    status_label: str
    cancelled: bool = Field(description="true when this request cancelled a future booking")
    personal_data: Literal["deleted"]


@router.delete(
    "/appointments/{code}/personal-data",
    summary="Delete the personal data of one's own booking (a future one is cancelled first)",
    responses={200: {"model": ForgottenOut},
               400: {"model": ErrorOut, "description": "the Idempotency-Key is malformed"},
               404: {"model": ErrorOut, "description": "no booking with that code and verifier"},
               429: {"model": ErrorOut, "description": "too many wrong verifiers for this code or address"},
               422: {"model": ErrorOut, "description": "the Idempotency-Key was used for another request"}},
)
def delete_personal_data(
    request: Request,
    code: str = Path(max_length=40),
    verifier: str = Query(max_length=20),
    lang: str = Lang,
    idempotency_key: str | None = Header(None, max_length=64),
    session: Session = Depends(get_session),
):
    lang = pick_lang(lang)
    if not valid_key(idempotency_key):
        return error(400, {"idempotency_key": "bad_request"}, lang)
    try:
        payload = {"code": codes.normalize_code(code)}
    except ValueError:
        return error(404, {"code": "not_found"}, lang)
    # A resend after the data is gone (there is no verifier left): the first answer, if this key gave one.
    if earlier := earlier_answer(session, idempotency_key, "forget", payload):
        status, body = earlier
        return JSONResponse(body, status_code=status, headers=NO_STORE)
    appt, missing = fair.open_appointment(request, session, code, verifier, lang)
    if missing:
        return missing

    def action():
        was_booked = appt.status == "booked"
        forget_appointment(session, appt)
        return 200, {"code": codes.format_code(appt.code), "status": appt.status,
                     "status_label": gettext(lang, STATUSES[appt.status]),
                     "cancelled": was_booked and appt.status == "cancelled", "personal_data": "deleted"}

    return idempotent_write(session, idempotency_key, "forget", payload, lang, action, {}, headers=NO_STORE)
