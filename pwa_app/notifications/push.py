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

Fan-out is in push_fanout, sending in push_delivery, the rounds in worker."""

import binascii
import ipaddress
import json
import logging
import secrets
from collections import defaultdict
from datetime import datetime, timedelta, timezone
from urllib.parse import urlsplit

from cryptography.hazmat.primitives.asymmetric import ec
from sqlalchemy import delete, func
from sqlmodel import Session, select

from pwa_app.appointments import access
from pwa_app.common import once
from pwa_app.common.encoding import b64url_decode
from pwa_app.common.errors import DomainError
from pwa_app.common.i18n import DEFAULT_LANG, LANGUAGES, pick_lang
from pwa_app.common.messages import N_
from pwa_app.common.times import utc_or_now
from pwa_app.models import (
    Appointment, Area, Office, PushDelivery, PushEvent, PushLink, PushSubscription, PushTopic, ServiceRequest,
    StatusChange,
)
from pwa_app.service_requests import rules
from pwa_app.service_requests.rules import clean_text
from pwa_app.settings import get_settings


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


DEFAULT_PUSH_HOSTS = ("fcm.googleapis.com", "push.services.mozilla.com", "notify.windows.com", "push.apple.com")


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


class PushError(DomainError):
    """A subscription or a notice that cannot be accepted."""


# --- subscribing ----------------------------------------------------------------------------------------------


def allowed_hosts() -> tuple[str, ...]:
    """Push services we POST to (suffixes); CITA_PUSH_HOSTS replaces the list ("*": any https host)."""
    configured = get_settings().push_hosts
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
        point, secret = b64url_decode(p256dh), b64url_decode(auth)
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
    now = utc_or_now(now)
    endpoint = str(subscription.get("endpoint") or "")
    keys = subscription.get("keys") or {}
    p256dh, auth = str(keys.get("p256dh") or ""), str(keys.get("auth") or "")
    if not check_endpoint(endpoint) or not check_keys(p256dh, auth):
        raise PushError({"subscription": "push_subscription"})
    sub = find_subscription(session, endpoint)
    if sub and not secrets.compare_digest(sub.auth, auth):
        raise PushError({"subscription": "push_not_yours"})
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
                              status_change_id=change.id, created_at=utc_or_now(change.at)))
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
                              params=json.dumps({"reason": reason}, ensure_ascii=False), created_at=utc_or_now(now)))
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
            raise PushError({f"text_{lang}": "push_text"})
        cleaned[lang] = {"title": title, "body": body}
    if DEFAULT_LANG not in cleaned:
        raise PushError({f"text_{DEFAULT_LANG}": "push_text"})
    url = (url or "").strip()
    if url and (not url.startswith("/") or url.startswith("//") or len(url) > 300 or any(c in url for c in "\\ \n")):
        raise PushError({"url": "push_url"})
    return cleaned, url


def send_notice(session: Session, topic: str, texts: dict[str, dict[str, str]], *, url: str = "",
                ttl: int = NOTICE_TTL, author: str = "", now: datetime | None = None) -> PushEvent:
    """A staff notice to everyone following `topic` ("news", "office:<slug>", "area:<slug>"). `texts` maps a
    language to {title, body}; Spanish is required and read by subscribers of a language it lacks. `url` is a page
    of the app ("{lang}" is replaced by the subscriber's language; default their home page). The caller commits;
    the worker sends it within seconds."""
    if topic not in valid_topics(session) or topic in ("reminders", "updates"):
        raise PushError({"topic": "push_topic"})
    cleaned, url = clean_notice(texts, url)
    event = PushEvent(key=f"notice:{secrets.token_hex(12)}", kind="notice", topic=topic, created_at=utc_or_now(now),
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
    now = utc_or_now(now)
    followed = select(PushLink.id).where(PushLink.appointment_id == Appointment.id).exists()
    rows = session.exec(select(Appointment.id, Appointment.starts_at, Appointment.created_at).where(
        Appointment.status == "booked", Appointment.starts_at > now,
        Appointment.starts_at <= now + REMINDERS["24h"][0], followed)).all()
    events = []
    for appt_id, starts_at, created_at in rows:
        start, created = utc_or_now(starts_at), utc_or_now(created_at)
        for kind, (before, until) in REMINDERS.items():
            due = start - before
            if due <= now < start - until and created <= due:
                events.append({"key": f"reminder:{kind}:{appt_id}:{start:%Y%m%dT%H%MZ}", "kind": f"reminder_{kind}",
                               "appointment_id": appt_id, "topic": "", "created_at": now, "recipients": 0,
                               "params": json.dumps({"start": start.isoformat()})})
    return once.insert_ignoring_duplicates(session, PushEvent, events)


def stats(session: Session) -> dict:
    by_status = dict(session.exec(select(PushDelivery.status, func.count()).group_by(PushDelivery.status)).all())
    return {"subscriptions": session.exec(select(func.count()).select_from(PushSubscription)).one(),
            "events_waiting": session.exec(select(func.count()).select_from(PushEvent).where(
                PushEvent.fanned_out_at == None)).one(),  # noqa: E711
            "deliveries": by_status}


def topic_counts(session: Session) -> dict[str, int]:
    rows = session.exec(select(PushTopic.topic, func.count()).group_by(PushTopic.topic)).all()
    return defaultdict(int, dict(rows))
