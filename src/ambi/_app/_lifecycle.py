"""`App`'s lifecycle: startup and shutdown (the engine, the lifespan, the mounts, the
`startup` / `shutdown` hooks of `on_event`), and the exception handlers registered on it."""

from __future__ import annotations

import functools
import gc
import logging
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from ..exceptions import ConfigurationError
from ..execution import Invoker
from ..http import Request
from ..servers import _shutdown
from . import _heap

if TYPE_CHECKING:
    from .._mount import Mounts
    from ..execution import Engine

logger = logging.getLogger("ambi.app")

F = TypeVar("F", bound=Callable[..., Any])
ExceptionHandler = Callable[[Request, Any], Any]


class LifecycleMixin:
    """Starting and stopping `App`, and the hooks and handlers it runs meanwhile."""

    engine: Engine
    shutdown_timeout: float
    freeze_gc: bool | None
    malloc_trim_threshold: int | bool | None
    lifespan_state: dict[str, Any]
    _started: bool
    _lifespan: Invoker | None
    _lifespan_exit: Callable[[], Any] | None
    _mounts: Mounts
    _hooks: dict[str, list[Invoker]]
    _exception_handlers: dict[type[BaseException] | int, Invoker]

    if TYPE_CHECKING:

        def freeze(self) -> None: ...

    # Events and exception handlers -------------------------------------------------------

    def on_event(self, event: str) -> Callable[[F], F]:
        """Register a `startup` or `shutdown` hook (sync or async)."""

        def decorator(fn: F) -> F:
            self.add_event_handler(event, fn)
            return fn

        return decorator

    def add_event_handler(self, event: str, fn: Callable[[], Any]) -> None:
        if event not in self._hooks:
            raise ConfigurationError(f"unknown event {event!r}; use 'startup' or 'shutdown'")
        self._hooks[event].append(Invoker(fn, self.engine))

    def exception_handler(self, key: type[BaseException] | int) -> Callable[[F], F]:
        """Register `handler(request, exc)` (sync or async) for an exception class or status."""

        def decorator(fn: F) -> F:
            self.add_exception_handler(key, fn)
            return fn

        return decorator

    def add_exception_handler(self, key: type[BaseException] | int, fn: ExceptionHandler) -> None:
        valid_class = isinstance(key, type) and issubclass(key, BaseException)
        if not valid_class and not (isinstance(key, int) and 400 <= key <= 599):
            raise ConfigurationError(
                f"exception handlers are keyed by an exception class or a 4xx/5xx status, "
                f"not {key!r}"
            )
        self._exception_handlers[key] = Invoker(fn, self.engine)

    # Lifecycle ----------------------------------------------------------------------------

    def _being_served(self) -> None:
        """A server's process keeps its startup objects to the end: freeze them out of the
        collector's scans after startup, unless `freeze_gc` says otherwise (a test client
        never calls this, so its app stays unfrozen)."""
        if self.freeze_gc is None:
            self.freeze_gc = True
        if self.malloc_trim_threshold is None:
            self.malloc_trim_threshold = _heap.served_default()

    async def startup(self) -> None:
        """Start the pools, enter the lifespan, run the startup hooks (once)."""
        await self.engine.startup()  # (re)bind to the running loop, even when already started
        cut = functools.partial(_shutdown.cut_in_flight, self)  # type: ignore[arg-type]
        self.engine.give_up_hooks[:] = [cut]
        if self._started:
            return
        self.freeze()
        _heap.apply_trim_threshold(self.malloc_trim_threshold)
        if self._lifespan is not None:
            await self._enter_lifespan(self._lifespan)
        await self._mounts.startup()
        for hook in self._hooks["startup"]:
            await hook()
        self._started = True
        _shutdown.report(_shutdown.UP)  # the runner expects this process's shutdown now
        if self.freeze_gc:
            # PERF: what exists after startup (routes, compiled validators, pools, modules)
            # lives as long as the process: move it out of the collector's sight, so the
            # garbage of each request no longer triggers scans over all of it. Measured on
            # POST /orders: p99 10-11 ms -> 3.6-3.9 ms, same req/s (bench_gc_freeze.py).
            gc.collect()
            gc.freeze()

    async def shutdown(self) -> None:
        """Run the shutdown hooks, leave the lifespan, stop the pools."""
        if not self._started:
            return
        self._started = False
        await self.engine.drain(self.shutdown_timeout)  # in-flight work first, then hooks
        errors: list[BaseException] = []
        for hook in self._hooks["shutdown"]:
            try:
                await hook()
            except Exception as exc:
                logger.exception("shutdown hook %s failed", hook.name)
                errors.append(exc)
        try:
            await self._mounts.shutdown()
        except Exception as exc:
            errors.append(exc)
        if self._lifespan_exit is not None:
            leave, self._lifespan_exit = self._lifespan_exit, None
            await leave()
        _shutdown.report(_shutdown.UNCLEAN if self.engine.cut_short else _shutdown.CLEAN)
        self.engine.cut_short = False
        self.engine.cut.clear()
        self.engine.stop(self.shutdown_timeout)
        if errors:
            raise errors[0]

    async def _enter_lifespan(self, lifespan: Invoker) -> None:
        """Enter `lifespan(app)`, an async or a sync context manager, through ambi.execution
        (a sync one is entered and left in the thread pool); a mapping it yields becomes
        the lifespan state."""
        cm = lifespan.enter(self)
        state = await cm.__aenter__()
        if state is not None and not isinstance(state, Mapping):
            await cm.__aexit__(None, None, None)
            raise ConfigurationError(
                f"a lifespan yields nothing or a mapping (the lifespan state), not {state!r}"
            )
        self._lifespan_exit = functools.partial(cm.__aexit__, None, None, None)
        if state is not None:
            self.lifespan_state = dict(state)
