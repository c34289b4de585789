"""The loop-blocking detector: a heartbeat on the loop, a watchdog thread beside it.

A thread wakes every `threshold / 2` seconds and asks the loop, with
`call_soon_threadsafe`, to answer (one ask at a time). An ask still unanswered after
`threshold` means the loop has not turned for that long (a handler called `time.sleep` or
`requests.get` inside `async def`, say): the thread takes the loop thread's stack
(`sys._current_frames`) while the loop is still stuck, finds the request being served on
it, logs one warning for the stall and counts it per route. An ask answered over
`threshold` late, a stall that ended before the thread looked again, is reported when the
answer comes, without a stack. It works on any loop (asyncio, uvloop): it needs nothing but
`call_soon_threadsafe`.

The figures are lower bounds (the time since the ask), never overestimates: a stall of
`threshold` plus `threshold / 2` is always reported, a shorter one over `threshold` may
not be. Strict mode (`ambi.testing`) looks more often and also checks after each
request (`settle()`).

The request on the stack: a function that serves requests (`App.dispatch`) is marked with
`@running_route(describe)`; `describe(frame_locals)` gives the route, method and path of
the request that frame serves. Nothing happens per request: the frames are read only
when the loop is stuck.
"""

from __future__ import annotations

import asyncio
import collections
import logging
import selectors
import sys
import threading
import time
import traceback
import types
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

logger = logging.getLogger("ambi.execution")

F = TypeVar("F", bound=Callable[..., Any])

#: Seconds of loop lags kept for `Watchdog.max_lag()`.
LAG_WINDOW = 60.0


@dataclass(frozen=True, slots=True)
class RunningRoute:
    """What a frame marked with `running_route` was serving."""

    route: str  # the route as registered: "GET /items/{item_id}"
    method: str
    path: str


@dataclass(frozen=True, slots=True)
class LoopBlock:
    """One stall of the event loop."""

    seconds: float  # how long the loop had not turned when it was noticed
    running: RunningRoute | None  # the request being served, if one was on the stack
    stack: str  # the loop thread's stack at that moment
    at: float = field(default_factory=time.time)  # when it was noticed (Unix time)

    @property
    def route(self) -> str:
        return self.running.route if self.running is not None else "(no route)"

    def describe(self) -> str:
        where = (
            f"by {self.running.method} {self.running.path} (route {self.running.route})"
            if self.running is not None
            else "outside any route"
        )
        return (
            f"the event loop was blocked for {self.seconds * 1000:.0f} ms {where}; "
            f"the loop thread was at:\n{self.stack}"
        )


_STARVED = (
    "(the loop thread was waiting for events, not running code: it did not get the CPU or "
    "the GIL, say from CPU-bound work in other threads)\n"
)

_describers: dict[types.CodeType, Callable[[Mapping[str, Any]], RunningRoute | None]] = {}


def running_route(describe: Callable[[Mapping[str, Any]], RunningRoute | None]) -> Callable[[F], F]:
    """Mark a request-serving function: in its frames, `describe(locals)` names the request."""

    def mark(fn: F) -> F:
        _describers[fn.__code__] = describe
        return fn

    return mark


def _find_running(frame: types.FrameType | None) -> RunningRoute | None:
    while frame is not None:
        describe = _describers.get(frame.f_code)
        if describe is not None:
            try:
                found = describe(frame.f_locals)
            except Exception:  # a half-set-up frame: keep looking further out
                found = None
            if found is not None:
                return found
        frame = frame.f_back
    return None


class Watchdog:
    """Notices stalls of one event loop; `listeners` are called with each `LoopBlock`."""

    def __init__(
        self,
        threshold: float,
        on_block: Callable[[LoopBlock], None],
        period: float | None = None,
    ) -> None:
        self.threshold = threshold
        #: how often the thread looks, and asks the loop to answer if the last ask was.
        # PERF: each look takes the GIL from a busy loop thread and wakes the loop, so it
        # looks seldom: 20 times a second at 100 ms (idle, on a loaded machine: 0.4% of a
        # core; a timer beat on the loop every 12.5 ms cost 0.9%; benchmarks/RESULTS.md).
        self.period = threshold / 2 if period is None else period
        self._on_block = on_block
        self.listeners: list[Callable[[LoopBlock], None]] = []
        self._loop: asyncio.AbstractEventLoop | None = None
        self._loop_thread: int | None = None
        self._beat = time.monotonic()  # when the loop last answered
        self._asked: float | None = None  # when the unanswered ask was sent
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()  # one look at a time: the thread's or the loop's
        self._stalled = False  # this stall is reported
        #: the loop's lag: how long the latest answered ask waited for its turn (seconds);
        #: the lags of the last minute are kept for `max_lag()` (the metrics read both)
        self.lag = 0.0
        self._lags: collections.deque[float] = collections.deque(
            maxlen=int(LAG_WINDOW / self.period) + 1
        )

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self, loop: asyncio.AbstractEventLoop) -> None:
        """Start watching `loop` (call on the loop's thread)."""
        self.stop()
        self._loop = loop
        self._loop_thread = threading.get_ident()
        self._stop = threading.Event()
        self._beat = time.monotonic()
        self._asked = None
        self._stalled = False
        self._thread = threading.Thread(target=self._watch, name="ambi-watchdog", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop the thread (from any thread)."""
        self._stop.set()
        thread, self._thread = self._thread, None
        if thread is not None and thread is not threading.current_thread():
            thread.join(1.0)

    def _watch(self) -> None:
        stop = self._stop
        loop = self._loop
        while not stop.wait(self.period):
            if loop is None or loop.is_closed() or sys.is_finalizing():
                return
            with self._lock:
                if not loop.is_running():  # driven turn by turn (run_until_complete)
                    self._beat, self._asked, self._stalled = time.monotonic(), None, False
                    continue
                asked = self._asked
                if asked is None:
                    self._asked = time.monotonic()
                    try:
                        loop.call_soon_threadsafe(self._answer, stop)
                    except RuntimeError:  # closed meanwhile
                        return
                elif not self._stalled and time.monotonic() - asked > self.threshold:
                    # Unanswered for that long: the loop is stuck now; its stack says where.
                    self._stalled = True
                    self._report(time.monotonic() - asked, from_loop=False)

    def _answer(self, stop: threading.Event) -> None:
        """On the loop: it turned. An ask answered late means a stall the thread missed."""
        if stop.is_set():
            return
        with self._lock:
            self._end_of_stall()
            beat = time.monotonic()
            if self._asked is not None:
                self.lag = beat - self._asked
                self._lags.append(self.lag)
            self._beat, self._asked, self._stalled = beat, None, False

    def max_lag(self) -> float:
        """The largest lag of the last `LAG_WINDOW` seconds, counting an ask unanswered
        now (a loop stuck at this moment)."""
        with self._lock:
            asked = self._asked
            pending = time.monotonic() - asked if asked is not None else 0.0
            return max(max(self._lags, default=0.0), pending)

    def settle(self) -> None:
        """On the loop thread, after a request (strict mode): report a stall that has just
        ended before the thread looked, and wait for a report the thread is making."""
        with self._lock:
            self._end_of_stall()

    def _end_of_stall(self) -> None:
        if self._stalled:
            return
        now = time.monotonic()
        asked = self._asked
        # Unanswered since `asked`: stuck at least since then. Else the last answer is at
        # most `period` older than the last turn before a stall.
        silent = now - asked if asked is not None else now - self._beat - self.period
        if silent > self.threshold:
            self._stalled = True
            self._report(silent, from_loop=True)

    def _report(self, silent: float, *, from_loop: bool) -> None:
        if from_loop:
            stack, running = "(the stall had ended before the watchdog thread looked)\n", None
        else:
            frame = sys._current_frames().get(self._loop_thread or 0)
            stack = "".join(traceback.format_stack(frame)) if frame is not None else "?\n"
            if frame is not None and frame.f_code.co_filename == selectors.__file__:
                stack += _STARVED
            running = _find_running(frame)
            del frame
        block = LoopBlock(silent, running, stack)
        self._on_block(block)
        for listener in list(self.listeners):
            listener(block)
