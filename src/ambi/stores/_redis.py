"""`RedisStore`: a store on redis-py's asyncio client, shared by every process using it."""

from __future__ import annotations

import asyncio
import hashlib
import logging
import math
import time
import weakref
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, TypeVar
from urllib.parse import urlsplit

from redis.asyncio import BlockingConnectionPool, Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import NoScriptError, RedisError, ResponseError

from ..exceptions import ConfigurationError, StoreError
from ._base import Store, TagStamp, check_ttl

logger = logging.getLogger("ambi.stores")
T = TypeVar("T")

# KEYS: the entry, n tag sets, n tag versions. ARGV: value, ttl ms (0: none), "1" when the
# stamp is checked, the n stamped versions.
_SET_TAGGED = """
local n = (#KEYS - 1) / 2
if ARGV[3] == '1' then
  for i = 1, n do
    if (redis.call('GET', KEYS[1 + n + i]) or '0') ~= ARGV[3 + i] then return 0 end
  end
end
local ttl = tonumber(ARGV[2])
if ttl > 0 then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ttl)
else
  redis.call('SET', KEYS[1], ARGV[1])
end
for i = 1, n do
  local tagset = KEYS[1 + i]
  local left = redis.call('PTTL', tagset)
  redis.call('SADD', tagset, KEYS[1])
  if ttl == 0 then
    redis.call('PERSIST', tagset)
  elseif left == -2 or (left >= 0 and left < ttl) then
    redis.call('PEXPIRE', tagset, ttl)
  end
end
return 1
"""

# KEYS: n tag sets, then their n versions.
_INVALIDATE = """
local n = #KEYS / 2
local removed = 0
for i = 1, n do
  local members = redis.call('SMEMBERS', KEYS[i])
  for j = 1, #members, 500 do
    removed = removed + redis.call('DEL', unpack(members, j, math.min(j + 499, #members)))
  end
  redis.call('DEL', KEYS[i])
  redis.call('INCR', KEYS[n + i])
end
return removed
"""

# KEYS: the counter. ARGV: amount, ttl ms (0: none).
_INCR = """
local value = redis.call('INCRBY', KEYS[1], ARGV[1])
local ttl = tonumber(ARGV[2])
if ttl > 0 and redis.call('PTTL', KEYS[1]) == -1 then
  redis.call('PEXPIRE', KEYS[1], ttl)
end
return value
"""


def _ms(ttl: float | None) -> int:
    return 0 if ttl is None else max(1, math.ceil(ttl * 1000))


def _glob_escape(text: str) -> str:
    return "".join("\\" + ch if ch in "*?[]\\" else ch for ch in text)


class RedisStore(Store):
    """Entries in Redis: shared by every process and host that uses the same server.

    `RedisStore("redis://127.0.0.1:6379/0", prefix="ambi:")`. Every key is put under
    `prefix` (so `clear()` removes only this store's keys, and two apps on one Redis keep
    apart with two prefixes); `_tags:` and `_tagv:` under it are this store's own.

    Bounded in time: each command is given `timeout` seconds (connecting, waiting for a
    pooled connection, the round trip), else `StoreError`. After a connection failure the
    store answers `StoreError` at once for `retry_interval` seconds instead of making every
    caller wait out the timeout, then tries again; going down and coming back are logged
    (logger `ambi.stores`). Pooled connections are checked after 30 s idle and a failed
    command is retried once on a fresh connection, so a Redis restart heals by itself.

    redis-py's connections belong to an event loop: the store keeps one pool per loop,
    made on first use there; `close()` releases the running loop's (the apps using a
    store call it at shutdown). Not for Redis Cluster (tag invalidation runs one script
    over keys it finds in a set).
    """

    def __init__(
        self,
        url: str = "redis://127.0.0.1:6379/0",
        *,
        prefix: str = "ambi:",
        timeout: float = 0.5,
        max_connections: int = 50,
        retry_interval: float = 1.0,
        **redis_options: Any,
    ) -> None:
        check_ttl(timeout, "timeout")
        check_ttl(retry_interval, "retry_interval")
        if not isinstance(max_connections, int) or max_connections < 1:
            raise ConfigurationError(f"max_connections must be >= 1, not {max_connections!r}")
        self.url = url
        self.prefix = prefix
        self.timeout = timeout
        self.retry_interval = retry_interval
        parts = urlsplit(url)
        self.where = f"{parts.scheme}://{parts.hostname or parts.path}" + (
            f":{parts.port}" if parts.port else ""
        )
        self._pool_options: dict[str, Any] = {
            "max_connections": max_connections,
            "timeout": timeout,  # waiting for a free pooled connection
            "socket_timeout": timeout,
            "socket_connect_timeout": timeout,
            "health_check_interval": 30,
            "retry": Retry(NoBackoff(), 1),
            **redis_options,
        }
        try:  # unknown options fail here, not at the first command
            BlockingConnectionPool.from_url(url, **self._pool_options).make_connection()  # type: ignore[no-untyped-call]
        except (TypeError, ValueError) as exc:
            raise ConfigurationError(f"cannot use Redis URL {self.where!r}: {exc}") from exc
        self._clients: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, Redis] = (
            weakref.WeakKeyDictionary()
        )
        self._shas: dict[str, str] = {}
        self._down_until = 0.0
        self._down = False

    def __repr__(self) -> str:
        return f"RedisStore({self.where!r}, prefix={self.prefix!r})"

    def key(self, name: str) -> str:
        """The Redis key that `name` is stored at."""
        return self.prefix + name

    def client(self) -> Redis:
        """The running loop's client (its keys are not prefixed: see `key()`), for what the
        interface does not cover; `eval()` is the usual way out."""
        loop = asyncio.get_running_loop()
        client = self._clients.get(loop)
        if client is None:
            pool = BlockingConnectionPool.from_url(self.url, **self._pool_options)
            client = self._clients[loop] = Redis.from_pool(pool)
        return client

    async def close(self) -> None:
        client = self._clients.pop(asyncio.get_running_loop(), None)
        if client is not None:
            await client.aclose()

    # Running a command: timeout, failure accounting ---------------------------------------

    async def _run(self, what: str, call: Callable[[Redis], Awaitable[T]]) -> T:
        if self._down and time.monotonic() < self._down_until:
            raise StoreError(
                f"Redis at {self.where} is unavailable; next try in "
                f"{self._down_until - time.monotonic():.1f} s"
            )
        client = self.client()
        try:
            async with asyncio.timeout(self.timeout):
                result = await call(client)
        except ResponseError as exc:
            raise StoreError(f"Redis at {self.where} refused {what}: {exc}") from exc
        except (RedisError, OSError, TimeoutError) as exc:
            self._failed(what, exc)
            raise StoreError(f"Redis at {self.where} failed {what}: {exc!r}") from exc
        if self._down:
            self._down = False
            logger.warning("Redis at %s is reachable again", self.where)
        return result

    def _failed(self, what: str, exc: BaseException) -> None:
        self._down_until = time.monotonic() + self.retry_interval
        if not self._down:
            self._down = True
            logger.error(
                "Redis at %s unavailable (%s: %r); failing fast for %.1f s between tries",
                self.where,
                what,
                exc,
                self.retry_interval,
            )

    async def _script(
        self, client: Redis, script: str, keys: Sequence[str], args: Sequence[Any]
    ) -> Any:
        sha = self._shas.get(script)
        if sha is None:
            digest = hashlib.sha1(script.encode(), usedforsecurity=False)
            sha = self._shas[script] = digest.hexdigest()
        try:
            return await client.evalsha(sha, len(keys), *keys, *args)
        except NoScriptError:
            return await client.eval(script, len(keys), *keys, *args)

    async def eval(self, script: str, keys: Sequence[str] = (), args: Sequence[Any] = ()) -> Any:
        """Run a Lua `script` atomically (EVALSHA, loading it when Redis lacks it), with
        `keys` put under the prefix: the way to atomic operations the interface lacks."""
        full = [self.prefix + k for k in keys]
        return await self._run("EVAL", lambda c: self._script(c, script, full, args))

    # The Store interface -------------------------------------------------------------------

    async def get(self, key: str) -> bytes | None:
        full = self.prefix + key
        value = await self._run("GET", lambda c: c.get(full))
        return value if value is None or isinstance(value, bytes) else value.encode()

    async def set(
        self,
        key: str,
        value: bytes,
        ttl: float | None = None,
        *,
        tags: Sequence[str] = (),
        stamp: TagStamp | None = None,
    ) -> bool:
        check_ttl(ttl)
        full, ms = self.prefix + key, _ms(ttl)
        if not tags and stamp is None:
            await self._run("SET", lambda c: c.set(full, value, px=ms or None))
            return True
        if stamp is not None and len(stamp) != len(tags):
            raise ValueError("stamp does not come from tag_stamp(tags) for these tags")
        keys = [full, *(self._tagset(t) for t in tags), *(self._version(t) for t in tags)]
        args = [value, ms, "0" if stamp is None else "1", *(str(v) for v in stamp or ())]
        done = await self._run("SET", lambda c: self._script(c, _SET_TAGGED, keys, args))
        return bool(done)

    async def add(self, key: str, value: bytes, ttl: float | None = None) -> bool:
        check_ttl(ttl)
        full, ms = self.prefix + key, _ms(ttl)
        done = await self._run("SET NX", lambda c: c.set(full, value, px=ms or None, nx=True))
        return bool(done)

    async def delete(self, *keys: str) -> int:
        if not keys:
            return 0
        full = [self.prefix + k for k in keys]
        return int(await self._run("DEL", lambda c: c.delete(*full)))

    async def incr(self, key: str, amount: int = 1, ttl: float | None = None) -> int:
        check_ttl(ttl)
        keys, args = [self.prefix + key], [amount, _ms(ttl)]
        return int(await self._run("INCRBY", lambda c: self._script(c, _INCR, keys, args)))

    async def expire(self, key: str, ttl: float) -> bool:
        check_ttl(ttl)
        full, ms = self.prefix + key, _ms(ttl)
        return bool(await self._run("PEXPIRE", lambda c: c.pexpire(full, ms)))

    async def ttl(self, key: str) -> float | None:
        full = self.prefix + key
        left = int(await self._run("PTTL", lambda c: c.pttl(full)))
        if left == -2:
            return None
        return math.inf if left == -1 else left / 1000

    def _tagset(self, tag: str) -> str:
        return f"{self.prefix}_tags:{tag}"

    def _version(self, tag: str) -> str:
        return f"{self.prefix}_tagv:{tag}"

    async def tag_stamp(self, tags: Sequence[str]) -> TagStamp:
        if not tags:
            return ()
        keys = [self._version(t) for t in tags]
        values = await self._run("MGET", lambda c: c.mget(keys))
        return tuple(int(v or 0) for v in values)

    async def invalidate_tags(self, tags: Sequence[str]) -> int:
        if not tags:
            return 0
        keys = [*(self._tagset(t) for t in tags), *(self._version(t) for t in tags)]
        return int(await self._run("invalidate", lambda c: self._script(c, _INVALIDATE, keys, ())))

    async def clear(self) -> None:
        if not self.prefix:
            raise ConfigurationError("clear() on a RedisStore without a prefix would empty the db")
        pattern = _glob_escape(self.prefix) + "*"

        async def clear_all(client: Redis) -> None:
            batch: list[bytes] = []
            async for key in client.scan_iter(match=pattern, count=500):
                batch.append(key)
                if len(batch) == 500:
                    await client.unlink(*batch)
                    batch = []
            if batch:
                await client.unlink(*batch)

        await self._run("SCAN/UNLINK", clear_all)
