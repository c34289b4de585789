"""Lifespans: async and sync context manager factories, run through ambi.execution, and
the lifespan state they yield, visible on every request's state."""

import threading
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from typing import Any

import pytest

from ambi import App, ConfigurationError, Request
from ambi.testing import TestClient

ClientFor = Callable[..., TestClient]


def test_async_lifespan_state_reaches_requests(client_for: ClientFor) -> None:
    events: list[str] = []

    @asynccontextmanager
    async def lifespan(app: App) -> AsyncIterator[dict[str, Any]]:
        events.append("start")
        yield {"pool": "the pool"}
        events.append("stop")

    app = App(lifespan=lifespan)

    @app.get("/")
    def handler(request: Request) -> dict[str, str]:
        request.state.mine = "per request"  # does not leak into the lifespan state
        return {"pool": request.state.pool}

    client = client_for(app)
    assert client.get("/").json() == {"pool": "the pool"}
    assert client.get("/").json() == {"pool": "the pool"}
    assert app.lifespan_state == {"pool": "the pool"}
    client.__exit__(None, None, None)
    assert events == ["start", "stop"]


def test_sync_lifespan_runs_in_the_pool(client_for: ClientFor) -> None:
    threads: list[str] = []

    @contextmanager
    def lifespan(app: App) -> Iterator[dict[str, int]]:
        threads.append(threading.current_thread().name)
        yield {"answer": 42}
        threads.append(threading.current_thread().name)

    app = App(lifespan=lifespan)

    @app.get("/")
    async def handler(request: Request) -> int:
        return int(request.state.answer)

    client = client_for(app)
    assert client.get("/").json() == 42
    client.__exit__(None, None, None)
    assert len(threads) == 2
    assert all(name.startswith("ambi-worker") for name in threads)


async def test_a_lifespan_yielding_something_else_is_refused_and_left() -> None:
    left: list[bool] = []

    @asynccontextmanager
    async def lifespan(app: App) -> AsyncIterator[int]:
        yield 3
        left.append(True)

    with pytest.raises(ConfigurationError, match="mapping"):
        await App(lifespan=lifespan).startup()
    assert left == [True]
    with pytest.raises(ConfigurationError, match="context manager"):
        await App(lifespan=lambda app: object()).startup()  # type: ignore[arg-type,return-value]
