"""Websocket apps for `benchmarks/bench_ws_memory.py`: each accepts and waits for messages.

python -m benchmarks.apps.ws_idle PORT SERVER INTERFACE ambi|bare

`ambi` is an `@app.websocket` echo handler served by `app.listen()`; `bare` is the same
loop written straight on the server interface (the server's own cost, no framework).
"""

from __future__ import annotations

import sys
from typing import Any

from ambi import App, WebSocket

app = App()


@app.websocket("/ws")
async def echo(websocket: WebSocket) -> None:
    await websocket.accept()
    async for text in websocket.iter_text():
        await websocket.send_text(text)


async def bare_asgi(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] == "lifespan":
        while (await receive())["type"] != "lifespan.shutdown":
            await send({"type": "lifespan.startup.complete"})
        await send({"type": "lifespan.shutdown.complete"})
        return
    if scope["type"] != "websocket":
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})
        return
    await receive()  # websocket.connect
    await send({"type": "websocket.accept"})
    while True:
        message = await receive()
        if message["type"] != "websocket.receive":
            return
        await send({"type": "websocket.send", "text": message.get("text")})


async def bare_rsgi(scope: Any, proto: Any) -> None:
    if scope.proto != "ws":
        proto.response_str(200, [], "ok")
        return
    transport = await proto.accept()
    while True:
        message = await transport.receive()
        if message.kind == 0:
            break
        await transport.send_str(message.data)
    proto.close()


def _serve_bare(port: int, server: str, interface: str) -> None:
    if server == "uvicorn":
        import uvicorn

        uvicorn.run(bare_asgi, host="127.0.0.1", port=port, log_level="warning")
        return
    from granian import Granian
    from granian.constants import Interfaces

    target = "benchmarks.apps.ws_idle:bare_" + interface
    kind = Interfaces.RSGI if interface == "rsgi" else Interfaces.ASGI
    Granian(target, address="127.0.0.1", port=port, interface=kind).serve()


if __name__ == "__main__":
    port, server, interface, which = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
    if which == "bare":
        _serve_bare(port, server, interface)
    else:
        app.listen(port=port, server=server, interface=interface, log_level="warning")
