"""A chat with rooms: everyone connected to a room sees every message said in it.

Run it with `python examples/chat.py`, then open http://127.0.0.1:8000/ in two browser tabs,
pick a name and the same room in both, and talk. Or from a terminal (the `websockets`
package comes with a client):
    python -m websockets "ws://127.0.0.1:8000/ws/lobby?name=ada"
    {"text": "hello"}

Messages in: `{"text": "..."}` (1 to 500 characters). Messages out:
    {"type": "join", "name": ..., "members": [...]}     someone came in (you too)
    {"type": "message", "name": ..., "text": ...}      someone said something
    {"type": "leave", "name": ..., "members": [...]}    someone left
    {"type": "error", "detail": ...}                   (to you only) a message not understood
"""

import asyncio
from typing import Annotated

from pydantic import ValidationError

from ambi import (
    App,
    BaseModel,
    Field,
    HTMLResponse,
    Path,
    Query,
    WebSocket,
    WebSocketDisconnect,
)

app = App()

RoomName = Annotated[str, Path(pattern=r"^[a-z0-9-]{1,32}$")]
UserName = Annotated[str, Query(min_length=1, max_length=32)]


class Said(BaseModel):
    text: str = Field(min_length=1, max_length=500)


class Rooms:
    """Who is connected to which room (in this process)."""

    def __init__(self) -> None:
        self.members: dict[str, dict[WebSocket, str]] = {}

    def join(self, room: str, websocket: WebSocket, name: str) -> None:
        self.members.setdefault(room, {})[websocket] = name

    def leave(self, room: str, websocket: WebSocket) -> None:
        members = self.members.get(room, {})
        members.pop(websocket, None)
        if not members:
            self.members.pop(room, None)

    def names(self, room: str) -> list[str]:
        return sorted(self.members.get(room, {}).values())

    async def broadcast(self, room: str, message: dict) -> None:
        """Send `message` to everyone in `room`; a client that has gone is skipped (its own
        handler sees the disconnect and leaves)."""
        members = list(self.members.get(room, {}))
        results = await asyncio.gather(
            *(member.send_json(message) for member in members), return_exceptions=True
        )
        for result in results:
            if isinstance(result, Exception) and not isinstance(result, WebSocketDisconnect):
                raise result


rooms = Rooms()


@app.get("/")
def index():
    return HTMLResponse(PAGE)


@app.get("/rooms")
def list_rooms():
    """Who is in which room."""
    return {room: rooms.names(room) for room in sorted(rooms.members)}


@app.websocket("/ws/{room}")
async def chat(websocket: WebSocket, room: RoomName, name: UserName):
    await websocket.accept()
    rooms.join(room, websocket, name)
    try:
        await rooms.broadcast(room, {"type": "join", "name": name, "members": rooms.names(room)})
        async for data in websocket.iter_json():
            try:
                said = Said.model_validate(data)
            except ValidationError as exc:
                detail = exc.errors(include_url=False, include_context=False)
                await websocket.send_json({"type": "error", "detail": detail})
                continue
            await rooms.broadcast(room, {"type": "message", "name": name, "text": said.text})
    finally:
        rooms.leave(room, websocket)
        await rooms.broadcast(room, {"type": "leave", "name": name, "members": rooms.names(room)})


PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>ambi chat</title>
<style>
  body { font: 16px system-ui, sans-serif; max-width: 40rem; margin: 2rem auto; }
  #log { border: 1px solid #ccc; height: 20rem; overflow-y: auto; padding: .5rem; }
  #log p { margin: .2rem 0; } .info { color: #777; } .error { color: #b00; }
  form { display: flex; gap: .5rem; margin: .5rem 0; } input[name=text] { flex: 1; }
</style>
</head>
<body>
<h1>ambi chat</h1>
<form id="join">
  <input name="name" placeholder="your name" required maxlength="32">
  <input name="room" placeholder="room" value="lobby" required pattern="[a-z0-9-]{1,32}">
  <button>Join</button>
</form>
<div id="log"></div>
<form id="say"><input name="text" placeholder="say something" maxlength="500" disabled>
<button disabled>Send</button></form>
<script>
const log = document.getElementById("log");
const say = document.getElementById("say");
let socket = null;

function show(text, cls) {
  const line = document.createElement("p");
  line.textContent = text;
  if (cls) line.className = cls;
  log.append(line);
  log.scrollTop = log.scrollHeight;
}

function enable(on) {
  for (const el of say.elements) el.disabled = !on;
}

document.getElementById("join").addEventListener("submit", (event) => {
  event.preventDefault();
  const form = new FormData(event.target);
  if (socket) socket.close();
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  const query = new URLSearchParams({name: form.get("name")});
  socket = new WebSocket(`${scheme}://${location.host}/ws/${form.get("room")}?${query}`);
  socket.onopen = () => { enable(true); show(`joined ${form.get("room")}`, "info"); };
  socket.onclose = () => { enable(false); show("disconnected", "info"); };
  socket.onmessage = (event) => {
    const m = JSON.parse(event.data);
    if (m.type === "message") show(`${m.name}: ${m.text}`);
    else if (m.type === "error") show("not sent: " + m.detail[0].msg, "error");
    else {
      const verb = m.type === "join" ? "joined" : "left";
      show(`${m.name} ${verb}; here: ${m.members.join(", ")}`, "info");
    }
  };
});

say.addEventListener("submit", (event) => {
  event.preventDefault();
  const input = say.elements.text;
  if (socket && input.value) socket.send(JSON.stringify({text: input.value}));
  input.value = "";
});
</script>
</body>
</html>
"""


if __name__ == "__main__":
    app.listen(port=8000)
