"""The RSGI adapter (Granian's native interface): one call per response where possible."""

from __future__ import annotations

import asyncio
import logging
import sys
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING

from ..http import Request
from ._types import ClientDisconnected, RSGIProtocol, RSGIScope

if TYPE_CHECKING:
    from ..app import App

logger = logging.getLogger("ambi.server")


def _split_client(client: str) -> tuple[str, int] | None:
    host, sep, port = client.rpartition(":")
    if not sep or not port.isdigit():
        return None
    return host.strip("[]"), int(port)


def _declared_length(scope: RSGIScope) -> int | None:
    length = scope.headers.get("content-length")
    return int(length) if isinstance(length, str) and length.isdigit() else None


async def serve_http(app: App, scope: RSGIScope, proto: RSGIProtocol) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        # Granian ends the body iterator quietly when the client goes away mid-body (the
        # error becomes an empty chunk), so a cut-off body would look complete: compare
        # with Content-Length. (A cut-off chunked body cannot be told apart here.)
        expected = _declared_length(scope)
        received = 0
        async for chunk in proto:
            received += len(chunk)
            yield chunk
        if expected is not None and received < expected:
            raise ClientDisconnected

    request = Request(
        app,
        scope.method,
        scope.path,
        scope.query_string,
        scope.headers.items(),
        client=_split_client(scope.client),
        server=scope.server,
        scheme=scope.scheme,
        http_version=scope.http_version,
        chunks=chunks,
    )
    response = await app.dispatch(request)
    try:
        await response.send_rsgi(proto, app.engine, request.method == "HEAD")
    finally:
        request.close()


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
