"""Exactly-once writes: the first successful answer to an Idempotency-Key is stored in the same transaction as
the write, and a repeat of the key gets that answer back instead of a second write."""

import hashlib
import json
import re
from collections.abc import Callable

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from pwa_app import db
from pwa_app.common import once
from pwa_app.common.times import utcnow
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
    if key and (found := _claim(session, key, operation, digest)):
        return _replay(found, digest)
    status, body = action()
    if key:  # the claim becomes the answer for repeats; a refusal is not kept (the same key may try again)
        record = IdempotencyRecord.__table__
        if status < 300:
            session.execute(update(record).where(record.c.key == key).values(status_code=status, body=json.dumps(body)))
        else:
            session.execute(delete(record).where(record.c.key == key))
    try:
        session.commit()
    except IntegrityError:
        # Another unique rule (a seat taken twice) decided against this attempt: it is undone.
        session.rollback()
        found = session.get(IdempotencyRecord, key) if key else None
        if not found:
            raise
        return _replay(found, digest)
    return status, body


SEEN_SECONDS = 86400  # how long Redis remembers that a key was sent (a device resends within hours, not days)


async def first_sight(key: str | None) -> bool:
    """True when the key reaches this installation for the first time, as Redis tells (remembered from now on):
    no earlier request with it can be running or answered, except one answered before Redis lost its keys, which
    `answered` finds. False without Redis, or when it cannot tell."""
    client = db.async_redis()
    if not key or client is None:
        return False
    try:
        return bool(await client.set(f"cita:seen:{db.database_key()}:{key}", 1, nx=True, ex=SEEN_SECONDS))
    except Exception:  # noqa: BLE001  (Redis down: the database path decides)
        return False


def answered(key: str) -> bool:
    """Whether the key has a stored answer (one indexed read on a plain connection: no session, no row loaded)."""
    record = IdempotencyRecord.__table__
    with db.engine().connect() as conn:
        return conn.execute(select(record.c.key).where(record.c.key == key)).first() is not None


def earlier_answer(session: Session, key: str | None, operation: str, payload: dict) -> tuple[int, dict] | None:
    """The answer this key already gave to this same request, read without claiming the key: for a resend that
    the write itself made impossible to check again (the personal data it deleted was the verifier)."""
    record = session.get(IdempotencyRecord, key) if key else None
    if record and record.request_hash == request_hash(operation, payload):
        return record.status_code, json.loads(record.body)
    return None


def _claim(session: Session, key: str, operation: str, digest: str) -> IdempotencyRecord | None:
    """Claim the key with a row inserted now, or return the answer it already has. A request carrying the same key
    while the first is running waits on that row (PostgreSQL; on SQLite the database's write lock is taken
    first) until the first commits, then replays its answer, instead of running the action again (and, say, finding
    its own seat "taken")."""
    db.write_lock(session)
    row = {"key": key, "operation": operation, "request_hash": digest, "status_code": 0, "body": "",
           "created_at": utcnow()}
    if once.insert_ignoring_duplicates(session, IdempotencyRecord, [row]):
        return None
    return session.get(IdempotencyRecord, key, populate_existing=True)


def _replay(record: IdempotencyRecord, digest: str) -> tuple[int, dict]:
    if record.request_hash != digest:
        raise KeyReused(record.key)
    return record.status_code, json.loads(record.body)
