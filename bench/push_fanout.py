"""Web push fan-out: sends per second of a staff notice to 10,000 subscriptions, through the app's real path, to
the local push service, next to a raw http_ece encryption loop measured in the same run.

Run from the repository root:  .venv/bin/python bench/push_fanout.py  [--subscriptions 10000] [--concurrency 32]

What it does (nothing is asserted about times: the figures depend on the machine):
1. A fresh temporary SQLite database (`--url` for another one, e.g. PostgreSQL: its push tables must be empty),
   tables created and the demo municipality seeded; a temporary VAPID key pair.
2. The local push service of the tests (tests/unit/test_push_receiver.py) in its own process, so its Python does
   not share a GIL with the sender: it checks the VAPID JWT (ES256 signature, aud, exp, sub; once per distinct
   token, as push services cache them), the TTL and the content encoding of every message, and decrypts every
   `--decrypt-every`-th one (default 50) with the subscription's private key through http_ece.
3. N subscriptions following the topic "news", with deterministic P-256 keys the receiver derives itself.
4. Baseline: `http_ece.encrypt` of the same payload with a fresh ephemeral key per message, as pywebpush does,
   for `--baseline` messages (default 3,000) in one thread: the cost of the cryptography alone.
5. `push.send_notice(...)`, then `push_fanout.fan_out` (one PushDelivery per subscriber, in its language) and
   `push_delivery.deliver` with `push_delivery.Sender` (pywebpush's `send_async` on aiohttp, `--concurrency` messages in
   flight, keep-alive connections), timed apart.
6. Checks: every message accepted and received once, no protocol error at the receiver, every sampled message
   decrypted to the notice. Exit status 1 otherwise.

It prints messages per second for fan-out, sending and end to end, the baseline's encryptions per second, and the
ratio sends/s ÷ encryptions/s (how much of one core's raw encryption rate the whole path reaches).
"""

import argparse
import json
import multiprocessing
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import http_ece  # noqa: E402
from cryptography.hazmat.primitives.asymmetric import ec  # noqa: E402
from sqlalchemy import delete, func  # noqa: E402
from sqlmodel import Session, select  # noqa: E402

SEED = "cita-push-bench"
TEXTS = {"es": {"title": "Corte de agua en el distrito norte",
                "body": "El martes 15, de 9:00 a 14:00, no habrá agua en las calles del distrito norte. "
                        "La Junta de Distrito atenderá con normalidad."}}


def encrypt_loop(count: int, payload: bytes) -> float:
    """Encryptions per second of `payload` as pywebpush does it: a new ECDH key per message, aes128gcm."""
    from tests.unit.test_push_receiver import Device

    receivers = [Device.numbered(SEED, n) for n in range(16)]
    publics = [d.key.public_key() for d in receivers]
    started = time.perf_counter()
    for n in range(count):
        ephemeral = ec.generate_private_key(ec.SECP256R1())
        http_ece.encrypt(payload, private_key=ephemeral, dh=publics[n % 16], auth_secret=receivers[n % 16].auth,
                         version="aes128gcm")
    return count / (time.perf_counter() - started)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--subscriptions", type=int, default=10_000)
    parser.add_argument("--concurrency", type=int, default=32, help="messages in flight (CITA_PUSH_CONCURRENCY)")
    parser.add_argument("--baseline", type=int, default=3_000, help="messages in the raw encryption loop")
    parser.add_argument("--decrypt-every", type=int, default=50, help="the receiver decrypts every n-th message")
    parser.add_argument("--url", help="database URL (default: a temporary SQLite file)")
    args = parser.parse_args()

    from pwa_app.db import create_tables, make_engine
    from pwa_app.models import PushDelivery, PushEvent, PushSubscription, PushTopic
    from pwa_app.seed import seed_demo
    from pwa_app.notifications import push_delivery, push_fanout
    from pwa_app.common import times
    from pwa_app.notifications import push
    from pwa_app.common import encoding
    from pwa_app.notifications import webpush
    from tests.unit.test_push_receiver import Device, serve_in_process

    work = Path(tempfile.mkdtemp(prefix="cita-push-bench-"))
    url = args.url or f"sqlite:///{work / 'bench.db'}"
    engine = make_engine(url)
    create_tables(engine)
    with Session(engine) as s:
        seed_demo(s)
    keys = webpush.load_keys(work / "vapid")
    os.environ["CITA_PUSH_HOSTS"] = "127.0.0.1"

    parent, child = multiprocessing.get_context("spawn").Pipe()
    receiver = multiprocessing.get_context("spawn").Process(
        target=serve_in_process, args=(child,),
        kwargs={"expected_key": keys.public_key, "decrypt_every": args.decrypt_every, "seed": SEED}, daemon=True)
    receiver.start()
    failures = []
    try:
        origin = parent.recv()
        started = time.perf_counter()
        rows = []
        for n in range(args.subscriptions):
            device = Device.numbered(SEED, n)
            rows.append({"endpoint": f"{origin}/push/d{n}", "p256dh": device.p256dh,
                         "auth": encoding.b64url(device.auth), "lang": ("es", "en", "fr")[n % 3]})
        with Session(engine) as s:
            for model in (PushDelivery, PushEvent, PushTopic, PushSubscription):
                s.execute(delete(model))
            now = times.utcnow()
            for start in range(0, len(rows), 1000):
                s.execute(PushSubscription.__table__.insert(),
                          [{**r, "created_at": now, "updated_at": now} for r in rows[start:start + 1000]])
            ids = s.exec(select(PushSubscription.id)).all()
            for start in range(0, len(ids), 1000):
                s.execute(PushTopic.__table__.insert(),
                          [{"subscription_id": i, "topic": "news"} for i in ids[start:start + 1000]])
            s.commit()
        setup = time.perf_counter() - started

        sample = json.dumps({"title": TEXTS["es"]["title"], "body": TEXTS["es"]["body"], "url": "/es/",
                             "tag": "notice-1", "kind": "notice", "lang": "es", "dir": "ltr"},
                            ensure_ascii=False).encode()
        baseline = [encrypt_loop(args.baseline // 3, sample) for _ in range(3)]
        encrypts = statistics.median(baseline)

        factory = lambda: Session(engine, expire_on_commit=False)  # noqa: E731
        sender = push_delivery.Sender(keys, concurrency=args.concurrency)
        with factory() as s:
            push.send_notice(s, "news", TEXTS, url="/{lang}/")
            s.commit()
        t0 = time.perf_counter()
        fanned = push_fanout.fan_out(factory)
        t1 = time.perf_counter()
        counts = push_delivery.deliver(factory, sender, budget_seconds=3600)
        t2 = time.perf_counter()
        sender.close()
        parent.send("stats")
        stats = parent.recv()
        with factory() as s:
            by_status = dict(s.exec(select(PushDelivery.status, func.count()).group_by(PushDelivery.status)).all())
    finally:
        try:
            parent.send("stop")
            parent.recv()
        except (BrokenPipeError, EOFError, OSError):
            pass
        receiver.join(10)
        if receiver.is_alive():
            receiver.terminate()
        engine.dispose()

    n = args.subscriptions
    sends = counts["sent"] / (t2 - t1) if t2 > t1 else 0.0
    print(f"web push fan-out: {n} subscriptions, {args.concurrency} in flight, {os.cpu_count()} CPUs, "
          f"{engine.dialect.name}; setup {setup:.1f} s")
    print(f"{'':44}{'messages':>10}{'seconds':>10}{'per second':>12}")
    print(f"{'fan-out (deliveries written, 3 languages)':44}{fanned:>10}{t1 - t0:>10.2f}{fanned / (t1 - t0):>12.0f}")
    print(f"{'send (pywebpush -> local push service)':44}{counts['sent']:>10}{t2 - t1:>10.2f}{sends:>12.0f}")
    print(f"{'end to end (fan-out + send)':44}{counts['sent']:>10}{t2 - t0:>10.2f}{counts['sent'] / (t2 - t0):>12.0f}")
    print(f"{'baseline: raw http_ece encrypt, 1 thread':44}{args.baseline // 3 * 3:>10}{'':>10}{encrypts:>12.0f}"
          f"   (runs: {', '.join(f'{b:.0f}' for b in baseline)})")
    print(f"ratio sends/s / encryptions/s: {sends / encrypts:.2f}")
    print(f"receiver: {stats['received']} accepted, {stats['attempts']} requests, {stats['decrypted']} decrypted "
          f"(every {args.decrypt_every}th), {stats['error_count']} protocol errors; deliveries by status: {by_status}")
    if fanned != n:
        failures.append(f"fan-out wrote {fanned} deliveries for {n} subscribers")
    if counts["sent"] != n or stats["received"] != n or stats["attempts"] != n:
        failures.append(f"sent {counts['sent']}, received {stats['received']} in {stats['attempts']} requests")
    if stats["error_count"]:
        failures.append(f"receiver errors: {stats['errors']}")
    if stats["decrypted"] < n // args.decrypt_every:
        failures.append("fewer messages decrypted than sampled")
    for failure in failures:
        print("FAILED:", failure)
    return 1 if failures else 0


if __name__ == "__main__":
    raise SystemExit(main())
