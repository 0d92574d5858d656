"""The 9:00 rush in one command: Cita in production mode under wrk, every figure a ratio to baselines measured in
the same run.

Run from the repository root:  .venv/bin/python bench/rush.py  [--workers 4] [--seconds 10] [--connections 32]

1. Baselines: a bare Starlette "hello" on Granian with the same number of workers (the stack's ceiling), and
   pgbench single-row INSERT transactions against the same PostgreSQL (the database's commit ceiling).
2. The app as `scripts/run.sh` serves it in production: a fresh PostgreSQL schema, migrations, the seed,
   `reflex run --env prod --single-port` with REDIS_URL and GRANIAN_WORKERS (bench/_app.py). Proofs of work are
   real but cheap: the bench knows the installation secret (CITA_SECRET_KEY) and makes each challenge with its
   answer (number <= 10), as a fast phone would; the per-address and per-person rate limits are lifted
   (CITA_RATE_BOOKING*: every wrk request comes from 127.0.0.1), the per-person appointment limit is not
   (every request has its own valid DNI).
3. `wrk -t2 -c32` (bench/rush.lua for the POSTs), --seconds each: the trivial route (a 404 under /api/v1, the
   app's own floor), the prerendered /es/, the catalogue, one procedure's availability (gzip, as phones ask;
   and revalidated with If-None-Match), bookings on a full slot (all 409 with alternatives), bookings spread
   over free slots (each request one free seat), and the same with one Granian worker SIGKILLed half way.
   Then --crowd (2,000) citizens at once for --crowd-seconds, each waiting --think-ms (3 s, from half to one and
   a half times) between requests: four in five reload the calendar, one in five books (pausing four times as
   long), a worker SIGKILLed.
4. Checks in the database: no slot holds more appointments than its capacity; the bookings acknowledged (a 201
   seen by wrk, or by the resend of every request that got no answer, same Idempotency-Key, as the device
   outbox does) are exactly the bookings stored; one idempotency record per booking. Exit status 1 otherwise.
Also prints the SQL statements of one booking through the API (a before_cursor_execute counter in-process).
"""

import argparse
import base64
import json
import os
import platform
import random
import re
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from datetime import datetime, timedelta, timezone
from pathlib import Path

import altcha
import httpx
from _app import start_app, stop_app
from booking import find_pgbench, run_pgbench
from load import granian_workers
from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import make_url

from tests.e2e.conftest import free_port, fresh_postgres_schema, wait_for

LUA = Path(__file__).with_name("rush.lua")
HOT = ("alta-padron", "junta-distrito-norte")
AVAILABILITY = "/api/v1/availability?procedure=alta-padron&office=junta-distrito-norte"
LETTERS = "TRWAGMYFPDXBNJZSQVHLCKE"
HELLO = '''from starlette.applications import Starlette
from starlette.responses import PlainTextResponse
from starlette.routing import Route

app = Starlette(routes=[Route("/", lambda request: PlainTextResponse("hello"))])
'''


PROFILE: dict = {}  # --profile: where py-spy writes, and the app's server process


def profiled(label: str, seconds: float):
    """With --profile, py-spy records one app worker while a phase runs (collapsed stacks, for flame graphs or
    `sort | uniq`): profile before optimising."""
    if not PROFILE.get("pid"):
        return None
    workers = granian_workers(PROFILE["pid"], PROFILE["workers"])
    out = Path(PROFILE["dir"]) / (re.sub(r"\W+", "-", label).strip("-")[:60] + ".txt")
    return subprocess.Popen([str(Path(sys.executable).with_name("py-spy")), "record", "--pid", str(workers[0]),
                             "--duration", str(int(seconds)), "--format", "raw", "--idle", "--nonblocking",
                             "--output", str(out)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def wrk(url: str, seconds: float, connections: int, threads: int, env: dict | None = None,
        headers: tuple[str, ...] = (), timeout: int = 10) -> dict:
    spy = profiled(url.split("/", 3)[-1] + " " + " ".join(headers) + " " + (env or {}).get("RUSH_RUN", ""), seconds)
    cmd = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds:g}s", "--timeout", f"{timeout}s", "-s", str(LUA), url]
    for h in headers:
        cmd += ["-H", h]
    out = subprocess.run(cmd, env={**os.environ, **(env or {})}, capture_output=True, text=True, timeout=seconds + 60)
    if spy:
        spy.wait(30)
    line = next((x for x in out.stdout.splitlines() if x.startswith("RUSH ")), None)
    if line is None:
        raise RuntimeError(f"wrk failed: {out.stdout}\n{out.stderr}")
    result = json.loads(line[5:])
    result["rate"] = result["requests"] / result["seconds"]
    print(f"  {url} {' '.join(headers)}: {result['rate']:,.0f}/s, p50/p95/p99 {result['p50']:.1f}/"
          f"{result['p95']:.1f}/{result['p99']:.1f} ms, statuses {result['statuses']}", flush=True)
    return result


def bare_starlette(tmp: Path, workers: int, args) -> dict:
    (tmp / "hello.py").write_text(HELLO)
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "granian", "--interface", "asgi", "--workers", str(workers),
                             "--host", "127.0.0.1", "--port", str(port), "--no-ws", "hello:app"],
                            cwd=tmp, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        wait_for(f"http://127.0.0.1:{port}/", proc, timeout=60)
        return wrk(f"http://127.0.0.1:{port}/", args.seconds, args.connections, args.threads)
    finally:
        stop_app(proc)


# --- proofs, tickets, bodies ----------------------------------------------------------------------------------


def proofs(secret: str, count: int) -> list[str]:
    """Solved ALTCHA challenges, made with the installation's secret (the answer chosen, so no search)."""
    expires = datetime.now(timezone.utc) + timedelta(minutes=20)
    out = []
    for _ in range(count):
        number = random.randint(0, 10)
        c = altcha.create_challenge_v1(altcha.ChallengeOptionsV1(hmac_key=secret, max_number=10, number=number,
                                                                 expires=expires))
        out.append(base64.b64encode(json.dumps({"algorithm": c.algorithm, "challenge": c.challenge, "salt": c.salt,
                                                "signature": c.signature, "number": number}).encode()).decode())
    return out


def free_seats(client: httpx.Client) -> list[tuple[str, str, str]]:
    """One ticket (procedure, office, start) per free seat of every procedure that books without e-mail."""
    cat = client.get("/api/v1/procedures").json()
    seats = []
    for p in cat["procedures"]:
        if not p["needs_appointment"] or p["high_demand"]:
            continue
        for office in p["offices"]:
            answer = client.get("/api/v1/availability", params={"procedure": p["slug"], "office": office})
            for day in answer.json().get("days", []):
                seats += [(p["slug"], office, s["start"]) for s in day["slots"] for _ in range(s["free"])]
    return seats


def body_of(run: int, thread: int, n: int, ticket: tuple[str, str, str], proof: str) -> dict:
    """The body rush.lua sends for request n of a thread (the resend of a request gets a new proof)."""
    key = f"rush{run}-{thread}-{n}"
    number = 10000000 + run * 10000000 + thread * 1000000 + n
    return {"procedure": ticket[0], "office": ticket[1], "start": ticket[2], "name": f"Rush {key}",
            "document": f"{number:08d}{LETTERS[number % 23]}", "phone": "", "email": "", "consent": True,
            "lang": "es", "altcha": proof}


def booking_run(base: str, tmp: Path, run: int, tickets: list, secret: str, args, kill=None,
                connections: int | None = None, seconds: float | None = None, env: dict | None = None,
                timeout: int = 10) -> dict:
    """wrk posting bookings for `tickets` (split between its threads), then the resend of every request that got
    no answer. Returns the wrk figures, the acknowledged codes and the resends."""
    folder = tmp / f"run{run}"
    folder.mkdir()
    seconds = seconds or args.seconds
    per_thread = [tickets[i::args.threads] or tickets for i in range(args.threads)]
    budget = int(seconds * 2000) + 1000  # more proofs than wrk can send in the time
    for i, mine in enumerate(per_thread, 1):
        (folder / f"tickets-{i}.txt").write_text("".join(f"{p} {o} {s}\n" for p, o, s in mine))
        (folder / f"proofs-{i}.txt").write_text("\n".join(proofs(secret, budget)) + "\n")
    killer = threading.Timer(seconds / 2, kill) if kill else None
    if killer:
        killer.start()
    result = wrk(base + "/api/v1/appointments", seconds, connections or args.connections, args.threads,
                 env={"RUSH_MODE": "book", "RUSH_DIR": str(folder), "RUSH_RUN": str(run), **(env or {})},
                 timeout=timeout)
    if killer:
        killer.join()
    acked = {}
    for i in range(1, args.threads + 1):
        for line in (folder / f"acked-{i}.txt").read_text().splitlines():
            key, code = line.split()
            acked[key] = code
    resent = Counter()
    with httpx.Client(base_url=base, timeout=30) as client:
        for thread, count in result["sent"].items():
            mine = per_thread[int(thread) - 1]
            for n in range(1, count + 1):
                key = f"rush{run}-{thread}-{n}"
                if key in acked:
                    continue
                body = body_of(run, int(thread), n, mine[(n - 1) % len(mine)], proofs(secret, 1)[0])
                for _ in range(20):  # the outbox: the same request again until it gets an answer
                    try:
                        answer = client.post("/api/v1/appointments", json=body, headers={"Idempotency-Key": key})
                    except httpx.TransportError:
                        time.sleep(0.5)
                        continue
                    if answer.status_code < 500:
                        break
                    time.sleep(0.5)
                resent[answer.status_code] += 1
                if answer.status_code == 201:
                    acked[key] = answer.json()["code"]
    shutil.rmtree(folder, ignore_errors=True)
    return {**result, "acked": acked, "resent": resent}


def first_visit(base: str) -> str:
    """What the home page's warmCache (assets/offline.js) asks on a first visit, and again on a second visit
    with the ETags it saved: requests, 304s and bytes on the wire (gzip, headers not counted)."""
    with httpx.Client(base_url=base, timeout=60, headers={"Accept-Encoding": "gzip"}) as client:
        paths = ["/api/v1/procedures?lang=es"]
        cat = client.get(paths[0]).json()
        paths += [f"/api/v1/availability?procedure={p['slug']}&office={o}&lang=es"
                  for p in cat["procedures"] if p["needs_appointment"] for o in p["offices"]]
        paths.append("/api/v1/request-types?lang=es")
        visits, etags = [], {}
        for _ in range(2):
            sizes, unchanged = 0, 0
            for path in paths:
                answer = client.get(path, headers={"If-None-Match": etags[path]} if path in etags else {})
                sizes += answer.num_bytes_downloaded
                unchanged += answer.status_code == 304
                if answer.headers.get("etag"):
                    etags[path] = answer.headers["etag"]
            visits.append((sizes, unchanged))
    return (f"home page, first visit: {len(paths)} API requests, {visits[0][0] / 1024:,.0f} KB; again with the "
            f"saved ETags: {visits[1][1]} of {len(paths)} answered 304, {visits[1][0] / 1024:,.0f} KB")


# --- checks ---------------------------------------------------------------------------------------------------


def check(database_url: str, acked: set[str], since: datetime) -> dict:
    """Over-bookings (per slot, appointments holding a seat above its capacity) and acknowledged = stored."""
    from sqlmodel import Session, select

    from pwa_app.models import Appointment, IdempotencyRecord
    from pwa_app.appointments.slots import slots

    engine = create_engine(database_url)
    with Session(engine) as s:
        rows = s.exec(select(Appointment).where(Appointment.seat != None, Appointment.name.like("Rush %"))).all()  # noqa: E711
        per_slot = Counter((a.procedure_id, a.office_id, a.starts_at) for a in rows)
        over = 0
        for (proc, office), days in _days(per_slot).items():
            capacity = {x.starts_at: x.capacity for x in slots(s, proc, office, min(days), max(days), now=since)}
            over += sum(max(0, n - capacity.get(t, 0)) for (p, o, t), n in per_slot.items() if (p, o) == (proc, office))
        stored = {a.code for a in rows}
        records = s.exec(select(IdempotencyRecord).where(IdempotencyRecord.key.like("rush%"))).all()
    engine.dispose()
    acked = {c.replace("-", "") for c in acked}
    return {"stored": len(stored), "acked": len(acked), "over": over, "same": acked == stored,
            "records": len(records), "diff": (len(acked - stored), len(stored - acked))}


def _days(per_slot: Counter) -> dict:
    from pwa_app.appointments.slots import TZ

    out: dict = {}
    for proc, office, start in per_slot:
        out.setdefault((proc, office), set()).add(start.astimezone(TZ).date())
    return out


def statements_per_booking(database_url: str, secret: str) -> int:
    """SQL statements of one POST /api/v1/appointments through the API in this process."""
    os.environ.update(DATABASE_URL=database_url, CITA_SECRET_KEY=secret)
    os.environ.pop("REDIS_URL", None)
    from fastapi.testclient import TestClient

    from pwa_app import db
    from pwa_app.api import create_api

    seen = []
    event.listen(db.engine(), "before_cursor_execute", lambda *a: seen.append(a[2]))
    with TestClient(create_api()) as client:
        ticket = free_seats_of(client, HOT)
        client.post("/api/v1/appointments", json=body_of(8, 1, 1, ticket, proofs(secret, 1)[0]),
                    headers={"Idempotency-Key": "rush-warm-up"})  # first use: catalogue, prepared statements
        ticket = free_seats_of(client, HOT)
        seen.clear()
        answer = client.post("/api/v1/appointments", json=body_of(8, 1, 2, ticket, proofs(secret, 1)[0]),
                             headers={"Idempotency-Key": "rush-count"})
    assert answer.status_code == 201, answer.text
    return len(seen)


def crowd_run(base: str, tmp: Path, tickets: list, secret: str, args, kill) -> tuple[dict, dict]:
    """`--crowd` citizens at once, each waiting a few seconds between requests as a person does (wrk's delay()):
    four in five reload the calendar, one in five books (four times slower); a worker is SIGKILLed half way. wrk
    waits 60 s for an answer here: it counts a connection pausing longer than its timeout as timed out."""
    think = {"RUSH_THINK_MS": str(args.think_ms)}
    bookers = max(args.threads, args.crowd // 5)
    pace = {"RUSH_THINK_MS": str(args.think_ms * 4)}  # a booking takes a person longer than a reload
    found: dict = {}
    readers = threading.Thread(target=lambda: found.update(avail=wrk(
        base + AVAILABILITY, args.crowd_seconds, args.crowd - bookers, args.threads, env=think,
        headers=("Accept-Encoding: gzip",), timeout=60)))
    readers.start()
    booked = booking_run(base, tmp, 4, tickets, secret, args, kill=kill, connections=bookers,
                         seconds=args.crowd_seconds, env=pace, timeout=60)
    readers.join()
    return found["avail"], booked


def free_seats_of(client, pair) -> tuple[str, str, str]:
    answer = client.get("/api/v1/availability", params={"procedure": pair[0], "office": pair[1]}).json()
    return next((pair[0], pair[1], s["start"]) for d in answer["days"] for s in d["slots"] if s["free"])


# --- report ---------------------------------------------------------------------------------------------------


def report(rows: list[tuple[str, dict, str]], bare: dict, floor: dict, pg: dict, args, extra: list[str]) -> None:
    print(f"\nCita rush, {time.strftime('%Y-%m-%d %H:%M')} UTC, {platform.node()} ({os.cpu_count()} CPUs, Python "
          f"{platform.python_version()}): {args.workers} Granian workers, PostgreSQL + Redis, "
          f"wrk -t{args.threads} -c{args.connections} -d{args.seconds:g}s\n")
    print("| route | answers/s | × trivial route | × bare Starlette | p50 / p95 / p99 ms | statuses |")
    print("|---|---|---|---|---|---|")
    for name, r, note in rows:
        statuses = ", ".join(f"{k}: {v}" for k, v in sorted(r.get("statuses", {}).items())) or note
        if r.get("errors"):
            statuses += f", socket errors: {r['errors']}"
        print(f"| {name} | {r['rate']:,.0f} | {r['rate'] / floor['rate']:.3f} | {r['rate'] / bare['rate']:.4f} "
              f"| {r['p50']:.1f} / {r['p95']:.1f} / {r['p99']:.1f} | {statuses} |")
    print(f"\npgbench single-row INSERT (-c 4 -j 4 -T 5): {pg['tps']:,.0f} transactions/s")
    for line in extra:
        print(line)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--seconds", type=float, default=10, help="each wrk run")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--crowd", type=int, default=2000, help="citizens at once in the last phase (0: none)")
    parser.add_argument("--crowd-seconds", type=float, default=30)
    parser.add_argument("--think-ms", type=int, default=3000, help="a citizen's mean wait between two requests")
    parser.add_argument("--profile", metavar="DIR", help="record one worker with py-spy in each app phase")
    parser.add_argument("--redis-url", default=os.environ.get("CITA_BENCH_REDIS_URL", "redis://127.0.0.1:6379/8"))
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="cita-rush-"))
    secret = secrets.token_hex(32)
    database_url = fresh_postgres_schema()
    schema = database_url.rsplit("search_path%3D", 1)[-1]
    base_url = make_url(database_url.split("?", 1)[0])
    proc = None
    failures: list[str] = []
    try:
        print("bare Starlette on Granian ...", flush=True)
        bare = bare_starlette(tmp, args.workers, args)
        print("pgbench ...", flush=True)
        with create_engine(base_url).begin() as conn:
            conn.execute(text(f'CREATE TABLE "{schema}".bench_row (id bigserial PRIMARY KEY, n bigint)'))
        pg = run_pgbench(find_pgbench(None), base_url, schema, 4, 5)
        print(f"building and starting the app (log: {tmp / 'app.log'}) ...", flush=True)
        proc, base = start_app(tmp / "app.log", database_url, host="127.0.0.1", REDIS_URL=args.redis_url,
                               GRANIAN_WORKERS=str(args.workers), CITA_SECRET_KEY=secret,
                               CITA_ALTCHA_MAX_NUMBER="10", CITA_RATE_BOOKING="100000000/1",
                               CITA_RATE_BOOKING_PERSON="100000000/1", CITA_RATE_BOOKING_BURST="100000000/1",
                               CITA_RETENTION_SCHEDULE="0",
                               CITA_TRUSTED_PROXIES="none")
        wait_for(f"{base}/api/v1/health", proc, timeout=600)
        if args.profile:
            Path(args.profile).mkdir(parents=True, exist_ok=True)
            PROFILE.update(dir=args.profile, pid=proc.pid, workers=args.workers)
        since = datetime.now(timezone.utc)
        with httpx.Client(base_url=base, timeout=60) as client:
            tickets = free_seats(client)
            random.Random(0).shuffle(tickets)
            # The hot slot: one time of the most wanted procedure, filled before the run.
            hot = free_seats_of(client, HOT)
            full = [t for t in tickets if t == hot]
            prefill = {}
            for n, t in enumerate(full, 1):
                answer = client.post("/api/v1/appointments", json=body_of(7, 1, n, t, proofs(secret, 1)[0]),
                                     headers={"Idempotency-Key": f"rush7-1-{n}"})
                prefill[f"rush7-1-{n}"] = answer.json().get("code")
            tickets = [t for t in tickets if t != hot]
            for _ in range(args.workers * 8):  # every worker warm (catalogue, first availability)
                client.get(AVAILABILITY)
            etag = client.get(AVAILABILITY, headers={"Accept-Encoding": "gzip"}).headers.get("etag", "")
        third = len(tickets) // 3
        spread, killed_tickets, crowd_tickets = tickets[:third], tickets[third:2 * third], tickets[2 * third:]
        rows = []
        gz = ("Accept-Encoding: gzip",)
        floor = wrk(base + "/api/v1/no-such-route", args.seconds, args.connections, args.threads, headers=gz)
        rows.append(("`/api/v1/no-such-route` (404: the trivial route)", floor, "404"))
        rows.append(("`/es/` (prerendered HTML)", wrk(base + "/es/", args.seconds, args.connections, args.threads,
                                                        headers=gz), "200"))
        rows.append(("`/api/v1/procedures?lang=es`", wrk(base + "/api/v1/procedures?lang=es", args.seconds,
                                                         args.connections, args.threads, headers=gz), "200"))
        avail = wrk(base + AVAILABILITY, args.seconds, args.connections, args.threads, headers=gz)
        rows.append((f"`{AVAILABILITY}`", avail, "200"))
        if etag:
            rows.append(("the same, revalidated (If-None-Match)", wrk(
                base + AVAILABILITY, args.seconds, args.connections, args.threads,
                headers=(*gz, f"If-None-Match: {etag}")), "304"))
        hot_run = booking_run(base, tmp, 1, [hot], secret, args)
        rows.append(("booking a full slot (409 + alternatives)", hot_run, ""))
        spread_run = booking_run(base, tmp, 2, spread, secret, args)
        rows.append(("bookings spread over free seats", spread_run, ""))
        victim = {}

        def kill():
            workers = granian_workers(proc.pid, args.workers)
            if workers:
                victim["pid"] = random.choice(workers)
                os.kill(victim["pid"], signal.SIGKILL)

        killed_run = booking_run(base, tmp, 3, killed_tickets, secret, args, kill=kill)
        rows.append((f"the same, a worker SIGKILLed at {args.seconds / 2:g} s", killed_run, ""))
        runs = [hot_run, spread_run, killed_run]
        if args.crowd:
            crowd_avail, crowd_booked = crowd_run(base, tmp, crowd_tickets, secret, args, kill)
            rows.append((f"{args.crowd:,} citizens ({args.think_ms / 1000:g} s between requests): the calendar",
                         crowd_avail, ""))
            rows.append(("... and their bookings, a worker SIGKILLed half way", crowd_booked, ""))
            runs.append(crowd_booked)
        after = granian_workers(proc.pid, args.workers)
        acked = {*filter(None, prefill.values())}
        for r in runs:
            acked |= set(r["acked"].values())
        checks = check(database_url, acked, since)
        visit = first_visit(base)
        count = statements_per_booking(database_url, secret)
        booked = spread_run["statuses"].get("201", 0) / spread_run["seconds"]
        extra = [
            f"bookings spread: {booked:,.0f} commits/s = **{booked / pg['tps']:.3f}× pgbench**; "
            f"SQL statements per booking through the API: **{count}**",
            f"hot slot: {hot_run['rate']:,.0f} answers/s = {hot_run['rate'] / floor['rate']:.3f}× the trivial route",
            f"availability: {avail['rate'] / floor['rate']:.3f}× the trivial route, p95 {avail['p95']:.1f} ms; "
            f"trivial route {floor['rate'] / bare['rate']:.3f}× bare Starlette ({bare['rate']:,.0f}/s)",
            f"resends after wrk (no answer seen; same Idempotency-Key): spread {dict(spread_run['resent'])}, "
            f"killed {dict(killed_run['resent'])}; killed worker {victim.get('pid')}, workers after: {after}",
            *([f"{args.crowd:,} citizens at once: calendar p95 **{crowd_avail['p95'] / 1000:.2f} s** (target <= 2 s), "
               f"booking p95 **{crowd_booked['p95'] / 1000:.2f} s** (target <= 5 s); resends "
               f"{dict(crowd_booked['resent'])}"] if args.crowd else []),
            visit,
            f"over-bookings: **{checks['over']}**; acknowledged = stored: **{'yes' if checks['same'] else 'NO'}** "
            f"({checks['acked']} / {checks['stored']}); idempotency records: {checks['records']}",
        ]
        report(rows, bare, floor, pg, args, extra)
        if checks["over"]:
            failures.append(f"{checks['over']} over-bookings")
        if not checks["same"]:
            failures.append(f"acknowledged != stored: {checks['diff']}")
        if checks["records"] < checks["stored"]:
            failures.append("fewer idempotency records than bookings")
        if not victim or victim["pid"] in after or len(after) != args.workers:
            failures.append("the killed worker was not replaced")
        if proc.poll() is not None:
            failures.append("the app stopped")
    finally:
        stop_app(proc)
        with create_engine(base_url).begin() as conn:
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        shutil.rmtree(tmp, ignore_errors=True)
    for f in failures:
        print(f"FAIL: {f}", file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
