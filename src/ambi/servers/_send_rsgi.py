"""Responses onto Granian's RSGI protocol object: one call for a body in memory
(`response_bytes`), the server reading a file itself (`response_file`,
`response_file_range`), a stream transport otherwise (paced: see `_rsgi_pacing`).

The sender of a response class is chosen once per class (`_SENDERS`), by what the response
is. `send_rsgi` returns None when the response went out in one call (nothing to await: the
common case costs no coroutine), else the awaitable that sends the rest.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import TYPE_CHECKING, Any

from ..http import FileResponse, Response, StreamingResponse
from ..http._streams import ClientGone, pump
from ._rsgi_pacing import Pacer, split_address

if TYPE_CHECKING:
    from ..execution import Engine
    from ._types import RSGIProtocol, RSGIScope, RSGIStreamTransport

Sender = Callable[
    [Any, "RSGIProtocol", "Engine", bool, "RSGIScope | None"], "Awaitable[None] | None"
]


def _send_body(
    response: Response, proto: RSGIProtocol, engine: Engine, head: bool, scope: RSGIScope | None
) -> None:
    body = response.body
    if head or not body:
        proto.response_empty(response.status_code, response.header_list())
    else:
        # PERF: Granian sets Content-Length on a body handed over whole (2.8.9: hyper
        # measures it; checked with curl), so the headers go as they are, without the
        # copy that `header_list` makes to add it (bench_instructions "GET /json"). A HEAD
        # answer and an empty body still name their length themselves.
        proto.response_bytes(response.status_code, response.headers.items_list, body)


def _send_deferred(
    response: Response, proto: RSGIProtocol, engine: Engine, head: bool, scope: RSGIScope | None
) -> Awaitable[None] | None:
    if response.deferred:
        return _prepare_then_send(response, proto, engine, head)
    _send_body(response, proto, engine, head, scope)
    return None


async def _prepare_then_send(
    response: Response, proto: RSGIProtocol, engine: Engine, head: bool
) -> None:
    await response.prepare(engine)  # made where nobody prepared it (an exception handler)
    _send_body(response, proto, engine, head, None)


async def _stream(
    transport: RSGIStreamTransport,
    chunks: AsyncIterator[bytes],
    proto: RSGIProtocol,
    engine: Engine,
    scope: RSGIScope | None,
) -> None:
    """Send `chunks` until their end or the client leaving, no faster than it reads."""
    pacer = None
    if scope is not None:
        pacer = Pacer(split_address(scope.client), split_address(scope.server), engine)

    async def send_chunk(chunk: bytes) -> None:
        try:
            await transport.send_bytes(chunk)
        except RuntimeError as exc:  # RSGIProtocolClosed: the client went away
            raise ClientGone from exc
        if pacer is not None:
            await pacer.sent(len(chunk))  # Granian's buffer is unbounded: see _rsgi_pacing

    try:
        await pump(chunks, send_chunk, proto.client_disconnect())  # type: ignore[arg-type]
    finally:
        if pacer is not None:
            pacer.close()


async def _send_stream(
    response: StreamingResponse,
    proto: RSGIProtocol,
    engine: Engine,
    head: bool,
    scope: RSGIScope | None,
) -> None:
    if head:
        proto.response_empty(response.status_code, response.header_list())
        return
    transport = proto.response_stream(response.status_code, response.header_list())
    await _stream(transport, response.body_chunks(engine), proto, engine, scope)


async def _send_file(
    response: FileResponse,
    proto: RSGIProtocol,
    engine: Engine,
    head: bool,
    scope: RSGIScope | None,
) -> None:
    headers = await engine.run_in_thread(response.header_list)
    if head:
        proto.response_empty(response.status_code, headers)
    else:
        proto.response_file(response.status_code, headers, response.path)


def _send_static(
    response: Any, proto: RSGIProtocol, engine: Engine, head: bool, scope: RSGIScope | None
) -> Awaitable[None] | None:
    """A `StaticFileResponse`: Granian reads the file (or its one range) itself; several
    ranges are a multipart body read in the pool."""
    headers = response.header_list()
    if head:
        proto.response_empty(response.status_code, headers)
    elif not response.ranges:
        proto.response_file(response.status_code, headers, response.path)
    elif not response.parts:
        start, end = response.ranges[0]
        proto.response_file_range(response.status_code, headers, response.path, start, end)
    else:
        transport = proto.response_stream(response.status_code, headers)
        return _stream(transport, response.chunks(engine), proto, engine, scope)
    return None


def _send_mounted(
    response: Any, proto: RSGIProtocol, engine: Engine, head: bool, scope: RSGIScope | None
) -> Awaitable[None]:
    """A mounted ASGI app's answer: the app runs now, its messages become Granian's calls."""
    return response.serve_rsgi(proto, engine, head)  # type: ignore[no-any-return]


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
    elif cls.deferred or cls.prepare is not Response.prepare:
        sender = _send_deferred  # may need `prepare()` first (a template, say)
    else:
        sender = _send_body
    _SENDERS[cls] = sender
    return sender


_SENDERS: dict[type[Response], Sender] = {}


def send_rsgi(
    response: Response,
    proto: RSGIProtocol,
    engine: Engine,
    head: bool,
    scope: RSGIScope | None = None,
) -> Awaitable[None] | None:
    """Send `response`; None when it went out in one call, else what to await. `scope`
    (the request's) lets a stream find its connection to pace itself by."""
    cls = type(response)
    sender = _SENDERS.get(cls) or _sender_for(cls)
    return sender(response, proto, engine, head, scope)
