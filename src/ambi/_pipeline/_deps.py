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

The graph is compiled, when the route is, into straight-line code (`_deps_source`): per
request, nothing here inspects a step, loops over steps or builds keyword arguments.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from typing import Any

from .._signature import CallPlan, HandlerPlan
from .._signature._plan import _NO_VALUES
from .._spans import traced_dependency
from ..execution import Engine, ExecutionKind, Invoker, Shape, classify, shape_of
from ..http import Request
from ._after import AfterResponse, PendingExit, close_exits, exit_batch, pending
from ._deps_source import Segment, build, run_function


class Step:
    """One dependency, compiled: how to call it and where its result goes."""

    __slots__ = ("alone", "call", "factory", "index", "is_async", "is_gen", "scoped")

    def __init__(self, call: CallPlan, index: int) -> None:
        fn = call.fn
        self.call = call
        self.index = index
        self.scoped = call.scope == "function"
        #: The route's only request-scoped generator: its cleanup is left on the request
        #: as a `PendingExit` pair (set by `DependencyRunner`).
        self.alone = False
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


def _segments(steps: list[Step]) -> tuple[Segment, ...]:
    """Consecutive sync steps grouped: each group is one pool trip."""
    segments: list[Segment] = []
    for step in steps:
        if not step.is_async and segments and not segments[-1][0]:
            segments[-1] = (False, (*segments[-1][1], step))
        else:
            segments.append((step.is_async, (step,)))
    return tuple(segments)


class DependencyRunner:
    """Validates a route's inputs once, runs its dependencies and calls its handler:
    `await runner.run(request)` (the route hands a failure to the after-send work, see
    `failed`), or `await runner(request)`, which does both."""

    __slots__ = (
        "_alone",
        "_cleanup",
        "_first",
        "_run_label",
        "_segments",
        "_traced",
        "engine",
        "invoker",
        "joins",
        "label",
        "plan",
        "run",
        "source",
    )

    def __init__(self, plan: HandlerPlan, invoker: Invoker, engine: Engine, label: str) -> None:
        self.plan = plan
        self.invoker = invoker
        self.engine = engine
        self.label = label
        self._traced = False
        steps = [Step(call, index) for index, call in enumerate(plan.dependencies)]
        exits = [step for step in steps if step.is_gen and not step.scoped]
        #: The route's one request-scoped generator, if it has just one (`PendingExit`).
        self._alone = exits[0] if len(exits) == 1 else None
        if self._alone is not None:
            self._alone.alone = True
        self._segments = segments = _segments(steps)
        #: A sync handler right after sync steps joins their trip.
        self.joins = invoker.kind is ExecutionKind.THREAD and bool(segments) and not segments[-1][0]
        # The first trip (sync steps first: the request's first pool job) and the cleanup of
        # sync generators after the response go through `ambi.execution` as the route
        # handler does: timed in the pool, inline once proven trivial (adaptive inline),
        # when the handler may run inline too (or is not in the trip).
        # PERF: /deps-sync without pool trips once promoted (bench_instructions "GET
        # /deps-sync" against "GET /sync-json").
        adaptive = engine.inline_threshold is not None and (
            invoker.adaptive is not None or not self.joins
        )
        self._run_label = "auto" if adaptive else "thread"
        self._cleanup = Invoker(exit_batch, engine, self._run_label, route=label, refusable=False)
        self._first: Invoker | None = None
        self.run: Callable[[Request], Awaitable[Any]]
        self.source = ""
        self._compile()
        if engine.tracer is not None:  # app.enable_tracing() before the route was added
            self.trace(engine.tracer)

    def _compile(self) -> None:
        """Generate the route's run (`_deps_source`) and bind what it calls."""
        engine, label = self.engine, self.label
        namespace: dict[str, Any] = {
            "validate": self.plan.validate,
            "NO_VALUES": _NO_VALUES,
            "engine": engine,
            "invoker": self.invoker,
            "cleanup": self._cleanup,
            "pending_exit": None
            if self._alone is None
            else PendingExit(engine, label, self._cleanup, self._alone.is_async),
            "close_scoped": self._close_scoped,
            "AfterResponse": AfterResponse,
            "label": label,
        }
        lines = run_function(self._segments, self.plan, self.joins, namespace)
        self.source = build(lines, namespace, label)
        first_trip = namespace.get("first_trip")
        if first_trip is not None:
            joins = self.joins and len(self._segments) == 1
            first_trip.__qualname__ = (
                f"{self.invoker.name} (with its dependencies)" if joins else "dependencies"
            )
            self._first = namespace["first"] = Invoker(
                first_trip, engine, self._run_label, route=label
            )
        run = namespace.get("run")
        if run is None:  # all sync: the first trip, `first(request)`, is the whole run
            run = namespace["first"]
            if run.adaptive is not None:
                run.adaptive.called_with_one_argument()
        self.run = run

    def _pending_exit(self) -> PendingExit | None:
        """The route's one request-scoped generator's `PendingExit`, if it has just one."""
        for _, steps in self._segments:
            for step in steps:
                if step.alone:
                    return PendingExit(self.engine, self.label, self._cleanup, step.is_async)
        return None

    def trace(self, tracer: Any) -> None:
        """Run each dependency in a span of its own (`app.enable_tracing()`, at startup)."""
        if not self._traced:
            self._traced = True
            for _, steps in self._segments:
                for step in steps:
                    step.trace(tracer)
            self._compile()

    async def __call__(self, request: Request) -> Any:
        try:
            return await self.run(request)
        except BaseException as exc:
            failed(request, exc)
            raise

    async def _close_scoped(self, scoped: list[Any], error: BaseException | None) -> None:
        """Run function-scoped cleanups now; a different exception one of them raises
        replaces the request's."""
        if not scoped:
            return
        run_batch = functools.partial(self.engine.run_cleanup, exit_batch)
        raised = await close_exits(scoped, error, run_batch, _ignore)
        if raised is not None and raised is not error:
            raise raised


def failed(request: Request, error: BaseException) -> None:
    """Give the exception the request ended with to its after-send work (the cleanups of
    dependencies with `yield` see it)."""
    after = pending(request)
    if after is not None:
        after.error = error


def _ignore(exc: BaseException) -> None:
    """Function-scoped cleanup errors become the request's error instead of a log line."""
