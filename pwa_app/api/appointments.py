"""Version 1 of the citizen API: catalogue, availability, appointments (book, look up, cancel, reschedule, .ics).
Every write takes an Idempotency-Key; errors answer a JSON body with translated messages per field."""

import gzip
from datetime import date, datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Header, Query, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from sqlmodel import Session, select
from starlette.concurrency import run_in_threadpool

from pwa_app import db
from pwa_app.api import fair
from pwa_app.api.common import Lang, Refused, client_address, error, get_session, idempotent_write, slot_view
from pwa_app.appointments import availability, availability_body, booking, calendar_file, calendars, fairness, visits
from pwa_app.appointments.booking import BookingError
from pwa_app.appointments.slots import TZ
from pwa_app.catalogue import published
from pwa_app.common import codes, idempotency
from pwa_app.common.i18n import gettext, local, long_day_label, pick_lang, time_label
from pwa_app.common.idempotency import valid_key
from pwa_app.common.messages import CONFIRM_NOTE, STATUSES
from pwa_app.common.times import utcnow
from pwa_app.models import Appointment, Office, Procedure

router = APIRouter(prefix="/api/v1")
NO_STORE = {"Cache-Control": "no-store"}  # an appointment holds a name and contacts: never kept in an HTTP cache


class PersonIn(BaseModel):
    name: str = Field("", max_length=500)
    document: str = Field("", max_length=100)


class BookingIn(BaseModel):
    procedure: str = Field(max_length=80)
    office: str = Field(max_length=80)
    start: datetime
    name: str = Field("", max_length=500)
    document: str = Field("", max_length=100)
    phone: str = Field("", max_length=100)
    email: str = Field("", max_length=500)
    consent: bool = False
    lang: str = Field("es", max_length=5)
    people: list[PersonIn] = Field([], max_length=8, description="the others coming in the same visit (a family): "
                                   "one seat each, up to CITA_PARTY_MAX people with the booking's own")
    also: list[Annotated[str, Field(max_length=80)]] = Field(
        [], max_length=4, description="further procedures done right after at the same office, each at the end of "
                                      "the one before")
    on_behalf: bool = Field(False, description="booked for the person by a representative, with their consent")
    rep_name: str = Field("", max_length=500)
    rep_email: str = Field("", max_length=500)
    rep_phone: str = Field("", max_length=100)
    rep_consent: bool = False
    hold: str | None = Field(None, max_length=64, description="the token of the citizen's hold on this time")
    altcha: str | None = Field(None, max_length=2000, description="the solved proof-of-work (GET /challenge)")


class ConfirmIn(BaseModel):
    token: str = Field(max_length=64, description="the token of the confirmation link e-mailed to the citizen")
    lang: str = Field("es", max_length=5)


class RescheduleIn(BaseModel):
    verifier: str = Field(max_length=20)
    office: str = Field(max_length=80)
    start: datetime
    lang: str = Field("es", max_length=5)


def appointment_view(session: Session, appt: Appointment, lang: str, slugs: tuple[str, str] | None = None) -> dict:
    """What the citizen sees of an appointment; `slugs` (procedure, office) when the caller has them already."""
    lang = pick_lang(lang)
    cat = published.cached(session, lang)
    proc_slug, office_slug = slugs or session.exec(select(  # one query for both
        select(Procedure.slug).where(Procedure.id == appt.procedure_id).scalar_subquery(),
        select(Office.slug).where(Office.id == appt.office_id).scalar_subquery())).one()
    proc = next(p for p in cat["procedures"] if p["slug"] == proc_slug)
    office = next(o for o in cat["offices"] if o["slug"] == office_slug)
    moment = local(appt.starts_at)
    visit = visit_view(session, cat, appt, visits.rows_of(session, appt), proc, lang)
    verifier = booking.verifier_of(appt)
    waiting = appt.status == "pending" and not booking.lapsed(appt)
    return {
        "code": codes.format_code(appt.code),
        "verifier": verifier,
        "status": appt.status,
        "status_label": gettext(lang, STATUSES[appt.status]),
        "changeable": booking.is_changeable(appt),
        "procedure": {k: proc[k] for k in ("slug", "name", "duration_minutes", "fee")},
        "requirements": [r["text"] for r in proc["requirements"]],
        "office": office,
        "start": moment.isoformat(),
        "day": long_day_label(moment.date(), lang),
        "time": time_label(moment, lang),
        "name": appt.name,
        "confirm_note": gettext(lang, CONFIRM_NOTE) % {
            "email": appt.email, "minutes": f"{booking.CONFIRM_MINUTES:g}",
            "time": time_label(local(appt.confirm_by), lang)} if waiting else "",
        "ics_url": f"/api/v1/appointments/{appt.code}/calendar.ics?verifier={verifier}&lang={lang}",
        **visit,
    }


def visit_view(session: Session, cat: dict, appt: Appointment, others: list[Appointment], proc: dict,
               lang: str) -> dict:
    """The people and the procedures of a visit (appointments/visits.py), its end, and who booked it for the
    person: `people` and `also` are empty for a booking of one person and one procedure (no query then)."""
    seen = {"people": [], "also": [], "minutes": proc["duration_minutes"], "end": "",
            "representative": appt.representative_name}
    if not others:
        return seen
    slugs = dict(session.exec(select(Procedure.id, Procedure.slug).where(
        Procedure.id.in_({r.procedure_id for r in others}))).all())
    by_id = {i: next(p for p in cat["procedures"] if p["slug"] == slug) for i, slug in slugs.items()}
    by_id[appt.procedure_id] = proc
    names, ids, minutes = visits.summary(appt, others, {i: p["duration_minutes"] for i, p in by_id.items()})
    starts = {r.procedure_id: r.starts_at for r in others}
    also = [{"slug": by_id[i]["slug"], "name": by_id[i]["name"], "time": time_label(local(starts[i]), lang),
             "requirements": [r["text"] for r in by_id[i]["requirements"]]} for i in ids[1:]]
    end = time_label(local(appt.starts_at) + timedelta(minutes=minutes), lang)
    return seen | {"people": names if len(names) > 1 else [], "also": also, "minutes": minutes,
                   "end": end if also else ""}


@router.get("/procedures", summary="The procedure catalogue with checklists, areas and offices")
def get_procedures(request: Request, lang: str = Lang, session: Session = Depends(get_session)):
    return shared_response(request, published.answer(session, pick_lang(lang)))


@router.get("/availability", summary="Bookable days and times of a procedure at an office")
async def get_availability(
    request: Request,
    procedure: str = Query(max_length=80),
    office: str = Query(max_length=80),
    from_: date | None = Query(None, alias="from"),
    to: date | None = None,
    lang: str = Lang,
):
    """The same answer for every citizen until something changes it (appointments/availability.py): gzipped bytes
    with an ETag, 304 to a phone that has them already. In the rush the kept answer is checked against the
    versions in Redis without a database round trip or a thread."""
    lang, now = pick_lang(lang), utcnow()
    if not (from_ or to) and (shared := await availability.kept_answer(procedure, office, lang, now)):
        return shared_response(request, shared)
    return await run_in_threadpool(availability_from_database, request, procedure, office, from_, to, lang, now)


def availability_from_database(request: Request, procedure: str, office: str, from_: date | None, to: date | None,
                               lang: str, now: datetime):
    with db.session() as session:
        if session.get_bind().dialect.name == "postgresql":  # mostly one read: no BEGIN and ROLLBACK round trips
            session.connection(execution_options={"isolation_level": "AUTOCOMMIT"})
        if from_ or to:
            pair = availability.pair_of(session, procedure, office)
            if pair is None:
                return unknown_pair(session, procedure, office, lang)
            window = availability.calendar(session, pair, now).window
            first = from_ or now.astimezone(TZ).date()
            last = min(to or window.last, first + timedelta(days=availability.MAX_DAYS))
            return availability_body.body(procedure, office, window,
                                     availability.slots_between(session, pair, first, last, now), first, last, lang)
        shared = availability.answer_for(session, procedure, office, lang, now)
        return shared_response(request, shared) if shared else unknown_pair(session, procedure, office, lang)


def unknown_pair(session: Session, procedure: str, office: str, lang: str) -> JSONResponse:
    try:
        booking.resolve(session, procedure, office)
    except BookingError as exc:
        return error(404, exc.errors, lang)
    return error(404, {"office": "unknown_office"}, lang)


def shared_response(request: Request, shared: calendars.Answer | published.Answer) -> Response:
    """Bytes gzipped once for everyone: as they are to a phone that takes gzip, 304 to one that has them."""
    headers = {"ETag": shared.etag, "Cache-Control": "no-cache", "Vary": "Accept-Encoding"}
    if request.headers.get("if-none-match") == shared.etag:
        return Response(status_code=304, headers=headers)
    if "gzip" in request.headers.get("accept-encoding", ""):
        return Response(shared.gz, media_type="application/json", headers={**headers, "Content-Encoding": "gzip"})
    return Response(gzip.decompress(shared.gz), media_type="application/json", headers=headers)


def write(session: Session, key: str | None, operation: str, payload: dict, lang: str, action) -> JSONResponse:
    """A booking write, once per Idempotency-Key; a taken time answers 409 with the nearest free ones."""

    return idempotent_write(session, key, operation, payload, lang, action,
                            {BookingError: lambda exc: refusal_answer(exc, lang)}, headers=NO_STORE)


def refusal_answer(exc: BookingError, lang: str) -> JSONResponse:
    """409 for a time taken (with the nearest free ones), 422 for what the citizen must correct."""
    alts = [slot_view(o, s.starts_at, pick_lang(lang)) | ({"procedure": exc.procedure} if exc.procedure else {})
            for o, s in exc.alternatives]
    answer = error(409 if "slot" in exc.errors else 422, exc.errors, lang, alternatives=alts)
    answer.headers.update(NO_STORE)
    return answer


@router.post("/appointments", status_code=201, summary="Book an appointment (send an Idempotency-Key)")
async def post_appointment(request: Request, data: BookingIn,
                           idempotency_key: str | None = Header(None, max_length=64)):
    """In the rush most requests ask for a time already full: when the calendar kept in memory tells so, and the
    key is new, the answer is made without the database's write path (one read: the key's stored answer)."""
    if (valid_key(idempotency_key) and await idempotency.first_sight(idempotency_key) and not data.hold
            and not (data.people or data.also)  # a visit's refusal names times with room for all of it
            and (taken := await booking.refusal_at_once(data.procedure, data.office, data.start, data.model_dump(),
                                                        utcnow()))):
        if answer := await run_in_threadpool(fair.refuse_at_once, request, idempotency_key, data.altcha, data.lang,
                                             lambda: refusal_answer(taken, data.lang)):
            return answer
    return await run_in_threadpool(book_through_database, request, data, idempotency_key)


def book_through_database(request: Request, data: BookingIn, idempotency_key: str | None) -> JSONResponse:
    # The proof of work and the hold change from one attempt to the next: the request is the rest.
    payload = data.model_dump(mode="json", exclude={"altcha", "hold"})
    client = fairness.client_key(client_address(request))

    counted = []  # the limits passed (not a replay of the key, which needs no new proof and gets its first answer)

    with db.session() as session:
        def action():
            if refused := fair.guard_booking(request, session, data.altcha, data.document, data.lang):
                raise Refused(refused)
            counted.append(True)
            appt = booking.book(session, data.procedure, data.office, data.start, data.model_dump(),
                                hold_token=data.hold, client=client)
            return 201, appointment_view(session, appt, data.lang, slugs=(data.procedure, data.office))

        answer = write(session, idempotency_key, "book", payload, data.lang, action)
    if counted and answer.status_code >= 400:
        fair.give_back_booking(request, data.document)
    return answer


@router.post("/appointments/confirm", summary="Confirm a pending booking with the token of the e-mailed link")
def confirm_appointment(
    request: Request,
    data: ConfirmIn,
    idempotency_key: str | None = Header(None, max_length=64),
    session: Session = Depends(get_session),
):
    """200 with the appointment, now booked (again 200 if it already was); 409 when it was not confirmed in time,
    with the nearest free `alternatives` (each naming its `procedure`) to book again; 422 for an unknown token."""
    if refused := fair.limited("appointment", client_address(request), data.lang):
        return refused
    action = lambda: (200, appointment_view(session, booking.confirm(session, data.token), data.lang))  # noqa: E731
    return write(session, idempotency_key, "confirm", data.model_dump(mode="json"), data.lang, action)


@router.get("/appointments/{code}", summary="An appointment, by its code and verifier")
def get_appointment(request: Request, code: str, verifier: str = Query(max_length=20), lang: str = Lang,
                    session: Session = Depends(get_session)):
    appt, missing = fair.open_appointment(request, session, code, verifier, lang)
    return missing or JSONResponse(appointment_view(session, appt, lang), headers=NO_STORE)


@router.delete("/appointments/{code}", summary="Cancel an appointment; its time is free again at once")
def delete_appointment(
    request: Request,
    code: str,
    verifier: str = Query(max_length=20),
    lang: str = Lang,
    idempotency_key: str | None = Header(None, max_length=64),
    session: Session = Depends(get_session),
):
    appt, missing = fair.open_appointment(request, session, code, verifier, lang)
    if missing:
        return missing
    action = lambda: (200, appointment_view(session, booking.cancel(session, appt), lang))  # noqa: E731
    return write(session, idempotency_key, "cancel", {"code": code}, lang, action)


@router.post("/appointments/{code}/reschedule", summary="Move an appointment to another time, keeping its code")
def reschedule_appointment(
    request: Request,
    code: str,
    data: RescheduleIn,
    idempotency_key: str | None = Header(None, max_length=64),
    session: Session = Depends(get_session),
):
    appt, missing = fair.open_appointment(request, session, code, data.verifier, data.lang)
    if missing:
        return missing

    def action():
        moved = booking.reschedule(session, appt, data.office, data.start)
        return 200, appointment_view(session, moved, data.lang)

    return write(session, idempotency_key, "reschedule", {"code": code, **data.model_dump(mode="json")},
                 data.lang, action)


@router.get("/appointments/{code}/calendar.ics", summary="The appointment as a calendar file")
def appointment_calendar(request: Request, code: str, verifier: str = Query(max_length=20), lang: str = Lang,
                         session: Session = Depends(get_session)):
    appt, missing = fair.open_appointment(request, session, code, verifier, lang)
    if missing:
        return missing
    view = appointment_view(session, appt, lang)
    procedure = {**view["procedure"], "duration_minutes": view["minutes"],  # a visit: all its procedures, its length
                 "name": " + ".join([view["procedure"]["name"], *(a["name"] for a in view["also"])])}
    bring = [*view["requirements"], *(r for a in view["also"] for r in a["requirements"])]
    body = calendar_file.for_appointment(appt, procedure, view["office"], bring, pick_lang(lang), view["people"])
    return Response(body, media_type="text/calendar; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="cita-{appt.code}.ics"', **NO_STORE})
