"""`app.enable_tracing()`: one server span per request, checked with the OpenTelemetry SDK's
in-memory exporter."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode

from ambi import App, HTTPException
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
