"""The store interface: what the cache, sessions and rate limits ask of shared state."""

from __future__ import annotations

import abc
from collections.abc import Sequence

#: What `tag_stamp` gives: one version per tag, compared again by `set(..., stamp=)`.
TagStamp = tuple[int, ...]


class Store(abc.ABC):
    """An async key -> bytes store with expiry, atomic counters and tags.

    Values are bytes: callers encode (JSON), so nothing that a shared store hands back is
    ever unpickled. Times are seconds (floats allowed); `ttl=None` means no expiry.

    Tags group keys for invalidation: `set(key, value, tags=["items"])`, then
    `invalidate_tags(["items"])` deletes every key set with that tag. A value computed while
    one of its tags is invalidated must not be stored afterwards (it may predate the
    write that caused the invalidation): take `stamp = await tag_stamp(tags)` before
    computing and pass `set(..., stamp=stamp)`; the set is then refused (False) if any of
    the tags was invalidated in between.

    Every method may raise `ambi.StoreError` when the store is unreachable or refuses the
    command; the in-memory store never does.
    """

    @abc.abstractmethod
    async def get(self, key: str) -> bytes | None:
        """The value at `key`, or None when it is absent or expired."""

    @abc.abstractmethod
    async def set(
        self,
        key: str,
        value: bytes,
        ttl: float | None = None,
        *,
        tags: Sequence[str] = (),
        stamp: TagStamp | None = None,
    ) -> bool:
        """Store `value` at `key` for `ttl` seconds, under `tags`. False when `stamp` (from
        `tag_stamp(tags)`) is stale: a tag was invalidated since, nothing was stored."""

    @abc.abstractmethod
    async def add(self, key: str, value: bytes, ttl: float | None = None) -> bool:
        """Store `value` only if `key` is absent (a lock, a first writer); True if stored."""

    @abc.abstractmethod
    async def delete(self, *keys: str) -> int:
        """Delete `keys`; how many existed."""

    @abc.abstractmethod
    async def incr(self, key: str, amount: int = 1, ttl: float | None = None) -> int:
        """Add `amount` to the integer at `key` (absent: 0) atomically and return the new
        value. `ttl` is applied when the key has no expiry yet, so a counter made by the
        first `incr` of a window expires with that window (fixed-window rate limits)."""

    @abc.abstractmethod
    async def expire(self, key: str, ttl: float) -> bool:
        """Let `key` expire `ttl` seconds from now; False when it does not exist."""

    @abc.abstractmethod
    async def ttl(self, key: str) -> float | None:
        """Seconds `key` has left: None when absent, `math.inf` when it never expires."""

    @abc.abstractmethod
    async def tag_stamp(self, tags: Sequence[str]) -> TagStamp:
        """The current versions of `tags`, for `set(..., stamp=)`."""

    @abc.abstractmethod
    async def invalidate_tags(self, tags: Sequence[str]) -> int:
        """Delete every key set under any of `tags` (and bump their versions); how many
        keys were deleted."""

    @abc.abstractmethod
    async def clear(self) -> None:
        """Delete everything this store holds (a Redis store: the keys under its prefix)."""

    async def close(self) -> None:  # noqa: B027 - optional hook, nothing to release by default
        """Release connections made on the running loop (the store stays usable)."""


def check_ttl(ttl: float | None, what: str = "ttl") -> None:
    """Refuse a TTL that is not a positive number (None means no expiry)."""
    if ttl is not None and (isinstance(ttl, bool) or not ttl > 0):
        raise ValueError(f"{what} must be a positive number of seconds or None, not {ttl!r}")
