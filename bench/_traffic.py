"""Citizen and staff traffic for bench/soak.py and bench/fault.py: each request timed by kind, bookings sent as
the device outbox sends them (one Idempotency-Key, resent as it is on a 5xx, 429 or a dropped connection), and
the check that every booking acknowledged is stored exactly once and no slot holds more than its capacity."""

import asyncio
import base64
import hashlib
import json
import os
import random
import subprocess
import sys
import time
import uuid
from collections import Counter, defaultdict
from dataclasses import dataclass, field

import httpx
from _app import ROOT, pct
from sqlalchemy import create_engine, text

CONTROL_LETTERS = "TRWAGMYFPDXBNJZSQVHLCKE"
# Every simulated person comes from 127.0.0.1: the per-address limits are lifted; the proof of work stays (small).
LIFTED = {"CITA_RATE_BOOKING": "100000/60", "CITA_RATE_BOOKING_PERSON": "100000/60", "CITA_RATE_HOLD": "100000/60",
          "CITA_RATE_LOOKUP": "100000/60", "CITA_ALTCHA_MAX_NUMBER": "5000"}
STAFF_EMAIL, STAFF_PASSWORD = "soak@villanuevadelpinar.es", "soak-bench-password-1234"


def create_staff(database_url: str) -> None:
    """The administrator both scripts sign in as (once per database)."""
    env = {**os.environ, "DATABASE_URL": database_url, "CITA_STAFF_PASSWORD": STAFF_PASSWORD}
    subprocess.run([sys.executable, "-m", "pwa_app.staff_admin", "create-admin", "--email", STAFF_EMAIL,
                    "--name", "Banco de pruebas"], cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL)


def dni(rng: random.Random) -> str:
    n = rng.randrange(10_000_000, 99_999_999)
    return f"{n:08d}{CONTROL_LETTERS[n % 23]}"


@dataclass
class Recorder:
    """Every answer's time by kind ("GET /es/", "POST booking", ...), the statuses, the longest answer."""

    ms: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    statuses: Counter = field(default_factory=Counter)
    longest: tuple[float, str] = (0.0, "")
    acked: dict[str, str] = field(default_factory=dict)  # booking code -> document
    busy_ms: list[float] = field(default_factory=list)  # how long a 503 "busy" took to come back
    busy_without_retry_after: int = 0

    def note(self, kind: str, status: int | str, elapsed_ms: float) -> None:
        self.ms[kind].append(elapsed_ms)
        self.statuses[f"{kind} {status}"] += 1
        if elapsed_ms > self.longest[0]:
            self.longest = (elapsed_ms, kind)

    def summary(self) -> dict:
        return {kind: {"n": len(v), "p50_ms": round(pct(v, 0.5), 1), "p95_ms": round(pct(v, 0.95), 1),
                       "max_ms": round(max(v), 1)} for kind, v in sorted(self.ms.items())}


async def timed(client: httpx.AsyncClient, rec: Recorder, kind: str, method: str, url: str,
                **kwargs) -> httpx.Response | None:
    t0 = time.perf_counter()
    try:
        answer = await client.request(method, url, **kwargs)
    except httpx.TransportError as exc:
        rec.note(kind, type(exc).__name__, (time.perf_counter() - t0) * 1000)
        return None
    elapsed = (time.perf_counter() - t0) * 1000
    rec.note(kind, answer.status_code, elapsed)
    if answer.status_code == 503:
        rec.busy_ms.append(elapsed)
        rec.busy_without_retry_after += "retry-after" not in answer.headers
    return answer


def solve(challenge: dict) -> str:
    """The proof of work the booking page does (ALTCHA): find n with SHA-256(salt + n) == challenge."""
    for n in range(int(challenge.get("maxnumber") or 1_000_000) + 1):
        if hashlib.sha256(f"{challenge['salt']}{n}".encode()).hexdigest() == challenge["challenge"]:
            answer = {k: challenge[k] for k in ("algorithm", "challenge", "salt", "signature")} | {"number": n}
            return base64.b64encode(json.dumps(answer).encode()).decode()
    raise ValueError("unsolvable challenge")


async def bookable(client: httpx.AsyncClient, rec: Recorder) -> list[tuple[str, str]]:
    """(procedure, office) pairs that can be booked without an e-mail confirmation."""
    answer = await timed(client, rec, "GET catalogue", "GET", "/api/v1/procedures", params={"lang": "es"})
    return [(p["slug"], o) for p in answer.json()["procedures"] if p["needs_appointment"] and not p["high_demand"]
            for o in p["offices"]]


async def free_times(client: httpx.AsyncClient, rec: Recorder, procedure: str, office: str) -> list[str]:
    answer = await timed(client, rec, "GET availability", "GET", "/api/v1/availability",
                         params={"procedure": procedure, "office": office})
    if answer is None or answer.status_code != 200:
        return []
    return [s["start"] for day in answer.json()["days"] for s in day["slots"] if s["free"] > 0]


async def book(client: httpx.AsyncClient, rec: Recorder, procedure: str, office: str, start: str,
               rng: random.Random, give_up_at: float, email: str = "") -> dict | None:
    """One booking through to an answer: the same key and body again after a 5xx, a 429 or a lost connection,
    waiting what Retry-After says, until `give_up_at` (monotonic). The stored booking, or None (refused or no
    answer in time)."""
    document = dni(rng)
    body = {"procedure": procedure, "office": office, "start": start, "name": "Ana Soak", "document": document,
            "phone": "", "email": email, "consent": True, "lang": "es"}
    key = uuid.uuid4().hex
    while time.monotonic() < give_up_at:
        challenge = await timed(client, rec, "GET challenge", "GET", "/api/v1/challenge")
        if challenge is not None and challenge.status_code == 200:
            body["altcha"] = solve(challenge.json())
        answer = await timed(client, rec, "POST booking", "POST", "/api/v1/appointments", json=body,
                             headers={"Idempotency-Key": key})
        if answer is not None and answer.status_code == 201:
            stored = answer.json()
            rec.acked[stored["code"]] = document
            return stored
        if answer is not None and answer.status_code < 500 and answer.status_code != 429:
            return None  # taken meanwhile (409) or refused: the citizen picks again
        wait = float(answer.headers.get("retry-after") or 1) if answer is not None else 1.0
        await asyncio.sleep(min(wait, max(0.0, give_up_at - time.monotonic())))
    return None


async def citizen_round(client: httpx.AsyncClient, rec: Recorder, pairs: list, rng: random.Random,
                        give_up_at: float) -> None:
    """What a citizen does in one visit: the home page, the catalogue, one calendar, a booking, looking it up;
    now and then a move or a cancellation."""
    await timed(client, rec, "GET /es/", "GET", "/es/")
    await timed(client, rec, "GET catalogue", "GET", "/api/v1/procedures", params={"lang": "es"})
    procedure, office = rng.choice(pairs)
    free = await free_times(client, rec, procedure, office)
    if not free:
        return
    email = "ana.soak@example.com" if rng.random() < 0.3 else ""  # the mail worker sends these
    stored = await book(client, rec, procedure, office, rng.choice(free[:40]), rng, give_up_at, email)
    if stored is None:
        return
    code, verifier = stored["code"], stored["verifier"]
    await timed(client, rec, "GET booking by code", "GET", f"/api/v1/appointments/{code}",
                params={"verifier": verifier})
    roll = rng.random()
    if roll < 0.15:
        await timed(client, rec, "DELETE booking", "DELETE", f"/api/v1/appointments/{code}",
                    params={"verifier": verifier}, headers={"Idempotency-Key": uuid.uuid4().hex})
    elif roll < 0.25 and len(free) > 1:
        await timed(client, rec, "POST reschedule", "POST", f"/api/v1/appointments/{code}/reschedule",
                    json={"verifier": verifier, "office": office, "start": rng.choice(free[:40])},
                    headers={"Idempotency-Key": uuid.uuid4().hex})


async def staff_sign_in(client: httpx.AsyncClient, rec: Recorder) -> None:
    await timed(client, rec, "POST staff sign-in", "POST", "/api/staff/login",
                data={"email": STAFF_EMAIL, "password": STAFF_PASSWORD, "next": "/staff/"},
                headers={"Origin": str(client.base_url).rstrip("/")})


async def staff_round(client: httpx.AsyncClient, rec: Recorder, office: str) -> None:
    """A desk clerk's tablet: who am I, the queue board, the staff page, now and then a report export."""
    await timed(client, rec, "GET staff me", "GET", "/api/staff/me")
    await timed(client, rec, "GET queue board", "GET", f"/api/staff/queue/{office}/board")
    await timed(client, rec, "GET /staff/", "GET", "/staff/")
    if random.random() < 0.1:
        await timed(client, rec, "GET report csv", "GET", "/api/staff/reports.csv", params={"office": office})


def check_bookings(database_url: str, acked: dict[str, str]) -> dict:
    """Every booking acknowledged is stored once (by its code, for its citizen); no slot is over its capacity
    (seats are unique per slot); one idempotency record per booking."""
    engine = create_engine(database_url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(text("SELECT code, document FROM appointment")).all()
            seats = conn.execute(text(
                "SELECT office_id, procedure_id, starts_at, seat, count(*) FROM appointment WHERE seat IS NOT NULL "
                "GROUP BY office_id, procedure_id, starts_at, seat HAVING count(*) > 1")).all()
            records = conn.execute(text(
                "SELECT count(*) FROM idempotencyrecord WHERE operation = 'book'")).scalar()
    finally:
        engine.dispose()
    stored = Counter(code for code, _ in rows)
    by_code = {code.replace("-", ""): doc for code, doc in rows}
    missing = [c for c in acked if c.replace("-", "") not in by_code]
    wrong = [c for c, d in acked.items() if c.replace("-", "") in by_code and by_code[c.replace("-", "")] != d]
    return {"acknowledged": len(acked), "missing": len(missing), "wrong_citizen": len(wrong),
            "stored_twice": sum(1 for n in stored.values() if n > 1), "double_seats": len(seats),
            "idempotency_records": records}
