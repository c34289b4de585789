"""`TestClient.websocket_connect`: a websocket session with the app, in memory.

The app runs on the client's portal loop, driven through the chosen server interface:
ASGI messages (the server has the websocket denial-response extension, as uvicorn and
Granian do), or an in-memory stand-in for Granian's RSGI websocket protocol that puts on
the "wire" only what Granian can (no subprotocol, no handshake headers, close frames
without a code: the session sees 1005; a refused handshake is an HTTP status without
headers or body).

A handshake refused with an HTTP response raises `WebSocketDenialResponse` (Starlette's
name): an `httpx.Response` and a `WebSocketDisconnect` (code 1006, as a real client sees
a handshake that got no upgrade).
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
from collections.abc import MutableMapping
from types import TracebackType
from typing import TYPE_CHECKING, Any, Literal, Self

import httpx
import orjson

from ._testing_wire import _RSGIScope, asgi_scope
from .exceptions import WebSocketDisconnect

if TYPE_CHECKING:
    from .app import App
    from .testing import Interface, _Portal

Message = dict[str, Any]

#: How long leaving the session waits for the handler to end before cancelling it.
END_TIMEOUT = 5.0


class WebSocketDenialResponse(httpx.Response, WebSocketDisconnect):  # type: ignore[misc]
    """The HTTP response that refused the handshake (status, headers, body)."""

    __test__ = False

    def __init__(self, status_code: int, headers: list[tuple[bytes, bytes]], body: bytes) -> None:
        httpx.Response.__init__(self, status_code, headers=headers, content=body)
        WebSocketDisconnect.__init__(self, 1006, f"handshake refused with HTTP {status_code}")


class _Ended:
    """Put in the outbound queue when the app's task ends (with its error, if any)."""

    def __init__(self, error: BaseException | None) -> None:
        self.error = error


# The two interfaces, app side ------------------------------------------------------------


class _Wire:
    """Queues between the session (the client) and the app."""

    def __init__(self) -> None:
        self.inbound: asyncio.Queue[Message] = asyncio.Queue()  # client -> app
        self.outbound: asyncio.Queue[Message | _Ended] = asyncio.Queue()  # app -> client
        self.client_gone = False


def _asgi_scope(request: httpx.Request, subprotocols: list[str]) -> Message:
    return {
        "type": "websocket",
        **asgi_scope(request),
        "scheme": "wss" if request.url.scheme == "https" else "ws",
        "subprotocols": subprotocols,
        "extensions": {"websocket.http.response": {}},
    }


async def _run_asgi(app: App, wire: _Wire, request: httpx.Request, subprotocols: list[str]) -> None:
    connected = False

    async def receive() -> Message:
        nonlocal connected
        if not connected:
            connected = True
            return {"type": "websocket.connect"}
        return await wire.inbound.get()

    async def send(message: MutableMapping[str, Any]) -> None:
        if wire.client_gone:
            raise OSError("the test client has disconnected")  # uvicorn: ClientDisconnected
        await wire.outbound.put(dict(message))

    await app(_asgi_scope(request, subprotocols), receive, send)


class _RSGIMessage:
    __slots__ = ("data", "kind")

    def __init__(self, kind: int, data: str | bytes | None) -> None:
        self.kind = kind
        self.data = data


class _RSGIWebSocketTransport:
    """What Granian's `accept()` gives: receive, send_bytes, send_str."""

    def __init__(self, wire: _Wire) -> None:
        self._wire = wire
        self.closed = False

    async def receive(self) -> _RSGIMessage:
        if self.closed:
            raise RuntimeError("RSGI transport is closed")
        message = await self._wire.inbound.get()
        if message["type"] == "websocket.disconnect":
            return _RSGIMessage(0, None)  # Granian gives no close code
        if message.get("text") is not None:
            return _RSGIMessage(2, message["text"])
        return _RSGIMessage(1, message.get("bytes") or b"")

    async def _put(self, message: Message) -> None:
        if self.closed or self._wire.client_gone:
            raise RuntimeError("RSGI transport is closed")
        await self._wire.outbound.put(message)

    async def send_bytes(self, data: bytes) -> None:
        await self._put({"type": "websocket.send", "bytes": bytes(data)})

    async def send_str(self, data: str) -> None:
        await self._put({"type": "websocket.send", "text": data})


class _RSGIWebSocketProto:
    """An in-memory stand-in for Granian's websocket protocol object."""

    def __init__(self, wire: _Wire) -> None:
        self._wire = wire
        self._transport: _RSGIWebSocketTransport | None = None
        self._closed = False

    async def accept(self) -> _RSGIWebSocketTransport:
        if self._transport is not None or self._closed:
            raise RuntimeError("RSGI protocol error: accept after accept or close")
        self._transport = _RSGIWebSocketTransport(self._wire)
        await self._wire.outbound.put({"type": "websocket.accept", "subprotocol": None})
        return self._transport

    def close(self, status: int | None = None) -> None:
        if self._closed:
            return
        self._closed = True
        if self._transport is None:  # the handshake is refused with HTTP `status` alone
            message = {"type": "websocket.http.response.start", "status": status or 500}
            self._wire.outbound.put_nowait(message)
            message = {"type": "websocket.http.response.body", "body": b""}
        else:  # Granian's close frame carries no code
            self._transport.closed = True
            message = {"type": "websocket.close", "code": 1005, "reason": ""}
        self._wire.outbound.put_nowait(message)


async def _run_rsgi(app: App, wire: _Wire, request: httpx.Request) -> None:
    scope = _RSGIScope(request)
    scope.proto = "ws"
    proto = _RSGIWebSocketProto(wire)
    await app.__rsgi__(scope, proto)  # type: ignore[arg-type]
    proto.close()  # what Granian does when the app returns


# The client side ----------------------------------------------------------------------------


def handshake_headers(subprotocols: list[str]) -> dict[str, str]:
    headers = {
        "connection": "upgrade",
        "upgrade": "websocket",
        "sec-websocket-key": secrets.token_urlsafe(16),
        "sec-websocket-version": "13",
    }
    if subprotocols:
        headers["sec-websocket-protocol"] = ", ".join(subprotocols)
    return headers


class WebSocketTestSession:
    """A websocket connection to the app, as Starlette's `WebSocketTestSession`.

    Entering it runs the handshake: a handler that closes before accepting makes the
    `with` raise `WebSocketDisconnect`. Leaving it disconnects and waits for the handler.
    """

    __test__ = False

    def __init__(
        self,
        portal: _Portal,
        app: App,
        interface: Interface,
        request: httpx.Request,
        subprotocols: list[str],
    ) -> None:
        self._portal = portal
        self._app = app
        self._interface = interface
        self._request = request
        self._subprotocols = subprotocols
        self._wire: _Wire | None = None
        self._task: asyncio.Future[None] | None = None
        self.accepted_subprotocol: str | None = None
        self.extra_headers: list[tuple[bytes, bytes]] = []

    # Running the app ------------------------------------------------------------------------

    async def _start(self) -> None:
        wire = self._wire = _Wire()
        if self._interface == "rsgi":
            coro = _run_rsgi(self._app, wire, self._request)
        else:
            coro = _run_asgi(self._app, wire, self._request, self._subprotocols)
        task = self._task = asyncio.ensure_future(coro)

        def ended(done: asyncio.Future[None]) -> None:
            error = None if done.cancelled() else done.exception()
            wire.outbound.put_nowait(_Ended(error))

        task.add_done_callback(ended)

    async def _end(self, code: int) -> None:
        wire, task = self._wire, self._task
        if wire is None or task is None:
            return
        if not wire.client_gone:
            await wire.inbound.put({"type": "websocket.disconnect", "code": code})
        wire.client_gone = True
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(asyncio.shield(task), END_TIMEOUT)
        if not task.done():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    def __enter__(self) -> Self:
        self._portal.call(self._start())
        message = self.receive()
        if message["type"] == "websocket.accept":
            self.accepted_subprotocol = message.get("subprotocol")
            self.extra_headers = list(message.get("headers") or [])
            return self
        self._portal.call(self._end(1000))
        if message["type"] == "websocket.http.response.start":
            raise self._denial(message)
        if message["type"] == "websocket.close":
            raise WebSocketDisconnect(message.get("code", 1000), message.get("reason"))
        raise RuntimeError(f"expected the websocket accept, got {message!r}")

    def _denial(self, start: Message) -> WebSocketDenialResponse:
        body = b""
        while True:
            message = self.receive()
            if message["type"] != "websocket.http.response.body":
                raise RuntimeError(f"expected the denial response's body, got {message!r}")
            body += message.get("body", b"")
            if not message.get("more_body", False):
                break
        return WebSocketDenialResponse(start["status"], list(start.get("headers") or []), body)

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc_value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._portal.call(self._end(1000))
        task = self._task
        if task is not None and task.done() and not task.cancelled():
            error = task.exception()
            if error is not None and exc_value is None:
                raise error

    # Talking to the app ---------------------------------------------------------------------

    def send(self, message: Message) -> None:
        """Send an ASGI-shaped message: `websocket.receive` (text / bytes) or
        `websocket.disconnect`."""
        wire = self._wire
        if wire is None:
            raise RuntimeError("the websocket session is not open (use it in a `with`)")
        if message["type"] == "websocket.disconnect":
            wire.client_gone = True
        self._portal.call(wire.inbound.put(dict(message)))

    def send_text(self, data: str) -> None:
        self.send({"type": "websocket.receive", "text": data})

    def send_bytes(self, data: bytes) -> None:
        self.send({"type": "websocket.receive", "bytes": data})

    def send_json(self, data: Any, mode: Literal["text", "binary"] = "text") -> None:
        encoded = orjson.dumps(data)
        if mode == "text":
            self.send_text(encoded.decode("utf-8"))
        else:
            self.send_bytes(encoded)

    def close(self, code: int = 1000, reason: str | None = None) -> None:
        """Close from the client's side (the handler sees `WebSocketDisconnect(code)`)."""
        self.send({"type": "websocket.disconnect", "code": code, "reason": reason or ""})

    def receive(self) -> Message:
        """The app's next message: `websocket.accept`, `websocket.send` or `.close`."""
        wire = self._wire
        if wire is None:
            raise RuntimeError("the websocket session is not open (use it in a `with`)")
        message = self._portal.call(wire.outbound.get())
        if isinstance(message, _Ended):
            wire.outbound.put_nowait(message)  # later calls see the end too
            if message.error is not None:
                raise message.error
            raise WebSocketDisconnect(1006, "the handler ended without closing")
        return message

    def _data(self) -> Message:
        message = self.receive()
        if message["type"] == "websocket.close":
            raise WebSocketDisconnect(message.get("code", 1000), message.get("reason"))
        return message

    def receive_text(self) -> str:
        message = self._data()
        text = message.get("text")
        if text is None:
            raise AssertionError(f"expected a text message, got {message!r}")
        return str(text)

    def receive_bytes(self) -> bytes:
        message = self._data()
        data = message.get("bytes")
        if data is None:
            raise AssertionError(f"expected a binary message, got {message!r}")
        return bytes(data)

    def receive_json(self, mode: Literal["text", "binary"] = "text") -> Any:
        data = self.receive_text() if mode == "text" else self.receive_bytes()
        return orjson.loads(data)
