"""Opening a booking with its code and verifier, so that nobody finds the verifier by trying. The verifier is the
last four characters of the document or phone (10,000 to 23,000 candidates): every wrong pair counts against the
code (CITA_RATE_VERIFIER_CODE, 10 an hour) and against the client's address (CITA_RATE_VERIFIER_ADDRESS, 30 an
hour). Once either is spent the answer is "too many tries" whatever the verifier, the right one too, until the
window moves on: whoever saw a code on a lock screen gets ten guesses an hour, from any number of addresses."""

from sqlmodel import Session

from pwa_app.appointments import booking
from pwa_app.common import codes, ratelimit
from pwa_app.models import Appointment


class TooManyTries(Exception):
    def __init__(self, retry_after: int):
        super().__init__(retry_after)
        self.retry_after = retry_after


def open_appointment(session: Session, code: str, verifier: str, client: str = "") -> Appointment | None:
    """The appointment for a code and its verifier, None for a wrong pair; raises TooManyTries (seconds to wait)
    when the code or the client has had too many wrong ones."""
    try:
        normal = codes.normalize_code(code)
    except ValueError:
        normal = ""  # not a code at all: counted against the client only
    counters = [(scope, key) for scope, key in (("verifier_code", normal), ("verifier_address", client)) if key]
    if wait := max((ratelimit.blocked(scope, key) for scope, key in counters), default=0):
        raise TooManyTries(wait)
    appt = booking.find(session, code, verifier)
    if appt is None:
        for scope, key in counters:
            ratelimit.spend(scope, key)
    return appt
