"""Checking what staff typed into a form: each helper records a code per field in `errors`."""

import re
from datetime import date, datetime, time

from pwa_app.common.i18n import TZ
from pwa_app.common.text import UNSAFE_RE


SLUG_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")


def today() -> date:
    return datetime.now(TZ).date()


def text_field(raw, field: str, errors: dict, *, required: bool = True, limit: int = 200, multiline: bool = False) -> str:
    value = str(raw or "").strip() if multiline else " ".join(str(raw or "").split())
    if required and not value:
        errors[field] = "required"
    elif len(value) > limit:
        errors[field] = "too_long"
    elif UNSAFE_RE.search(value.replace("\n", " ").replace("\t", " ")):
        errors[field] = "chars"
    return value


def int_field(raw, field: str, errors: dict, low: int, high: int) -> int:
    try:
        value = int(str(raw).strip())
    except (TypeError, ValueError):
        errors[field] = "number"
        return low
    if not low <= value <= high:
        errors[field] = "range"
    return value


def time_field(raw, field: str, errors: dict) -> time:
    try:
        hh, mm = str(raw).strip().split(":")[:2]
        return time(int(hh), int(mm))
    except (TypeError, ValueError):
        errors[field] = "time"
        return time(0, 0)


def date_field(raw, field: str, errors: dict, required: bool = True) -> date | None:
    if isinstance(raw, date):
        return raw
    if not raw:
        if required:
            errors[field] = "required"
        return None
    try:
        return date.fromisoformat(str(raw).strip())
    except ValueError:
        errors[field] = "date"
        return None


def is_checked(raw) -> bool:
    return raw in (True, "true", "on", "1", 1, "yes")
