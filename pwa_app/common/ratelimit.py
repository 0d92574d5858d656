"""Rate limits per client, with the `limits` library: lookups by tracking code and the Open311 reads are limited,
so a tracking code cannot be guessed by trying and a civic tool polling too fast gets a 429 with Retry-After instead
of a slow server; bookings, holds, push and feedback writes are limited per address, bookings also per person.

Limits are "N/S": at most N hits in any S seconds (a moving window: a burst of N, then one more each time an old
hit leaves the window). One process (the default): counted in memory. Several workers (REDIS_URL set): counted in
Redis, so every worker shares them. If Redis cannot be reached, each worker counts in its own memory meanwhile
(looser, by the number of workers, but never off: a flood during an outage is still refused) and tries Redis again
after RETRY_REDIS seconds, so an outage costs one short timeout now and then, not one per request. Configured per
scope by environment, e.g. CITA_RATE_LOOKUP.
"""

import contextlib
import logging
import math
import threading
import time
from functools import cache

from limits import RateLimitItem, RateLimitItemPerSecond
from limits.errors import StorageError
from limits.storage import MemoryStorage, RedisStorage
from limits.strategies import FixedWindowRateLimiter, MovingWindowRateLimiter

from pwa_app.settings import get_settings

log = logging.getLogger(__name__)

# booking: bookings made per client address; booking_person: per person (keyed document) -- both count only the
# bookings made (a refused try is given back, see `give_back`); booking_burst: every booking try per address
# (a script's rapid repeats); hold: picked times per address;
# appointment: lookups of a booking by code and verifier per address; verifier_code / verifier_address: wrong
# verifiers per booking code and per address (appointments/access.py); content_import: translation files read back
# (staff), per address.
DEFAULTS = {"lookup": "30/60", "open311": "60/60", "booking": "20/600", "booking_person": "4/3600",
            "booking_burst": "20/60",
            "hold": "30/600", "appointment": "30/60", "verifier_code": "10/3600", "verifier_address": "30/3600",
            # anonymous writes: web requests and Open311 posts per address, Open311 posts per api key; bytes of
            # attachments a day per address and for everyone together (a fixed window: see `spend_bytes`)
            "request": "10/3600", "hold_release": "60/60", "staff_login": "10/60", "open311_post": "10/600",
            "open311_key": "300/3600",
            "upload_bytes": "50000000/86400", "upload_bytes_total": "2000000000/86400", "content_import": "20/600",
            # staff booking, moving and cancelling for people at the counter or on the phone, and searching
            # bookings, per member of staff: a busy desk never meets them, a script on a stolen session does
            "staff_booking": "60/600", "staff_search": "120/600"}
PREFIX = "cita:ratelimit"  # Redis keys; tests use their own
RETRY_REDIS = 5.0  # seconds between attempts to reach Redis again after it failed
_redis_down_until = 0.0  # monotonic time until which the per-process counts are used
# limits' MemoryStorage can give two threads two different locks for one new key (a defaultdict of locks, popped
# on expiry): a burst from one address then got one hit past its limit. In memory, hits take turns here.
_MEMORY_TURN = threading.Lock()


def parse(text: str) -> RateLimitItem:
    count, _, seconds = text.partition("/")
    amount, per = int(count), int(seconds or 60)
    if amount < 1 or per <= 0:
        raise ValueError(f"bad rate limit {text!r}: use N/S with N >= 1, S > 0")
    return RateLimitItemPerSecond(amount, per)


def limit_for(scope: str) -> RateLimitItem:
    return parse(get_settings().rate(scope) or DEFAULTS.get(scope, "30/60"))


@cache
def limiter() -> MovingWindowRateLimiter:
    """The process's limiter: in Redis when REDIS_URL is set (several workers), else in memory."""
    url = get_settings().redis_url
    if url:
        storage = RedisStorage(url, key_prefix=PREFIX, wrap_exceptions=True, socket_timeout=0.5,
                               socket_connect_timeout=0.5)
    else:
        storage = MemoryStorage()
    return MovingWindowRateLimiter(storage)


@cache
def fallback() -> MovingWindowRateLimiter:
    """This process's own counts, used while Redis cannot be reached."""
    return MovingWindowRateLimiter(MemoryStorage())


def degraded() -> bool:
    """True while limits are counted per process because Redis failed (see the health endpoint)."""
    return time.monotonic() < _redis_down_until


def _counted(operation):
    """`operation(limiter)` on the shared limiter, or on this process's own while Redis is unreachable."""
    global _redis_down_until
    if not degraded():
        try:
            return _in_turn(operation, limiter)
        except StorageError as exc:
            _redis_down_until = time.monotonic() + RETRY_REDIS
            log.warning("Redis unreachable, rate limits counted per process for %ss: %s", RETRY_REDIS,
                        exc.storage_error)
    return _in_turn(operation, fallback)


def _in_turn(operation, make):
    """`operation(make())`; in memory one at a time (creating the limiter too: `cache` may build it twice)."""
    in_memory = make is fallback or not get_settings().redis_url
    with _MEMORY_TURN if in_memory else contextlib.nullcontext():
        return operation(make())


def check(scope: str, client: str, cost: int = 1) -> int:
    """Spends `cost` hits: 0 when `client` may go on; else the whole seconds to put in Retry-After."""
    limit = limit_for(scope)
    cost = max(1, min(int(cost), limit.amount))
    return _counted(lambda lim: 0 if lim.hit(limit, scope, client, cost=cost) else _wait(lim, limit, scope, client))


def blocked(scope: str, key: str) -> int:
    """Like `check` without spending anything: for counters of failures, spent only when one happens."""
    limit = limit_for(scope)
    return _counted(lambda lim: 0 if lim.test(limit, scope, key) else _wait(lim, limit, scope, key))


def spend_bytes(scope: str, key: str, amount: int) -> int:
    """Counts `amount` bytes against a quota: 0 when they fit (and are counted), else the seconds to wait. A fixed
    window (one counter per period), since a moving window keeps one entry per unit counted."""
    limit = limit_for(scope)

    def spent(lim) -> int:
        quota = FixedWindowRateLimiter(lim.storage)
        if quota.test(limit, scope, key, cost=amount) and quota.hit(limit, scope, key, cost=amount):
            return 0
        return _wait(quota, limit, scope, key)

    return _counted(spent) if amount > 0 else 0


def spend(scope: str, key: str) -> None:
    """Counts one failure against `key` (see `blocked`)."""
    check(scope, key)


def give_back(scope: str, key: str) -> None:
    """Takes back one hit of `check`: a try that turned out not to count (a booking refused because the time was
    just taken). The newest entry of the moving window goes; which one does not matter, they all count the same."""
    limit = limit_for(scope)
    _counted(lambda lim: _drop_newest(lim.storage, limit.key_for(scope, key)))


def _drop_newest(storage, key: str) -> None:
    if isinstance(storage, RedisStorage):
        storage.get_connection().lpop(storage.prefixed_key(key))  # a moving window is a list, newest first
    elif storage.events.get(key):
        del storage.events[key][0]


def _wait(lim, limit: RateLimitItem, scope: str, key: str) -> int:
    reset_at = lim.get_window_stats(limit, scope, key).reset_time
    return max(1, math.ceil(reset_at - time.time()))
