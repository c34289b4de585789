"""A `def` dependency holding a pooled resource until its cleanup, under more requests than
threads: the cleanups (after each response) never wait behind the handlers waiting for the
resource they give back (`ThreadPool.submit_cleanup`)."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Iterator
from typing import Any

from ambi import App, Depends
from ambi.testing import AsyncTestClient


async def test_connections_come_back_while_every_worker_waits_for_one(
    interface: str, make_handler: Callable[[Callable[..., Any]], Callable[..., Any]]
) -> None:
    connections = threading.BoundedSemaphore(2)  # a database pool of two connections
    app = App(sync_workers=3, inline_threshold=None)

    def connection() -> Iterator[str]:
        if not connections.acquire(timeout=5):  # SQLAlchemy's pool waits up to 30 s
            raise TimeoutError("no connection came back")
        try:
            yield "conn"
        finally:
            connections.release()  # after the response: the request's cleanup

    def read(conn: str = Depends(connection)) -> dict[str, str]:
        return {"via": conn}

    app.get("/read")(make_handler(read))
    async with AsyncTestClient(app, interface=interface) as client:  # type: ignore[arg-type]
        loop = asyncio.get_running_loop()
        started = loop.time()
        answers = await asyncio.gather(*(client.get("/read") for _ in range(24)))
        took = loop.time() - started
    assert [r.status_code for r in answers] == [200] * 24
    assert took < 4  # a starved cleanup shows as the 5 s acquire timeout (and 500s)
    for _ in range(2):  # every connection is back
        assert connections.acquire(blocking=False)
