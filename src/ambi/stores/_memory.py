"""`MemoryStore`: a bounded LRU + TTL store in process memory."""

from __future__ import annotations

import math
import threading
import time
from collections import OrderedDict
from collections.abc import Sequence

from ._base import Store, TagStamp, check_ttl

#: Rough per-entry cost beyond key and value (the entry object, dict slot, tag links).
ENTRY_OVERHEAD = 100


class _Entry:
    __slots__ = ("expires", "size", "tags", "value")

    def __init__(
        self, value: bytes, expires: float | None, tags: tuple[str, ...], size: int
    ) -> None:
        self.value = value
        self.expires = expires
        self.tags = tags
        self.size = size


class MemoryStore(Store):
    """Entries in this process only, least recently used evicted first.

    Bounded by `max_entries` and by `max_bytes` (keys + values + about 100 bytes each);
    an entry larger than `max_bytes` alone is not kept. Expired entries are dropped when
    touched and pushed out by eviction: no background task. Thread-safe (one lock), so
    sync code in other threads may use the `*_now` methods directly.

    Evicting is what a cache does; sessions kept here are lost on eviction and on restart,
    and are not shared between worker processes (use a Redis store for those).
    """

    def __init__(self, max_entries: int = 10_000, max_bytes: int = 64 * 1024 * 1024) -> None:
        for name, value in (("max_entries", max_entries), ("max_bytes", max_bytes)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be a positive integer, not {value!r}")
        self.max_entries = max_entries
        self.max_bytes = max_bytes
        self._data: OrderedDict[str, _Entry] = OrderedDict()
        self._tags: dict[str, set[str]] = {}
        self._versions: dict[str, int] = {}
        self._epoch = 0  # bumped by clear(): every stamp taken before it goes stale
        self._bytes = 0
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"MemoryStore(max_entries={self.max_entries}, max_bytes={self.max_bytes})"

    @property
    def entries(self) -> int:
        """How many entries it holds now (expired ones included until touched)."""
        return len(self._data)

    @property
    def size_bytes(self) -> int:
        """The bytes accounted for the entries held now."""
        return self._bytes

    # The work, synchronously (under the lock) ----------------------------------------------

    def _live(self, key: str, now: float) -> _Entry | None:
        entry = self._data.get(key)
        if entry is not None and entry.expires is not None and entry.expires <= now:
            self._remove(key, entry)
            return None
        return entry

    def _remove(self, key: str, entry: _Entry) -> None:
        del self._data[key]
        self._bytes -= entry.size
        for tag in entry.tags:
            keys = self._tags.get(tag)
            if keys is not None:
                keys.discard(key)
                if not keys:
                    del self._tags[tag]

    def _put(self, key: str, value: bytes, expires: float | None, tags: tuple[str, ...]) -> None:
        old = self._data.get(key)
        if old is not None:
            self._remove(key, old)
        size = len(key) + len(value) + ENTRY_OVERHEAD
        if size > self.max_bytes:
            return  # larger than the whole store: not kept
        self._data[key] = _Entry(value, expires, tags, size)
        self._bytes += size
        for tag in tags:
            self._tags.setdefault(tag, set()).add(key)
        self._evict()

    def _evict(self) -> None:
        data = self._data
        while len(data) > self.max_entries or self._bytes > self.max_bytes:
            key, entry = next(iter(data.items()))
            self._remove(key, entry)

    def get_now(self, key: str) -> bytes | None:
        """`get`, for sync callers."""
        with self._lock:
            entry = self._live(key, time.monotonic())
            if entry is None:
                return None
            self._data.move_to_end(key)
            return entry.value

    def set_now(
        self,
        key: str,
        value: bytes,
        ttl: float | None = None,
        *,
        tags: Sequence[str] = (),
        stamp: TagStamp | None = None,
    ) -> bool:
        """`set`, for sync callers."""
        check_ttl(ttl)
        if not isinstance(value, bytes):
            raise TypeError(f"store values are bytes, not {type(value).__name__}")
        now = time.monotonic()
        with self._lock:
            if stamp is not None and stamp != self._stamp(tags):
                return False
            self._put(key, value, None if ttl is None else now + ttl, tuple(tags))
            return True

    def _stamp(self, tags: Sequence[str]) -> TagStamp:
        versions = self._versions
        return (self._epoch, *(versions.get(tag, 0) for tag in tags))

    def tag_stamp_now(self, tags: Sequence[str]) -> TagStamp:
        """`tag_stamp`, for sync callers."""
        with self._lock:
            return self._stamp(tags)

    def invalidate_tags_now(self, tags: Sequence[str]) -> int:
        """`invalidate_tags`, for sync callers."""
        removed = 0
        with self._lock:
            for tag in tags:
                self._versions[tag] = self._versions.get(tag, 0) + 1
                for key in list(self._tags.get(tag, ())):
                    self._remove(key, self._data[key])
                    removed += 1
        return removed

    # The Store interface -------------------------------------------------------------------

    async def get(self, key: str) -> bytes | None:
        return self.get_now(key)

    async def set(
        self,
        key: str,
        value: bytes,
        ttl: float | None = None,
        *,
        tags: Sequence[str] = (),
        stamp: TagStamp | None = None,
    ) -> bool:
        return self.set_now(key, value, ttl, tags=tags, stamp=stamp)

    async def add(self, key: str, value: bytes, ttl: float | None = None) -> bool:
        check_ttl(ttl)
        now = time.monotonic()
        with self._lock:
            if self._live(key, now) is not None:
                return False
            self._put(key, value, None if ttl is None else now + ttl, ())
            return True

    async def delete(self, *keys: str) -> int:
        deleted = 0
        now = time.monotonic()
        with self._lock:
            for key in keys:
                entry = self._live(key, now)
                if entry is not None:
                    self._remove(key, entry)
                    deleted += 1
        return deleted

    async def incr(self, key: str, amount: int = 1, ttl: float | None = None) -> int:
        check_ttl(ttl)
        now = time.monotonic()
        with self._lock:
            entry = self._live(key, now)
            value = amount
            expires: float | None = None
            tags: tuple[str, ...] = ()
            if entry is not None:
                try:
                    value = int(entry.value) + amount
                except ValueError:
                    raise ValueError(f"the value at {key!r} is not an integer") from None
                expires, tags = entry.expires, entry.tags
            if expires is None and ttl is not None:
                expires = now + ttl
            self._put(key, str(value).encode(), expires, tags)
            return value

    async def expire(self, key: str, ttl: float) -> bool:
        check_ttl(ttl)
        now = time.monotonic()
        with self._lock:
            entry = self._live(key, now)
            if entry is None:
                return False
            entry.expires = now + ttl
            return True

    async def ttl(self, key: str) -> float | None:
        now = time.monotonic()
        with self._lock:
            entry = self._live(key, now)
            if entry is None:
                return None
            return math.inf if entry.expires is None else entry.expires - now

    async def tag_stamp(self, tags: Sequence[str]) -> TagStamp:
        return self.tag_stamp_now(tags)

    async def invalidate_tags(self, tags: Sequence[str]) -> int:
        return self.invalidate_tags_now(tags)

    async def clear(self) -> None:
        with self._lock:
            self._data.clear()
            self._tags.clear()
            self._bytes = 0
            self._epoch += 1  # a value computed before the clear is not stored after it
