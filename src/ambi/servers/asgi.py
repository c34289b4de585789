"""The ASGI 3 adapter: HTTP and lifespan scopes in, `Request` to the app, response out.
(Websocket scopes: `_ws_asgi`.)"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

from ..exceptions import ClientDisconnected, HTTPException, IncompleteBody
from ..http import Request, StreamingResponse
from ..http._host import request_host_error
from ._deadlines import body_deadlines
from ._send_asgi import send_asgi
from ._shutdown import ADAPTER_CODES, shutting_down, was_cut
from ._types import ASGIReceive, ASGIScope, ASGISend

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
    """The request body, from `http.request` messages (each read bounded by the app's
    body timeout, see `_deadlines`)."""

    __slots__ = ("_app", "_receive", "done")

    def __init__(self, app: App, receive: ASGIReceive) -> None:
        self._app = app
        self._receive = receive
        #: The whole body was read: `receive` is free to wait for `http.disconnect`.
        self.done = False

    def _reader(self) -> ASGIReceive:
        clock = body_deadlines(self._app)
        if clock is None:
            return self._receive
        receive, read = self._receive, clock.read
        return lambda: read(receive())

    async def chunks(self) -> AsyncIterator[bytes]:
        receive = self._reader()
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
        receive = self._reader()
        parts: list[bytes] = []
        while True:
            message = await receive()
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
    source = _ASGIBody(app, receive)
    request = _request_from_scope(app, scope, source)
    response = None
    try:
        bad_host = request_host_error(request.raw_headers, request._header_dict)
        if bad_host is not None:
            response = await app._error_response(request, HTTPException(400, bad_host))
        else:
            try:
                response = await app.dispatch(request)
            except ClientDisconnected:
                # `http.disconnect` before the body's end: the client left, or (Granian's
                # ASGI) the body's chunked framing is malformed, where the client still
                # reads. The 400 reaches that one; for a client that left, the send goes
                # nowhere (both servers drop it). Nothing logged but a debug line.
                logger.debug("%s %s: the body did not arrive whole", request.method, request.path)
                response = await app._error_response(request, IncompleteBody())
        head = request.method == "HEAD"
        if isinstance(response, StreamingResponse):
            # a stream listens for the client leaving, once nobody can read the body
            listen = receive if source.done or not request.has_body() else None
            await send_asgi(response, send, app.engine, head, listen)
        else:
            await send_asgi(response, send, app.engine, head)
    except ClientDisconnected:
        return  # the client left while a stream was being sent
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
