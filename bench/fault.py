"""Fault run: the database is held by a stuck writer, and the app keeps answering.

Run from the repository root:  .venv/bin/python bench/fault.py  [--hold 60]
  or against an app already running:  ... --base-url http://localhost:PORT --database-url sqlite:///...
  (tests/e2e/test_busy_database.py does that with a shorter hold; with a PostgreSQL URL the PostgreSQL variant).

What it does (loopback only; bounded by --hold plus fixed margins; everything it starts is stopped at the end):
1. Without --base-url: a fresh SQLite file, migrated and seeded, served as `bash scripts/run.sh` serves it, with
   its background workers (push, mail, purge) on, mail into files and a local push service (the tests' receiver).
2. Before the fault: --closure-citizens bookings (with an e-mail address, each followed by a push subscription) on
   one office's last bookable day, and one booking to look up by code.
3. The fault. SQLite: a second process takes the write lock (BEGIN IMMEDIATE and a write) and holds it for --hold
   seconds, as a stuck writer or a stalled disk would. PostgreSQL: a second connection holds the row of the
   booking looked up and its slot's lock.
   Meanwhile: --readers clients read the catalogue, availability, the booking by code, /es/ and /api/v1/health
   without pause; --writers bookings are sent, as the device outbox sends them (503 -> the same request again
   after Retry-After); staff close that office's day (cancel and notify every citizen booked), retried as staff
   would retry; and the retention purge runs, as the worker runs it.
4. After the release: every booking lands, the closure goes through, the workers send its mails and pushes.
Checks (exit 1 when one fails): reads p95 < 1 s and none over the busy timeout + 1.5 s; SQLite: the writes that
could not get the lock answered 503 with Retry-After, p95 within the busy timeout + 1.5 s, the closure and the
purge attempts gave up as quickly; every booking sent is stored exactly once, no seat twice; the closure cancelled
every booking of the day and each citizen got its mail (and, with the local push service, its push).
"""

import argparse
import asyncio
import json
import multiprocessing
import os
import random
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

import httpx
from _app import pct, start_app, stop_app
from sqlalchemy import create_engine, text
from sqlalchemy.exc import OperationalError
from sqlmodel import Session, select

# Imported before the fault: a cold import in a starved thread could outlast a short hold.
from pwa_app import db
from pwa_app.models import Office, StaffUser
from pwa_app.staff import schedules
from pwa_app import retention
from pwa_app.notifications import push
from pwa_app.common import encoding
from pwa_app.notifications import webpush
from pwa_app.staff import auth
from _traffic import (
    LIFTED, STAFF_EMAIL, Recorder, book, bookable, check_bookings, create_staff, free_times, timed,
)

from tests.e2e.conftest import wait_for
from tests.unit.test_push_receiver import Device, serve_in_process

PUSH_SEED = "fault"
LOOKUP_EVERY = 2.5  # seconds between two reads by code: the e2e app keeps the default limit (30 a minute)

SQLITE_HOLDER = """
import sqlite3, sys, time
conn = sqlite3.connect(sys.argv[1], isolation_level=None)
conn.execute("BEGIN IMMEDIATE")
conn.execute("UPDATE municipality SET name = name")
print("locked", flush=True)
time.sleep(float(sys.argv[2]))
conn.execute("ROLLBACK")
"""
POSTGRES_HOLDER = """
import sys, time, zlib
import psycopg
conn = psycopg.connect(sys.argv[1])
row = conn.execute("SELECT id, office_id, procedure_id, starts_at FROM appointment WHERE code = %s FOR UPDATE",
                   (sys.argv[3].replace("-", ""),)).fetchone()  # the API shows codes as ABCDE-FGHJK
key = zlib.crc32(f"{row[1]}:{row[2]}:{row[3].isoformat()}".encode())
conn.execute("SELECT pg_advisory_xact_lock(%s)", (key,))
print("locked", flush=True)
time.sleep(float(sys.argv[2]))
conn.rollback()
"""


def busy_limit_ms() -> float:
    return (float(os.environ.get("CITA_DB_BUSY_TIMEOUT") or 2) + 1.5) * 1000


def hold_lock(database_url: str, seconds: float, code: str) -> subprocess.Popen:
    """The stuck writer, in a process of its own; returns once it holds the lock."""
    if database_url.startswith("sqlite"):
        args = ["-c", SQLITE_HOLDER, database_url.split("///", 1)[1], str(seconds)]
    else:
        from sqlalchemy.engine import make_url

        url = make_url(database_url).set(drivername="postgresql")
        args = ["-c", POSTGRES_HOLDER, url.render_as_string(hide_password=False), str(seconds), code]
    proc = subprocess.Popen([sys.executable, *args], stdout=subprocess.PIPE, text=True)
    if proc.stdout.readline().strip() != "locked":
        raise RuntimeError("the lock holder could not take the lock")
    return proc


def subscribe_devices(database_url: str, bookings: list[dict], origin: str) -> None:
    """A push subscription following each booking, as the booking page makes one (keys the receiver knows)."""
    os.environ["CITA_PUSH_HOSTS"] = "127.0.0.1"
    engine = db.make_engine(database_url)
    with Session(engine) as session:
        for n, stored in enumerate(bookings):
            device = Device.numbered(PUSH_SEED, n)
            push.subscribe(session, {"endpoint": f"{origin}/push/f{n}", "keys": {
                "p256dh": device.p256dh, "auth": encoding.b64url(device.auth)}}, lang="es",
                topics=["reminders"], appointments=[{"code": stored["code"], "verifier": stored["verifier"]}])
        session.commit()
    engine.dispose()


def close_day(database_url: str, office: str, day: date, give_up_at: float, tries: list) -> int:
    """Staff close the office for the day, cancelling its bookings; a busy database is retried, as a clerk would
    press "Reintentar". Each attempt's (seconds, outcome) goes into `tries`. Returns how many were cancelled."""
    engine = db.make_engine(database_url)
    try:
        while time.monotonic() < give_up_at:
            t0 = time.perf_counter()
            with Session(engine, expire_on_commit=False) as session:
                try:
                    admin = session.exec(select(StaffUser).where(StaffUser.email == STAFF_EMAIL)).one()
                    viewer = auth.viewer_of(session, admin)
                    office_id = session.exec(select(Office.id).where(Office.slug == office)).one()
                    _, cancelled = schedules.add_closure(session, viewer, office_id, day.isoformat(),
                                                     "Avería eléctrica", on_conflict="cancel")
                    session.commit()
                    tries.append((time.perf_counter() - t0, "done"))
                    return cancelled
                except OperationalError as exc:
                    if not db.is_busy(exc):
                        raise
                    tries.append((time.perf_counter() - t0, "busy"))
            time.sleep(2)
        return -1
    finally:
        engine.dispose()


def purge(database_url: str) -> tuple[float, str]:
    """The retention purge, as the worker runs it (forced: due or not): (seconds, "done" | "busy")."""
    engine = db.make_engine(database_url)
    t0 = time.perf_counter()
    try:
        with Session(engine) as session:
            retention.run_if_due(session, force=True)
        return time.perf_counter() - t0, "done"
    except OperationalError as exc:
        if not db.is_busy(exc):
            raise
        return time.perf_counter() - t0, "busy"
    finally:
        engine.dispose()


async def reader(client: httpx.AsyncClient, rec: Recorder, pairs: list, lookup: dict, until: float,
                 turn: list) -> None:
    rng = random.Random()
    while time.monotonic() < until:
        procedure, office = rng.choice(pairs)
        await timed(client, rec, "GET catalogue", "GET", "/api/v1/procedures", params={"lang": "es"})
        await timed(client, rec, "GET availability", "GET", "/api/v1/availability",
                    params={"procedure": procedure, "office": office})
        await timed(client, rec, "GET /es/", "GET", "/es/")
        await timed(client, rec, "GET health", "GET", "/api/v1/health")
        if time.monotonic() >= turn[0]:
            turn[0] = time.monotonic() + LOOKUP_EVERY
            await timed(client, rec, "GET booking by code", "GET", f"/api/v1/appointments/{lookup['code']}",
                        params={"verifier": lookup["verifier"]})


async def run(base: str, database_url: str, args, push_origin: str | None) -> dict:
    sqlite = database_url.startswith("sqlite")
    setup, during, after = Recorder(), Recorder(), Recorder()
    async with httpx.AsyncClient(base_url=base, timeout=120) as client:
        pairs = await bookable(client, setup)
        rng = random.Random(7)
        # The day to close: one office's last bookable day (few other tests go that far), every procedure there.
        procedure, office = pairs[0]
        free = await free_times(client, setup, procedure, office)
        day = date.fromisoformat(free[-1][:10])
        on_day = []
        for other in [p for p, o in pairs if o == office]:
            times = free if other == procedure else await free_times(client, setup, other, office)
            on_day += [(other, s) for s in times if s.startswith(day.isoformat())]
        closure_bookings = [b for b in await asyncio.gather(*(
            book(client, setup, proc, office, s, rng, time.monotonic() + 120, f"cierre{n}@example.com")
            for n, (proc, s) in enumerate(on_day[: args.closure_citizens]))) if b]
        if push_origin:
            subscribe_devices(database_url, closure_bookings, push_origin)
        # Bookings sent during the fault: other times of the same procedure, one writer each.
        others = [s for s in free if not s.startswith(day.isoformat())]
        lookup = await book(client, setup, procedure, office, others[0], rng, time.monotonic() + 60)
        targets = others[1: 1 + args.writers]

        holder = await asyncio.to_thread(hold_lock, database_url, args.hold, lookup["code"])
        locked_at = time.monotonic()
        released_at = locked_at + args.hold
        tries: list = []
        closure = asyncio.create_task(asyncio.to_thread(
            close_day, database_url, office, day, released_at + 120, tries))
        purged = asyncio.create_task(asyncio.to_thread(purge, database_url))
        turn = [0.0]
        writers = [asyncio.create_task(book(client, during, procedure, office, start, rng, released_at + 120))
                   for start in targets]
        await asyncio.gather(*(reader(client, during, pairs, lookup, released_at - 0.5, turn)
                               for _ in range(args.readers)))
        await asyncio.to_thread(holder.wait)
        await asyncio.gather(*(reader(client, after, pairs, lookup, time.monotonic() + 5, turn)
                               for _ in range(args.readers)))
        written = await asyncio.gather(*writers)
        cancelled = await closure
        purge_during = await purged
        purge_after = await asyncio.to_thread(purge, database_url)
    delivered = await asyncio.to_thread(wait_for_notices, database_url, len(closure_bookings), push_origin, 90)
    acked = {**setup.acked, **during.acked}
    return {"sqlite": sqlite, "setup": setup, "during": during, "after": after, "written": written,
            "closure_bookings": len(closure_bookings), "cancelled": cancelled, "closure_tries": tries,
            "purge_during": purge_during, "purge_after": purge_after, "delivered": delivered,
            "push": bool(push_origin),
            "checks": check_bookings(database_url, acked)}


def wait_for_notices(database_url: str, expected: int, push_origin: str | None, seconds: float) -> dict:
    """The workers' part of the closure: its mails sent, its pushes (with the local push service) delivered."""
    engine = create_engine(database_url)
    deadline = time.monotonic() + seconds
    try:
        while True:
            with engine.connect() as conn:
                mails = conn.execute(text(
                    "SELECT count(*) FROM mailoutbox WHERE kind = 'closed' AND status = 'sent'")).scalar()
                pushes = conn.execute(text(
                    "SELECT count(*) FROM pushdelivery d JOIN pushevent e ON e.id = d.event_id "
                    "WHERE e.kind = 'appointment_closed' AND d.status = 'sent'")).scalar()
            if (mails >= expected and (pushes >= expected or not push_origin)) or time.monotonic() > deadline:
                return {"mails": mails, "pushes": pushes}
            time.sleep(1)
    finally:
        engine.dispose()


def verdict(result: dict) -> tuple[dict, list[str]]:
    during, failures = result["during"], []
    reads = [ms for kind, values in during.ms.items() if kind.startswith("GET") for ms in values]
    limit = busy_limit_ms()
    figures = {"reads_during": len(reads), "reads_p95_ms": round(pct(reads, 0.95), 1),
               "reads_max_ms": round(max(reads), 1), "per_kind_during": during.summary(),
               "per_kind_after": result["after"].summary(),
               "busy_503": len(during.busy_ms), "busy_503_p95_ms": round(pct(during.busy_ms, 0.95), 1),
               "busy_503_max_ms": round(max(during.busy_ms, default=0), 1),
               "writes_stored": sum(1 for w in result["written"] if w), "writes_sent": len(result["written"]),
               "closure": {"booked": result["closure_bookings"], "cancelled": result["cancelled"],
                           "tries": [(round(s, 2), what) for s, what in result["closure_tries"]]},
               "purge_during": (round(result["purge_during"][0], 2), result["purge_during"][1]),
               "purge_after": (round(result["purge_after"][0], 2), result["purge_after"][1]),
               "delivered": result["delivered"],
               "checks": result["checks"]}
    if pct(reads, 0.95) >= 1000:
        failures.append(f"reads p95 {pct(reads, 0.95):.0f} ms during the fault")
    if max(reads) > limit:
        failures.append(f"a read took {max(reads):.0f} ms during the fault")
    not_ok = {k: n for k, n in during.statuses.items() if k.startswith("GET") and not k.endswith((" 200", " 304"))}
    if not_ok:
        failures.append(f"reads that failed during the fault: {not_ok}")
    if result["sqlite"]:
        if not during.busy_ms:
            failures.append("no write answered 503 during the fault")
        if pct(during.busy_ms, 0.95) > limit or during.busy_without_retry_after:
            failures.append("busy writes answered too slowly (p95) or without Retry-After")
        slow = [s for s, what in result["closure_tries"] if what == "busy" and s * 1000 > limit]
        if slow or not any(what == "busy" for _, what in result["closure_tries"]):
            failures.append(f"the closure did not give up quickly while locked: {result['closure_tries']}")
        if result["purge_during"][1] != "busy" or result["purge_during"][0] * 1000 > limit:
            failures.append(f"the purge did not give up quickly while locked: {result['purge_during']}")
    if figures["writes_stored"] != len(result["written"]):
        failures.append("a booking sent during the fault was never stored")
    checks = result["checks"]
    if checks["missing"] or checks["wrong_citizen"] or checks["stored_twice"] or checks["double_seats"]:
        failures.append(f"bookings: {checks}")
    if result["cancelled"] != result["closure_bookings"]:
        failures.append("the closure did not cancel every booking of the day")
    if result["purge_after"][1] != "done":
        failures.append("the purge failed after the release")
    delivered = result["delivered"]
    if delivered["mails"] < result["closure_bookings"] or (result["push"] and delivered["pushes"] < delivered["mails"]):
        failures.append(f"closure notices sent: {delivered}")
    return figures, failures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--hold", type=float, default=60, help="seconds the stuck writer holds the lock")
    parser.add_argument("--readers", type=int, default=4)
    parser.add_argument("--writers", type=int, default=10)
    parser.add_argument("--closure-citizens", type=int, default=40)
    parser.add_argument("--base-url", help="an app already running (else one is started on SQLite)")
    parser.add_argument("--database-url", help="its database (with --base-url)")
    args = parser.parse_args()
    proc = receiver = None
    push_origin = None
    try:
        if args.base_url:
            base, database_url = args.base_url, args.database_url
        else:
            work = Path(tempfile.mkdtemp(prefix="cita-fault-"))
            database_url = f"sqlite:///{work / 'cita.db'}"
            keys = webpush.load_keys(work / "vapid")
            parent, child = multiprocessing.get_context("spawn").Pipe()
            receiver = multiprocessing.get_context("spawn").Process(
                target=serve_in_process, args=(child,), kwargs={"expected_key": keys.public_key, "seed": PUSH_SEED},
                daemon=True)
            receiver.start()
            push_origin = parent.recv()
            proc, base = start_app(work / "app.log", database_url, CITA_MAIL_DIR=str(work / "mail"),
                                   CITA_PUSH_HOSTS="127.0.0.1", CITA_VAPID_DIR=str(work / "vapid"), **LIFTED)
            wait_for(f"{base}/ping", proc)
        create_staff(database_url)
        result = asyncio.run(run(base, database_url, args, push_origin))
    finally:
        stop_app(proc)
        if receiver is not None:
            receiver.terminate()
            receiver.join(10)
    figures, failures = verdict(result)
    print(json.dumps({"hold_s": args.hold, **figures, "failures": failures}, indent=1, default=str))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
