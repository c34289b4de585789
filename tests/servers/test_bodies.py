"""Request bodies on a real server: bad JSON is a 4xx that leaves the connection usable,
and a body over `App(max_body_size=...)` is a 413 however it is sent."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

pytestmark = pytest.mark.server

LIMIT = 1024  # App(max_body_size=1024) in apps/basic.py
JSON = {"content-type": "application/json"}


def _chunked(data: bytes, size: int = 300) -> Iterator[bytes]:
    """A body httpx sends with Transfer-Encoding: chunked (no Content-Length)."""
    for start in range(0, len(data), size):
        yield data[start : start + size]


@pytest.mark.parametrize("route", ["/json", "/async/json"])
def test_malformed_json_keeps_the_connection_alive(base_url: str, route: str) -> None:
    with httpx.Client(base_url=base_url, timeout=10.0) as client:
        first = client.post(route, content=b'{"a": 1}', headers=JSON)
        bad = client.post(route, content=b'{"a": ', headers=JSON)
        empty = client.post(route, content=b"", headers=JSON)
        after = client.post(route, content=b'{"a": 2}', headers=JSON)
    assert first.status_code == 200
    assert first.json()["got"] == {"a": 1}
    assert bad.status_code == 400
    assert bad.json()["detail"].startswith("malformed JSON body")
    assert empty.status_code == 400
    assert after.status_code == 200
    assert after.json()["got"] == {"a": 2}
    # same client address and port: the 400s did not cost the keep-alive connection
    assert after.json()["client"] == first.json()["client"]


@pytest.mark.parametrize("how", ["content-length", "chunked"])
def test_body_over_the_limit_is_413(base_url: str, how: str) -> None:
    too_big = b"x" * (LIMIT + 1)
    at_limit = b"y" * LIMIT
    with httpx.Client(base_url=base_url, timeout=10.0) as client:
        if how == "chunked":
            refused = client.post("/size", content=_chunked(too_big))
            accepted = client.post("/size", content=_chunked(at_limit))
        else:
            refused = client.post("/size", content=too_big)
            accepted = client.post("/size", content=at_limit)
        after = client.get("/sync/ping")
    sent = refused.request.headers
    if how == "chunked":
        assert sent["transfer-encoding"] == "chunked"
        assert "content-length" not in sent
    else:
        assert sent["content-length"] == str(LIMIT + 1)
    assert refused.status_code == 413
    assert refused.json() == {"detail": f"request body larger than {LIMIT} bytes"}
    assert accepted.status_code == 200
    assert accepted.json() == {"size": LIMIT}
    assert after.status_code == 200


def test_large_body_over_the_limit_is_413(base_url: str) -> None:
    """Far over the limit (the server answers before reading it all)."""
    with httpx.Client(base_url=base_url, timeout=10.0) as client:
        refused = client.post("/size", content=_chunked(b"z" * 256 * 1024, 16 * 1024))
        after = client.get("/async/ping")
    assert refused.status_code == 413
    assert after.status_code == 200
