"""The citizen API under /api/v1 through a TestClient on a seeded temp SQLite file. The API reads the real
clock, so times are picked from its own availability answers."""

import itertools
from datetime import date, datetime, timedelta

import pytest
from icalendar import Calendar
from sqlmodel import Session, func, select

from pwa_app.common import codes
from pwa_app.common.i18n import gettext
from pwa_app.common.messages import ERRORS
from pwa_app.models import Appointment, IdempotencyRecord

NORTE, OAC, CSSU = "junta-distrito-norte", "oac-casa-consistorial", "centro-servicios-sociales-urbanismo"
PADRON = "alta-padron"
_keys = itertools.count(1)


def new_key() -> str:
    return f"test-key-{next(_keys):08d}"


def person(**changes) -> dict:
    raw = {"name": "Ana García López", "document": "12345678Z", "phone": "612345678", "email": "ana@example.com",
           "consent": True, "lang": "es"}
    return {**raw, **changes}


def stored(engine, *where) -> int:
    """Counts rows with a short-lived session (a lingering SQLite transaction would block the API's writes)."""
    with Session(engine) as s:
        return s.exec(select(func.count()).select_from(Appointment).where(*where)).one()


def availability(api, procedure=PADRON, office=NORTE, lang="es", **params) -> dict:
    r = api.get("/api/v1/availability", params={"procedure": procedure, "office": office, "lang": lang, **params})
    assert r.status_code == 200, r.text
    return r.json()


def free_slot(api, procedure=PADRON, office=NORTE, skip: int = 0, seats: int = 2) -> dict:
    """A slot with all its seats free (the North board has 2 desks for the padrón), on the second bookable day or
    later so that it stays clear of the minimum notice while the test runs."""
    days = availability(api, procedure, office)["days"]
    assert len(days) >= 2
    candidates = [s for day in days[1:] for s in day["slots"] if s["free"] == seats]
    return candidates[skip]


def free_at(api, start: str, procedure=PADRON, office=NORTE) -> int:
    day = start[:10]
    data = availability(api, procedure, office, **{"from": day, "to": day})
    return next(s["free"] for d in data["days"] for s in d["slots"] if s["start"] == start)


def post_booking(api, start: str, key: str | None = None, procedure=PADRON, office=NORTE, **changes):
    headers = {"Idempotency-Key": key} if key else {}
    body = {"procedure": procedure, "office": office, "start": start, **person(**changes)}
    return api.post("/api/v1/appointments", json=body, headers=headers)


@pytest.fixture
def slot(api) -> dict:
    return free_slot(api)


@pytest.fixture
def booked(api, slot) -> dict:
    r = post_booking(api, slot["start"], new_key())
    assert r.status_code == 201, r.text
    return r.json()


# --- catalogue ------------------------------------------------------------------------------------------------


def test_procedures_in_spanish(api):
    r = api.get("/api/v1/procedures")
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/json")
    data = r.json()
    assert data["lang"] == "es" and data["municipality"]["name"] == "Villanueva del Pinar"
    padron = next(p for p in data["procedures"] if p["slug"] == PADRON)
    assert padron["name"] == "Alta en el padrón (empadronamiento)" and padron["fallback"] is False
    assert padron["offices"] == sorted([OAC, NORTE]) and len(padron["requirements"]) >= 3
    assert {a["slug"] for a in data["areas"]} >= {"padron", "tributos"}
    assert {o["slug"] for o in data["offices"]} == {OAC, NORTE, CSSU}


def test_procedures_in_english(api):
    data = api.get("/api/v1/procedures", params={"lang": "en"}).json()
    assert data["lang"] == "en"
    padron = next(p for p in data["procedures"] if p["slug"] == PADRON)
    assert padron["name"] == "Registering on the padrón (empadronamiento)"
    assert padron["fee"] == "Free" and padron["fallback"] is False
    assert next(a for a in data["areas"] if a["slug"] == "padron")["name"] == "Municipal register (padrón)"
    assert all(not p["fallback"] for p in data["procedures"])
    # An unknown language falls back to Spanish.
    assert api.get("/api/v1/procedures", params={"lang": "xx"}).json()["lang"] == "es"


def test_procedures_etag_and_304(api):
    r = api.get("/api/v1/procedures")
    etag = r.headers["etag"]
    assert etag.startswith('"') and etag.endswith('"') and r.headers["cache-control"] == "no-cache"
    again = api.get("/api/v1/procedures", headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.content == b"" and again.headers["etag"] == etag
    english = api.get("/api/v1/procedures", params={"lang": "en"}, headers={"If-None-Match": etag})
    assert english.status_code == 200 and english.headers["etag"] != etag
    stale = api.get("/api/v1/procedures", headers={"If-None-Match": '"stale"'})
    assert stale.status_code == 200 and stale.json()["procedures"]


# --- availability ---------------------------------------------------------------------------------------------


def test_availability_days_labels_and_months(api):
    data = availability(api)
    assert data["procedure"] == PADRON and data["office"] == NORTE
    first, horizon = date.fromisoformat(data["from"]), date.fromisoformat(data["horizon"])
    assert horizon - first == timedelta(days=60) and data["to"] == data["horizon"]
    days = data["days"]
    # A day counts its free times, not their seats (18 times with 3 seats each are 18, not 54).
    assert days and all(d["label"] and d["free"] == sum(s["free"] > 0 for s in d["slots"]) for d in days)
    assert any(s["free"] > 1 for d in days for s in d["slots"])  # seats are not times here
    soonest = next(s for d in days for s in d["slots"] if s["free"] > 0)
    assert data["earliest"]["start"] == soonest["start"] and data["earliest"]["label"].endswith(soonest["time"])
    dates = [date.fromisoformat(d["date"]) for d in days]
    assert dates == sorted(dates) and all(first <= d <= horizon for d in dates)
    assert all(d.weekday() < 5 for d in dates)  # the board opens Monday to Friday
    assert set(data["months"]) == {d.strftime("%Y-%m") for d in dates}
    assert all(isinstance(label, str) and label for label in data["months"].values())
    some = days[1]["slots"][0]
    start = datetime.fromisoformat(some["start"])
    assert start.utcoffset() in (timedelta(hours=1), timedelta(hours=2))  # Madrid wall time
    assert some["time"] == start.strftime("%H:%M") and some["free"] == 2
    assert datetime.fromisoformat(days[0]["slots"][0]["start"]) > datetime.now().astimezone() + timedelta(hours=2)


def test_availability_labels_follow_the_language(api):
    es, en = availability(api, lang="es"), availability(api, lang="en")
    assert [d["date"] for d in es["days"]] == [d["date"] for d in en["days"]]
    month = next(iter(es["months"]))
    english_months = ("January", "February", "March", "April", "May", "June", "July", "August", "September",
                      "October", "November", "December")
    assert any(name in en["months"][month] for name in english_months)
    assert es["months"][month] != en["months"][month]
    assert es["days"][0]["label"] != en["days"][0]["label"]


def test_availability_range(api):
    days = availability(api)["days"]
    second = days[1]["date"]
    data = availability(api, **{"from": second, "to": second})
    assert [d["date"] for d in data["days"]] == [second]


@pytest.mark.parametrize("procedure, office, field, code", [
    ("no-existe", NORTE, "procedure", "unknown_procedure"),
    (PADRON, "no-existe", "office", "unknown_office"),
    (PADRON, CSSU, "office", "unknown_office"),
])
def test_availability_unknown_is_404_json(api, procedure, office, field, code):
    r = api.get("/api/v1/availability", params={"procedure": procedure, "office": office})
    assert r.status_code == 404 and r.headers["content-type"].startswith("application/json")
    body = r.json()
    assert body["codes"] == {field: code}
    assert isinstance(body["errors"][field], str) and body["errors"][field]


# --- booking --------------------------------------------------------------------------------------------------


def test_booking_answers_201_with_code_verifier_and_ics(api, engine, slot):
    r = post_booking(api, slot["start"], new_key())
    assert r.status_code == 201, r.text
    body = r.json()
    assert codes.format_code(body["code"]) == body["code"] and len(body["code"]) == 11  # XXXXX-XXXXX
    assert body["verifier"] == "678Z" and body["status"] == "booked" and body["changeable"] is True
    assert body["start"] == slot["start"] and body["time"] == slot["time"]
    assert body["procedure"]["slug"] == PADRON and body["office"]["slug"] == NORTE
    plain = codes.normalize_code(body["code"])
    assert body["ics_url"].startswith(f"/api/v1/appointments/{plain}/calendar.ics?verifier=678Z")
    assert stored(engine) == 1
    assert free_at(api, slot["start"]) == 1


def test_same_idempotency_key_same_answer_one_row(api, engine, slot):
    key = new_key()
    first = post_booking(api, slot["start"], key)
    again = post_booking(api, slot["start"], key)
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert stored(engine) == 1
    with Session(engine) as s:
        assert s.get(IdempotencyRecord, key).status_code == 201
    other = post_booking(api, slot["start"], key, name="Otra Persona")
    assert other.status_code == 422 and other.json()["codes"] == {"idempotency_key": "key_reused"}
    assert stored(engine) == 1


def test_without_key_each_post_books(api, engine, slot):
    assert post_booking(api, slot["start"]).status_code == 201
    assert post_booking(api, slot["start"]).status_code == 201
    assert stored(engine) == 2


@pytest.mark.parametrize("key", ["short", "with spaces in it", "semi;colon;key", "dots.are.not.ok"])
def test_invalid_idempotency_key_is_400(api, engine, slot, key):
    r = post_booking(api, slot["start"], key)
    assert r.status_code == 400
    assert r.json()["codes"] == {"idempotency_key": "bad_request"}
    assert stored(engine) == 0


def test_bad_details_are_422_with_a_message_per_field(api, engine, slot):
    r = post_booking(api, slot["start"], new_key(), name="", document="12345678A", email="ana@", consent=False)
    assert r.status_code == 422
    body = r.json()
    assert body["codes"] == {"name": "required", "document": "document_letter", "email": "email",
                             "consent": "consent"}
    assert set(body["errors"]) == set(body["codes"])
    assert all(isinstance(m, str) and m.strip() for m in body["errors"].values())
    assert len(set(body["errors"].values())) == 4  # a message of its own for each problem
    # The Spanish catalogue's text for each code (the English source string while no catalogue is compiled).
    assert body["errors"] == {field: gettext("es", ERRORS[code]) for field, code in body["codes"].items()}
    assert body["alternatives"] == []
    assert stored(engine) == 0
    assert free_at(api, slot["start"]) == 2
    with Session(engine) as s:
        assert s.exec(select(func.count()).select_from(IdempotencyRecord)).one() == 0


def test_bad_details_in_english(api, slot):
    r = post_booking(api, slot["start"], new_key(), name="<script>alert(1)</script>", lang="en")
    assert r.status_code == 422
    assert r.json()["errors"]["name"] == "Please use only letters, numbers, spaces and usual punctuation."


def test_unknown_procedure_is_422(api, engine, slot):
    r = post_booking(api, slot["start"], new_key(), procedure="no-existe")
    assert r.status_code == 422 and r.json()["codes"] == {"procedure": "unknown_procedure"}
    assert stored(engine) == 0


def test_full_slot_is_409_with_alternatives(api, engine, slot):
    assert post_booking(api, slot["start"], new_key()).status_code == 201
    assert post_booking(api, slot["start"], new_key()).status_code == 201
    r = post_booking(api, slot["start"], new_key(), name="Tercera Persona")
    assert r.status_code == 409
    body = r.json()
    assert body["codes"] == {"slot": "taken"} and body["errors"]["slot"]
    alts = body["alternatives"]
    assert 1 <= len(alts) <= 5
    assert alts[0]["office"] == NORTE and alts[0]["start"] != slot["start"]
    assert all(a["office_name"] and a["day"] and a["time"] for a in alts)
    gaps = [abs(datetime.fromisoformat(a["start"]) - datetime.fromisoformat(slot["start"])) for a in alts]
    assert gaps == sorted(gaps)
    assert stored(engine) == 2


def test_past_or_closed_time_is_409_unavailable(api, engine):
    past = (datetime.now().astimezone() - timedelta(days=1)).replace(hour=10, minute=10, second=0, microsecond=0)
    r = post_booking(api, past.isoformat(), new_key())
    assert r.status_code == 409 and r.json()["codes"] == {"slot": "unavailable"}
    assert stored(engine) == 0


# --- look-up, cancel, reschedule, calendar --------------------------------------------------------------------


def test_get_needs_the_right_verifier(api, booked):
    code = booked["code"]
    assert api.get(f"/api/v1/appointments/{code}", params={"verifier": "0000"}).status_code == 404
    wrong = api.get(f"/api/v1/appointments/{code}", params={"verifier": "678A"})
    assert wrong.status_code == 404 and wrong.json()["codes"] == {"code": "not_found"}
    assert api.get("/api/v1/appointments/ZZZZZ-ZZZZZ", params={"verifier": "678Z"}).status_code == 404
    ok = api.get(f"/api/v1/appointments/{code.lower()}", params={"verifier": "678z", "lang": "en"})
    assert ok.status_code == 200
    data = ok.json()
    assert data["code"] == code and data["status_label"] == "Booked" and data["start"] == booked["start"]
    assert data["office"]["name"] == "North District Municipal Office"


def test_cancel_frees_the_seat_in_availability(api, engine, booked):
    code, start = booked["code"], booked["start"]
    assert free_at(api, start) == 1
    wrong = api.delete(f"/api/v1/appointments/{code}", params={"verifier": "0000"},
                       headers={"Idempotency-Key": new_key()})
    assert wrong.status_code == 404
    key = new_key()
    r = api.delete(f"/api/v1/appointments/{code}", params={"verifier": "678Z"}, headers={"Idempotency-Key": key})
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "cancelled" and r.json()["changeable"] is False
    assert free_at(api, start) == 2
    assert stored(engine, Appointment.status == "cancelled") == 1
    # A retry gets the same answer; a second cancel without the key is harmless.
    again = api.delete(f"/api/v1/appointments/{code}", params={"verifier": "678Z"}, headers={"Idempotency-Key": key})
    assert again.status_code == 200 and again.json() == r.json()
    assert api.delete(f"/api/v1/appointments/{code}", params={"verifier": "678Z"}).status_code == 200
    # The seat can be booked by someone else at once.
    assert post_booking(api, start, new_key()).status_code == 201
    assert post_booking(api, start, new_key()).status_code == 201
    assert free_at(api, start) == 0


def test_reschedule_keeps_the_code(api, engine, booked):
    code, old = booked["code"], booked["start"]
    target = free_slot(api, skip=3)
    r = api.post(f"/api/v1/appointments/{code}/reschedule", headers={"Idempotency-Key": new_key()},
                 json={"verifier": "678Z", "office": NORTE, "start": target["start"], "lang": "es"})
    assert r.status_code == 200, r.text
    assert r.json()["code"] == code and r.json()["start"] == target["start"]
    assert free_at(api, old) == 2 and free_at(api, target["start"]) == 1
    assert stored(engine) == 1
    bad = api.post(f"/api/v1/appointments/{code}/reschedule", headers={"Idempotency-Key": new_key()},
                   json={"verifier": "0000", "office": NORTE, "start": old})
    assert bad.status_code == 404


def test_reschedule_to_a_full_slot_is_409_and_keeps_the_booking(api, engine, booked):
    target = free_slot(api, skip=2)
    post_booking(api, target["start"], new_key())
    post_booking(api, target["start"], new_key())
    r = api.post(f"/api/v1/appointments/{booked['code']}/reschedule", headers={"Idempotency-Key": new_key()},
                 json={"verifier": "678Z", "office": NORTE, "start": target["start"]})
    assert r.status_code == 409 and r.json()["codes"] == {"slot": "taken"} and r.json()["alternatives"]
    check = api.get(f"/api/v1/appointments/{booked['code']}", params={"verifier": "678Z"}).json()
    assert check["start"] == booked["start"]


def test_calendar_ics(api, booked):
    r = api.get(booked["ics_url"])
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/calendar")
    assert "attachment" in r.headers["content-disposition"]
    cal = Calendar.from_ical(r.content)
    (event,) = cal.walk("VEVENT")
    dtstart = event["DTSTART"]
    assert dtstart.params["TZID"] == "Europe/Madrid"
    assert dtstart.dt == datetime.fromisoformat(booked["start"])
    assert str(dtstart.dt.tzinfo) == "Europe/Madrid"
    assert str(event["SUMMARY"]) == "Alta en el padrón (empadronamiento)"
    assert codes.normalize_code(booked["code"]) in str(event["UID"])
    assert cal.walk("VTIMEZONE")
    wrong = api.get(f"/api/v1/appointments/{booked['code']}/calendar.ics", params={"verifier": "0000"})
    assert wrong.status_code == 404


def test_openapi_is_served(api):
    r = api.get("/api/v1/openapi.json")
    assert r.status_code == 200
    paths = r.json()["paths"]
    assert {"/api/v1/procedures", "/api/v1/availability", "/api/v1/appointments",
            "/api/v1/appointments/{code}", "/api/v1/appointments/{code}/reschedule",
            "/api/v1/appointments/{code}/calendar.ics"} <= set(paths)
