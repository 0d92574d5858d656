"""What happened in the town hall's work, told to whoever must act on it, inside the caller's transaction.

Domain code records an event ("appointment booked", "request status changed"); the notifications package
subscribes and writes its mails and pushes into the same session, so they are committed or rolled back with the
change, exactly as if the domain had called them — without the domain depending on notifications.

Events and their data (keyword arguments):
    appointment_booked       appt, now          a new booking (pending ones wait for the citizen to confirm)
    appointment_confirmed    appt, now          a pending booking confirmed from the e-mailed link
    appointment_cancelled    appt, now          cancelled by the citizen
    appointment_moved        appt, now          moved to another time or office
    appointment_closed       appt, reason, now  cancelled by a closure of the office
    request_received         req, now           a service request submitted
    request_status_changed   req, change, now   a department moved a service request along its workflow
"""

import importlib
from collections import defaultdict
from collections.abc import Callable

KINDS = frozenset({
    "appointment_booked", "appointment_confirmed", "appointment_cancelled", "appointment_moved",
    "appointment_closed", "request_received", "request_status_changed",
})
# The packages whose subscriptions are loaded before the first event, whatever the entry point (app, worker, CLI,
# tests): the domain never imports them.
SUBSCRIBERS = ("pwa_app.notifications",)

_handlers: dict[str, list[Callable]] = defaultdict(list)
_loaded = False


def subscribe(kind: str) -> Callable:
    """Decorator: `handler(session, **data)` runs for each event of `kind`, in the order subscribed."""
    if kind not in KINDS:
        raise ValueError(f"unknown event {kind!r}")

    def register(handler: Callable) -> Callable:
        if handler not in _handlers[kind]:
            _handlers[kind].append(handler)
        return handler
    return register


def record(session, kind: str, **data) -> None:
    """Tell the subscribers of `kind`, in the caller's session and transaction."""
    global _loaded
    if kind not in KINDS:
        raise ValueError(f"unknown event {kind!r}")
    if not _loaded:
        for name in SUBSCRIBERS:  # by name: they import the domain, the domain does not import them
            importlib.import_module(name)
        _loaded = True
    for handler in _handlers[kind]:
        handler(session, **data)
