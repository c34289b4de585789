"""Where a sync call runs, and what every run shares.

Case 1 (`_run_on_app_loop`): an ambi worker thread hands the coroutine to its app's loop and
waits on a lock. Case 2 (`_ThreadLoop`): any other thread without a running loop runs it on
a loop of its own, made once, closed with the thread. Case 3 (`_on_loop_thread`, then
`_loop_thread_error`): a thread whose loop is running must not wait at all.
Also here: the timeouts of sync calls (`_Deadline`) and async ones (`_timed`), and the
contextvars that flow back to a sync caller.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import contextvars
import os
import select
import threading
import weakref
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, TypeVar

from ..exceptions import BridgeError, ConfigurationError
from ..execution import current_worker_loop, note_loop_use
from ._inbox import inbox_for

T = TypeVar("T")

_get_running_loop = asyncio._get_running_loop
_get_ident = threading.get_ident
_copy_context = contextvars.copy_context
_MISSING: Any = object()


# --------------------------------------------------------------------------------------
# Case 3 detection, errors, timeouts, contextvars
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


def _check_timeout(timeout: Any) -> float | None:
    if timeout is None:
        return None
    if isinstance(timeout, bool) or not isinstance(timeout, int | float) or timeout <= 0:
        raise ConfigurationError(f"timeout must be a positive number of seconds, not {timeout!r}")
    return float(timeout)


def _timeout_note(name: str, seconds: float) -> str:
    return f"{name} did not finish within {seconds:g} s (ambi.smartasync)"


async def _timed(aw: Awaitable[T], seconds: float, name: str) -> T:
    """For async callers: `await aw`, cancelled after `seconds`; its `finally` blocks run
    before TimeoutError is raised (sync callers get the same from `_Deadline`)."""
    deadline = asyncio.timeout(seconds)
    try:
        async with deadline:
            return await aw
    except TimeoutError as exc:
        if deadline.expired():
            exc.add_note(_timeout_note(name, seconds))
        raise


class _Deadline:
    """A sync call's timeout, on the loop: cancels the task when it expires.

    The task then runs its `finally` blocks; the caller, seeing it cancelled with the
    deadline expired, raises TimeoutError. No wrapping coroutine is made, so nothing is
    left un-awaited if the call is refused before it starts.
    """

    __slots__ = ("expired", "handle", "seconds", "task")

    def __init__(self, loop: asyncio.AbstractEventLoop, task: asyncio.Task[Any], seconds: float):
        self.expired = False
        self.task = task
        self.seconds = seconds
        self.handle = loop.call_later(seconds, self._expire)

    def _expire(self) -> None:
        self.expired = True
        self.task.cancel()

    def timed_out(self, name: str) -> TimeoutError | None:
        """The error to raise instead of the task's outcome, if the deadline cancelled it."""
        if not (self.expired and self.task.cancelled()):
            return None
        error = TimeoutError()
        error.add_note(_timeout_note(name, self.seconds))
        return error


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
# Case 2: the loop private to a thread
# --------------------------------------------------------------------------------------


class _ThreadLoop:
    """The event loop of one thread that has no loop of its own (case 2).

    Lives in thread-local storage, with a `_Closer`: when the thread ends, that storage is
    released and the closer closes the loop (for the main thread, an atexit hook does it
    first); `ended` says so from then on. The closer, not `__del__`, because this object
    can outlive the storage: the frames of a run on its loop refer to it (`self`, `tl`),
    and 3.13 keeps such frames alive through tracebacks (a finished coroutine's frame links
    back to its whole calling stack, and a cancelled task keeps its CancelledError).
    """

    __slots__ = ("__weakref__", "ended", "loop", "pid", "thread_id")

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.pid = os.getpid()
        self.thread_id = threading.get_ident()
        self.ended = False

    def run(
        self,
        coro: Coroutine[Any, Any, T],
        ctx: contextvars.Context,
        timeout: float | None,
        name: str,
    ) -> T:
        """Run `coro` to completion in a task with context `ctx`; on this thread only."""
        loop = self.loop
        if loop.is_closed():  # someone closed it (it escapes through get_running_loop())
            self.loop = loop = asyncio.new_event_loop()
        task = loop.create_task(coro, context=ctx)
        deadline = None if timeout is None else _Deadline(loop, task, timeout)
        try:
            return loop.run_until_complete(task)
        except BaseException as exc:
            if not task.done():  # Ctrl-C (or SystemExit) arrived while the loop waited
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    loop.run_until_complete(task)  # let its finally blocks run
                raise
            if deadline is not None and (error := deadline.timed_out(name)):
                raise error from exc
            raise
        finally:
            if deadline is not None:
                deadline.handle.cancel()

    def check_owner(self, name: str) -> None:
        if self.ended:
            raise _ended_error(name)
        if _get_ident() != self.thread_id:
            raise BridgeError(
                f"{name} made a sync iterator or context manager in one thread (with no app "
                "loop) and was used from another thread; it runs on the first thread's "
                "private loop, so use it there"
            )

    def call_soon(self, callback: Callable[[], object]) -> None:
        self.loop.call_soon_threadsafe(callback)

    def __call__(self) -> _ThreadLoop:  # the runner protocol of _AppLoop (see _runner)
        return self

    def close(self) -> None:
        """Close the loop, first finishing what is left on it as `asyncio.run` would."""
        loop = self.loop
        if os.getpid() != self.pid:
            self.ended = True
            _release_in_child(loop)
            return
        if self.ended:  # the closer, then __del__: finish and close only once
            return
        self.ended = True
        if loop.is_closed() or loop.is_running():
            return
        # Running the loop allocates thread state again, which a thread that is ending
        # leaks (~200 bytes): do it only when there is something left to finish.
        pending = asyncio.all_tasks(loop)
        if not pending and not getattr(loop, "_asyncgens", None):
            loop.close()
        elif _get_running_loop() is None:
            _finish_and_close(loop, pending)
        else:
            # Freed by a garbage collection on a thread whose own loop is running: ours
            # cannot run here, and is idle (its thread is gone), so finish it elsewhere.
            try:
                threading.Thread(
                    target=_finish_and_close, args=(loop, pending), name="ambi-loop-closer"
                ).start()
            except RuntimeError:  # interpreter shutdown: no new threads
                loop.close()

    def __del__(self) -> None:  # in case the storage let it go without its closer
        self.close()


class _Closer:
    """Closes a thread's loop when the thread's storage, its only owner, is released.

    Never handed out, so no frame or traceback can keep it alive past its thread.
    """

    __slots__ = ("tl",)

    def __init__(self, tl: _ThreadLoop) -> None:
        self.tl = tl

    def __del__(self) -> None:
        self.tl.close()


def _ended_error(name: str) -> BridgeError:
    return BridgeError(f"{name} was made in a thread that has ended, with its loop")


#: How long the tasks left on a closing private loop get to finish once cancelled.
_CLOSE_GRACE = 5.0


def _finish_and_close(loop: asyncio.AbstractEventLoop, pending: set[asyncio.Task[Any]]) -> None:
    """What `asyncio.run` does before closing: cancel what is left, close async generators.

    Bounded, unlike `asyncio.run`: a task that ignores its cancellation (or an async
    generator whose `finally` waits forever) must not keep the thread, or the interpreter
    at exit, from ending; it is reported and left behind.
    """
    try:
        for task in pending:
            task.cancel()
        if pending:
            finished = asyncio.wait(pending, timeout=_CLOSE_GRACE)
            done, stuck = loop.run_until_complete(finished)
            for task in done:  # retrieved, as gather(return_exceptions=True) would
                if not task.cancelled():
                    task.exception()
            if stuck:
                names = ", ".join(sorted(task.get_name() for task in stuck))
                loop.call_exception_handler(
                    {
                        "message": f"closing a smartasync loop: {len(stuck)} task(s) did "
                        f"not finish within {_CLOSE_GRACE:g} s of being cancelled ({names})"
                    }
                )
        closing = asyncio.wait_for(loop.shutdown_asyncgens(), _CLOSE_GRACE)
        loop.run_until_complete(closing)
    except Exception as exc:  # nobody to hand it to: report it as asyncio would
        loop.call_exception_handler({"message": "closing a smartasync loop", "exception": exc})
    finally:
        loop.close()


_local = threading.local()
_inherited: list[asyncio.AbstractEventLoop] = []  # a forked child's copies it cannot close


def _release_in_child(loop: asyncio.AbstractEventLoop) -> None:
    """Close a forked child's copy of a parent's loop, leaving the parent's loop working.

    The child shares the parent's epoll instance: `close()` unregisters the loop's
    descriptors through it, which removes the parent's registrations (its self-pipe: the
    parent's loop would stop waking up for call_soon_threadsafe). So the child's copy gets
    an empty epoll of its own first. For a loop built otherwise, keep it open and unused.
    """
    selector = getattr(loop, "_selector", None)  # asyncio's selector loops
    shared = getattr(selector, "_selector", None)  # selectors.EpollSelector's epoll
    epoll = getattr(select, "epoll", None)
    if epoll is None or not isinstance(shared, epoll) or loop.is_closed():
        _inherited.append(loop)
        return
    selector._selector = epoll()  # type: ignore[union-attr]
    shared.close()  # only the child's descriptor: the parent's instance lives on
    loop.close()


def _new_thread_loop() -> _ThreadLoop:
    tl = _local.tl = _ThreadLoop()
    _local.closer = _Closer(tl)
    return tl


def _forget_thread_loop() -> None:
    """Drop (and close) the calling thread's loop now rather than when the thread ends."""
    _local.__dict__.pop("closer", None)
    tl: _ThreadLoop | None = _local.__dict__.pop("tl", None)
    if tl is not None:
        tl.close()


# The main thread's storage outlives the interpreter's finalisation hooks: close it at exit.
atexit.register(_forget_thread_loop)


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


def _after_fork_in_child() -> None:
    """A forked child starts with no loop of its own.

    The forking thread's loop is released here (`_release_in_child`); those of the
    parent's other threads were released as the child cleared their thread states.
    """
    _local.__dict__.pop("closer", None)
    tl: _ThreadLoop | None = _local.__dict__.pop("tl", None)
    if tl is not None:
        tl.close()  # pid differs: released, not closed through the shared epoll


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)
