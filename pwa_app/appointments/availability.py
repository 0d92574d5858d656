"""One availability answer per (procedure, office, language), shared by every citizen until something changes it.

The answer (the JSON of GET /api/v1/availability, gzipped, with an ETag) is built once and kept, in Redis when
REDIS_URL is set (every worker serves the same bytes) and in process memory, under the pair's two versions
(`ProcedureOffice.grid_version`: schedules, closures, holidays, booking rules; `seats_version`: seats taken),
which every change bumps in the transaction that makes it (models/availability_versions.py). Each request reads
the versions first (one query), so a kept answer is served only while nothing has changed: once the commit that
took a seat has been answered, no citizen is offered that seat. What changes with the clock alone (the first times leaving the notice
window, midnight, a release hour, a hold or an unconfirmed booking running out, seats kept for staff opening to the
web) ends the answer's `valid_until`. Citizens see only the seats the web may take; staff ask for every seat
(`slots_between(..., channel=...)`), from the same calendar.

The slow-changing part, the capacity grid (slot starts and capacities), is kept per grid version and day, so a
booking rebuilds only the seat counts; day and time labels are kept per language.

With Redis, every commit that bumps versions also writes them there (after the commit, before its request is
answered), so a request can check its kept answer against Redis without asking the database (`kept_answer`): the
9:00 rush is served from memory with one Redis round trip. Redis keeps a pair's versions for VERSIONS_TTL seconds
after their last change, and only ever raises them, so a reader that seeds them from the database cannot put an
older version back; a write to Redis lost while Redis was reachable for others can leave a kept answer in use for
at most that long."""

import gzip
import hashlib
import json
import logging
import threading
import time as clock
from collections import Counter
from datetime import date, datetime, time, timedelta

from sqlalchemy import event
from sqlalchemy.orm import Session as OrmSession
from sqlmodel import Session, func, select

from pwa_app import db
from pwa_app.appointments.availability_body import body
from pwa_app.appointments.calendars import Answer, Booked, Calendar, Frame, Pair
from pwa_app.appointments.slots import (
    TZ, WEB, Slot, booking_window, capacity_grid, closed_days, count_slots, local_to_utc, next_opening, staff_kept,
    taken_seats)
from pwa_app.common.times import to_utc
from pwa_app.models import BUMPED, CHANGED, Appointment, Hold, Office, Procedure, ProcedureOffice, Schedule


log = logging.getLogger(__name__)
MAX_DAYS = 92  # one answer covers at most this many days
KEPT = 4096  # answers and calendars kept per process, at most
VERSIONS_TTL = 30  # seconds Redis keeps a pair's versions after their last change
REDIS_PAUSE = 5  # seconds without the Redis shortcut after Redis failed to answer


# A copy built a moment after a request read the clock serves that request too (it is answered later still):
# requiring `since <= now` had requests in a rush rebuilding copies for each other. A clock set back further gets
# its own copy.
EARLIER = timedelta(seconds=5)
_grids: dict[tuple, tuple[tuple[datetime, int], ...]] = {}
_frames: dict[tuple, Frame] = {}
_calendars: dict[tuple, Calendar] = {}
_answers: dict[tuple, Answer] = {}
_building: dict[tuple, threading.Lock] = {}
_ids: dict[tuple[str, str, str], tuple[int, int]] = {}  # (database, procedure slug, office slug) -> ids
_redis_paused_until = 0.0


def pair_of(session: Session, procedure_slug: str, office_slug: str) -> Pair | None:
    """The bookable pair named by two slugs, None when the office does not offer that procedure by appointment."""
    row = session.exec(
        select(ProcedureOffice.procedure_id, ProcedureOffice.office_id, ProcedureOffice.grid_version,
               ProcedureOffice.seats_version)
        .join(Procedure, Procedure.id == ProcedureOffice.procedure_id)
        .join(Office, Office.id == ProcedureOffice.office_id)
        .where(Procedure.slug == procedure_slug, Office.slug == office_slug, Procedure.needs_appointment)
    ).first()
    return Pair(*row) if row else None


def pair_by_id(session: Session, procedure_id: int, office_id: int) -> Pair | None:
    row = session.get(ProcedureOffice, (procedure_id, office_id), populate_existing=True)
    return Pair(procedure_id, office_id, row.grid_version, row.seats_version) if row else None


def _db_key(session: Session) -> str:
    """Which database the versions belong to (several share one Redis, and tests use many)."""
    return db.database_key(session.get_bind())


# ---- the versions in Redis: the shortcut of every worker -------------------------------------------------------

_RAISE = """
for i, key in ipairs(KEYS) do
  local g, s = tonumber(ARGV[2 * i]), tonumber(ARGV[2 * i + 1])
  local old = redis.call('HMGET', key, 'g', 's')
  if old[1] and old[2] then g = math.max(g, tonumber(old[1])); s = math.max(s, tonumber(old[2])) end
  redis.call('HSET', key, 'g', g, 's', s)
  redis.call('EXPIRE', key, ARGV[1])
end
"""


def _versions_key(dbk: str, procedure_id: int, office_id: int) -> str:
    return f"cita:versions:{dbk}:{procedure_id}:{office_id}"


def _publish(dbk: str, versions: dict) -> None:
    """Raise the pairs' versions in Redis to these (None: forget the pair, it was added or removed)."""
    client = db.redis()
    if client is None or not versions:
        return
    raised = [(k, v) for k, v in versions.items() if v is not None]
    try:
        if gone := [_versions_key(dbk, *k) for k, v in versions.items() if v is None]:
            client.delete(*gone)
        if raised:
            client.eval(_RAISE, len(raised), *(_versions_key(dbk, *k) for k, _ in raised), VERSIONS_TTL,
                        *(n for _, v in raised for n in v))
    except Exception as exc:  # noqa: BLE001 - Redis down: readers ask the database (see REDIS_PAUSE)
        log.warning("availability versions not written to Redis: %s", exc)


@event.listens_for(OrmSession, "after_commit")
def _committed(session) -> None:
    if bumped := session.info.pop(BUMPED, None):
        _publish(_db_key(session), bumped)


async def kept_answer(procedure: str, office: str, lang: str, now: datetime) -> Answer | None:
    """This process's kept answer when the versions in Redis show it is still exact, without a database round trip;
    None when that cannot be told (no Redis, a pair not yet seen, versions not in Redis): ask `answer_for`."""
    if found := await _pair_in_redis(procedure, office):
        dbk, pair = found
        return _current(_answers.get((dbk, pair.procedure_id, pair.office_id, lang)), pair, to_utc(now))
    return None


async def kept_calendar(procedure: str, office: str, now: datetime) -> Calendar | None:
    """This process's calendar of a pair when the versions in Redis show it is still exact (as `kept_answer`)."""
    if found := await _pair_in_redis(procedure, office):
        dbk, pair = found
        return _current(_calendars.get((dbk, pair.procedure_id, pair.office_id)), pair, to_utc(now))
    return None


async def _pair_in_redis(procedure: str, office: str) -> tuple[str, Pair] | None:
    """The pair named by two slugs with its versions as Redis has them, when this process has seen the pair."""
    global _redis_paused_until
    dbk = db.database_key()
    ids = _ids.get((dbk, procedure, office))
    client = db.async_redis()
    if ids is None or client is None or clock.monotonic() < _redis_paused_until:
        return None
    try:
        grid, seats = await client.hmget(_versions_key(dbk, *ids), "g", "s")
    except Exception as exc:  # noqa: BLE001
        _redis_paused_until = clock.monotonic() + REDIS_PAUSE
        log.warning("availability versions not read from Redis: %s", exc)
        return None
    if grid is None or seats is None:
        return None
    return dbk, Pair(*ids, int(grid), int(seats))


def answer_for(session: Session, procedure: str, office: str, lang: str, now: datetime) -> Answer | None:
    """The shared answer of a pair named by its slugs, its versions read from the database (and written to Redis
    for the shortcut); None when the office does not book that procedure."""
    read_at = clock.monotonic()
    pair = pair_of(session, procedure, office)
    if pair is None:
        _ids.pop((_db_key(session), procedure, office), None)
        return None
    remember(session, procedure, office, pair, read_at)
    return answer(session, procedure, office, pair, lang, now)


def remember(session: Session, procedure: str, office: str, pair: Pair, read_at: float) -> None:
    """Let later requests check this process's copies of the pair against Redis (`kept_answer`, `kept_calendar`):
    the pair's ids by its slugs here, its versions there, read from the database at monotonic time `read_at`."""
    dbk = _db_key(session)
    _ids[(dbk, procedure, office)] = (pair.procedure_id, pair.office_id)
    if clock.monotonic() - read_at < 5:  # never seed a read older than a commit's versions could have lived
        _publish(dbk, {(pair.procedure_id, pair.office_id): (pair.grid, pair.seats)})


# ---- the capacity grid and the seat counts -------------------------------------------------------------------


def _grid(session: Session, pair: Pair, procedure: Procedure, first: date, last: date) -> tuple:
    """(start, (capacity, staff seats)) of every slot the schedules give between two local days, closures left out
    (slots.capacity_grid)."""
    key = (_db_key(session), pair.procedure_id, pair.office_id, pair.grid, first, last)
    if (kept := _kept(_grids, key, session)) is not None:
        return kept
    schedules = session.exec(select(Schedule).where(Schedule.office_id == pair.office_id,
                                                    Schedule.procedure_id == pair.procedure_id)).all()
    closed = closed_days(session, pair.office_id, first, last)
    grid = tuple(sorted(capacity_grid(schedules, closed, first, last, procedure.buffer_minutes).items()))
    _keep(_grids, key, grid, session)
    return grid


def _next_expiry(session: Session, pair: Pair, now: datetime) -> datetime | None:
    """When the first live hold or unconfirmed booking of the pair gives its seat back."""
    hold = session.exec(select(func.min(Hold.expires_at)).where(
        Hold.procedure_id == pair.procedure_id, Hold.office_id == pair.office_id, Hold.expires_at > now)).one()
    pending = session.exec(select(func.min(Appointment.confirm_by)).where(
        Appointment.procedure_id == pair.procedure_id, Appointment.office_id == pair.office_id,
        Appointment.status == "pending", Appointment.seat != None, Appointment.confirm_by > now)).one()  # noqa: E711
    return min((to_utc(t) for t in (hold, pending) if t is not None), default=None)


def frame(session: Session, pair: Pair, now: datetime) -> Frame:
    """The pair's window and capacities now: kept while its grid version stands and until the clock changes them
    (midnight, the next release, the first slot's notice beginning, the next staff seats opening to the web)."""
    now = to_utc(now)
    key = (_db_key(session), pair.procedure_id, pair.office_id)
    kept = _kept(_frames, key, session)
    if kept and kept.grid == pair.grid and kept.since - EARLIER <= now < kept.valid_until:
        return kept
    procedure, office = session.get(Procedure, pair.procedure_id), session.get(Office, pair.office_id)
    window = booking_window(session, procedure, now)
    today = now.astimezone(TZ).date()
    grid = [(s, c) for s, c in _grid(session, pair, procedure, today, window.last) if s >= window.earliest]
    capacity = {s: c for s, (c, _) in grid}
    staff = {s: n for s, (c, parts) in grid if (n := staff_kept(c, parts, now))}
    ends = [local_to_utc(today + timedelta(days=1), time(0)) or now + timedelta(hours=1), window.next_release,
            next_opening(grid, now)]
    if capacity:  # the first slot leaves the window when its notice begins
        ends.append(next(iter(capacity)) - (window.earliest - now))
    booked = Booked(office.slug, office.name, procedure.requires_document, procedure.high_demand)
    built = Frame(pair.grid, booked, window, capacity, staff, now, min(t for t in ends if t is not None))
    _keep(_frames, key, built, session)
    return built


def _current(kept, pair: Pair, now: datetime):
    """A kept copy as fresh as the versions read (or fresher: another request read them later) and not yet ended
    by the clock; else None."""
    if kept and kept.grid >= pair.grid and kept.seats >= pair.seats and kept.since - EARLIER <= now < kept.valid_until:
        return kept
    return None


def _one_build(key: tuple) -> threading.Lock:
    """Within a process, one request builds a copy at a time; the others wait for it rather than all building
    the same copy at once (a booking makes every request in flight find its copy old)."""
    return _building.setdefault(key, threading.Lock())


def calendar(session: Session, pair: Pair, now: datetime) -> Calendar:
    """The frame with the seats taken: kept while both versions stand, until a hold or a pending booking ends."""
    now = to_utc(now)
    key = (_db_key(session), pair.procedure_id, pair.office_id)
    if kept := _current(_kept(_calendars, key, session), pair, now):
        return kept
    with _one_build(("calendar", *key)):
        return _current(_kept(_calendars, key, session), pair, now) or _build_calendar(session, pair, key, now)


def _build_calendar(session: Session, pair: Pair, key: tuple, now: datetime) -> Calendar:
    fr = frame(session, pair, now)
    starts = list(fr.capacity)
    taken = taken_seats(session, pair.office_id, pair.procedure_id, starts[0], starts[-1] + timedelta(seconds=1),
                        now, by_seat=bool(fr.staff)) if starts else Counter()
    until = min(t for t in (fr.valid_until, _next_expiry(session, pair, now)) if t is not None)
    web, every = count_slots(fr.capacity, fr.staff, taken)
    built = Calendar(pair.grid, pair.seats, fr.booked, fr.window, web, every, now, until)
    _keep(_calendars, key, built, session)
    return built


def kept_copy(session: Session, pair: Pair, now: datetime) -> Calendar | None:
    """The pair's calendar when a copy exact for these versions is kept, without building one (None otherwise)."""
    key = (_db_key(session), pair.procedure_id, pair.office_id)
    return _current(_kept(_calendars, key, session), pair, to_utc(now))


def slots_between(session: Session, pair: Pair, first: date, last: date, now: datetime,
                  channel: str = WEB) -> list[Slot]:
    """The pair's bookable slots between two local days, from the shared calendar, with the seats the channel may
    take (the web: not those kept for staff; staff: all)."""
    slots, _ = calendar(session, pair, now).view(channel)
    return [s for s in slots if first <= s.starts_at.astimezone(TZ).date() <= last]


def answer(session: Session, procedure: str, office: str, pair: Pair, lang: str, now: datetime) -> Answer:
    """The shared answer for the pair in one language, from process memory, else Redis, else built (and kept)."""
    now = to_utc(now)
    key = (_db_key(session), pair.procedure_id, pair.office_id, lang)
    if kept := _kept_answer(session, key, pair, now):
        return kept
    with _one_build(("answer", *key)):
        return _kept_answer(session, key, pair, now) or _build_answer(session, procedure, office, pair, key, lang, now)


def _kept_answer(session: Session, key: tuple, pair: Pair, now: datetime) -> Answer | None:
    kept = _current(_kept(_answers, key, session), pair, now)
    if kept is None and _shared(session):
        kept = _current(_from_redis(key), pair, now)  # another worker's
        if kept:
            _keep(_answers, key, kept, session)
    return kept


def _build_answer(session: Session, procedure: str, office: str, pair: Pair, key: tuple, lang: str,
                  now: datetime) -> Answer:
    cal = calendar(session, pair, now)
    first = now.astimezone(TZ).date()
    last = min(cal.window.last, first + timedelta(days=MAX_DAYS))
    raw = json.dumps(body(procedure, office, cal.window, list(cal.slots), first, last, lang),
                     ensure_ascii=False, separators=(",", ":")).encode()
    built = Answer(pair.grid, pair.seats, now, cal.valid_until, '"' + hashlib.sha256(raw).hexdigest()[:32] + '"',
                   gzip.compress(raw, compresslevel=6, mtime=0))
    _keep(_answers, key, built, session)
    if _shared(session):
        _to_redis(key, built, now)
    return built


def _shared(session: Session) -> bool:
    """Whether this session may read and keep shared copies: not inside a transaction that changed availability
    (its versions are not committed; were it rolled back, the next commit would reuse them for other data)."""
    return not session.info.get(CHANGED)


def _kept(store: dict, key, session: Session):
    return store.get(key) if _shared(session) else None


def _keep(store: dict, key, value, session: Session) -> None:
    if not _shared(session):
        return
    if len(store) >= KEPT and key not in store:
        store.clear()
    store[key] = value


def _redis_key(key: tuple) -> str:
    # v2: days count free times and the answer names its earliest (issue 22); answers kept before are not read.
    return "cita:availability:v2:" + ":".join(map(str, key))


def _from_redis(key: tuple) -> Answer | None:
    client = db.redis()
    if client is None:
        return None
    try:
        stored = client.get(_redis_key(key))
    except Exception as exc:  # noqa: BLE001 - Redis down: this worker builds its own
        log.warning("availability answer not read from Redis: %s", exc)
        return None
    if not stored:
        return None
    head, gz = stored.split(b"\n", 1)
    grid, seats, since, until, etag = json.loads(head)
    return Answer(grid, seats, datetime.fromisoformat(since), datetime.fromisoformat(until), etag, gz)


def _to_redis(key: tuple, built: Answer, now: datetime) -> None:
    client = db.redis()
    if client is None:
        return
    head = json.dumps([built.grid, built.seats, built.since.isoformat(), built.valid_until.isoformat(), built.etag]).encode()
    seconds = max(1, min(86400, int((built.valid_until - now).total_seconds()) + 1))
    try:
        client.set(_redis_key(key), head + b"\n" + built.gz, ex=seconds)
    except Exception as exc:  # noqa: BLE001
        log.warning("availability answer not kept in Redis: %s", exc)
