"""Personal data retention: the daily purge (appointments, requests, idempotency records), its lock across
workers, the scheduled task and the command; and the citizen's own deletion through the API."""

import asyncio
import itertools
import threading
from datetime import date, timedelta

import pytest
from sqlmodel import Session, func, select

from pwa_app import db, retention
from pwa_app.models import (
    Appointment, Attachment, AuditEvent, ContentTranslation, IdempotencyRecord, LoginAttempt, Office, Procedure,
    RequestType, ServiceRequest, StatusChange, Suggestion,
)
from pwa_app.retention import forget_appointment, purge, run_if_due
from tests.unit.conftest import override_settings

_codes = itertools.count(1)


def appointment(session, starts_at, status="booked", **personal) -> Appointment:
    proc = session.exec(select(Procedure).where(Procedure.slug == "alta-padron")).one()
    office = session.exec(select(Office).where(Office.slug == "junta-distrito-norte")).one()
    data = {"name": "Ana García", "document": "12345678Z", "phone": "612345678", "email": "ana@example.com",
            "person_key": "pk", "client_key": "ck", **personal}
    appt = Appointment(code=f"RETENT{next(_codes):04d}", procedure_id=proc.id, office_id=office.id,
                       starts_at=starts_at, seat=None if status == "cancelled" else 1, status=status, **data)
    session.add(appt)
    session.commit()
    return appt


def service_request(session, closed_at) -> ServiceRequest:
    rtype = session.exec(select(RequestType)).first()
    n = next(_codes)
    req = ServiceRequest(code=f"REQRETENTION{n:04d}", public_id=f"PUB{n:07d}", type_id=rtype.id,
                         department_id=rtype.department_id, description="Farola rota", due_date=date(2025, 1, 1),
                         status="closed" if closed_at else "received", closed_at=closed_at,
                         name="Luis", email="luis@example.com", phone="600000000", document="")
    session.add(req)
    session.commit()
    return req


def is_blank(appt: Appointment) -> bool:
    return (appt.name, appt.document, appt.phone, appt.email, appt.person_key, appt.client_key) == ("",) * 6


# --- the purge ------------------------------------------------------------------------------------------------


def test_purge_blanks_appointments_past_retention_only(session, clock):
    old = appointment(session, clock.now - timedelta(days=400), status="done")
    recent = appointment(session, clock.now - timedelta(days=100), status="done")
    future = appointment(session, clock.now + timedelta(days=3))
    result = purge(session, clock.now, days=365)
    session.commit()
    assert result.appointments == 1
    for a in (old, recent, future):
        session.refresh(a)
    assert is_blank(old) and old.status == "done" and old.procedure_id and old.starts_at
    assert recent.name == "Ana García" and future.document == "12345678Z"
    assert purge(session, clock.now, days=365).appointments == 0  # nothing left to do the second time


def test_a_purged_appointment_no_longer_opens_with_its_code(session, clock):
    from pwa_app.appointments import booking

    old = appointment(session, clock.now - timedelta(days=400), status="done")
    assert booking.find(session, old.code, "678Z") is not None
    purge(session, clock.now, days=365)
    session.commit()
    assert booking.find(session, old.code, "678Z") is None
    assert booking.find(session, old.code, "") is None


def test_purge_forgets_requests_closed_before_the_cutoff(session, clock):
    old = service_request(session, closed_at=clock.now - timedelta(days=366))
    recent = service_request(session, closed_at=clock.now - timedelta(days=10))
    still_open = service_request(session, closed_at=None)
    assert purge(session, clock.now, days=365).requests == 1
    session.commit()
    for r in (old, recent, still_open):
        session.refresh(r)
    assert (old.name, old.email, old.phone) == ("", "", "") and old.description == "Farola rota"
    assert recent.email == "luis@example.com" and still_open.name == "Luis"


def test_purge_deletes_old_idempotency_records(session, clock):
    session.add(IdempotencyRecord(key="old-key-0001", operation="book", request_hash="x", status_code=201,
                                  body='{"name": "Ana"}', created_at=clock.now - timedelta(days=31)))
    session.add(IdempotencyRecord(key="new-key-0001", operation="book", request_hash="x", status_code=201,
                                  body='{"name": "Ana"}', created_at=clock.now - timedelta(days=1)))
    session.commit()
    assert purge(session, clock.now, days=365, idempotency=30).idempotency_records == 1
    session.commit()
    assert [r.key for r in session.exec(select(IdempotencyRecord))] == ["new-key-0001"]


def reply_with_photo(session, req, at) -> None:
    citizen = StatusChange(request_id=req.id, status="closed", at=at, actor="citizen", comment="Soy Luis, 3ºB.")
    answer = StatusChange(request_id=req.id, status="closed", at=at, comment="Arreglada frente al portal de Luis.")
    session.add_all([citizen, answer])
    session.flush()
    session.add(ContentTranslation(table_name="statuschange", row_id=answer.id, field="comment", lang="en",
                                   text="Fixed in front of Luis's door."))
    session.add(Attachment(request_id=req.id, position=1, status_change_id=citizen.id, filename="a.jpg",
                           content_type="image/jpeg", size=3, sha256="x", data=b"abc", created_at=at))
    session.commit()


def test_purge_deletes_files_and_blanks_timeline_comments_of_requests_closed_long_ago(session, clock):
    old = service_request(session, closed_at=clock.now - timedelta(days=100))
    recent = service_request(session, closed_at=clock.now - timedelta(days=10))
    for req in (old, recent):
        reply_with_photo(session, req, req.closed_at)
    result = purge(session, clock.now, days=365, attachments=60, replies=90)
    session.commit()
    assert (result.requests, result.attachments, result.replies) == (0, 1, 2)
    assert session.exec(select(Attachment.request_id)).all() == [recent.id]
    comments = {(c.request_id, c.comment) for c in session.exec(select(StatusChange))}
    assert comments == {(old.id, ""), (recent.id, "Soy Luis, 3ºB."), (recent.id, "Arreglada frente al portal de Luis.")}
    assert [t.text for t in session.exec(select(ContentTranslation).where(
        ContentTranslation.table_name == "statuschange"))] == ["Fixed in front of Luis's door."]  # recent's
    assert len(session.exec(select(StatusChange).where(StatusChange.request_id == old.id)).all()) == 2


def test_purge_unsigns_suggestions_and_drops_old_audit_events_and_sign_in_attempts(session, clock):
    session.add_all([Suggestion(text="Más bancos.", name="Rosa", created_at=clock.now - timedelta(days=400)),
                     Suggestion(text="Más luz.", name="Pablo", created_at=clock.now - timedelta(days=20)),
                     AuditEvent(at=clock.now - timedelta(days=731), actor="ana@ayto.es", action="closure.create"),
                     AuditEvent(at=clock.now - timedelta(days=700), actor="ana@ayto.es", action="closure.create"),
                     LoginAttempt(at=clock.now - timedelta(days=3), email="ana@ayto.es"),
                     LoginAttempt(at=clock.now - timedelta(hours=2), email="ana@ayto.es")])
    session.commit()
    result = purge(session, clock.now, days=365, audit=730, login_attempts=1)
    session.commit()
    assert (result.suggestions, result.audit_events, result.login_attempts) == (1, 1, 1)
    assert sorted(s.name for s in session.exec(select(Suggestion))) == ["", "Pablo"]
    assert len(session.exec(select(AuditEvent)).all()) == 1 and len(session.exec(select(LoginAttempt)).all()) == 1


def test_periods_from_the_environment(session, clock, monkeypatch):
    override_settings(monkeypatch, CITA_RETENTION_DAYS=None, CITA_ATTACHMENT_DAYS=None, CITA_AUDIT_DAYS=None,
                      CITA_LOGIN_ATTEMPT_DAYS=None)
    assert {n: retention.period(n) for n in retention.PERIODS} == {
        "personal": 365, "attachments": 365, "replies": 365, "suggestions": 365, "audit": 730, "idempotency": 30,
        "login_attempts": 1}
    override_settings(monkeypatch, CITA_RETENTION_DAYS="200")  # what follows the personal data follows it
    override_settings(monkeypatch, CITA_ATTACHMENT_DAYS="30")
    assert (retention.period("replies"), retention.period("attachments")) == (200, 30)
    with pytest.raises(ValueError):  # a period of no days is refused when the settings are read
        override_settings(monkeypatch, CITA_AUDIT_DAYS="0")
    override_settings(monkeypatch, CITA_AUDIT_DAYS="100")
    req = service_request(session, closed_at=clock.now - timedelta(days=40))
    reply_with_photo(session, req, req.closed_at)
    session.add(AuditEvent(at=clock.now - timedelta(days=101), action="closure.create"))
    session.commit()
    result = purge(session, clock.now)
    assert (result.attachments, result.replies, result.audit_events) == (1, 0, 1)


def test_retention_days_from_the_environment(monkeypatch):
    override_settings(monkeypatch, CITA_RETENTION_DAYS=None)
    assert retention.retention_days() == 365
    override_settings(monkeypatch, CITA_RETENTION_DAYS="30")
    assert retention.retention_days() == 30
    with pytest.raises(ValueError):
        override_settings(monkeypatch, CITA_RETENTION_DAYS="0")


def test_environment_retention_is_used_by_the_purge(session, clock, monkeypatch):
    override_settings(monkeypatch, CITA_RETENTION_DAYS="30")
    a = appointment(session, clock.now - timedelta(days=40), status="no_show")
    assert purge(session, clock.now).appointments == 1
    session.commit()
    session.refresh(a)
    assert is_blank(a)


# --- once a day, one worker -----------------------------------------------------------------------------------


def audit_count(engine) -> int:
    with Session(engine) as s:
        return s.exec(select(func.count()).select_from(AuditEvent).where(AuditEvent.action == retention.ACTION)).one()


def test_run_if_due_runs_once_a_day_and_records_it(engine, clock):
    with Session(engine) as s:
        appointment(s, clock.now - timedelta(days=400), status="done")
    with Session(engine) as s:
        first = run_if_due(s, clock.now)
    assert first.skipped == "" and first.appointments == 1
    with Session(engine) as s:
        assert run_if_due(s, clock.moved(hours=3).now).skipped == "recent"
    with Session(engine) as s:
        again = run_if_due(s, clock.moved(hours=25).now)
    assert again.skipped == "" and again.appointments == 0
    assert audit_count(engine) == 2
    with Session(engine) as s:
        detail = s.exec(select(AuditEvent.detail).where(AuditEvent.action == retention.ACTION)).first()
    assert '"appointments": 1' in detail and "Ana" not in detail
    assert '"audit_events": 0' in detail and '"login_attempts": 0' in detail and '"audit": 730' in detail


def test_workers_racing_on_sqlite_purge_once(engine, clock):
    """Several workers wake up together: the IMMEDIATE transaction lets one purge, the others see it done."""
    with Session(engine) as s:
        appointment(s, clock.now - timedelta(days=400), status="done")
    results, barrier = [], threading.Barrier(4)

    def worker():
        barrier.wait()
        with Session(engine) as s:
            results.append(run_if_due(s, clock.now))

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sorted(r.skipped for r in results) == ["", "recent", "recent", "recent"]
    assert sum(r.appointments for r in results) == 1
    assert audit_count(engine) == 1


def test_a_worker_purging_on_postgresql_makes_the_others_skip(pg_engine, clock):
    """The advisory lock is taken without waiting: while one worker holds it, another does nothing."""
    with Session(pg_engine) as holder, Session(pg_engine) as other:
        assert retention._take_lock(holder)  # worker 1, in the middle of its purge
        assert run_if_due(other, clock.now).skipped == "locked"
        holder.rollback()
    with Session(pg_engine) as s:
        ran = run_if_due(s, clock.now, force=True)
    assert ran.skipped == ""
    with Session(pg_engine) as s:
        assert run_if_due(s, clock.moved(hours=1).now).skipped == "recent"
        for event in s.exec(select(AuditEvent).where(AuditEvent.action == retention.ACTION)):
            s.delete(event)
        s.commit()


def test_the_scheduled_task_purges_and_keeps_running(engine, clock, monkeypatch):
    override_settings(monkeypatch, DATABASE_URL=engine.url.render_as_string(hide_password=False))
    db.engine.cache_clear()
    with Session(engine) as s:
        appointment(s, clock.now - timedelta(days=2000), status="done")

    async def scenario():
        task = asyncio.create_task(retention.scheduled_purge(check_every=0.05, first_delay=(0, 0)))
        for _ in range(100):
            await asyncio.sleep(0.05)
            if audit_count(engine):
                break
        await asyncio.sleep(0.2)  # further checks find it done
        assert not task.done()
        task.cancel()

    try:
        asyncio.run(scenario())
    finally:
        db.engine().dispose()
        db.engine.cache_clear()
    assert audit_count(engine) == 1
    with Session(engine) as s:
        assert all(is_blank(a) for a in s.exec(select(Appointment)) if a.code.startswith("RETENT"))


def test_the_scheduled_task_can_be_turned_off(monkeypatch):
    override_settings(monkeypatch, CITA_RETENTION_SCHEDULE="0")
    asyncio.run(asyncio.wait_for(retention.scheduled_purge(first_delay=(60, 60)), 2))  # returns at once


def test_the_command(engine, clock, monkeypatch, capsys):
    override_settings(monkeypatch, DATABASE_URL=engine.url.render_as_string(hide_password=False))
    override_settings(monkeypatch, CITA_RETENTION_DAYS=None)
    db.engine.cache_clear()
    with Session(engine) as s:
        appointment(s, clock.now - timedelta(days=2000), status="done")
    try:
        assert retention.main(["--dry-run"]) == 0
        assert "would blank 1 appointments" in capsys.readouterr().out
        with Session(engine) as s:
            assert not any(is_blank(a) for a in s.exec(select(Appointment)))
        assert retention.main([]) == 0
        assert "blanked 1 appointments" in capsys.readouterr().out
        assert audit_count(engine) == 1
    finally:
        db.engine().dispose()
        db.engine.cache_clear()


# --- the citizen's own deletion -------------------------------------------------------------------------------


def test_forget_appointment_cancels_a_future_booking_first(session, clock):
    future = appointment(session, clock.now + timedelta(days=3))
    forget_appointment(session, future, clock.now)
    session.commit()
    session.refresh(future)
    assert future.status == "cancelled" and future.seat is None and future.cancelled_at and is_blank(future)


def test_forget_appointment_keeps_a_past_status(session, clock):
    past = appointment(session, clock.now - timedelta(days=3), status="done")
    forget_appointment(session, past, clock.now)
    session.commit()
    session.refresh(past)
    assert past.status == "done" and past.seat == 1 and is_blank(past)


def free_start(api) -> str:
    days = api.get("/api/v1/availability", params={"procedure": "alta-padron", "office": "junta-distrito-norte"})
    return next(s["start"] for d in days.json()["days"][1:] for s in d["slots"] if s["free"])


def test_api_deletes_personal_data_and_cancels(api, engine):
    start = free_start(api)
    body = {"procedure": "alta-padron", "office": "junta-distrito-norte", "start": start, "name": "Ana García López",
            "document": "12345678Z", "phone": "612345678", "email": "ana@example.com", "consent": True}
    booked = api.post("/api/v1/appointments", json=body, headers={"Idempotency-Key": "forget-test-book-1"})
    assert booked.status_code == 201, booked.text
    code = booked.json()["code"]
    url = f"/api/v1/appointments/{code}/personal-data"

    assert api.delete(url, params={"verifier": "0000"}).status_code == 404
    r = api.delete(url, params={"verifier": "678Z"}, headers={"Idempotency-Key": "forget-test-del-1"})
    assert r.status_code == 200, r.text
    assert r.json()["code"] == code and r.json()["status"] == "cancelled" and r.json()["cancelled"] is True
    assert r.json()["personal_data"] == "deleted"
    assert r.headers["cache-control"] == "no-store"
    with Session(engine) as s:
        appt = s.exec(select(Appointment).where(Appointment.code == code.replace("-", ""))).one()
        assert appt.status == "cancelled" and appt.seat is None and is_blank(appt)
        records = [rec.body for rec in s.exec(select(IdempotencyRecord).where(IdempotencyRecord.operation == "forget"))]
    assert records and all("Ana" not in b for b in records)
    # The seat is free again, and the code opens nothing any more.
    assert api.get(f"/api/v1/appointments/{code}", params={"verifier": "678Z"}).status_code == 404
    # The outbox resending with the same key gets the same answer; without a key there is nothing to find.
    again = api.delete(url, params={"verifier": "678Z"}, headers={"Idempotency-Key": "forget-test-del-1"})
    assert again.status_code == 200 and again.json() == r.json()
    assert api.delete(url, params={"verifier": "678Z"}).status_code == 404
    other = api.delete("/api/v1/appointments/ZZZZZ-ZZZZZ/personal-data", params={"verifier": "678Z"},
                       headers={"Idempotency-Key": "forget-test-del-1"})
    assert other.status_code == 404


def test_api_deletes_the_data_of_a_past_appointment_without_cancelling(api, engine, clock):
    from pwa_app.common.times import utcnow

    with Session(engine, expire_on_commit=False) as s:
        past = appointment(s, utcnow() - timedelta(days=30), status="done")
    r = api.delete(f"/api/v1/appointments/{past.code}/personal-data", params={"verifier": "678Z", "lang": "en"})
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "done" and r.json()["cancelled"] is False and r.json()["status_label"] == "Attended"
    with Session(engine) as s:
        assert is_blank(s.get(Appointment, past.id))


def test_api_refuses_a_bad_idempotency_key(api):
    r = api.delete("/api/v1/appointments/ABCDE-FGHJK/personal-data", params={"verifier": "678Z"},
                   headers={"Idempotency-Key": "bad key!"})
    assert r.status_code == 400 and r.json()["codes"] == {"idempotency_key": "bad_request"}
