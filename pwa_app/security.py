"""Security and cache headers on every HTTP response: an ASGI middleware given to `rx.App(api_transformer=...)`
after the FastAPI app, so it wraps the API, Reflex's own endpoints and the built frontend alike.

- Content-Security-Policy. Scripts: 'self' plus the SHA-256 of each inline script of the page being served —
  React Router and React put a few inline scripts in every prerendered page (router context, stream, scroll
  restoration, Reflex's theme script, our <html lang> script, the route's module imports), different per route,
  so the hashes are computed from the HTML itself (no 'unsafe-inline', no 'unsafe-eval': Reflex only evals for
  `rx.call_script`, which citizen pages never use). Styles need 'unsafe-inline' (emotion's <style> tags and
  style attributes). connect-src allows the websocket (/_event) and the API on the same host, and the backend
  address baked into the build (REFLEX_API_URL) when it differs.
- X-Content-Type-Options, Referrer-Policy (same-origin: booking codes in addresses never leave the site),
  Permissions-Policy (geolocation for the request form only), X-Frame-Options (old browsers), and
  Strict-Transport-Security only when the request came over HTTPS (directly, or from a trusted proxy:
  CITA_TRUSTED_PROXIES and X-Forwarded-Proto https, see pwa_app/proxy.py; CITA_HSTS=0 turns it off).
- Cache-Control: hashed build files (/assets/name-HASH.js|css) are immutable for a year; HTML and the service
  worker are `no-cache` (revalidated on every load, so a new build is seen at once); other files keep what their
  handler set, else `no-cache`.
"""

import base64
import gzip
import hashlib
import os
import re
import zlib
from pathlib import Path
from urllib.parse import urlsplit

from pwa_app import proxy
from pwa_app.settings import get_settings

IMMUTABLE = b"public, max-age=31536000, immutable"
NO_CACHE = b"no-cache"
HASHED_ASSET = re.compile(r"^/assets/.+-[A-Za-z0-9_-]{8,}\.(?:js|mjs|css|woff2?|svg|png|webp)$")
INLINE_SCRIPT = re.compile(rb"<script\b([^>]*)>(.*?)</script\s*>", re.S | re.I)
HAS_SRC = re.compile(rb"\ssrc\s*=", re.I)
MAX_HTML = 2 * 1024 * 1024  # larger HTML bodies are not held back to be hashed
PERMISSIONS = ("geolocation=(self), camera=(), microphone=(), payment=(), usb=(), serial=(), "
               "midi=(), magnetometer=(), gyroscope=(), accelerometer=(), display-capture=(), browsing-topics=()")
STATIC_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
    (b"permissions-policy", PERMISSIONS.encode()),
    (b"x-frame-options", b"DENY"),
    (b"cross-origin-opener-policy", b"same-origin"),
]
HSTS = b"max-age=31536000"


def script_hashes(html: bytes) -> list[str]:
    """'sha256-...' sources of the inline scripts of an HTML document, in order, without repeats."""
    found: list[str] = []
    for match in INLINE_SCRIPT.finditer(html):
        attrs, body = match.groups()
        if HAS_SRC.search(attrs):
            continue
        if re.search(rb"type\s*=\s*[\"']?application/(?:ld\+)?json", attrs, re.I):
            continue  # data blocks are not executed
        source = "'sha256-" + base64.b64encode(hashlib.sha256(body).digest()).decode() + "'"
        if source not in found:
            found.append(source)
    return found


# The API's Swagger page (a developer tool, not a citizen page) loads its script and style from a CDN.
DOCS = {"/api/v1/docs": {"script": "https://cdn.jsdelivr.net", "style": "https://cdn.jsdelivr.net",
                         "img": "https://fastapi.tiangolo.com"}}


def csp(hashes: list[str], host: str = "", api_url: str = "", extra: dict[str, str] | None = None) -> str:
    extra = extra or {}
    connect = ["'self'"]
    for origin in _origins(host, api_url):
        if origin not in connect:
            connect.append(origin)
    more = {k: " " + v for k, v in extra.items()}
    return "; ".join([
        "default-src 'self'",
        " ".join(["script-src 'self'", *hashes]) + more.get("script", ""),
        "style-src 'self' 'unsafe-inline'" + more.get("style", ""),
        "img-src 'self' data: blob:" + more.get("img", ""),
        "font-src 'self'",
        "connect-src " + " ".join(connect),
        "worker-src 'self'",
        "manifest-src 'self'",
        "media-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ])


def _origins(host: str, api_url: str) -> list[str]:
    """ws/wss for the page's own host (some browsers do not count ws: as 'self'), and the backend address."""
    out = []
    if host and re.fullmatch(r"[A-Za-z0-9.\-\[\]:]+", host):
        out += [f"ws://{host}", f"wss://{host}"]
    if api_url:
        parts = urlsplit(api_url)
        if parts.scheme in ("http", "https") and parts.netloc:
            ws = "wss" if parts.scheme == "https" else "ws"
            out += [f"{parts.scheme}://{parts.netloc}", f"{ws}://{parts.netloc}"]
    return out


def _decode(body: bytes, encoding: str) -> bytes | None:
    try:
        if encoding in ("", "identity"):
            return body
        if encoding == "gzip":
            return gzip.decompress(body)
        if encoding == "deflate":
            return zlib.decompress(body)
    except (OSError, zlib.error, EOFError):
        return None
    return None  # br, zstd: found through the build index instead


class BuildIndex:
    """The inline-script hashes of every built HTML file, keyed by the SHA-256 of the bytes served (the .html,
    and its precompressed .gz/.br/.zst sidecars), rebuilt when the build directory changes."""

    def __init__(self, directory: Path | None):
        self.directory = directory
        self.stamp: float | None = None
        self.by_digest: dict[str, list[str]] = {}
        self.union: list[str] = []

    def _refresh(self) -> None:
        if self.directory is None or not self.directory.is_dir():
            return
        stamp = self.directory.stat().st_mtime
        if stamp == self.stamp:
            return
        by_digest, union = {}, []
        for html in self.directory.rglob("*.html"):
            try:
                text = html.read_bytes()
            except OSError:
                continue
            hashes = script_hashes(text)
            union += [h for h in hashes if h not in union]
            for variant in (html, *(html.with_name(html.name + s) for s in (".gz", ".br", ".zst"))):
                try:
                    data = text if variant == html else variant.read_bytes()
                except OSError:
                    continue
                by_digest[hashlib.sha256(data).hexdigest()] = hashes
        self.by_digest, self.union, self.stamp = by_digest, union, stamp

    def lookup(self, body: bytes) -> list[str] | None:
        digest = hashlib.sha256(body).hexdigest()
        if digest not in self.by_digest:
            self._refresh()
        return self.by_digest.get(digest)

    def all_hashes(self) -> list[str]:
        self._refresh()
        return self.union


def default_build_dir() -> Path | None:
    try:
        # Here, not at the top: the middleware is also used outside a Reflex project (unit tests).
        from reflex.utils import prerequisites
        from reflex_base import constants  # (see above)

        return (prerequisites.get_web_dir() / constants.Dirs.STATIC).resolve()
    except Exception:  # noqa: BLE001 - outside a Reflex project (unit tests)
        return Path(".web/build/client").resolve()


def public_url() -> str:
    """Where citizens open the app (links in mails): CITA_PUBLIC_URL, else the address Reflex was built for."""
    url = get_settings().public_url or get_settings().reflex_api_url or "http://localhost:3000"
    return url.rstrip("/")


def public_origin() -> str:
    """scheme://host[:port] of the public address: the one origin allowed to call the API with credentials (CORS)
    and to open the websocket."""
    url = urlsplit(public_url())
    return f"{url.scheme}://{url.netloc}"


class SecurityHeaders:
    """The ASGI middleware. `SecurityHeaders(app)` is what api_transformer calls."""

    def __init__(self, app, build_dir: Path | None = None, api_url: str | None = None):
        self.app = app
        self.index = BuildIndex(build_dir if build_dir is not None else default_build_dir())
        self.api_url = api_url if api_url is not None else get_settings().reflex_api_url
        self.cache: dict[str, list[str]] = {}  # body digest, or file path and version -> hashes

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        path = scope.get("path", "")
        headers = dict(scope.get("headers") or [])
        host = headers.get(b"host", b"").decode("latin-1")
        https = proxy.is_https(scope)
        start: dict | None = None
        held: list[bytes] = []
        held_size = 0

        def finish_headers(message: dict, html_hashes: list[str] | None) -> dict:
            raw = [(k, v) for k, v in message.get("headers", [])]
            names = {k.lower() for k, _ in raw}
            extra = [h for h in STATIC_HEADERS if h[0] not in names]
            content_type = _header(raw, b"content-type")
            is_html = content_type.startswith(b"text/html")
            # A 304 carries no body to hash; browsers would store its policy with the cached page (a policy
            # without the page's script hashes blocks React): leave the cached policy alone.
            # (Nor on HEAD for a page, which may update a stored response the same way.)
            if (b"content-security-policy" not in names and message.get("status") != 304
                    and not (is_html and scope.get("method") == "HEAD")):
                hashes = html_hashes if is_html else []
                policy = csp(hashes or [], host, self.api_url, DOCS.get(path))
                extra.append((b"content-security-policy", policy.encode()))
            if https and get_settings().hsts:
                extra.append((b"strict-transport-security", HSTS))
            cache = None
            if message.get("status", 200) < 400 and HASHED_ASSET.match(path):
                cache = IMMUTABLE
            elif is_html or path == "/sw.js":
                cache = NO_CACHE
            elif b"cache-control" not in names:
                cache = NO_CACHE
            if cache is not None:
                raw = [(k, v) for k, v in raw if k.lower() != b"cache-control"]
                extra.append((b"cache-control", cache))
            return {**message, "headers": raw + extra}

        async def send_wrapper(message):
            nonlocal start, held_size
            if message["type"] == "http.response.start":
                content_type = _header(message.get("headers", []), b"content-type")
                if content_type.startswith(b"text/html") and scope.get("method") != "HEAD":
                    start = message  # held until the body is known: its inline scripts set the policy
                    return None
                return await send(finish_headers(message, None))
            if message["type"] == "http.response.pathsend" and start is not None:
                # The server sends the file itself (granian's pathsend): hash the file it names, once per version.
                hashes = self._file_hashes(message["path"], _header(start.get("headers", []),
                                                                    b"content-encoding").decode())
                await send(finish_headers(start, hashes))
                start = None
                return await send(message)
            if message["type"] == "http.response.body" and start is not None:
                held.append(message.get("body", b""))
                held_size += len(held[-1])
                if message.get("more_body") and held_size <= MAX_HTML:
                    return None
                body = b"".join(held)
                hashes = self._hashes(body, _header(start.get("headers", []), b"content-encoding").decode())
                await send(finish_headers(start, hashes))
                start = None
                held.clear()
                return await send({**message, "body": body})
            return await send(message)

        return await self.app(scope, receive, send_wrapper)

    def _file_hashes(self, path: str, encoding: str) -> list[str]:
        try:
            stat = os.stat(path)
            key = f"file:{path}:{stat.st_mtime_ns}:{stat.st_size}"
            if key not in self.cache:
                self.cache[key] = self._hashes(Path(path).read_bytes()[: MAX_HTML + 1], encoding)
        except OSError:
            return []
        return self.cache[key]

    def _hashes(self, body: bytes, encoding: str) -> list[str]:
        if not body:
            return []
        digest = hashlib.sha256(body).hexdigest()
        if digest in self.cache:
            return self.cache[digest]
        found = self.index.lookup(body)
        if found is None:
            plain = _decode(body, encoding.strip().lower())
            found = script_hashes(plain) if plain is not None else self.index.all_hashes()
            if len(self.cache) > 512:
                self.cache.clear()
            self.cache[digest] = found
        return found


def _header(headers, name: bytes) -> bytes:
    for key, value in headers:
        if key.lower() == name:
            return value.lower() if name != b"content-encoding" else value
    return b""
