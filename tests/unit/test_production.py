"""Production concerns without a browser: the health endpoint, and the security and cache headers the ASGI
middleware adds (the browser side — no CSP violation on real pages — is in tests/e2e/test_security.py)."""

import base64
import gzip
import hashlib

import brotli
import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select
from starlette.applications import Starlette
from starlette.responses import HTMLResponse, JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from pwa_app import db
from pwa_app.security import SecurityHeaders, csp, script_hashes
from tests.unit.conftest import PEER, override_settings

# --- health ---------------------------------------------------------------------------------------------------


def test_health_ok_without_redis(api, monkeypatch):
    override_settings(monkeypatch, REDIS_URL=None)
    r = api.get("/api/v1/health")
    assert r.status_code == 200
    assert r.json() == {"status": "ok", "database": "ok", "redis": "not configured"}
    assert r.headers["cache-control"] == "no-store"


def test_health_checks_redis_when_configured(api, monkeypatch):
    import redis

    try:
        redis.Redis.from_url("redis://127.0.0.1:6379/0", socket_connect_timeout=1).ping()
    except redis.RedisError:
        pytest.skip("no Redis at 127.0.0.1:6379")
    override_settings(monkeypatch, REDIS_URL="redis://127.0.0.1:6379/0")
    assert api.get("/api/v1/health").json()["redis"] == "ok"


def test_health_alive_but_degraded_when_redis_is_down(api, monkeypatch):
    # Citizens need no Redis: a load balancer must keep this worker (a 503 took every worker out at once).
    override_settings(monkeypatch, REDIS_URL="redis://127.0.0.1:1/0")  # nothing listens on port 1
    r = api.get("/api/v1/health")
    assert r.status_code == 200
    assert r.json() == {"status": "degraded", "database": "ok", "redis": "error"}


def test_health_503_when_the_database_is_down(api, monkeypatch, tmp_path):
    override_settings(monkeypatch, REDIS_URL=None)
    override_settings(monkeypatch, DATABASE_URL=f"sqlite:///{tmp_path}/missing-dir/x.db")
    db.engine.cache_clear()
    r = api.get("/api/v1/health")
    assert r.status_code == 503 and r.json()["database"] == "error"
    assert "missing-dir" not in r.text  # no details given away


# --- security and cache headers -------------------------------------------------------------------------------

PAGE = (b'<!DOCTYPE html><html><head><script>window.a=1;</script><script type="module" async="">import "/x.js";'
        b'</script><script src="/assets/app-AbCdEf12.js"></script><script type="application/json">{"x":1}</script>'
        b'</head><body><script>window.a=1;</script></body></html>')


def sha(text: bytes) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text).digest()).decode() + "'"


def test_script_hashes_of_inline_scripts_only():
    assert script_hashes(PAGE) == [sha(b"window.a=1;"), sha(b'import "/x.js";')]


def site(tmp_path, build=None, api_url="http://localhost:3000"):
    async def page(request):
        return HTMLResponse(PAGE)

    async def page_gz(request):
        return Response(gzip.compress(PAGE), media_type="text/html; charset=utf-8",
                        headers={"Content-Encoding": "gzip"})

    async def page_br(request):  # a precompressed sidecar the middleware cannot decode: found in the build index
        return Response((build / "es" / "index.html.br").read_bytes(), media_type="text/html",
                        headers={"Content-Encoding": "br"})

    async def asset(request):
        return PlainTextResponse("x", media_type="text/javascript")

    async def api(request):
        return JSONResponse({"ok": True}, headers={"Cache-Control": "private, no-cache"})

    async def plain(request):
        return PlainTextResponse("icon")

    app = Starlette(routes=[Route("/es/", page), Route("/gz/", page_gz), Route("/br/", page_br),
                            Route("/assets/root-DS2IhyR-.js", asset), Route("/api/v1/x", api),
                            Route("/icon-192.png", plain), Route("/sw.js", asset)])
    return TestClient(SecurityHeaders(app, build_dir=build or tmp_path, api_url=api_url), client=PEER)


def test_every_response_has_the_security_headers(tmp_path):
    client = site(tmp_path)
    for path in ("/es/", "/assets/root-DS2IhyR-.js", "/api/v1/x", "/icon-192.png", "/nowhere"):
        h = client.get(path).headers
        assert h["x-content-type-options"] == "nosniff"
        assert h["referrer-policy"] == "same-origin"
        assert "geolocation=(self)" in h["permissions-policy"] and "camera=()" in h["permissions-policy"]
        policy = h["content-security-policy"]
        for directive in ("default-src 'self'", "object-src 'none'", "base-uri 'self'", "frame-ancestors 'none'"):
            assert directive in policy
        assert "unsafe-eval" not in policy and "strict-transport-security" not in h


def test_html_policy_allows_exactly_its_inline_scripts(tmp_path):
    client = site(tmp_path)
    for path in ("/es/", "/gz/"):
        policy = client.get(path, headers={"Host": "cita.example.es"}).headers["content-security-policy"]
        script_src = next(d for d in policy.split("; ") if d.startswith("script-src"))
        assert script_src == " ".join(["script-src", "'self'", sha(b"window.a=1;"), sha(b'import "/x.js";')])
        assert "'unsafe-inline'" not in script_src
        connect = next(d for d in policy.split("; ") if d.startswith("connect-src"))
        assert connect.split()[1:] == ["'self'", "ws://cita.example.es", "wss://cita.example.es",
                                       "http://localhost:3000", "ws://localhost:3000"]


def test_precompressed_html_is_found_in_the_build(tmp_path):
    build = tmp_path / "client"
    (build / "es").mkdir(parents=True)
    (build / "es" / "index.html").write_bytes(PAGE)
    (build / "es" / "index.html.br").write_bytes(brotli.compress(PAGE))
    policy = site(tmp_path, build).get("/br/").headers["content-security-policy"]
    assert sha(b"window.a=1;") in policy and sha(b'import "/x.js";') in policy


def test_cache_headers(tmp_path):
    client = site(tmp_path)
    assert client.get("/assets/root-DS2IhyR-.js").headers["cache-control"] == "public, max-age=31536000, immutable"
    assert client.get("/es/").headers["cache-control"] == "no-cache"
    assert client.get("/sw.js").headers["cache-control"] == "no-cache"
    assert client.get("/icon-192.png").headers["cache-control"] == "no-cache"
    assert client.get("/api/v1/x").headers["cache-control"] == "private, no-cache"  # the handler's own


def test_hsts_only_over_https(tmp_path, monkeypatch):
    client = site(tmp_path)
    override_settings(monkeypatch, CITA_TRUSTED_PROXIES=None)
    assert "strict-transport-security" not in client.get("/es/", headers={"X-Forwarded-Proto": "https"}).headers
    override_settings(monkeypatch, CITA_TRUSTED_PROXIES="10.0.0.0/8")  # another address's X-Forwarded-Proto is not ours
    assert "strict-transport-security" not in client.get("/es/", headers={"X-Forwarded-Proto": "https"}).headers
    override_settings(monkeypatch, CITA_TRUSTED_PROXIES="127.0.0.1")  # from our proxy, its X-Forwarded-Proto counts
    assert client.get("/es/", headers={"X-Forwarded-Proto": "https"}).headers["strict-transport-security"] \
        == "max-age=31536000"
    assert "strict-transport-security" not in client.get("/es/", headers={"X-Forwarded-Proto": "http"}).headers
    secure = TestClient(client.app, base_url="https://cita.example.es")
    override_settings(monkeypatch, CITA_TRUSTED_PROXIES=None)
    assert "strict-transport-security" in secure.get("/es/").headers


def test_the_policy_text():
    text = csp([sha(b"x")], host="localhost:3000")
    assert text.startswith("default-src 'self'; script-src 'self' 'sha256-")
    assert "style-src 'self' 'unsafe-inline'" in text and "worker-src 'self'" in text
    assert "ws://localhost:3000" in csp([], host="localhost:3000")
    assert "evil" not in csp([], host="x' 'unsafe-inline' evil")  # a forged Host cannot widen the policy


def test_the_app_is_wrapped():
    """pwa_app.py hands the FastAPI app, the staff pages' guard and then the headers' middleware to
    api_transformer."""
    from pathlib import Path

    source = (Path(__file__).parents[2] / "pwa_app" / "pwa_app.py").read_text()
    assert "api_transformer=[create_api(), StaffPagesGuard, SecurityHeaders]" in source


def test_html_sent_as_a_file_path_gets_its_hashes(tmp_path):
    """Granian answers files with the ASGI pathsend extension: no body passes through the middleware."""
    import asyncio

    page = tmp_path / "index.html"
    page.write_bytes(PAGE)

    async def app(scope, receive, send):
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"content-type", b"text/html; charset=utf-8")]})
        await send({"type": "http.response.pathsend", "path": str(page)})

    sent = []

    async def send(message):
        sent.append(message)

    async def receive():
        return {"type": "http.request", "body": b"", "more_body": False}

    scope = {"type": "http", "method": "GET", "path": "/es/", "headers": [(b"host", b"localhost")], "scheme": "http"}
    asyncio.run(SecurityHeaders(app, build_dir=tmp_path, api_url="")(scope, receive, send))
    assert [m["type"] for m in sent] == ["http.response.start", "http.response.pathsend"]
    policy = dict(sent[0]["headers"])[b"content-security-policy"].decode()
    assert sha(b"window.a=1;") in policy and sha(b'import "/x.js";') in policy


# --- validation errors in the API's own shape -----------------------------------------------------------------


def test_a_malformed_body_answers_the_api_error_shape(api):
    r = api.post("/api/v1/requests", json={"description": "x" * 30_000}, headers={"Idempotency-Key": "valid-key-123"})
    assert r.status_code == 422
    assert r.json()["codes"] == {"type": "required", "description": "too_long"}
    from pwa_app.common.i18n import gettext
    from pwa_app.common.messages import ERRORS

    assert r.json()["errors"]["type"] == gettext("es", ERRORS["required"])
    english = api.get("/api/v1/availability", params={"lang": "en"})  # procedure and office missing
    assert english.status_code == 422 and english.json()["codes"] == {"procedure": "required", "office": "required"}
    assert english.json()["errors"]["office"] == "This field is required."


def test_open311_validation_errors_are_open311_errors(api):
    r = api.get("/api/open311/v2/media/ABC/0")
    assert r.status_code == 400
    assert r.json()[0]["code"] == 400 and r.json()[0]["description"].startswith("n: ")


def test_the_openapi_document_describes_those_errors(api):
    doc = api.get("/api/v1/openapi.json").json()
    assert doc["components"]["schemas"]["HTTPValidationError"]["required"] == ["errors", "codes"]
    media = doc["paths"]["/api/open311/v2/media/{service_request_id}/{n}"]["get"]["responses"]
    assert "400" in media and "422" not in media


# --- cached labels (the availability answer labels every slot) ------------------------------------------------


def test_cached_labels_are_babels():
    from datetime import date, datetime

    from babel.dates import format_skeleton, format_time

    from pwa_app.common.i18n import LANGUAGES, TZ, day_label, month_label, time_label

    for lang in LANGUAGES:
        for day in (date(2026, 12, 1), date(2027, 3, 28)):
            assert day_label(day, lang) == format_skeleton("MMMMEEEEd", day, locale=lang)
            assert month_label(day, lang) == format_skeleton("yMMMM", day, locale=lang)
        moment = datetime(2026, 10, 25, 2, 30, tzinfo=TZ)
        assert time_label(moment, lang) == format_time(moment, "HH:mm", locale=lang)
    assert time_label(datetime(2026, 12, 1, 9, 5), "xx") == "09:05"


def test_no_policy_on_not_modified(tmp_path):
    """A 304 updates the stored page's headers: a policy without the page's hashes would break it."""
    async def not_modified(request):
        return Response(status_code=304, headers={"ETag": '"x"'})

    app = Starlette(routes=[Route("/es/", not_modified)])
    answer = TestClient(SecurityHeaders(app, build_dir=tmp_path, api_url="")).get("/es/")
    assert answer.status_code == 304
    assert "content-security-policy" not in answer.headers
    assert answer.headers["x-content-type-options"] == "nosniff"


# --- the catalogue cache with several workers -----------------------------------------------------------------


def test_every_worker_sees_a_catalogue_change(engine, monkeypatch):
    """A staff edit in one worker reaches the citizens served by the others (the version counter is in Redis)."""
    import secrets

    import redis

    from pwa_app.models import Procedure
    from pwa_app.catalogue import published

    url = "redis://127.0.0.1:6379/0"
    try:
        redis.Redis.from_url(url, socket_connect_timeout=1).ping()
    except redis.RedisError:
        pytest.skip("no Redis at 127.0.0.1:6379")
    override_settings(monkeypatch, REDIS_URL=url)
    monkeypatch.setattr(published, "VERSION_KEY", f"cita:test:{secrets.token_hex(4)}:published-version")
    monkeypatch.setattr(published, "_cache", {})

    def name_shown() -> str:
        with Session(engine) as s:
            return next(p["name"] for p in published.cached(s, "es")["procedures"] if p["slug"] == "alta-padron")

    try:
        before = name_shown()
        with Session(engine) as s:
            proc = s.exec(select(Procedure).where(Procedure.slug == "alta-padron")).one()
            proc.name = "Alta en el padrón municipal (nuevo texto)"
            s.add(proc)
            s.commit()
        assert name_shown() == before  # kept: nobody said the catalogue changed
        db.redis().incr(published.VERSION_KEY)  # what published.changed() in another worker does
        assert name_shown() == "Alta en el padrón municipal (nuevo texto)"
    finally:
        db.redis().delete(published.VERSION_KEY)


def test_a_catalogue_survives_redis_going_away(engine, monkeypatch):
    from pwa_app.catalogue import published

    monkeypatch.setattr(published, "_cache", {})
    override_settings(monkeypatch, REDIS_URL=None)
    with Session(engine) as s:
        kept = published.cached(s, "es")
        override_settings(monkeypatch, REDIS_URL="redis://127.0.0.1:1/0")  # nothing listens on port 1
        assert published.cached(s, "es") is kept  # a stale published beats an error page
        published.changed()  # logged, not raised
