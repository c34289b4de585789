"""Running a route's dependencies and its handler, in the order the plan gives.

Each dependency is classified once (`ambi.execution`): async functions and async
generators run on the loop, everything else (functions, generators, classes) in the thread
pool. Consecutive sync steps run in ONE pool trip, and a sync handler joins the last run of
sync dependencies: `def` dependencies feeding a `def` handler cost one hand-off in all
(FastAPI hops to a thread for every sync dependency).

Generators are driven as context managers are: the value they yield is the dependency's
value, and their code after `yield` runs when the request is done (after the response
has been sent: `AfterResponse`) or, for `scope="function"`, right after the handler.
The exception a request ended with is thrown into each of them, so `try/except` around
`yield` sees it.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from typing import Any

from .._signature import CallPlan, HandlerPlan
from .._spans import traced_dependency
from ..execution import Engine, ExecutionKind, Invoker, Shape, classify, shape_of
from ..http import Request
from ._after import Exit, after_response, close_exits, enter_sync, exit_batch

logger = logging.getLogger("ambi.app")

_VALUE, _GEN = 0, 1


class _Step:
    """One dependency, compiled: how to call it and where its result goes."""

    __slots__ = ("call", "factory", "index", "is_async", "is_gen", "scoped")

    def __init__(self, call: CallPlan, index: int) -> None:
        fn = call.fn
        self.call = call
        self.index = index
        self.scoped = call.scope == "function"
        self.factory: Callable[..., Any] = fn
        shape = shape_of(fn)
        if shape is Shape.ASYNC_GENERATOR:
            self.is_async, self.is_gen = True, True
        elif shape is Shape.GENERATOR:
            self.is_async, self.is_gen = False, True
        else:
            self.is_async = classify(fn, "auto") is ExecutionKind.ASYNC
            self.is_gen = False

    def trace(self, tracer: Any) -> None:
        """Run in a span of its own (`app.enable_tracing()`); the kind stays as decided."""
        shape = (
            ("async_generator" if self.is_async else "generator")
            if self.is_gen
            else ("async" if self.is_async else "sync")
        )
        self.factory = traced_dependency(tracer, self.factory, self.call.label, shape)


class _Frame:
    """The state of one request through the graph."""

    __slots__ = ("exits", "request", "results", "scoped", "values")

    def __init__(self, request: Request, values: dict[str, Any], size: int) -> None:
        self.request = request
        self.values = values
        self.results: list[Any] = [None] * size
        self.exits: list[Exit] = []  # request scope
        self.scoped: list[Exit] = []  # function scope


def _run_sync(steps: tuple[_Step, ...], frame: _Frame, handler: CallPlan | None) -> Any:
    """Run consecutive sync steps (and the sync handler, when it follows) in one job."""
    request, values, results = frame.request, frame.values, frame.results
    for step in steps:
        kwargs = step.call.kwargs(request, values, results)
        if step.is_gen:
            gen = step.factory(**kwargs)
            results[step.index] = enter_sync(gen)
            (frame.scoped if step.scoped else frame.exits).append((gen, False))
        else:
            results[step.index] = step.factory(**kwargs)
    if handler is not None:
        return handler.fn(**handler.kwargs(request, values, results))
    return None


def _first_trip(
    steps: tuple[_Step, ...], handler: CallPlan | None, name: str
) -> Callable[[_Frame], Any]:
    def first_trip(frame: _Frame) -> Any:
        return _run_sync(steps, frame, handler)

    first_trip.__qualname__ = f"{name} (with its dependencies)"
    return first_trip


class DependencyRunner:
    """Validates a route's inputs once, runs its dependencies and calls its handler."""

    __slots__ = (
        "_cleanup",
        "_first",
        "_handler_in_batch",
        "_segments",
        "_traced",
        "engine",
        "invoker",
        "label",
        "plan",
        "size",
    )

    def __init__(self, plan: HandlerPlan, invoker: Invoker, engine: Engine, label: str) -> None:
        self.plan = plan
        self.invoker = invoker
        self.engine = engine
        self.label = label
        steps = [_Step(call, index) for index, call in enumerate(plan.dependencies)]
        self._traced = False
        self.size = len(steps)
        # Group consecutive sync steps: each group is one pool trip.
        segments: list[tuple[bool, tuple[_Step, ...]]] = []
        for step in steps:
            if not step.is_async and segments and not segments[-1][0]:
                segments[-1] = (False, (*segments[-1][1], step))
            else:
                segments.append((step.is_async, (step,)))
        # A sync handler right after sync steps joins their trip.
        self._handler_in_batch = (
            invoker.kind is ExecutionKind.THREAD and bool(segments) and not segments[-1][0]
        )
        self._segments = tuple(segments)
        # The first trip (sync steps first: the request's first pool job) and the cleanup of
        # sync generators after the response go through `ambi.execution` as the route
        # handler does: timed in the pool, inline once proven trivial (adaptive inline),
        # when the handler may run inline too (or is not in the trip).
        # PERF: /deps-sync without pool trips once promoted (bench_instructions "GET
        # /deps-sync" against "GET /sync-json").
        adaptive = engine.inline_threshold is not None and (
            invoker.adaptive is not None or not self._handler_in_batch
        )
        run = "auto" if adaptive else "thread"
        self._first: Invoker | None = None
        if segments and not segments[0][0]:
            joins = self._handler_in_batch and len(segments) == 1
            self._first = Invoker(
                _first_trip(segments[0][1], plan.handler if joins else None, invoker.name),
                engine,
                run,
                route=label,
            )
        self._cleanup = Invoker(exit_batch, engine, run, route=label, refusable=False)
        if engine.tracer is not None:  # app.enable_tracing() before the route was added
            self.trace(engine.tracer)

    def trace(self, tracer: Any) -> None:
        """Run each dependency in a span of its own (`app.enable_tracing()`, at startup)."""
        if not self._traced:
            self._traced = True
            for _, steps in self._segments:
                for step in steps:
                    step.trace(tracer)

    async def __call__(self, request: Request) -> Any:
        frame = _Frame(request, self.plan.validate(request), self.size)
        try:
            result = await self._run(frame)
        except BaseException as exc:
            self._hand_over(frame, exc)
            if frame.scoped:
                await self._close_scoped(frame, exc)
            raise
        self._hand_over(frame, None)
        if frame.scoped:
            await self._close_scoped(frame, None)
        return result

    async def _run(self, frame: _Frame) -> Any:
        handler = self.plan.handler
        request, values, results = frame.request, frame.values, frame.results
        last = len(self._segments) - 1
        for position, (is_async, steps) in enumerate(self._segments):
            if is_async:
                # PERF: async steps run here, not in a coroutine of their own each (GET
                # /deps in callgrind instruction counts).
                step = steps[0]
                kwargs = step.call.kwargs(request, values, results)
                if step.is_gen:
                    gen = step.factory(**kwargs)
                    try:
                        results[step.index] = await gen.__anext__()
                    except StopAsyncIteration:
                        raise RuntimeError(f"dependency {step.call.label} did not yield") from None
                    (frame.scoped if step.scoped else frame.exits).append((gen, True))
                else:
                    results[step.index] = await step.factory(**kwargs)
                continue
            joins = self._handler_in_batch and position == last
            if position == 0:  # the request's first trip: refused (503) when the queue is full
                result = await self._first(frame)  # type: ignore[misc]
            else:
                call = handler if joins else None
                result = await self.engine.run_in_thread(_run_sync, steps, frame, call)
            if joins:
                return result
        return await self.invoker(**handler.kwargs(request, values, results))

    def _hand_over(self, frame: _Frame, error: BaseException | None) -> None:
        """Give request-scoped cleanups (and the exception the request ended with) to the
        after-send work."""
        if frame.exits:
            after = after_response(frame.request, self.label)
            after.exits.extend(frame.exits)
            after.run_batch = self._cleanup
            if error is not None:
                after.error = error
        elif error is not None and frame.request._after is not None:
            frame.request._after.error = error

    async def _close_scoped(self, frame: _Frame, error: BaseException | None) -> None:
        """Run function-scoped cleanups now; a different exception one of them raises
        replaces the request's."""
        run_batch = functools.partial(self.engine.run_cleanup, exit_batch)
        raised = await close_exits(frame.scoped, error, run_batch, _ignore)
        if raised is not None and raised is not error:
            raise raised


def _ignore(exc: BaseException) -> None:
    """Function-scoped cleanup errors become the request's error instead of a log line."""
