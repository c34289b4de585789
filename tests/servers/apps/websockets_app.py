"""The app of the real-server websocket tests: echo, typed parameters, a size limit, a
subprotocol, and a log of how connections ended (`GET /events`).

Started as a script by `tests/servers/test_websockets.py`:
    python websockets_app.py PORT SERVER INTERFACE
uvicorn is told to ping idle websockets every 0.2 s.
"""

from __future__ import annotations

import sys
from typing import Any

from ambi import App, Query, WebSocket, WebSocketDisconnect
from ambi.ratelimit import RateLimitConfig

app = App(websocket_max_size=1024)

#: how each handler's connection ended, for the tests to read with GET /events
EVENTS: list[dict[str, Any]] = []


@app.get("/")
def index() -> str:
    return "websockets"


@app.get("/events")
def events() -> list[dict[str, Any]]:
    return EVENTS


@app.websocket("/echo/{room}")
async def echo(websocket: WebSocket, room: str, times: int = Query(1, ge=1, le=5)) -> None:
    await websocket.accept()
    try:
        while True:
            message = await websocket.receive()
            if message["type"] == "websocket.disconnect":
                EVENTS.append({"room": room, "code": message["code"]})
                return
            if "text" in message:
                await websocket.send_text(f"{room}:" + message["text"] * times)
            else:
                await websocket.send_bytes(message["bytes"] * times)
    except WebSocketDisconnect as exc:
        EVENTS.append({"room": room, "code": exc.code})


@app.websocket("/json")
async def json(websocket: WebSocket) -> None:
    await websocket.accept()
    async for data in websocket.iter_json():
        await websocket.send_json({"got": data})


@app.websocket("/proto")
async def proto(websocket: WebSocket) -> None:
    await websocket.accept(subprotocol="v2")
    await websocket.send_text("v2")


def has_key(websocket: WebSocket) -> bool:
    return websocket.headers.get("x-key") == "open"


@app.websocket("/guarded", guards=[has_key])
async def guarded(websocket: WebSocket) -> None:
    await websocket.accept()
    await websocket.send_text("in")


@app.websocket("/limited", rate_limit=RateLimitConfig.fixed_window(1, 60))
async def limited(websocket: WebSocket) -> None:
    await websocket.accept()
    await websocket.send_text("in")


if __name__ == "__main__":
    port, server, interface = int(sys.argv[1]), sys.argv[2], sys.argv[3]
    pings = {"websocket_ping_interval": 0.2} if server == "uvicorn" else {}
    app.listen(port=port, server=server, interface=interface, log_level="warning", **pings)
