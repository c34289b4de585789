"""`Message` and `Subscription`: what a subscriber holds and receives."""

from __future__ import annotations

import asyncio
import collections
import logging
from dataclasses import dataclass
from types import TracebackType
from typing import TYPE_CHECKING, Any

import orjson

if TYPE_CHECKING:
    from ._base import Backend

logger = logging.getLogger("ambi.broadcast")


@dataclass(frozen=True, slots=True)
class Message:
    """One message published on `channel`; `data` as published (str is sent as UTF-8)."""

    channel: str
    data: bytes

    @property
    def text(self) -> str:
        return self.data.decode()

    def json(self) -> Any:
        return orjson.loads(self.data)


class Subscription:
    """The messages of one channel, from the moment `async with` has entered.

        async with broadcast.subscribe("room:lobby") as messages:
            async for message in messages:
                await websocket.send_text(message.text)

    Messages wait in a queue of at most `max_queued`; a subscriber that falls further
    behind loses the oldest ones (`dropped` counts them; the first loss is logged), so one
    slow client never holds up the others nor grows without bound. The iteration ends
    when the subscription is left or its `Broadcast` is closed.
    """

    __slots__ = ("_backend", "_closed", "_loop", "_queue", "_waiter", "channel", "dropped")

    def __init__(self, backend: Backend, channel: str, max_queued: int) -> None:
        self.channel = channel
        self.dropped = 0
        self._backend = backend
        self._queue: collections.deque[Message] = collections.deque(maxlen=max_queued)
        self._waiter: asyncio.Future[None] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._closed = False

    async def __aenter__(self) -> Subscription:
        if self._loop is not None:
            raise RuntimeError("a Subscription is entered once; subscribe() again instead")
        self._loop = asyncio.get_running_loop()
        await self._backend.add(self)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._end()
        await self._backend.remove(self)

    def __aiter__(self) -> Subscription:
        return self

    async def __anext__(self) -> Message:
        while not self._queue:
            if self._closed:
                raise StopAsyncIteration
            if self._loop is None:
                raise RuntimeError("iterate a Subscription inside `async with`")
            self._waiter = self._loop.create_future()
            try:
                await self._waiter
            finally:
                self._waiter = None
        return self._queue.popleft()

    def deliver(self, message: Message) -> None:
        """Queue `message` (from any thread)."""
        loop = self._loop
        if loop is None or self._closed:
            return
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is loop:
            self._put(message)
        else:
            loop.call_soon_threadsafe(self._put, message)

    def _put(self, message: Message) -> None:
        if self._closed:
            return
        if len(self._queue) == self._queue.maxlen:
            if not self.dropped:
                logger.warning(
                    "a subscriber of %r is %d messages behind: dropping its oldest",
                    self.channel,
                    len(self._queue),
                )
            self.dropped += 1
        self._queue.append(message)  # a full deque drops its oldest
        self._wake()

    def _end(self) -> None:
        """No more messages: the iteration ends once the queue is drained."""
        self._closed = True
        loop = self._loop
        if loop is None:
            return
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is loop:
            self._wake()
        elif not loop.is_closed():
            loop.call_soon_threadsafe(self._wake)

    def _wake(self) -> None:
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    def __repr__(self) -> str:
        return f"<Subscription {self.channel!r}, {len(self._queue)} waiting>"
