"""The Content-Security-Policy and the other security headers against the real build, in chromium: no citizen
page (nor the staff sign-in) breaks a directive — online, from the service worker, and offline — the service
worker still registers; citizen pages open no websocket and staff pages do; hashed assets are immutable, HTML
revalidated, and the pages paint before their scripts."""

import gzip
import re
import urllib.request

import brotli
import pytest

# Every violation the page reports, collected before any of its own scripts run.
LISTEN = """
window.__csp = [];
document.addEventListener('securitypolicyviolation', e => window.__csp.push(
  {directive: e.violatedDirective, blocked: e.blockedURI, sample: (e.sample || '').slice(0, 80)}));
"""
PAGES = ["/es/", "/es/tramite/?p=alta-padron", "/es/reservar/?p=cambio-domicilio-padron", "/es/cita/",
         "/es/mis-citas/", "/es/solicitudes/", "/es/solicitud/nueva/", "/es/solicitud/", "/ar/", "/en/tramite/"]


def headers_of(url: str) -> dict:
    request = urllib.request.Request(url, headers={"Accept-Encoding": "br, gzip"})
    with urllib.request.urlopen(request, timeout=10) as answer:
        return {k.lower(): v for k, v in answer.headers.items()}


def test_headers_on_pages_assets_and_api(app_server):
    page = headers_of(app_server.base_url + "/es/")
    policy = page["content-security-policy"]
    script_src = next(d for d in policy.split("; ") if d.startswith("script-src"))
    assert "'unsafe-inline'" not in script_src and "'unsafe-eval'" not in script_src
    assert len(re.findall(r"'sha256-", script_src)) >= 5  # React Router's and our inline scripts
    for directive in ("object-src 'none'", "base-uri 'self'", "frame-ancestors 'none'"):
        assert directive in policy
    assert page["cache-control"] == "no-cache"
    assert page["x-content-type-options"] == "nosniff" and page["referrer-policy"] == "same-origin"
    assert "geolocation=(self)" in page["permissions-policy"]
    assert "strict-transport-security" not in page  # plain HTTP here
    html = urllib.request.urlopen(app_server.base_url + "/es/", timeout=10).read().decode()
    asset = re.search(r'src="(/assets/[^"]+-[A-Za-z0-9_-]{8}\.js)"|href="(/assets/[^"]+-[A-Za-z0-9_-]{8}\.css)"',
                      html)
    assert asset, "no hashed asset in the page"
    assert headers_of(app_server.base_url + (asset.group(1) or asset.group(2)))["cache-control"] == \
        "public, max-age=31536000, immutable"
    assert headers_of(app_server.base_url + "/sw.js")["cache-control"] == "no-cache"
    api = headers_of(app_server.base_url + "/api/v1/health")
    assert api["x-content-type-options"] == "nosniff" and "content-security-policy" in api


@pytest.mark.parametrize("encoding", ["br", "gzip", "identity"])
def test_pages_paint_before_their_scripts(app_server, encoding):
    """Citizen pages, in each form the server sends them, start their scripts on `load` with no module preload
    (pwa_app/pwa/plugin.py), so the first paint waits only for the HTML and the stylesheet; staff pages keep React
    Router's own start. Fails if React Router changes its output."""
    decode = {"br": brotli.decompress, "gzip": gzip.decompress, "identity": bytes}[encoding]
    for path in ("/es/", "/es/tramite/", "/ar/reservar/", "/staff/login/"):
        request = urllib.request.Request(app_server.base_url + path, headers={"Accept-Encoding": encoding})
        with urllib.request.urlopen(request, timeout=10) as answer:
            assert answer.headers.get("Content-Encoding", "identity") == encoding, path
            html = decode(answer.read()).decode()
        preloads = re.findall(r"<link[^>]*modulepreload[^>]*>", html)
        started_on_load = 'addEventListener("load", start' in html
        if path.startswith("/staff/"):
            assert preloads and not started_on_load, path
        else:
            assert not preloads and started_on_load, (path, preloads[:2])


@pytest.fixture
def watched(context):
    context.add_init_script(LISTEN)
    return context


def test_no_policy_violation_online_and_offline(page, watched, app_server):
    sockets = []
    page.on("websocket", lambda ws: sockets.append(ws.url))
    page.goto("/es/")
    page.wait_for_function("() => navigator.serviceWorker && navigator.serviceWorker.controller !== null",
                           timeout=60_000)
    page.wait_for_selector("html[data-saved]", state="attached", timeout=60_000)
    for path in PAGES:
        page.goto(path)
        page.wait_for_timeout(300)
        assert page.evaluate("window.__csp") == [], path
    assert sockets == [], "a citizen page opened Reflex's websocket (they never use backend state)"
    assert page.evaluate("navigator.serviceWorker.controller.scriptURL").endswith("/sw.js")
    staff = watched.new_page()  # staff pages have no citizen shell (no data-ready): a plain page
    staff.on("websocket", lambda ws: sockets.append(ws.url))
    staff.goto("/staff/login/")
    staff.wait_for_load_state("networkidle")
    assert staff.evaluate("window.__csp") == [], "/staff/login/"
    assert any("/_event" in url for url in sockets), "the staff page's websocket never opened"
    staff.close()
    watched.set_offline(True)
    for path in PAGES:
        page.goto(path)
        page.wait_for_timeout(300)
        assert page.evaluate("window.__csp") == [], f"{path} offline"
    watched.set_offline(False)


def test_booking_flow_under_the_policy(page, watched):
    """Typing, picking a time and sending a booking runs only allowed scripts (the data module, the outbox)."""
    page.goto("/es/reservar/?p=cambio-domicilio-padron")
    page.get_by_role("button", name=re.compile("Oficina de Atención a la Ciudadanía")).click()
    page.locator("button.day.open").first.click()
    page.locator("button.time:not([disabled])").first.click()
    page.wait_for_timeout(500)
    assert page.evaluate("window.__csp") == []
