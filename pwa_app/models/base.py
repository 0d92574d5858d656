"""What every table shares: the current time in UTC, and the answers kept per Idempotency-Key."""

from datetime import datetime

from sqlmodel import Field, SQLModel

from pwa_app.common.times import utcnow


class IdempotencyRecord(SQLModel, table=True):
    """The first answer given to a write with this Idempotency-Key; a repeat gets the same answer."""

    key: str = Field(primary_key=True, max_length=64)
    operation: str
    request_hash: str  # the same key with another payload is refused
    status_code: int
    body: str  # JSON
    created_at: datetime = Field(default_factory=utcnow)
