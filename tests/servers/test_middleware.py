"""Middleware on real servers: ASGI middleware applies over Granian's RSGI (bridged) and
ASGI, request bodies and streams included; CORS preflights and request ids."""

from __future__ import annotations

import sys

import httpx
import pytest

from .conftest import APPS, StartApp, free_port

pytestmark = pytest.mark.server


@pytest.mark.parametrize("path", ["granian-rsgi", "granian-asgi", "uvicorn-asgi"])
def test_asgi_and_native_middleware(start_app: StartApp, path: str) -> None:
    server = start_app("middleware", path)
    with httpx.Client(base_url=server.base_url, timeout=10.0) as client:
        for size in (0, 10, 100_000):  # no body, small, several chunks
            body = b"a" * size
            echoed = client.post("/echo", content=body)
            assert echoed.status_code == 200
            assert echoed.json() == {"size": size, "head": body[:5].decode()}
        streamed = client.get("/stream", headers={"accept-encoding": "gzip"})
        assert streamed.headers["content-encoding"] == "gzip"
        assert streamed.text.count("part ") == 50
        preflight = client.options(
            "/echo",
            headers={"origin": "http://localhost:5173", "access-control-request-method": "POST"},
        )
        assert preflight.status_code == 204
        assert preflight.headers["access-control-allow-origin"] == "http://localhost:5173"
        assert len(client.get("/").headers["x-request-id"]) == 32
    assert server.proc.poll() is None  # the worker is alive after all of it


def test_listen_serves_asgi_middleware_over_asgi(start_app: StartApp) -> None:
    """With ASGI middleware, listen() picks Granian's ASGI interface (measured cheaper than
    the bridge over RSGI) and says so in one line."""
    port = free_port()
    argv = [sys.executable, str(APPS / "middleware.py"), str(port), "granian", "auto"]
    server = start_app("middleware", argv=argv, port=port)
    with httpx.Client(base_url=server.base_url, timeout=10.0) as client:
        assert client.post("/echo", content=b"hello").json() == {"size": 5, "head": "hello"}
    assert "serving it over Granian's ASGI interface" in server.stdout
    assert "(granian, ASGI, 1 worker)" in server.stdout
