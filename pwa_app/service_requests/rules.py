"""The rules of a service request (solicitud): its workflow of statuses, the limits of what a citizen may
send, working days and due dates, and its codes.

Time limits follow Ley 39/2015: days are working days (art. 30.2: not Saturdays, Sundays or public holidays —
`Closure` rows with office_id None), counted from the day after the request; a request sent on a non-working
day counts as sent on the next working day (art. 31.2.b); months run date to date (art. 30.4) and a limit
ending on a non-working day moves to the next working day (art. 30.5). While the town hall waits for the citizen
the limit is suspended (art. 22.1.a): the days spent waiting are added to the due date when work resumes.

Errors carry a code per form field (like booking.clean_details); nothing is written when one is raised. The
caller commits (with its idempotency record)."""

import calendar
import math
import re
from datetime import date, datetime, timedelta, timezone

from sqlmodel import Session, select

from pwa_app.common import codes
from pwa_app.common.errors import DomainError
from pwa_app.common.i18n import local
from pwa_app.common.text import HTML_RE, plain_text
from pwa_app.common.times import utcnow
from pwa_app.models import Closure, RequestType, ServiceRequest


UTC = timezone.utc


# --- the workflow ---------------------------------------------------------------------------------------------

STATUSES = ("received", "assigned", "in_progress", "waiting_citizen", "resolved", "rejected", "closed")
OPEN = frozenset({"received", "assigned", "in_progress", "waiting_citizen"})
CLOSED = frozenset({"resolved", "rejected", "closed"})


# From each status, the statuses a department may move a request to. Anything else is refused.
# - "assigned" -> "assigned" hands the request to another department (it must name a different one);
# - a resolved request may be reopened (back to in progress) or closed; rejected and closed are final;
# - nothing goes back to "received", and nothing is resolved before a department has taken it on.
TRANSITIONS: dict[str, frozenset[str]] = {
    "received": frozenset({"assigned", "in_progress", "rejected", "closed"}),
    "assigned": frozenset({"assigned", "in_progress", "waiting_citizen", "resolved", "rejected"}),
    "in_progress": frozenset({"assigned", "waiting_citizen", "resolved", "rejected"}),
    "waiting_citizen": frozenset({"in_progress", "resolved", "rejected", "closed"}),
    "resolved": frozenset({"in_progress", "closed"}),
    "rejected": frozenset(),
    "closed": frozenset(),
}


COMMENT_REQUIRED = frozenset({"waiting_citizen", "rejected"})  # what is expected; the reasons (art. 35)
CITIZEN_RESPONSE_DAYS = 10  # working days the citizen has to answer a request for more (art. 68.1)


# --- limits ---------------------------------------------------------------------------------------------------

CODE_LENGTH = 16  # 80 bits: the code alone opens the timeline (see ServiceRequest)
CODE_GROUP = 4  # shown as XXXX-XXXX-XXXX-XXXX
PUBLIC_ID_LENGTH = 10
DESCRIPTION_MAX = 4000  # also Open311's limit
COMMENT_MAX = 4000
ADDRESS_MAX = 200
MAX_FILES = 3  # per submission or reply
MAX_FILES_TOTAL = 10  # per request
MAX_FILE_BYTES = 5 * 1024 * 1024
PHOTO_TYPES = ("image/jpeg", "image/png", "image/webp")
FILE_TYPES = ("application/pdf",)
EXTENSIONS = {"image/jpeg": ".jpg", "image/png": ".png", "image/webp": ".webp", "application/pdf": ".pdf"}


# Base64 of the largest file, with slack for line breaks; anything longer is refused before decoding.
MAX_BASE64 = math.ceil(MAX_FILE_BYTES / 3) * 4 + 1024
FILENAME_UNSAFE = re.compile(r"[^\w .()-]+")


class ServiceRequestError(DomainError):
    """A service request (or a status change) that cannot be made."""


# --- working days ---------------------------------------------------------------------------------------------


class WorkCalendar:
    """Working days: Monday to Friday except public holidays (Closure rows for every office). Holidays are read
    a year at a time and kept for the calendar's life (one unit of work)."""

    def __init__(self, session: Session):
        self.session = session
        self.years: dict[int, set[date]] = {}

    def holidays(self, year: int) -> set[date]:
        if year not in self.years:
            rows = self.session.exec(select(Closure.day).where(
                Closure.office_id == None,  # noqa: E711
                Closure.day >= date(year, 1, 1), Closure.day <= date(year, 12, 31)))
            self.years[year] = set(rows)
        return self.years[year]

    def is_working(self, day: date) -> bool:
        return day.weekday() < 5 and day not in self.holidays(day.year)

    def next_working(self, day: date) -> date:
        """`day` itself if it is a working day, else the first working day after it."""
        while not self.is_working(day):
            day += timedelta(days=1)
        return day

    def add_days(self, start: date, days: int) -> date:
        """The `days`-th working day after `start` (counting from the day after)."""
        day, counted = start, 0
        while counted < days:
            day += timedelta(days=1)
            counted += self.is_working(day)
        return day

    def add_months(self, start: date, months: int) -> date:
        """The same day `months` later (the month's last day if it has no such day), moved to a working day."""
        month0 = start.month - 1 + months
        year, month = start.year + month0 // 12, month0 % 12 + 1
        day = min(start.day, calendar.monthrange(year, month)[1])
        return self.next_working(date(year, month, day))

    def count_between(self, first: date, last: date) -> int:
        """Working days d with first < d <= last."""
        count, day = 0, first
        while day < last:
            day += timedelta(days=1)
            count += self.is_working(day)
        return count


def due_date_for(cal: WorkCalendar, rtype: RequestType, submitted_at: datetime) -> date:
    """When the answer is due for a request of `rtype` sent at `submitted_at` (Madrid's calendar day)."""
    start = cal.next_working(local(submitted_at).date())  # sent on a holiday: counts from the next working day
    if rtype.response_months > 0:
        return cal.add_months(start, rtype.response_months)
    return cal.add_days(start, max(rtype.response_days, 0))


def is_overdue(req: ServiceRequest, now: datetime | None = None) -> bool:
    """Past its due date and still with the town hall (not while waiting for the citizen, nor once closed)."""
    if req.status not in OPEN or req.status == "waiting_citizen":
        return False
    return local(now or utcnow()).date() > req.due_date


# --- codes ----------------------------------------------------------------------------------------------------


def format_code(code: str) -> str:
    """Display form "K7QM-3XJD-9TPA-W2RF"."""
    return "-".join(code[i : i + CODE_GROUP] for i in range(0, len(code), CODE_GROUP))


def normalize_tracking_code(raw: str) -> str | None:
    """The stored form of a typed code (spaces, hyphens, case and O/I/L confusions forgiven), or None."""
    try:
        code = codes.normalize_code(raw or "")
    except ValueError:
        return None
    return code if len(code) == CODE_LENGTH else None


def _unused(session: Session, column, length: int) -> str:
    while True:  # a collision of 50+ random bits is astronomically rare; the unique index is the last guard
        candidate = codes.new_code(length)
        if not session.exec(select(ServiceRequest.id).where(column == candidate)).first():
            return candidate


def find(session: Session, code: str) -> ServiceRequest | None:
    normal = normalize_tracking_code(code)
    if not normal:
        return None
    return session.exec(select(ServiceRequest).where(ServiceRequest.code == normal)).first()


def find_public(session: Session, public_id: str) -> ServiceRequest | None:
    """A request of a public type by its Open311 id; None for any other."""
    req = session.exec(select(ServiceRequest).where(ServiceRequest.public_id == (public_id or "").upper())).first()
    if req and session.get(RequestType, req.type_id).public:
        return req
    return None


# --- checking what the citizen sent ---------------------------------------------------------------------------


def clean_text(raw, limit: int) -> tuple[str, str | None]:
    """Plain text: newlines kept, other control characters dropped, HTML tags refused. (text, error code)."""
    text = plain_text(raw)
    if HTML_RE.search(text):
        return text, "no_html"
    if len(text) > limit:
        return text, "too_long"
    return text, None


# --- reading --------------------------------------------------------------------------------------------------

