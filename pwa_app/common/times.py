"""Time in one place: what is stored and compared is UTC. The DateTime columns come back naive from SQLite and
PostgreSQL: a naive datetime is UTC. Domain code takes `now` from its caller; `utc_or_now` is for the entry points
that may be given none (the API and the workers use the real clock)."""

from datetime import UTC, datetime


def utcnow() -> datetime:
    return datetime.now(UTC)


def to_utc(moment: datetime) -> datetime:
    """Any datetime to aware UTC; a naive one is taken as UTC already."""
    return moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)


def utc_or_now(moment: datetime | None) -> datetime:
    """`moment` in aware UTC, or the current time when there is none."""
    return to_utc(moment or utcnow())
