"""`app.enable_tracing()`: one OpenTelemetry server span per request (the `tracing` extra).

The span is named by the route template ("GET /items/{item_id}"), continues the trace of
an incoming `traceparent` header, and carries the method, the route, the status, the
handler's execution kind and the request id (`x-request-id`, when the client sent one).
Under it: a span per dependency, and per background task the request queued
(`ambi._spans`; nothing is wrapped while tracing is off).
Like metrics, it is a route stage (`StageOrder.TRACING`) that exists only when enabled.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .._pipeline import StageOrder
from .._spans import request_span
from ..exceptions import ConfigurationError
from ..http import Request, Response
from ..servers._types import ClientDisconnected

if TYPE_CHECKING:
    from .._pipeline import CompiledRoute, Next, Stage
    from ..app import App

try:
    from opentelemetry import trace
    from opentelemetry.propagate import extract
    from opentelemetry.trace import SpanKind, Status, StatusCode
except ImportError:  # pragma: no cover - the extra is installed for the tests
    tracing_available = False
else:
    tracing_available = True


def enable_tracing(app: App, tracer_provider: Any = None) -> None:
    """What `app.enable_tracing` does (see the module docstring)."""
    if not tracing_available:
        raise ConfigurationError(
            "app.enable_tracing() needs OpenTelemetry: pip install 'ambi[tracing]'"
        )
    if getattr(app, "_tracing", False):
        raise ConfigurationError("tracing is already enabled on this app")
    tracer = trace.get_tracer("ambi", tracer_provider=tracer_provider)

    def factory(route: CompiledRoute, app: App) -> Stage:
        return _span_stage(tracer, route, app)

    app.add_stage(StageOrder.TRACING, factory)
    app._tracing = True
    app.engine.tracer = tracer  # spans for dependencies and background tasks (`_spans`)
    # the routes added so far have their dependency runners already (later ones read
    # `engine.tracer` when they are made)
    for route in [*app._served, *app.websockets.compiled]:
        runner = getattr(route, "_runner", None)
        if runner is not None:
            runner.trace(tracer)


def _span_stage(tracer: Any, route: CompiledRoute, app: App) -> Stage:
    name = route.label
    fixed = {
        "http.route": route.definition.path,
        "ambi.handler.kind": route.invoker.kind.value,
        "ambi.handler": route.invoker.name,
    }
    error_response = app._error_response  # the app's one place errors become responses

    async def traced(request: Request, call_next: Next) -> Response:
        context = extract(request.headers)
        with tracer.start_as_current_span(
            name, context=context, kind=SpanKind.SERVER, attributes=fixed,
            record_exception=False, set_status_on_exception=False,
        ) as span:  # fmt: skip
            request_span.set(span)  # the parent of the background tasks it queues
            span.set_attribute("http.request.method", request.method)
            request_id = request.headers.get("x-request-id")
            if request_id is not None:
                span.set_attribute("ambi.request_id", request_id)
            try:
                response = await call_next(request)
            except ClientDisconnected:
                span.set_status(Status(StatusCode.ERROR, "client disconnected"))
                raise
            except Exception as exc:
                span.record_exception(exc)
                response = await error_response(request, exc)
            status = response.status_code
            span.set_attribute("http.response.status_code", status)
            if status >= 500:
                span.set_status(Status(StatusCode.ERROR))
            return response

    return traced
