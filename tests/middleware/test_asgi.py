"""Standard ASGI middleware on ambi, over ASGI and (bridged) over RSGI."""

from __future__ import annotations

import gzip
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from opentelemetry.instrumentation.asgi import OpenTelemetryMiddleware
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from starlette.middleware.gzip import GZipMiddleware

from ambi import App, ConfigurationError, JSONResponse, Request, StreamingResponse
from ambi.middleware import route_span_details
from ambi.testing import TestClient

Client = Callable[..., TestClient]
PAD = "x" * 600


def _app() -> App:
    app = App()

    @app.get("/items/{item_id:int}")
    async def item(item_id: int) -> dict[str, Any]:
        return {"id": item_id, "pad": PAD}

    @app.post("/echo")
    def echo(request: Request) -> dict[str, Any]:
        return {"size": len(request.body)}

    @app.get("/stream")
    def stream() -> StreamingResponse:
        def parts() -> Iterator[str]:
            yield from (PAD for _ in range(5))

        return StreamingResponse(parts(), media_type="text/plain")

    return app


def test_starlette_gzip(client_for: Client) -> None:
    app = _app()
    app.enable_cors()  # native layers run inside ASGI middleware
    app.add_middleware(GZipMiddleware, minimum_size=100)
    client = client_for(app)
    response = client.get("/items/3", headers={"accept-encoding": "gzip", "origin": "http://a.b"})
    raw = b"".join(response.stream)  # type: ignore[arg-type]
    assert response.headers["content-encoding"] == "gzip"
    assert response.headers["access-control-allow-origin"] == "*"
    assert gzip.decompress(raw) == f'{{"id":3,"pad":"{PAD}"}}'.encode()
    streamed = client.get("/stream", headers={"accept-encoding": "gzip"})
    assert streamed.text == PAD * 5
    assert streamed.headers["content-encoding"] == "gzip"
    assert client.post("/echo", content=b"z" * 5000).json() == {"size": 5000}
    assert client.get("/missing").status_code == 404


def test_opentelemetry_spans_carry_route_and_status(client_for: Client) -> None:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    app = _app()
    app.add_middleware(
        OpenTelemetryMiddleware,
        default_span_details=route_span_details,
        tracer_provider=provider,
        exclude_spans=["receive", "send"],
    )
    client = client_for(app)
    client.get("/items/42")
    client.get("/items/nope")
    client.post("/items/1")
    spans = exporter.get_finished_spans()
    assert [s.name for s in spans] == ["GET /items/{item_id}", "GET", "POST"]
    attributes = [dict(s.attributes or {}) for s in spans]
    assert attributes[0]["http.route"] == "/items/{item_id}"
    assert [a["http.status_code"] for a in attributes] == [200, 404, 405]
    assert "http.route" not in attributes[1]


class Tag:
    """A minimal ASGI middleware adding a header."""

    def __init__(self, app: Any, name: str, log: list[str]) -> None:
        self.app, self.name, self.log = app, name, log

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        self.log.append(self.name)

        async def tagged(message: Any) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message["headers"], (b"x-" + self.name.encode(), b"1")]
            await send(message)

        await self.app(scope, receive, tagged)


class Explode:
    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            raise LookupError("middleware failed")
        await self.app(scope, receive, send)


def test_order_last_added_outermost(client_for: Client) -> None:
    log: list[str] = []
    app = _app()

    @app.middleware("http")
    async def native(request: Request, call_next: Any) -> Any:
        log.append("native")
        return await call_next(request)

    app.add_middleware(Tag, name="first", log=log)
    app.add_middleware(Tag, name="second", log=log)
    response = client_for(app).get("/items/1")
    assert response.headers["x-first"] == response.headers["x-second"] == "1"
    assert log == ["second", "first", "native"]


def test_exception_in_asgi_middleware_uses_exception_handlers(client_for: Client) -> None:
    app = _app()
    app.add_middleware(Explode)
    app.exception_handler(LookupError)(lambda request, exc: JSONResponse({"detail": str(exc)}, 503))
    response = client_for(app).get("/items/1")
    assert (response.status_code, response.json()) == (503, {"detail": "middleware failed"})


def test_asgi_middleware_mistakes() -> None:
    with pytest.raises(ConfigurationError, match="ASGI middleware"):
        App().add_middleware(GZipMiddleware, level=3)

    class NoApp:
        def __init__(self) -> None:
            pass

    with pytest.raises(ConfigurationError, match="ASGI middleware"):
        App().add_middleware(NoApp)
