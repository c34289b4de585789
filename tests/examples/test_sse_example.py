"""examples/sse.py: the progress feed in process (a finite stream); the live clock and the
progress feed served by Granian over RSGI and ASGI, read with a real client."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from ambi import App
from ambi.testing import TestClient

from ..servers.conftest import free_port, start_process
from ._load import load_example

sse = load_example("sse")
ClientFor = Callable[[App], TestClient]


def events(text: str) -> list[dict[str, str]]:
    """The events of a text/event-stream body, as field -> value."""
    parsed = []
    for block in text.replace("\r\n", "\n").strip().split("\n\n"):
        fields = dict(line.split(": ", 1) for line in block.split("\n") if not line.startswith(":"))
        parsed.append(fields)
    return parsed


def test_progress_reports_each_step_then_done(client_for: ClientFor) -> None:
    client = client_for(sse.app)
    response = client.get("/progress", params={"steps": 3, "delay": 0})
    assert response.headers["content-type"] == "text/event-stream; charset=utf-8"
    assert events(response.text) == [
        {"id": "1", "event": "progress", "data": "1/3"},
        {"id": "2", "event": "progress", "data": "2/3"},
        {"id": "3", "event": "progress", "data": "3/3"},
        {"event": "done", "data": "finished", "retry": "60000"},
    ]


def test_progress_resumes_after_last_event_id(client_for: ClientFor) -> None:
    client = client_for(sse.app)
    response = client.get(
        "/progress", params={"steps": 4, "delay": 0}, headers={"Last-Event-ID": "2"}
    )
    assert [e.get("id") for e in events(response.text)] == ["3", "4", None]


def test_the_page_listens_to_both_streams(client_for: ClientFor) -> None:
    page = client_for(sse.app).get("/").text
    assert 'new EventSource("/clock")' in page
    assert "/progress?" in page


@pytest.mark.server
@pytest.mark.parametrize("interface", ["rsgi", "asgi"])
def test_live_clock_and_progress_from_a_real_server(tmp_path: Path, interface: str) -> None:
    port = free_port()
    argv = [sys.executable, "-m", "ambi.cli", "run", "examples/sse.py", "--port", str(port)]
    server = start_process([*argv, "--interface", interface], port, tmp_path, name="sse")
    base = f"http://127.0.0.1:{port}"
    try:
        with (
            httpx.Client(base_url=base, timeout=10) as client,
            client.stream("GET", "/clock", params={"interval": 0.1}) as stream,
        ):
            ticks = []
            for line in stream.iter_lines():
                if line.startswith("data: "):
                    ticks.append(line)
                if len(ticks) == 3:
                    break
        assert all(t.startswith("data: 20") for t in ticks)
        with httpx.Client(base_url=base, timeout=10) as client:
            progress = client.get("/progress", params={"steps": 2, "delay": 0.05})
        assert [e["data"] for e in events(progress.text)] == ["1/2", "2/2", "finished"]
        time.sleep(0.1)
    finally:
        assert server.stop() == 0, server.describe()
