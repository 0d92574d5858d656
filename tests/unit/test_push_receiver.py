"""A local push service for the web push tests and the benchmark (bench/push_fanout.py), and tests of it.

`PushReceiver` is an HTTP server on 127.0.0.1 that behaves like a browser vendor's push service: it accepts a POST
to a subscription's endpoint only with a valid VAPID JWT (RFC 8292: ES256 signed by the key in `k`, `aud` its own
origin, `exp` in the next 24 h, a `sub`), a TTL header and an aes128gcm body (RFC 8188), which it decrypts with
the subscription's private key through http_ece — as the browser would — and keeps what came out. Answers can be
scripted per endpoint (429 with Retry-After, 410...), and unknown endpoints answer 404.

`Device` is the browser side of a subscription: its P-256 key pair and auth secret. Deterministic devices
(`Device.numbered(seed, n)`) let a receiver in another process decrypt without being sent the keys.
"""

import base64
import hashlib
import json
import os
import re
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import http_ece
import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

P256_ORDER = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class Device:
    """A browser's push subscription keys."""

    def __init__(self, key: ec.EllipticCurvePrivateKey | None = None, auth: bytes | None = None):
        self.key = key or ec.generate_private_key(ec.SECP256R1())
        self.auth = auth or os.urandom(16)

    @classmethod
    def numbered(cls, seed: str, n: int) -> "Device":
        digest = hashlib.sha256(f"{seed}:{n}".encode()).digest()
        secret = int.from_bytes(digest, "big") % (P256_ORDER - 1) + 1
        return cls(ec.derive_private_key(secret, ec.SECP256R1()), hashlib.sha256(digest).digest()[:16])

    @property
    def p256dh(self) -> str:
        return b64url(self.key.public_key().public_bytes(serialization.Encoding.X962,
                                                         serialization.PublicFormat.UncompressedPoint))

    def subscription(self, endpoint: str) -> dict:
        """What the browser's PushSubscription.toJSON() gives."""
        return {"endpoint": endpoint, "expirationTime": None,
                "keys": {"p256dh": self.p256dh, "auth": b64url(self.auth)}}

    def decrypt(self, body: bytes) -> bytes:
        return http_ece.decrypt(body, private_key=self.key, auth_secret=self.auth, version="aes128gcm")


@dataclass
class Received:
    endpoint: str
    status: int  # what the receiver answered
    ttl: int
    urgency: str
    topic: str
    claims: dict
    payload: dict | None  # the decrypted JSON (None when not decrypted)
    at: float = field(default_factory=time.time)


class VapidError(Exception):
    pass


def verify_vapid(authorization: str, origin: str, expected_key: str | None, now: float | None = None) -> dict:
    """Checks an RFC 8292 `Authorization: vapid t=<JWT>, k=<key>` header; returns the JWT claims."""
    match = re.fullmatch(r"vapid\s+(.*)", authorization or "", re.I)
    if not match:
        raise VapidError("no vapid authorization")
    parts = dict(p.strip().split("=", 1) for p in match.group(1).split(",") if "=" in p)
    token, key = parts.get("t", ""), parts.get("k", "")
    if expected_key and key != expected_key:
        raise VapidError("signed with another key than the application server key")
    try:
        head, body, signature = token.split(".")
        header, claims, raw = json.loads(unb64url(head)), json.loads(unb64url(body)), unb64url(signature)
        public = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), unb64url(key))
    except ValueError as exc:
        raise VapidError(f"malformed token: {exc}") from None
    if header.get("alg") != "ES256" or len(raw) != 64:
        raise VapidError("not an ES256 JWT")
    der = encode_dss_signature(int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big"))
    try:
        public.verify(der, f"{head}.{body}".encode(), ec.ECDSA(hashes.SHA256()))
    except InvalidSignature:
        raise VapidError("bad signature") from None
    now = time.time() if now is None else now
    if claims.get("aud") != origin:
        raise VapidError(f"aud {claims.get('aud')!r} is not {origin!r}")
    if not now < int(claims.get("exp", 0)) <= now + 24 * 3600:
        raise VapidError("exp missing, past, or more than 24 h ahead")
    if not re.match(r"^(mailto:.+@.+|https://.+)$", str(claims.get("sub", ""))):
        raise VapidError("sub is not a mailto: or https: contact")
    return claims


class PushReceiver:
    """A push service on 127.0.0.1 (see the module's docstring). `decrypt_every`: decrypt every n-th message
    (1: all; the benchmark samples); JWTs are verified once per distinct token, as push services cache them."""

    def __init__(self, expected_key: str | None = None, *, decrypt_every: int = 1, seed: str | None = None,
                 host: str = "127.0.0.1", port: int = 0):
        self.expected_key, self.decrypt_every, self.seed = expected_key, decrypt_every, seed
        self.devices: dict[str, Device] = {}
        self.scripts: dict[str, list[tuple[int, dict]]] = {}
        self.received: list[Received] = []
        self.attempts: Counter = Counter()
        self.errors: list[str] = []
        self.tokens: dict[str, dict] = {}
        self.count = 0
        self.cond = threading.Condition()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def do_POST(self):  # noqa: N802
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                status, headers = receiver.handle(self.path, dict(self.headers.items()), body)
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", "0")
                self.end_headers()

        self.server = ThreadingHTTPServer((host, port), Handler)
        self.server.daemon_threads = True
        self.origin = f"http://{host}:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    # --- the test's side ---

    def subscribe(self, device: Device | None = None) -> dict:
        """A new subscription at this push service, as the browser would hand it to the page."""
        device = device or Device()
        name = b64url(os.urandom(12))
        self.devices[name] = device
        return device.subscription(f"{self.origin}/push/{name}")

    def endpoint_of(self, n: int) -> str:
        """The endpoint of numbered device n (`seed` mode)."""
        return f"{self.origin}/push/d{n}"

    def respond(self, endpoint: str, *answers) -> None:
        """The next answers to POSTs at `endpoint`: a status, or (status, headers)."""
        name = endpoint.rsplit("/", 1)[-1]
        self.scripts.setdefault(name, []).extend(a if isinstance(a, tuple) else (a, {}) for a in answers)

    def forget(self, endpoint: str) -> None:
        """The browser unsubscribed: its endpoint answers 404 from now on."""
        self.devices.pop(endpoint.rsplit("/", 1)[-1], None)

    def messages(self, endpoint: str | None = None) -> list[Received]:
        with self.cond:
            return [m for m in self.received if endpoint is None or m.endpoint == endpoint]

    def wait(self, count: int, timeout: float = 15.0) -> list[Received]:
        deadline = time.time() + timeout
        with self.cond:
            while len(self.received) < count and time.time() < deadline:
                self.cond.wait(max(0.0, deadline - time.time()))
            return list(self.received)

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    # --- the push service's side ---

    def device(self, name: str) -> Device | None:
        if name in self.devices:
            return self.devices[name]
        if self.seed and re.fullmatch(r"d\d+", name):
            return Device.numbered(self.seed, int(name[1:]))
        return None

    def handle(self, path: str, headers: dict, body: bytes) -> tuple[int, dict]:
        headers = {k.lower(): v for k, v in headers.items()}
        name = path.rsplit("/", 1)[-1]
        endpoint = f"{self.origin}/push/{name}"
        with self.cond:
            self.attempts[endpoint] += 1
            self.count += 1
            n = self.count
        device = self.device(name) if path.startswith("/push/") else None
        if device is None:
            return 404, {}
        token = headers.get("authorization", "")
        try:
            claims = self.tokens.get(token) or verify_vapid(token, self.origin, self.expected_key)
            self.tokens[token] = claims
        except VapidError as exc:
            self.errors.append(f"{endpoint}: {exc}")
            return 403, {}
        ttl = headers.get("ttl", "")
        if not ttl.isdigit():
            self.errors.append(f"{endpoint}: TTL header missing")
            return 400, {}
        if headers.get("content-encoding") != "aes128gcm":
            self.errors.append(f"{endpoint}: content encoding {headers.get('content-encoding')!r}")
            return 415, {}
        payload = None
        if self.decrypt_every == 1 or n % self.decrypt_every == 0:
            try:
                payload = json.loads(device.decrypt(body))
            except Exception as exc:  # noqa: BLE001 - any failure to decrypt is the sender's error
                self.errors.append(f"{endpoint}: cannot decrypt: {type(exc).__name__}: {exc}")
                return 400, {}
        with self.cond:
            script = self.scripts.get(name)
            status, extra = script.pop(0) if script else (201, {})
            if 200 <= status < 300:
                extra = {"Location": f"{self.origin}/message/{n}", **extra}
                self.received.append(Received(endpoint, status, int(ttl), headers.get("urgency", ""),
                                              headers.get("topic", ""), claims, payload))
                self.cond.notify_all()
        return status, extra


def serve_in_process(conn, **options) -> None:
    """Runs a PushReceiver in this (child) process: sends its origin through `conn`, then answers "stats"."""
    receiver = PushReceiver(**options)
    conn.send(receiver.origin)
    while True:
        command = conn.recv()
        if command == "stats":
            with receiver.cond:
                conn.send({"received": len(receiver.received), "attempts": sum(receiver.attempts.values()),
                           "decrypted": sum(1 for m in receiver.received if m.payload is not None),
                           "errors": receiver.errors[:10], "error_count": len(receiver.errors)})
        else:
            receiver.close()
            conn.send("bye")
            return


# --- tests of the receiver itself: it must refuse what a real push service refuses ----------------------------------


@pytest.fixture
def receiver():
    found = PushReceiver()
    yield found
    found.close()


def _post(receiver, subscription, vapid, claims, data=b'{"title": "x"}', ttl=60):
    from pywebpush import WebPusher

    headers = vapid.sign(claims) if vapid else {}
    return WebPusher(subscription).send(data, headers, ttl=ttl, content_encoding="aes128gcm", timeout=5)


def test_receiver_decrypts_a_real_pywebpush_send(receiver):
    from py_vapid import Vapid

    vapid = Vapid(ec.generate_private_key(ec.SECP256R1()))
    sub = receiver.subscribe()
    answer = _post(receiver, sub, vapid, {"aud": receiver.origin, "exp": int(time.time()) + 600,
                                          "sub": "mailto:test@example.org"}, data='{"title": "Hola ñ"}')
    assert answer.status_code == 201, receiver.errors
    [message] = receiver.messages()
    assert message.payload == {"title": "Hola ñ"} and message.ttl == 60 and receiver.errors == []


def test_receiver_refuses_bad_vapid_and_unknown_endpoints(receiver):
    from py_vapid import Vapid

    vapid = Vapid(ec.generate_private_key(ec.SECP256R1()))
    sub = receiver.subscribe()
    good = {"aud": receiver.origin, "exp": int(time.time()) + 600, "sub": "mailto:test@example.org"}
    assert _post(receiver, sub, None, good).status_code == 403  # no JWT
    assert _post(receiver, sub, vapid, {**good, "aud": "https://elsewhere.example"}).status_code == 403
    assert _post(receiver, sub, vapid, {**good, "exp": int(time.time()) + 48 * 3600}).status_code == 403
    receiver.expected_key = b64url(os.urandom(65))  # the page subscribed with another key
    assert _post(receiver, sub, vapid, good).status_code == 403
    receiver.expected_key = None
    other = Device()  # encrypted for another browser's keys
    assert _post(receiver, {**sub, "keys": other.subscription("")["keys"]}, vapid, good).status_code == 400
    receiver.forget(sub["endpoint"])
    assert _post(receiver, sub, vapid, good).status_code == 404
    assert receiver.messages() == [] and len(receiver.errors) == 5


def test_receiver_answers_as_scripted(receiver):
    from py_vapid import Vapid

    vapid = Vapid(ec.generate_private_key(ec.SECP256R1()))
    sub = receiver.subscribe()
    receiver.respond(sub["endpoint"], (429, {"Retry-After": "7"}), 410)
    claims = {"aud": receiver.origin, "exp": int(time.time()) + 600, "sub": "mailto:test@example.org"}
    first = _post(receiver, sub, vapid, claims)
    assert first.status_code == 429 and first.headers["Retry-After"] == "7"
    assert _post(receiver, sub, vapid, claims).status_code == 410
    assert _post(receiver, sub, vapid, claims).status_code == 201
    assert receiver.attempts[sub["endpoint"]] == 3 and len(receiver.messages()) == 1
