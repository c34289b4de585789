"""The RSGI adapter (Granian's native interface): one call per response where possible."""

from __future__ import annotations

import asyncio
import logging
import sys
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING

from ..http import Request
from ._types import RSGIProtocol, RSGIScope

if TYPE_CHECKING:
    from ..app import App

logger = logging.getLogger("ambi.server")


def _split_client(client: str) -> tuple[str, int] | None:
    host, sep, port = client.rpartition(":")
    if not sep or not port.isdigit():
        return None
    return host.strip("[]"), int(port)


async def serve_http(app: App, scope: RSGIScope, proto: RSGIProtocol) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        async for chunk in proto:
            yield chunk

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
