"""The ASGI 3 adapter: HTTP and lifespan scopes in, `Request` to the app, response out.
(Websocket scopes: `_ws_asgi`.)"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

from ..http import Request, StreamingResponse
from ._send_asgi import send_asgi
from ._shutdown import ADAPTER_CODES, shutting_down, was_cut
from ._types import ASGIReceive, ASGIScope, ASGISend, ClientDisconnected

if TYPE_CHECKING:
    from ..app import App

logger = logging.getLogger("ambi.server")


def _client_address(client: Any) -> tuple[str, int] | None:
    """`scope["client"]` as `(host, port)`; Granian's ASGI scope gives the port as a str."""
    if not client:
        return None
    host, port = client[0], client[1]
    if isinstance(port, int):
        return host, port
    if isinstance(port, str) and port.isdigit():
        return host, int(port)
    return None


class _ASGIBody:
    """The request body, from `http.request` messages."""

    __slots__ = ("_receive", "done")

    def __init__(self, receive: ASGIReceive) -> None:
        self._receive = receive
        #: The whole body was read: `receive` is free to wait for `http.disconnect`.
        self.done = False

    async def chunks(self) -> AsyncIterator[bytes]:
        receive = self._receive
        while True:
            message = await receive()
            if message["type"] == "http.request":
                if not message.get("more_body", False):
                    self.done = True
                    yield message.get("body", b"")
                    return
                yield message.get("body", b"")
            elif message["type"] == "http.disconnect":
                raise ClientDisconnected

    async def read_exact(self, length: int) -> bytes:
        parts: list[bytes] = []
        while True:
            message = await self._receive()
            if message["type"] == "http.disconnect":
                raise ClientDisconnected
            if message["type"] == "http.request":
                parts.append(message.get("body", b""))
                if not message.get("more_body", False):
                    self.done = True
                    return parts[0] if len(parts) == 1 else b"".join(parts)


def _request_from_scope(app: App, scope: ASGIScope, source: _ASGIBody) -> Request:
    server = scope.get("server")
    return Request(
        app,
        scope["method"],
        scope["path"],
        scope.get("query_string", b"").decode("latin-1"),
        [(k.decode("latin-1").lower(), v.decode("latin-1")) for k, v in scope["headers"]],
        client=_client_address(scope.get("client")),
        server=f"{server[0]}:{server[1]}" if server and server[1] else "",
        scheme=scope.get("scheme", "http"),
        http_version=scope.get("http_version", "1.1"),
        source=source,
    )


async def serve_http(app: App, scope: ASGIScope, receive: ASGIReceive, send: ASGISend) -> None:
    source = _ASGIBody(receive)
    request = _request_from_scope(app, scope, source)
    response = None
    try:
        response = await app.dispatch(request)
        head = request.method == "HEAD"
        if isinstance(response, StreamingResponse):
            # a stream listens for the client leaving, once nobody can read the body
            listen = receive if source.done or not request.has_body() else None
            await send_asgi(response, send, app.engine, head, listen)
        else:
            await send_asgi(response, send, app.engine, head)
    except ClientDisconnected:
        return
    except asyncio.CancelledError:
        if not was_cut(app, request):
            raise
        if response is None:  # nothing sent yet (else the server ends the connection)
            await send_asgi(shutting_down(), send, app.engine, request.method == "HEAD")
    finally:
        pending = request.finish()
        if pending is not None:
            await pending


ADAPTER_CODES.add(serve_http.__code__)  # a request in flight, for the shutdown's cut


async def serve_lifespan(app: App, receive: ASGIReceive, send: ASGISend) -> None:
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            try:
                await app.startup()
            except BaseException as exc:
                logger.exception("startup failed")
                await send({"type": "lifespan.startup.failed", "message": repr(exc)})
                return
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            try:
                await app.shutdown()
            except BaseException as exc:
                logger.exception("shutdown failed")
                await send({"type": "lifespan.shutdown.failed", "message": repr(exc)})
                return
            await send({"type": "lifespan.shutdown.complete"})
            return
