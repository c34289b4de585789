"""Driving the app in memory for the test clients (`ambi.testing`): one request through
its ASGI or its RSGI interface (an in-memory stand-in for Granian's protocol object), and
its startup and shutdown as the chosen server interface runs them."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import unquote

import httpx

from ._server_errors import collect_server_errors

if TYPE_CHECKING:
    from .app import App
    from .testing import Interface


# Driving one request through the ASGI interface -------------------------------------------


def asgi_scope(request: httpx.Request) -> dict[str, Any]:
    """What an ASGI scope, HTTP or websocket, takes from `request` (the caller adds `type`,
    `scheme` and the keys of its kind)."""
    url = request.url
    return {
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "path": unquote(url.path),
        "raw_path": url.raw_path.split(b"?")[0],
        "query_string": url.query,
        "root_path": "",
        "headers": [(k.lower(), v) for k, v in request.headers.raw],
        "client": ("testclient", 50000),
        "server": (url.host, url.port or (443 if url.scheme == "https" else 80)),
    }


async def _asgi_roundtrip(app: App, request: httpx.Request, body: bytes) -> httpx.Response:
    sent_body = False
    status = 500
    headers: list[tuple[bytes, bytes]] = []
    chunks: list[bytes] = []
    finished = asyncio.Event()

    async def receive() -> dict[str, Any]:
        nonlocal sent_body
        if not sent_body:
            sent_body = True
            return {"type": "http.request", "body": body, "more_body": False}
        await finished.wait()
        return {"type": "http.disconnect"}

    async def send(message: Any) -> None:
        nonlocal status, headers
        if message["type"] == "http.response.start":
            status = message["status"]
            headers = list(message.get("headers", []))
        elif message["type"] == "http.response.body":
            chunks.append(message.get("body", b""))
            if not message.get("more_body", False):
                finished.set()

    scope = {
        "type": "http",
        **asgi_scope(request),
        "method": request.method,
        "scheme": request.url.scheme,
    }
    await app(scope, receive, send)
    finished.set()
    return httpx.Response(status, headers=headers, content=b"".join(chunks), request=request)


# Driving one request through the RSGI interface -------------------------------------------


class _RSGIHeaders:
    def __init__(self, items: list[tuple[str, str]]) -> None:
        self._items = items

    def items(self) -> list[tuple[str, str]]:
        return list(self._items)

    def get(self, key: str, default: Any = None) -> Any:
        key = key.lower()
        return next((v for k, v in self._items if k == key), default)


class _RSGIScope:
    def __init__(self, request: httpx.Request) -> None:
        url = request.url
        self.proto = "http"
        self.http_version = "1.1"
        self.rsgi_version = "1.5"
        self.client = "testclient:50000"
        self.server = f"{url.host}:{url.port or 80}"
        self.scheme = url.scheme
        self.method = request.method
        self.path = unquote(url.path)
        self.query_string = url.query.decode("latin-1")
        self.authority = None
        self.headers = _RSGIHeaders(
            [(k.decode("latin-1").lower(), v.decode("latin-1")) for k, v in request.headers.raw]
        )


class _RSGIStream:
    def __init__(self, sink: list[bytes]) -> None:
        self._sink = sink

    async def send_bytes(self, data: bytes) -> None:
        self._sink.append(data)

    async def send_str(self, data: str) -> None:
        self._sink.append(data.encode())


class _RSGIProto:
    """An in-memory stand-in for Granian's HTTP protocol object."""

    def __init__(self, body: bytes) -> None:
        self._body = body
        self.status = 500
        self.headers: list[tuple[str, str]] = []
        self.chunks: list[bytes] = []
        self.responded = False

    async def __call__(self) -> bytes:
        return self._body

    async def _iter(self) -> AsyncIterator[bytes]:
        if self._body:
            yield self._body

    def __aiter__(self) -> AsyncIterator[bytes]:
        return self._iter()

    async def client_disconnect(self) -> None:
        await asyncio.Event().wait()

    def _start(self, status: int, headers: list[tuple[str, str]]) -> None:
        if self.responded:
            raise RuntimeError("RSGI response started twice")
        self.responded = True
        self.status = status
        self.headers = list(headers)

    def response_empty(self, status: int, headers: list[tuple[str, str]]) -> None:
        self._start(status, headers)

    def response_str(self, status: int, headers: list[tuple[str, str]], body: str) -> None:
        self.response_bytes(status, headers, body.encode())

    def response_bytes(self, status: int, headers: list[tuple[str, str]], body: bytes) -> None:
        self._start(status, headers)
        if "content-length" not in dict(headers):
            # as Granian does for a body handed over whole (hyper measures it)
            self.headers.append(("content-length", str(len(body))))
        self.chunks.append(body)

    def response_file(self, status: int, headers: list[tuple[str, str]], file: str) -> None:
        self._start(status, headers)
        with open(file, "rb") as handle:
            self.chunks.append(handle.read())

    def response_file_range(
        self, status: int, headers: list[tuple[str, str]], file: str, start: int, end: int
    ) -> None:
        self._start(status, headers)
        with open(file, "rb") as handle:
            handle.seek(start)
            self.chunks.append(handle.read(end - start))

    def response_stream(self, status: int, headers: list[tuple[str, str]]) -> _RSGIStream:
        self._start(status, headers)
        return _RSGIStream(self.chunks)


async def _rsgi_roundtrip(app: App, request: httpx.Request, body: bytes) -> httpx.Response:
    proto = _RSGIProto(body)
    await app.__rsgi__(_RSGIScope(request), proto)
    if not proto.responded:
        raise RuntimeError("the app returned without sending an RSGI response")
    return httpx.Response(
        proto.status, headers=proto.headers, content=b"".join(proto.chunks), request=request
    )


async def _roundtrip(
    app: App, interface: Interface, request: httpx.Request, body: bytes, raise_errors: bool
) -> httpx.Response:
    with collect_server_errors() as errors:
        if interface == "rsgi":
            response = await _rsgi_roundtrip(app, request, body)
        else:
            response = await _asgi_roundtrip(app, request, body)
    if errors and raise_errors:
        raise errors[0]
    return response


async def _asgi_lifespan(app: App, event: str) -> None:
    """Run one lifespan event through the ASGI interface; raise if it failed."""
    queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    replies: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    await queue.put({"type": f"lifespan.{event}"})

    async def receive() -> dict[str, Any]:
        return await queue.get()

    async def send(message: Any) -> None:
        await replies.put(message)

    task = asyncio.ensure_future(app({"type": "lifespan"}, receive, send))
    reply = await replies.get()
    task.cancel()
    if reply["type"].endswith(".failed"):
        raise RuntimeError(f"lifespan {event} failed: {reply.get('message', '')}")


async def _lifespan(app: App, interface: Interface, event: Literal["startup", "shutdown"]) -> None:
    """Run the app's startup or shutdown the way the chosen server interface does."""
    if interface == "asgi":
        await _asgi_lifespan(app, event)
    elif event == "startup":
        await app.startup()  # what Granian's __rsgi_init__ does
    else:
        await app.shutdown()
