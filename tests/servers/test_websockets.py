"""Websockets against real servers (Granian RSGI and ASGI, uvicorn) with a real client, the
`websockets` package: echo, parameters, the size limit, disconnects, subprotocols, pings.

Granian's RSGI interface sends close frames without a code (the client sees 1005) and
cannot send a subprotocol; these tests pin that difference rather than hide it.
"""

from __future__ import annotations

import base64
import os
import signal
import socket
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import connect

from ambi import App, ConfigurationError, WebSocket
from ambi.servers._runner import WebSocketSettings, serve

from .conftest import ServerProcess, app_argv, free_port, start_process

pytestmark = pytest.mark.server

TIMEOUT = 10.0


class _WebSocketServers:
    """`apps/websockets_app.py`, started on first use per server path, kept for the session."""

    def __init__(self, out_dir: Path) -> None:
        self.out_dir = out_dir
        self.servers: dict[str, ServerProcess] = {}

    def get(self, server_path: str) -> ServerProcess:
        server = self.servers.get(server_path)
        if server is None:
            port = free_port()
            server = start_process(
                app_argv("websockets_app", port, server_path),
                port,
                self.out_dir,
                name=f"websockets-{server_path}",
            )
            self.servers[server_path] = server
        return server

    def close(self) -> list[str]:
        problems = []
        for server_path, server in self.servers.items():
            try:
                code = server.stop(signal.SIGINT)
            except AssertionError as exc:
                problems.append(f"{server_path}: {exc}")
                continue
            server.kill()
            if code != 0:
                problems.append(f"{server_path}: exit code {code}\n{server.describe()}")
        return problems


@pytest.fixture(scope="session")
def ws_servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[_WebSocketServers]:
    servers = _WebSocketServers(tmp_path_factory.mktemp("websockets"))
    try:
        yield servers
    finally:
        problems = servers.close()
    assert not problems, "\n".join(problems)


@pytest.fixture
def ws_server(ws_servers: _WebSocketServers, server_path: str) -> ServerProcess:
    return ws_servers.get(server_path)


def ws_url(server: ServerProcess, path: str) -> str:
    return f"ws://127.0.0.1:{server.port}{path}"


def events(server: ServerProcess, room: str) -> list[dict[str, Any]]:
    """The end of each connection to `room`, once the handler recorded it."""
    deadline = time.monotonic() + TIMEOUT
    with httpx.Client(base_url=server.base_url, timeout=TIMEOUT) as client:
        while time.monotonic() < deadline:
            found = [e for e in client.get("/events").json() if e["room"] == room]
            if found:
                return found
            time.sleep(0.02)
    return []


def unique(name: str) -> str:
    return f"{name}-{os.urandom(4).hex()}"


def test_echo_text_bytes_and_json(ws_server: ServerProcess) -> None:
    with connect(ws_url(ws_server, "/echo/lobby?times=2"), open_timeout=TIMEOUT) as ws:
        ws.send("hé")
        assert ws.recv(TIMEOUT) == "lobby:héhé"
        ws.send(b"\x00\x01")
        assert ws.recv(TIMEOUT) == b"\x00\x01\x00\x01"
    with connect(ws_url(ws_server, "/json"), open_timeout=TIMEOUT) as ws:
        ws.send('{"a": [1, 2]}')
        assert ws.recv(TIMEOUT) == '{"got":{"a":[1,2]}}'


@pytest.mark.parametrize("path", ["/echo/lobby?times=9", "/echo/lobby?times=x", "/nowhere"])
def test_invalid_parameters_and_unknown_paths_refuse_the_handshake(
    ws_server: ServerProcess, path: str
) -> None:
    with pytest.raises(InvalidStatus) as exc_info:
        connect(ws_url(ws_server, path), open_timeout=TIMEOUT)
    assert exc_info.value.response.status_code == 403


def test_oversized_message_closes_with_1009(ws_server: ServerProcess, server_path: str) -> None:
    room = unique("big")
    with connect(ws_url(ws_server, f"/echo/{room}"), open_timeout=TIMEOUT) as ws:
        ws.send("x" * 1024)  # the limit: accepted
        assert ws.recv(TIMEOUT) == f"{room}:" + "x" * 1024
        ws.send("x" * 1025)
        with pytest.raises(ConnectionClosed):
            ws.recv(TIMEOUT)
    expected = 1005 if server_path == "granian-rsgi" else 1009
    assert ws.close_code == expected
    assert events(ws_server, room) == [{"room": room, "code": 1009}]


def test_client_close_reaches_the_handler(ws_server: ServerProcess, server_path: str) -> None:
    room = unique("bye")
    with connect(ws_url(ws_server, f"/echo/{room}"), open_timeout=TIMEOUT) as ws:
        ws.send("hi")
        ws.recv(TIMEOUT)
        ws.close(4005, "bye")
    expected = 1005 if server_path == "granian-rsgi" else 4005
    assert events(ws_server, room) == [{"room": room, "code": expected}]


def test_subprotocol(ws_server: ServerProcess, server_path: str) -> None:
    url = ws_url(ws_server, "/proto")
    if server_path == "granian-rsgi":
        with pytest.raises(InvalidStatus):  # RSGI cannot send it: refused, never half-done
            connect(url, subprotocols=["v2"], open_timeout=TIMEOUT)  # type: ignore[list-item]
        return
    with connect(url, subprotocols=["v1", "v2"], open_timeout=TIMEOUT) as ws:  # type: ignore[list-item]
        assert ws.subprotocol == "v2"
        assert ws.recv(TIMEOUT) == "v2"


def _read_frame_opcode(sock: socket.socket) -> int:
    header = b""
    while len(header) < 2:
        chunk = sock.recv(2 - len(header))
        assert chunk, "the server closed the connection"
        header += chunk
    return header[0] & 0x0F


@pytest.mark.parametrize("server_path", ["uvicorn-asgi"])
def test_uvicorn_pings_idle_connections(ws_server: ServerProcess) -> None:
    """A raw handshake, then silence: the first frame the server sends is a ping (0x9)."""
    key = base64.b64encode(os.urandom(16)).decode()
    with socket.create_connection(("127.0.0.1", ws_server.port), timeout=TIMEOUT) as sock:
        sock.sendall(
            (
                f"GET /echo/{unique('idle')} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                "Upgrade: websocket\r\nConnection: Upgrade\r\n"
                f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
            ).encode()
        )
        response = b""
        while b"\r\n\r\n" not in response:
            chunk = sock.recv(1024)
            assert chunk, "no handshake response"
            response += chunk
        assert response.startswith(b"HTTP/1.1 101")
        started = time.monotonic()
        assert _read_frame_opcode(sock) == 0x9
        assert time.monotonic() - started < 5


# The runner's websocket options -------------------------------------------------------------


def _serve(app: App, server: str, **websockets: Any) -> None:
    serve(
        app,
        host="127.0.0.1",
        port=free_port(),
        workers=1,
        server=server,
        interface="rsgi" if server == "granian" else "asgi",
        log_level="warning",
        access_log=False,
        websockets=WebSocketSettings(**websockets),
    )


def test_granian_refuses_ping_settings_and_oversized_limits() -> None:
    app = App()
    with pytest.raises(ConfigurationError, match="Granian does not send websocket pings"):
        _serve(app, "granian", ping_interval=5.0)
    with pytest.raises(ConfigurationError, match="must be > 0"):
        _serve(app, "uvicorn", ping_timeout=0)

    @app.websocket("/huge", max_size=128 * 1024 * 1024)
    async def huge(websocket: WebSocket) -> None:
        await websocket.accept()

    with pytest.raises(ConfigurationError, match="Granian takes at most"):
        _serve(app, "granian")


def test_uvicorn_gets_the_largest_message_size(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import uvicorn

    seen: dict[str, Any] = {}
    monkeypatch.setattr(uvicorn, "run", lambda app, **options: seen.update(options))
    app = App(websocket_max_size=1000)

    @app.websocket("/a")
    async def a(websocket: WebSocket) -> None:
        await websocket.accept()

    @app.websocket("/b", max_size=5000)
    async def b(websocket: WebSocket) -> None:
        await websocket.accept()

    _serve(app, "uvicorn", ping_interval=3.0, ping_timeout=4.0)
    assert "uvicorn" in capsys.readouterr().out
    assert (seen["ws_max_size"], seen["ws_ping_interval"], seen["ws_ping_timeout"]) == (
        5000,
        3.0,
        4.0,
    )


# Guards, rate limits and ASGI middleware before the accept ----------------------------------


def test_guards_and_rate_limits_deny_the_handshake(
    ws_server: ServerProcess, server_path: str
) -> None:
    with connect(
        ws_url(ws_server, "/guarded"), additional_headers={"x-key": "open"}, open_timeout=TIMEOUT
    ) as ws:
        assert ws.recv(TIMEOUT) == "in"
    with pytest.raises(InvalidStatus) as refused:
        connect(ws_url(ws_server, "/guarded"), open_timeout=TIMEOUT)
    assert refused.value.response.status_code == 403
    if server_path != "granian-rsgi":  # the denial-response extension: the whole response
        assert b"refused by guard has_key" in refused.value.response.body

    with connect(ws_url(ws_server, "/limited"), open_timeout=TIMEOUT) as ws:
        assert ws.recv(TIMEOUT) == "in"
    with pytest.raises(InvalidStatus) as limited:
        connect(ws_url(ws_server, "/limited"), open_timeout=TIMEOUT)
    assert limited.value.response.status_code == 429
    if server_path != "granian-rsgi":
        assert int(limited.value.response.headers["retry-after"]) >= 1


def test_asgi_middleware_wraps_websockets(start_app: Any, server_path: str) -> None:
    server = start_app("ws_middleware", server_path)
    with connect(ws_url(server, "/room"), open_timeout=TIMEOUT) as ws:
        ws.send("hi")
        assert ws.recv(TIMEOUT) == "room:hi:stamp"
    with pytest.raises(InvalidStatus) as refused:
        connect(ws_url(server, "/private/room"), open_timeout=TIMEOUT)
    assert refused.value.response.status_code == 403  # the middleware's close
    with pytest.raises(InvalidStatus) as guarded:
        connect(ws_url(server, "/room"), additional_headers={"x-key": "no"}, open_timeout=TIMEOUT)
    assert guarded.value.response.status_code == 403  # ambi's guard, through the middleware
