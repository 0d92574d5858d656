"""Telling citizens: e-mail (`mail`, the outbox and its sender) and web push (`push`: subscriptions, fan-out,
delivery; `webpush`: the signed, encrypted sending). The domain records events (pwa_app.common.events); the
handlers below turn them into mails and pushes in the same transaction."""

from pwa_app.common.events import subscribe
from pwa_app.notifications import mail
from pwa_app.notifications import push
from pwa_app.service_requests.views import comment_in, request_view


@subscribe("appointment_booked")
def _booked(session, appt, now) -> None:
    mail.post(session, appt, "confirm" if appt.status == "pending" else "booked", now)


@subscribe("appointment_confirmed")
def _confirmed(session, appt, now) -> None:
    mail.post(session, appt, "booked", now)


@subscribe("appointment_cancelled")
def _cancelled(session, appt, now) -> None:
    mail.post(session, appt, "cancelled", now)


@subscribe("appointment_moved")
def _moved(session, appt, now) -> None:
    mail.post(session, appt, "moved", now)


@subscribe("appointment_closed")
def _closed(session, appt, reason, now) -> None:
    mail.post(session, appt, "closed", now, reason=reason)
    push.appointment_closed(session, appt, reason, now)


@subscribe("request_received")
def _received(session, req, now) -> None:
    _request_mail(session, req, f"request_received:{req.id}", "request_received", now)


@subscribe("request_status_changed")
def _status_changed(session, req, change, now) -> None:
    push.request_status_changed(session, req, change)  # to the devices following it, once committed
    _request_mail(session, req, f"request_status:{change.id}", "request_status", now,
                  comment_in(session, change, req.lang))


def _request_mail(session, req, key: str, kind: str, now, comment: str = "") -> None:
    """A mail to the citizen who left an address (once per key, in this transaction)."""
    if req.email:
        mail.post_request(session, req.email, key, kind, request_view(session, req, req.lang, now), comment, now)
