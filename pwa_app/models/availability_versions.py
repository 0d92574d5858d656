"""The availability versions, bumped in the transaction of every change (appointments/availability.py
keeps one calendar for everyone and knows from these versions when it is stale)."""

from sqlalchemy import event, inspect, update
from sqlalchemy.orm import Session as OrmSession

from pwa_app.models.appointments import Appointment, Hold
from pwa_app.models.catalogue import Closure, Municipality, Office, Procedure, ProcedureOffice, Schedule


# ---- the availability versions, bumped in the transaction of every change -----------------------------------

CHANGED = "availability_changed"  # in Session.info while a transaction holds bumped, uncommitted versions
BUMPED = "availability_bumped"  # {(procedure id, office id): (grid, seats) as bumped, or None: pair added/removed}
QUEUE_ONLY = ("walk_in_quota",)  # an office's fields that no availability shows
SEAT_FIELDS = ("procedure_id", "office_id", "starts_at", "seat", "status", "confirm_by", "expires_at")


def _values(obj, name: str, dirty: bool) -> set:
    """The attribute's value, and its value before this flush for a changed row (a move has two pairs)."""
    now = {getattr(obj, name)}
    if dirty:
        now |= set(inspect(obj).attrs[name].history.deleted or ())
    return now


def _pairs_changed(session) -> tuple[set, set]:
    """(procedure id, office id) pairs whose seats changed, and whose grid changed (None: every one)."""
    seats, grids = set(), set()
    for rows, dirty in ((session.new, False), (session.deleted, False), (session.dirty, True)):
        for obj in rows:
            if dirty and not session.is_modified(obj):
                continue
            if isinstance(obj, (Appointment, Hold)):
                attrs = inspect(obj).attrs
                if dirty and not any(f in attrs.keys() and attrs[f].history.has_changes() for f in SEAT_FIELDS):
                    continue
                seats |= {(p, o) for p in _values(obj, "procedure_id", dirty) for o in _values(obj, "office_id", dirty)}
            elif isinstance(obj, Schedule):
                grids |= {(p, o) for p in _values(obj, "procedure_id", dirty) for o in _values(obj, "office_id", dirty)}
            elif isinstance(obj, Closure):
                grids |= {(None, o) for o in _values(obj, "office_id", dirty)}  # no office: a holiday, all of them
            elif isinstance(obj, Procedure):
                grids.add((obj.id, None))
            elif isinstance(obj, Office):  # its name is in the answers that refuse a time (availability.Booked)
                if not dirty or any(a.history.has_changes() for a in inspect(obj).attrs if a.key not in QUEUE_ONLY):
                    grids.add((None, obj.id))
            elif isinstance(obj, Municipality):
                grids.add((None, None))
    return seats, grids


@event.listens_for(OrmSession, "after_flush")
def _availability_changed(session, _context) -> None:
    seats, grids = _pairs_changed(session)
    if seats or grids:
        session.info[CHANGED] = True
    table = ProcedureOffice.__table__
    bumped = session.info.setdefault(BUMPED, {})
    for column, pairs in (("seats_version", seats), ("grid_version", grids)):
        for procedure_id, office_id in sorted(pairs, key=str):
            where = [c == v for c, v in ((table.c.procedure_id, procedure_id), (table.c.office_id, office_id))
                     if v is not None]
            rows = session.connection().execute(update(table).where(*where).values({column: table.c[column] + 1})
                                                .returning(table.c.procedure_id, table.c.office_id,
                                                           table.c.grid_version, table.c.seats_version))
            bumped.update({(p, o): (g, s) for p, o, g, s in rows})
    for obj in (*session.new, *session.deleted):  # a pair added or removed starts its versions afresh
        if isinstance(obj, ProcedureOffice):
            bumped[(obj.procedure_id, obj.office_id)] = None


@event.listens_for(OrmSession, "after_transaction_end")
def _availability_settled(session, transaction) -> None:
    if transaction.parent is None:  # committed or rolled back: the versions are the database's again
        session.info.pop(CHANGED, None)
        session.info.pop(BUMPED, None)
