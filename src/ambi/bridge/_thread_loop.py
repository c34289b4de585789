"""Case 2 of `ambi.bridge._loops`: a thread with no loop of its own (and no app loop to hand
its coroutine to) runs it on a loop private to the thread, made once, closed with the
thread (or at exit, or released in a forked child)."""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import contextvars
import os
import select
import threading
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

from ..exceptions import BridgeError
from ._timeouts import _Deadline

T = TypeVar("T")

_get_running_loop = asyncio._get_running_loop
_get_ident = threading.get_ident


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
