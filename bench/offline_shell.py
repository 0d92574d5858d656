"""How fast the app shell opens from the service worker's cache with the network off, next to the same built files
served as plain static files by Python's http.server on this machine.

Run from the repository root:  .venv/bin/python bench/offline_shell.py  [--loads 20] [--path /es/tramite/?p=...]

What it does (everything is stopped at the end, also on error or Ctrl-C; the whole run is bounded by --budget):
1. Starts the app the way tests/e2e/conftest.py does: a temporary SQLite file, `reflex db migrate`,
   `python -m pwa_app.seed`, then `reflex run --env prod --single-port` on a free port with REFLEX_API_URL set
   (this rebuilds `.web/build`), and waits for /ping.
2. Copies the built `.web/build/client` to a temporary directory (a snapshot: another build started meanwhile
   cannot change it under the benchmark) and serves it with http.server (ThreadingHTTPServer, HTTP/1.1
   keep-alive, no compression, no cache headers). The page address maps to `es/tramite/index.html`, its chunks to
   `assets/...`: the same HTML and files the service worker has precached.
3. Debian chromium through Playwright, phone profile (390x844, touch), one browser for both modes:
   - "SW offline": one context; one online visit to /es/ installs the service worker and saves the data
     (`html[data-saved]`, as tests/e2e/test_offline.py does); then `context.set_offline(True)`; every load is a
     new tab of that context opening PATH, answered by the service worker from its precache, data from IndexedDB.
   - "static": a separate context with service_workers="block", online, each load a new tab opening the same
     PATH from http.server. Two variants: "no HTTP cache" (CDP Network.setCacheDisabled: every file is fetched
     from the local server on every load) and "HTTP cache" (the browser's cache may answer; http.server sends
     Last-Modified and no Cache-Control, so Chromium revalidates or uses heuristic freshness).
   Two untimed loads per mode first, then LOADS timed loads per mode, interleaved (SW, static, static cached...).
4. Each load records, in the page and relative to its navigation start (performance.now(), so Playwright's own
   overhead is not included):
   - dcl:    DOMContentLoaded ended (PerformanceNavigationTiming.domContentLoadedEventEnd): the prerendered
             HTML parsed, its module scripts loaded and run.
   - fcp:    first-contentful-paint (the prerendered shell on screen).
   - ready:  the page is hydrated: `html[data-ready]` set by the shell's first effect (a MutationObserver added
             by an init script notes the moment). Needs only the JS, no data: comparable in both modes.
   - h1:     the procedure's <h1> is rendered with its data (name read from IndexedDB). SW mode only: the static
             server has no API and no saved data on its origin, so the page stays at "Cargando..." there.
   The printed table has median and p90 (nearest rank) per metric and mode, and the ratios of the medians SW/static.
Nothing is asserted about times: they depend on the machine and whatever else runs on it.
"""

import argparse
import http.server
import shutil
import statistics
import sys
import tempfile
import threading
import time
from functools import partial
from pathlib import Path

from _app import CHROMIUM, CHROMIUM_ARGS as ARGS, ROOT, pct, start_app, stop_app
from playwright.sync_api import TimeoutError as PlaywrightTimeout, sync_playwright

from tests.e2e.conftest import PHONE, free_port, wait_for
PROCEDURE_NAME = "Alta en el padrón"  # the h1 of /es/tramite/?p=alta-padron once its data is read

# Notes the moments the page becomes hydrated and its h1 appears, relative to navigation start.
MARKS = """
(() => {
  const marks = (window.__marks = {});
  const look = () => {
    const now = performance.now();
    const root = document.documentElement;
    if (marks.ready === undefined && root && root.hasAttribute("data-ready")) marks.ready = now;
    if (marks.h1 === undefined) {
      const h1 = document.querySelector("main h1");
      if (h1 && h1.textContent.trim()) { marks.h1 = now; marks.h1Text = h1.textContent.trim(); }
    }
  };
  new MutationObserver(look).observe(document, { subtree: true, childList: true, attributes: true,
                                                 attributeFilter: ["data-ready"], characterData: true });
})();
"""

COLLECT = """
() => {
  const nav = performance.getEntriesByType("navigation")[0];
  const fcp = performance.getEntriesByName("first-contentful-paint")[0];
  return { dcl: nav ? nav.domContentLoadedEventEnd : null, fcp: fcp ? fcp.startTime : null,
           ready: window.__marks.ready ?? null, h1: window.__marks.h1 ?? null, h1Text: window.__marks.h1Text ?? null,
           transfer: nav ? nav.transferSize : null, controlled: !!(navigator.serviceWorker && navigator.serviceWorker.controller) };
}
"""


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as the app's own server

    def log_message(self, *args):
        pass


def load(context, url: str, *, want_h1: bool, no_cache: bool, timeout_ms: int) -> dict:
    page = context.new_page()
    try:
        if no_cache:
            cdp = context.new_cdp_session(page)
            cdp.send("Network.enable")
            cdp.send("Network.setCacheDisabled", {"cacheDisabled": True})
        page.goto(url, wait_until="domcontentloaded", timeout=timeout_ms)
        page.wait_for_selector("html[data-ready]", state="attached", timeout=timeout_ms)
        if want_h1:
            page.wait_for_function("() => window.__marks.h1 !== undefined", timeout=timeout_ms)
        try:  # a paint entry comes a frame later; should one never come, that load has no fcp
            page.wait_for_function("() => performance.getEntriesByName('first-contentful-paint').length > 0",
                                   timeout=5_000)
        except PlaywrightTimeout:
            pass
        page.wait_for_function("() => performance.getEntriesByType('navigation')[0].domContentLoadedEventEnd > 0",
                               timeout=timeout_ms)
        return page.evaluate(COLLECT)
    finally:
        page.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--loads", type=int, default=20, help="timed loads per mode (default 20)")
    parser.add_argument("--path", default="/es/tramite/?p=alta-padron")
    parser.add_argument("--budget", type=float, default=900, help="seconds for the whole run, build included")
    args = parser.parse_args()
    deadline = time.monotonic() + args.budget
    started = time.monotonic()

    tmp = Path(tempfile.mkdtemp(prefix="cita-bench-shell-"))
    proc = httpd = None
    try:
        print(f"building and starting the app (log: {tmp / 'app.log'}) ...", flush=True)
        proc, base = start_app(tmp / "app.log", f"sqlite:///{tmp / 'cita.db'}")
        wait_for(f"{base}/ping", proc, timeout=max(30.0, deadline - time.monotonic() - 120))
        build = ROOT / ".web" / "build" / "client"
        static_dir = tmp / "client"
        shutil.copytree(build, static_dir)
        assert (static_dir / "sw.js").exists() and (static_dir / "es" / "tramite" / "index.html").exists()
        httpd = http.server.ThreadingHTTPServer(("127.0.0.1", free_port()),
                                                partial(QuietHandler, directory=str(static_dir)))
        threading.Thread(target=httpd.serve_forever, daemon=True).start()
        static_base = f"http://127.0.0.1:{httpd.server_address[1]}"
        print(f"app at {base} (ready after {time.monotonic() - started:.0f} s); static copy of the build at "
              f"{static_base}", flush=True)

        results: dict[str, list[dict]] = {"SW offline": [], "static, no HTTP cache": [], "static, HTTP cache": []}
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
            try:
                sw_ctx = browser.new_context(**PHONE, base_url=base)
                sw_ctx.add_init_script(MARKS)
                first = sw_ctx.new_page()
                first.goto("/es/", timeout=60_000)
                first.wait_for_function("() => navigator.serviceWorker && navigator.serviceWorker.controller !== null",
                                        timeout=60_000)
                first.wait_for_selector("html[data-saved]", state="attached", timeout=60_000)
                sw_ctx.set_offline(True)

                static_ctx = browser.new_context(**PHONE, base_url=static_base, service_workers="block")
                static_ctx.add_init_script(MARKS)

                modes = [
                    ("SW offline", sw_ctx, base, {"want_h1": True, "no_cache": False}),
                    ("static, no HTTP cache", static_ctx, static_base, {"want_h1": False, "no_cache": True}),
                    ("static, HTTP cache", static_ctx, static_base, {"want_h1": False, "no_cache": False}),
                ]
                for n in range(2 + args.loads):
                    for name, ctx, origin, opts in modes:
                        if time.monotonic() > deadline:
                            raise TimeoutError(f"over the --budget of {args.budget:.0f} s")
                        got = load(ctx, origin + args.path, timeout_ms=20_000, **opts)
                        if name == "SW offline":
                            assert got["controlled"] and PROCEDURE_NAME in (got["h1Text"] or ""), got
                        else:
                            assert not got["controlled"], got
                        if n >= 2:
                            results[name].append(got)
                first.close()
            finally:
                browser.close()

        report(results, args, time.monotonic() - started)
        return 0
    finally:
        if httpd is not None:
            httpd.shutdown()
            httpd.server_close()
        if proc is not None:
            stop_app(proc)
        shutil.rmtree(tmp, ignore_errors=True)


def report(results: dict[str, list[dict]], args, elapsed: float) -> None:
    metrics = [("dcl", "DOMContentLoaded"), ("fcp", "first contentful paint"), ("ready", "hydrated (data-ready)"),
               ("h1", "h1 with data")]
    print(f"\nOpening {args.path}: {args.loads} timed loads per mode, ms from navigation start "
          f"(run took {elapsed:.0f} s)\n")
    print(f"| {'metric':<24} | {'mode':<22} | {'median':>7} | {'p90':>7} |")
    print(f"|{'-' * 26}|{'-' * 24}|{'-' * 9}|{'-' * 9}|")
    medians: dict[tuple[str, str], float] = {}
    for key, label in metrics:
        for mode, rows in results.items():
            values = [r[key] for r in rows if r[key] is not None]
            if not values:
                continue
            medians[(key, mode)] = statistics.median(values)
            print(f"| {label:<24} | {mode:<22} | {statistics.median(values):7.1f} | {pct(values, 0.9):7.1f} |")
    print("\nRatios of the medians, SW offline / static:")
    for key, label in metrics[:3]:
        sw = medians.get((key, "SW offline"))
        for mode in ("static, no HTTP cache", "static, HTTP cache"):
            base = medians.get((key, mode))
            if sw and base:
                print(f"  {label:<24} SW / {mode:<22} {sw / base:5.2f}")
    sw_h1, static_ready = medians.get(("h1", "SW offline")), medians.get(("ready", "static, no HTTP cache"))
    if sw_h1 and static_ready:
        print(f"  {'h1 with data (SW)':<24} / hydrated (static, no HTTP cache) {sw_h1 / static_ready:5.2f}"
              "   (the static page never gets its data: no API there)")
    sizes = [r["transfer"] for r in results["static, no HTTP cache"] if r["transfer"] is not None]
    if sizes:
        print(f"\nHTML transfer size from http.server: {int(statistics.median(sizes))} bytes "
              "(from the service worker: 0, answered from Cache Storage)")


if __name__ == "__main__":
    sys.exit(main())
