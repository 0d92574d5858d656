"""The requests API under /api/v1 (seguimiento) through a TestClient on a seeded temp SQLite file, and the rate
limiter behind it. The API reads the real clock."""

import base64
import itertools
import os
import secrets
import time

import pytest
from sqlmodel import Session, func, select

from pwa_app.api.limits import BodyLimit
from pwa_app.api.service_request_schemas import ErrorOut, LookupOut, RequestTypesOut, RequestView
from pwa_app.common import ratelimit
from pwa_app.common.i18n import gettext
from pwa_app.common.messages import ERRORS
from pwa_app.models import Attachment, IdempotencyRecord, ServiceRequest
from pwa_app.proxy import client_address
from pwa_app.service_requests import rules, workflow
from tests.unit.test_tracking import JPEG
from tests.unit.conftest import override_settings

_keys = itertools.count(1)


def new_key() -> str:
    return f"request-key-{next(_keys):08d}"


@pytest.fixture(autouse=True)
def fresh_limits(monkeypatch):
    """Each test starts with full in-memory buckets (never a shared Redis, even if REDIS_URL is set)."""
    override_settings(monkeypatch, REDIS_URL=None)
    override_settings(monkeypatch, CITA_TRUSTED_PROXIES=None)
    ratelimit.limiter.cache_clear()
    yield
    ratelimit.limiter.cache_clear()


def report(**changes) -> dict:
    body = {"type": "incidencia-via-publica", "description": "Farola caída sobre la acera, frente al número 7.",
            "address": "Calle del Molino, 7", "lat": 40.612, "lon": -3.905, "consent": True, "lang": "es",
            "email": "ana@example.com", "attachments": [{"filename": "farola.jpg", "content_type": "image/jpeg",
                                                         "data": base64.b64encode(JPEG).decode()}]}
    return {**body, **changes}


def send(api, key: str | None = None, **changes):
    return api.post("/api/v1/requests", json=report(**changes), headers={"Idempotency-Key": key} if key else {})


def stored(engine, model=ServiceRequest) -> int:
    with Session(engine) as s:
        return s.exec(select(func.count()).select_from(model)).one()


@pytest.fixture
def sent(api) -> dict:
    r = send(api, new_key())
    assert r.status_code == 201, r.text
    return r.json()


def test_request_types_in_both_languages_with_etag(api):
    es = api.get("/api/v1/request-types")
    en = api.get("/api/v1/request-types", params={"lang": "en"})
    assert es.status_code == en.status_code == 200
    names = {t["slug"]: t["name"] for t in en.json()["types"]}
    assert names["ayuda-social"] == "Request for social support"
    assert {t["slug"]: t["name"] for t in es.json()["types"]}["ayuda-social"] == "Solicitud de ayuda social"
    assert es.json()["statuses"][3] == {"status": "waiting_citizen", "label": "Esperando su respuesta",
                                        "help": gettext("es", "We need something from you before we can go on: "
                                                              "see what is expected below."), "open": True}
    again = api.get("/api/v1/request-types", headers={"If-None-Match": es.headers["etag"]})
    assert again.status_code == 304


def test_submit_answers_201_with_the_tracking_view(api, engine, sent):
    assert sent["status"] == "received" and sent["status_label"] == "Recibida"
    assert rules.normalize_tracking_code(sent["code"])
    assert sent["department"]["name"] == "Vías Públicas y Alumbrado"
    assert sent["due_label"].startswith("Respuesta prevista, a más tardar, el ")
    assert sent["attachments"][0]["content_type"] == "image/jpeg"
    assert sent["timeline"][0]["status"] == "received"
    assert "email" not in sent and "ana@example.com" not in str(sent)
    with Session(engine) as s:
        assert s.exec(select(ServiceRequest)).one().email == "ana@example.com"


def test_the_same_key_returns_the_same_request(api, engine):
    key = new_key()
    first, again = send(api, key), send(api, key)
    assert first.status_code == again.status_code == 201
    assert first.json()["code"] == again.json()["code"]
    assert stored(engine) == 1 and stored(engine, Attachment) == 1
    other = send(api, key, description="Otra cosa distinta.")
    assert other.status_code == 422 and other.json()["codes"] == {"idempotency_key": "key_reused"}
    assert stored(engine) == 1


@pytest.mark.parametrize("key", ["short", "x" * 65, "not valid!"])
def test_a_bad_idempotency_key_is_400(api, engine, key):
    assert send(api, key).status_code in (400, 422)
    assert stored(engine) == 0


def test_errors_are_422_with_a_message_per_field_and_nothing_stored(api, engine):
    r = send(api, new_key(), description="<b>hola</b>", consent=False, address="", lat=None, lon=None,
             attachments=[{"filename": "x.gif", "data": base64.b64encode(b"GIF89a" + b"0" * 50).decode()}])
    assert r.status_code == 422
    body = r.json()
    assert body["codes"] == {"description": "no_html", "address": "location_required",
                             "consent": "consent_request", "attachments": "file_type_photo"}
    assert body["errors"]["consent"] == "Para enviar su solicitud, acepte el aviso de privacidad."
    english = send(api, new_key(), description="", lang="en").json()["errors"]
    assert english["description"] == ERRORS["required"]
    assert stored(engine) == 0
    with Session(engine) as s:
        assert s.exec(select(func.count()).select_from(IdempotencyRecord)).one() == 0


def test_too_many_attachments_are_refused_before_anything(api, engine):
    r = send(api, new_key(), attachments=[report()["attachments"][0]] * 6)
    assert r.status_code == 422  # the model refuses more than a few files outright
    assert stored(engine) == 0


def test_get_by_code_in_any_typed_form(api, sent):
    code = sent["code"]
    for typed in (code, code.lower(), code.replace("-", " "), code.replace("-", "")):
        r = api.get(f"/api/v1/requests/{typed}", params={"lang": "en"})
        assert r.status_code == 200 and r.json()["code"] == code
        assert r.json()["status_label"] == "Received"
        assert r.headers["cache-control"] == "no-store" and r.headers["referrer-policy"] == "no-referrer"


def test_unknown_code_is_404_json(api):
    r = api.get("/api/v1/requests/0000-0000-0000-0000")
    assert r.status_code == 404 and r.json()["codes"] == {"code": "request_not_found"}
    assert api.get("/api/v1/requests/ABCDE12345").status_code == 404  # an appointment-length code


def test_staff_status_change_shows_in_the_view(api, engine, sent):
    with Session(engine, expire_on_commit=False) as s:
        found = rules.find(s, sent["code"])
        workflow.change_status(s, found, "assigned", comment="La brigada irá el jueves.")
        workflow.change_status(s, found, "waiting_citizen", comment="¿La farola tiene un número pintado?")
        s.commit()
    view = api.get(f"/api/v1/requests/{sent['code']}").json()
    assert view["status"] == "waiting_citizen" and view["paused"] is True
    assert view["expected_from_citizen"]["text"] == "¿La farola tiene un número pintado?"
    assert view["expected_from_citizen"]["respond_by_label"].startswith("Responda, por favor, a más tardar el ")
    assert [e["label"] for e in view["timeline"]] == ["Recibida", "Asignada", "Esperando su respuesta"]
    assert view["timeline"][1]["comment"] == "La brigada irá el jueves."


def test_the_citizen_replies(api, engine, sent):
    with Session(engine, expire_on_commit=False) as s:
        found = rules.find(s, sent["code"])
        workflow.change_status(s, found, "assigned")
        workflow.change_status(s, found, "waiting_citizen", comment="Envíe una foto de cerca.")
        s.commit()
    key = new_key()
    body = {"text": "Aquí está.", "lang": "es", "attachments": report()["attachments"]}
    first = api.post(f"/api/v1/requests/{sent['code']}/replies", json=body, headers={"Idempotency-Key": key})
    again = api.post(f"/api/v1/requests/{sent['code']}/replies", json=body, headers={"Idempotency-Key": key})
    assert first.status_code == again.status_code == 201 and first.json() == again.json()
    view = first.json()
    assert view["status"] == "in_progress"
    assert [(e["actor"], e["label"]) for e in view["timeline"][-2:]] == [("citizen", "Su respuesta"),
                                                                         ("department", "En curso")]
    assert view["timeline"][-2]["attachments"] == [2]
    assert len(view["attachments"]) == 2 and stored(engine, Attachment) == 2
    missing = api.post("/api/v1/requests/0000-0000-0000-0000/replies", json=body)
    assert missing.status_code == 404


def test_lookup_several_at_once(api, sent):
    other = send(api, new_key(), description="Otra farola apagada.").json()
    r = api.post("/api/v1/requests/lookup", json={"codes": [sent["code"], "0000-0000-0000-0000", other["code"]],
                                                  "lang": "en"})
    assert r.status_code == 200
    assert [v["code"] for v in r.json()["requests"]] == [sent["code"], other["code"]]
    assert r.json()["missing"] == ["0000-0000-0000-0000"]
    assert api.post("/api/v1/requests/lookup", json={"codes": ["x"] * 21}).status_code == 422


def test_attachment_download(api, sent):
    r = api.get(sent["attachments"][0]["url"])
    assert r.status_code == 200 and r.content == JPEG
    assert r.headers["content-type"] == "image/jpeg"
    assert r.headers["x-content-type-options"] == "nosniff"
    assert "sandbox" in r.headers["content-security-policy"]
    assert api.get(sent["attachments"][0]["url"].replace("/1", "/2")).status_code == 404


def test_lookups_are_rate_limited_per_client(api, sent, monkeypatch):
    override_settings(monkeypatch, CITA_RATE_LOOKUP="3/60")
    ratelimit.limiter.cache_clear()
    answers = [api.get(f"/api/v1/requests/{code}").status_code
               for code in (sent["code"], "0000-0000-0000-0000", "1111-1111-1111-1111")]
    assert answers == [200, 404, 404]  # a wrong guess costs a token like a right one
    r = api.get(f"/api/v1/requests/{sent['code']}")
    assert r.status_code == 429
    assert 55 <= int(r.headers["retry-after"]) <= 60  # until the first of the three leaves the window
    assert r.json()["codes"] == {"code": "rate_limited"}
    assert api.post("/api/v1/requests/lookup", json={"codes": [sent["code"]]}).status_code == 429
    # Another client (behind our one trusted proxy) still gets through.
    override_settings(monkeypatch, CITA_TRUSTED_PROXIES="127.0.0.1")
    other = api.get(f"/api/v1/requests/{sent['code']}", headers={"X-Forwarded-For": "203.0.113.9"})
    assert other.status_code == 200
    # Writing is not a lookup: submitting still works.
    assert send(api, new_key()).status_code == 201


def test_openapi_documents_the_requests_api(api):
    paths = api.get("/api/v1/openapi.json").json()["paths"]
    for path in ("/api/v1/request-types", "/api/v1/requests", "/api/v1/requests/{code}",
                 "/api/v1/requests/lookup", "/api/v1/requests/{code}/replies",
                 "/api/v1/requests/{code}/attachments/{n}", "/api/open311/v2/services.json",
                 "/api/open311/v2/requests.json", "/api/open311/v2/requests/{service_request_id}.json"):
        assert path in paths, path


# --- the body limit -------------------------------------------------------------------------------------------


def test_oversized_bodies_are_refused_with_413():
    from fastapi import FastAPI
    from fastapi.testclient import TestClient

    app = FastAPI()

    @app.post("/echo")
    async def echo(payload: dict):
        return payload

    app.add_middleware(BodyLimit, max_body=100)
    client = TestClient(app)
    assert client.post("/echo", json={"a": "x" * 10}).status_code == 200
    big = client.post("/echo", json={"a": "x" * 200})
    assert big.status_code == 413 and big.json()["codes"] == {"attachments": "too_large"}

    def chunks():
        yield b'{"a": "'
        yield b"x" * 200
        yield b'"}'

    streamed = client.post("/echo", content=chunks(), headers={"content-type": "application/json"})
    assert streamed.status_code == 413

    def small():
        yield b'{"a": '
        yield b'"b"}'

    assert client.post("/echo", content=small(), headers={"content-type": "application/json"}).json() == {"a": "b"}


# --- the buckets ----------------------------------------------------------------------------------------------


def test_a_burst_then_one_more_as_old_hits_leave_the_window(monkeypatch):
    override_settings(monkeypatch, CITA_RATE_LOOKUP="3/2")
    assert [ratelimit.check("lookup", "a") for _ in range(3)] == [0, 0, 0]
    assert ratelimit.check("lookup", "a") in (1, 2)  # Retry-After: until the first hit leaves the window
    assert ratelimit.check("lookup", "b") == 0  # limits are per client
    assert ratelimit.check("open311", "a") == 0  # and per scope
    time.sleep(2.1)
    assert ratelimit.check("lookup", "a") == 0


def test_a_weighted_write_never_exceeds_the_limit(monkeypatch):
    override_settings(monkeypatch, CITA_RATE_PUSH="5/60")
    assert ratelimit.check("push", "a", cost=99) == 0  # capped at the whole window: one such write per window
    assert ratelimit.check("push", "a") > 0


@pytest.mark.parametrize("text, ok", [("30/60", True), ("5/1", True), ("0/60", False), ("3/0", False)])
def test_limits_parse(text, ok):
    if ok:
        assert ratelimit.parse(text).amount >= 1
    else:
        with pytest.raises(ValueError):
            ratelimit.parse(text)


def test_client_address_trusts_only_the_configured_proxies(monkeypatch):
    headers = {"x-forwarded-for": "1.1.1.1, 10.0.0.2"}
    assert client_address(headers, "10.0.0.1") == "10.0.0.1"  # no proxy configured: the socket
    override_settings(monkeypatch, CITA_TRUSTED_PROXIES="10.0.0.1")
    assert client_address(headers, "10.0.0.1") == "10.0.0.2"  # appended by our proxy; "1.1.1.1" is forgeable
    override_settings(monkeypatch, CITA_TRUSTED_PROXIES="10.0.0.0/8")  # two proxies of ours
    assert client_address(headers, "10.0.0.1") == "1.1.1.1"
    assert client_address(headers, "203.0.113.5") == "203.0.113.5"  # not from a proxy: its header is its own
    assert client_address({"x-forwarded-for": "rubbish"}, "10.0.0.1") == "10.0.0.1"


def test_redis_limits_are_shared_between_workers(monkeypatch):
    redis = pytest.importorskip("redis")
    url = os.environ.get("CITA_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
    client = redis.Redis.from_url(url, socket_timeout=1, socket_connect_timeout=1)
    try:
        client.ping()
    except redis.exceptions.ConnectionError as exc:
        if os.environ.get("CI") == "true":
            pytest.fail(f"Redis is required in CI but unreachable at {url}: {exc}")
        pytest.skip(f"Redis unreachable at {url}")
    monkeypatch.setattr(ratelimit, "PREFIX", f"cita:test:{secrets.token_hex(4)}")
    override_settings(monkeypatch, REDIS_URL=url)
    override_settings(monkeypatch, CITA_RATE_LOOKUP="2/60")
    worker_a = ratelimit.limiter()
    ratelimit.limiter.cache_clear()
    worker_b = ratelimit.limiter()  # another worker: its own connection, the same counts
    two = ratelimit.parse("2/60")
    try:
        assert worker_a.hit(two, "lookup", "ip") and worker_b.hit(two, "lookup", "ip")
        assert not worker_a.hit(two, "lookup", "ip")
        assert 55 <= ratelimit.check("lookup", "ip") <= 60  # Retry-After, as the API sends it
        assert ratelimit.check("lookup", "other") == 0
        keys = list(client.scan_iter(ratelimit.PREFIX + ":*"))
        assert keys and all(0 < client.ttl(k) <= 61 for k in keys)
    finally:
        for key in client.scan_iter(ratelimit.PREFIX + ":*"):
            client.delete(key)
        client.close()


def test_redis_down_limits_per_process_never_unlimited(monkeypatch):
    override_settings(monkeypatch, REDIS_URL="redis://127.0.0.1:1/0")  # nothing listens on port 1
    ratelimit.limiter.cache_clear()
    override_settings(monkeypatch, CITA_RATE_LOOKUP="1/60")
    assert [ratelimit.check("lookup", "ip") > 0 for _ in range(3)] == [False, True, True]
    assert ratelimit.degraded() and ratelimit.check("lookup", "other") == 0  # per client, as ever
    assert 0 < ratelimit._redis_down_until - time.monotonic() <= ratelimit.RETRY_REDIS  # one timeout, then memory
    monkeypatch.setattr(ratelimit, "_redis_down_until", 0.0)  # RETRY_REDIS later: Redis is tried again
    assert ratelimit.check("lookup", "ip") > 0 and ratelimit.degraded()


# --- the documented shapes ------------------------------------------------------------------------------------


def test_answers_match_their_documented_schemas(api, engine, sent):
    """The OpenAPI models forbid extra fields: what the API sends is exactly what the docs describe."""
    for lang in ("es", "en", "fr"):
        RequestTypesOut.model_validate(api.get("/api/v1/request-types", params={"lang": lang}).json())
    RequestView.model_validate(sent)
    with Session(engine, expire_on_commit=False) as s:
        found = rules.find(s, sent["code"])
        workflow.change_status(s, found, "assigned", comment="En ello.")
        workflow.change_status(s, found, "waiting_citizen", comment="¿Número de portal?")
        s.commit()
    waiting = api.get(f"/api/v1/requests/{sent['code']}", params={"lang": "en"}).json()
    RequestView.model_validate(waiting)
    replied = api.post(f"/api/v1/requests/{sent['code']}/replies", json={"text": "El 7."}).json()
    RequestView.model_validate(replied)
    LookupOut.model_validate(api.post("/api/v1/requests/lookup", json={"codes": [sent["code"], "nope"]}).json())
    ErrorOut.model_validate(api.get("/api/v1/requests/0000-0000-0000-0000").json())
    ErrorOut.model_validate(send(api, description="").json())
    schemas = api.get("/api/v1/openapi.json").json()["components"]["schemas"]
    assert {"RequestView", "TimelineEntry", "RequestTypesOut", "ErrorOut"} <= set(schemas)
