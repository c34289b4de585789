"""`app.enable_tracing()`: one server span per request, checked with the OpenTelemetry SDK's
in-memory exporter."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import pytest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode

from ambi import App, BackgroundTasks, Depends, HTTPException
from ambi.exceptions import ConfigurationError
from ambi.testing import TestClient

ClientFor = Callable[[App], TestClient]
MakeHandler = Callable[[Callable[..., Any]], Callable[..., Any]]

TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
PARENT_ID = "00f067aa0ba902b7"


@pytest.fixture
def exporter() -> Iterator[InMemorySpanExporter]:
    exporter = InMemorySpanExporter()
    yield exporter
    exporter.shutdown()


def traced_app(exporter: InMemorySpanExporter, make_handler: MakeHandler) -> App:
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    app = App()

    def item(item_id: int) -> dict[str, int]:
        if item_id == 0:
            raise HTTPException(404)
        if item_id == 13:
            raise RuntimeError("unlucky")
        return {"id": item_id}

    app.get("/items/{item_id}")(make_handler(item))
    app.enable_tracing(tracer_provider=provider)
    return app


def test_one_server_span_per_request(
    client_for: ClientFor, make_handler: MakeHandler, exporter: InMemorySpanExporter,
    handler_kind: str,
) -> None:  # fmt: skip
    client = client_for(traced_app(exporter, make_handler), raise_server_exceptions=False)
    assert client.get("/items/7", headers={"x-request-id": "req-1"}).status_code == 200
    (span,) = exporter.get_finished_spans()
    assert span.name == "GET /items/{item_id}"
    assert span.kind is SpanKind.SERVER
    assert span.parent is None
    attributes = dict(span.attributes or {})
    assert attributes["http.route"] == "/items/{item_id}"
    assert attributes["http.request.method"] == "GET"
    assert attributes["http.response.status_code"] == 200
    assert attributes["ambi.handler.kind"] == ("thread" if handler_kind == "sync" else "async")
    assert attributes["ambi.request_id"] == "req-1"
    assert span.status.status_code is StatusCode.UNSET


def test_continues_the_incoming_trace(
    client_for: ClientFor, make_handler: MakeHandler, exporter: InMemorySpanExporter
) -> None:
    client = client_for(traced_app(exporter, make_handler), raise_server_exceptions=False)
    traceparent = f"00-{TRACE_ID}-{PARENT_ID}-01"
    client.get("/items/1", headers={"traceparent": traceparent})
    (span,) = exporter.get_finished_spans()
    assert f"{span.context.trace_id:032x}" == TRACE_ID
    assert span.parent is not None
    assert f"{span.parent.span_id:016x}" == PARENT_ID


def test_errors_set_status_and_record_the_exception(
    client_for: ClientFor, make_handler: MakeHandler, exporter: InMemorySpanExporter
) -> None:
    client = client_for(traced_app(exporter, make_handler), raise_server_exceptions=False)
    assert client.get("/items/0").status_code == 404
    assert client.get("/items/13").status_code == 500
    not_found, failed = exporter.get_finished_spans()
    assert dict(not_found.attributes or {})["http.response.status_code"] == 404
    assert not_found.status.status_code is StatusCode.UNSET  # a 4xx is the client's
    assert dict(failed.attributes or {})["http.response.status_code"] == 500
    assert failed.status.status_code is StatusCode.ERROR
    assert [e.name for e in failed.events] == ["exception"]


def test_enable_twice_is_refused() -> None:
    app = App()
    app.enable_tracing(tracer_provider=TracerProvider())
    with pytest.raises(ConfigurationError, match="already enabled"):
        app.enable_tracing()


# Spans under the server span: dependencies and background tasks ---------------------------


def spans_app(exporter: InMemorySpanExporter, make_handler: MakeHandler) -> App:
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    app = App()
    app.enable_background_tasks(workers=1)

    def sync_dep() -> int:
        return 1

    async def async_dep() -> int:
        return 2

    def gen_dep() -> Iterator[int]:
        yield 3

    async def agen_dep() -> AsyncIterator[int]:
        yield 4

    def after_sync(note: list[str]) -> None:
        note.append("sync")

    async def after_async(note: list[str]) -> None:
        note.append("async")

    def queued() -> str:
        return "done"

    notes: list[str] = []

    def work(
        background: BackgroundTasks,
        a: int = Depends(sync_dep),
        b: int = Depends(async_dep),
        c: int = Depends(gen_dep),
        d: int = Depends(agen_dep),
    ) -> dict[str, Any]:
        background.add_task(after_sync, notes)
        background.add_task(after_async, notes)
        return {"sum": a + b + c + d, "task": app.add_task(queued)}

    app.get("/work")(make_handler(work))
    app.enable_tracing(tracer_provider=provider)
    return app


def test_dependencies_and_background_tasks_get_spans_under_the_request(
    client_for: ClientFor, make_handler: MakeHandler, exporter: InMemorySpanExporter
) -> None:
    app = spans_app(exporter, make_handler)
    client = client_for(app)
    response = client.get("/work")
    assert response.json()["sum"] == 10
    assert app.tasks.wait(response.json()["task"], 5).state == "done"
    spans = {s.name: s for s in exporter.get_finished_spans()}
    server = spans["GET /work"]
    children = [name for name, s in spans.items() if s.parent is not None]
    for name in (
        "sync_dep",
        "async_dep",
        "gen_dep",
        "agen_dep",
    ):
        found = spans[f"dependency spans_app.<locals>.{name}"]
        assert found.parent is not None
        assert found.parent.span_id == server.context.span_id, name
        assert found.context.trace_id == server.context.trace_id
    background = [s for n, s in spans.items() if n.startswith(("background ", "task "))]
    assert sorted(s.name.split()[0] for s in background) == ["background", "background", "task"]
    for span in background:
        assert span.parent is not None
        assert span.parent.span_id == server.context.span_id, span.name
    assert len(children) == len(spans) - 1


def test_a_failed_task_span_says_so(client_for: ClientFor, exporter: InMemorySpanExporter) -> None:
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    app = App()
    app.enable_background_tasks(workers=1)

    def broken() -> None:
        raise RuntimeError("no")

    @app.post("/go")
    async def go() -> dict[str, str]:
        return {"task": app.add_task(broken)}

    app.enable_tracing(tracer_provider=provider)
    client = client_for(app)
    task_id = client.post("/go").json()["task"]
    assert app.tasks.wait(task_id, 5).state == "failed"
    (span,) = [s for s in exporter.get_finished_spans() if s.name.startswith("task ")]
    assert span.status.status_code is StatusCode.ERROR
    assert [e.name for e in span.events] == ["exception"]


def test_without_tracing_nothing_is_wrapped(client_for: ClientFor) -> None:
    app = App()

    def dep() -> int:
        return 1

    @app.get("/d")
    async def d(x: int = Depends(dep)) -> int:
        return x

    client_for(app).get("/d")
    assert app.engine.tracer is None
    (route,) = [r for r in app.compiled if r.definition.path == "/d"]
    (step,) = route._runner._segments[0][1]
    assert step.factory is dep
