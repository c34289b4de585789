"""The tutorial's last pages: websockets, static files, testing, deployment."""

from __future__ import annotations

import signal
import sys
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from docs.examples.tutorial import service, static_files, testing, websockets

from ambi import WebSocketDisconnect
from ambi.testing import TestClient
from tests.servers.conftest import ROOT, free_port, start_process

ClientFor = Callable[..., TestClient]


def test_websocket_chat(client_for: ClientFor) -> None:
    client = client_for(websockets.app)
    with client.websocket_connect("/ws/lobby?token=ada") as ws:
        ws.send_text("hi")
        assert ws.receive_json() == {"room": "lobby", "user": "ada", "text": "hi"}


def test_websocket_refuses_a_bad_handshake(client_for: ClientFor) -> None:
    client = client_for(websockets.app)
    with pytest.raises(WebSocketDisconnect), client.websocket_connect("/ws/lobby?token=a") as ws:
        ws.receive_text()


def test_websocket_message_over_the_limit_closes_with_1009() -> None:
    client = TestClient(websockets.app, interface="asgi")
    with client, client.websocket_connect("/ws/lobby?token=ada") as ws:
        ws.send_text("x" * (64 * 1024 + 1))
        with pytest.raises(WebSocketDisconnect) as closed:
            ws.receive_text()
    assert closed.value.code == 1009


def test_static_files(client_for: ClientFor) -> None:
    client = client_for(static_files.app)
    hello = client.get("/static/hello.txt")
    assert hello.text == "hello from a static file\n"
    assert hello.headers["content-type"].startswith("text/plain")
    again = client.get("/static/hello.txt", headers={"if-none-match": hello.headers["etag"]})
    assert again.status_code == 304
    part = client.get("/static/hello.txt", headers={"range": "bytes=0-4"})
    assert (part.status_code, part.text) == (206, "hello")
    assert client.get("/static/../static_files.py").status_code == 404
    assert client.get("/static/%2e%2e/static_files.py").status_code == 404
    assert client.get("/api/ping").json() == {"pong": True}
    for path in ("/app/", "/app/orders/7"):  # the folder; a client-side route
        page = client.get(path, headers={"accept": "text/html"})
        assert (page.status_code, page.headers["content-type"][:9]) == (200, "text/html")
        assert "<h1>Home</h1>" in page.text
    assert client.get("/app/orders/7", headers={"accept": "image/png"}).status_code == 404


@pytest.mark.parametrize(
    "test",
    [
        testing.test_me,
        testing.test_a_missing_header_is_a_422,
        testing.test_with_a_fake_user,
        testing.test_over_rsgi_and_strict,
    ],
)
def test_the_testing_page_tests_pass(test: Callable[[], None]) -> None:
    test()


def test_service_in_process(client_for: ClientFor) -> None:
    client = client_for(service.app)
    assert client.get("/health").json()["status"] == "ok"
    assert client.get("/greet/ada").json() == {"message": "Hello, ada"}


@pytest.mark.server
def test_service_deployed(tmp_path: Path) -> None:
    """The deployment page's command serves the service with two workers; SIGTERM stops
    it with exit status 0. (`python service.py` is `app.listen()`, tested in tests/servers.)"""
    port = free_port()
    target = "docs.examples.tutorial.service:app"
    argv = [sys.executable, "-m", "ambi", "run", target, "--port", str(port), "--workers", "2"]
    server = start_process(argv, port, tmp_path, ready_path="/health", cwd=ROOT)
    try:
        with httpx.Client(base_url=server.base_url, timeout=5) as client:
            assert client.get("/health").json()["status"] == "ok"
            greeting = client.get("/greet/ada")
            assert greeting.json() == {"message": "Hello, ada"}
            assert greeting.headers["x-request-id"]
    finally:
        code = server.stop(signal.SIGTERM)
    assert code == 0, server.describe()
    assert "GET /greet/ada" in server.stderr + server.stdout  # the access log line
