"""examples/middleware.py: each kind of middleware does what the example says."""

from __future__ import annotations

import gzip
import logging
from collections.abc import Callable

import pytest

from ambi import App
from ambi.testing import TestClient

from ._load import load_example

example = load_example("middleware")
ClientFor = Callable[[App], TestClient]
ORIGIN = "https://app.example"


@pytest.fixture
def client(client_for: ClientFor) -> TestClient:
    return client_for(example.app)


def test_every_kind_runs(client: TestClient, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, "ambi.access"):
        response = client.get("/hello", headers={"origin": ORIGIN})
    assert response.json()["request_id"] == response.headers["x-request-id"]
    headers = response.headers
    assert headers["access-control-allow-origin"] == ORIGIN  # built-in CORS
    assert headers["x-content-type-options"] == "nosniff"  # built-in security headers
    assert headers["server-timing"].startswith("app;dur=")  # async function middleware
    assert headers["x-powered-by"] == "ambi (example)"  # class middleware
    assert headers["x-asgi"] == "yes"  # ASGI middleware
    assert any('"GET /hello" 200' in r.getMessage() for r in caplog.records)  # access log


def test_sync_middleware_and_hooks(client: TestClient) -> None:
    refused = client.get("/admin/stats")
    assert (refused.status_code, refused.json()) == (401, {"detail": "missing or wrong API key"})
    assert refused.headers["x-powered-by"] == "ambi (example)"  # outer middleware saw the 401
    assert "cache-control" not in refused.headers  # hooks sit inside: never reached
    allowed = client.get("/admin/stats", headers={"x-api-key": "letmein"})
    assert allowed.json() == {"users": 3}
    assert allowed.headers["cache-control"] == "no-store"
    down = client.get("/hello?maintenance=1")
    assert (down.status_code, down.json()) == (503, {"detail": "down for maintenance"})


def test_preflight_compression_and_hosts(client: TestClient) -> None:
    preflight = client.options(
        "/orders",
        headers={
            "origin": ORIGIN,
            "access-control-request-method": "POST",
            "access-control-request-headers": "content-type",
        },
    )
    assert preflight.status_code == 204
    assert preflight.headers["access-control-allow-credentials"] == "true"
    assert client.post("/orders", json={"items": [1]}).json() == {"created": True, "items": [1]}
    report = client.get("/report", headers={"accept-encoding": "gzip"})
    assert report.headers["content-encoding"] == "gzip"
    assert report.headers["x-report-rows"] == "500"  # route middleware, /report only
    assert "x-report-rows" not in client.get("/hello").headers
    assert gzip.decompress(b"".join(report.stream)).startswith(b'{"rows":[0,1,2')  # type: ignore[arg-type]
    assert client.get("/hello", headers={"host": "evil.test"}).status_code == 400
