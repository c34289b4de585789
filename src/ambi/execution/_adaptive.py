"""Adaptive inline: a `def` route handler runs inline on the loop once it has proven fast.

It starts in the thread pool, where each call is timed in its worker. After `after` calls
in a row under `threshold` it is promoted: it runs inline, timed there. It is demoted to
the pool for good (and that is logged) by one inline call over `stall_limit`; or, when an
inline call takes over `threshold` (but under the stall limit), the next `CHECKED_CALLS`
calls are watched closely, and `STRIKES` of them over the threshold *because of the
handler* demote it. "Because of the handler" is read from the thread's resource usage
(Linux): the call waited (a voluntary context switch: sleep, I/O, a lock) or computed
(CPU time over the threshold); a call that was only preempted by the OS is noise. So it
stalls the loop at most once, or a few milliseconds a few times, and never again; and a
trivial handler is not demoted by noise (measured in benchmarks/RESULTS.md: on a loaded
machine a 2 µs handler took over 0.5 ms inline about once in 15,000 calls, preempted,
and up to 16 ms). Where threads' resource usage cannot be read, every slow call counts.

A handler that waits for the app's loop through the bridge, or returns an awaitable, is
pinned to the pool: inline, it would wait for the loop it blocks. The invoker's call is
swapped by assigning `invoker.__call__`: no per-call branch on the state.
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
import resource
import time
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

from ._classify import is_awaitable
from ._pool import AwaitOnLoop, take_loop_use

if TYPE_CHECKING:
    from ._engine import Engine
    from ._invoker import Invoker

logger = logging.getLogger("ambi.execution")

#: After an inline call over the threshold, how many calls are watched closely, and how
#: many of them over the threshold because of the handler demote it.
CHECKED_CALLS = 1000
STRIKES = 2

_RUSAGE_THREAD: int | None = getattr(resource, "RUSAGE_THREAD", None)  # Linux

_perf_counter = time.perf_counter
_copy_context = contextvars.copy_context


class Adaptive:
    """The adaptive state of one route handler; `pooled` / `inline` are its calls."""

    __slots__ = (
        "_after",
        "_checking",
        "_inline_call",
        "_refusable",
        "_stall",
        "_streak",
        "_strikes",
        "_threshold",
        "engine",
        "fn",
        "invoker",
        "label",
        "state",
    )

    def __init__(self, invoker: Invoker, engine: Engine, label: str) -> None:
        self.invoker = invoker
        self.fn = invoker.fn
        self.engine = engine
        self.label = label
        #: "pool" (proving itself), "inline", "demoted" (pool for good), "pinned" (never)
        self.state = "pool"
        self._threshold = engine.inline_threshold or 0.0
        self._stall = engine.inline_stall_limit
        self._after = engine.inline_after
        self._streak = 0
        self._checking = 0  # calls left to watch closely
        self._strikes = 0
        #: The call while inline and not watched closely: `inline`, or `inline_one`.
        self._inline_call: Callable[..., Any] = self.inline
        #: A pooled call is a route job (refused with a 503 when the queue is full), or
        #: plain work that must run (`Invoker(refusable=False)`).
        self._refusable = invoker.refusable

    def pooled(self, *args: Any, **kwargs: Any) -> asyncio.Future[Any]:
        if self._refusable:
            return self.engine.submit_route_job(self.label, self._timed, args, kwargs)
        return self.engine.run_cleanup(self._timed, args, kwargs)

    def _timed(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        """In a worker: the call, timed, and the promotion decision."""
        take_loop_use()
        started = _perf_counter()
        try:
            result = self.fn(*args, **kwargs)
        finally:
            elapsed = _perf_counter() - started
            if take_loop_use():
                self._pin("it waits for the event loop through the bridge")
            elif elapsed < self._threshold:
                self._streak += 1
                if self._streak >= self._after and self.state == "pool":
                    self._promote()
            else:
                self._streak = 0
        if is_awaitable(result):
            self._pin("it returns an awaitable")
            return AwaitOnLoop(result, _copy_context())
        return result

    async def inline(self, *args: Any, **kwargs: Any) -> Any:
        started = _perf_counter()
        try:
            return _copy_context().run(self.fn, *args, **kwargs)
        finally:
            elapsed = _perf_counter() - started
            if elapsed > self._threshold:
                self._suspect(elapsed)

    async def inline_one(self, arg: Any) -> Any:
        """`inline` for a callable always called with one positional argument (see
        `called_with_one_argument`)."""
        # PERF: no arguments packed and spread again (a list, a tuple and a dict per call;
        # bench_instructions "GET /deps-sync": its trip, `first_trip(request)`).
        started = _perf_counter()
        try:
            return _copy_context().run(self.fn, arg)
        finally:
            elapsed = _perf_counter() - started
            if elapsed > self._threshold:
                self._suspect(elapsed)

    def called_with_one_argument(self) -> None:
        """Every caller passes exactly one positional argument: inline, `inline_one` is
        the call."""
        self._inline_call = self.inline_one
        if self.invoker.__call__ == self.inline:
            self.invoker.__call__ = self.inline_one

    async def inline_checked(self, *args: Any, **kwargs: Any) -> Any:
        """`inline`, also reading the thread's resource usage around the call."""
        before = _usage()
        started = _perf_counter()
        try:
            return _copy_context().run(self.fn, *args, **kwargs)
        finally:
            elapsed = _perf_counter() - started
            self._judge(elapsed, before, _usage())

    def call_now(self, fn: Callable[..., Any], *args: Any) -> Any:
        """While inline (`state == "inline"`): `fn(*args)`, the invoker's own call or a part
        of it (resuming one generator of a route's cleanup), made without a coroutine, for
        a caller that is not one (a route's dependency cleanup from `Request.finish`).
        Timed and judged as `inline` / `inline_checked` do."""
        # PERF: the coroutine of `inline` saved where it is all there is to await
        # (bench_instructions "GET /deps-sync"); `inline` keeps its own body, as the route
        # handler's call (GET /sync-json) must not pay a call more.
        if self._checking > 0:  # watched closely: `inline_checked`
            before = _usage()
            started = _perf_counter()
            try:
                return _copy_context().run(fn, *args)
            finally:
                self._judge(_perf_counter() - started, before, _usage())
        started = _perf_counter()
        try:
            return _copy_context().run(fn, *args)
        finally:
            elapsed = _perf_counter() - started
            if elapsed > self._threshold:
                self._suspect(elapsed)

    def step_now(self, gen: Iterator[Any], default: Any) -> Any:
        """`call_now(next, gen, default)`: one step of a generator (a route's dependency
        cleanup), with no arguments spread."""
        # PERF: no list made and turned into a tuple per call (bench_instructions "GET
        # /deps-sync").
        if self._checking > 0:
            return self.call_now(next, gen, default)
        started = _perf_counter()
        try:
            return _copy_context().run(next, gen, default)
        finally:
            elapsed = _perf_counter() - started
            if elapsed > self._threshold:
                self._suspect(elapsed)

    def _suspect(self, elapsed: float) -> None:
        if elapsed > self._stall:
            self._demote(elapsed, f"over the {self._stall * 1000:.0f} ms stall limit")
        elif self.state == "inline":
            self._checking = CHECKED_CALLS
            self._strikes = 0
            self.invoker.__call__ = self.inline_checked

    def _judge(self, elapsed: float, before: _Usage | None, after: _Usage | None) -> None:
        if elapsed > self._stall:
            self._demote(elapsed, f"over the {self._stall * 1000:.0f} ms stall limit")
            return
        if elapsed > self._threshold and _handlers_fault(before, after, self._threshold):
            self._strikes += 1
            if self._strikes >= STRIKES:
                self._demote(elapsed, f"{STRIKES} calls over the threshold in {CHECKED_CALLS}")
                return
        self._checking -= 1
        if self._checking <= 0 and self.state == "inline":
            self.invoker.__call__ = self._inline_call  # it was noise

    def _promote(self) -> None:
        self.state = "inline"
        self.invoker.__call__ = self._inline_call
        self.engine.stats.promoted[self.label] = self._streak
        logger.debug(
            "%s: %d calls under %.2f ms in a row; it runs inline on the event loop now",
            self.label,
            self._streak,
            self._threshold * 1000,
        )

    def _demote(self, elapsed: float, why: str) -> None:
        if self.state != "inline":
            return
        self.state = "demoted"
        self.invoker.__call__ = self.invoker.pooled
        self.engine.stats.demoted[self.label] = elapsed
        logger.warning(
            "%s (%s) ran inline for %.1f ms, %s, blocking the event loop; it runs in the "
            "thread pool from now on",
            self.label,
            self.invoker.name,
            elapsed * 1000,
            why,
        )

    def _pin(self, why: str) -> None:
        if self.state in ("pinned", "demoted"):
            return
        self.state = "pinned"
        self.invoker.__call__ = self.invoker.pooled
        logger.debug("%s: never inline: %s", self.label, why)


_Usage = tuple[int, float]  # voluntary context switches, CPU seconds (user + system)


def _usage() -> _Usage | None:
    if _RUSAGE_THREAD is None:
        return None
    usage = resource.getrusage(_RUSAGE_THREAD)
    return usage.ru_nvcsw, usage.ru_utime + usage.ru_stime


def _handlers_fault(before: _Usage | None, after: _Usage | None, threshold: float) -> bool:
    """Whether a slow call was slow because of what it did: it waited (a voluntary context
    switch) or computed (CPU time over the threshold); not because the OS preempted it."""
    if before is None or after is None:
        return True  # cannot tell: count it
    return after[0] > before[0] or after[1] - before[1] > threshold


def make_adaptive(invoker: Invoker, engine: Engine, label: str) -> Callable[..., Any]:
    """The first call of an adaptive handler (pooled, timed); see `Adaptive`."""
    adaptive = Adaptive(invoker, engine, label)
    invoker.adaptive = adaptive
    return adaptive.pooled
