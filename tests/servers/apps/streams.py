"""Streamed responses and server-sent events that never end by themselves: the tests
leave mid-stream and check, through `/state`, that each generator's `finally` ran and that
no thread is left iterating.

    python streams.py PORT [SERVER] [INTERFACE]
"""

from __future__ import annotations

import asyncio
import sys
import threading
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any

from ambi import App, EventSourceResponse, Header, ServerSentEvent, StreamingResponse

app = App()

#: tokens of the generators whose `finally` ran
FINISHED: list[str] = []
_lock = threading.Lock()
#: sync generators inside a `next()` right now (threads iterating)
ITERATING = [0]


def _sync_events(token: str, pause: float) -> Iterator[Any]:
    try:
        n = 0
        while True:
            with _lock:
                ITERATING[0] += 1
            try:
                time.sleep(pause)
            finally:
                with _lock:
                    ITERATING[0] -= 1
            n += 1
            yield {"event": "tick", "id": str(n), "data": f"{token} {n}"}
    finally:
        FINISHED.append(token)


async def _async_events(token: str, pause: float) -> AsyncIterator[Any]:
    try:
        n = 0
        while True:
            n += 1
            yield ServerSentEvent(f"{token} {n}\nsecond line", event="tick", id=str(n))
            await asyncio.sleep(pause)
    finally:
        FINISHED.append(token)


@app.get("/sse/async/{token}")
async def sse_async(token: str, pause: float = 0.05, ping: float = 15) -> EventSourceResponse:
    return EventSourceResponse(_async_events(token, pause), ping=ping)


@app.get("/sse/sync/{token}")
def sse_sync(token: str, pause: float = 0.05) -> EventSourceResponse:
    return EventSourceResponse(_sync_events(token, pause))


def _sync_bytes(token: str) -> Iterator[bytes]:
    for chunk in _sync_events(token, 0.05):
        yield f"{chunk['data']}\n".encode()


async def _async_bytes(token: str) -> AsyncIterator[bytes]:
    async for event in _async_events(token, 0.05):
        yield f"{event.data}\n".encode()


@app.get("/stream/sync/{token}")
def stream_sync(token: str) -> StreamingResponse:
    return StreamingResponse(_sync_bytes(token), media_type="text/plain")


@app.get("/stream/async/{token}")
async def stream_async(token: str) -> StreamingResponse:
    return StreamingResponse(_async_bytes(token), media_type="text/plain")


@app.get("/sse/resume")
async def resume(last_event_id: str | None = Header(None)) -> EventSourceResponse:
    """Three events after the one the client saw last."""
    start = int(last_event_id or 0)
    events = [{"id": str(n), "data": f"event {n}"} for n in range(start + 1, start + 4)]
    return EventSourceResponse(iter(events))


_BLOCK = bytes(range(256)) * 256  # 64 KiB


async def _async_blob(size: int) -> AsyncIterator[bytes]:
    sent = 0
    while sent < size:
        chunk = _BLOCK[: size - sent]
        sent += len(chunk)
        yield chunk


def _sync_blob(size: int) -> Iterator[bytes]:
    sent = 0
    while sent < size:
        chunk = _BLOCK[: size - sent]
        sent += len(chunk)
        yield chunk


@app.get("/big/async")
async def big_async(size: int = 125_000_000) -> StreamingResponse:
    """`size` bytes in 64 KiB chunks, as fast as the server takes them (slow-reader tests)."""
    return StreamingResponse(_async_blob(size), media_type="application/octet-stream")


@app.get("/big/sync")
def big_sync(size: int = 125_000_000) -> StreamingResponse:
    return StreamingResponse(_sync_blob(size), media_type="application/octet-stream")


@app.get("/state")
def state() -> dict[str, Any]:
    return {"finished": list(FINISHED), "iterating": ITERATING[0]}


@app.get("/")
async def root() -> str:
    return "streams"


if __name__ == "__main__":
    port = int(sys.argv[1])
    server = sys.argv[2] if len(sys.argv) > 2 else "granian"
    interface = sys.argv[3] if len(sys.argv) > 3 else "rsgi"
    app.listen(port=port, server=server, interface=interface, log_level="warning")
