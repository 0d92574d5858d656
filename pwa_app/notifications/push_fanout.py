"""Web push fan-out: one message per subscriber of an event, written in the subscriber's language."""

import base64
import hashlib
import json
import logging
from datetime import datetime, timedelta

from sqlalchemy import or_, update
from sqlmodel import Session, select

from pwa_app.catalogue.published import Translator
from pwa_app.common import once
from pwa_app.common.i18n import DEFAULT_LANG, isolate, local, long_day_label, say, text_direction, time_label
from pwa_app.common.messages import REQUEST_STATUS_HELP
from pwa_app.common.times import utc_or_now
from pwa_app.models import (
    Appointment, ContentTranslation, Office, Procedure, PushDelivery, PushEvent, PushLink, PushSubscription,
    PushTopic, ServiceRequest, StatusChange,
)
from pwa_app.notifications.push import BODY_MAX, LEASE, NOTICE_TTL, STATUS_TTL, TEXTS
from pwa_app.routes import APPOINTMENT, BOOK, HOME, SERVICE_REQUEST, citizen
from pwa_app.service_requests import views

log = logging.getLogger(__name__)


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
        start = utc_or_now(appt.starts_at)
        if start <= now or start.isoformat() != json.loads(event.params or "{}").get("start"):
            return None
        procedure, office = session.get(Procedure, appt.procedure_id), session.get(Office, appt.office_id)
        kind = event.kind.removeprefix("reminder_")
        tag = f"appointment-{appt.code}"
        for lang in langs:
            values = {"procedure": names.name(procedure, lang), "office": names.name(office, lang),
                      "day": long_day_label(local(start).date(), lang), "time": time_label(local(start), lang)}
            out[lang] = (_message(lang, say(lang, TEXTS[f"reminder_{kind}_title"], **values),
                                  say(lang, TEXTS[f"reminder_{kind}_body"], **values),
                                  citizen(lang, APPOINTMENT, c=appt.code), tag, event.kind),
                         max(60, int((start - now).total_seconds())), "high" if kind == "2h" else "normal", tag)
        return out
    if event.kind == "appointment_closed":
        appt = session.get(Appointment, event.appointment_id)
        if not appt:
            return None
        procedure, start = session.get(Procedure, appt.procedure_id), local(utc_or_now(appt.starts_at))
        reason, tag = json.loads(event.params or "{}").get("reason", ""), f"appointment-{appt.code}"
        for lang in langs:
            title = say(lang, TEXTS["closed_title"], procedure=names.name(procedure, lang))
            body = say(lang, TEXTS["closed_body"], day=long_day_label(start.date(), lang), reason=reason)
            out[lang] = (_message(lang, title, body, citizen(lang, BOOK, p=procedure.slug), tag, event.kind),
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
            body = say(lang, REQUEST_STATUS_HELP[change.status])
            comment = comments.get(lang) or comments.get(change.comment_lang, "")
            if comment:
                body = f"{body}\n{comment[:BODY_MAX]}"
            out[lang] = (_message(lang, say(lang, TEXTS["status_title"], status=label), body,
                                  citizen(lang, SERVICE_REQUEST, c=req.code), tag, event.kind),
                         STATUS_TTL, "normal", tag)
        return out
    params = json.loads(event.params or "{}")
    texts, url = params.get("texts") or {}, params.get("url") or ""
    tag = f"notice-{event.id}"
    for lang in langs:
        text = texts.get(lang) or texts.get(DEFAULT_LANG) or {"title": say(lang, TEXTS["notice_title"]), "body": ""}
        link = url.replace("{lang}", lang) if url else citizen(lang, HOME)
        out[lang] = (_message(lang, text["title"], text["body"], link, tag, "notice"),
                     int(params.get("ttl") or NOTICE_TTL), "normal", tag)
    return out


def fan_out(session_factory, now: datetime | None = None, limit: int = 20) -> int:
    """Turns events not yet fanned out into deliveries, one event at a time under a claim (one worker per event;
    the unique (event, subscription) constraint makes a repeated fan-out add nothing). Returns deliveries added."""
    now = utc_or_now(now)
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
