"""The Redis backend: PUBLISH on a pooled connection, one SUBSCRIBE connection per loop.

Each event loop using the backend gets a `_Link`: a client for publishing and a listener
task owning a pub/sub connection, subscribed to the channels that have subscribers on
that loop (one Redis subscription per channel and process, however many local
subscribers it has). The listener reconnects by itself when the connection is lost and
subscribes to every channel again.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import weakref
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from redis.asyncio import Redis
from redis.asyncio.client import PubSub
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import RedisError

from ..exceptions import StoreError
from ._base import Backend
from ._subscription import Message, Subscription

logger = logging.getLogger("ambi.broadcast")

_FIRST_DELAY = 0.05
_MAX_DELAY = 2.0
_POLL = 1.0  # seconds the listener waits for a message before looking again


class RedisBackend(Backend):
    def __init__(
        self,
        url: str,
        *,
        prefix: str = "ambi:broadcast:",
        timeout: float = 2.0,
        **redis_options: Any,
    ) -> None:
        if isinstance(timeout, bool) or not timeout > 0:
            raise ValueError(f"timeout must be a positive number of seconds, not {timeout!r}")
        parts = urlsplit(url)
        self.where = f"{parts.scheme}://{parts.hostname or parts.path}" + (
            f":{parts.port}" if parts.port else ""
        )
        self.url = url
        self.prefix = prefix
        self.timeout = timeout
        self._options: dict[str, Any] = {
            "socket_connect_timeout": timeout,
            "health_check_interval": 10,  # a silent peer is found by a PING
            "retry": Retry(NoBackoff(), 1),  # a stale pooled connection: once more, fresh
            **redis_options,
        }
        try:  # unknown options fail here, not at the first publish
            Redis.from_url(url, **self._options).connection_pool.make_connection()  # type: ignore[no-untyped-call]
        except (TypeError, ValueError) as exc:
            raise ValueError(f"cannot use Redis URL {self.where!r}: {exc}") from exc
        self._links: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _Link] = (
            weakref.WeakKeyDictionary()
        )

    def _link(self) -> _Link:
        loop = asyncio.get_running_loop()
        link = self._links.get(loop)
        if link is None:
            link = self._links[loop] = _Link(self, Redis.from_url(self.url, **self._options))
        return link

    async def add(self, subscription: Subscription) -> None:
        await self._link().add(subscription)

    async def remove(self, subscription: Subscription) -> None:
        await self._link().remove(subscription)

    async def publish(self, channel: str, data: bytes) -> None:
        client = self._link().client
        try:
            async with asyncio.timeout(self.timeout):
                await client.publish(self.prefix + channel, data)
        except (RedisError, OSError, TimeoutError) as exc:
            raise StoreError(f"Redis at {self.where} failed PUBLISH: {exc!r}") from exc

    async def close(self) -> None:
        link = self._links.pop(asyncio.get_running_loop(), None)
        if link is not None:
            await link.close()

    def __repr__(self) -> str:
        return f"{self.where} (prefix {self.prefix!r})"


class _Link:
    """One event loop's connections and subscribers."""

    def __init__(self, backend: RedisBackend, client: Redis) -> None:
        self.backend = backend
        self.client = client
        self.channels: dict[str, set[Subscription]] = {}  # by Redis channel name
        self.confirmed: set[str] = set()
        self.waiters: dict[str, list[asyncio.Future[None]]] = {}
        self.pubsub: PubSub | None = None
        self.lock = asyncio.Lock()  # one writer at a time on the pub/sub connection
        self.listener: asyncio.Task[None] | None = None
        self.down = False

    async def add(self, subscription: Subscription) -> None:
        key = self.backend.prefix + subscription.channel
        first = key not in self.channels
        self.channels.setdefault(key, set()).add(subscription)
        if self.listener is None:
            self.listener = asyncio.get_running_loop().create_task(self._listen())
        if key in self.confirmed:
            return
        waiter = asyncio.get_running_loop().create_future()
        self.waiters.setdefault(key, []).append(waiter)
        if first:
            await self._command(lambda p: p.subscribe(key))
        try:
            async with asyncio.timeout(self.backend.timeout):
                await waiter
        except TimeoutError:
            await self.remove(subscription)
            raise StoreError(
                f"Redis at {self.backend.where}: no subscription to {subscription.channel!r} "
                f"within {self.backend.timeout} s"
            ) from None
        finally:
            waiters = self.waiters.get(key, [])
            if waiter in waiters:
                waiters.remove(waiter)

    async def remove(self, subscription: Subscription) -> None:
        key = self.backend.prefix + subscription.channel
        subscriptions = self.channels.get(key)
        if subscriptions is None:
            return
        subscriptions.discard(subscription)
        if not subscriptions:
            del self.channels[key]
            self.confirmed.discard(key)
            await self._command(lambda p: p.unsubscribe(key))

    async def _command(self, send: Callable[[PubSub], Any]) -> None:
        """Send (un)subscribe on the live connection; when there is none, or it fails, the
        listener's next (re)connection subscribes to `channels` anyway."""
        async with self.lock:
            if self.pubsub is None:
                return
            with contextlib.suppress(RedisError, OSError, TimeoutError):
                async with asyncio.timeout(self.backend.timeout):
                    await send(self.pubsub)

    async def _listen(self) -> None:
        delay = _FIRST_DELAY
        while True:
            pubsub = self.client.pubsub()
            try:
                async with self.lock:
                    async with asyncio.timeout(self.backend.timeout):
                        await pubsub.connect()  # type: ignore[no-untyped-call]
                        if self.channels:
                            await pubsub.subscribe(*self.channels)
                    self.pubsub = pubsub
                if self.down:
                    self.down = False
                    logger.warning("Redis at %s is reachable again", self.backend.where)
                delay = _FIRST_DELAY
                while True:
                    message = await pubsub.get_message(timeout=_POLL)
                    if message is not None:
                        self._handle(message)
            except (RedisError, OSError, TimeoutError) as exc:
                if not self.down:
                    self.down = True
                    logger.error(
                        "Redis at %s: broadcast connection lost (%r); reconnecting",
                        self.backend.where,
                        exc,
                    )
            finally:
                self.pubsub = None
                self.confirmed.clear()
                with contextlib.suppress(Exception):
                    await pubsub.aclose()  # type: ignore[no-untyped-call]
            await asyncio.sleep(delay)
            delay = min(_MAX_DELAY, delay * 2)

    def _handle(self, message: dict[str, Any]) -> None:
        kind = message["type"]
        key = _text(message["channel"])
        if kind == "message":
            data = message["data"]
            delivered = Message(key[len(self.backend.prefix) :], bytes(data))
            for subscription in list(self.channels.get(key, ())):
                subscription.deliver(delivered)
        elif kind == "subscribe" and key in self.channels:
            self.confirmed.add(key)
            for waiter in self.waiters.pop(key, []):
                if not waiter.done():
                    waiter.set_result(None)

    async def close(self) -> None:
        listener, self.listener = self.listener, None
        if listener is not None:
            listener.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await listener
        for subscriptions in list(self.channels.values()):
            for subscription in subscriptions:
                subscription._end()
        self.channels.clear()
        await self.client.aclose()


def _text(value: str | bytes) -> str:
    return value.decode() if isinstance(value, bytes) else value
