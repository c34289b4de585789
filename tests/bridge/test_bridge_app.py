"""smartasync inside an ambi app: sync code (a handler, a startup hook, a function given to
run_sync) calls async code that uses objects made at startup on the app's loop: a lock, a
queue, and a pool of real TCP connections, all of which fail on any other loop."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from typing import Any

from ambi import App
from ambi.bridge import run_sync, smartasync
from ambi.testing import AsyncTestClient, TestClient


async def _echo(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    while line := await reader.readline():
        writer.write(b"echo:" + line)
        await writer.drain()
    writer.close()
    await writer.wait_closed()


def make_app() -> App:
    app = App()
    app.warm = None  # type: ignore[attr-defined]

    @smartasync
    async def query(text: str) -> dict[str, Any]:
        """Borrow a connection made at startup, under a lock made at startup."""
        async with app.lock:  # type: ignore[attr-defined]
            reader, writer = await app.pool.get()  # type: ignore[attr-defined]
            try:
                writer.write(text.encode() + b"\n")
                await writer.drain()
                await asyncio.sleep(0.001)  # hold the lock: concurrent callers queue up
                line = await reader.readline()
            finally:
                app.pool.put_nowait((reader, writer))  # type: ignore[attr-defined]
        return {
            "answer": line.decode().strip(),
            "app_loop": asyncio.get_running_loop() is app.loop,  # type: ignore[attr-defined]
        }

    @app.on_event("startup")
    async def open_pool() -> None:
        app.loop = asyncio.get_running_loop()  # type: ignore[attr-defined]
        app.lock = asyncio.Lock()  # type: ignore[attr-defined]
        app.server = await asyncio.start_server(_echo, "127.0.0.1", 0)  # type: ignore[attr-defined]
        port = app.server.sockets[0].getsockname()[1]  # type: ignore[attr-defined]
        app.pool = asyncio.Queue()  # type: ignore[attr-defined]
        for _ in range(2):
            app.pool.put_nowait(await asyncio.open_connection("127.0.0.1", port))  # type: ignore[attr-defined]

    @app.on_event("startup")
    def warm_up() -> None:  # a sync hook: it runs in a worker thread
        app.warm = query("warm")  # type: ignore[attr-defined]

    @app.on_event("shutdown")
    async def close_pool() -> None:
        while not app.pool.empty():  # type: ignore[attr-defined]
            _, writer = app.pool.get_nowait()  # type: ignore[attr-defined]
            writer.close()
            await writer.wait_closed()
        app.server.close()  # type: ignore[attr-defined]
        await app.server.wait_closed()  # type: ignore[attr-defined]

    @app.get("/query")
    def sync_handler(request: Any) -> dict[str, Any]:
        result = query("ping")
        result["thread"] = threading.current_thread().name
        return result

    @app.get("/via-run-sync")
    async def async_handler() -> dict[str, Any]:
        return await run_sync(lambda: query("from run_sync"))

    @app.get("/awaited")
    async def awaiting_handler() -> dict[str, Any]:
        return await query("awaited")

    return app


def test_sync_handler_uses_objects_made_at_startup(
    client_for: Callable[[App], TestClient],
) -> None:
    app = make_app()
    client = client_for(app)
    assert app.warm == {"answer": "echo:warm", "app_loop": True}  # type: ignore[attr-defined]
    for _ in range(3):
        response = client.get("/query")
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["answer"] == "echo:ping"
        assert body["app_loop"] is True
        assert body["thread"].startswith("ambi-worker")
    assert client.get("/via-run-sync").json() == {"answer": "echo:from run_sync", "app_loop": True}
    assert client.get("/awaited").json() == {"answer": "echo:awaited", "app_loop": True}


def test_the_plain_testclient_spelling() -> None:
    app = make_app()
    with TestClient(app) as client:
        assert client.get("/query").json()["answer"] == "echo:ping"


async def test_concurrent_sync_handlers_contend_for_the_startup_lock() -> None:
    app = make_app()
    async with AsyncTestClient(app) as client:
        responses = await asyncio.gather(*(client.get("/query") for _ in range(8)))
    assert [r.status_code for r in responses] == [200] * 8
    assert {r.json()["answer"] for r in responses} == {"echo:ping"}
    assert all(r.json()["app_loop"] for r in responses)
