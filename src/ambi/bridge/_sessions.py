"""Async generators and context managers used from sync code: one driver task per use."""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import types
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager
from typing import Any, Generic, TypeVar

from ..exceptions import BridgeError
from ..execution import (
    current_worker_loop,
    is_async_context,
    is_async_iterator,
    is_awaitable,
    is_context,
)
from ._loops import (
    _AppLoop,
    _await,
    _copy_context,
    _flow_back_step,
    _loop_thread_error,
    _on_loop_thread,
    _run,
    _runner,
    _RunnerRef,
)
from ._thread_loop import _ended_error, _ThreadLoop

T = TypeVar("T")
Y = TypeVar("Y")


_NEXT = "next"
_CLOSE = "close"
_ENTER = "enter"
_EXIT = "exit"
_DONE: Any = object()  # the reply to _NEXT once the generator is exhausted

_Outcome = tuple[bool, Any]  # (True, value) or (False, exception)
_Message = tuple[str, Any]

#: Every driver task not yet done. A task waiting on a future is referenced only through
#: that future, here held by its session, and the session by the task: a cycle, which the
#: garbage collector could finalise task first ("Task was destroyed but it is pending!")
#: once the iterator is dropped. Held here, a dropped iterator's driver lives until its
#: cancellation (sent by SyncIterator.__del__) or its loop's shutdown has run it out.
_live_drivers: set[asyncio.Task[None]] = set()


class _Session:
    """An async generator or context manager run by one task, one step per sync request.

    Each step is asked for by a short coroutine run on the driver's loop (through the same
    machinery as a plain call: case 1 or 2, timeout, Ctrl-C), but the body itself runs in
    the one driver task, as it would under `async for` / `async with` in one task: it sees
    one `current_task()`, so `asyncio.timeout`, cancel scopes and task-bound state work
    across steps. Replies carry exceptions as values, so an exception from the sync side
    (say KeyboardInterrupt handed to `__aexit__`) is never raised inside the app's loop.
    """

    __slots__ = ("_ctx", "_driver", "_inbox", "_late", "_runner", "_tokens", "name", "timeout")

    def __init__(self, runner: _RunnerRef, name: str, timeout: float | None) -> None:
        self._runner = runner
        self._ctx = _copy_context()
        self._driver: asyncio.Task[None] | None = None
        self._inbox: asyncio.Future[tuple[_Message, asyncio.Future[_Outcome]]] | None = None
        self._late: BaseException | None = None
        self._tokens: dict[contextvars.ContextVar[Any], contextvars.Token[Any]] = {}
        self.name = name
        self.timeout = timeout

    @property
    def started(self) -> bool:
        return self._driver is not None

    def runner_for_caller(self, what: str) -> _ThreadLoop | _AppLoop:
        """The runner, if this thread may wait for a step here; else BridgeError."""
        if _on_loop_thread():
            raise _loop_thread_error(what, self.name)
        runner = self._runner()
        if runner is None:
            raise _ended_error(self.name)
        runner.check_owner(self.name)  # the thread's loop may have ended with it, too
        return runner

    def request(self, message: _Message, runner: _ThreadLoop | _AppLoop) -> Any:
        """Ask the driver for one step; block until it answers. Sync side."""
        before = self._ctx.copy()
        try:
            ok, value = runner.run(
                self._exchange(message), _copy_context(), self.timeout, self.name
            )
        finally:
            _flow_back_step(before, self._ctx, self._tokens)
        if not ok:
            raise value
        return value

    def abandon(self) -> None:
        """Dropped unfinished: cancel the driver on its loop (its cleanup then runs there)."""
        driver = self._driver
        runner = self._runner()
        if driver is not None and runner is not None and not driver.done():
            # a closed loop raises RuntimeError: nothing is left to run the cleanup then
            with contextlib.suppress(RuntimeError):
                runner.call_soon(driver.cancel)

    async def _exchange(self, message: _Message) -> _Outcome:  # on the loop, one per step
        loop = asyncio.get_running_loop()
        reply: asyncio.Future[_Outcome] = loop.create_future()
        driver = self._driver
        if driver is None:
            self._driver = driver = loop.create_task(self._drive(message, reply), context=self._ctx)
            _live_drivers.add(driver)
            driver.add_done_callback(_live_drivers.discard)
        elif driver.done():
            return self._after_end(message)
        else:
            inbox = self._inbox
            if inbox is None or inbox.done():
                return False, BridgeError(f"{self.name} is already running a step")
            inbox.set_result((message, reply))
        try:
            return await reply
        except asyncio.CancelledError:
            # timed out, Ctrl-C, or the loop is shutting down: stop the body, wait for it
            driver.cancel()
            await asyncio.wait((driver,))
            raise

    def _receive(self) -> asyncio.Future[tuple[_Message, asyncio.Future[_Outcome]]]:
        # Made in the same step as the previous reply, so it exists before the next request.
        self._inbox = inbox = asyncio.get_running_loop().create_future()
        return inbox

    def _after_end(self, message: _Message) -> _Outcome:
        return True, None

    async def _drive(self, message: _Message, reply: asyncio.Future[_Outcome]) -> None:
        raise NotImplementedError


def _answer(reply: asyncio.Future[_Outcome], ok: bool, value: Any) -> None:
    if not reply.done():
        reply.set_result((ok, value))


class _GeneratorSession(_Session):
    __slots__ = ("_agen",)

    def __init__(
        self,
        agen: AsyncIterator[Any],
        runner: _RunnerRef,
        name: str,
        timeout: float | None,
    ) -> None:
        super().__init__(runner, name, timeout)
        self._agen = agen

    def _after_end(self, message: _Message) -> _Outcome:
        return True, _DONE

    async def _drive(self, message: _Message, reply: asyncio.Future[_Outcome]) -> None:
        agen = self._agen
        try:
            while message[0] == _NEXT:
                item = await agen.__anext__()
                _answer(reply, True, item)
                message, reply = await self._receive()
            await _aclose(agen)
            _answer(reply, True, None)
        except StopAsyncIteration:
            _answer(reply, True, _DONE)
        except asyncio.CancelledError:
            reply.cancel()
            await _aclose_quietly(agen)  # suspended at a yield: run its finally blocks here
            raise
        except BaseException as exc:  # handed to the sync caller
            _answer(reply, False, exc)


async def _aclose(agen: AsyncIterator[Any]) -> None:
    aclose = getattr(agen, "aclose", None)
    if aclose is not None:
        await aclose()


async def _aclose_quietly(agen: AsyncIterator[Any]) -> None:
    """Close a cancelled generator; a failure is reported like asyncio reports its own."""
    try:
        await _aclose(agen)
    except Exception as exc:  # nobody is waiting for it
        asyncio.get_running_loop().call_exception_handler(
            {"message": f"closing {agen!r} after cancellation failed", "exception": exc}
        )


class _ContextSession(_Session):
    __slots__ = ("_acm",)

    def __init__(
        self,
        acm: AbstractAsyncContextManager[Any],
        runner: _RunnerRef,
        name: str,
        timeout: float | None,
    ) -> None:
        super().__init__(runner, name, timeout)
        self._acm = acm

    def _after_end(self, message: _Message) -> _Outcome:
        late = self._late
        return (True, False) if late is None else (False, late)

    async def _drive(self, message: _Message, reply: asyncio.Future[_Outcome]) -> None:
        acm = self._acm
        cls = type(acm)
        try:
            value = await cls.__aenter__(acm)
        except asyncio.CancelledError:
            reply.cancel()
            raise
        except BaseException as exc:  # handed to the sync caller
            _answer(reply, False, exc)
            return
        _answer(reply, True, value)
        try:
            (_, exc_info), reply = await self._receive()
        except asyncio.CancelledError as cancelled:
            # Cancelled while the sync body ran (an `asyncio.timeout` inside the context
            # manager, or the loop shutting down): unwind as `async with` would; the sync
            # side's __exit__ then reports the outcome (see _after_end).
            try:
                suppress = await cls.__aexit__(
                    acm, type(cancelled), cancelled, cancelled.__traceback__
                )
            except asyncio.CancelledError:
                raise
            except BaseException as exc:  # for the sync side's __exit__
                self._late = exc
                return
            if not suppress:
                raise
            return
        try:
            suppress = await cls.__aexit__(acm, *exc_info)
        except asyncio.CancelledError:
            reply.cancel()
            raise
        except BaseException as exc:  # handed to the sync caller
            _answer(reply, False, exc)
        else:
            _answer(reply, True, bool(suppress))


class SyncIterator(Generic[Y]):
    """An async generator seen from sync code: `for item in it`, `it.close()`.

    All its steps run in one task on the loop chosen when it was made (case 1 or 2).
    Closing it (or dropping it unfinished) runs `aclose()` on that loop.
    """

    __slots__ = ("__weakref__", "_finished", "_session")

    def __init__(self, session: _GeneratorSession) -> None:
        self._session = session
        self._finished = False

    def __iter__(self) -> SyncIterator[Y]:
        return self

    def __next__(self) -> Y:
        if self._finished:
            raise StopIteration
        session = self._session
        runner = session.runner_for_caller(f"next() on {session.name}()")
        try:
            item = session.request((_NEXT, None), runner)
        except BaseException:
            self._finished = True  # the generator raised, or was cancelled: it is over
            raise
        if item is _DONE:
            self._finished = True
            raise StopIteration
        result: Y = item
        return result

    def close(self) -> None:
        """Stop the generator: `aclose()` runs its `finally` blocks on its loop."""
        if self._finished:
            return
        session = self._session
        runner = session.runner_for_caller(f"close() on {session.name}()")
        self._finished = True
        if session.started:
            session.request((_CLOSE, None), runner)

    def __del__(self) -> None:
        if not self._finished:
            with contextlib.suppress(Exception):  # interpreter teardown: nothing to do
                self._session.abandon()

    def __repr__(self) -> str:
        return f"<SyncIterator of {self._session.name}>"


class SyncContextManager(Generic[T]):
    """An async context manager seen from sync code: `with cm as value:`.

    `__aenter__` and `__aexit__` run in one task on the loop chosen when it was made.
    """

    __slots__ = ("_acm", "_name", "_runner", "_sessions", "_timeout")

    def __init__(
        self,
        acm: AbstractAsyncContextManager[T],
        runner: _RunnerRef,
        name: str,
        timeout: float | None,
    ) -> None:
        self._acm = acm
        self._runner = runner
        self._name = name
        self._timeout = timeout
        self._sessions: list[_ContextSession] = []

    def __enter__(self) -> T:
        session = _ContextSession(self._acm, self._runner, self._name, self._timeout)
        runner = session.runner_for_caller(f"entering {self._name}()")
        value: T = session.request((_ENTER, None), runner)
        self._sessions.append(session)
        return value

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: types.TracebackType | None,
    ) -> bool:
        session = self._sessions.pop()
        runner = session.runner_for_caller(f"leaving {self._name}()")
        try:
            return bool(session.request((_EXIT, (exc_type, exc, tb)), runner))
        except BaseException as err:
            if err is exc:
                return False  # re-raised as is: let the with statement raise it
            raise

    def __repr__(self) -> str:
        return f"<SyncContextManager of {self._name}>"


def _from_sync(obj: Any, timeout: float | None, name: str) -> Any:
    """Adapt what an async-generator-like callable returned for a sync caller."""
    if is_async_context(obj):
        return SyncContextManager(obj, _runner(current_worker_loop(), name), name, timeout)
    if is_async_iterator(obj):
        session = _GeneratorSession(obj, _runner(current_worker_loop(), name), name, timeout)
        return SyncIterator(session)
    if is_awaitable(obj):
        return _run(_await(obj), timeout, name)
    raise BridgeError(
        f"{name} returned {type(obj).__name__}, which is neither an async generator, an "
        "async context manager nor awaitable"
    )


def _adapt_result(obj: Any, name: str) -> Any:
    """What a sync function (a wrapper, say) gave a sync caller: an awaitable is run, an
    async generator or async context manager adapted (unless it also speaks the sync
    protocol); anything else is the result as it is."""
    if is_awaitable(obj):
        return _run(_await(obj), None, name)
    if (is_async_iterator(obj) and not hasattr(type(obj), "__next__")) or (
        is_async_context(obj) and not is_context(obj)
    ):
        return _from_sync(obj, None, name)
    return obj
