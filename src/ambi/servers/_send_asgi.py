"""Responses onto the ASGI wire: `http.response.start`, then `http.response.body` messages.

The sender of a response class is chosen once per class (`_SENDERS`), by what the response
is: a body in memory, a stream (`StreamingResponse`, SSE), a file, a static file with
ranges, or a mounted ASGI app's answer.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from ..http import FileResponse, Response, StreamingResponse
from ..http._streams import pump

if TYPE_CHECKING:
    from ..execution import Engine
    from ._types import ASGIReceive, ASGISend

Sender = Callable[[Any, "ASGISend", "Engine", bool, "ASGIReceive | None"], Awaitable[None]]


def _start(status: int, headers: list[tuple[str, str]]) -> dict[str, Any]:
    return {
        "type": "http.response.start",
        "status": status,
        "headers": [(k.encode("latin-1"), v.encode("latin-1")) for k, v in headers],
    }


async def _send_body(
    response: Response, send: ASGISend, engine: Engine, head: bool, receive: ASGIReceive | None
) -> None:
    if response.deferred:  # made where nobody prepared it (an exception handler)
        await response.prepare(engine)
    await send(_start(response.status_code, response.header_list()))
    await send({"type": "http.response.body", "body": b"" if head else response.body})


async def _send_stream(
    response: StreamingResponse,
    send: ASGISend,
    engine: Engine,
    head: bool,
    receive: ASGIReceive | None,
) -> None:
    """With `receive` (given once nobody else reads the request body) the stream stops
    when the server reports `http.disconnect`."""
    await send(_start(response.status_code, response.header_list()))
    if not head:

        def send_chunk(chunk: bytes) -> Awaitable[None]:
            return send({"type": "http.response.body", "body": chunk, "more_body": True})

        gone = _disconnected(receive) if receive is not None else None
        if not await pump(response.body_chunks(engine), send_chunk, gone):
            return  # the client left: the server closes the connection
    await send({"type": "http.response.body", "body": b""})


async def _disconnected(receive: ASGIReceive) -> None:
    """Return when the client has gone (request body left unread is dropped)."""
    while (await receive())["type"] != "http.disconnect":
        pass


async def _send_file(
    response: FileResponse, send: ASGISend, engine: Engine, head: bool, receive: ASGIReceive | None
) -> None:
    headers = await engine.run_in_thread(response.header_list)
    await send(_start(response.status_code, headers))
    if head:
        await send({"type": "http.response.body", "body": b""})
        return
    size = response.chunk_size
    handle = await engine.run_in_thread(open, response.path, "rb")
    try:
        while True:
            chunk = await engine.run_in_thread(handle.read, size)
            more = len(chunk) == size
            await send({"type": "http.response.body", "body": chunk, "more_body": more})
            if not more:
                return
    finally:
        await engine.run_in_thread(handle.close)


async def _send_static(
    response: Any, send: ASGISend, engine: Engine, head: bool, receive: ASGIReceive | None
) -> None:
    """A `StaticFileResponse`: the whole file, one range or several (multipart)."""
    await send(_start(response.status_code, response.header_list()))
    if head:
        await send({"type": "http.response.body", "body": b""})
        return
    # Send each chunk once the next one is known, so the last one ends the body without an
    # extra empty message.
    pending: bytes | None = None
    async for chunk in response.chunks(engine):
        if pending is not None:
            await send({"type": "http.response.body", "body": pending, "more_body": True})
        pending = chunk
    await send({"type": "http.response.body", "body": pending or b""})


async def _send_mounted(
    response: Any, send: ASGISend, engine: Engine, head: bool, receive: ASGIReceive | None
) -> None:
    """A mounted ASGI app's answer: the app runs now, its messages pass through."""
    await response.serve_asgi(send, engine, head)


def _sender_for(cls: type[Response]) -> Sender:
    from .._mount._bridge import ASGIAppResponse  # here: the mount imports this module
    from ..static import StaticFileResponse

    sender: Sender
    if issubclass(cls, ASGIAppResponse):
        sender = _send_mounted
    elif issubclass(cls, StaticFileResponse):
        sender = _send_static
    elif issubclass(cls, FileResponse):
        sender = _send_file
    elif issubclass(cls, StreamingResponse):
        sender = _send_stream
    else:
        sender = _send_body
    _SENDERS[cls] = sender
    return sender


_SENDERS: dict[type[Response], Sender] = {}


def send_asgi(
    response: Response,
    send: ASGISend,
    engine: Engine,
    head: bool,
    receive: ASGIReceive | None = None,
) -> Awaitable[None]:
    """Send `response` through ASGI `send`; for a stream, `receive` (once nobody else reads
    the request body) tells when the client left."""
    cls = type(response)
    sender = _SENDERS.get(cls) or _sender_for(cls)
    return sender(response, send, engine, head, receive)
