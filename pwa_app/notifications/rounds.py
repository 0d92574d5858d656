"""The notifications worker: each round schedules reminders, fans out new push events and sends what
is due, push and e-mail.

`worker()` runs all of it every CITA_PUSH_INTERVAL seconds (default 2; reminders are looked for every
CITA_PUSH_SCAN seconds, default 60) as a lifespan task of the app, one per backend worker (the claims make that
safe). CITA_PUSH_WORKER=0 turns it off in a process; up to CITA_PUSH_CONCURRENCY (default 32) messages are in
flight at once. Nothing here raises into a page or an API request: failures are logged.

Command line (staff desk, operations):
    python -m pwa_app.notifications.rounds key                        the public key and where the key pair lives
    python -m pwa_app.notifications.rounds notice --topic news --text es "Título" "Texto" [--text en "Title" "Text"]
    python -m pwa_app.notifications.rounds run-once                   schedule, fan out and send what is due now
    python -m pwa_app.notifications.rounds stats"""

import argparse
import asyncio
import json
import logging
import time
from collections import Counter
from datetime import datetime

from sqlmodel import select

from pwa_app import db
from pwa_app.common.times import utc_or_now
from pwa_app.models import PushDelivery, PushEvent
from pwa_app.notifications import mail, webpush
from pwa_app.notifications.push import NOTICE_TTL, PushError, schedule_reminders, send_notice, stats
from pwa_app.notifications.push_delivery import Sender, deliver, purge
from pwa_app.notifications.push_fanout import fan_out
from pwa_app.settings import get_settings

log = logging.getLogger(__name__)


# --- the worker -------------------------------------------------------------------------------------------------


class Worker:
    """One round: queue due reminders (every `reminder_every`; e-mail ones too, and pending bookings that ran out
    are marked expired), fan out new events, send what is due (push and e-mail)."""

    def __init__(self, session_factory=None, sender: Sender | None = None, reminder_every: float = 60.0):
        self.session_factory = session_factory or db.session
        self.sender = sender
        self.reminder_every = reminder_every
        self.last_scan = self.last_purge = float("-inf")

    def tick(self, now: datetime | None = None) -> Counter:
        counts: Counter = Counter()
        clock = time.monotonic()
        if now is not None or clock - self.last_scan >= self.reminder_every:
            with self.session_factory() as session:
                counts["reminders"] = schedule_reminders(session, now)
                session.commit()
            counts.update(mail.scan(self.session_factory, now))
            self.last_scan = clock
        if clock - self.last_purge >= 3600:
            with self.session_factory() as session:
                counts["purged"] = purge(session, now) + mail.purge(session, now)
                session.commit()
            self.last_purge = clock
        counts.update(mail.send_due(self.session_factory, now=now))
        # One short look first: with nothing to do (the usual case) a round costs one query per table.
        moment = utc_or_now(now)
        with self.session_factory() as session:
            events = session.exec(select(PushEvent.id).where(
                PushEvent.fanned_out_at == None).limit(1)).first()  # noqa: E711
            due = session.exec(select(PushDelivery.id).where(PushDelivery.status == "pending",
                                                             PushDelivery.next_at <= moment).limit(1)).first()
            session.commit()
        counts["fanned_out"] = fan_out(self.session_factory, now) if events is not None else 0
        if due is not None or counts["fanned_out"]:
            if self.sender is None:
                self.sender = Sender()
            counts.update(deliver(self.session_factory, self.sender, now))
        return counts

    def close(self) -> None:
        if self.sender:
            self.sender.close()


async def worker() -> None:
    """The app's lifespan task (`app.register_lifespan_task(worker)`): a round every CITA_PUSH_INTERVAL seconds."""
    settings = get_settings()
    if not settings.push_worker:
        return
    interval = settings.push_interval
    rounds = Worker(reminder_every=settings.push_scan)
    try:
        await asyncio.to_thread(webpush.keys)  # the VAPID key pair exists from the first start on
    except OSError:
        log.exception("web push: no VAPID key pair in %s; notifications cannot be sent", webpush.vapid_dir())
    try:
        while True:
            try:
                counts = await asyncio.to_thread(rounds.tick)
                if any(counts[k] for k in ("sent", "gone", "failed", "retry")):
                    log.info("web push: %s", dict(counts))
            except Exception:
                log.exception("web push: a round failed; trying again in %s s", interval)
            await asyncio.sleep(interval)
    finally:
        await asyncio.to_thread(rounds.close)


# --- command line ---------------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m pwa_app.notifications.rounds")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("key", help="print the VAPID public key (the page's applicationServerKey) and the key file")
    notice = sub.add_parser("notice", help="send a notice to everyone following a topic")
    notice.add_argument("--topic", required=True, help='"news", "office:<slug>" or "area:<slug>"')
    notice.add_argument("--text", nargs=3, action="append", metavar=("LANG", "TITLE", "BODY"), required=True,
                        help="the notice in one language (Spanish required); repeat for more languages")
    notice.add_argument("--url", default="", help='a page of the app, e.g. "/{lang}/tramite/?p=vado-permanente"')
    notice.add_argument("--ttl", type=int, default=NOTICE_TTL)
    once = sub.add_parser("run-once", help="queue due reminders, fan out and send what is due now")
    once.add_argument("--now", help="ISO moment to act as now (tests)")
    sub.add_parser("stats", help="subscriptions and deliveries by status")
    args = parser.parse_args(argv)
    if args.command == "key":
        keys = webpush.keys()
        print(json.dumps({"public_key": keys.public_key, "file": str(keys.path), "subject": webpush.subject()}))
        return 0
    if args.command == "notice":
        with db.session() as session:
            try:
                event = send_notice(session, args.topic, {lang: {"title": t, "body": b} for lang, t, b in args.text},
                                    url=args.url, ttl=args.ttl, author="cli")
            except PushError as exc:
                print(f"Refused: {exc.errors}")
                return 2
            session.commit()
            print(f"Queued notice {event.id} for {args.topic!r}.")
        return 0
    if args.command == "run-once":
        rounds = Worker()
        try:
            counts = rounds.tick(datetime.fromisoformat(args.now) if args.now else None)
        finally:
            rounds.close()
        print(json.dumps({key: counts[key] for key in ("reminders", "fanned_out", "sent", "retry", "gone", "failed",
                                                      "expired")}))
        return 0
    with db.session() as session:
        print(json.dumps(stats(session), indent=2))
    return 0


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO)
    raise SystemExit(main())
