"""Production-mode load test: thousands of citizens booking the same popular times at once, on PostgreSQL + Redis
with several backend workers behind one address, then the same with one worker process killed mid-run.

Run from the repository root:  .venv/bin/python bench/load.py  [--workers 4] [--citizens 2000] ...

What it does (loopback only; everything it starts is stopped at the end, also on error or Ctrl-C; the whole run
is bounded by --budget seconds and each phase by --phase-seconds and --max-requests):
1. A fresh PostgreSQL schema (tests/e2e/conftest.py's fresh_postgres_schema), `reflex db migrate` and
   `python -m pwa_app.seed` into it, then `reflex run --env prod --single-port` on a free port with
   DATABASE_URL, REDIS_URL (default redis://127.0.0.1:6379/7) and GRANIAN_WORKERS=--workers: what
   `bash scripts/run.sh` runs in production. The proof of work is off (CITA_ALTCHA=off: it would measure the
   clients' CPU); the rate limits stay on, and each simulated citizen comes from its own address in
   X-Forwarded-For, as behind a proxy (CITA_TRUSTED_PROXIES=127.0.0.1).
2. Each phase: --citizens concurrent citizens (asyncio + httpx, one pool of --connections connections) each
   read GET /api/v1/availability of one procedure at one office, pick one of the --popular earliest free times
   (everybody wants the first ones), and POST /api/v1/appointments with a valid DNI of their own (mod-23 letter)
   and an Idempotency-Key of their own. A time taken meanwhile (409) makes them try the first alternative the
   answer offers, up to --attempts times. A connection error, a timeout or a 5xx makes them send the very same
   request again with the same Idempotency-Key (with back-off), as the device outbox does.
   - phase "steady": all workers up.
   - phase "worker killed": the same on another procedure; once --kill-at of the citizens are done, one Granian
     worker (a child of the server process) gets SIGKILL. pwa_app/serving.py makes Granian start a new one.
3. Checks per phase, in the database: per slot, active appointments <= capacity (over-bookings must be 0); the
   bookings acknowledged to clients (a 2xx received) are exactly the bookings stored, no more, no fewer; no
   citizen (DNI) holds two appointments (a retry never books twice); one idempotency record per booking.
Prints bookings/s, p50/p95 latency of the booking POSTs and the availability GETs, the retries, and the checks;
exit status 1 when a check fails. Nothing is timed-asserted: the figures depend on the machine.
"""

import argparse
import asyncio
import json
import os
import platform
import random
import shutil
import signal
import sys
import tempfile
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path

import httpx
from _app import pct, start_app, stop_app
from sqlalchemy import create_engine, text
from sqlmodel import Session, select

from tests.e2e.conftest import fresh_postgres_schema, wait_for

CONTROL_LETTERS = "TRWAGMYFPDXBNJZSQVHLCKE"
FIRST = ["Lucía", "Hugo", "Martina", "Mateo", "Sofía", "Leo", "Julia", "Daniel", "Paula", "Álvaro", "Noa", "Omar"]
LAST = ["García", "Fernández", "González", "Rodríguez", "López", "Martínez", "Sánchez", "Pérez", "El Amrani"]
PHASES = [("steady", "cambio-domicilio-padron", "oac-casa-consistorial", False),
          ("worker killed", "registro-general", "junta-distrito-norte", True)]
RETRYABLE = (httpx.TransportError,)  # connect/read/write errors, dropped connections, timeouts
GRACE = 90.0  # seconds after a phase's deadline during which requests already sent are still resent


def dnis(count: int, rng: random.Random) -> list[str]:
    """`count` different valid DNIs: 8 digits and the letter of the number mod 23."""
    return [f"{n:08d}{CONTROL_LETTERS[n % 23]}" for n in rng.sample(range(10_000_000, 99_999_999), count)]


# --- the app --------------------------------------------------------------------------------------------------


def children_of() -> dict[int, list[int]]:
    tree: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        tree.setdefault(ppid, []).append(int(entry.name))
    return tree


def granian_workers(server_pid: int, expected: int) -> list[int]:
    """The worker processes: the children of the process (the server itself, or one of its descendants) that
    has `expected` children; else the largest family found under the server."""
    tree = children_of()
    families, todo = [], [server_pid]
    while todo:
        pid = todo.pop()
        kids = tree.get(pid, [])
        if kids:
            families.append(kids)
        todo += kids
    exact = [f for f in families if len(f) == expected]
    return sorted(exact[0] if exact else max(families, key=len, default=[]))


def connections_of(pids: list[int], port: int) -> dict[int, int]:
    """Established TCP connections to `port` each process holds (its sockets found in /proc/net/tcp*)."""
    established: set[str] = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            if int(fields[1].rsplit(":", 1)[1], 16) == port and fields[3] == "01":
                established.add(fields[9])
    counts = {}
    for pid in pids:
        inodes = set()
        try:
            for fd in Path(f"/proc/{pid}/fd").iterdir():
                target = os.readlink(fd)
                if target.startswith("socket:["):
                    inodes.add(target[8:-1])
        except OSError:
            pass
        counts[pid] = len(inodes & established)
    return counts


# --- citizens -------------------------------------------------------------------------------------------------


@dataclass
class Stats:
    post_ms: list[float] = field(default_factory=list)
    get_ms: list[float] = field(default_factory=list)
    acked: dict[str, str] = field(default_factory=dict)  # code -> DNI
    outcomes: Counter = field(default_factory=Counter)
    retries: Counter = field(default_factory=Counter)
    requests: int = 0
    done: int = 0
    first: float | None = None
    last: float = 0.0


class Limits(Exception):
    pass


async def send(client: httpx.AsyncClient, stats: Stats, method: str, url: str, deadline: float, max_requests: int,
               **kwargs) -> httpx.Response | None:
    """One request, sent again as it is (same body, same Idempotency-Key) on connection errors, timeouts, 5xx
    and 429 answers, with back-off. It is first sent only before the phase's deadline; once sent, it is resent
    until answered (up to GRACE seconds after the deadline), as the outbox would: a booking the server stored
    must reach its citizen. None when it was never sent or never answered."""
    delay, sent = 0.2, False
    while time.monotonic() < (deadline + GRACE if sent else deadline):
        if stats.requests >= max_requests and not sent:
            raise Limits("max requests")
        stats.requests += 1
        sent = True
        t0 = time.perf_counter()
        try:
            answer = await client.request(method, url, **kwargs)
        except RETRYABLE as exc:
            stats.retries[type(exc).__name__] += 1
        else:
            elapsed = (time.perf_counter() - t0) * 1000
            (stats.post_ms if method == "POST" else stats.get_ms).append(elapsed)
            if answer.status_code < 500 and answer.status_code != 429:
                return answer
            if answer.status_code == 429 and float(answer.headers.get("retry-after") or 1) > 5:
                return answer  # a limit for minutes: the citizen is refused (the caller counts it)
            stats.retries[f"HTTP {answer.status_code}"] += 1
            if answer.status_code == 429:
                delay = max(delay, float(answer.headers.get("retry-after") or 1))
        end = deadline + GRACE if sent else deadline
        await asyncio.sleep(max(0.0, min(delay * random.uniform(0.5, 1.0), end - time.monotonic())))
        delay = min(delay * 2, 3.0)
    return None


async def citizen(n: int, client: httpx.AsyncClient, stats: Stats, procedure: str, office: str, dni: str,
                  args, deadline: float, rng: random.Random, net: int) -> None:
    # Each citizen's own address, as a trusted proxy reports it (a fresh range per run: the per-address booking
    # limit keeps its counts in Redis between runs).
    address = (net + n) % (1 << 24)
    headers = {"X-Forwarded-For": f"10.{address >> 16}.{address >> 8 & 255}.{address & 255}",
               "Accept": "application/json"}
    try:
        avail = await send(client, stats, "GET", "/api/v1/availability", deadline, args.max_requests,
                           params={"procedure": procedure, "office": office}, headers=headers)
        if avail is None or avail.status_code != 200:
            stats.outcomes["no availability answer" if avail is None else f"availability {avail.status_code}"] += 1
            return
        free = [s["start"] for day in avail.json()["days"] for s in day["slots"] if s["free"] > 0]
        if not free:
            stats.outcomes["nothing free"] += 1
            return
        start = rng.choice(free[: args.popular])
        body = {"procedure": procedure, "office": office, "name": f"{rng.choice(FIRST)} {rng.choice(LAST)}",
                "document": dni, "phone": "", "email": "", "consent": True, "lang": "es"}
        for attempt in range(args.attempts):
            key = uuid.uuid4().hex  # one key per booking attempt; the very same key on every resend of it
            answer = await send(client, stats, "POST", "/api/v1/appointments", deadline, args.max_requests,
                                json={**body, "start": start}, headers={**headers, "Idempotency-Key": key})
            if answer is None:
                stats.outcomes["gave up (deadline)"] += 1
                return
            if answer.status_code in (200, 201):
                code = answer.json()["code"]
                if code in stats.acked and stats.acked[code] != dni:
                    stats.outcomes["same code for two citizens!"] += 1
                stats.acked[code] = dni
                stats.outcomes["booked"] += 1
                return
            if answer.status_code == 409:
                stats.outcomes["409 taken"] += 1
                alternatives = [a["start"] for a in answer.json().get("alternatives", []) if a["office"] == office]
                if not alternatives:
                    break
                start = alternatives[0]
                continue
            stats.outcomes[f"refused {answer.status_code} {sorted(answer.json().get('codes', {}).items())}"] += 1
            return
        stats.outcomes["no seat after retries"] += 1
    except Limits:
        stats.outcomes["stopped (max requests)"] += 1
    finally:
        stats.done += 1
        now = time.monotonic()
        stats.last = max(stats.last, now)


async def run_phase(base: str, procedure: str, office: str, args, kill: bool, server_pid: int, seed: int) -> dict:
    rng = random.Random(f"{seed}-{random.SystemRandom().random()}")  # new people every run: the per-person
    stats = Stats()                                                     # limit remembers them for an hour
    people = dnis(args.citizens, rng)
    limits = httpx.Limits(max_connections=args.connections, max_keepalive_connections=args.connections)
    timeout = httpx.Timeout(args.timeout, connect=10)
    killed: dict = {}
    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=timeout) as client:
        # Warm-up: every worker builds its catalogue once (not timed).
        await asyncio.gather(*(client.get("/api/v1/procedures") for _ in range(args.workers * 4)))
        started = time.monotonic()
        deadline = started + args.phase_seconds
        net = random.SystemRandom().randrange(1 << 24)
        tasks = [asyncio.create_task(citizen(i, client, stats, procedure, office, people[i], args, deadline,
                                             random.Random(seed * 100_003 + i), net))
                 for i in range(args.citizens)]

        async def killer():
            while stats.done < args.kill_at * args.citizens and time.monotonic() < deadline:
                await asyncio.sleep(0.05)
            before = granian_workers(server_pid, args.workers)
            if not before:
                killed["error"] = "no worker process found"
                return
            # The worker holding the most client connections: its requests in flight are lost with it.
            held = connections_of(before, int(httpx.URL(base).port))
            victim = max(before, key=lambda pid: (held.get(pid, 0), rng.random()))
            os.kill(victim, signal.SIGKILL)
            killed.update(pid=victim, at=time.monotonic() - started, done=stats.done, workers=before,
                          connections=held)
            while time.monotonic() < deadline + GRACE:
                await asyncio.sleep(0.2)
                now = granian_workers(server_pid, args.workers)
                if len(now) == len(before) and victim not in now:
                    killed["respawned_after"] = time.monotonic() - started - killed["at"]
                    return

        watcher = asyncio.create_task(killer()) if kill else None
        await asyncio.gather(*tasks)
        elapsed = (stats.last or time.monotonic()) - started
        if watcher:
            try:
                await asyncio.wait_for(watcher, timeout=GRACE + 5)
            except asyncio.TimeoutError:
                killed.setdefault("respawned_after", None)
    return {"stats": stats, "elapsed": elapsed, "killed": killed}


# --- checks in the database -----------------------------------------------------------------------------------


def check(database_url: str, procedure: str, office: str, stats: Stats, started_at: datetime) -> dict:
    """The phase's bookings as the database has them, against what the clients were told."""
    from pwa_app.models import Appointment, IdempotencyRecord, Office, Procedure
    from pwa_app.appointments.slots import TZ, slots

    engine = create_engine(database_url)
    with Session(engine) as s:
        proc = s.exec(select(Procedure).where(Procedure.slug == procedure)).one()
        off = s.exec(select(Office).where(Office.slug == office)).one()
        rows = s.exec(select(Appointment).where(Appointment.procedure_id == proc.id,
                                                Appointment.office_id == off.id,
                                                Appointment.status.in_(("booked", "checked_in")))).all()
        per_slot = Counter(a.starts_at for a in rows)
        capacity = {}
        if per_slot:
            # Every slot as it was bookable when the phase started, with its capacity.
            first = min(per_slot).astimezone(TZ).date()
            last = max(per_slot).astimezone(TZ).date()
            capacity = {x.starts_at: x.capacity for x in slots(s, proc.id, off.id, first, last, now=started_at)}
        over = {t: n - capacity.get(t, 0) for t, n in per_slot.items() if n > capacity.get(t, 0)}
        stored = {a.code for a in rows}
        by_person = Counter(a.document for a in rows)
        answered = Counter()
        for record in s.exec(select(IdempotencyRecord).where(IdempotencyRecord.operation == "book")):
            try:
                answered[json.loads(record.body)["code"].replace("-", "")] += 1
            except (ValueError, KeyError):
                pass
    engine.dispose()
    acked = {c.replace("-", "") for c in stats.acked}
    return {
        "stored": len(stored),
        "acked": len(acked),
        "acked_not_stored": sorted(acked - stored),
        "stored_not_acked": sorted(stored - acked),
        "over_bookings": sum(over.values()),
        "over_slots": len(over),
        "slots_used": len(per_slot),
        "full_slots": sum(1 for t, n in per_slot.items() if n >= capacity.get(t, 0) > 0),
        "duplicates": sum(n - 1 for n in by_person.values() if n > 1),
        "records_for_stored": sum(answered.get(c, 0) for c in stored),
    }


# --- report ---------------------------------------------------------------------------------------------------


def report(results: list[tuple[str, dict, dict]], args, elapsed: float) -> list[str]:
    cpu = os.cpu_count()
    print(f"\nCita load test, {time.strftime('%Y-%m-%d %H:%M')}, {platform.node()} ({cpu} CPUs, "
          f"Python {platform.python_version()}): {args.workers} Granian workers, PostgreSQL + Redis, "
          f"{args.citizens} concurrent citizens per phase over {args.connections} connections "
          f"(run took {elapsed:.0f} s)\n")
    head = ("| phase | bookings acked | bookings/s | POST p50 / p95 ms | GET availability p50 / p95 ms | 409 taken "
            "| resends | over-bookings | acked = stored |")
    print(head)
    print("|" + "|".join("---" for _ in range(head.count("|") - 1)) + "|")
    failures = []
    for name, phase, checks in results:
        st: Stats = phase["stats"]
        rate = checks["stored"] / phase["elapsed"] if phase["elapsed"] else 0
        same = not checks["acked_not_stored"] and not checks["stored_not_acked"]
        print(f"| {name} | {checks['acked']} | {rate:.1f} | {pct(st.post_ms, .5):.0f} / {pct(st.post_ms, .95):.0f} "
              f"| {pct(st.get_ms, .5):.0f} / {pct(st.get_ms, .95):.0f} | {st.outcomes['409 taken']} "
              f"| {sum(st.retries.values())} | {checks['over_bookings']} | "
              f"{'yes' if same else 'NO'} ({checks['acked']} / {checks['stored']}) |")
        if checks["over_bookings"]:
            failures.append(f"{name}: {checks['over_bookings']} over-bookings in {checks['over_slots']} slots")
        if checks["acked_not_stored"]:
            failures.append(f"{name}: {len(checks['acked_not_stored'])} bookings acknowledged but not stored")
        if checks["stored_not_acked"]:
            failures.append(f"{name}: {len(checks['stored_not_acked'])} bookings stored but never acknowledged")
        if checks["duplicates"]:
            failures.append(f"{name}: {checks['duplicates']} citizens booked twice")
        if checks["records_for_stored"] != checks["stored"]:
            failures.append(f"{name}: {checks['records_for_stored']} idempotency records for {checks['stored']} "
                            "stored bookings")
        if st.outcomes.get("same code for two citizens!"):
            failures.append(f"{name}: one code answered to two citizens")
    print()
    for name, phase, checks in results:
        st = phase["stats"]
        print(f"{name}: {phase['elapsed']:.1f} s, {st.requests} requests, {checks['slots_used']} slots booked "
              f"({checks['full_slots']} full); citizens: {dict(st.outcomes.most_common())}; "
              f"resends: {dict(st.retries.most_common()) or 'none'}")
        if phase["killed"]:
            k = phase["killed"]
            if "error" in k:
                failures.append(f"{name}: {k['error']}")
                continue
            after = k.get("respawned_after")
            print(f"  SIGKILL to worker pid {k['pid']} at {k['at']:.1f} s, after {k['done']} citizens were done "
                  f"(client connections per worker: {k['connections']}); a new worker was up "
                  f"{f'{after:.1f} s later' if after else 'NOT seen'}")
            if after is None:
                failures.append(f"{name}: the killed worker was not replaced")
    return failures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=4, help="Granian worker processes (GRANIAN_WORKERS)")
    parser.add_argument("--citizens", type=int, default=2000, help="concurrent citizens per phase")
    parser.add_argument("--connections", type=int, default=400, help="HTTP connections shared by the citizens")
    parser.add_argument("--popular", type=int, default=5, help="citizens pick among the N earliest free times")
    parser.add_argument("--attempts", type=int, default=3, help="booking attempts per citizen (409: alternative)")
    parser.add_argument("--phase-seconds", type=float, default=240, help="no new request after this (s)")
    parser.add_argument("--max-requests", type=int, default=25_000, help="requests per phase, at most")
    parser.add_argument("--timeout", type=float, default=60, help="seconds before a request counts as lost")
    parser.add_argument("--kill-at", type=float, default=0.3, help="kill a worker when this share of citizens is done")
    parser.add_argument("--redis-url", default=os.environ.get("CITA_BENCH_REDIS_URL", "redis://127.0.0.1:6379/7"))
    parser.add_argument("--budget", type=float, default=900, help="seconds for the whole run, build included")
    parser.add_argument("--keep-schema", action="store_true")
    parser.add_argument("--only", choices=[p[0] for p in PHASES], help="run one phase")
    args = parser.parse_args()
    if args.kill_at <= 0 or args.kill_at >= 1:
        parser.error("--kill-at must be between 0 and 1")
    host = httpx.URL(args.redis_url).host
    if host not in ("127.0.0.1", "localhost", "::1"):
        parser.error("loopback only: --redis-url must point at this machine")

    started = time.monotonic()
    tmp = Path(tempfile.mkdtemp(prefix="cita-load-"))
    database_url = fresh_postgres_schema()
    proc = None
    results = []
    try:
        print(f"building and starting the app with {args.workers} workers (log: {tmp / 'app.log'}) ...", flush=True)
        proc, base = start_app(tmp / "app.log", database_url, host="127.0.0.1", REDIS_URL=args.redis_url,
                               GRANIAN_WORKERS=str(args.workers), CITA_ALTCHA="off", CITA_TRUSTED_PROXIES="127.0.0.1",
                               CITA_RETENTION_SCHEDULE="0")
        wait_for(f"{base}/api/v1/health", proc, timeout=max(60.0, args.budget - 120))
        print(f"app at {base}, ready after {time.monotonic() - started:.0f} s; workers "
              f"{granian_workers(proc.pid, args.workers)}", flush=True)
        for seed, (name, procedure, office, kill) in enumerate(PHASES, 1):
            if args.only and name != args.only:
                continue
            left = args.budget - (time.monotonic() - started) - 30
            if left < 30:
                print(f"skipping phase {name!r}: over the --budget", flush=True)
                continue
            args.phase_seconds = min(args.phase_seconds, left)
            print(f"phase {name!r}: {args.citizens} citizens booking {procedure} at {office} ...", flush=True)
            started_at = datetime.now(timezone.utc) - timedelta(seconds=5)
            phase = asyncio.run(run_phase(base, procedure, office, args, kill, proc.pid, seed))
            if proc.poll() is not None:
                print(f"THE APP STOPPED (exit {proc.returncode}); see {tmp / 'app.log'}", flush=True)
            results.append((name, phase, check(database_url, procedure, office, phase["stats"], started_at)))
        failures = report(results, args, time.monotonic() - started)
        if proc.poll() is not None:
            failures.append("the app stopped during the run")
        for failure in failures:
            print(f"FAIL: {failure}", file=sys.stderr)
        return 1 if failures else 0
    finally:
        if proc is not None:
            stop_app(proc)
        if not args.keep_schema:
            schema = database_url.rsplit("search_path%3D", 1)[-1]
            base_url = database_url.split("?", 1)[0]
            with create_engine(base_url).begin() as conn:
                conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
