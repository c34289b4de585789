"""ASGI middleware wraps websocket connections as well as HTTP requests, over ASGI and
over RSGI (bridged by ambi.servers._ws_rsgi_asgi), and an app without ASGI middleware
does not take the bridge."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import pytest

from ambi import App, WebSocket, WebSocketDisconnect
from ambi.testing import TestClient, WebSocketDenialResponse

ClientFor = Callable[..., TestClient]
Scope = dict[str, Any]


class StampAndDeny:
    """Pure ASGI middleware: denies websockets under `deny` (websocket.close before the
    accept: 403), adds a request header to the others, and counts the scopes it saw."""

    def __init__(self, app: Any, deny: str, seen: list[str]) -> None:
        self.app = app
        self.deny = deny
        self.seen = seen

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        self.seen.append(scope["type"])
        if scope["type"] == "websocket":
            if scope["path"].startswith(self.deny):
                await receive()  # websocket.connect
                await send({"type": "websocket.close", "code": 1008})
                return
            scope = {**scope, "headers": [*scope["headers"], (b"x-via", b"stamp")]}
        await self.app(scope, receive, send)


class AcceptHeader:
    """Pure ASGI middleware adding a header to the websocket accept."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        async def with_header(message: Any) -> None:
            if message["type"] == "websocket.accept":
                message = {**message, "headers": [(b"x-accepted-by", b"middleware")]}
            await send(message)

        await self.app(scope, receive, with_header if scope["type"] == "websocket" else send)


def stamped_app(seen: list[str]) -> App:
    app = App()
    app.add_middleware(StampAndDeny, deny="/private", seen=seen)

    @app.websocket("/{where:path}")
    async def echo(websocket: WebSocket, where: str) -> None:
        await websocket.accept()
        async for text in websocket.iter_text():
            await websocket.send_json({"where": where, "via": websocket.headers.get("x-via")})
            if text == "bye":
                await websocket.close()
                break

    @app.get("/http")
    def http() -> str:
        return "ok"

    return app


def test_middleware_sees_and_changes_websocket_scopes(client_for: ClientFor) -> None:
    seen: list[str] = []
    client = client_for(stamped_app(seen))
    with client.websocket_connect("/room") as ws:
        ws.send_text("hi")
        assert ws.receive_json() == {"where": "room", "via": "stamp"}
        ws.send_text("bye")
        ws.receive_json()
    assert client.get("/http").text == "ok"
    assert [kind for kind in seen if kind != "lifespan"] == ["websocket", "http"]


def test_middleware_denies_by_path(client_for: ClientFor, interface: str) -> None:
    seen: list[str] = []
    client = client_for(stamped_app(seen))
    with pytest.raises(WebSocketDisconnect) as refused:
        client.websocket_connect("/private/x").__enter__()
    if interface == "asgi":  # the close message itself (a server answers HTTP 403)
        assert refused.value.code == 1008
    else:  # Granian's answer: HTTP 403
        assert isinstance(refused.value, WebSocketDenialResponse)
        assert refused.value.status_code == 403
    assert [kind for kind in seen if kind != "lifespan"] == ["websocket"]


def test_ambi_denials_pass_back_through_the_bridge(client_for: ClientFor) -> None:
    app = App()
    app.add_middleware(StampAndDeny, deny="/private", seen=[])

    @app.websocket("/guarded", guards=[lambda ws: ws.headers.get("x-via") != "stamp"])
    async def guarded(websocket: WebSocket) -> None:
        await websocket.accept()

    with pytest.raises(WebSocketDenialResponse) as denied:
        client_for(app).websocket_connect("/guarded").__enter__()
    assert denied.value.status_code == 403  # the guard saw the middleware's header


def test_accept_headers_over_asgi_and_a_loud_refusal_over_rsgi(
    client_for: ClientFor, interface: str, caplog: pytest.LogCaptureFixture
) -> None:
    app = App()
    app.add_middleware(AcceptHeader)

    @app.websocket("/ws")
    async def ws_route(websocket: WebSocket) -> None:
        await websocket.accept()
        await websocket.send_text("hello")

    client = client_for(app)
    if interface == "asgi":
        with client.websocket_connect("/ws") as ws:
            assert (b"x-accepted-by", b"middleware") in ws.extra_headers
            assert ws.receive_text() == "hello"
        return
    # RSGI cannot put headers in the accept: refused with a 500 and a log line, never
    # accepted without the middleware's header.
    with (
        caplog.at_level(logging.ERROR, "ambi.websocket"),
        pytest.raises(WebSocketDenialResponse) as denied,
    ):
        client.websocket_connect("/ws").__enter__()
    assert denied.value.status_code == 500
    assert any("serve this app over ASGI" in r.getMessage() for r in caplog.records)


def test_without_asgi_middleware_rsgi_serves_directly(monkeypatch: pytest.MonkeyPatch) -> None:
    from ambi.servers import _ws_rsgi_asgi

    def no_bridge(*args: Any) -> None:
        raise AssertionError("the bridge was used")

    monkeypatch.setattr(_ws_rsgi_asgi, "serve_through_asgi", no_bridge)
    app = App()

    @app.websocket("/ws")
    async def ws_route(websocket: WebSocket) -> None:
        await websocket.accept()
        await websocket.send_text("direct")

    with TestClient(app, interface="rsgi") as client, client.websocket_connect("/ws") as ws:
        assert ws.receive_text() == "direct"
