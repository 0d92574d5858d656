"""Fair access in the API: the proof-of-work challenge, holds on a picked time, and the checks every booking
passes (proof of work, rate limits per address and per person) before it reaches the booking service."""

import os
from datetime import datetime

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from sqlmodel import Session

from pwa_app.api.common import client_address, error, get_session
from pwa_app.services import access, booking, fairness, ratelimit
from pwa_app.services.booking import BookingError
from pwa_app.models import utcnow
from pwa_app.services.i18n import local

router = APIRouter(prefix="/api/v1", tags=["fair access"])
ALTCHA_REQUIRED = os.environ.get("CITA_ALTCHA", "on") != "off"  # off only for load tests of the booking path


class HoldIn(BaseModel):
    procedure: str = Field(max_length=80)
    office: str = Field(max_length=80)
    start: datetime
    lang: str = Field("es", max_length=5)
    altcha: str | None = Field(None, max_length=2000, description="the solved proof-of-work (GET /challenge)")


def limited(scope: str, who: str, lang: str) -> JSONResponse | None:
    if not who or not (wait := ratelimit.check(scope, who)):
        return None
    return too_many(wait, lang)


def too_many(wait: int, lang: str) -> JSONResponse:
    answer = error(429, {"rate": "rate_limited"}, lang, retry_after=wait)
    answer.headers["Retry-After"] = str(wait)
    return answer


def open_appointment(request: Request, session: Session, code: str, verifier: str, lang: str):
    """(appointment, None) for a right code and verifier, else (None, the 404 or 429 answer): every endpoint that
    takes a verifier opens the booking here (see services/access.py)."""
    who = client_address(request)
    if refused := limited("appointment", who, lang):
        return None, refused
    try:
        appt = access.open_appointment(session, code, verifier, who)
    except access.TooManyTries as exc:
        return None, too_many(exc.retry_after, lang)
    return appt, (None if appt else error(404, {"code": "not_found"}, lang))


def guard_booking(request: Request, session: Session, proof: str | None, document: str, lang: str):
    """None when a new booking may go on; else the answer that refuses it. A missing or replayed proof answers
    428 (the page solves a new challenge and sends again); too many bookings answer 429 with Retry-After."""
    return proven(session, proof, lang) or limited("booking", client_address(request), lang) \
        or limited("booking_person", fairness.person_key(document), lang)


def proven(session: Session, proof: str | None, lang: str, code: str = "challenge") -> JSONResponse | None:
    """None for a valid, unspent proof of work (now spent, whatever follows); else 428: solve a new one. `code`
    names the message (a booking's, or a request's: "challenge_request")."""
    ok = not ALTCHA_REQUIRED or fairness.spend_challenge(session, proof)
    session.commit()
    return None if ok else error(428, {"altcha": code}, lang)


@router.get("/challenge", summary="A proof-of-work challenge to solve before booking (ALTCHA, self-hosted)")
def get_challenge():
    return JSONResponse(fairness.challenge(), headers={"Cache-Control": "no-store"})


@router.post("/holds", status_code=201, summary="Keep a picked time for a few minutes while the citizen types")
def post_hold(request: Request, data: HoldIn, session: Session = Depends(get_session)):
    """Needs a proof of work like a booking; one address holds at most CITA_MAX_HOLDS (3) times at once."""
    client = fairness.client_key(client_address(request))
    if refused := limited("hold", client_address(request), data.lang) or proven(session, data.altcha, data.lang):
        return refused
    if fairness.live_holds(session, client, utcnow()) >= fairness.MAX_LIVE_HOLDS:
        return too_many(int(fairness.HOLD_MINUTES * 60), data.lang)
    try:
        held = booking.hold(session, data.procedure, data.office, data.start, client)
    except BookingError as exc:
        session.rollback()
        from pwa_app.api.v1 import slot_view  # the same shape as a booking's alternatives

        alts = [slot_view(o, s.starts_at, data.lang) for o, s in exc.alternatives]
        return error(409 if "slot" in exc.errors else 422, exc.errors, data.lang, alternatives=alts)
    session.commit()
    expires = local(held.expires_at)
    return JSONResponse({"token": held.token, "expires_at": expires.isoformat(),
                         "seconds": int(fairness.HOLD_MINUTES * 60)}, status_code=201,
                        headers={"Cache-Control": "no-store"})


@router.delete("/holds/{token}", status_code=204, summary="Give a held time back at once")
def delete_hold(request: Request, token: str, session: Session = Depends(get_session)):
    if refused := limited("hold_release", client_address(request), "es"):
        return refused
    fairness.release_hold(session, token[:64])
    session.commit()
    return Response(status_code=204)
