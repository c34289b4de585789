"""Iterating a streamed response's content, and stopping it when the client leaves.

`ItemSource` takes items from a sync or an async iterable: an async one on the loop, a sync
one in the thread pool, one `next()` at a time (a blocking generator never stalls the
loop). `close()` ends the iteration so the generator's `finally` runs: an async generator
waiting for its next item is cancelled there and then; a sync generator is closed (in the
pool) as soon as the `next()` running in its thread returns, and no other `next()` is
asked of it, so no thread keeps iterating for a client that left.

`pump()` sends a stream's chunks until its end, or until the client is gone (`gone`
resolves, or `send` raises `ClientGone`): then it stops the stream at once, wherever it
waits, and closes it.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import (
    AsyncGenerator,
    AsyncIterable,
    AsyncIterator,
    Awaitable,
    Callable,
    Iterable,
    Iterator,
)
from typing import TYPE_CHECKING, Any

from ..execution import is_async_iterable

if TYPE_CHECKING:
    from ..execution import Engine


class ClientGone(Exception):
    """Raised by a `send` given to `pump` when it finds the client gone."""


#: What `ItemSource.next_within` gives when no item came in time.
TIMEOUT: Any = object()
_END: Any = object()


def _next_item(iterator: Iterator[Any]) -> Any:
    return next(iterator, _END)


class ItemSource:
    """The items of `content` (sync or async iterable), fetched one at a time."""

    __slots__ = ("_aiter", "_engine", "_iter", "_pending")

    def __init__(self, content: Iterable[Any] | AsyncIterable[Any], engine: Engine) -> None:
        self._engine = engine
        self._aiter: AsyncIterator[Any] | None = None
        self._iter: Iterator[Any] | None = None
        if is_async_iterable(content):  # ambi.execution decides, as for every callable
            self._aiter = aiter(content)  # type: ignore[arg-type]
        else:
            self._iter = iter(content)  # type: ignore[arg-type]
        #: The fetch under way (a task for an async source, a pool future for a sync one).
        self._pending: asyncio.Future[Any] | None = None

    async def next(self) -> Any:
        """The next item; `StopAsyncIteration` at the end."""
        if self._aiter is not None and self._pending is None:
            return await anext(self._aiter)
        fetch = self._fetch()
        # A sync source's thread cannot be interrupted: if this task is cancelled, the
        # fetch stays pending so that `close()` can wait for it.
        item = await asyncio.shield(fetch)
        self._pending = None
        return self._checked(item)

    async def next_within(self, seconds: float) -> Any:
        """The next item, or `TIMEOUT` after `seconds` (the fetch goes on and a
        later call gets its item); `StopAsyncIteration` at the end."""
        fetch = self._fetch()
        done, _ = await asyncio.wait((fetch,), timeout=seconds)
        if not done:
            return TIMEOUT
        self._pending = None
        return self._checked(fetch.result())

    def _fetch(self) -> asyncio.Future[Any]:
        pending = self._pending
        if pending is None:
            if self._aiter is not None:
                pending = asyncio.ensure_future(anext(self._aiter))
            else:
                pending = self._engine.run_in_thread(_next_item, self._iter)
            self._pending = pending
        return pending

    @staticmethod
    def _checked(item: Any) -> Any:
        if item is _END:
            raise StopAsyncIteration
        return item

    async def close(self) -> None:
        """End the iteration: the generator's `finally` runs (see the module docstring)."""
        pending, self._pending = self._pending, None
        if self._aiter is not None:
            if pending is not None and not pending.done():
                pending.cancel()  # the generator gets CancelledError where it waits
                await asyncio.wait((pending,))
            if pending is not None and pending.done() and not pending.cancelled():
                pending.exception()  # retrieved: its error (if any) is not the news now
            aclose = getattr(self._aiter, "aclose", None)
            if aclose is not None:
                await aclose()
            return
        if pending is not None:
            await asyncio.wait((pending,))  # the next() in its thread returns first
        close = getattr(self._iter, "close", None)
        if close is not None:
            await self._engine.run_in_thread(close)


async def _produce(
    chunks: AsyncGenerator[bytes, None], send: Callable[[bytes], Awaitable[None]]
) -> None:
    async with contextlib.aclosing(chunks):
        async for chunk in chunks:
            await send(chunk)


async def pump(
    chunks: AsyncGenerator[bytes, None],
    send: Callable[[bytes], Awaitable[None]],
    gone: Awaitable[Any] | None,
) -> bool:
    """Send every chunk; True at the end, False if the client left first (`gone`
    resolved): then the stream is stopped where it waits and closed."""
    if gone is None:
        try:
            await _produce(chunks, send)
        except ClientGone:
            return False
        return True
    producer = asyncio.ensure_future(_produce(chunks, send))
    watcher = asyncio.ensure_future(gone)
    try:
        await asyncio.wait((producer, watcher), return_when=asyncio.FIRST_COMPLETED)
    finally:
        if not producer.done():
            producer.cancel()  # the client left (or we are cancelled): stop the stream
            await asyncio.wait((producer,))
        watcher.cancel()
    if producer.cancelled() or isinstance(producer.exception(), ClientGone):
        return False
    producer.result()  # an error raised by the stream
    return True
