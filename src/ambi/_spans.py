"""Spans around dependencies and background tasks, for `app.enable_tracing()`.

`enable_tracing` puts its tracer on the app's engine (`engine.tracer`). Code that runs
dependencies and background tasks reads it when it is *built* (a route's dependency
runner at startup) or when a task is *queued*: with tracing off (`engine.tracer is None`)
nothing here is called, and nothing is wrapped. The tracer is OpenTelemetry's, passed in:
this module imports nothing from it.

- A dependency gets a span named `dependency <its qualified name>`, a child of the request's server
  span (the pool's threads run with the request's context). For a generator dependency
  the span covers its setup, up to its `yield`; its teardown runs after the response.
- A background task gets a span `background <name>` (after the response) or
  `task <name>` (the app task queue); its parent is the server span of the request that
  queued it, which has ended by then: the trace shows the work the request caused.
- A task of the distributed queue gets a span `task <name>` per run in the worker
  process: the context of the code that queued it travels in the message (`trace`, W3C
  `traceparent` headers, written only while tracing is on), and the worker's span is its
  child (`traced_worker_run`), with the outcome of the run.
"""

from __future__ import annotations

import contextvars
from collections.abc import Awaitable, Callable
from typing import Any

#: The server span of the request being served (set by the tracing stage; read when a
#: background task is queued or run after the response).
request_span: contextvars.ContextVar[Any] = contextvars.ContextVar("ambi_request_span")


def parent_context() -> Any:
    """The OpenTelemetry context to parent a task's span: the current one (a request's
    server span, a dependency's span), else the server span of the request served."""
    from opentelemetry import context, trace

    current = context.get_current()
    if trace.get_current_span(current).get_span_context().is_valid:
        return current
    span = request_span.get(None)
    return trace.set_span_in_context(span) if span is not None else None


def traced_dependency(tracer: Any, fn: Callable[..., Any], label: str, shape: str) -> Any:
    """`fn` (a dependency of the shape "async", "sync", "generator" or "async_generator")
    wrapped to run in a span of its own."""
    name = f"dependency {getattr(fn, '__qualname__', None) or label}"
    attributes = {"ambi.dependency": label}
    if shape == "async":

        async def traced_async(*args: Any, **kwargs: Any) -> Any:
            with tracer.start_as_current_span(name, attributes=attributes):
                return await fn(*args, **kwargs)

        return traced_async
    if shape == "generator":
        return lambda *args, **kwargs: _SpanGenerator(tracer, name, attributes, fn(*args, **kwargs))
    if shape == "async_generator":
        return lambda *args, **kwargs: _SpanAsyncGenerator(
            tracer, name, attributes, fn(*args, **kwargs)
        )

    def traced(*args: Any, **kwargs: Any) -> Any:
        with tracer.start_as_current_span(name, attributes=attributes):
            return fn(*args, **kwargs)

    return traced


class _SpanGenerator:
    """A generator whose first step (the dependency's setup) runs in a span."""

    __slots__ = ("attributes", "gen", "name", "started", "tracer")

    def __init__(self, tracer: Any, name: str, attributes: dict[str, str], gen: Any) -> None:
        self.tracer, self.name, self.attributes, self.gen = tracer, name, attributes, gen
        self.started = False

    def __repr__(self) -> str:
        return str(getattr(self.gen, "__qualname__", self.name))

    def __iter__(self) -> _SpanGenerator:
        return self

    def __next__(self) -> Any:
        if self.started:
            return next(self.gen)
        self.started = True
        with self.tracer.start_as_current_span(self.name, attributes=self.attributes):
            return next(self.gen)

    def send(self, value: Any) -> Any:
        return self.gen.send(value)

    def throw(self, error: BaseException) -> Any:
        return self.gen.throw(error)

    def close(self) -> None:
        self.gen.close()


class _SpanAsyncGenerator:
    """An async generator whose first step (the dependency's setup) runs in a span."""

    __slots__ = ("attributes", "gen", "name", "started", "tracer")

    def __init__(self, tracer: Any, name: str, attributes: dict[str, str], gen: Any) -> None:
        self.tracer, self.name, self.attributes, self.gen = tracer, name, attributes, gen
        self.started = False

    def __repr__(self) -> str:
        return str(getattr(self.gen, "__qualname__", self.name))

    def __aiter__(self) -> _SpanAsyncGenerator:
        return self

    async def __anext__(self) -> Any:
        if self.started:
            return await self.gen.__anext__()
        self.started = True
        with self.tracer.start_as_current_span(self.name, attributes=self.attributes):
            return await self.gen.__anext__()

    async def asend(self, value: Any) -> Any:
        return await self.gen.asend(value)

    async def athrow(self, error: BaseException) -> Any:
        return await self.gen.athrow(error)

    async def aclose(self) -> None:
        await self.gen.aclose()


async def traced_task(
    tracer: Any, name: str, parent: Any, attributes: dict[str, Any], call: Callable[[], Any]
) -> Any:
    """Await `call()` (a task's run) in a span `name` under `parent` (an OTel context);
    a failure is recorded on the span and raised again."""
    from opentelemetry.trace import SpanKind, Status, StatusCode

    with tracer.start_as_current_span(
        name, context=parent, kind=SpanKind.INTERNAL, attributes=attributes,
        record_exception=False, set_status_on_exception=False,
    ) as span:  # fmt: skip
        try:
            return await call()
        except BaseException as exc:
            span.record_exception(exc)
            span.set_status(Status(StatusCode.ERROR, type(exc).__name__))
            raise


def context_headers() -> dict[str, str]:
    """The context `parent_context()` gives, as W3C trace context headers (`traceparent`,
    `tracestate`): for a task run by another process."""
    from opentelemetry.propagate import inject

    headers: dict[str, str] = {}
    inject(headers, context=parent_context())
    return headers


async def traced_worker_run(
    tracer: Any,
    message: dict[str, Any],
    run: Callable[[], Awaitable[tuple[str, BaseException | None]]],
) -> None:
    """Await `run()` (one run of a distributed task, recorded: it gives the outcome,
    "done", "retried" or "failed", and the task's exception) in a span `task <name>`,
    the child of the context that queued the task (`message["trace"]`)."""
    from opentelemetry.propagate import extract
    from opentelemetry.trace import SpanKind, Status, StatusCode

    attributes = {
        "ambi.task.name": message["name"],
        "ambi.task.id": message["id"],
        "ambi.task.attempt": message["attempt"],
    }
    with tracer.start_as_current_span(
        f"task {message['name']}", context=extract(message.get("trace") or {}),
        kind=SpanKind.CONSUMER, attributes=attributes,
        record_exception=False, set_status_on_exception=False,
    ) as span:  # fmt: skip
        try:
            outcome, error = await run()
        except BaseException as exc:  # not recorded (the status write failed; cancelled)
            span.record_exception(exc)
            span.set_status(Status(StatusCode.ERROR, type(exc).__name__))
            raise
        span.set_attribute("ambi.task.outcome", outcome)
        if error is not None:
            span.record_exception(error)
            span.set_status(Status(StatusCode.ERROR, type(error).__name__))
