"""Rate limits per client, with the `limits` library: lookups by tracking code and the Open311 reads are limited,
so a tracking code cannot be guessed by trying and a civic tool polling too fast gets a 429 with Retry-After instead
of a slow server; bookings, holds, push and feedback writes are limited per address, bookings also per person.

Limits are "N/S": at most N hits in any S seconds (a moving window: a burst of N, then one more each time an old
hit leaves the window). One process (the default): counted in memory. Several workers (REDIS_URL set): counted in
Redis, so every worker shares them. If Redis cannot be reached the request is let through: a citizen is never
locked out of their booking or request by an outage. Configured per scope by environment, e.g. CITA_RATE_LOOKUP.
"""

import logging
import math
import os
import time
from functools import cache

from limits import RateLimitItem, RateLimitItemPerSecond
from limits.errors import StorageError
from limits.storage import MemoryStorage, RedisStorage
from limits.strategies import MovingWindowRateLimiter

log = logging.getLogger(__name__)

# booking: per client address; booking_person: per person (keyed document); hold: picked times per address;
# content_import: translation files read back (staff), per address.
DEFAULTS = {"lookup": "30/60", "open311": "60/60", "booking": "10/600", "booking_person": "4/3600", "hold": "30/600",
            "content_import": "20/600"}
PREFIX = "cita:ratelimit"  # Redis keys; tests use their own


def parse(text: str) -> RateLimitItem:
    count, _, seconds = text.partition("/")
    amount, per = int(count), int(seconds or 60)
    if amount < 1 or per <= 0:
        raise ValueError(f"bad rate limit {text!r}: use N/S with N >= 1, S > 0")
    return RateLimitItemPerSecond(amount, per)


def limit_for(scope: str) -> RateLimitItem:
    return parse(os.environ.get(f"CITA_RATE_{scope.upper()}") or DEFAULTS.get(scope, "30/60"))


@cache
def limiter() -> MovingWindowRateLimiter:
    """The process's limiter: in Redis when REDIS_URL is set (several workers), else in memory."""
    url = os.environ.get("REDIS_URL")
    if url:
        storage = RedisStorage(url, key_prefix=PREFIX, wrap_exceptions=True, socket_timeout=0.5,
                               socket_connect_timeout=0.5)
    else:
        storage = MemoryStorage()
    return MovingWindowRateLimiter(storage)


def check(scope: str, client: str, cost: int = 1) -> int:
    """0 when `client` may go on; else the whole seconds to put in Retry-After."""
    limit = limit_for(scope)
    try:
        if limiter().hit(limit, scope, client, cost=max(1, min(int(cost), limit.amount))):
            return 0
        reset_at = limiter().get_window_stats(limit, scope, client).reset_time
    except StorageError as exc:  # Redis down: let the request through rather than lock citizens out
        log.warning("rate limit skipped, Redis unavailable: %s", exc.storage_error)
        return 0
    return max(1, math.ceil(reset_at - time.time()))


def client_ip(headers, peer: str | None) -> str:
    """The client's address. Behind N trusted reverse proxies (CITA_PROXY_HOPS=N), the N-th address from the
    end of X-Forwarded-For, which those proxies appended; never an address the client could write itself."""
    hops = int(os.environ.get("CITA_PROXY_HOPS") or 0)
    if hops > 0:
        forwarded = [p.strip() for p in (headers.get("x-forwarded-for") or "").split(",") if p.strip()]
        if len(forwarded) >= hops:
            return forwarded[-hops]
    return peer or "unknown"
