"""Booking commits per second on PostgreSQL, next to pgbench's single-row INSERT TPS on the same server.

Run from the repository root:  .venv/bin/python bench/booking.py  [--workers 4] [--per-worker 300] ...

What it does, in one fresh schema `cita_bench_<random>` (created, seeded, and dropped at the end, also on error):
1. pgbench baseline: a custom script `INSERT INTO bench_row ...` (one row per autocommit transaction) with
   `-c W -j W -T 5`, schema chosen through PGOPTIONS; its "tps = ... (without initial connection time)" is parsed.
2. Spread phase: W spawned processes, each with its own engine (`pwa_app.db.make_engine`, the production pool
   settings), book through the API's path: a new Session per request, `run_once(session, key, "book", payload,
   action)` with a fresh uuid Idempotency-Key, the action calling `booking.book(...)` and building the API's
   answer (`appointment_view`). Every worker books seats of its own free slots (of a few procedures and offices),
   so this measures commit throughput, not contention on one slot.
3. Hot phase: all W processes try to book the same few slots; most answers are "taken" (with alternatives).
4. Checks: per slot, booked seats <= capacity (0 over-bookings), one idempotency record per booking, and as many
   appointments in the database as successful answers. Exit status 1 on an over-booking or any error.

Times are never asserted: the figures depend on the machine. The clock is fixed (NOW, as in tests/unit/conftest.py)
so the seeded 2026-2027 calendar always has future slots.
"""

import argparse
import multiprocessing
import os
import queue
import random
import re
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import traceback
import uuid
from collections import Counter
from datetime import datetime, timedelta, timezone
from glob import glob
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import sqlalchemy  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402
from sqlmodel import Session, func, select  # noqa: E402

MADRID = ZoneInfo("Europe/Madrid")
UTC = timezone.utc
# Tuesday 1 December 2026, 08:00 in Madrid: the fixed "now" of the unit tests; its 60-day horizon is in the seed.
NOW = datetime(2026, 12, 1, 8, 0, tzinfo=MADRID).astimezone(UTC)
DEFAULT_URL = os.environ.get("CITA_BENCH_POSTGRES_URL") or os.environ.get(
    "CITA_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")

# (procedure, office) pairs whose free slots the spread phase books: short slots, several desks each.
SPREAD_PAIRS = [
    ("registro-general", "oac-casa-consistorial"),
    ("registro-general", "junta-distrito-norte"),
    ("cambio-domicilio-padron", "oac-casa-consistorial"),
    ("cambio-domicilio-padron", "junta-distrito-norte"),
    ("alta-padron", "oac-casa-consistorial"),
    ("alta-padron", "junta-distrito-norte"),
]
HOT_PAIR = ("alta-padron", "oac-casa-consistorial")  # 3 desks per slot
HOLD_PAIR = ("ibi-domiciliacion-fraccionamiento", "oac-casa-consistorial")  # untouched by the other phases
WARMUP_PER_WORKER = 5  # untimed bookings per worker before the spread phase (connections, statement caches)

CONTROL_LETTERS = "TRWAGMYFPDXBNJZSQVHLCKE"
FIRST_NAMES = ["Lucía", "Hugo", "Martina", "Mateo", "Sofía", "Leo", "Julia", "Daniel", "Paula", "Álvaro"]
LAST_NAMES = ["García", "Fernández", "González", "Rodríguez", "López", "Martínez", "Sánchez", "Pérez"]


def random_dni(rng: random.Random) -> str:
    number = rng.randrange(0, 100_000_000)
    return f"{number:08d}{CONTROL_LETTERS[number % 23]}"


def random_name(rng: random.Random) -> str:
    return f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)} {rng.choice(LAST_NAMES)}"


# --- worker processes -----------------------------------------------------------------------------------------


def book_once(engine, ticket: tuple[str, str, str], rng: random.Random, hold_token: str | None = None) -> str:
    """One POST /api/v1/appointments, minus HTTP: "ok", or the BookingError code of the slot ("taken", ...)."""
    from pwa_app.api.appointments import BookingIn, appointment_view
    from pwa_app.appointments import booking
    from pwa_app.appointments.booking import BookingError
    from pwa_app.common.idempotency import run_once

    procedure, office, start = ticket
    data = BookingIn(procedure=procedure, office=office, start=datetime.fromisoformat(start),
                     name=random_name(rng), document=random_dni(rng), consent=True, lang="es")
    with Session(engine, expire_on_commit=False) as session:  # what pwa_app.db.session() gives the API

        def action():
            appt = booking.book(session, data.procedure, data.office, data.start, data.model_dump(), now=NOW,
                                hold_token=hold_token)
            return 201, appointment_view(session, appt, data.lang)

        try:
            status, _body = run_once(session, uuid.uuid4().hex, "book", data.model_dump(mode="json"), action)
        except BookingError as exc:
            session.rollback()
            return exc.errors.get("slot") or "invalid:" + ",".join(f"{k}={v}" for k, v in sorted(exc.errors.items()))
    return "ok" if status == 201 else f"status_{status}"


def book_held(engine, ticket: tuple[str, str, str], rng: random.Random) -> str:
    """What a citizen online does: hold the picked time (one request), then book it with the hold (another)."""
    from pwa_app.appointments import booking

    procedure, office, start = ticket
    with Session(engine, expire_on_commit=False) as session:
        held = booking.hold(session, procedure, office, datetime.fromisoformat(start), now=NOW)
        session.commit()
        token = held.token
    return book_once(engine, ticket, rng, hold_token=token)


def hold_cost(engine, n: int, rng: random.Random) -> dict:
    """Per-booking cost of hold + confirm next to a plain booking, on fresh slots, one at a time."""
    with Session(engine) as session:
        free = free_slots(session, [HOLD_PAIR])[HOLD_PAIR]
    tickets = [(HOLD_PAIR[0], HOLD_PAIR[1], s.starts_at.isoformat()) for s in free if s.free >= 1][: 2 * n]
    if len(tickets) < 2 * n:
        sys.exit(f"not enough free slots for the hold phase ({len(tickets)} < {2 * n})")
    timed = {}
    for name, fn, part in (("plain", book_once, tickets[:n]), ("hold", book_held, tickets[n:])):
        t0 = time.perf_counter()
        outcomes = Counter(fn(engine, t, rng) for t in part)
        timed[name] = {"ms": (time.perf_counter() - t0) * 1000 / n, "ok": outcomes["ok"], "outcomes": outcomes}
    return timed


def run_tickets(engine, tickets, rng) -> dict:
    outcomes, latencies, errors = Counter(), [], []
    started = time.perf_counter()  # CLOCK_MONOTONIC on Linux: comparable between processes
    for ticket in tickets:
        t0 = time.perf_counter()
        try:
            outcomes[book_once(engine, ticket, rng)] += 1
        except Exception:  # noqa: BLE001  (reported, and the run fails)
            outcomes["error"] += 1
            if len(errors) < 3:
                errors.append(traceback.format_exc())
        latencies.append(time.perf_counter() - t0)
    return {"outcomes": outcomes, "latencies": latencies, "errors": errors,
            "started": started, "ended": time.perf_counter()}


def worker(index: int, url: str, tasks, results, barrier) -> None:
    """Warm up, then run each phase's tickets when every worker (and the parent) reaches the barrier."""
    try:
        from pwa_app.db import make_engine
        from pwa_app.catalogue import published

        rng = random.Random(f"worker-{index}-{secrets.token_hex(4)}")
        engine = make_engine(url)
        with Session(engine) as session:
            published.cached(session, "es")  # the API process builds it once, too
        results.put(("ready", index, None))
        while (job := tasks.get()) is not None:
            phase, warmup, tickets = job
            warm = run_tickets(engine, warmup, rng) if warmup else None
            barrier.wait()
            result = run_tickets(engine, tickets, rng)
            if warm:
                result["warmup"] = warm["outcomes"]
                result["errors"] = warm["errors"] + result["errors"]
            results.put((phase, index, result))
        engine.dispose()
    except Exception:  # noqa: BLE001
        results.put(("crash", index, traceback.format_exc()))


# --- parent: schema, pgbench, phases, checks ------------------------------------------------------------------


def find_pgbench(given: str | None) -> str:
    found = given or shutil.which("pgbench") or next(iter(sorted(glob("/usr/lib/postgresql/*/bin/pgbench"),
                                                                  reverse=True)), None)
    if not found:
        sys.exit("pgbench not found: install postgresql-client (Debian) or pass --pgbench PATH")
    return found


def run_pgbench(pgbench: str, base_url, schema: str, clients: int, seconds: int) -> dict:
    """Single-row INSERT transactions into bench_row (created by the caller in `schema`)."""
    script = "\\set n random(1, 1000000000)\nINSERT INTO bench_row (n) VALUES (:n);\n"
    with tempfile.TemporaryDirectory(prefix="cita_bench_") as tmp:
        path = Path(tmp) / "insert_one_row.sql"
        path.write_text(script)
        env = dict(os.environ, PGOPTIONS=f"-c search_path={schema}")
        if base_url.password:
            env["PGPASSWORD"] = base_url.password
        cmd = [pgbench, "-n", "-f", str(path), "-c", str(clients), "-j", str(clients), "-T", str(seconds),
               "-h", base_url.host or "127.0.0.1", "-p", str(base_url.port or 5432),
               "-U", base_url.username or "postgres", base_url.database or "postgres"]
        proc = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False, timeout=seconds + 120)
    out = proc.stdout + proc.stderr
    tps = re.search(r"^tps = ([0-9.]+) \(without initial connection time\)", out, re.MULTILINE)
    if proc.returncode != 0 or not tps:
        raise RuntimeError(f"pgbench failed (exit {proc.returncode}):\n$ {' '.join(cmd)}\n{out}")
    done = re.search(r"^number of transactions actually processed: (\d+)", out, re.MULTILINE)
    latency = re.search(r"^latency average = ([0-9.]+) ms", out, re.MULTILINE)
    return {"tps": float(tps.group(1)), "transactions": int(done.group(1)) if done else None,
            "latency_ms": float(latency.group(1)) if latency else None, "output": out}


def free_slots(session, pairs) -> dict[tuple[str, str], list]:
    from pwa_app.models import Office, Procedure
    from pwa_app.appointments.slots import booking_window, slots

    horizon = booking_window(session, None, NOW).last
    first = NOW.astimezone(MADRID).date()
    found = {}
    for proc_slug, office_slug in pairs:
        proc = session.exec(select(Procedure).where(Procedure.slug == proc_slug)).one()
        office = session.exec(select(Office).where(Office.slug == office_slug)).one()
        found[(proc_slug, office_slug)] = [s for s in slots(session, proc.id, office.id, first, horizon, NOW) if s.free]
    return found


def plan(session, workers: int, per_worker: int, hot_slots: int, hot_per_worker: int):
    """Tickets (procedure, office, start ISO) per worker: disjoint slots for warm-up and spread, shared for hot."""
    found = free_slots(session, SPREAD_PAIRS + [HOT_PAIR])
    hot = found[HOT_PAIR][:hot_slots]
    hot_keys = {(HOT_PAIR, s.starts_at) for s in hot}
    spread = [(pair, s) for pair in SPREAD_PAIRS for s in found[pair] if (pair, s.starts_at) not in hot_keys]
    random.Random(0).shuffle(spread)  # mix procedures, offices and days
    need = per_worker + WARMUP_PER_WORKER
    own: list[list] = [[] for _ in range(workers)]
    # Each slot belongs to one worker, which books its free seats: no two workers ever wait on one slot.
    for i, (pair, s) in enumerate(spread):
        own[i % workers].append((pair, s))
    tickets = []
    for mine in own:
        by_seat = [(pair[0], pair[1], s.starts_at.isoformat()) for seat in range(3) for pair, s in mine if s.free > seat]
        if len(by_seat) < need:
            sys.exit(f"not enough free seats for {need} bookings per worker ({len(by_seat)}): lower --per-worker")
        tickets.append((by_seat[:WARMUP_PER_WORKER], by_seat[WARMUP_PER_WORKER:need]))
    hot_tickets = [[(HOT_PAIR[0], HOT_PAIR[1], hot[(w + i) % len(hot)].starts_at.isoformat())
                    for i in range(hot_per_worker)] for w in range(workers)]
    return tickets, hot_tickets, hot


def check_bookings(session, total_ok: int) -> dict:
    """Over-bookings (seats above a slot's capacity), bookings of unknown slots, and row counts."""
    from pwa_app.models import Appointment, IdempotencyRecord
    from pwa_app.appointments.slots import slots

    rows = session.exec(
        select(Appointment.procedure_id, Appointment.office_id, Appointment.starts_at, func.count())
        .where(Appointment.seat != None)  # noqa: E711
        .group_by(Appointment.procedure_id, Appointment.office_id, Appointment.starts_at)
    ).all()
    by_pair: dict[tuple[int, int], dict] = {}
    over = unknown = 0
    for proc_id, office_id, starts_at, count in rows:
        if (proc_id, office_id) not in by_pair:
            first = NOW.astimezone(MADRID).date()
            by_pair[(proc_id, office_id)] = {s.starts_at: s for s in
                                             slots(session, proc_id, office_id, first, first + timedelta(days=400), NOW)}
        slot = by_pair[(proc_id, office_id)].get(starts_at.astimezone(UTC) if starts_at.tzinfo else
                                                 starts_at.replace(tzinfo=UTC))
        if slot is None:
            unknown += count
        else:
            over += max(count - slot.capacity, 0)
    appointments = session.exec(select(func.count()).select_from(Appointment)).one()
    records = session.exec(select(func.count()).select_from(IdempotencyRecord)).one()
    return {"over": over, "unknown": unknown, "slots": len(rows), "appointments": appointments,
            "records": records, "expected": total_ok}


def run_phase(name, tasks, results, barrier, jobs, procs) -> list[dict]:
    for task_queue, (warmup, tickets) in zip(tasks, jobs):
        task_queue.put((name, warmup, tickets))
    barrier.wait(timeout=120)  # warm-up is a few bookings; a dead worker breaks it
    got = []
    while len(got) < len(jobs):
        try:
            kind, index, payload = results.get(timeout=5)
        except queue.Empty:  # make sure nobody died silently
            if dead := [p.pid for p in procs if not p.is_alive()]:
                raise RuntimeError(f"worker processes {dead} exited during the {name} phase") from None
            continue
        if kind == "crash":
            raise RuntimeError(f"worker {index} crashed:\n{payload}")
        got.append(payload)
    return got


def summarize(results: list[dict]) -> dict:
    outcomes = sum((r["outcomes"] for r in results), Counter())
    wall = max(r["ended"] for r in results) - min(r["started"] for r in results)
    lat = sorted(x for r in results for x in r["latencies"])
    answered = sum(outcomes.values())
    return {"outcomes": outcomes, "wall": wall, "answered": answered, "ok": outcomes["ok"],
            "ok_per_s": outcomes["ok"] / wall if wall else 0.0, "answers_per_s": answered / wall if wall else 0.0,
            "p50_ms": statistics.median(lat) * 1000 if lat else 0.0,
            "p95_ms": lat[min(len(lat) - 1, int(len(lat) * 0.95))] * 1000 if lat else 0.0,
            "errors": [e for r in results for e in r["errors"]]}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", default=DEFAULT_URL, help="SQLAlchemy URL of the PostgreSQL database (default: %(default)s)")
    parser.add_argument("--workers", type=int, default=4, help="booking processes and pgbench clients (default: %(default)s)")
    parser.add_argument("--per-worker", type=int, default=300, help="bookings per worker, spread phase (default: %(default)s)")
    parser.add_argument("--hot-slots", type=int, default=3, help="slots the hot phase fights for (default: %(default)s)")
    parser.add_argument("--hot-per-worker", type=int, default=40, help="booking attempts per worker, hot phase (default: %(default)s)")
    parser.add_argument("--hold-bookings", type=int, default=60, help="bookings per kind, hold phase (default: %(default)s)")
    parser.add_argument("--pgbench-seconds", type=int, default=5, help="pgbench -T (default: %(default)s)")
    parser.add_argument("--pgbench", help="path of pgbench (default: from PATH or /usr/lib/postgresql/*/bin)")
    parser.add_argument("--keep-schema", action="store_true", help="do not drop the schema at the end (to inspect it)")
    args = parser.parse_args()
    if args.workers < 1 or args.per_worker < 1 or args.hot_slots < 1 or args.hot_per_worker < 0:
        parser.error("--workers, --per-worker and --hot-slots must be >= 1, --hot-per-worker >= 0")

    from pwa_app.db import create_tables, make_engine
    from pwa_app.seed import seed_demo

    pgbench = find_pgbench(args.pgbench)
    base_url = make_url(args.url)
    schema = f"cita_bench_{secrets.token_hex(4)}"
    url = base_url.update_query_dict({"options": f"-csearch_path={schema}"}).render_as_string(hide_password=False)
    admin = sqlalchemy.create_engine(base_url, poolclass=sqlalchemy.NullPool, connect_args={"connect_timeout": 5})
    procs, failures = [], []
    t_start = time.perf_counter()
    with admin.begin() as conn:
        conn.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
        server = conn.exec_driver_sql("SHOW server_version").scalar()
    engine = make_engine(url)
    try:
        create_tables(engine)
        with Session(engine) as session:
            if not seed_demo(session):
                raise RuntimeError("the fresh schema already had a municipality")
        with engine.begin() as conn:
            conn.exec_driver_sql("CREATE TABLE bench_row (id bigserial PRIMARY KEY, n integer NOT NULL, "
                                 "created_at timestamptz NOT NULL DEFAULT now())")
        with Session(engine) as session:
            jobs, hot_jobs, hot = plan(session, args.workers, args.per_worker, args.hot_slots, args.hot_per_worker)
        hot_seats = sum(s.capacity for s in hot)

        ctx = multiprocessing.get_context("spawn")
        barrier, results = ctx.Barrier(args.workers + 1), ctx.Queue()
        tasks = [ctx.Queue() for _ in range(args.workers)]
        procs = [ctx.Process(target=worker, args=(i, url, tasks[i], results, barrier), daemon=True)
                 for i in range(args.workers)]
        for p in procs:
            p.start()
        for _ in procs:  # imports, engine, catalogue: before pgbench, so it runs on an idle machine
            kind, index, payload = results.get(timeout=180)
            if kind != "ready":
                raise RuntimeError(f"worker {index} failed to start:\n{payload}")

        print(f"pgbench: {args.workers} clients, single-row INSERT, {args.pgbench_seconds} s ...", flush=True)
        bench = run_pgbench(pgbench, base_url, schema, args.workers, args.pgbench_seconds)

        print(f"spread: {args.workers} workers x {args.per_worker} bookings ...", flush=True)
        spread_raw = run_phase("spread", tasks, results, barrier, jobs, procs)
        spread = summarize(spread_raw)
        warm = sum((r.get("warmup", Counter()) for r in spread_raw), Counter())  # real rows, untimed
        print(f"hot: {args.workers} workers x {args.hot_per_worker} attempts on {len(hot)} slots "
              f"({hot_seats} seats) ...", flush=True)
        hot_result = summarize(run_phase("hot", tasks, results, barrier, [([], t) for t in hot_jobs], procs))
        for q in tasks:
            q.put(None)
        for p in procs:
            p.join(timeout=30)
        print(f"hold: {args.hold_bookings} plain bookings, then {args.hold_bookings} hold + confirm ...", flush=True)
        held = hold_cost(engine, args.hold_bookings, random.Random(1))
        with Session(engine) as session:
            checks = check_bookings(session, spread["ok"] + hot_result["ok"] + warm["ok"] + held["plain"]["ok"]
                                    + held["hold"]["ok"])
    finally:
        for p in procs:
            if p.is_alive():
                p.terminate()
                p.join(timeout=10)
        engine.dispose()
        if args.keep_schema:
            print(f"schema kept: {schema}")
        else:
            with admin.begin() as conn:
                conn.exec_driver_sql(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        admin.dispose()

    total = time.perf_counter() - t_start
    ratio = spread["ok_per_s"] / bench["tps"] if bench["tps"] else float("nan")
    taken = hot_result["outcomes"]["taken"]
    other_hot = {k: v for k, v in hot_result["outcomes"].items() if k not in ("ok", "taken")}
    other_spread = {k: v for k, v in spread["outcomes"].items() if k != "ok"}
    rows = [
        (f"pgbench single-row INSERT (-c {args.workers} -j {args.workers} -T {args.pgbench_seconds})",
         f"{bench['tps']:.0f} tps", f"latency avg {bench['latency_ms']:.2f} ms"),
        (f"Cita bookings, spread ({args.workers} x {args.per_worker})", f"{spread['ok_per_s']:.0f} commits/s",
         f"p50 {spread['p50_ms']:.1f} ms, p95 {spread['p95_ms']:.1f} ms, {spread['wall']:.1f} s"
         + (f", not booked: {other_spread}" if other_spread else "")),
        ("ratio booking / pgbench", f"{ratio:.3f}", f"1 booking ~ {1 / ratio:.1f} single-row inserts" if ratio else ""),
        (f"Cita hot slots ({len(hot)} slots, {hot_seats} seats, {args.workers} x {args.hot_per_worker} tries)",
         f"{hot_result['answers_per_s']:.0f} answers/s",
         f"{hot_result['ok']} booked, {taken} taken, p50 {hot_result['p50_ms']:.1f} ms"
         + (f", other: {other_hot}" if other_hot else "")),
        (f"hold + confirm vs plain booking ({args.hold_bookings} each, one process)",
         f"{held['hold']['ms'] / held['plain']['ms']:.2f}x",
         f"{held['hold']['ms']:.1f} ms vs {held['plain']['ms']:.1f} ms per booking"),
        ("over-bookings (seats above capacity, all slots)", str(checks["over"]),
         f"{checks['slots']} slots, {checks['appointments']} appointments"),
    ]
    width = max(len(r[0]) for r in rows)
    print()
    print(f"PostgreSQL {server} at {base_url.host}:{base_url.port or 5432}, schema {schema}, "
          f"{args.workers} workers, {os.cpu_count()} CPUs, total {total:.1f} s")
    for label, value, note in rows:
        print(f"  {label:<{width}}  {value:>16}  {note}")

    if checks["over"]:
        failures.append(f"{checks['over']} over-booked seats")
    if checks["unknown"]:
        failures.append(f"{checks['unknown']} appointments on slots that are not bookable")
    if hot_result["ok"] != min(hot_seats, args.workers * args.hot_per_worker):
        failures.append(f"hot phase booked {hot_result['ok']} seats, expected {hot_seats}")
    if checks["appointments"] != checks["expected"] or checks["records"] != checks["expected"]:
        failures.append(f"{checks['appointments']} appointments and {checks['records']} idempotency records, "
                        f"expected {checks['expected']} (successful answers)")
    if warm["ok"] != sum(warm.values()):
        failures.append(f"warm-up bookings not made: {dict(warm)}")
    for name in ("plain", "hold"):
        if held[name]["ok"] != args.hold_bookings:
            failures.append(f"hold phase, {name}: {dict(held[name]['outcomes'])}")
    if other_spread:
        failures.append(f"spread bookings not made: {other_spread}")
    if other_hot:
        failures.append(f"unexpected hot-phase answers: {other_hot}")
    errors = spread["errors"] + hot_result["errors"]
    if errors:
        failures.append(f"{len(errors)} errors in the workers; first:\n{errors[0]}")
    for failure in failures:
        print(f"FAIL: {failure}", file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
