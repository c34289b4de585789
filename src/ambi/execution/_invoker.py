"""`Invoker`: a user callable compiled, once, to run where it belongs."""

from __future__ import annotations

import asyncio
import contextvars
import functools
import logging
import time
from collections.abc import Awaitable, Callable
from contextlib import AbstractAsyncContextManager
from typing import TYPE_CHECKING, Any

from ..exceptions import HTTPException
from ._classify import ExecutionKind, Shape, classify, is_awaitable, shape_of
from ._contexts import enter_result, enter_shape
from ._pool import AwaitOnLoop, call_sync, take_loop_use

if TYPE_CHECKING:
    from ._engine import Engine

logger = logging.getLogger("ambi.execution")

_perf_counter = time.perf_counter
_copy_context = contextvars.copy_context


def _overloaded() -> HTTPException:
    return HTTPException(
        503, "too many requests are waiting for the thread pool", {"retry-after": "1"}
    )


class Invoker:
    """A user callable compiled for one engine: `await invoker(*args, **kwargs)`.

    The kind (where it runs) and the shape (what calling it gives) are decided once, here;
    calling never re-inspects the callable. `await invoker(...)` gives what calling the
    callable gives, with coroutines awaited: for a generator or context-manager function,
    the generator or context manager itself; `invoker.enter(...)` enters it instead.

    `route` names the route whose handler this is ("GET /items/{id}"): such an invoker
    refuses work with a 503 when the pool's queue is full, and a `def` handler with
    `run="auto"` runs adaptively (see `_pooled_timed`) when the engine allows it.
    """

    __slots__ = (
        "__call__",
        "_after",
        "_streak",
        "_threshold",
        "engine",
        "fn",
        "inline_state",
        "kind",
        "name",
        "route",
        "shape",
    )

    def __init__(
        self,
        fn: Callable[..., Any],
        engine: Engine,
        run: str = "auto",
        *,
        route: str | None = None,
    ) -> None:
        self.fn = fn
        self.engine = engine
        self.kind = classify(fn, run)
        self.shape = shape_of(fn)
        self.route = route
        self.name: str = getattr(fn, "__qualname__", None) or repr(fn)
        #: for a `def` route handler with run="auto": "pool" (proving itself), "inline",
        #: "demoted" (was slow inline: pool for good), "pinned" (never inline), else None
        self.inline_state: str | None = None
        self._threshold = 0.0
        self._after = 0
        self._streak = 0
        self.__call__: Callable[..., Awaitable[Any]] = self._compile(run)
        if self.kind is ExecutionKind.PROCESS:
            engine.uses_processes = True

    def _compile(self, run: str) -> Callable[..., Awaitable[Any]]:
        kind, shape = self.kind, self.shape
        if shape not in (Shape.VALUE, Shape.COROUTINE):
            return self._produce  # making a generator or context manager runs no user code
        direct = {ExecutionKind.ASYNC: self.fn, ExecutionKind.PROCESS: self._process}
        if kind in direct:
            return direct[kind]
        if kind is ExecutionKind.INLINE:
            return self._inline
        if self.route is None:
            return self._thread
        threshold = self.engine.inline_threshold
        if run != "auto" or threshold is None:
            return self._pooled
        self._threshold = threshold
        self._after = self.engine.inline_after
        self.inline_state = "pool"
        return self._pooled_timed

    def __repr__(self) -> str:
        return f"<Invoker {self.name} kind={self.kind.value} shape={self.shape.value}>"

    def enter(self, *args: Any, **kwargs: Any) -> AbstractAsyncContextManager[Any]:
        """`async with invoker.enter(...) as value:` for a callable giving a context: a
        (async) context manager, a (async) generator yielding once (a dependency with
        cleanup), or a function returning a context manager (a lifespan). Sync steps run
        in the pool, async ones on the loop."""
        shape = self.shape
        if shape is Shape.VALUE or shape is Shape.COROUTINE:
            return enter_result(self.engine, self(*args, **kwargs), self.name)
        return enter_shape(self.engine, shape, self.fn(*args, **kwargs))

    # The ways of calling, one chosen in _compile ------------------------------------------

    async def _produce(self, *args: Any, **kwargs: Any) -> Any:
        return self.fn(*args, **kwargs)

    def _thread(self, *args: Any, **kwargs: Any) -> asyncio.Future[Any]:
        return self.engine.run_in_thread(call_sync, self.fn, args, kwargs)

    def _pooled(self, *args: Any, **kwargs: Any) -> asyncio.Future[Any]:
        engine = self.engine
        threads = engine.threads_for_loop()
        if threads.full:
            engine.stats.rejected[self.route or self.name] += 1
            raise _overloaded()
        return threads.submit(call_sync, self.fn, args, kwargs)

    def _process(self, *args: Any, **kwargs: Any) -> asyncio.Future[Any]:
        fn = functools.partial(self.fn, **kwargs) if kwargs else self.fn
        return self.engine.run_in_process(fn, *args)

    async def _inline(self, *args: Any, **kwargs: Any) -> Any:
        result = _copy_context().run(self.fn, *args, **kwargs)
        if is_awaitable(result):
            return await result
        return result

    # Adaptive inline (run="auto" for a def route handler) ---------------------------------
    #
    # It starts in the pool, where each call is timed in its worker. After `inline_after`
    # calls in a row under `inline_threshold` it is promoted: it runs inline on the loop,
    # timed there. One inline call over the threshold demotes it to the pool for good (and
    # is logged): it stalls the loop at most once. A handler that waits for the app's loop
    # through the bridge, or returns an awaitable, is pinned to the pool (inline, it would
    # deadlock). The call is swapped by assigning `__call__`: no per-call branch.

    def _pooled_timed(self, *args: Any, **kwargs: Any) -> asyncio.Future[Any]:
        engine = self.engine
        threads = engine.threads_for_loop()
        if threads.full:
            engine.stats.rejected[self.route or self.name] += 1
            raise _overloaded()
        return threads.submit(self._timed, args, kwargs)

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
                if self._streak >= self._after and self.inline_state == "pool":
                    self._promote()
            else:
                self._streak = 0
        if is_awaitable(result):
            self._pin("it returns an awaitable")
            return AwaitOnLoop(result, _copy_context())
        return result

    async def _inline_timed(self, *args: Any, **kwargs: Any) -> Any:
        started = _perf_counter()
        try:
            return _copy_context().run(self.fn, *args, **kwargs)
        finally:
            elapsed = _perf_counter() - started
            if elapsed > self._threshold:
                self._demote(elapsed)

    def _promote(self) -> None:
        self.inline_state = "inline"
        self.__call__ = self._inline_timed
        self.engine.stats.promoted[self.route or self.name] = self._streak
        logger.debug(
            "%s: %d calls under %.2f ms in a row; it runs inline on the event loop now",
            self.route or self.name,
            self._streak,
            self._threshold * 1000,
        )

    def _demote(self, elapsed: float) -> None:
        if self.inline_state != "inline":
            return
        self.inline_state = "demoted"
        self.__call__ = self._pooled
        label = self.route or self.name
        self.engine.stats.demoted[label] = elapsed
        logger.warning(
            "%s (%s) ran inline for %.1f ms, over the %.2f ms inline threshold, blocking the "
            "event loop; it runs in the thread pool from now on",
            label,
            self.name,
            elapsed * 1000,
            self._threshold * 1000,
        )

    def _pin(self, why: str) -> None:
        if self.inline_state in ("pinned", "demoted"):
            return
        self.inline_state = "pinned"
        self.__call__ = self._pooled
        logger.debug("%s: never inline: %s", self.route or self.name, why)
