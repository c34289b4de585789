"""`Broadcast`: the front every backend sits behind, and the URL that picks the backend."""

from __future__ import annotations

import abc
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from ..bridge import smartasync
from ..exceptions import ConfigurationError
from ._subscription import Subscription


class Backend(abc.ABC):
    """Carries messages to the subscriptions: in this process, or through Redis."""

    @abc.abstractmethod
    async def add(self, subscription: Subscription) -> None:
        """Start delivering `subscription.channel` to it (subscribed when this returns)."""

    @abc.abstractmethod
    async def remove(self, subscription: Subscription) -> None:
        """Stop delivering to it."""

    @abc.abstractmethod
    async def publish(self, channel: str, data: bytes) -> None:
        """Send `data` to every subscription of `channel`, wherever it is."""

    @abc.abstractmethod
    async def close(self) -> None:
        """End the subscriptions made on the running loop and release its connections."""


_Parse = Callable[[str], Any]
_REDIS_OPTIONS: Mapping[str, _Parse] = {"prefix": str, "timeout": float}


def _options(url: str, query: str) -> tuple[dict[str, Any], dict[str, str]]:
    rest = dict(parse_qsl(query, keep_blank_values=True))
    taken: dict[str, Any] = {}
    for name, kind in _REDIS_OPTIONS.items():
        if name in rest:
            raw = rest.pop(name)
            try:
                taken[name] = kind(raw)
            except ValueError:
                raise ConfigurationError(f"{url}: {name}={raw!r} is not a valid {name}") from None
    return taken, rest


def backend_from_url(url: str) -> Backend:
    """`memory://` (this process) or `redis://host:port/db` (options `prefix`, `timeout`,
    and redis-py's own URL options); `ConfigurationError` for anything else."""
    if not isinstance(url, str):
        raise ConfigurationError(f"a broadcast URL is a string, not {type(url).__name__}")
    parts = urlsplit(url)
    if parts.scheme == "memory":
        if parts.netloc or parts.path or parts.query:
            raise ConfigurationError(f"{url}: memory:// takes no host, path or options")
        from ._memory import MemoryBackend

        return MemoryBackend()
    if parts.scheme in ("redis", "rediss", "unix"):
        try:
            from ._redis import RedisBackend
        except ImportError:  # pragma: no cover - the dev environment has the extra
            raise ConfigurationError(
                f"{parts.scheme}:// needs redis-py: pip install 'ambi[redis]'"
            ) from None
        taken, rest = _options(url, parts.query)
        try:
            return RedisBackend(urlunsplit(parts._replace(query=urlencode(rest))), **taken)
        except ValueError as exc:
            raise ConfigurationError(f"{url}: {exc}") from None
    raise ConfigurationError(
        f"unknown broadcast URL {url!r}: use memory:// or redis://host:port/db"
    )


class Broadcast:
    """Publish/subscribe channels: in this process (`memory://`, the default) or shared by
    every process and host using one Redis (`redis://host:port/db`).

        broadcast = Broadcast("redis://10.0.0.1:6379/0")

        await broadcast.publish("room:lobby", '{"text": "hi"}')   # from a def: no await

        async with broadcast.subscribe("room:lobby") as messages:
            async for message in messages:       # Message(channel, data: bytes)
                ...

    Delivery is at most once and in publishing order per publisher: a message reaches the
    subscriptions that exist when it is published; nothing is stored for later. `publish`
    raises `StoreError` when Redis cannot be reached (within `timeout`, 2 s by default);
    so does `subscribe` if the subscription is not confirmed in that time. Subscriptions
    outlive a lost connection: the Redis backend reconnects (backing off up to 2 s) and
    subscribes again, and the messages published meanwhile are lost. Channels are put
    under `prefix` (`ambi:broadcast:` by default) since Redis channels ignore the db.
    `max_queued` bounds each subscription's backlog (see `Subscription`).

    Connections belong to the event loop that made them; `await broadcast.close()` (a
    shutdown hook) ends the running loop's subscriptions and closes its connections.
    """

    def __init__(self, url: str = "memory://", *, max_queued: int = 1000) -> None:
        if isinstance(max_queued, bool) or not isinstance(max_queued, int) or max_queued < 1:
            raise ConfigurationError(f"max_queued must be a whole number >= 1, not {max_queued!r}")
        self.url = url
        self.max_queued = max_queued
        self._backend = backend_from_url(url)

    def subscribe(self, channel: str) -> Subscription:
        """The messages of `channel`, as an async context manager and iterator."""
        return Subscription(self._backend, _check(channel), self.max_queued)

    @smartasync
    async def publish(self, channel: str, data: str | bytes) -> None:
        """Send `data` to every subscription of `channel` (awaited in async code, called
        plainly in sync code)."""
        if isinstance(data, str):
            data = data.encode()
        elif not isinstance(data, bytes | bytearray | memoryview):
            raise TypeError(f"publish() sends str or bytes, not {type(data).__name__}")
        await self._backend.publish(_check(channel), bytes(data))

    @smartasync
    async def close(self) -> None:
        """End the running loop's subscriptions and close its connections (a plain call
        from a thread of its own closes that thread's)."""
        await self._backend.close()

    def __repr__(self) -> str:
        return f"Broadcast({self._backend!r})"


def _check(channel: str) -> str:
    if not isinstance(channel, str) or not channel:
        raise ValueError(f"a channel is a non-empty string, not {channel!r}")
    return channel
