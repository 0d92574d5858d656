"""Web push notifications ("Notify me"): subscriptions without an account, what they hear about, and delivery.

A citizen taps "Notify me about this appointment / request"; the page subscribes the browser (Push API) and sends
the subscription with the codes saved on the device (appointment codes with their verifiers, request tracking
codes). `subscribe` checks each code and links it to the subscription; topics say what the citizen wants:
"reminders" (their appointments, 24 h and 2 h before), "updates" (every public status change of their requests),
"news" (the town hall, town-wide), "office:<slug>" (a district office's notices), "area:<slug>" (a procedure area's).

Delivery goes through two tables, so nothing is lost or sent twice by a restart or by several workers:
  - `PushEvent`, something to tell, with a unique `key`. A request's status change adds one inside the staff's own
    transaction (`request_status_changed`, called by workflow.change_status): no status change, no message; no
    network call in the request. Reminders are added by `schedule_reminders` with the key
    "reminder:<24h|2h>:<appointment>:<start>" through an insert that ignores duplicates: each reminder of each
    appointment time exists once, whoever inserts it first. Staff notices come from `send_notice`.
  - `PushDelivery`, one message per subscriber, written in its language when the event is fanned out (`fan_out`).
    `deliver` claims due deliveries (a conditional UPDATE: two workers never claim the same row), sends them with
    pywebpush outside any transaction, and records the answer: 2xx sent; 404/410 the subscription is deleted;
    429/5xx/no answer retried later with exponential back-off (Retry-After honoured) until the message's TTL runs
    out; anything else failed and logged. A worker that dies holding a claim loses it when the claim runs out
    (long enough for a batch whose every message times out, so a slow batch is never sent twice).

`worker()` runs all of it every CITA_PUSH_INTERVAL seconds (default 2; reminders are looked for every
CITA_PUSH_SCAN seconds, default 60) as a lifespan task of the app, one per backend worker (the claims make that
safe). CITA_PUSH_WORKER=0 turns it off in a process; up to CITA_PUSH_CONCURRENCY (default 32) messages are in
flight at once. Nothing here raises into a page or an API request: failures are logged.

Command line (staff desk, operations):
    python -m pwa_app.notifications.push key                        the public key and where the key pair lives
    python -m pwa_app.notifications.push notice --topic news --text es "Título" "Texto" [--text en "Title" "Text"]
    python -m pwa_app.notifications.push run-once                   schedule, fan out and send what is due now
    python -m pwa_app.notifications.push stats
"""

import argparse
import asyncio
import base64
import binascii
import hashlib
import ipaddress
import json
import logging
import math
import os
import random
import secrets
import threading
import time
from collections import Counter, defaultdict
from datetime import datetime, timedelta, timezone
from urllib.parse import urlsplit

from cryptography.hazmat.primitives.asymmetric import ec
from sqlalchemy import delete, func, or_, update
from sqlmodel import Session, select

from pwa_app import db
from pwa_app.appointments import access
from pwa_app.catalogue.published import Translator
from pwa_app.common import once
from pwa_app.common.i18n import (
    DEFAULT_LANG, LANGUAGES, isolate, local, long_day_label, pick_lang, text_direction, time_label, translations,
)
from pwa_app.common.messages import N_
from pwa_app.models import (
    Appointment, Area, ContentTranslation, Office, Procedure, PushDelivery, PushEvent, PushLink, PushSubscription,
    PushTopic, ServiceRequest, StatusChange, utcnow,
)
from pwa_app.notifications import mail, webpush
from pwa_app.service_requests import rules, views
from pwa_app.service_requests.rules import clean_text

log = logging.getLogger(__name__)
UTC = timezone.utc

FIXED_TOPICS = ("reminders", "updates", "news")
MAX_CODES = 50  # codes one device may link at once
HOUR = timedelta(hours=1)
REMINDERS = {  # kind: (how long before the start it is due, until how long before the start it is still worth it)
    "24h": (timedelta(hours=24), timedelta(hours=3)),
    "2h": (timedelta(hours=2), timedelta(0)),
}
STATUS_TTL = 3 * 24 * 3600
NOTICE_TTL = 24 * 3600
LEASE = timedelta(seconds=90)  # a claimed event is fanned out by another worker after this (deliveries: longer)
MAX_TRIES = 8
BATCH = 500  # deliveries claimed, sent and recorded together
TITLE_MAX, BODY_MAX = 80, 300
KEEP = timedelta(days=30)  # sent and failed deliveries, and old events, are purged after this
STALE = timedelta(days=400)  # a subscription neither updated nor sent to for this long is forgotten
DEFAULT_PUSH_HOSTS = ("fcm.googleapis.com", "webpush.services.mozilla.com", "notify.windows.com", "webpush.apple.com")

# Message texts (English msgids; translated through the gettext catalogues into the subscriber's language).
TEXTS = {
    "reminder_24h_title": N_("Appointment reminder: %(procedure)s"),
    # No booking code in any text: notifications show on lock screens, and a code is half of the way in.
    "reminder_24h_body": N_("%(day)s at %(time)s, %(office)s."),
    "reminder_2h_title": N_("Your appointment is soon: %(procedure)s"),
    "reminder_2h_body": N_("Today at %(time)s, %(office)s. Remember what to bring."),
    "closed_title": N_("Appointment cancelled: %(procedure)s"),
    "closed_body": N_("The office is closed on %(day)s (%(reason)s). Please book another time."),
    "status_title": N_("Your request: %(status)s"),
    "notice_title": N_("News from the town hall"),
}
# Why a subscription or a notice was refused (per field), shown by the page or the staff API.
ERRORS = {
    "push_subscription": N_("This browser's notification subscription is not valid. Please try again."),
    "push_not_yours": N_("This notification subscription belongs to another device."),
    "push_topic": N_("Unknown notification topic."),
    "push_text": N_("Write a title and a text (plain text, 80 and 300 characters at most)."),
    "push_url": N_("The link must be an address inside Cita, starting with /."),
}


class NotifyError(Exception):
    """A subscription or a notice that cannot be accepted. `errors` maps a field to a code of ERRORS."""

    def __init__(self, errors: dict[str, str]):
        super().__init__(errors)
        self.errors = errors


def _utc(moment: datetime | None) -> datetime:
    moment = moment or utcnow()
    return moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)


def _say(lang: str, message: str, **values) -> str:
    text = translations(pick_lang(lang)).gettext(message)
    return text % values if values else text


# --- subscribing ----------------------------------------------------------------------------------------------


def allowed_hosts() -> tuple[str, ...]:
    """Push services we POST to (suffixes); CITA_PUSH_HOSTS replaces the list ("*": any https host)."""
    configured = os.environ.get("CITA_PUSH_HOSTS")
    return tuple(h.strip().lower() for h in configured.split(",") if h.strip()) if configured else DEFAULT_PUSH_HOSTS


def _loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"


def check_endpoint(endpoint: str) -> bool:
    """A push service address we may send to: https on a known push service, so nobody can make the server POST
    to an address of their choosing. Plain http only to a loopback host that CITA_PUSH_HOSTS names (tests)."""
    if not isinstance(endpoint, str) or len(endpoint) > 1024:
        return False
    parts = urlsplit(endpoint)
    host = (parts.hostname or "").lower()
    if not host or parts.username or parts.password:
        return False
    hosts = allowed_hosts()
    listed = any(host == h or host.endswith("." + h) for h in hosts)
    if parts.scheme == "https":
        return listed or ("*" in hosts and not _loopback(host))
    return parts.scheme == "http" and _loopback(host) and listed


def check_keys(p256dh: str, auth: str) -> bool:
    try:
        point, secret = webpush.b64url_decode(p256dh), webpush.b64url_decode(auth)
        ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), point)
    except (ValueError, TypeError, binascii.Error):
        return False
    return len(point) == 65 and len(secret) == 16


def valid_topics(session: Session) -> set[str]:
    offices = session.exec(select(Office.slug)).all()
    areas = session.exec(select(Area.slug)).all()
    return {*FIXED_TOPICS, *(f"office:{s}" for s in offices), *(f"area:{s}" for s in areas)}


def find_subscription(session: Session, endpoint: str) -> PushSubscription | None:
    return session.exec(select(PushSubscription).where(PushSubscription.endpoint == endpoint)).first()


def subscribe(session: Session, subscription: dict, *, lang: str, topics: list[str],
              appointments: list[dict] = (), requests: list[str] = (), now: datetime | None = None) -> dict:
    """Creates or updates this browser's subscription (PUT semantics: topics and links become what the device
    sent). An existing endpoint may be changed only with its own `auth` secret. Codes that do not check out are
    left unlinked. The caller commits. Returns `state()`."""
    now = _utc(now)
    endpoint = str(subscription.get("endpoint") or "")
    keys = subscription.get("keys") or {}
    p256dh, auth = str(keys.get("p256dh") or ""), str(keys.get("auth") or "")
    if not check_endpoint(endpoint) or not check_keys(p256dh, auth):
        raise NotifyError({"subscription": "push_subscription"})
    sub = find_subscription(session, endpoint)
    if sub and not secrets.compare_digest(sub.auth, auth):
        raise NotifyError({"subscription": "push_not_yours"})
    if not sub:
        sub = PushSubscription(endpoint=endpoint, p256dh=p256dh, auth=auth, created_at=now)
    sub.p256dh, sub.lang, sub.updated_at = p256dh, pick_lang(lang), now
    session.add(sub)
    session.flush()

    wanted = set(topics or ()) & valid_topics(session)
    session.execute(delete(PushTopic).where(PushTopic.subscription_id == sub.id))
    session.add_all(PushTopic(subscription_id=sub.id, topic=t) for t in sorted(wanted))

    appointment_ids, request_ids = {}, {}
    for item in list(appointments or ())[:MAX_CODES]:
        try:
            appt = access.open_appointment(session, str(item.get("code") or ""), str(item.get("verifier") or ""))
        except access.TooManyTries:
            appt = None  # guessed at too often: not linked now, the device sends it again next time
        if appt:
            appointment_ids[appt.id] = appt.code
    for code in list(requests or ())[:MAX_CODES]:
        req = rules.find(session, str(code))
        if req:
            request_ids[req.id] = req.code
    session.execute(delete(PushLink).where(PushLink.subscription_id == sub.id))
    session.add_all([PushLink(subscription_id=sub.id, appointment_id=i) for i in appointment_ids]
                    + [PushLink(subscription_id=sub.id, request_id=i) for i in request_ids])
    session.flush()
    return {"topics": sorted(wanted), "lang": sub.lang, "appointments": sorted(appointment_ids.values()),
            "requests": sorted(request_ids.values())}


def unsubscribe(session: Session, endpoint: str, auth: str) -> bool:
    """Forgets a subscription (its topics, links and pending messages with it), if `auth` is its own."""
    sub = find_subscription(session, endpoint or "")
    if not sub or not secrets.compare_digest(sub.auth, auth or ""):
        return False
    _forget(session, [sub.id])
    return True


def _forget(session: Session, subscription_ids: list[int]) -> None:
    if not subscription_ids:
        return
    for model in (PushDelivery, PushTopic, PushLink):  # also without foreign-key enforcement
        session.execute(delete(model).where(model.subscription_id.in_(subscription_ids)))
    session.execute(delete(PushSubscription).where(PushSubscription.id.in_(subscription_ids)))


# --- events ---------------------------------------------------------------------------------------------------


def request_status_changed(session: Session, req: ServiceRequest, change: StatusChange) -> None:
    """Called by workflow.change_status after each public status change, in the same transaction: a push to the
    devices that follow this request is queued and goes out once the change is committed. Never raises."""
    try:
        followed = session.exec(select(PushLink.id).where(PushLink.request_id == req.id).limit(1)).first()
        if followed is None:
            return
        session.add(PushEvent(key=f"status:{change.id}", kind="request_status", request_id=req.id,
                              status_change_id=change.id, created_at=_utc(change.at)))
        session.flush()
    except Exception:  # a notification must never stop a status change
        log.exception("web push: could not queue the status change of request %s", req.id)


def appointment_closed(session: Session, appt: Appointment, reason: str, now: datetime) -> None:
    """Called when a closure cancels `appt`, in the same transaction: the devices that follow it are told why and
    where to book again. Never raises."""
    try:
        followed = session.exec(select(PushLink.id).where(PushLink.appointment_id == appt.id).limit(1)).first()
        if followed is None:
            return
        session.add(PushEvent(key=f"closed:{appt.id}", kind="appointment_closed", appointment_id=appt.id,
                              params=json.dumps({"reason": reason}, ensure_ascii=False), created_at=_utc(now)))
        session.flush()
    except Exception:  # a notification must never stop a closure
        log.exception("web push: could not queue the closure notice of appointment %s", appt.id)


def clean_notice(texts: dict[str, dict[str, str]], url: str = "") -> tuple[dict, str]:
    cleaned: dict[str, dict[str, str]] = {}
    for lang, text in (texts or {}).items():
        if lang not in LANGUAGES or not isinstance(text, dict):
            continue
        title, problem_title = clean_text(text.get("title"), TITLE_MAX)
        body, problem_body = clean_text(text.get("body"), BODY_MAX)
        if problem_title or problem_body or not title or not body:
            raise NotifyError({f"text_{lang}": "push_text"})
        cleaned[lang] = {"title": title, "body": body}
    if DEFAULT_LANG not in cleaned:
        raise NotifyError({f"text_{DEFAULT_LANG}": "push_text"})
    url = (url or "").strip()
    if url and (not url.startswith("/") or url.startswith("//") or len(url) > 300 or any(c in url for c in "\\ \n")):
        raise NotifyError({"url": "push_url"})
    return cleaned, url


def send_notice(session: Session, topic: str, texts: dict[str, dict[str, str]], *, url: str = "",
                ttl: int = NOTICE_TTL, author: str = "", now: datetime | None = None) -> PushEvent:
    """A staff notice to everyone following `topic` ("news", "office:<slug>", "area:<slug>"). `texts` maps a
    language to {title, body}; Spanish is required and read by subscribers of a language it lacks. `url` is a page
    of the app ("{lang}" is replaced by the subscriber's language; default their home page). The caller commits;
    the worker sends it within seconds."""
    if topic not in valid_topics(session) or topic in ("reminders", "updates"):
        raise NotifyError({"topic": "push_topic"})
    cleaned, url = clean_notice(texts, url)
    event = PushEvent(key=f"notice:{secrets.token_hex(12)}", kind="notice", topic=topic, created_at=_utc(now),
                      params=json.dumps({"texts": cleaned, "url": url, "ttl": max(60, min(int(ttl), 28 * 86400)),
                                         "author": author[:254]}, ensure_ascii=False))
    session.add(event)
    session.flush()
    return event


def schedule_reminders(session: Session, now: datetime | None = None) -> int:
    """Queues the 24 h and 2 h reminders that are due for appointments followed by some device. Each reminder of
    each appointment time is inserted once (unique key): running this again, after a restart or in another worker,
    adds nothing. A reminder whose moment came before the booking was made is skipped (the citizen has just
    booked), and so is a 24 h reminder caught up less than 3 h before the start (the 2 h one follows). The caller
    commits. Returns how many were queued."""
    now = _utc(now)
    followed = select(PushLink.id).where(PushLink.appointment_id == Appointment.id).exists()
    rows = session.exec(select(Appointment.id, Appointment.starts_at, Appointment.created_at).where(
        Appointment.status == "booked", Appointment.starts_at > now,
        Appointment.starts_at <= now + REMINDERS["24h"][0], followed)).all()
    events = []
    for appt_id, starts_at, created_at in rows:
        start, created = _utc(starts_at), _utc(created_at)
        for kind, (before, until) in REMINDERS.items():
            due = start - before
            if due <= now < start - until and created <= due:
                events.append({"key": f"reminder:{kind}:{appt_id}:{start:%Y%m%dT%H%MZ}", "kind": f"reminder_{kind}",
                               "appointment_id": appt_id, "topic": "", "created_at": now, "recipients": 0,
                               "params": json.dumps({"start": start.isoformat()})})
    return once.insert_ignoring_duplicates(session, PushEvent, events)


# --- fan-out: one message per subscriber, in their language ------------------------------------------------------


def _topic_header(tag: str) -> str:
    """RFC 8030 Topic (32 base64url characters at most): a newer message replaces an undelivered older one."""
    return base64.urlsafe_b64encode(hashlib.sha256(tag.encode()).digest()[:24]).decode()


def _message(lang: str, title: str, body: str, url: str, tag: str, kind: str) -> str:
    return json.dumps({"title": title[:120], "body": body[:600], "url": url, "tag": tag, "kind": kind, "lang": lang,
                       "dir": text_direction(lang)}, ensure_ascii=False)


class _Names:
    """Procedure and office names in one language (content translations, falling back to Spanish)."""

    def __init__(self, session: Session):
        self.session, self.Translator, self.by_lang = session, Translator, {}

    def name(self, obj, lang: str) -> str:
        if lang not in self.by_lang:
            self.by_lang[lang] = self.Translator(self.session, lang)
        return isolate(self.by_lang[lang].row(obj, ("name",))["name"])  # plain text: a Spanish name stays apart


def _recipients(session: Session, event: PushEvent) -> list[tuple[int, str]]:
    """(subscription id, language) of everyone this event is for."""
    query = select(PushSubscription.id, PushSubscription.lang).join(
        PushTopic, PushTopic.subscription_id == PushSubscription.id)
    if event.kind.startswith("reminder_") or event.kind == "appointment_closed":
        query = query.join(PushLink, PushLink.subscription_id == PushSubscription.id).where(
            PushLink.appointment_id == event.appointment_id, PushTopic.topic == "reminders")
    elif event.kind == "request_status":
        query = query.join(PushLink, PushLink.subscription_id == PushSubscription.id).where(
            PushLink.request_id == event.request_id, PushTopic.topic == "updates")
    else:
        query = query.where(PushTopic.topic == event.topic)
    return list(session.exec(query.distinct()).all())


def _payloads(session: Session, event: PushEvent, langs: set[str], now: datetime, names: _Names):
    """{lang: (payload JSON, ttl, urgency, tag)} for an event, or None when it has nothing left to say (an
    appointment cancelled or moved since, a start already past)."""
    out = {}
    if event.kind.startswith("reminder_"):
        appt = session.get(Appointment, event.appointment_id)
        if not appt or appt.status != "booked":
            return None
        start = _utc(appt.starts_at)
        if start <= now or start.isoformat() != json.loads(event.params or "{}").get("start"):
            return None
        procedure, office = session.get(Procedure, appt.procedure_id), session.get(Office, appt.office_id)
        kind = event.kind.removeprefix("reminder_")
        tag = f"appointment-{appt.code}"
        for lang in langs:
            values = {"procedure": names.name(procedure, lang), "office": names.name(office, lang),
                      "day": long_day_label(local(start).date(), lang), "time": time_label(local(start), lang)}
            out[lang] = (_message(lang, _say(lang, TEXTS[f"reminder_{kind}_title"], **values),
                                  _say(lang, TEXTS[f"reminder_{kind}_body"], **values),
                                  f"/{lang}/cita/?c={appt.code}", tag, event.kind),
                         max(60, int((start - now).total_seconds())), "high" if kind == "2h" else "normal", tag)
        return out
    if event.kind == "appointment_closed":
        appt = session.get(Appointment, event.appointment_id)
        if not appt:
            return None
        procedure, start = session.get(Procedure, appt.procedure_id), local(_utc(appt.starts_at))
        reason, tag = json.loads(event.params or "{}").get("reason", ""), f"appointment-{appt.code}"
        for lang in langs:
            title = _say(lang, TEXTS["closed_title"], procedure=names.name(procedure, lang))
            body = _say(lang, TEXTS["closed_body"], day=long_day_label(start.date(), lang), reason=reason)
            out[lang] = (_message(lang, title, body, f"/{lang}/reservar/?p={procedure.slug}", tag, event.kind),
                         STATUS_TTL, "high", tag)
        return out
    if event.kind == "request_status":
        req = session.get(ServiceRequest, event.request_id)
        change = session.get(StatusChange, event.status_change_id)
        if not req or not change:
            return None
        tag = f"request-{req.code}"
        comments = {}
        if change.comment:
            for row in session.exec(select(ContentTranslation).where(
                    ContentTranslation.table_name == "statuschange", ContentTranslation.row_id == change.id,
                    ContentTranslation.field == "comment")):
                comments[row.lang] = row.text
            comments.setdefault(change.comment_lang, change.comment)
        for lang in langs:
            label = views.status_label(change.status, lang)
            body = _say(lang, rules.REQUEST_STATUS_HELP[change.status])
            comment = comments.get(lang) or comments.get(change.comment_lang, "")
            if comment:
                body = f"{body}\n{comment[:BODY_MAX]}"
            out[lang] = (_message(lang, _say(lang, TEXTS["status_title"], status=label), body,
                                  f"/{lang}/solicitud/?c={req.code}", tag, event.kind), STATUS_TTL, "normal", tag)
        return out
    params = json.loads(event.params or "{}")
    texts, url = params.get("texts") or {}, params.get("url") or ""
    tag = f"notice-{event.id}"
    for lang in langs:
        text = texts.get(lang) or texts.get(DEFAULT_LANG) or {"title": _say(lang, TEXTS["notice_title"]), "body": ""}
        link = url.replace("{lang}", lang) if url else f"/{lang}/"
        out[lang] = (_message(lang, text["title"], text["body"], link, tag, "notice"),
                     int(params.get("ttl") or NOTICE_TTL), "normal", tag)
    return out


def fan_out(session_factory, now: datetime | None = None, limit: int = 20) -> int:
    """Turns events not yet fanned out into deliveries, one event at a time under a claim (one worker per event;
    the unique (event, subscription) constraint makes a repeated fan-out add nothing). Returns deliveries added."""
    now = _utc(now)
    added = 0
    with session_factory() as session:
        ids = session.exec(select(PushEvent.id).where(
            PushEvent.fanned_out_at == None,  # noqa: E711
            or_(PushEvent.claimed_until == None, PushEvent.claimed_until < now))  # noqa: E711
            .order_by(PushEvent.id).limit(limit)).all()
        session.commit()
    for event_id in ids:
        with session_factory() as session:
            claimed = session.execute(update(PushEvent).where(
                PushEvent.id == event_id, PushEvent.fanned_out_at == None,  # noqa: E711
                or_(PushEvent.claimed_until == None, PushEvent.claimed_until < now))  # noqa: E711
                .values(claimed_until=now + LEASE)).rowcount
            session.commit()
            if not claimed:
                continue
            try:
                added += _fan_out_one(session, session.get(PushEvent, event_id), now)
                session.commit()
            except Exception:
                session.rollback()
                log.exception("web push: could not fan out event %s", event_id)
    return added


def _fan_out_one(session: Session, event: PushEvent, now: datetime) -> int:
    recipients = _recipients(session, event)
    payloads = _payloads(session, event, {lang for _id, lang in recipients}, now, _Names(session)) if recipients \
        else {}
    rows = []
    for sub_id, lang in recipients if payloads else ():
        payload, ttl, urgency, tag = payloads[lang]
        rows.append({"event_id": event.id, "subscription_id": sub_id, "payload": payload, "ttl": ttl,
                     "urgency": urgency, "topic": _topic_header(tag), "status": "pending", "tries": 0,
                     "next_at": now, "expires_at": now + timedelta(seconds=ttl), "claim": "", "last_error": ""})
    added = 0
    for start in range(0, len(rows), 1000):
        added += once.insert_ignoring_duplicates(session, PushDelivery, rows[start:start + 1000])
    event.fanned_out_at, event.recipients, event.claimed_until = now, len(rows), None
    session.add(event)
    return added


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
        self.concurrency = concurrency or int(os.environ.get("CITA_PUSH_CONCURRENCY") or 32)
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
        now = _utc(fixed_now)
        claimed = _claim(session_factory, now, batch, lease)
        if not claimed:
            break
        token, rows = claimed
        fresh = [(d, s) for d, s in rows if _utc(d.expires_at) > now]
        outcomes = sender.send_all([({"endpoint": s.endpoint, "keys": {"p256dh": s.p256dh, "auth": s.auth}},
                                     d.payload.encode(), max(1, int((_utc(d.expires_at) - now).total_seconds())),
                                     d.urgency, d.topic) for d, s in fresh])
        results = [(d, s, o) for (d, s), o in zip(fresh, outcomes)]
        results += [(d, s, None) for d, s in rows if _utc(d.expires_at) <= now]
        _record(session_factory, token, results, _utc(fixed_now), counts)
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
                if tries >= MAX_TRIES or next_at >= _utc(delivery.expires_at):
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
    now = _utc(now)
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
        moment = _utc(now)
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
    if os.environ.get("CITA_PUSH_WORKER", "1") == "0":
        return
    interval = float(os.environ.get("CITA_PUSH_INTERVAL") or 2)
    rounds = Worker(reminder_every=float(os.environ.get("CITA_PUSH_SCAN") or 60))
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


def stats(session: Session) -> dict:
    by_status = dict(session.exec(select(PushDelivery.status, func.count()).group_by(PushDelivery.status)).all())
    return {"subscriptions": session.exec(select(func.count()).select_from(PushSubscription)).one(),
            "events_waiting": session.exec(select(func.count()).select_from(PushEvent).where(
                PushEvent.fanned_out_at == None)).one(),  # noqa: E711
            "deliveries": by_status}


def topic_counts(session: Session) -> dict[str, int]:
    rows = session.exec(select(PushTopic.topic, func.count()).group_by(PushTopic.topic)).all()
    return defaultdict(int, dict(rows))


# --- command line ---------------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m pwa_app.notifications.push")
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
            except NotifyError as exc:
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
