"""The Reflex plugin that makes the app a PWA: Workbox packages in Reflex's own frontend install, and after
every production build (the only reliable moment: `reflex run --env prod` wipes the build each time) the citizen
pages' scripts started after `load` (`paint_before_scripts`), then the service worker bundled with bun and given
its precache manifest by workbox-build, written to the build as /sw.js."""

import gzip
import json
import re
import shutil
import subprocess
from pathlib import Path

import brotli

from reflex_base.constants import MemoizationDisposition, MemoizationMode
from reflex_base.plugins.base import Plugin

HERE = Path(__file__).parent
WORKBOX = "7.4.0"
NEVER = MemoizationMode(disposition=MemoizationDisposition.NEVER)
PRELOAD = re.compile(r'<link[^>]* rel="modulepreload"[^>]*>|<link rel="modulepreload"[^>]*>')
BOOT = re.compile(r'<script type="module"(?: async="")?>(import "[^"]+";.*?)</script>', re.S)
STATIC_IMPORT = re.compile(r'import (?:\* as (\w+) from )?("[^"]+");\s*')
COMPRESSED_COPIES = {".gz": lambda data: gzip.compress(data, 9, mtime=0), ".br": brotli.compress}


def scripts_after_load(html: str) -> str:
    """One page with its scripts started by the `load` event: React Router's module preloads dropped, and its
    boot module's static imports (the route manifest first, then the route modules) made dynamic imports run on
    `load`. The prerendered page needs only its HTML and stylesheet to show; the modules (~170 KB gz) only hydrate
    it. Fetched from the head, they sit in the largest paint's chain on Lighthouse's slow 4G (2.4 s simulated
    with the content in the HTML); after `load`, they are not in it. This follows React Router 7's HTML: a page
    with module scripts but not this boot script raises (tests/unit/test_build.py keeps a real page)."""
    boot = BOOT.search(html)
    if not boot:
        raise ValueError("React Router's boot module was not found: the page cannot start its scripts after load")
    (_, manifest), *routes = STATIC_IMPORT.findall(boot.group(1))
    rest = STATIC_IMPORT.sub("", boot.group(1)).strip()
    names = ", ".join(name for name, _ in routes)
    start = (f"const start = async () => {{ await import({manifest}); "
             f"const [{names}] = await Promise.all([{', '.join(f'import({url})' for _, url in routes)}]); {rest} }};\n"
             'document.readyState === "complete" ? start() : addEventListener("load", start, { once: true });')
    return PRELOAD.sub("", html[:boot.start()] + f'<script type="module">{start}</script>' + html[boot.end():])


def paint_before_scripts(static_dir: Path) -> int:
    """Starts the scripts after `load` in every built citizen page (`scripts_after_load`), and rewrites the page's
    compressed copies; returns how many pages. Staff pages (online, on a tablet) keep React Router's own start."""
    pages = 0
    for page in static_dir.rglob("*.html"):
        html = page.read_text()
        if '<script type="module"' not in html or page.relative_to(static_dir).parts[0].startswith("staff"):
            continue
        data = scripts_after_load(html).encode()
        page.write_bytes(data)
        for suffix, compress in COMPRESSED_COPIES.items():
            if (copy := page.with_name(page.name + suffix)).exists():
                copy.write_bytes(compress(data))
        pages += 1
    return pages


class PwaPlugin(Plugin):
    def get_frontend_development_dependencies(self, **context):
        return [f"workbox-{name}@{WORKBOX}" for name in ("build", "core", "precaching", "routing", "strategies")]

    def get_frontend_dependencies(self, **context):
        return [f"workbox-window@{WORKBOX}", "altcha-lib@1.4.1"]

    def get_static_assets(self, **context):
        """The citizen forms' rules (components/rules.py), imported by the data module as JSON."""
        from components.rules import rules  # the services load only when the app is compiled

        return [(Path("public") / "rules.json", json.dumps(rules(), ensure_ascii=False))]

    def post_build(self, **context):
        static_dir: Path = Path(context["static_dir"]).resolve()
        print(f"{paint_before_scripts(static_dir)} pages: scripts started after load")
        web = static_dir.parents[1]  # .web/, where node_modules is
        bundled = web / "sw.bundle.js"
        shutil.copy(HERE / "sw.js", web / "sw.src.js")
        shutil.copy(HERE / "inject.mjs", web / "sw.inject.mjs")
        bun = shutil.which("bun") or "bun"
        run = lambda *cmd: subprocess.run(cmd, cwd=web, check=True)  # noqa: E731
        run(bun, "build", "sw.src.js", "--minify", "--format=iife", "--target=browser",
            "--define", 'process.env.NODE_ENV="production"', f"--outfile={bundled.name}")
        run(shutil.which("node") or "node", "sw.inject.mjs", bundled.name, str(static_dir / "sw.js"), str(static_dir))


class NoMemoPlugin(Plugin):
    """Keeps every citizen page in its own route chunk. Reflex memoizes each component that reads a hook or has
    an event handler into one module shared by all pages; our citizen pages read everything from data hooks and
    exist once per language, so that module grew to 3 MB (142 KB gz) loaded on every page, and each memoized
    piece called the page's data hook again. Pages this small re-render cheaply as a whole."""

    def enter_component(self, comp, /, *, page_context, compile_context, in_prop_tree=False):
        if not page_context.route.lstrip("/").startswith("staff"):
            object.__setattr__(comp, "_memoization_mode", NEVER)
        return None
