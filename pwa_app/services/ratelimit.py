"""Token buckets per client: lookups by tracking code and the Open311 reads are limited, so a tracking code
cannot be guessed by trying, and a civic tool polling too fast gets a 429 with Retry-After instead of a slow
server.

One process (the default): the buckets live in memory. Several workers (REDIS_URL set): the buckets live in
Redis, updated by one Lua script (atomic, on Redis' own clock), so every worker shares them. If Redis cannot be
reached the request is let through: a citizen is never locked out of their request by an outage.

Limits are "N/S": a bucket of N tokens refilled at N per S seconds (a burst of N, then N per S on average).
Configured per scope by environment: CITA_RATE_LOOKUP (default 30/60), CITA_RATE_OPEN311 (default 60/60).
"""

import logging
import math
import os
import threading
import time
from dataclasses import dataclass
from functools import cache

log = logging.getLogger(__name__)

# booking: per client address; booking_person: per person (keyed document); hold: picked times per address.
DEFAULTS = {"lookup": "30/60", "open311": "60/60", "booking": "10/600", "booking_person": "4/3600", "hold": "30/600"}
MAX_KEYS = 50_000  # in-memory buckets kept before full (idle) ones are dropped


@dataclass(frozen=True)
class Limit:
    capacity: float
    per_seconds: float

    @property
    def rate(self) -> float:
        return self.capacity / self.per_seconds

    @classmethod
    def parse(cls, text: str) -> "Limit":
        count, _, seconds = text.partition("/")
        limit = cls(float(count), float(seconds or 60))
        if limit.capacity < 1 or limit.per_seconds <= 0:
            raise ValueError(f"bad rate limit {text!r}: use N/S with N >= 1, S > 0")
        return limit


def limit_for(scope: str) -> Limit:
    return Limit.parse(os.environ.get(f"CITA_RATE_{scope.upper()}") or DEFAULTS.get(scope, "30/60"))


class MemoryBuckets:
    """Buckets in this process's memory."""

    def __init__(self, clock=time.monotonic):
        self.clock = clock
        self.buckets: dict[str, tuple[float, float]] = {}  # key -> (tokens, at)
        self.lock = threading.Lock()

    def take(self, key: str, limit: Limit, cost: float = 1) -> float:
        """Takes `cost` tokens; returns 0 when allowed, else the seconds to wait before it would be."""
        with self.lock:
            now = self.clock()
            tokens, at = self.buckets.get(key, (limit.capacity, now))
            tokens = min(limit.capacity, tokens + max(0.0, now - at) * limit.rate)
            wait = 0.0
            if tokens >= cost:
                tokens -= cost
            else:
                wait = (cost - tokens) / limit.rate
            self.buckets[key] = (tokens, now)
            if len(self.buckets) > MAX_KEYS:
                self._prune(now, limit)
            return wait

    def _prune(self, now: float, limit: Limit) -> None:
        full = [k for k, (t, at) in self.buckets.items() if t + (now - at) * limit.rate >= limit.capacity]
        for k in full:
            del self.buckets[k]

    def reset(self) -> None:
        with self.lock:
            self.buckets.clear()


# KEYS[1] bucket; ARGV capacity, rate per second, cost. Redis' clock, so workers on several hosts agree.
_LUA = """
local capacity, rate, cost = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local data = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = tonumber(data[1]) or capacity
local at = tonumber(data[2]) or now
tokens = math.min(capacity, tokens + math.max(0, now - at) * rate)
local wait = 0
if tokens >= cost then tokens = tokens - cost else wait = (cost - tokens) / rate end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'at', tostring(now))
redis.call('EXPIRE', KEYS[1], math.ceil(capacity / rate) + 1)
return tostring(wait)
"""


class RedisBuckets:
    """Buckets in Redis, shared by every worker."""

    def __init__(self, client, prefix: str = "cita:ratelimit:"):
        self.client, self.prefix = client, prefix
        self.script = client.register_script(_LUA)

    def take(self, key: str, limit: Limit, cost: float = 1) -> float:
        try:
            return float(self.script(keys=[self.prefix + key], args=[limit.capacity, limit.rate, cost]))
        except Exception as exc:  # Redis down: let the request through rather than lock citizens out
            log.warning("rate limit skipped, Redis unavailable: %s", exc)
            return 0.0


@cache
def buckets():
    """The process's buckets: in Redis when REDIS_URL is set (several workers), else in memory."""
    url = os.environ.get("REDIS_URL")
    if url:
        import redis

        return RedisBuckets(redis.Redis.from_url(url, socket_timeout=0.5, socket_connect_timeout=0.5))
    return MemoryBuckets()


def check(scope: str, client: str, cost: float = 1) -> int:
    """0 when `client` may go on; else the whole seconds to put in Retry-After."""
    limit = limit_for(scope)
    wait = buckets().take(f"{scope}:{client}", limit, min(cost, limit.capacity))
    return math.ceil(wait) if wait > 0 else 0


def client_ip(headers, peer: str | None) -> str:
    """The client's address. Behind N trusted reverse proxies (CITA_PROXY_HOPS=N), the N-th address from the
    end of X-Forwarded-For, which those proxies appended; never an address the client could write itself."""
    hops = int(os.environ.get("CITA_PROXY_HOPS") or 0)
    if hops > 0:
        forwarded = [p.strip() for p in (headers.get("x-forwarded-for") or "").split(",") if p.strip()]
        if len(forwarded) >= hops:
            return forwarded[-hops]
    return peer or "unknown"
