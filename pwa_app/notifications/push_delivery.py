"""Web push delivery: claim due messages, send them outside any transaction, record the answers
(2xx sent; 404/410 the subscription is forgotten; 429/5xx/no answer retried with back-off until the TTL runs out)."""

import asyncio
import logging
import math
import random
import secrets
import threading
import time
from collections import Counter, defaultdict
from datetime import datetime, timedelta

from sqlalchemy import delete, or_, update
from sqlmodel import Session, select

from pwa_app.common import once
from pwa_app.common.times import utc_or_now
from pwa_app.models import PushDelivery, PushEvent, PushSubscription
from pwa_app.notifications import webpush
from pwa_app.notifications.push import BATCH, KEEP, LEASE, MAX_TRIES, STALE, _forget
from pwa_app.settings import get_settings

log = logging.getLogger(__name__)


# --- delivery -------------------------------------------------------------------------------------------------


def backoff(tries: int, retry_after: float | None, status: int) -> float:
    """Seconds before the next try: the push service's Retry-After when it gave one, else exponential from 15 s
    (30 s after a 429) up to an hour, with jitter so that many retries do not return together."""
    if retry_after is not None:
        return min(max(retry_after, 1.0), 3600.0)
    base = 30.0 if status == 429 else 15.0
    return min(base * 2 ** (tries - 1), 3600.0) * random.uniform(0.8, 1.2)


class Sender:
    """Sends claimed deliveries, up to `concurrency` at a time, from an event loop of its own (a thread) that keeps
    its HTTP connections to the push services open between batches."""

    def __init__(self, keys: webpush.Keys | None = None, concurrency: int | None = None,
                 timeout: float = webpush.SEND_TIMEOUT):
        self.headers = webpush.VapidHeaders(keys or webpush.keys())
        self.concurrency = concurrency or get_settings().push_concurrency
        self.timeout = timeout
        self.http = None
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="push-sender", daemon=True)
        self.thread.start()

    async def _send_all(self, jobs):
        if self.http is None:
            self.http = webpush.http_session()
        slots = asyncio.Semaphore(self.concurrency)

        async def one(job):
            subscription, payload, ttl, urgency, topic = job
            async with slots:
                return await webpush.send(self.http, subscription, payload, self.headers, ttl=ttl, urgency=urgency,
                                       topic=topic, timeout=self.timeout)

        return await asyncio.gather(*(one(job) for job in jobs))

    def send_all(self, jobs: list[tuple[dict, bytes, int, str, str]]) -> list[webpush.Outcome]:
        return asyncio.run_coroutine_threadsafe(self._send_all(jobs), self.loop).result()

    def close(self) -> None:
        if self.loop.is_closed():
            return
        if self.http is not None:
            asyncio.run_coroutine_threadsafe(self.http.close(), self.loop).result(10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)
        self.loop.close()


def deliver(session_factory, sender: Sender, now: datetime | None = None, batch: int = BATCH,
            budget_seconds: float = 20.0) -> Counter:
    """Sends due deliveries, batch after batch, until none is due or the time budget is spent. Returns counts of
    outcomes (sent, gone, retry, failed, expired)."""
    fixed_now = now
    counts: Counter = Counter()
    # The claim must outlast the slowest batch (every message timing out), or another worker would send it again.
    lease = max(LEASE, timedelta(seconds=60 + math.ceil(batch / sender.concurrency) * sender.timeout))
    deadline = time.monotonic() + budget_seconds
    while time.monotonic() < deadline:
        now = utc_or_now(fixed_now)
        claimed = _claim(session_factory, now, batch, lease)
        if not claimed:
            break
        token, rows = claimed
        fresh = [(d, s) for d, s in rows if utc_or_now(d.expires_at) > now]
        outcomes = sender.send_all([({"endpoint": s.endpoint, "keys": {"p256dh": s.p256dh, "auth": s.auth}},
                                     d.payload.encode(), max(1, int((utc_or_now(d.expires_at) - now).total_seconds())),
                                     d.urgency, d.topic) for d, s in fresh])
        results = [(d, s, o) for (d, s), o in zip(fresh, outcomes)]
        results += [(d, s, None) for d, s in rows if utc_or_now(d.expires_at) <= now]
        _record(session_factory, token, results, utc_or_now(fixed_now), counts)
    return counts


def _claim(session_factory, now: datetime, batch: int, lease: timedelta = LEASE):
    token = secrets.token_hex(8)
    with session_factory() as session:
        if not once.claim(session, PushDelivery, once.due(PushDelivery, "pending", now), token, now + lease, batch):
            session.commit()
            return None
        rows = session.exec(select(PushDelivery, PushSubscription)
                            .join(PushSubscription, PushSubscription.id == PushDelivery.subscription_id)
                            .where(PushDelivery.claim == token)).all()
        session.commit()
    return (token, rows) if rows else None


def _record(session_factory, token: str, results, now: datetime, counts: Counter) -> None:
    gone: set[int] = set()
    done: dict[tuple, list[int]] = defaultdict(list)  # the common outcomes, written in one UPDATE each
    with session_factory() as session:
        sent_to = []
        for delivery, sub, outcome in results:
            values = {"claim": "", "claimed_until": None}
            if outcome is None:
                done[("expired", None)].append(delivery.id)
                counts["expired"] += 1
                continue
            elif outcome.ok:
                done[("sent", outcome.status)].append(delivery.id)
                sent_to.append(sub.id)
                counts["sent"] += 1
                continue
            elif outcome.gone:
                gone.add(sub.id)
                counts["gone"] += 1
                log.info("web push: subscription %s is gone (%s): removed", sub.id, outcome.status)
                continue
            elif outcome.retry:
                tries = delivery.tries + 1
                next_at = now + timedelta(seconds=backoff(tries, outcome.retry_after, outcome.status))
                if tries >= MAX_TRIES or next_at >= utc_or_now(delivery.expires_at):
                    values.update(status="failed", tries=tries, last_status=outcome.status, last_error=outcome.error)
                    counts["failed"] += 1
                    log.warning("web push: delivery %s given up after %s tries: %s %s", delivery.id, tries,
                                outcome.status, outcome.error)
                else:
                    values.update(tries=tries, next_at=next_at, last_status=outcome.status, last_error=outcome.error)
                    counts["retry"] += 1
                    log.info("web push: delivery %s answered %s, retry in %.0f s", delivery.id, outcome.status,
                             (next_at - now).total_seconds())
            else:
                values.update(status="failed", tries=delivery.tries + 1, last_status=outcome.status,
                              last_error=outcome.error)
                counts["failed"] += 1
                log.warning("web push: delivery %s refused: %s %s", delivery.id, outcome.status, outcome.error)
            session.execute(update(PushDelivery).where(PushDelivery.id == delivery.id, PushDelivery.claim == token)
                            .values(**values))
        for (status, answer), ids in done.items():
            values = {"status": status, "claim": "", "claimed_until": None}
            if status == "sent":
                values.update(sent_at=now, last_status=answer, last_error="")
            for start in range(0, len(ids), 500):
                session.execute(update(PushDelivery).where(PushDelivery.id.in_(ids[start:start + 500]),
                                                           PushDelivery.claim == token).values(**values))
        if sent_to:
            for start in range(0, len(sent_to), 500):
                session.execute(update(PushSubscription).where(PushSubscription.id.in_(sent_to[start:start + 500]))
                                .values(last_sent_at=now))
        _forget(session, sorted(gone))
        session.commit()


def purge(session: Session, now: datetime | None = None) -> int:
    """Drops deliveries that are over (sent, failed, expired) and events older than KEEP, and subscriptions that
    neither changed nor received anything for STALE (a browser long gone). The caller commits."""
    now = utc_or_now(now)
    before = now - KEEP
    done = session.execute(delete(PushDelivery).where(PushDelivery.status != "pending",
                                                      PushDelivery.next_at < before)).rowcount or 0
    old = session.execute(delete(PushEvent).where(PushEvent.created_at < before,
                                                  PushEvent.fanned_out_at != None)).rowcount or 0  # noqa: E711
    stale = session.exec(select(PushSubscription.id).where(
        PushSubscription.updated_at < now - STALE,
        or_(PushSubscription.last_sent_at == None, PushSubscription.last_sent_at < now - STALE))).all()  # noqa: E711
    _forget(session, list(stale))
    return done + old + len(stale)
