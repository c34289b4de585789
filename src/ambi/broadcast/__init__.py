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
encode's `broadcaster` (0.3.1, 2024-08, the last release) has this shape and was tried
first. It is not used:
- with redis-py 8.1 (what `ambi[redis]` installs today) its Redis backend delivered
  nothing: a message published half a second after subscribing never arrived, its
  listener task sitting in `PubSub.listen()` (tried directly on the loopback Redis);
- its listener task ends for good on a connection error that gets past redis-py's own
  retries, and nothing restarts it: a process's subscribers then never receive again
  until the app restarts (the cluster test restarts Redis mid-run);
- `subscribe` returns before Redis confirmed the subscription, so a message published
  right after can be missed; this one waits for the confirmation;
- each subscriber's queue is unbounded (one stalled websocket grows memory without
  limit); its configuration errors are `assert`s; it decodes every message as text.
The Redis part here is ~220 lines over redis-py's asyncio client, which does the protocol.
"""

from ._base import Broadcast
from ._subscription import Message, Subscription

__all__ = ["Broadcast", "Message", "Subscription"]
