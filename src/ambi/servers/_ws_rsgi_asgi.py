"""A websocket over Granian's RSGI interface, run through the app's ASGI middleware.

An app with ASGI middleware (`app.add_middleware(SomeASGIMiddleware)`) has it wrap its
websocket scopes as well as its HTTP ones. Over ASGI that is the app's entry point; over
RSGI `__rsgi__` bridges here: the RSGI websocket protocol becomes an ASGI `websocket`
scope with `receive` / `send`, the middleware stack runs on it, and ambi's own websocket
serving (`_ws_asgi`) sits innermost. Only apps with ASGI middleware take this path; the
others are served straight from the RSGI protocol (`_ws_rsgi`).

The bridge puts on the wire what Granian's RSGI interface can carry, and refuses the rest
rather than drop it (see `_ws_rsgi`): a `websocket.accept` with a subprotocol or headers
raises; a close after the accept carries no code; a refused handshake is answered with
its HTTP status alone (the scope advertises the denial-response extension, whose headers
and body RSGI cannot send). `app.listen()` and `ambi run` serve apps with ASGI middleware
over Granian's ASGI interface, where none of this applies.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from ._types import ASGIMessage, RSGIScope
from ._ws_rsgi import (
    _BYTES,
    _TEXT,
    RSGIWebSocketProtocol,
    RSGIWebSocketTransport,
    _split_client,
    accept_refusal,
)

if TYPE_CHECKING:
    from ..app import App

logger = logging.getLogger("ambi.websocket")


def websocket_scope(app: App, scope: RSGIScope) -> dict[str, Any]:
    """The ASGI `websocket` scope of an RSGI `ws` scope."""
    offered = scope.headers.get("sec-websocket-protocol") or ""
    server = _split_client(scope.server)
    return {
        "type": "websocket",
        "asgi": {"version": "3.0", "spec_version": "2.4"},
        "http_version": scope.http_version,
        "scheme": "wss" if scope.scheme == "https" else "ws",
        "path": scope.path,
        "raw_path": quote(scope.path, safe="/:@!$&'()*+,;=~").encode("ascii"),
        "query_string": scope.query_string.encode("latin-1"),
        "root_path": "",
        "headers": [(k.encode("latin-1"), v.encode("latin-1")) for k, v in scope.headers.items()],
        "client": _split_client(scope.client),
        "server": server,
        "subprotocols": [p.strip() for p in offered.split(",") if p.strip()],
        "extensions": {"websocket.http.response": {}},
        "state": dict(app.lifespan_state),
    }


class _Bridge:
    """ASGI `receive` and `send` over one RSGI websocket protocol object."""

    def __init__(self, proto: RSGIWebSocketProtocol, path: str) -> None:
        self._proto = proto
        self.path = path
        self._transport: RSGIWebSocketTransport | None = None
        self._connected = False
        self._accepted = asyncio.Event()
        self.closed = False  # the app closed, denied, or the client left

    async def receive(self) -> ASGIMessage:
        if not self._connected:
            self._connected = True
            return {"type": "websocket.connect"}
        if self._transport is None:
            await self._accepted.wait()  # as uvicorn: nothing arrives before the accept
        if self.closed or self._transport is None:
            return {"type": "websocket.disconnect", "code": 1006, "reason": ""}
        try:
            message = await self._transport.receive()
        except RuntimeError:  # the connection broke
            self.closed = True
            return {"type": "websocket.disconnect", "code": 1006, "reason": ""}
        if message.kind == _TEXT:
            return {"type": "websocket.receive", "text": message.data}
        if message.kind == _BYTES:
            return {"type": "websocket.receive", "bytes": message.data}
        self.closed = True  # the client closed; Granian does not give its code
        return {"type": "websocket.disconnect", "code": 1005, "reason": ""}

    async def send(self, message: ASGIMessage) -> None:
        kind = message["type"]
        if kind == "websocket.http.response.body":
            return  # RSGI answered the denial with its status alone
        if self.closed:
            raise RuntimeError(f"cannot send {kind!r}: the websocket is closed")
        if kind == "websocket.accept":
            await self._accept(message)
        elif kind == "websocket.send":
            if self._transport is None:
                raise RuntimeError("websocket.send before websocket.accept")
            text = message.get("text")
            if text is not None:
                await self._transport.send_str(text)
            else:
                await self._transport.send_bytes(message.get("bytes") or b"")
        elif kind == "websocket.close":
            self._close(403 if self._transport is None else int(message.get("code", 1000)))
        elif kind == "websocket.http.response.start" and self._transport is None:
            self._close(int(message["status"]))
        else:
            raise RuntimeError(f"unexpected ASGI message {kind!r} on a websocket")

    async def _accept(self, message: ASGIMessage) -> None:
        if self._transport is not None:
            raise RuntimeError("websocket.accept sent twice")
        if message.get("subprotocol") is not None or message.get("headers"):
            refusal = accept_refusal()
            logger.error("websocket %s refused: %s", self.path, refusal)
            self._close(500)  # refused, and said so: never accepted without them
            raise refusal
        try:
            self._transport = await self._proto.accept()
        except RuntimeError:  # the client left mid-handshake
            self.closed = True
            raise
        finally:
            self._accepted.set()

    def _close(self, status: int) -> None:
        self.closed = True
        self._accepted.set()
        self._proto.close(status)


async def serve_through_asgi(app: App, scope: RSGIScope, proto: RSGIWebSocketProtocol) -> None:
    """Serve one `ws` scope through the app's ASGI middleware stack."""
    bridge = _Bridge(proto, scope.path)
    try:
        await app._asgi_stack()(websocket_scope(app, scope), bridge.receive, bridge.send)
    except Exception:
        logger.exception("unhandled error serving the websocket %s", scope.path)
        if not bridge.closed:
            bridge._close(500 if bridge._transport is None else 1011)
