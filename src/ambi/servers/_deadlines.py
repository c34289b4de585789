"""The request body read timeout (`App(body_timeout=...)`): how long a body read may wait
for the client's next chunk.

One sweeping timer per event loop, not a timer per chunk: a read that waits registers its
task with a deadline (a dict store), and takes it back when the chunk comes (a dict pop).
The timer runs only while some read waits, every `period` seconds (a quarter of the
timeout, at most one second), and cancels the tasks whose deadline has passed; the reader
turns that cancellation into `BodyTimeout` (408). A timeout fires between `timeout` and
`timeout + period` seconds after the last chunk. (A read that gets the whole body in one
call, Granian's `await proto()` of a Content-Length body up to 256 KiB, is given the
timeout per 64 KiB begun: `servers/rsgi.py`.) Requests without a body never come here.

The sweeper only cancels a task registered as waiting, and a reader registers just before
its await and takes itself off as soon as the await returns (no await in between), so the
CancelledError is always delivered at that read's await (a task scheduled to resume with
its chunk and cancelled in the same loop turn gets the CancelledError at that same await:
the chunk is lost, the read timed out).
"""

from __future__ import annotations

import asyncio
import math
import weakref
from collections.abc import Awaitable
from time import monotonic
from typing import TYPE_CHECKING, Any, TypeVar

from ..exceptions import BodyTimeout, ConfigurationError

if TYPE_CHECKING:
    from ..app import App

T = TypeVar("T")

DEFAULT_BODY_TIMEOUT = 30.0


def check_body_limits(max_body_size: int, body_timeout: object) -> tuple[int, float | None]:
    """`App(max_body_size=, body_timeout=)`, checked (at construction)."""
    if max_body_size < 0:
        raise ConfigurationError(f"max_body_size must be >= 0, got {max_body_size}")
    return max_body_size, check_body_timeout(body_timeout)


def check_body_timeout(value: object) -> float | None:
    """`App(body_timeout=)`: seconds > 0 (finite), or None for no timeout."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ConfigurationError(f"body_timeout must be a number of seconds or None: {value!r}")
    if not math.isfinite(value) or value <= 0:
        raise ConfigurationError(f"body_timeout must be > 0 seconds (or None): {value!r}")
    return float(value)


class BodyDeadlines:
    """The body reads waiting on one loop, and the timer that times them out.

    A reader registers its task with a deadline just before a read's await, and takes it
    off just after (PERF: a dict store and a dict pop, no wrapper coroutine:
    benchmarks/bench_body_timeout.py); the RSGI Content-Length read does it inline:

        task = current_task()
        clock.waiting[task] = monotonic() + clock.timeout
        clock.wake()
        try:
            body = await read()
        except asyncio.CancelledError:
            clock.timed_out(task)  # raises BodyTimeout if the sweeper cancelled it
            raise
        finally:
            clock.waiting.pop(task, None)

    and `read(awaitable)` does the same for the other reads.
    """

    __slots__ = ("_expired", "_handle", "_loop", "_period", "loop", "timeout", "waiting")

    def __init__(self, loop: asyncio.AbstractEventLoop, timeout: float) -> None:
        self._loop = self.loop = loop
        self.timeout = timeout
        self._period = min(timeout / 4, 1.0)
        #: task -> deadline (time.monotonic()) of the body read it waits on
        self.waiting: dict[asyncio.Task[Any], float] = {}
        self._expired: set[asyncio.Task[Any]] = set()
        self._handle: asyncio.TimerHandle | None = None

    def wake(self) -> None:
        """Start the timer if it is not running (it stops when no read waits)."""
        if self._handle is None:
            self._handle = self._loop.call_later(self._period, self._sweep)

    def timed_out(self, task: asyncio.Task[Any], allowed: float | None = None) -> None:
        """In a reader's `except CancelledError`: `BodyTimeout` if the cancellation was
        the sweeper's (and nobody else's); otherwise return, and the reader re-raises.
        `allowed`: the seconds the read was given, when not the timeout."""
        if task not in self._expired:
            return
        self._expired.discard(task)
        if task.uncancel() == 0:
            raise BodyTimeout(self.timeout if allowed is None else allowed) from None

    async def read(self, awaitable: Awaitable[T]) -> T:
        """Await `awaitable` as one body read (the pattern above)."""
        task = asyncio.current_task()
        if task is None:  # not in a task (nothing to cancel): no timeout
            return await awaitable
        self.waiting[task] = monotonic() + self.timeout
        if self._handle is None:
            self._handle = self._loop.call_later(self._period, self._sweep)
        try:
            return await awaitable
        except asyncio.CancelledError:
            self.timed_out(task)
            raise
        finally:
            self.waiting.pop(task, None)

    def _sweep(self) -> None:
        self._handle = None
        waiting = self.waiting
        now = monotonic()
        for task in [task for task, deadline in waiting.items() if deadline <= now]:
            del waiting[task]
            self._expired.add(task)
            task.cancel()
        if waiting:
            self._handle = self._loop.call_later(self._period, self._sweep)


_BY_LOOP: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[float, BodyDeadlines]] = (
    weakref.WeakKeyDictionary()
)


def body_deadlines(app: App) -> BodyDeadlines | None:
    """The running loop's deadlines for `app.body_timeout`; None when it is off."""
    timeout = app.body_timeout
    if timeout is None:
        return None
    loop = asyncio.get_running_loop()
    # PERF: the app's last clock first (a WeakKeyDictionary lookup makes a weakref)
    clock: BodyDeadlines | None = app.__dict__.get("_body_clock")
    if clock is not None and clock.loop is loop and clock.timeout == timeout:
        return clock
    clocks = _BY_LOOP.get(loop)
    if clocks is None:
        clocks = _BY_LOOP[loop] = {}
    clock = clocks.get(timeout)
    if clock is None:
        clock = clocks[timeout] = BodyDeadlines(loop, timeout)
    app.__dict__["_body_clock"] = clock
    return clock
