"""Buckets in Redis, shared by every worker process and host that uses the same server.

Each request is ONE round trip: an atomic Lua script (EVALSHA; the script is loaded on
first use and again after a Redis restart) that decides, updates the bucket and returns
what the response headers need: allowed, remaining, reset and retry-after. The scripts
make the same decisions as pyrate-limiter's policies used in-process (`_memory`), with
the same integer arithmetic; `tests/ratelimit/test_redis.py` checks both on the same
arrival sequences. Time comes from the worker (milliseconds since the epoch), as in
pyrate-limiter's own Redis buckets: hosts sharing a limit need synchronised clocks.

Redis is reached through `ambi.stores.RedisStore` (redis-py's asyncio client, pooled per
event loop): nothing blocks the loop, and a limit given the app's store
(`storage=store`) shares its connection pool with the cache and sessions. Every call is
bounded by the limit's `timeout`; when Redis cannot be reached the limiter answers by its
`failure_mode` at once for the next second (no request waits on a Redis known to be
down) and logs the outage once, and its end.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from typing import Any

from ..exceptions import StoreError
from ..stores._redis import RedisStore
from ._config import RateLimitConfig
from ._memory import Outcome, rate_of

__all__ = ["RedisBackend", "RedisLimiter", "StorageUnavailable"]

logger = logging.getLogger("ambi.ratelimit")

RETRY_AFTER_FAILURE = 1.0  # seconds during which a failed Redis is not asked again

# KEYS[1] the bucket; ARGV: now (ms), emission interval (µs), burst.
# The state is the theoretical arrival time (µs), as pyrate-limiter's GCRA/TokenBucket.
TOKEN_BUCKET = """
local now = tonumber(ARGV[1]) * 1000
local emission = tonumber(ARGV[2])
local burst = tonumber(ARGV[3])
local tat = tonumber(redis.call('GET', KEYS[1]) or '0')
if tat < now then tat = now end
local new_tat = tat + emission
local allow_at = new_tat - burst * emission
if allow_at > now then
    local owed = math.ceil((tat - now) / emission)
    return {0, burst - owed, math.ceil((tat - now) / 1000), math.ceil((allow_at - now) / 1000)}
end
local reset = math.ceil((new_tat - now) / 1000)
redis.call('SET', KEYS[1], string.format('%.0f', new_tat), 'PX', reset + 1)
return {1, burst - math.ceil((new_tat - now) / emission), reset, 0}
"""

# KEYS[1] the counter of the current window; ARGV: limit, ms until the window ends.
FIXED_WINDOW = """
local limit = tonumber(ARGV[1])
local reset = tonumber(ARGV[2])
local count = tonumber(redis.call('GET', KEYS[1]) or '0')
if count + 1 > limit then
    return {0, math.max(0, limit - count), reset, reset}
end
count = redis.call('INCR', KEYS[1])
if count == 1 then redis.call('PEXPIRE', KEYS[1], reset) end
return {1, limit - count, reset, 0}
"""

# KEYS[1] a sorted set of request times; ARGV: now (ms), window (ms), limit, a unique member.
SLIDING_WINDOW = """
local now = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local limit = tonumber(ARGV[3])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', '(' .. (now - window))
local count = redis.call('ZCARD', KEYS[1])
if count >= limit then
    local blocking = redis.call('ZRANGE', KEYS[1], count - limit, count - limit, 'WITHSCORES')
    local newest = redis.call('ZRANGE', KEYS[1], -1, -1, 'WITHSCORES')
    local retry = tonumber(blocking[2]) + window - now + 1
    return {0, 0, tonumber(newest[2]) + window - now + 1, retry}
end
redis.call('ZADD', KEYS[1], now, ARGV[4])
redis.call('PEXPIRE', KEYS[1], window + 1)
return {1, limit - count - 1, window + 1, 0}
"""


class StorageUnavailable(Exception):
    """Redis did not answer in time (or refused): the limit's failure mode applies."""


class RedisBackend:
    """One Redis server as used by an app's limits: an `ambi.stores.RedisStore` (the app's
    own, shared with its cache and sessions, when the limit names that store; else one
    made for the limit's URL), the outage state and its log lines.

    The store does the pooling (a pool per event loop), the EVALSHA with its reload after
    a Redis restart, and the per-command timeout; the backend adds the limit's own
    `timeout` over the whole call and remembers an outage for `RETRY_AFTER_FAILURE`
    seconds so that no request waits on a Redis known to be down.
    """

    def __init__(self, store: RedisStore, timeout: float, *, owned: bool = False) -> None:
        self.store = store
        self.timeout = timeout
        self.owned = owned  # made for this app's limits: closed with the app
        self._down_until = 0.0

    @classmethod
    def for_url(cls, url: str, timeout: float) -> RedisBackend:
        """A backend on a store of its own for `url` (keys unprefixed: limits carry their
        own `prefix`)."""
        store = RedisStore(url, prefix="", timeout=timeout, retry_interval=RETRY_AFTER_FAILURE)
        return cls(store, timeout, owned=True)

    @property
    def url(self) -> str:
        return self.store.where

    async def run(self, lua: str, key: str, args: list[Any]) -> list[int]:
        """Run `lua` on `key`; `StorageUnavailable` when Redis fails or is slower than
        the backend's timeout."""
        if self._down_until and time.monotonic() < self._down_until:
            raise StorageUnavailable(self.url)
        try:
            async with asyncio.timeout(self.timeout):
                reply: list[int] = await self.store.eval(lua, [key], args)
        except (StoreError, TimeoutError) as exc:
            if not self._down_until:
                logger.warning(
                    "rate limit storage %s unreachable (%s); applying the failure mode",
                    self.url,
                    exc,
                )
            self._down_until = time.monotonic() + RETRY_AFTER_FAILURE
            raise StorageUnavailable(self.url) from exc
        if self._down_until:
            logger.warning("rate limit storage %s reachable again", self.url)
            self._down_until = 0.0
        return reply

    async def close(self) -> None:
        if self.owned:
            await self.store.close()


class RedisLimiter:
    """One limit's buckets in Redis: `await hit(key)` counts a request."""

    __slots__ = ("_args", "_lua", "backend", "config", "namespace", "rate")

    def __init__(self, config: RateLimitConfig, backend: RedisBackend, scope: str) -> None:
        self.config = config
        self.backend = backend
        self.rate = rate = rate_of(config)
        self.namespace = f"{config.prefix}:{config.fingerprint}:{scope}:"
        if config.algorithm == "token_bucket":
            emission_us = -(-rate.interval * 1000 // rate.limit)  # as pyrate's GCRA: rounded up
            self._lua, self._args = TOKEN_BUCKET, [emission_us, rate.burst]
        elif config.algorithm == "fixed_window":
            self._lua, self._args = FIXED_WINDOW, [rate.limit]
        else:
            self._lua, self._args = SLIDING_WINDOW, [rate.interval, rate.limit]

    async def hit(self, key: str, now: int | None = None) -> Outcome:
        """Count a request of `key` (at `now`, ms since the epoch; tests pass it)."""
        if now is None:
            now = time.time_ns() // 1_000_000
        algorithm = self.config.algorithm
        name = self.namespace + key
        args: list[Any]
        if algorithm == "token_bucket":
            args = [now, *self._args]
        elif algorithm == "fixed_window":
            start = now - now % self.rate.interval
            name = f"{name}:{start}"
            args = [*self._args, start + self.rate.interval - now]
        else:
            args = [now, *self._args, f"{now}:{os.urandom(6).hex()}"]
        allowed, remaining, reset, retry = await self.backend.run(self._lua, name, args)
        return Outcome(bool(allowed), max(0, int(remaining)), int(reset), int(retry))
