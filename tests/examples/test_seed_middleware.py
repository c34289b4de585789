"""The Cello seed's middleware lines (`app.enable_cors()`, `app.enable_logging()`), run
unchanged: a browser's preflight to a POST-only route succeeds, and each request is
logged."""

from __future__ import annotations

import logging
from collections.abc import Callable

import pytest

from ambi.testing import TestClient

from .seeds import c003_middleware

ClientFor = Callable[..., TestClient]
app = c003_middleware.app


@app.post("/orders")
async def create_order(request):  # type: ignore[no-untyped-def]
    return {"order_id": 1, "items": request.json()["items"]}


def test_browser_preflight_then_post(
    client_for: ClientFor, caplog: pytest.LogCaptureFixture
) -> None:
    client = client_for(app)
    origin = "http://localhost:5173"
    with caplog.at_level(logging.INFO, "ambi.access"):
        preflight = client.options(
            "/orders",
            headers={
                "origin": origin,
                "access-control-request-method": "POST",
                "access-control-request-headers": "content-type",
                "sec-fetch-mode": "cors",
                "referer": f"{origin}/",
            },
        )
        response = client.post("/orders", json={"items": [1, 2]}, headers={"origin": origin})
    assert preflight.status_code == 204
    assert preflight.headers["access-control-allow-origin"] == "*"
    assert "POST" in preflight.headers["access-control-allow-methods"]
    assert preflight.headers["access-control-allow-headers"] == "content-type"
    assert response.json() == {"order_id": 1, "items": [1, 2]}
    assert response.headers["access-control-allow-origin"] == "*"
    lines = [r.getMessage() for r in caplog.records if r.name == "ambi.access"]
    assert len(lines) == 2
    assert '"OPTIONS /orders" 204' in lines[0]
    assert '"POST /orders" 200' in lines[1]
    assert "route=/orders kind=async" in lines[1]
