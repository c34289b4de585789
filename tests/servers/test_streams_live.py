"""Streams and server-sent events on real servers: a client that leaves stops the stream,
the generator's `finally` runs promptly (sync generators iterated in the pool and async
ones alike) and no thread keeps iterating; SSE headers, events, pings and Last-Event-ID
with a real HTTP client."""

from __future__ import annotations

import time
import uuid
from typing import Any

import httpx
import pytest

from .conftest import ServerProcess, StartApp

pytestmark = pytest.mark.server


@pytest.fixture
def streams(start_app: StartApp, server_path: str) -> ServerProcess:
    return start_app("streams", server_path)


def _state(base_url: str) -> dict[str, Any]:
    result: dict[str, Any] = httpx.get(f"{base_url}/state", timeout=5).json()
    return result


def _wait_finished(base_url: str, token: str, within: float) -> float:
    """Seconds until `token`'s generator has run its `finally` (fails after `within`)."""
    start = time.monotonic()
    while time.monotonic() - start < within:
        if token in _state(base_url)["finished"]:
            return time.monotonic() - start
        time.sleep(0.02)
    raise AssertionError(f"{token}: the generator's finally did not run within {within} s")


@pytest.mark.parametrize("path", ["/sse/async", "/sse/sync", "/stream/async", "/stream/sync"])
def test_a_client_that_leaves_stops_the_stream(streams: ServerProcess, path: str) -> None:
    token = uuid.uuid4().hex[:8]
    with (
        httpx.Client(base_url=streams.base_url, timeout=5) as client,
        client.stream("GET", f"{path}/{token}") as response,
    ):
        assert response.status_code == 200
        received = b""
        for chunk in response.iter_raw():
            received += chunk
            if received.count(token.encode()) >= 3:
                break
    # the connection is closed here, mid-stream
    assert _wait_finished(streams.base_url, token, within=3.0) < 3.0
    time.sleep(0.2)
    state = _state(streams.base_url)
    assert state["iterating"] == 0
    assert state["finished"].count(token) == 1
    assert "Traceback" not in streams.stderr + streams.stdout  # a quiet stop, no error


def test_an_async_generator_waiting_long_is_stopped_at_once(streams: ServerProcess) -> None:
    token = uuid.uuid4().hex[:8]
    lines: list[str] = []
    with (
        httpx.Client(base_url=streams.base_url, timeout=5) as client,
        client.stream("GET", f"/sse/async/{token}", params={"pause": 60, "ping": 0.2}) as stream,
    ):
        assert stream.headers["content-type"] == "text/event-stream; charset=utf-8"
        assert stream.headers["cache-control"] == "no-store"
        assert stream.headers["x-accel-buffering"] == "no"
        for line in stream.iter_lines():
            lines.append(line)
            if line.startswith(": ping"):
                break
    left = time.monotonic()
    _wait_finished(streams.base_url, token, within=2.0)
    assert time.monotonic() - left < 2.0  # not after the generator's 60 s pause
    assert lines[:5] == [
        "id: 1",
        "event: tick",
        f"data: {token} 1",
        "data: second line",
        "",
    ]


def test_last_event_id_resumes(streams: ServerProcess) -> None:
    response = httpx.get(
        f"{streams.base_url}/sse/resume", headers={"Last-Event-ID": "7"}, timeout=5
    )
    assert response.text == "".join(f"id: {n}\r\ndata: event {n}\r\n\r\n" for n in (8, 9, 10))
