"""Broadcast: publish/subscribe channels, in one process or across every host sharing a
Redis: what a websocket chat on several hosts needs (a message said to host A reaches the
clients connected to host B).

    from ambi.broadcast import Broadcast

    broadcast = Broadcast("redis://10.0.0.1:6379/0")     # or Broadcast() in one process
    app.on_event("shutdown")(broadcast.close)

    @app.websocket("/ws/{room}")
    async def chat(websocket: WebSocket, room: str):
        await websocket.accept()
        async with broadcast.subscribe(room) as messages:
            async def forward():
                async for message in messages:
                    await websocket.send_text(message.text)
            ...
            await broadcast.publish(room, text)

Redis pub/sub carries the messages: at most once, nothing kept for subscribers that come
later or were disconnected (use the task queue or a stream for what must not be lost).

Why not `broadcaster`
---------------------
encode's `broadcaster` (0.3.1, 2024-08) has this shape and was read before writing this
one. It is not used: its Redis listener task ends on the first lost connection and
nothing restarts it, so after a Redis restart no subscriber of the process ever receives
again until the app is restarted (the cluster test restarts Redis mid-run); each
subscriber's queue is unbounded, so one stalled websocket grows memory without limit;
its configuration errors are `assert`s; it decodes every message as text. The Redis part
here is ~200 lines over redis-py's asyncio client, which does the protocol.
"""

from ._base import Broadcast
from ._subscription import Message, Subscription

__all__ = ["Broadcast", "Message", "Subscription"]
