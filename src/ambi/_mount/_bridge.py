"""Serving a mounted ASGI app from an ambi `Request`, over either server interface.

The mounted app gets an ASGI scope built from the request (the full `path`, and the mount
path in `root_path`, as Starlette's `Mount` gives it), a `receive` that hands it the
request body as it arrives, and a `send` that writes through the adapter the request came
from: on ASGI its messages pass through; on RSGI they become Granian's calls (one
`response_bytes` for a body sent at once, a stream otherwise, `response_file` for the
`http.response.pathsend` extension, which is offered on both).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from .._server_errors import report_server_error
from ..http import JSONResponse, Request, Response
from ..servers._rsgi_pacing import Pacer
from ..servers._send_asgi import send_asgi
from ..servers._send_rsgi import send_rsgi
from ..servers._types import ASGIMessage, ASGISend, ClientDisconnected, RSGIStreamTransport

if TYPE_CHECKING:
    from ..execution import Engine
    from ..servers._types import RSGIProtocol

logger = logging.getLogger("ambi.mount")

CHUNK_SIZE = 64 * 1024


class ClientGone(OSError):
    """Raised from `send` when the client is no longer there (ASGI spec 2.4)."""


def _server_address(server: str) -> tuple[str, int] | None:
    host, sep, port = server.rpartition(":")
    return (host.strip("[]"), int(port)) if sep and port.isdigit() else None


def asgi_scope(request: Request, root_path: str, state: dict[str, Any]) -> dict[str, Any]:
    """The ASGI HTTP scope of `request`, for an app mounted at `root_path`."""
    return {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.4"},
        "http_version": request.http_version,
        "method": request.method,
        "scheme": request.scheme,
        "path": request.root_path + request.path,
        "raw_path": quote(request.root_path + request.path, safe="/:@!$&'()*+,;=~").encode("ascii"),
        "query_string": request.query_string.encode("latin-1"),
        "root_path": root_path,
        "headers": [(k.encode("latin-1"), v.encode("latin-1")) for k, v in request.raw_headers],
        "client": request.client,
        "server": _server_address(request.server),
        "extensions": {"http.response.pathsend": {}},
        "state": dict(state),
    }


async def _file_chunks(engine: Engine, path: str) -> AsyncIterator[bytes]:
    handle = await engine.run_in_thread(open, path, "rb")
    try:
        while chunk := await engine.run_in_thread(handle.read, CHUNK_SIZE):
            yield chunk
    finally:
        await engine.run_in_thread(handle.close)


class _Exchange:
    """One request handed to a mounted app: its `receive`, and what was sent so far."""

    def __init__(self, request: Request, disconnected: Callable[[], Awaitable[Any]] | None):
        self.request = request
        self.started = False
        self.complete = False  # the whole response was handed to the server
        self.finished = asyncio.Event()
        self._disconnected = disconnected
        self._body: AsyncIterator[bytes] | None = None
        self._body_done = not request.has_body()
        self._empty_sent = False

    async def receive(self) -> ASGIMessage:
        if not self._body_done:
            return await self._next_body()
        if not self._empty_sent:
            self._empty_sent = True
            return {"type": "http.request", "body": b"", "more_body": False}
        await self._until_over()
        return {"type": "http.disconnect"}

    async def _next_body(self) -> ASGIMessage:
        if self._body is None:
            self._body = self.request.stream()
        try:
            chunk = await anext(self._body)
        except StopAsyncIteration:
            self._body_done = True
            self._empty_sent = True
            return {"type": "http.request", "body": b"", "more_body": False}
        except ClientDisconnected:
            self._body_done = self._empty_sent = True
            return {"type": "http.disconnect"}
        return {"type": "http.request", "body": chunk, "more_body": True}

    async def _until_over(self) -> None:
        """Wait until the response is over or (where the server tells) the client left."""
        if self._disconnected is None:
            await self.finished.wait()
            return
        waiters = {
            asyncio.ensure_future(self.finished.wait()),
            asyncio.ensure_future(self._disconnected()),
        }
        try:
            await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiter in waiters:
                waiter.cancel()

    async def close(self) -> None:
        self.finished.set()
        body, self._body = self._body, None
        if body is not None:
            await body.aclose()  # type: ignore[attr-defined]


class ASGIAppResponse(Response):
    """The answer of a mounted ASGI app, produced while it is sent.

    Headers set on this response (by middleware, say) are added to the app's own.
    """

    in_memory = False

    def __init__(self, app: Any, request: Request, scope: dict[str, Any], where: str) -> None:
        super().__init__(b"")
        self.app = app
        self.request = request
        self.scope = scope
        self.where = where

    def _extra_headers(self) -> list[tuple[str, str]]:
        return self.headers.items_list

    async def _run(
        self, exchange: _Exchange, send: Callable[[ASGIMessage], Awaitable[None]]
    ) -> Response | None:
        """Run the app; the answer to send for it if it ended before starting its own."""
        try:
            await self.app(self.scope, exchange.receive, send)
        except Exception as exc:
            if exchange.started and isinstance(exc, OSError):
                return None  # the client went away in the middle of the response
            if not exchange.started and _http_error(exc):
                # Starlette's StaticFiles raises its HTTPException for its host to answer
                return JSONResponse({"detail": exc.detail}, exc.status_code, exc.headers)  # type: ignore[attr-defined]
            logger.exception("the app mounted at %s failed", self.where)
            report_server_error(exc)
            if exchange.started and not exchange.complete:
                raise  # the server must cut the connection: the response is incomplete
            return None if exchange.started else _server_error()
        finally:
            await exchange.close()
        if not exchange.started:
            logger.error("the app mounted at %s returned without a response", self.where)
            return _server_error()
        return None

    async def serve_asgi(self, send: ASGISend, engine: Engine, head: bool) -> None:
        """Run the app; its messages go to the server's `send` (`ambi.servers._send_asgi`)."""
        exchange = _Exchange(self.request, None)
        extra = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in self._extra_headers()]

        async def forward(message: ASGIMessage) -> None:
            kind = message["type"]
            if kind == "http.response.start":
                exchange.started = True
                if extra:
                    message = {**message, "headers": [*message.get("headers", ()), *extra]}
            elif kind == "http.response.pathsend":
                if not head:
                    async for chunk in _file_chunks(engine, message["path"]):
                        body = {"type": "http.response.body", "body": chunk, "more_body": True}
                        await send(body)
                message = {"type": "http.response.body", "body": b""}
            elif head and message.get("body"):  # a HEAD answer carries no body
                message = {**message, "body": b""}
            await send(message)
            if message["type"] == "http.response.body" and not message.get("more_body", False):
                exchange.complete = True
                exchange.finished.set()

        error = await self._run(exchange, forward)
        if error is not None:
            await send_asgi(error, send, engine, head)

    async def serve_rsgi(self, proto: RSGIProtocol, engine: Engine, head: bool) -> None:
        """Run the app; its messages become Granian's calls (`ambi.servers._send_rsgi`)."""
        exchange = _Exchange(self.request, proto.client_disconnect)
        request = self.request
        client = request.client
        pacer = Pacer(
            None if client is None else (client[0], client[1]),
            _server_address(request.server),
            engine,
        )
        sender = _RSGISender(proto, exchange, self._extra_headers(), head, pacer)
        try:
            error = await self._run(exchange, sender)
        finally:
            pacer.close()
        if error is not None:
            sending = send_rsgi(error, proto, engine, head)
            if sending is not None:
                await sending


def _http_error(exc: Exception) -> bool:
    """An HTTP error of another framework (Starlette's, FastAPI's): status, detail, headers."""
    status = getattr(exc, "status_code", None)
    return isinstance(status, int) and 400 <= status <= 599 and hasattr(exc, "detail")


def _server_error() -> Response:
    return JSONResponse({"detail": "Internal Server Error"}, 500)


class _RSGISender:
    """ASGI `send` messages, turned into calls on Granian's RSGI protocol object."""

    def __init__(
        self,
        proto: RSGIProtocol,
        exchange: _Exchange,
        extra: list[tuple[str, str]],
        head: bool,
        pacer: Pacer,
    ) -> None:
        self.proto = proto
        self.pacer = pacer
        self.exchange = exchange
        self.extra = extra
        self.head = head
        self.status = 500
        self.headers: list[tuple[str, str]] = []
        self.transport: RSGIStreamTransport | None = None
        self.done = False

    async def __call__(self, message: ASGIMessage) -> None:
        kind = message["type"]
        if kind == "http.response.start":
            if self.exchange.started:
                raise RuntimeError("http.response.start sent twice")
            self.exchange.started = True
            self.status = int(message["status"])
            self.headers = [
                (k.decode("latin-1"), v.decode("latin-1")) for k, v in message.get("headers", ())
            ]
            self.headers.extend(self.extra)
        elif not self.exchange.started:
            raise RuntimeError(f"{kind} sent before http.response.start")
        elif self.done:
            return  # a HEAD answer is over; any more body is dropped
        elif kind == "http.response.body":
            await self._body(message.get("body", b""), bool(message.get("more_body", False)))
        elif kind == "http.response.pathsend":
            if self.head:
                self.proto.response_empty(self.status, self.headers)
            else:
                self.proto.response_file(self.status, self.headers, message["path"])
            self._over()
        else:
            raise RuntimeError(f"unexpected ASGI message {kind!r}")

    def _over(self) -> None:
        self.done = True
        self.exchange.complete = True
        self.exchange.finished.set()

    async def _body(self, body: bytes, more: bool) -> None:
        if self.transport is None:
            if self.head or not more:
                if body and not self.head:
                    self.proto.response_bytes(self.status, self.headers, body)
                else:
                    self.proto.response_empty(self.status, self.headers)
                self._over()
                return
            self.transport = self.proto.response_stream(self.status, self.headers)
        if body:
            try:
                await self.transport.send_bytes(body)
            except RuntimeError as exc:  # RSGIProtocolClosed: the client went away
                raise ClientGone(str(exc)) from exc
            await self.pacer.sent(len(body))  # Granian's buffer is unbounded (_rsgi_pacing)
        if not more:
            self._over()
