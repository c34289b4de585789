"""The loop-blocking detector: a heartbeat on the loop, a watchdog thread beside it.

The loop runs a tiny callback every `threshold / 8` seconds that notes the time. A thread
checks that note every `threshold / 2`; when the loop has not turned for longer than
`threshold` (a handler called `time.sleep` or `requests.get` inside `async def`, say), it
takes the loop thread's stack (`sys._current_frames`) while the loop is still stuck, finds
the request being served on it, logs one warning for the stall and counts it per route.
It works on any loop (asyncio, uvloop): it needs nothing but `call_later`.

A stall is noticed within `threshold / 2` of lasting `threshold` (strict mode's
`settle()` catches one that ended sooner); the figure reported is how long the loop had
not turned when the watchdog looked.

The request on the stack: a function that serves requests (`App.dispatch`) is marked with
`@running_route(describe)`; `describe(frame_locals)` gives the route, method and path of
the request that frame serves. Nothing happens per request: the frames are read only
when the loop is stuck.
"""

from __future__ import annotations

import asyncio
import logging
import selectors
import sys
import threading
import time
import traceback
import types
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

logger = logging.getLogger("ambi.execution")

F = TypeVar("F", bound=Callable[..., Any])


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

    def __init__(self, threshold: float, on_block: Callable[[LoopBlock], None]) -> None:
        self.threshold = threshold
        #: how often the loop notes the time (a callback on the loop: cheap)
        self.interval = threshold / 8
        #: how often the thread looks. Each look takes the GIL from a busy loop thread (a
        # forced switch after 5 ms), so it looks seldom: 20 times a second at 100 ms.
        # PERF: at threshold/8 the detector cost 7% of /json on a contended core
        # (benchmarks/RESULTS.md, detector overhead).
        self.period = threshold / 2
        self._on_block = on_block
        self.listeners: list[Callable[[LoopBlock], None]] = []
        self._loop: asyncio.AbstractEventLoop | None = None
        self._loop_thread: int | None = None
        self._beat = time.monotonic()
        self._handle: asyncio.TimerHandle | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()  # one check at a time: the thread's, or settle()'s
        self._stalled = False

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
        self._stalled = False
        self._handle = loop.call_later(self.interval, self._tick, loop, self._stop)
        self._thread = threading.Thread(target=self._watch, name="ambi-watchdog", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop the thread and the heartbeat (from any thread)."""
        self._stop.set()
        handle, self._handle = self._handle, None
        if handle is not None and threading.get_ident() == self._loop_thread:
            handle.cancel()  # elsewhere the next beat sees the stop and ends the chain
        thread, self._thread = self._thread, None
        if thread is not None and thread is not threading.current_thread():
            thread.join(1.0)

    def _tick(self, loop: asyncio.AbstractEventLoop, stop: threading.Event) -> None:
        if stop.is_set():  # this chain's watch ended (a later start() has its own)
            return
        self._beat = time.monotonic()
        self._handle = loop.call_later(self.interval, self._tick, loop, stop)

    def _watch(self) -> None:
        stop = self._stop
        loop = self._loop
        while not stop.wait(self.period):
            if loop is None or loop.is_closed() or sys.is_finalizing():
                return
            with self._lock:
                if not loop.is_running():  # driven turn by turn (run_until_complete)
                    self._beat = time.monotonic()
                    self._stalled = False
                    continue
                self._check(from_loop=False)

    def settle(self) -> None:
        """On the loop thread: report now a stall that just ended before the watchdog thread
        looked (strict mode calls this after each request, so none goes unseen); wait for
        a report the thread is making."""
        with self._lock:
            self._check(from_loop=True)

    def _check(self, *, from_loop: bool) -> None:
        silent = time.monotonic() - self._beat
        if silent <= self.threshold:
            self._stalled = False
        elif not self._stalled:
            self._stalled = True  # one report per stall, however long
            self._report(silent, from_loop=from_loop)

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
