"""Where a sync call runs, and what every run shares.

Case 1 (`_run_on_app_loop`): an ambi worker thread hands the coroutine to its app's loop and
waits on a lock. Case 2 (`_ThreadLoop`, in `_thread_loop`): any other thread without a
running loop runs it on a loop of its own, made once, closed with the thread. Case 3
(`_on_loop_thread`, then `_loop_thread_error`): a thread whose loop is running must not wait
at all. Also here: the contextvars that flow back to a sync caller; the timeouts are in
`_timeouts`.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import threading
import weakref
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, TypeVar

from ..exceptions import BridgeError
from ..execution import current_worker_loop, note_loop_use
from ._inbox import inbox_for
from ._thread_loop import _local, _new_thread_loop, _ThreadLoop
from ._timeouts import _Deadline

T = TypeVar("T")

_get_running_loop = asyncio._get_running_loop
_get_ident = threading.get_ident
_copy_context = contextvars.copy_context
_MISSING: Any = object()


# --------------------------------------------------------------------------------------
# Case 3 detection, errors, contextvars
# --------------------------------------------------------------------------------------


_last = threading.local()  # .loop: the last loop `_on_loop_thread` saw running on a thread


class _NoLoop:
    """In `_last.loop` until a loop is seen (so that reading it raises nothing)."""

    _thread_id = None


_NO_LOOP = _NoLoop()


def _on_loop_thread() -> bool:
    """Whether an event loop is running on this thread (then the caller is async code).

    # PERF: on 3.11 `asyncio._get_running_loop()` makes a getpid() syscall whenever a loop
    # is running (~0.2 us, most of an async call's overhead), so each thread remembers the
    # last loop it saw running. An asyncio loop sets `_thread_id` to the thread running it,
    # and back to None when it stops: if that is this thread, that loop is running here
    # (exact); otherwise ask asyncio (cheap when no loop runs). It keeps one loop object per
    # thread referenced until replaced or the thread ends. benchmarks/bench_bridge.py,
    # "async callers".
    """
    try:
        if _last.loop._thread_id == _get_ident():
            return True
    except AttributeError:  # first call on this thread, or not an asyncio loop
        _last.loop = _NO_LOOP
    loop = _get_running_loop()
    if loop is None:
        return False
    _last.loop = loop
    return True


def _loop_thread_error(what: str, name: str) -> BridgeError:
    return BridgeError(
        f"{what} was called on a thread whose event loop is running: waiting for {name} "
        "here would block that loop, or deadlock it. In async code, use "
        f"`await {name}(...)` or `await {name}.aio(...)`; in a sync function that async "
        "code calls, run that function off the loop with `await ambi.run_sync(fn, ...)`."
    )


async def _await(aw: Awaitable[T]) -> T:
    return await aw


def _flow_back(ctx: contextvars.Context) -> None:
    """Set in the current context every variable that code running in `ctx` changed.

    `ctx` was copied from the current context, which has not changed since (its thread was
    waiting), so a value that is not the very object we hold was set in `ctx`.
    """
    for var, value in ctx.items():
        if var.get(_MISSING) is not value:
            var.set(value)


def _flow_back_step(
    before: contextvars.Context,
    after: contextvars.Context,
    tokens: dict[contextvars.ContextVar[Any], contextvars.Token[Any]],
) -> None:
    """Like `_flow_back`, for one step of a long-lived context (generator, context manager).

    Compares with the snapshot taken before the step, so the caller's own changes between
    steps are kept; a variable the step removed (reset to unset) is reset in the caller too.
    """
    for var, value in after.items():
        if before.get(var, _MISSING) is not value:
            token = var.set(value)
            tokens.setdefault(var, token)
    for var in before:
        if var not in after and var in tokens:
            with contextlib.suppress(ValueError, RuntimeError):  # another context, or used
                var.reset(tokens.pop(var))


# --------------------------------------------------------------------------------------
# Case 1: from a worker thread to its app's loop
# --------------------------------------------------------------------------------------


class _Handoff:
    """One coroutine carried from a worker thread to a loop (through the loop's inbox, which
    starts hand-offs in batches: `ambi.bridge._inbox`), and its task back.

    # PERF: a bare lock released by the task's done callback is the cheapest wake-up
    # (no concurrent.futures.Future, Condition or _chain_future), see benchmarks/bench_bridge.py.
    # A lock per call rather than one per thread: a signal handler on a waiting main thread
    # may make a call of its own, which must not share the lock the thread waits on.
    """

    __slots__ = ("coro", "ctx", "deadline", "done", "error", "name", "task", "timeout")

    def __init__(
        self,
        coro: Coroutine[Any, Any, Any],
        ctx: contextvars.Context,
        timeout: float | None,
        name: str,
    ) -> None:
        self.coro = coro
        self.ctx = ctx
        self.timeout = timeout
        self.name = name
        self.task: asyncio.Task[Any] | None = None
        self.deadline: _Deadline | None = None
        self.error: BaseException | None = None
        self.done = threading.Lock()
        self.done.acquire()

    def start(self, loop: asyncio.AbstractEventLoop) -> None:  # on the loop's thread
        try:
            self.task = task = loop.create_task(self.coro, context=self.ctx)
        except BaseException as exc:  # handed to the waiting thread
            self.coro.close()
            self.error = exc
            self.done.release()
            return
        if self.timeout is not None:
            self.deadline = _Deadline(loop, task, self.timeout)
        task.add_done_callback(self.finished)

    def finished(self, _task: asyncio.Task[Any]) -> None:
        if self.deadline is not None:
            self.deadline.handle.cancel()
        self.done.release()

    def refuse(self) -> None:  # on the waiting thread: the loop closed before starting it
        self.coro.close()
        self.error = BridgeError(f"{self.name} was called for an app whose event loop is closed")
        self.done.release()

    def cancel(self) -> None:
        if self.task is not None:
            self.task.cancel()


def _run_on_app_loop(
    loop: asyncio.AbstractEventLoop,
    coro: Coroutine[Any, Any, T],
    ctx: contextvars.Context,
    timeout: float | None,
    name: str,
) -> T:
    if not loop.is_running():
        coro.close()
        raise BridgeError(
            f"{name} was called from a worker thread of an app whose event loop is not "
            "running (the app has stopped); nothing would run it"
        )
    note_loop_use()  # what runs on this worker must never be moved onto that loop
    handoff = _Handoff(coro, ctx, timeout, name)
    inbox_for(loop).put(handoff)  # refused at once if the loop closed since the check
    try:
        handoff.done.acquire()
    except BaseException:  # KeyboardInterrupt, in a main thread marked as a worker
        loop.call_soon_threadsafe(handoff.cancel)
        handoff.done.acquire()
        raise
    if handoff.error is not None:
        raise handoff.error
    task = handoff.task
    assert task is not None  # set before `done` is released
    try:
        result: T = task.result()
    except asyncio.CancelledError as exc:
        if handoff.deadline is not None and (error := handoff.deadline.timed_out(name)):
            raise error from exc
        raise
    return result


class _AppLoop:
    """Runs coroutines on an app's loop for a generator or context manager (case 1)."""

    __slots__ = ("loop", "name")

    def __init__(self, loop: asyncio.AbstractEventLoop, name: str) -> None:
        self.loop = loop
        self.name = name

    def run(
        self,
        coro: Coroutine[Any, Any, T],
        ctx: contextvars.Context,
        timeout: float | None,
        name: str,
    ) -> T:
        return _run_on_app_loop(self.loop, coro, ctx, timeout, name)

    def check_owner(self, name: str) -> None:
        pass  # any thread may wait for the app's loop

    def call_soon(self, callback: Callable[[], object]) -> None:
        self.loop.call_soon_threadsafe(callback)

    def __call__(self) -> _AppLoop:
        return self


#: How a generator or context manager finds its loop again: an `_AppLoop`, or a weak
#: reference to the thread's `_ThreadLoop`. Weak, so that the thread-local storage stays its
#: only owner and the loop is closed when the thread ends, whatever cycles a session is in
#: (the garbage collector could otherwise finalise the bare loop first, unclosed). The
#: reference does not tell that the thread has ended, `_ThreadLoop.ended` does: the
#: `_ThreadLoop` can outlive its storage, held by the frames of its own `close()` (say in
#: the traceback of a driver task it cancelled, which 3.13 keeps on the task).
_RunnerRef = Callable[[], "_ThreadLoop | _AppLoop | None"]


def _runner(app_loop: asyncio.AbstractEventLoop | None, name: str) -> _RunnerRef:
    if app_loop is not None:
        return _AppLoop(app_loop, name)
    try:
        tl: _ThreadLoop = _local.tl
    except AttributeError:
        tl = _new_thread_loop()
    return weakref.ref(tl)


def _run(coro: Coroutine[Any, Any, T], timeout: float | None, name: str) -> T:
    """Run `coro` to completion for a sync caller with no running loop (case 1 or 2)."""
    ctx = _copy_context()
    app_loop = current_worker_loop()
    try:
        if app_loop is not None:
            return _run_on_app_loop(app_loop, coro, ctx, timeout, name)
        try:
            tl: _ThreadLoop = _local.tl
        except AttributeError:
            tl = _new_thread_loop()
        return tl.run(coro, ctx, timeout, name)
    finally:
        _flow_back(ctx)
