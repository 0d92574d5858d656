"""Once across restarts and workers: rows that several backend workers share (web push deliveries, e-mails) are
inserted once (a unique key decides, not a prior read) and sent by whichever worker claims them first (a
conditional UPDATE that checks the claim again, so two workers never claim the same row). Sending is at least
once: a worker that dies after sending and before recording it leaves the claim to run out, and the row is sent
again."""

from datetime import datetime

from sqlalchemy import or_, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, select


def insert_ignoring_duplicates(session: Session, model, rows: list[dict]) -> int:
    """INSERT ... ON CONFLICT DO NOTHING (SQLite and PostgreSQL): the unique constraints decide, not a prior read."""
    if not rows:
        return 0
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    # executemany (SQLAlchemy batches it as multi-row VALUES from one cached statement); RETURNING lists the rows
    # really inserted (rowcount says -1 with psycopg here).
    result = session.execute(insert(model).on_conflict_do_nothing().returning(*model.__table__.primary_key), rows)
    return len(result.all())


def due(model, status: str, now: datetime) -> tuple:
    """Rows waiting in `status`, due by `now`, and not claimed by a live worker."""
    return (model.status == status, model.next_at <= now,
            or_(model.claimed_until == None, model.claimed_until < now))  # noqa: E711


def claim(session: Session, model, conditions: tuple, token: str, until: datetime, limit: int) -> bool:
    """Marks up to `limit` rows matching `conditions` (oldest due first) as claimed by `token` until `until`. The
    UPDATE repeats the conditions, so a row another worker claimed meanwhile is left alone. The caller commits and
    reads its rows back by `claim == token`. False when nothing was due."""
    ids = session.exec(select(model.id).where(*conditions).order_by(model.next_at, model.id).limit(limit)).all()
    if ids:
        session.execute(update(model).where(model.id.in_(ids), *conditions).values(claim=token, claimed_until=until))
    return bool(ids)
