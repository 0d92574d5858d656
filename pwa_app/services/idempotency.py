"""Exactly-once writes: the first successful answer to an Idempotency-Key is stored in the same transaction as
the write, and a repeat of the key gets that answer back instead of a second write."""

import hashlib
import json
import re
from collections.abc import Callable

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, text

from pwa_app import db
from pwa_app.models import IdempotencyRecord

KEY_RE = re.compile(r"^[A-Za-z0-9_-]{8,64}$")


class KeyReused(Exception):
    """The key was already used for a different request."""


def valid_key(key: str | None) -> bool:
    return key is None or bool(KEY_RE.match(key))


def request_hash(operation: str, payload: dict) -> str:
    return hashlib.sha256(json.dumps([operation, payload], sort_keys=True, default=str).encode()).hexdigest()


def run_once(
    session: Session, key: str | None, operation: str, payload: dict, action: Callable[[], tuple[int, dict]]
) -> tuple[int, dict]:
    """Run `action` (which writes through `session` without committing) at most once per key, and commit."""
    digest = request_hash(operation, payload)
    if key:
        _lock_key(session, key)
    if key and (found := session.get(IdempotencyRecord, key)):
        return _replay(found, digest)
    status, body = action()
    if key and status < 300:
        session.add(IdempotencyRecord(key=key, operation=operation, request_hash=digest,
                                      status_code=status, body=json.dumps(body)))
    try:
        session.commit()
    except IntegrityError:
        # Another process finished the same key first: its answer stands, this attempt is undone.
        session.rollback()
        found = session.get(IdempotencyRecord, key) if key else None
        if not found:
            raise
        return _replay(found, digest)
    return status, body


def _lock_key(session: Session, key: str) -> None:
    """Serialise requests carrying the same key until the first commits, so a racing repeat replays its answer
    instead of running the action again (and, say, finding its own seat "taken"). SQLite: the database's write
    lock, held until the commit."""
    db.write_lock(session)
    if session.get_bind().dialect.name == "postgresql":
        session.exec(text("SELECT pg_advisory_xact_lock(1, hashtext(:k))").bindparams(k=key))


def _replay(record: IdempotencyRecord, digest: str) -> tuple[int, dict]:
    if record.request_hash != digest:
        raise KeyReused(record.key)
    return record.status_code, json.loads(record.body)
