"""Web push plumbing, below the domain (pwa_app.notifications.push): the VAPID key pair, the VAPID Authorization
header, and one encrypted send through pywebpush with its outcome classified.

The key pair is generated on first use and kept outside the repository, in `CITA_VAPID_DIR` (default
`$XDG_DATA_HOME/cita`, i.e. `~/.local/share/cita`), as `vapid_private.pem` (mode 0600). Several workers starting
at once agree on one key: each writes a candidate and links it into place, and the first link wins. Every worker
and every machine that sends must read the same file (with several machines, point CITA_VAPID_DIR at shared
storage or copy the file): browsers refuse messages signed with another key than the one they subscribed with.
Losing the key means every subscription must be made again. CITA_VAPID_SUBJECT is the contact push services
may use (`mailto:` or `https:`; set it in production, e.g. mailto:sistemas@ayuntamiento.es; Apple refuses
placeholder addresses).

The VAPID JWT (RFC 8292) is signed once per push service origin and reused until an hour before it expires
(12 h), instead of once per message as pywebpush's `webpush()` does: at 10,000 messages that is 10,000 ECDSA
signatures saved.
"""

import logging
import os
import secrets
import threading
import time
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from functools import cache
from pathlib import Path
from urllib.parse import urlsplit

import aiohttp
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from py_vapid import Vapid
from pywebpush import WebPusher

from pwa_app.common.encoding import b64url
from pwa_app.settings import get_settings

log = logging.getLogger(__name__)

KEY_FILE = "vapid_private.pem"
JWT_LIFETIME = 12 * 3600  # push services refuse tokens valid for more than 24 h
JWT_RENEW = 3600  # sign a new one when less than this is left
SEND_TIMEOUT = 10.0  # seconds for one POST to the push service
URGENCIES = ("very-low", "low", "normal", "high")


def vapid_dir() -> Path:
    settings = get_settings()
    if settings.vapid_dir:
        return settings.vapid_dir.expanduser()
    return settings.xdg_data_home.expanduser() / "cita"


def subject() -> str:
    """The VAPID `sub` claim: how a push service can reach whoever runs this server."""
    return get_settings().vapid_subject


@dataclass(frozen=True)
class Keys:
    vapid: Vapid
    public_key: str  # the applicationServerKey the page subscribes with: uncompressed P-256 point, base64url
    path: Path


def _write_once(path: Path, data: bytes) -> None:
    """Creates `path` with `data` unless it already exists (then the existing file wins), atomically."""
    candidate = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    fd = os.open(candidate, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        os.write(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)
    try:
        os.link(candidate, path)
    except FileExistsError:
        pass
    finally:
        candidate.unlink()


def load_keys(directory: Path | str | None = None) -> Keys:
    """The server's VAPID key pair from `directory` (default `vapid_dir()`), generated there on first use."""
    folder = Path(directory) if directory else vapid_dir()
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    path = folder / KEY_FILE
    if not path.exists():
        key = ec.generate_private_key(ec.SECP256R1())
        _write_once(path, key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                            serialization.NoEncryption()))
        log.info("web push: new VAPID key pair in %s", path)
    private = serialization.load_pem_private_key(path.read_bytes(), password=None)
    public = private.public_key().public_bytes(serialization.Encoding.X962,
                                               serialization.PublicFormat.UncompressedPoint)
    return Keys(vapid=Vapid(private), public_key=b64url(public), path=path)


@cache
def keys() -> Keys:
    """The keys of this process (read once)."""
    return load_keys()


class VapidHeaders:
    """Authorization headers per push service origin, signed once and reused while valid."""

    def __init__(self, keys: Keys, sub: str | None = None, clock=time.time):
        self.keys, self.sub, self.clock = keys, sub or subject(), clock
        self.cache: dict[str, tuple[int, dict]] = {}
        self.lock = threading.Lock()

    def for_endpoint(self, endpoint: str) -> dict[str, str]:
        parts = urlsplit(endpoint)
        audience = f"{parts.scheme}://{parts.netloc}"
        now = int(self.clock())
        with self.lock:
            found = self.cache.get(audience)
            if found and found[0] - now > JWT_RENEW:
                return found[1]
            expires = now + JWT_LIFETIME
            headers = self.keys.vapid.sign({"aud": audience, "exp": expires, "sub": self.sub})
            self.cache[audience] = (expires, headers)
            return headers


@dataclass(frozen=True)
class Outcome:
    """What the push service said. `gone`: the subscription no longer exists (404/410), forget it. `retry`: try
    again later (429, 5xx, no answer), after `retry_after` seconds when the service said so."""

    status: int  # 0 when no answer came
    ok: bool = False
    gone: bool = False
    retry: bool = False
    retry_after: float | None = None
    error: str = ""


def _retry_after(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        try:
            return max(0.0, parsedate_to_datetime(value).timestamp() - time.time())
        except (TypeError, ValueError):
            return None


def classify(status: int, retry_after: str | None = None, text: str = "") -> Outcome:
    if 200 <= status < 300:
        return Outcome(status, ok=True)
    if status in (404, 410):
        return Outcome(status, gone=True, error=text[:200])
    if status == 429 or status >= 500:
        return Outcome(status, retry=True, retry_after=_retry_after(retry_after), error=text[:200])
    return Outcome(status, error=text[:200])  # 400, 401, 403, 413...: retrying would not help


def http_session() -> aiohttp.ClientSession:
    """A keep-alive HTTP client for one sender (call inside its event loop). Proxy settings from the environment
    (HTTPS_PROXY...) are used when there are some: a town hall's network may need one to reach the push services."""
    return aiohttp.ClientSession(trust_env=get_settings().outbound_proxy,
                                 connector=aiohttp.TCPConnector(limit=0, ttl_dns_cache=300))


async def send(http: aiohttp.ClientSession, subscription: dict, payload: bytes, headers: VapidHeaders, *, ttl: int,
               urgency: str = "normal", topic: str = "", timeout: float = SEND_TIMEOUT) -> Outcome:
    """Encrypts `payload` for one subscription ({endpoint, keys: {p256dh, auth}}) with aes128gcm and POSTs it to
    its push service with pywebpush (`WebPusher.send_async`). Never raises: every failure comes back as an
    Outcome."""
    extra = {**headers.for_endpoint(subscription["endpoint"]),
             "Urgency": urgency if urgency in URGENCIES else "normal"}
    if topic:
        extra["Topic"] = topic
    try:
        response = await WebPusher(subscription, aiohttp_session=http).send_async(
            payload, extra, ttl=max(int(ttl), 0), content_encoding="aes128gcm",
            timeout=aiohttp.ClientTimeout(total=timeout))
        text = await response.text()  # read already by pywebpush: this only returns it
    except (TimeoutError, aiohttp.ClientError) as exc:
        return Outcome(0, retry=True, error=f"{type(exc).__name__}: {exc}"[:200])
    except Exception as exc:  # bad keys in the subscription, an encryption error...
        return Outcome(0, error=f"{type(exc).__name__}: {exc}"[:200])
    return classify(response.status, response.headers.get("Retry-After"), text or "")
