"""Fair access in the API: the proof-of-work challenge, holds on a picked time, and the checks every booking
passes (proof of work, rate limits per address and per person) before it reaches the booking service."""

import math
from datetime import datetime, timedelta

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from sqlmodel import Session

from pwa_app.api.common import Lang, client_address, error, get_session, slot_view
from pwa_app.appointments import access, booking, fairness
from pwa_app.appointments.booking import BookingError
from pwa_app.common import idempotency, ratelimit
from pwa_app.common.i18n import gettext, local, pick_lang, time_label
from pwa_app.common.messages import ERRORS, RATE_WAIT
from pwa_app.common.times import utcnow
from pwa_app.settings import get_settings

router = APIRouter(prefix="/api/v1", tags=["fair access"])


class HoldIn(BaseModel):
    procedure: str = Field(max_length=80)
    office: str = Field(max_length=80)
    start: datetime
    lang: str = Field("es", max_length=5)
    altcha: str | None = Field(None, max_length=2000, description="the solved proof-of-work (GET /challenge)")


# Why a booking limit refused, by its scope (common/ratelimit.py); the other scopes say "too many attempts".
WHY = {"booking_burst": "rate_burst", "hold": "rate_burst", "booking": "rate_connection",
       "booking_person": "rate_person"}


def limited(scope: str, who: str, lang: str) -> JSONResponse | None:
    if not who or not (wait := ratelimit.check(scope, who)):
        return None
    return too_many(wait, lang, WHY.get(scope, "rate_limited"))


def too_many(wait: int, lang: str, why: str = "rate_limited") -> JSONResponse:
    """429 with Retry-After; a booking limit's message says why and until when, in the citizen's language."""
    text = gettext(pick_lang(lang), ERRORS[why])
    if why != "rate_limited":
        again = local(utcnow() + timedelta(seconds=wait))
        text += " " + gettext(pick_lang(lang), RATE_WAIT) % {"time": time_label(again, lang),
                                                             "minutes": math.ceil(wait / 60)}
    return JSONResponse({"errors": {"rate": text}, "codes": {"rate": "rate_limited"}, "retry_after": wait},
                        status_code=429, headers={"Retry-After": str(wait)})


def open_appointment(request: Request, session: Session, code: str, verifier: str, lang: str):
    """(appointment, None) for a right code and verifier, else (None, the 404 or 429 answer): every endpoint that
    takes a verifier opens the booking here (see appointments/access.py)."""
    who = client_address(request)
    if refused := limited("appointment", who, lang):
        return None, refused
    try:
        appt = access.open_appointment(session, code, verifier, who)
    except access.TooManyTries as exc:
        return None, too_many(exc.retry_after, lang)
    return appt, (None if appt else error(404, {"code": "not_found"}, lang))


def booking_counters(request: Request, document: str) -> list[tuple[str, str]]:
    """The limits that count bookings made: per address and per person (see `give_back_booking`)."""
    return [(scope, who) for scope, who in (("booking", client_address(request)),
                                            ("booking_person", fairness.person_key(document))) if who]


def guard_booking(request: Request, session: Session, proof: str | None, document: str, lang: str):
    """None when a new booking may go on; else the answer that refuses it. A missing or replayed proof answers
    428 (the page solves a new challenge and sends again); too many tries in a minute, or too many bookings made,
    answer 429 with Retry-After. The bookings-made counters are spent here, before booking, so that concurrent
    tries cannot all pass, and given back when the booking is refused."""
    if refused := proven(session, proof, lang) or limited("booking_burst", client_address(request), lang):
        return refused
    spent = []
    for scope, who in booking_counters(request, document):
        if wait := ratelimit.check(scope, who):
            for counted in spent:
                ratelimit.give_back(*counted)
            return too_many(wait, lang, WHY[scope])
        spent.append((scope, who))
    return None


def refuse_at_once(request: Request, key: str, proof: str | None, lang: str, answer) -> JSONResponse | None:
    """`answer()`, the refusal of a time the kept calendar shows full, once what a booking asks first is passed:
    the key has no stored answer (a resend gets its first answer through the database path), the proof of work is
    valid (else that path answers 428; a refusal spends none), the burst limit (429). None: ask the database."""
    if idempotency.answered(key):
        return None
    if get_settings().altcha and not fairness.valid_proof(proof):
        return None
    return limited("booking_burst", client_address(request), lang) or answer()


def give_back_booking(request: Request, document: str) -> None:
    """A refused booking (the time was just taken, a detail was wrong) is no booking made: a citizen who loses a
    time in a rush keeps their tries. Scripts repeating fast still meet booking_burst."""
    for scope, who in booking_counters(request, document):
        ratelimit.give_back(scope, who)


def proven(session: Session, proof: str | None, lang: str, code: str = "challenge") -> JSONResponse | None:
    """None for a valid, unspent proof of work (spent with the write it allows: a refused write leaves it
    unspent, so one proof buys one booking); else 428: solve a new one. `code` names the message (a booking's, or a
    request's: "challenge_request")."""
    ok = not get_settings().altcha or fairness.spend_challenge(session, proof)  # off: load tests only
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
        return too_many(int(fairness.HOLD_MINUTES * 60), data.lang, "rate_burst")
    try:
        held = booking.hold(session, data.procedure, data.office, data.start, client)
    except BookingError as exc:
        alts = [slot_view(o, s.starts_at, data.lang) for o, s in exc.alternatives]  # before the rollback expires them
        session.rollback()
        return error(409 if "slot" in exc.errors else 422, exc.errors, data.lang, alternatives=alts)
    session.commit()
    return held_answer(held, 201)


def held_answer(held, status: int) -> JSONResponse:
    return JSONResponse({"token": held.token, "expires_at": local(held.expires_at).isoformat(),
                         "seconds": int(fairness.HOLD_MINUTES * 60)}, status_code=status,
                        headers={"Cache-Control": "no-store"})


@router.post("/holds/{token}/renew", summary="More time on a held time (at most twice), before it runs out")
def renew_hold(request: Request, token: str, lang: str = Lang, session: Session = Depends(get_session)):
    """200 with the new expiry; 404 when the hold has run out or had all its renewals. Counted like a new hold."""
    if refused := limited("hold", client_address(request), lang):
        return refused
    held = fairness.renew_hold(session, token[:64], utcnow())
    if held is None:
        return error(404, {"hold": "hold_expired"}, lang)
    session.commit()
    return held_answer(held, 200)


@router.delete("/holds/{token}", status_code=204, summary="Give a held time back at once")
def delete_hold(request: Request, token: str, session: Session = Depends(get_session)):
    if refused := limited("hold_release", client_address(request), "es"):
        return refused
    fairness.release_hold(session, token[:64])
    session.commit()
    return Response(status_code=204)
