"""The app of the real-server test of ASGI middleware around websockets: a pure ASGI
middleware that denies websockets under /private and stamps a request header on the
others. Served over the interface it is told (RSGI bridges the middleware).

    python ws_middleware.py PORT SERVER INTERFACE
"""

from __future__ import annotations

import sys
from typing import Any

from ambi import App, WebSocket


class StampAndDeny:
    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "websocket":
            if scope["path"].startswith("/private"):
                await receive()
                await send({"type": "websocket.close", "code": 1008})
                return
            scope = {**scope, "headers": [*scope["headers"], (b"x-via", b"stamp")]}
        await self.app(scope, receive, send)


app = App()
app.add_middleware(StampAndDeny)


@app.get("/")
def index() -> str:
    return "ws-middleware"


@app.websocket("/{where:path}", guards=[lambda ws: ws.headers.get("x-key") != "no"])
async def echo(websocket: WebSocket, where: str) -> None:
    await websocket.accept()
    async for text in websocket.iter_text():
        await websocket.send_text(f"{where}:{text}:{websocket.headers.get('x-via')}")


if __name__ == "__main__":
    port, server, interface = int(sys.argv[1]), sys.argv[2], sys.argv[3]
    app.listen(port=port, server=server, interface=interface, log_level="warning")
