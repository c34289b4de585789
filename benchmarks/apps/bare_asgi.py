"""A hand-written ASGI app, no framework; served by Granian (`--interface asgi`) and uvicorn.

Same shortcuts as the bare RSGI app: paths and query strings parsed by hand, orjson, the
POST body decoded but not validated, `/sync-json` inline on the loop (a ceiling).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

import orjson

from benchmarks.apps._bare import ITEMS_PREFIX, deps_response, item_response, order_response

Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

JSON_HEADER = (b"content-type", b"application/json")


async def _send(send: Send, status: int, content: Any) -> None:
    body = orjson.dumps(content)
    headers = [JSON_HEADER, (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def _read_body(receive: Receive) -> bytes:
    chunks = []
    while True:
        message = await receive()
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            return b"".join(chunks)


async def _lifespan(receive: Receive, send: Send) -> None:
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return


async def app(scope: Message, receive: Receive, send: Send) -> None:  # noqa: PLR0911
    if scope["type"] == "lifespan":
        return await _lifespan(receive, send)
    path, method = scope["path"], scope["method"]
    if method == "GET":
        if path == "/json":
            return await _send(send, 200, {"message": "hello"})
        if path == "/sync-json":
            return await _send(send, 200, {"message": "hello", "sync": True})
        if path in ("/deps", "/deps-sync"):
            host = next((v for k, v in scope["headers"] if k == b"host"), None)
            answer = deps_response(host.decode("latin-1") if host else None)
            if path == "/deps-sync":
                answer["sync"] = True
            return await _send(send, 200, answer)
        if path.startswith(ITEMS_PREFIX):
            query = scope["query_string"].decode("latin-1")
            return await _send(send, *item_response(path, query))
    elif method == "POST" and path == "/orders":
        return await _send(send, *order_response(await _read_body(receive)))
    return await _send(send, 404, {"detail": "Not Found"})
