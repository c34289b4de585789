"""A websocket chat room: typed parameters and dependencies from the handshake."""

from typing import Annotated

from ambi import App, Depends, Query, WebSocket, WebSocketDisconnect

# a bigger message closes the socket with 1009
app = App(websocket_max_size=64 * 1024)


def current_user(token: Annotated[str, Query(min_length=2)]) -> str:
    return token


@app.websocket("/ws/{room}")
async def chat(
    websocket: WebSocket, room: str, user: Annotated[str, Depends(current_user)]
):
    await websocket.accept()
    try:
        async for text in websocket.iter_text():
            await websocket.send_json({"room": room, "user": user, "text": text})
    except WebSocketDisconnect:
        pass
