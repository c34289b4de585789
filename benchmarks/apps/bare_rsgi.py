"""The ceiling: a hand-written RSGI app for Granian (`--interface rsgi`), no framework.

Paths and query strings are parsed by hand, JSON goes through orjson, and the body of
POST /orders is decoded but not validated. `/sync-json` runs inline on the event loop (no
thread pool), so it is the ceiling for a `def` route, not a like-for-like peer of one.
"""

from __future__ import annotations

from typing import Any

import orjson
from granian.rsgi import HTTPProtocol, Scope  # type: ignore[attr-defined]

from benchmarks.apps._bare import ITEMS_PREFIX, deps_response, item_response, order_response

JSON_HEADERS = [("content-type", "application/json")]


def _send(proto: HTTPProtocol, status: int, content: Any) -> None:
    proto.response_bytes(status, JSON_HEADERS, orjson.dumps(content))


async def app(scope: Scope, proto: HTTPProtocol) -> None:  # noqa: PLR0911 - a route each
    path, method = scope.path, scope.method
    if method == "GET":
        if path == "/json":
            return _send(proto, 200, {"message": "hello"})
        if path == "/sync-json":
            return _send(proto, 200, {"message": "hello", "sync": True})
        if path == "/deps":
            return _send(proto, 200, deps_response(scope.headers.get("host")))
        if path == "/deps-sync":
            return _send(proto, 200, {**deps_response(scope.headers.get("host")), "sync": True})
        if path.startswith(ITEMS_PREFIX):
            return _send(proto, *item_response(path, scope.query_string))
    elif method == "POST" and path == "/orders":
        return _send(proto, *order_response(await proto()))
    return _send(proto, 404, {"detail": "Not Found"})
