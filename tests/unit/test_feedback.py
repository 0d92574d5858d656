"""Citizen feedback (issue 9): one survey per attended appointment (also through the API, exactly once per
Idempotency-Key), anonymous answers, the suggestion box (a tracked queja-sugerencia when an answer is asked),
validation of ratings and texts, and the staff figures on a seeded set."""

import uuid
from datetime import date

import pytest
from sqlmodel import select

from pwa_app.appointments import booking
from pwa_app.feedback import surveys
from pwa_app.feedback.surveys import FeedbackError
from pwa_app.models import Appointment, RequestType, SurveyAnswer
from pwa_app.service_requests import rules
from pwa_app.staff import auth
from tests.unit.test_staff_auth import PASSWORD, client, people, staff_env  # noqa: F401  (fixtures)
from tests.unit.test_staff_services import NORTE, OAC, WED, book_at, free_slots, office, procedure, viewers


def attended(session, clock, n: int = 0, slug: str = OAC, status: str = "done") -> Appointment:
    appt = book_at(session, clock, free_slots(session, clock, WED, slug)[n].starts_at, slug=slug)
    appt.status = status
    session.add(appt)
    session.commit()
    return appt


def survey(appt, **changes) -> dict:
    return {"appointment": appt.code, "verifier": booking.verifier_of(appt), "rating": 4, "checklist_ok": "no",
            "missing": "Fotocopia del contrato de alquiler", "waiting": "ok", "comment": "Muy amables.", "lang": "es",
            **changes}


def test_one_survey_per_appointment_and_anonymous(session, clock):
    appt = attended(session, clock)
    answer = surveys.answer_survey(session, survey(appt))
    session.commit()
    assert (answer.rating, answer.checklist_ok, answer.waiting) == (4, False, "ok")
    assert (answer.procedure_id, answer.office_id, answer.day) == (appt.procedure_id, appt.office_id, WED)
    # Nothing in the stored answer points at the person or the appointment.
    stored = " ".join(str(v) for v in answer.model_dump().values())
    assert appt.code not in stored and "Ana" not in stored and "12345678Z" not in stored
    with pytest.raises(FeedbackError) as refused:
        surveys.answer_survey(session, survey(appt, rating=1))
    assert refused.value.errors == {"appointment": "survey_done"}
    # The unique constraint is the last guard (two devices at the same moment).
    session.rollback()
    session.add(SurveyAnswer(appointment_key=answer.appointment_key, procedure_id=1, office_id=1, day=WED, rating=3))
    with pytest.raises(Exception):
        session.flush()
    session.rollback()
    assert len(session.exec(select(SurveyAnswer)).all()) == 1


def test_survey_only_for_attended_appointments_with_the_right_verifier(session, clock):
    booked = attended(session, clock, status="booked")
    with pytest.raises(FeedbackError) as refused:
        surveys.answer_survey(session, survey(booked))
    assert refused.value.errors == {"appointment": "survey_not_open"}
    done = attended(session, clock, 1)
    with pytest.raises(FeedbackError) as refused:
        surveys.answer_survey(session, survey(done, verifier="0000"))
    assert refused.value.errors == {"appointment": "not_found"}


@pytest.mark.parametrize("field, value, code", [
    ("rating", 0, "rating"), ("rating", 6, "rating"), ("rating", "3.5", "rating"), ("rating", None, "rating"),
    ("rating", True, "rating"), ("waiting", "eternal", "waiting"),
    ("comment", "x" * 2001, "text_too_long"), ("comment", "Hola <script>alert(1)</script>", "no_html"),
    ("comment", "<b>bien</b>", "no_html"),
    ("comment", "http://a.example http://b.example www.c.example", "spam"),
    ("missing", "<a href='x'>y</a>", "no_html"),
])
def test_survey_validation(session, clock, field, value, code):
    appt = attended(session, clock)
    with pytest.raises(FeedbackError) as refused:
        surveys.answer_survey(session, survey(appt, **{field: value}))
    assert refused.value.errors == {field: code}
    assert session.exec(select(SurveyAnswer)).all() == []


def test_plain_text_is_kept_as_written(session, clock):
    appt = attended(session, clock)
    text = "2 < 3 y 5 > 4: todo bien & rápido.\nGracias. https://sede.example"
    answer = surveys.answer_survey(session, survey(appt, comment=text + "\x07", rating="5", checklist_ok="yes"))
    assert (answer.comment, answer.rating, answer.checklist_ok, answer.missing) == (text, 5, True, "")
    assert surveys.clean_text("x" * 2000) == ("x" * 2000, None)


def test_suggestion_box(session):
    note, req = surveys.submit_suggestion(session, {"text": "Más bancos en la plaza.", "anonymous": True,
                                                     "name": "Ana", "lang": "es"})
    assert (note.name, note.request_id, req) == ("", None, None)
    note, req = surveys.submit_suggestion(session, {"text": "Abran por la tarde.", "wants_answer": True,
                                                     "name": "Luis Pérez", "email": "luis@example.com",
                                                     "consent": True, "lang": "es"})
    assert req is not None and note.request_id == req.id and note.name == "Luis Pérez"
    assert session.get(RequestType, req.type_id).slug == "queja-sugerencia"
    assert rules.find(session, req.code).email == "luis@example.com"
    # Anonymous and asking for an answer: followed by the tracking code alone, no contact kept.
    _, anon = surveys.submit_suggestion(session, {"text": "Poca luz en el parque.", "anonymous": True,
                                                   "wants_answer": True, "email": "x@example.com", "consent": True})
    assert (anon.name, anon.email, anon.phone) == ("", "", "")
    with pytest.raises(FeedbackError) as refused:
        surveys.submit_suggestion(session, {"text": "", "wants_answer": True})
    assert refused.value.errors == {"text": "suggestion_required", "consent": "consent_request"}
    with pytest.raises(FeedbackError) as refused:
        surveys.submit_suggestion(session, {"text": "Compre <b>ya</b>"})
    assert refused.value.errors == {"text": "no_html"}


def test_api_survey_once_per_key_and_translated_refusals(client, people, session, clock):  # noqa: F811
    appt = attended(session, clock)
    key = uuid.uuid4().hex
    body = {"kind": "survey", **survey(appt)}
    first = client.post("/api/v1/feedback", json=body, headers={"Idempotency-Key": key})
    again = client.post("/api/v1/feedback", json=body, headers={"Idempotency-Key": key})
    assert first.status_code == again.status_code == 201 and first.json() == again.json()
    other = client.post("/api/v1/feedback", json=body, headers={"Idempotency-Key": uuid.uuid4().hex})
    assert other.status_code == 422 and other.json()["codes"] == {"appointment": "survey_done"}
    assert "ya" in other.json()["errors"]["appointment"]  # Spanish
    bad = client.post("/api/v1/feedback?lang=en", json={**body, "rating": 9, "lang": "en"},
                      headers={"Idempotency-Key": uuid.uuid4().hex})
    assert bad.status_code == 422 and bad.json()["errors"]["rating"] == "Choose how satisfied you are, from 1 to 5."
    suggestion = client.post("/api/v1/feedback", json={"kind": "suggestion", "text": "Gracias", "wants_answer": True,
                                                       "anonymous": True, "consent": True},
                             headers={"Idempotency-Key": uuid.uuid4().hex})
    assert suggestion.status_code == 201 and suggestion.json()["request"]["code"] == suggestion.json()["code"]
    # The staff CSV: signed-in staff with the reports permission only, anonymous rows.
    assert client.get("/api/staff/feedback.csv").status_code == 401
    client.cookies.set(auth.COOKIE, people["desk"][1])
    assert client.get("/api/staff/feedback.csv").status_code == 403
    client.cookies.set(auth.COOKIE, people["admin"][1])
    answer = client.get("/api/staff/feedback.csv", params={"from": "2026-12-01", "to": "2026-12-31"})
    lines = answer.text.lstrip("\ufeff").splitlines()
    assert answer.status_code == 200 and len(lines) == 2 and lines[1].startswith("2026-12-02;")
    assert "Fotocopia del contrato de alquiler" in lines[1] and appt.code not in answer.text


def seed_answers(session):
    """A known set: OAC padrón 5, 4 (checklist wrong twice, the same item), 2; North padrón 1."""
    pid, oac, norte = procedure(session).id, office(session).id, office(session, NORTE).id
    rows = [
        (oac, date(2026, 12, 2), 5, True, "", "short", "Rápido y amable."),
        (oac, date(2026, 12, 3), 4, False, "Contrato de alquiler", "ok", ""),
        (oac, date(2027, 1, 5), 2, False, "Contrato de alquiler", "long", "Esperé mucho <de verdad>"),
        (norte, date(2026, 12, 4), 1, None, "", "long", "Nadie me atendió."),
        (oac, date(2026, 11, 2), 1, None, "", "", "Fuera del periodo"),
    ]
    for i, (office_id, day, rating, ok, missing, waiting, comment) in enumerate(rows):
        session.add(SurveyAnswer(appointment_key=f"k{i}", procedure_id=pid, office_id=office_id, day=day,
                                 rating=rating, checklist_ok=ok, missing=missing, waiting=waiting, comment=comment))
    session.commit()


def test_staff_figures_on_a_seeded_set(session):
    v = viewers(session)
    seed_answers(session)
    s = surveys.summary(session, v["admin"], "2026-12-01", "2027-01-31")
    assert s["answers"] == 4
    assert s["overall"]["average"] == 3.0 and s["overall"]["satisfied_rate"] == 50.0
    assert s["overall"]["checklist_ok_rate"] == 33.33 and s["overall"]["long_wait_rate"] == 50.0
    assert s["overall"]["ratings"] == [1, 1, 0, 1, 1]
    by_office = {r["key"]: r for r in s["by_office"]}
    assert by_office[office(session).id]["answers"] == 3 and by_office[office(session).id]["average"] == 3.67
    assert by_office[office(session, NORTE).id]["average"] == 1.0
    assert [(r["key"], r["answers"], r["average"]) for r in s["by_month"]] == [("2026-12", 3, 3.33),
                                                                                ("2027-01", 1, 2.0)]
    assert s["missing"] == [{"procedure": procedure(session).name, "text": "Contrato de alquiler", "count": 2}]
    assert [c["text"] for c in s["comments"]][0:1] and {c["text"] for c in s["comments"]} == {
        "Rápido y amable.", "Esperé mucho <de verdad>", "Nadie me atendió."}
    # A manager sees their own office only, and no suggestions (the box is town-wide).
    mine = surveys.summary(session, v["manager"], "2026-12-01", "2027-01-31")
    assert mine["answers"] == 3 and {r["key"] for r in mine["by_office"]} == {office(session).id}
    assert mine["suggestions"] == []
    surveys.submit_suggestion(session, {"text": "Gracias", "name": "Eva"})
    session.commit()
    assert [n["name"] for n in surveys.summary(session, v["admin"], "2026-12-01", "2027-01-31")["suggestions"]] \
        == ["Eva"]
    rows = surveys.csv_rows(session, v["admin"], "2026-12-01", "2027-01-31")
    assert len(rows) == 4 and rows[1][4:7] == ["no", "Contrato de alquiler", "normal"]
    assert surveys.to_csv([["=1+1"]]).lstrip("\ufeff").split("\r\n")[1] == "'=1+1"
