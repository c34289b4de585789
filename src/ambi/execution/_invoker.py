"""`Invoker`: a user callable compiled, once, to run where it belongs."""

from __future__ import annotations

import asyncio
import contextvars
import functools
from collections.abc import Awaitable, Callable
from contextlib import AbstractAsyncContextManager
from typing import TYPE_CHECKING, Any

from ._adaptive import Adaptive, make_adaptive
from ._classify import ExecutionKind, Shape, classify, is_awaitable, shape_of
from ._contexts import enter_result, enter_shape
from ._pool import call_sync

if TYPE_CHECKING:
    from ._engine import Engine

_copy_context = contextvars.copy_context


class Invoker:
    """A user callable compiled for one engine: `await invoker(*args, **kwargs)`.

    The kind (where it runs) and the shape (what calling it gives) are decided once, here;
    calling never re-inspects the callable. `await invoker(...)` gives what calling the
    callable gives, with coroutines awaited: for a generator or context-manager function,
    the generator or context manager itself; `invoker.enter(...)` enters it instead.

    `route` names the route whose handler this is ("GET /items/{id}"): such an invoker
    refuses work with a 503 when the pool's queue is full, and a `def` handler with
    `run="auto"` runs adaptively (`ambi.execution._adaptive`) when the engine allows it.
    `refusable=False` keeps the adaptive policy but never refuses: work that must run
    once the request is under way (a route's dependency cleanup after its response). It
    goes to the pool's cleanup threads (`Engine.run_cleanup`), never behind route jobs,
    which may be waiting for what it releases.
    """

    __slots__ = (
        "__call__",
        "adaptive",
        "engine",
        "fn",
        "kind",
        "name",
        "refusable",
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
        refusable: bool = True,
    ) -> None:
        self.fn = fn
        self.engine = engine
        self.refusable = refusable
        self.kind = classify(fn, run)
        self.shape = shape_of(fn)
        self.route = route
        self.name: str = getattr(fn, "__qualname__", None) or repr(fn)
        #: the adaptive-inline state of a `def` route handler with run="auto"
        self.adaptive: Adaptive | None = None
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
        if run != "auto" or self.engine.inline_threshold is None:
            return self.pooled
        return make_adaptive(self, self.engine, self.route)

    @property
    def inline_state(self) -> str | None:
        """For an adaptive handler: "pool" (proving itself), "inline", "demoted" (pool for
        good), "pinned" (never inline); None for every other callable."""
        return None if self.adaptive is None else self.adaptive.state

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

    def pooled(self, *args: Any, **kwargs: Any) -> asyncio.Future[Any]:
        """A route handler's call in the pool: refused (503) when the queue is full; with
        `refusable=False`, never refused and run on the pool's cleanup threads."""
        if not self.refusable:
            return self.engine.run_cleanup(call_sync, self.fn, args, kwargs)
        return self.engine.submit_route_job(
            self.route or self.name, call_sync, self.fn, args, kwargs
        )

    def _process(self, *args: Any, **kwargs: Any) -> asyncio.Future[Any]:
        fn = functools.partial(self.fn, **kwargs) if kwargs else self.fn
        return self.engine.run_in_process(fn, *args)

    async def _inline(self, *args: Any, **kwargs: Any) -> Any:
        result = _copy_context().run(self.fn, *args, **kwargs)
        if is_awaitable(result):
            return await result
        return result
