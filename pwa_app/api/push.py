"""Web push in the API ("Notify me"; pwa_app.notifications.push does the work).

    GET    /api/v1/push/key              the VAPID public key the page subscribes with, and the topics there are
    PUT    /api/v1/push/subscription     subscribe or update: {subscription, lang, topics, appointments, requests}
    DELETE /api/v1/push/subscription     forget it: {endpoint, auth}
    POST   /api/staff/push/notices       a staff notice to a topic (managers: their offices; admins: any topic)
    GET    /api/staff/push/topics        subscribers per topic

Subscribing is not an outbox write: it needs the network anyway (the browser asks its push service first), and the
PUT is idempotent by nature (the same body twice leaves the same state), so it needs no Idempotency-Key. The body
carries the codes saved on the device: appointments as {code, verifier}, requests as tracking codes; each one is
checked like a lookup, so the same rate limit applies (CITA_RATE_PUSH, default 30 codes a minute per address).
"""

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from sqlmodel import Session, func, select

from pwa_app.api.common import client_address, etagged, get_session
from pwa_app.api.staff import need, same_origin
from pwa_app.common import ratelimit
from pwa_app.common.i18n import gettext, pick_lang
from pwa_app.common.messages import ERRORS
from pwa_app.models import Office, PushSubscription, PushTopic
from pwa_app.notifications import push, webpush
from pwa_app.staff import audit
from pwa_app.staff.permissions import Viewer

router = APIRouter(tags=["push"])
PRIVATE = {"Cache-Control": "no-store"}


class KeysIn(BaseModel):
    p256dh: str = Field(max_length=200)
    auth: str = Field(max_length=100)


class BrowserSubscription(BaseModel):
    """What `PushSubscription.toJSON()` gives in the browser."""

    endpoint: str = Field(max_length=1024)
    keys: KeysIn
    expirationTime: float | None = None  # noqa: N815 (the browser's name)


class AppointmentCode(BaseModel):
    code: str = Field(max_length=40)
    verifier: str = Field(max_length=20)


class SubscribeIn(BaseModel):
    subscription: BrowserSubscription
    lang: str = Field("es", max_length=5)
    topics: list[str] = Field(default_factory=list, max_length=60)
    appointments: list[AppointmentCode] = Field(default_factory=list, max_length=push.MAX_CODES)
    requests: list[str] = Field(default_factory=list, max_length=push.MAX_CODES)


class UnsubscribeIn(BaseModel):
    endpoint: str = Field(max_length=1024)
    auth: str = Field(max_length=100)


class NoticeText(BaseModel):
    title: str = Field(max_length=500)
    body: str = Field(max_length=2000)


class NoticeIn(BaseModel):
    topic: str = Field(max_length=100, description='"news", "office:<slug>" or "area:<slug>"')
    texts: dict[str, NoticeText] = Field(description="per language; Spanish (es) required")
    url: str = Field("", max_length=300, description='a page of the app; "{lang}" becomes the reader\'s language')
    ttl: int = Field(push.NOTICE_TTL, ge=60, le=28 * 86400)


def refused(errors: dict[str, str], lang: str, status: int = 422) -> JSONResponse:
    lang = pick_lang(lang)
    texts = {**ERRORS, **push.ERRORS}
    return JSONResponse({"errors": {f: gettext(lang, texts.get(c, ERRORS["bad_request"])) for f, c in errors.items()},
                         "codes": errors}, status_code=status, headers=PRIVATE)


@router.get("/api/v1/push/key", summary="The VAPID public key (applicationServerKey) and the topics")
def push_key(request: Request, session: Session = Depends(get_session)):
    return etagged(request, {"public_key": webpush.keys().public_key, "topics": sorted(push.valid_topics(session))})


@router.put("/api/v1/push/subscription", summary="Subscribe this browser, or change its topics and codes")
def put_subscription(request: Request, data: SubscribeIn, session: Session = Depends(get_session)):
    cost = 1 + len(data.appointments) + len(data.requests)
    wait = ratelimit.check("push", client_address(request), cost)
    if wait:
        answer = refused({"subscription": "rate_limited"}, data.lang, 429)
        answer.headers["Retry-After"] = str(wait)
        return answer
    try:
        state = push.subscribe(session, data.subscription.model_dump(), lang=data.lang, topics=data.topics,
                                 appointments=[a.model_dump() for a in data.appointments], requests=data.requests)
    except push.PushError as exc:
        session.rollback()
        return refused(exc.errors, data.lang, 403 if "push_not_yours" in exc.errors.values() else 422)
    session.commit()
    return JSONResponse(state, headers=PRIVATE)


@router.delete("/api/v1/push/subscription", summary="Forget this browser's subscription (send its auth secret)")
def delete_subscription(request: Request, data: UnsubscribeIn, session: Session = Depends(get_session)):
    if wait := ratelimit.check("push", client_address(request)):
        answer = refused({"subscription": "rate_limited"}, "es", 429)
        answer.headers["Retry-After"] = str(wait)
        return answer
    removed = push.unsubscribe(session, data.endpoint, data.auth)
    session.commit()
    return JSONResponse({"removed": removed}, headers=PRIVATE)


def may_notify(session: Session, viewer: Viewer, topic: str) -> bool:
    """Administrators write to any topic; managers to the offices they work for."""
    if viewer.can("setup_town"):
        return True
    if topic.startswith("office:"):
        office = session.exec(select(Office).where(Office.slug == topic.removeprefix("office:"))).first()
        return office is not None and viewer.can_office(office.id)
    return False


@router.post("/api/staff/push/notices", status_code=201, summary="A staff notice to everyone following a topic")
def post_notice(request: Request, data: NoticeIn, session: Session = Depends(get_session),
                viewer: Viewer = Depends(need("setup_office"))):
    if not same_origin(request):
        return JSONResponse({"codes": {"origin": "origin"}}, status_code=403)
    if not may_notify(session, viewer, data.topic):
        return JSONResponse({"codes": {"topic": "forbidden"}}, status_code=403)
    try:
        event = push.send_notice(session, data.topic, {k: v.model_dump() for k, v in data.texts.items()},
                                   url=data.url, ttl=data.ttl, author=viewer.email)
    except push.PushError as exc:
        session.rollback()
        return refused(exc.errors, "es")
    followers = session.exec(select(func.count()).select_from(PushTopic).where(PushTopic.topic == data.topic)).one()
    audit.audit(session, viewer, "push.notice", f"pushevent:{event.id}", ip=client_address(request), topic=data.topic,
               languages=sorted(data.texts), followers=followers)
    session.commit()
    return JSONResponse({"id": event.id, "topic": data.topic, "followers": followers}, status_code=201)


@router.get("/api/staff/push/topics", summary="How many devices follow each topic")
def get_topics(session: Session = Depends(get_session), viewer: Viewer = Depends(need("setup_office"))):
    counts = push.topic_counts(session)
    total = session.exec(select(func.count()).select_from(PushSubscription)).one()
    return JSONResponse({"subscriptions": total,
                         "topics": {t: counts[t] for t in sorted(push.valid_topics(session))}},
                        headers=PRIVATE)
