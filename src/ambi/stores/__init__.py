"""State stores: shared state (cache entries, sessions, rate-limit counters) behind one small
async interface, in process memory or in Redis, chosen by one URL (`store_from_url`).

- `Store`: get / set with TTL and tags / add (set if absent) / delete / incr with expiry
  (atomic) / expire / ttl / tag_stamp + invalidate_tags / clear / close. Values are bytes.
- `MemoryStore`: bounded (entries and bytes), LRU + TTL, thread-safe; one process.
- `RedisStore`: redis-py's asyncio client, a connection pool per event loop, every command
  bounded by a timeout, failing fast for a moment after a connection failure, healing by
  itself; `eval()` runs Lua for atomic operations the interface lacks (rate limiters).

Why not cashews
---------------
cashews 7.6 (suggested by the survey: tags, Redis, stampede locks) was evaluated and is not
used. Measured here (`await cache.get(key)` on a memory backend, 100k calls): 10.9 µs per
call through its `Cache` front end, 3.5 µs on its bare `Memory` backend, 0.2 µs for a dict
lookup behind an async method. A cache hit must cost less than rendering a small JSON
response (issue #11: a hit at >= 0.9x the req/s of `/json`), so its front end cannot be
on the hit path. And what it would bring does not fit:

- its default serializer pickles values: unpickling what a shared Redis hands back lets
  anyone who can write to that Redis run code in every app process. ambi stores bytes;
  the cache and sessions encode JSON;
- with its default `suppress=True`, Redis errors are logged and every command returns
  None: failing open everywhere, also for rate limits and sessions, where it is wrong.
  Here a store raises `StoreError` and each caller decides (the cache fails open);
- its memory backend copies each value on set, walks every key each second in a
  background task, and bounds by entry count only;
- it is one process-global `cache` object configured by `setup()`, with tags registered
  as global key templates; ambi keeps a store per app;
- its stampede lock waits by polling the backend; ambi's cache waits on a future.

What ambi keeps from its design: tag sets in Redis deleted by a script, INCR + PEXPIRE in
one script. The Redis layer is thin on purpose: redis-py does pooling, reconnecting and
the protocol.
"""

from typing import TYPE_CHECKING

from ._base import Store, TagStamp
from ._memory import MemoryStore
from ._url import resolve_store, store_from_url

if TYPE_CHECKING:
    from ._redis import RedisStore

__all__ = ["MemoryStore", "RedisStore", "Store", "TagStamp", "resolve_store", "store_from_url"]


def __getattr__(name: str) -> object:
    # RedisStore needs the `redis` extra: imported when asked for.
    if name == "RedisStore":
        from ._redis import RedisStore

        return RedisStore
    raise AttributeError(f"module 'ambi.stores' has no attribute {name!r}")
