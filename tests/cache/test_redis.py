"""The response cache on the real Redis: entries and invalidations shared by apps that use
the same Redis, and serving uncached, in bounded time, when it is down or silent."""

from __future__ import annotations

import logging
import socket
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from ambi import App, cache, invalidate
from ambi.testing import TestClient

ClientFor = Callable[[App], TestClient]


def _catalogue(store_url: str, name: str, items: list[str]) -> App:
    """One "process" of an app: its own App and store object, on a shared Redis."""
    app = App()
    app.enable_cache(store_url)

    @app.get("/items")
    @cache(ttl=60, tags=["items"])
    def list_items() -> dict[str, Any]:
        return {"items": list(items), "served_by": name}

    @app.post("/items/{item}")
    async def add_item(item: str) -> dict[str, bool]:
        items.append(item)
        await invalidate(tags=["items"])
        return {"added": True}

    return app


def test_two_apps_share_entries_and_invalidations(redis_url: str, client_for: ClientFor) -> None:
    url = f"{redis_url}?prefix=ambi-test:{uuid.uuid4().hex}:"
    items = ["a"]  # the database both "processes" read
    one = client_for(_catalogue(url, "one", items))
    two = client_for(_catalogue(url, "two", items))
    assert one.get("/items").json() == {"items": ["a"], "served_by": "one"}
    assert two.get("/items").json() == {"items": ["a"], "served_by": "one"}  # one's entry
    two.post("/items/b")  # a write in the other process invalidates for both
    assert one.get("/items").json() == {"items": ["a", "b"], "served_by": "one"}
    assert two.get("/items").json() == {"items": ["a", "b"], "served_by": "one"}


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A port that accepts connections and never answers (a hung Redis)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(64)
        yield sock.getsockname()[1]


@pytest.mark.parametrize("where", ["refused", "silent"])
def test_redis_down_serves_uncached_in_bounded_time(
    client_for: ClientFor, caplog: pytest.LogCaptureFixture, silent_port: int, where: str
) -> None:
    port = 1 if where == "refused" else silent_port
    app = App()
    app.enable_cache(f"redis://127.0.0.1:{port}/0?timeout=0.2&retry_interval=30")
    runs: list[int] = []

    @app.get("/r")
    @cache(ttl=60)
    def route() -> dict[str, int]:
        runs.append(1)
        return {"runs": len(runs)}

    caplog.set_level(logging.WARNING)
    client = client_for(app)
    started = time.perf_counter()
    assert client.get("/r").json() == {"runs": 1}
    first = time.perf_counter() - started
    started = time.perf_counter()
    assert client.get("/r").json() == {"runs": 2}
    second = time.perf_counter() - started
    assert first < 1.0  # one command's timeout
    assert second < 0.15  # failing fast: no new attempt within retry_interval
    assert "unavailable" in caplog.text  # ambi.stores: Redis went down
    assert "serving uncached" in caplog.text  # ambi.cache
