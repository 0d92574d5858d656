"""Soak run of the embedded default (SQLite, one process): mixed citizen and staff traffic at a steady, modest
rate for a long time (default 30 minutes), recording every answer's time and the longest one.

Run from the repository root:  .venv/bin/python bench/soak.py  [--minutes 30] [--citizens 6] [--staff 2]

What it does (loopback only; bounded by --minutes and --max-requests; everything it starts is stopped at the
end, also on error or Ctrl-C):
1. A fresh SQLite file, migrated and seeded, served by `reflex run --env prod --single-port` as
   `bash scripts/run.sh` does, with its background workers (push, mail, purge) on; mail goes to files. Rate
   limits are lifted (every simulated person comes from 127.0.0.1); the proof of work stays on (small).
2. --citizens citizens, each visit: /es/, the catalogue, one calendar, a booking (30% with an e-mail address,
   so the mail worker has work), the booking by code; 15% cancel it, 10% move it. --staff desk tablets
   (signed in through the form): who am I, the queue board, /staff/, now and then a CSV report.
   Between visits each waits ~--think seconds. A booking is sent as the device outbox sends it.
3. Prints p50/p95/max per kind of request and the longest answer of the whole run, then checks in the database
   that every booking acknowledged is stored exactly once and that no seat is taken twice (exit 1 otherwise).
Not a throughput figure (that is bench/load.py, with wrk): a Python client is enough for a few requests per
second, and it can follow the stateful flows (a booking, then its code).
"""

import argparse
import asyncio
import json
import random
import sys
import tempfile
import time
from pathlib import Path

import httpx
from _app import start_app, stop_app
from _traffic import LIFTED, Recorder, bookable, check_bookings, citizen_round, create_staff, staff_round, staff_sign_in

from tests.e2e.conftest import wait_for



async def traffic(base: str, args, rec: Recorder) -> None:
    deadline = time.monotonic() + args.minutes * 60
    limits = httpx.Limits(max_connections=args.citizens + args.staff + 4)
    async with httpx.AsyncClient(base_url=base, timeout=60, limits=limits) as client:
        pairs = await bookable(client, rec)

        def going() -> bool:
            return time.monotonic() < deadline and sum(len(v) for v in rec.ms.values()) < args.max_requests

        async def citizen(n: int) -> None:
            rng = random.Random(n)
            while going():
                await citizen_round(client, rec, pairs, rng, deadline + 120)
                await asyncio.sleep(rng.expovariate(1 / args.think))

        async def desk(n: int) -> None:
            async with httpx.AsyncClient(base_url=base, timeout=60) as tablet:  # its own cookie
                await staff_sign_in(tablet, rec)
                office = pairs[n % len(pairs)][1]
                while going():
                    await staff_round(tablet, rec, office)
                    await asyncio.sleep(random.expovariate(1 / args.think))

        await asyncio.gather(*(citizen(n) for n in range(args.citizens)), *(desk(n) for n in range(args.staff)))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=30)
    parser.add_argument("--citizens", type=int, default=6)
    parser.add_argument("--staff", type=int, default=2)
    parser.add_argument("--think", type=float, default=2.0, help="mean seconds between one visit and the next")
    parser.add_argument("--max-requests", type=int, default=200_000)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="cita-soak-"))
    database_url = f"sqlite:///{work / 'cita.db'}"
    proc = None
    rec = Recorder()
    try:
        proc, base = start_app(work / "app.log", database_url, CITA_MAIL_DIR=str(work / "mail"), **LIFTED)
        wait_for(f"{base}/ping", proc)
        create_staff(database_url)
        started = time.monotonic()
        asyncio.run(traffic(base, args, rec))
        elapsed = time.monotonic() - started
    finally:
        stop_app(proc)
    checks = check_bookings(database_url, rec.acked)
    mails = len(list((work / "mail").glob("*.eml"))) if (work / "mail").exists() else 0
    total = sum(len(v) for v in rec.ms.values())
    print(json.dumps({"minutes": round(elapsed / 60, 1), "requests": total, "per_kind": rec.summary(),
                      "longest_ms": round(rec.longest[0], 1), "longest_kind": rec.longest[1],
                      "not_2xx": {k: n for k, n in rec.statuses.items() if not k.split()[-1].startswith(("2", "3"))},
                      "mails_sent": mails, "checks": checks, "log": str(work / "app.log")}, indent=1))
    failed = checks["missing"] or checks["wrong_citizen"] or checks["stored_twice"] or checks["double_seats"]
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
