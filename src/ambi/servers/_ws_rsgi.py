"""The RSGI websocket wire (Granian's `scope.proto == "ws"`).

What Granian's RSGI interface (2.8) can put on the wire is narrower than ASGI's, and ambi
says so rather than pretending:

- `accept()` takes no subprotocol and no headers: `accept(subprotocol=...)` or
  `accept(headers=...)` raises (a browser that offered a subprotocol drops a connection
  accepted without one). Serve over ASGI for those: `app.listen(interface="asgi")`.
- after the accept, the close frame carries no code and no reason: clients see 1005
  ("no status") whatever the handler passed to `close()`, 1009 for an oversized message
  included. Before the accept, a close refuses the handshake with HTTP 403, as ASGI
  servers do; a denial (a guard's 401 or 403, a rate limit's 429) is answered with its
  status, but without its headers and body: `close(status)` is all Granian takes.
- a client's close arrives without its code: `WebSocketDisconnect.code` is 1005.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

from .._websocket_route import serve_websocket
from ..exceptions import WebSocketDisconnect
from ..http import WebSocket
from ._types import RSGIScope

if TYPE_CHECKING:
    from ..app import App

#: RSGI websocket message kinds.
_CLOSED, _BYTES, _TEXT = 0, 1, 2


class RSGIWebSocketTransport(Protocol):
    async def receive(self) -> Any: ...
    async def send_bytes(self, data: bytes) -> None: ...
    async def send_str(self, data: str) -> None: ...


class RSGIWebSocketProtocol(Protocol):
    async def accept(self) -> RSGIWebSocketTransport: ...
    def close(self, status: int | None = None) -> Any: ...


def accept_refusal() -> RuntimeError:
    """What an accept with a subprotocol or headers raises over RSGI."""
    return RuntimeError(
        "Granian's RSGI interface cannot send a subprotocol or handshake headers in the "
        "websocket accept; serve this app over ASGI: app.listen(interface='asgi') or "
        "`ambi run --interface asgi`"
    )


class _RSGITransport:
    """One websocket connection over Granian's protocol object and its transport."""

    __slots__ = ("_proto", "_transport")

    def __init__(self, proto: RSGIWebSocketProtocol) -> None:
        self._proto = proto
        self._transport: RSGIWebSocketTransport | None = None

    async def accept(self, subprotocol: str | None, headers: list[tuple[str, str]]) -> None:
        if subprotocol is not None or headers:
            raise accept_refusal()
        try:
            self._transport = await self._proto.accept()
        except RuntimeError as exc:  # RSGIProtocolError: the client left mid-handshake
            raise WebSocketDisconnect(1006, "the client has gone") from exc

    def _open(self) -> RSGIWebSocketTransport:
        if self._transport is None:
            raise RuntimeError("the websocket is not accepted")
        return self._transport

    async def receive(self) -> str | bytes:
        try:
            message = await self._open().receive()
        except RuntimeError as exc:  # RSGIProtocolClosed: the connection broke
            raise WebSocketDisconnect(1006, "the connection broke") from exc
        kind = message.kind
        if kind in (_TEXT, _BYTES):
            data: str | bytes = message.data
            return data
        raise WebSocketDisconnect(1005)  # the client closed; Granian does not give its code

    async def send_text(self, data: str) -> None:
        try:
            await self._open().send_str(data)
        except RuntimeError as exc:
            raise WebSocketDisconnect(1006, "the client has gone") from exc

    async def send_bytes(self, data: bytes) -> None:
        try:
            await self._open().send_bytes(data)
        except RuntimeError as exc:
            raise WebSocketDisconnect(1006, "the client has gone") from exc

    async def close(self, code: int, reason: str) -> None:
        # Before the accept Granian answers the handshake with this status: 403, as ASGI
        # servers do. After it, Granian sends a close frame without code or reason.
        self._proto.close(403 if self._transport is None else code)

    async def deny(self, status: int, headers: list[tuple[str, str]], body: bytes) -> bool:
        if self._transport is not None:
            return False
        self._proto.close(status)  # Granian answers the handshake with this status
        return True


def _split_client(client: str) -> tuple[str, int] | None:
    host, sep, port = client.rpartition(":")
    if not sep or not port.isdigit():
        return None
    return host.strip("[]"), int(port)


async def serve(app: App, scope: RSGIScope, proto: RSGIWebSocketProtocol) -> None:
    """Serve one `ws` scope."""
    websocket = WebSocket(
        app,
        scope.path,
        scope.query_string,
        scope.headers.items(),
        _RSGITransport(proto),
        client=_split_client(scope.client),
        server=scope.server,
        scheme="wss" if scope.scheme == "https" else "ws",
        http_version=scope.http_version,
    )
    await serve_websocket(app, websocket)
