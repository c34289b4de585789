"""The ASGI websocket wire: `websocket` scopes in, a `WebSocket` to the app, messages out."""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING

from .._websocket_route import serve_websocket
from ..exceptions import WebSocketDisconnect
from ..http import WebSocket
from ._types import ASGIMessage, ASGIReceive, ASGIScope, ASGISend

if TYPE_CHECKING:
    from ..app import App

#: What a send raises when the client has gone: uvicorn's `ClientDisconnected` is an
#: OSError; Granian's and uvicorn's flow errors (a send after the close) are RuntimeErrors.
_GONE = (OSError, RuntimeError)

#: The ASGI extension for refusing a handshake with an HTTP response (uvicorn, Granian).
_DENIAL = "websocket.http.response"


class _ASGITransport:
    """One websocket connection over ASGI 3 `receive` / `send`; `denial`: whether the
    server has the websocket denial-response extension (`websocket.http.response`)."""

    __slots__ = ("_denial", "_receive", "_send")

    def __init__(self, receive: ASGIReceive, send: ASGISend, denial: bool = False) -> None:
        self._receive = receive
        self._send = send
        self._denial = denial

    async def _emit(self, message: ASGIMessage) -> None:
        try:
            await self._send(message)
        except _GONE as exc:
            raise WebSocketDisconnect(1006, "the client has gone") from exc

    async def accept(self, subprotocol: str | None, headers: list[tuple[str, str]]) -> None:
        await self._emit(
            {
                "type": "websocket.accept",
                "subprotocol": subprotocol,
                "headers": [(k.encode("latin-1"), v.encode("latin-1")) for k, v in headers],
            }
        )

    async def receive(self) -> str | bytes:
        message = await self._receive()
        kind = message["type"]
        if kind == "websocket.receive":
            text = message.get("text")
            if text is not None:
                return str(text)
            return bytes(message.get("bytes") or b"")
        if kind == "websocket.disconnect":
            raise WebSocketDisconnect(message.get("code", 1005), message.get("reason"))
        raise RuntimeError(f"unexpected ASGI message {kind!r} on an open websocket")

    async def send_text(self, data: str) -> None:
        await self._emit({"type": "websocket.send", "text": data})

    async def send_bytes(self, data: bytes) -> None:
        await self._emit({"type": "websocket.send", "bytes": data})

    async def close(self, code: int, reason: str) -> None:
        # Before the accept, the server refuses the handshake (HTTP 403).
        with contextlib.suppress(*_GONE):  # a client that has gone needs no close
            await self._send({"type": "websocket.close", "code": code, "reason": reason})

    async def deny(self, status: int, headers: list[tuple[str, str]], body: bytes) -> bool:
        if not self._denial:
            return False
        with contextlib.suppress(*_GONE):  # a client that has gone needs no answer
            await self._send(
                {
                    "type": "websocket.http.response.start",
                    "status": status,
                    "headers": [(k.encode("latin-1"), v.encode("latin-1")) for k, v in headers],
                }
            )
            await self._send({"type": "websocket.http.response.body", "body": body})
        return True


def _client_address(client: object) -> tuple[str, int] | None:
    if not isinstance(client, list | tuple) or len(client) != 2:
        return None
    host, port = client
    if isinstance(port, str) and port.isdigit():
        port = int(port)  # Granian's ASGI scope gives the port as a str
    return (str(host), port) if isinstance(port, int) else None


async def serve(app: App, scope: ASGIScope, receive: ASGIReceive, send: ASGISend) -> None:
    """Serve one `websocket` scope."""
    message = await receive()
    if message["type"] != "websocket.connect":
        return  # the client left before the handshake reached the app
    server = scope.get("server")
    websocket = WebSocket(
        app,
        scope["path"],
        scope.get("query_string", b"").decode("latin-1"),
        [(k.decode("latin-1").lower(), v.decode("latin-1")) for k, v in scope["headers"]],
        _ASGITransport(receive, send, _DENIAL in (scope.get("extensions") or ())),
        client=_client_address(scope.get("client")),
        server=f"{server[0]}:{server[1]}" if server and server[1] else "",
        scheme="wss" if scope.get("scheme") in ("wss", "https") else "ws",
        http_version=scope.get("http_version", "1.1"),
    )
    await serve_websocket(app, websocket)
