"""The Open311 GeoReport v2 API under /api/open311/v2: the spec's field names, its filters, its error format,
no personal data, only public request types, and rate-limited reads."""

import re
from datetime import datetime, timedelta, timezone

import pytest
from sqlmodel import Session, select

from pwa_app.api import open311
from pwa_app.common import ratelimit
from pwa_app.models import ServiceRequest
from pwa_app.service_requests import intake, rules, workflow
from tests.unit.test_tracking import JPEG
from tests.unit.conftest import override_settings

V2 = "/api/open311/v2"
# Field names as GeoReport v2 defines them (http://wiki.open311.org/GeoReport_v2).
SERVICE_FIELDS = {"service_code", "service_name", "description", "metadata", "type", "keywords", "group"}
DEFINITION_FIELDS = {"service_code", "attributes"}
POST_FIELDS = {"service_request_id", "service_notice", "account_id"}
REQUEST_FIELDS = {"service_request_id", "status", "status_notes", "service_name", "service_code", "description",
                  "agency_responsible", "service_notice", "requested_datetime", "updated_datetime",
                  "expected_datetime", "address", "address_id", "zipcode", "lat", "long", "media_url"}
W3C = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d$")
PERSON = {"first_name": "Lucía", "last_name": "Martín Ortega", "email": "lucia.martin@example.com",
          "phone": "699112233"}


@pytest.fixture(autouse=True)
def fresh_limits(monkeypatch):
    override_settings(monkeypatch, REDIS_URL=None)
    override_settings(monkeypatch, CITA_OPEN311_API_KEYS=None)
    ratelimit.limiter.cache_clear()
    yield
    ratelimit.limiter.cache_clear()


def post(api, **fields):
    form = {"service_code": "alumbrado-publico", "description": "Farola apagada en la esquina con la plaza.",
            "lat": "40.6101", "long": "-3.9012", "address_string": "Calle Real, 3", **PERSON, **fields}
    return api.post(f"{V2}/requests.json", data={k: v for k, v in form.items() if v is not None})


@pytest.fixture
def posted(api) -> dict:
    r = post(api)
    assert r.status_code == 200, r.text
    (answer,) = r.json()
    return answer


def private_request(engine) -> ServiceRequest:
    """A social-aid request: never visible through Open311."""
    with Session(engine, expire_on_commit=False) as s:
        req = intake.submit(s, {"type": "ayuda-social", "description": "Necesito ayuda con el alquiler.",
                                  "name": "Pedro Ruiz", "phone": "611223344", "consent": True})
        s.commit()
    return req


def test_services_use_the_spec_fields(api):
    r = api.get(f"{V2}/services.json")
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/json")
    services = r.json()
    assert [s["service_code"] for s in services] == ["incidencia-via-publica", "alumbrado-publico"]
    for s in services:
        assert set(s) == SERVICE_FIELDS
        assert s["type"] == "realtime" and s["metadata"] is False
        assert s["group"] == "Vías Públicas y Alumbrado" and "," in s["keywords"] and ", " not in s["keywords"]
    english = api.get(f"{V2}/services.json", params={"lang": "en"}).json()
    assert english[1]["service_name"] == "Street light out or faulty"


def test_service_definition(api):
    r = api.get(f"{V2}/services/alumbrado-publico.json")
    assert r.status_code == 200 and r.json() == {"service_code": "alumbrado-publico", "attributes": []}
    assert set(r.json()) == DEFINITION_FIELDS
    for hidden in ("ayuda-social", "no-existe"):
        missing = api.get(f"{V2}/services/{hidden}.json")
        assert missing.status_code == 404
        assert [set(e) for e in missing.json()] == [{"code", "description"}] and missing.json()[0]["code"] == 404


def test_post_answers_per_the_spec_and_gives_the_tracking_code(api, engine, posted):
    assert set(posted) == POST_FIELDS and posted["account_id"] is None
    code = re.search(r"\b(\w{4}-\w{4}-\w{4}-\w{4})\b", posted["service_notice"]).group(1)
    view = api.get(f"/api/v1/requests/{code}").json()
    assert view["open311_id"] == posted["service_request_id"] and view["type"]["slug"] == "alumbrado-publico"
    with Session(engine) as s:
        req = s.exec(select(ServiceRequest)).one()
        assert (req.source, req.name, req.email, req.phone) == ("open311", "Lucía Martín Ortega",
                                                                PERSON["email"], PERSON["phone"])
        assert (req.lat, req.lon, req.address) == (40.6101, -3.9012, "Calle Real, 3")


def test_get_a_request_uses_the_spec_fields_and_no_personal_data(api, posted):
    r = api.get(f"{V2}/requests/{posted['service_request_id']}.json")
    assert r.status_code == 200
    (item,) = r.json()
    assert set(item) == REQUEST_FIELDS
    assert item["service_request_id"] == posted["service_request_id"]
    assert (item["status"], item["service_code"], item["agency_responsible"]) == (
        "open", "alumbrado-publico", "Vías Públicas y Alumbrado")
    assert item["lat"] == 40.61 and item["long"] == -3.901  # ~100 m
    # Nothing the citizen wrote is published before staff approve it: the type's name, no address.
    assert item["description"] == "Farola apagada o avería del alumbrado" and item["address"] is None
    assert item["status_notes"] is None and item["media_url"] is None
    for field in ("requested_datetime", "updated_datetime", "expected_datetime"):
        assert W3C.match(item[field]), item[field]
        datetime.fromisoformat(item[field])
    assert item["expected_datetime"] > item["requested_datetime"]
    text = r.text
    for private in (*PERSON.values(), "Lucía", "Martín"):
        assert private not in text
    code = re.search(r"\w{4}-\w{4}-\w{4}-\w{4}", posted["service_notice"]).group(0)
    assert code not in text and code.replace("-", "") not in text


def test_only_the_text_staff_approved_is_published(api, engine, posted):
    url = f"{V2}/requests/{posted['service_request_id']}.json"
    english = api.get(url, params={"lang": "en"}).json()[0]
    assert english["description"] == "Street light out or faulty" and english["address"] is None
    assert "Farola apagada en la esquina" not in api.get(f"{V2}/requests.json").text
    with Session(engine, expire_on_commit=False) as s:
        req = rules.find_public(s, posted["service_request_id"])
        workflow.publish_text(s, req, "Farola apagada.", "Calle Real")
        s.commit()
    (item,) = api.get(url).json()
    assert (item["description"], item["address"]) == ("Farola apagada.", "Calle Real")
    with Session(engine, expire_on_commit=False) as s:
        req = rules.find_public(s, posted["service_request_id"])
        for bad, field in ((("<b>x</b>", ""), "public_description"), (("", "Calle Real"), "public_description"),
                           (("Farola.", "C/ {Real}"), "public_address"), (("Farola.", "x" * 201), "public_address")):
            with pytest.raises(rules.ServiceRequestError) as exc:
                workflow.publish_text(s, req, *bad)
            assert set(exc.value.errors) == {field}
        workflow.publish_text(s, req, "", "")  # taken back
        s.commit()
        assert (req.public_description, req.public_address) == ("", "")
    assert api.get(url).json()[0]["description"] == "Farola apagada o avería del alumbrado"


def test_status_is_open_or_closed_with_the_latest_public_note(api, engine, posted):
    with Session(engine, expire_on_commit=False) as s:
        req = rules.find_public(s, posted["service_request_id"])
        workflow.change_status(s, req, "assigned", comment="Avisada la empresa de mantenimiento.")
        workflow.change_status(s, req, "resolved", comment="Lámpara sustituida.")
        s.commit()
    (item,) = api.get(f"{V2}/requests/{posted['service_request_id']}.json").json()
    assert item["status"] == "closed" and item["status_notes"] == "Lámpara sustituida."


def test_private_types_are_never_listed_nor_found(api, engine, posted):
    hidden = private_request(engine)
    listed = api.get(f"{V2}/requests.json").json()
    assert [i["service_request_id"] for i in listed] == [posted["service_request_id"]]
    assert api.get(f"{V2}/requests/{hidden.public_id}.json").status_code == 404
    assert api.get(f"{V2}/requests.json", params={"service_request_id": hidden.public_id}).json() == []
    assert "alquiler" not in api.get(f"{V2}/requests.json", params={"service_code": "ayuda-social"}).text
    refused = post(api, service_code="ayuda-social")
    assert refused.status_code == 404 and refused.json()[0]["code"] == 404


def test_unknown_request_is_404_in_the_spec_error_format(api):
    r = api.get(f"{V2}/requests/NOPE123456.json")
    assert r.status_code == 404 and r.json() == [{"code": 404, "description": "service_request_id 'NOPE123456' "
                                                                              "not found"}]


def make_requests(engine, count: int, start: datetime, step: timedelta, service="incidencia-via-publica"):
    made = []
    with Session(engine, expire_on_commit=False) as s:
        for i in range(count):
            made.append(intake.submit(s, {"type": service, "description": f"Aviso {i}", "address": "Plaza Mayor",
                                            "consent": True}, now=start + i * step))
        s.commit()
    return made


def test_list_filters(api, engine):
    now = datetime.now(timezone.utc)
    old = make_requests(engine, 2, now - timedelta(days=200), timedelta(hours=1))
    recent = make_requests(engine, 3, now - timedelta(days=10), timedelta(days=1))
    light = make_requests(engine, 1, now - timedelta(days=5), timedelta(0), service="alumbrado-publico")
    with Session(engine, expire_on_commit=False) as s:
        req = s.get(ServiceRequest, recent[0].id)
        workflow.change_status(s, req, "closed", comment="Duplicado.")
        s.commit()

    def ids(**params):
        r = api.get(f"{V2}/requests.json", params=params)
        assert r.status_code == 200, r.text
        return [i["service_request_id"] for i in r.json()]

    # Default: the last 90 days, newest first.
    assert ids() == [light[0].public_id] + [r.public_id for r in reversed(recent)]
    assert ids(service_code="alumbrado-publico") == [light[0].public_id]
    assert ids(service_code="alumbrado-publico,incidencia-via-publica") == ids()
    assert ids(status="closed") == [recent[0].public_id]
    assert recent[0].public_id not in ids(status="open")
    assert set(ids(status="open,closed")) == set(ids())
    start = (now - timedelta(days=210)).isoformat()
    end = (now - timedelta(days=150)).isoformat()
    assert ids(start_date=start, end_date=end) == [r.public_id for r in reversed(old)]
    # service_request_id overrides every other filter, old requests included; unknown ids are skipped.
    wanted = f"{old[0].public_id},{light[0].public_id.lower()},NOPE"
    assert set(ids(service_request_id=wanted, status="closed")) == {old[0].public_id, light[0].public_id}


@pytest.mark.parametrize("params", [
    {"start_date": "yesterday"},
    {"start_date": "2026-01-01T00:00:00Z", "end_date": "2026-06-01T00:00:00Z"},  # more than 90 days
    {"start_date": "2026-06-01T00:00:00Z", "end_date": "2026-05-01T00:00:00Z"},
    {"status": "pending"},
])
def test_bad_filters_are_400(api, params):
    r = api.get(f"{V2}/requests.json", params=params)
    assert r.status_code == 400 and r.json()[0]["code"] == 400


def test_at_most_1000_results(api, engine, monkeypatch):
    assert open311.MAX_RESULTS == 1000 and open311.MAX_SPAN == timedelta(days=90)
    monkeypatch.setattr(open311, "MAX_RESULTS", 3)  # the same cap, without inserting a thousand rows
    make_requests(engine, 5, datetime.now(timezone.utc) - timedelta(days=1), timedelta(minutes=1))
    assert len(api.get(f"{V2}/requests.json").json()) == 3


@pytest.mark.parametrize("fields, status, mentions", [
    ({"service_code": None}, 400, "service_code"),
    ({"service_code": "no-existe"}, 404, "no-existe"),
    ({"description": ""}, 400, "description"),
    ({"lat": None, "long": None, "address_string": None}, 400, "address_string"),
    ({"lat": "40.1", "long": "oeste"}, 400, "lat/long"),
    ({"email": "no-es-un-correo"}, 400, "email"),
])
def test_post_errors(api, engine, fields, status, mentions):
    r = post(api, **fields)
    assert r.status_code == status
    (error,) = r.json()
    assert error["code"] == status and mentions in error["description"]
    with Session(engine) as s:
        assert s.exec(select(ServiceRequest)).first() is None


def test_post_with_api_keys_configured(api, monkeypatch):
    override_settings(monkeypatch, CITA_OPEN311_API_KEYS="civic-tool-key, other-key")
    assert post(api).status_code == 403
    assert post(api, api_key="wrong").json() == [{"code": 403, "description": "api_key is missing or not valid"}]
    assert post(api, api_key="civic-tool-key").status_code == 200


def test_post_is_idempotent_with_a_key(api, engine):
    headers = {"Idempotency-Key": "open311-key-0001"}
    form = {"service_code": "alumbrado-publico", "description": "Farola apagada.", "address_string": "Calle Real"}
    first = api.post(f"{V2}/requests.json", data=form, headers=headers)
    again = api.post(f"{V2}/requests.json", data=form, headers=headers)
    assert first.status_code == 200 and first.json() == again.json()
    with Session(engine) as s:
        assert len(s.exec(select(ServiceRequest)).all()) == 1


def test_published_photos_get_a_media_url(api, engine):
    import base64

    with Session(engine, expire_on_commit=False) as s:
        req = intake.submit(s, {"type": "incidencia-via-publica", "description": "Banco roto.",
                                  "address": "Parque del Pinar", "consent": True,
                                  "attachments": [{"filename": "banco.jpg",
                                                   "data": base64.b64encode(JPEG).decode()}]})
        s.commit()
    (item,) = api.get(f"{V2}/requests/{req.public_id}.json").json()
    assert item["media_url"] is None  # not before staff have looked at it
    assert api.get(f"{V2}/media/{req.public_id}/1").status_code == 404
    with Session(engine) as s:
        workflow.publish_attachment(s, s.get(ServiceRequest, req.id), 1)
        s.commit()
    (item,) = api.get(f"{V2}/requests/{req.public_id}.json").json()
    assert item["media_url"].startswith("http") and item["media_url"].endswith(f"/media/{req.public_id}/1")
    photo = api.get(item["media_url"])
    assert photo.status_code == 200 and photo.content == JPEG and photo.headers["content-type"] == "image/jpeg"


def test_reads_are_rate_limited(api, posted, monkeypatch):
    override_settings(monkeypatch, CITA_RATE_OPEN311="2/60")
    ratelimit.limiter.cache_clear()
    assert api.get(f"{V2}/services.json").status_code == 200
    assert api.get(f"{V2}/requests.json").status_code == 200
    for path in ("/services.json", "/requests.json", f"/requests/{posted['service_request_id']}.json"):
        r = api.get(V2 + path)
        assert r.status_code == 429
        assert int(r.headers["retry-after"]) >= 1
        assert r.json()[0]["code"] == 429
    # The citizen's own lookups have their own budget.
    code = re.search(r"\w{4}-\w{4}-\w{4}-\w{4}", posted["service_notice"]).group(0)
    assert api.get(f"/api/v1/requests/{code}").status_code == 200


def test_discovery(api):
    body = api.get(f"{V2}/discovery.json").json()
    assert body["endpoints"][0]["specification"] == "http://wiki.open311.org/GeoReport_v2"
    assert body["endpoints"][0]["url"].endswith(V2) and body["endpoints"][0]["formats"] == ["application/json"]
