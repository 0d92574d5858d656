"""Citizen feedback in the JSON API (issue 9), and its staff CSV.

    POST /api/v1/feedback                    a survey answer or a suggestion (Idempotency-Key), from the outbox:
        {"kind": "survey", "appointment": CODE, "verifier": "1234", "rating": 1..5, "checklist_ok": "yes"|"no",
         "missing": "", "waiting": "short"|"ok"|"long"|"", "comment": "", "lang": "es"}        -> 201 {"kind"}
        {"kind": "suggestion", "text": "...", "anonymous": bool, "wants_answer": bool, "name", "email", "phone",
         "consent": bool, "lang"}       -> 201 {"kind", "code"} (code: the tracking code, when an answer is asked;
                                           "request": its tracking view, kept on the device as "my requests")
    GET  /api/staff/feedback.csv?from=&to=[&office=]   every survey answer of the period, anonymous (reports)

Errors answer `{"errors": {field: translated message}, "codes": {field: code}}` with 422 (nothing stored), so
the outbox shows the reason; a second answer for one appointment is `codes.appointment = survey_done`.
"""

from datetime import date
from typing import Literal

from fastapi import APIRouter, Depends, Header, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from sqlmodel import Session

from pwa_app.api.common import client_address, get_session
from pwa_app.api.staff import GUARDED, need, period_csv
from pwa_app.appointments import access
from pwa_app.common import ratelimit
from pwa_app.common.i18n import gettext, pick_lang
from pwa_app.common.idempotency import KeyReused, run_once, valid_key
from pwa_app.common.messages import ERRORS
from pwa_app.feedback import surveys
from pwa_app.feedback.surveys import FeedbackError
from pwa_app.service_requests import views

router = APIRouter(tags=["feedback"])
PRIVATE = {"Cache-Control": "no-store"}


class FeedbackIn(BaseModel):
    kind: Literal["survey", "suggestion"]
    lang: str = Field("es", max_length=5)
    # survey
    appointment: str = Field("", max_length=40, description="the booking code")
    verifier: str = Field("", max_length=20)
    rating: int | str | None = Field(None, description="overall satisfaction, 1 to 5")
    checklist_ok: bool | str | None = Field(None, description="was the checklist right: yes / no / unanswered")
    missing: str = Field("", max_length=20_000, description="what was missing from the checklist (plain text)")
    waiting: str = Field("", max_length=10, description="short | ok | long, or empty")
    comment: str = Field("", max_length=20_000, description="plain text, up to 2000 characters")
    # suggestion
    text: str = Field("", max_length=20_000, description="plain text, up to 2000 characters")
    anonymous: bool = False
    wants_answer: bool = False
    name: str = Field("", max_length=500)
    email: str = Field("", max_length=500)
    phone: str = Field("", max_length=100)
    consent: bool = False


def refused(status: int, codes: dict[str, str], lang: str, **extra) -> JSONResponse:
    lang = pick_lang(lang)
    table = {**ERRORS, **surveys.FEEDBACK_ERRORS}
    messages = {f: gettext(lang, table.get(c, ERRORS["bad_request"])) for f, c in codes.items()}
    return JSONResponse({"errors": messages, "codes": codes, **extra}, status_code=status)


@router.post("/api/v1/feedback", status_code=201, summary="Answer the survey or write in the suggestion box "
             "(send an Idempotency-Key)")
def post_feedback(request: Request, data: FeedbackIn, idempotency_key: str | None = Header(None, max_length=64),
                  session: Session = Depends(get_session)):
    if not valid_key(idempotency_key):
        return refused(400, {"idempotency_key": "bad_request"}, data.lang)
    wait = ratelimit.check("feedback", client_address(request))
    if wait:
        answer = refused(429, {"form": "rate_limited"}, data.lang, retry_after=wait)
        answer.headers["Retry-After"] = str(wait)
        return answer
    raw = data.model_dump(mode="json")

    def action():
        if data.kind == "survey":
            surveys.answer_survey(session, raw)
            return 201, {"kind": "survey", "code": ""}
        _, req = surveys.submit_suggestion(session, raw)
        if req is None:
            return 201, {"kind": "suggestion", "code": ""}
        view = views.request_view(session, req, data.lang)
        return 201, {"kind": "suggestion", "code": view["code"], "request": view}

    try:
        status, body = run_once(session, idempotency_key, "feedback", raw, action)
    except FeedbackError as exc:
        session.rollback()
        return refused(422, exc.errors, data.lang)
    except access.TooManyTries as exc:
        session.rollback()
        answer = refused(429, {"appointment": "rate_limited"}, data.lang, retry_after=exc.retry_after)
        answer.headers["Retry-After"] = str(exc.retry_after)
        return answer
    except KeyReused:
        session.rollback()
        return refused(422, {"idempotency_key": "key_reused"}, data.lang)
    return JSONResponse(body, status_code=status, headers=PRIVATE)


GUARDED[("GET", "/api/staff/feedback.csv")] = "reports"


@router.get("/api/staff/feedback.csv", dependencies=[Depends(need("reports"))],
            summary="Survey answers of a period, anonymous (staff: reports)")
def feedback_csv(
    request: Request,
    from_: date | None = Query(None, alias="from"),
    to: date | None = None,
    office: str | None = Query(None, max_length=80),
    session: Session = Depends(get_session),
):
    return period_csv(request, session, from_, to, office, rows_of=surveys.csv_rows, to_csv=surveys.to_csv,
                      action="feedback.export", name="cita-opiniones")
