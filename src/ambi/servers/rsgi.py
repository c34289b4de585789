"""The RSGI adapter (Granian's native interface): one call per response where possible."""

from __future__ import annotations

import asyncio
import logging
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import TYPE_CHECKING

from ..http import Request, Response
from ._send_rsgi import send_rsgi
from ._shutdown import ADAPTER_CODES, shutting_down, was_cut
from ._types import ClientDisconnected, RSGIProtocol, RSGIScope

if TYPE_CHECKING:
    from ..app import App

logger = logging.getLogger("ambi.server")


def _declared_length(scope: RSGIScope) -> int | None:
    length = scope.headers.get("content-length")
    return int(length) if isinstance(length, str) and length.isdigit() else None


class _RSGIBody:
    """The request body, from Granian's protocol object."""

    __slots__ = ("_proto", "_scope")

    def __init__(self, scope: RSGIScope, proto: RSGIProtocol) -> None:
        self._scope = scope
        self._proto = proto

    async def chunks(self) -> AsyncIterator[bytes]:
        # Granian ends the body iterator quietly when the client goes away mid-body (the
        # error becomes an empty chunk), so a cut-off body would look complete: compare
        # with Content-Length. (A cut-off chunked body cannot be told apart here.)
        expected = _declared_length(self._scope)
        received = 0
        async for chunk in self._proto:
            received += len(chunk)
            yield chunk
        if expected is not None and received < expected:
            raise ClientDisconnected

    async def read_exact(self, length: int) -> bytes:
        # Granian reads exactly Content-Length bytes here, and raises when the client
        # goes away first.
        try:
            body = await self._proto()
        except RuntimeError as exc:  # RSGIProtocolClosed / RSGIProtocolError
            raise ClientDisconnected from exc
        if len(body) < length:
            raise ClientDisconnected
        return body


async def serve_http(
    app: App,
    scope: RSGIScope,
    proto: RSGIProtocol,
    dispatch: Callable[[Request], Awaitable[Response]] | None = None,
) -> None:
    """Serve one request; `dispatch` replaces `app.dispatch` (the app's ASGI middleware,
    bridged)."""
    request = Request(
        app,
        scope.method,
        scope.path,
        scope.query_string,
        scope.headers.items(),
        client=scope.client,  # "host:port", parsed by `request.client` on first use
        server=scope.server,
        scheme=scope.scheme,
        http_version=scope.http_version,
        source=_RSGIBody(scope, proto),
    )
    response = None
    try:
        response = await (dispatch or app.dispatch)(request)
        sending = send_rsgi(response, proto, app.engine, request.method == "HEAD", scope)
        if sending is not None:  # PERF: a body in memory goes out in one call, no coroutine
            await sending  # (bench_instructions "GET /json")
    except asyncio.CancelledError:
        if not was_cut(app, request):
            raise
        if response is None:  # nothing sent yet (else Granian ends the connection)
            send_rsgi(shutting_down(), proto, app.engine, request.method == "HEAD")
    finally:
        pending = request.finish()
        if pending is not None:
            await pending


ADAPTER_CODES.add(serve_http.__code__)  # a request in flight, for the shutdown's cut


def init(app: App, loop: asyncio.AbstractEventLoop) -> None:
    """Granian calls this in each worker before serving: run the app's startup there."""
    try:
        loop.run_until_complete(app.startup())
    except BaseException:
        logger.exception("startup failed; this worker will not serve")
        sys.exit(3)


def close(app: App, loop: asyncio.AbstractEventLoop) -> None:
    """Granian calls this in each worker after it stopped serving."""
    try:
        loop.run_until_complete(app.shutdown())
    except BaseException:
        logger.exception("shutdown failed")
