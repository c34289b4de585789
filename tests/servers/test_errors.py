"""Errors on a real server: the same exception gives the same response from a `def` and an
`async def` handler, and an unhandled one is a JSON 500 that leaks nothing."""

from __future__ import annotations

import httpx
import pytest

pytestmark = pytest.mark.server


@pytest.mark.parametrize(
    ("what", "status"),
    [("http", 409), ("custom", 418), ("crash", 500)],
)
def test_sync_and_async_handlers_fail_alike(base_url: str, what: str, status: int) -> None:
    with httpx.Client(base_url=base_url, timeout=10.0) as client:
        from_sync = client.get(f"/sync/fail/{what}")
        from_async = client.get(f"/async/fail/{what}")
    assert from_sync.status_code == from_async.status_code == status
    assert from_sync.headers["content-type"] == from_async.headers["content-type"]
    assert from_sync.headers["content-type"].startswith("application/json")
    assert from_sync.json() == from_async.json()
    assert from_sync.headers.get("x-conflict") == from_async.headers.get("x-conflict")


def test_http_exception_keeps_detail_and_headers(base_url: str) -> None:
    with httpx.Client(base_url=base_url, timeout=10.0) as client:
        response = client.get("/async/fail/http")
    assert response.json() == {"detail": "conflict from handler"}
    assert response.headers["x-conflict"] == "yes"


@pytest.mark.parametrize("kind", ["sync", "async"])
def test_unhandled_error_is_a_bare_json_500(base_url: str, kind: str) -> None:
    with httpx.Client(base_url=base_url, timeout=10.0) as client:
        response = client.get(f"/{kind}/fail/crash")
        after = client.get(f"/{kind}/ping")
    assert response.status_code == 500
    assert response.json() == {"detail": "Internal Server Error"}
    for secret in ("hunter2", "RuntimeError", "Traceback", "basic.py"):
        assert secret not in response.text
    assert after.status_code == 200, "the server keeps serving after an unhandled error"


def test_unknown_route_and_method(base_url: str) -> None:
    with httpx.Client(base_url=base_url, timeout=10.0) as client:
        missing = client.get("/nope")
        wrong_method = client.delete("/sync/ping")
    assert missing.status_code == 404
    assert missing.json() == {"detail": "Not Found"}
    assert wrong_method.status_code == 405
    assert "GET" in wrong_method.headers["allow"]
