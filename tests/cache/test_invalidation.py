"""Invalidation (tags, keys, from sync and async code), stampede protection, and failing
open when the store fails."""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any

import pytest

from ambi import App, ConfigurationError, StoreError, cache, invalidate
from ambi.stores import MemoryStore, TagStamp
from ambi.testing import AsyncTestClient, TestClient

ClientFor = Callable[[App], TestClient]


def _items_app() -> tuple[App, list[str]]:
    """A list cached under "items", and writes that invalidate it from def and async def."""
    app = App()
    items = ["a"]

    @app.get("/items")
    @cache(ttl=120, tags=["items"])
    async def list_items() -> dict[str, Any]:
        return {"items": list(items)}

    @app.post("/sync-items/{name}")
    def add_sync(name: str) -> dict[str, int]:
        items.append(name)
        return {"invalidated": invalidate(tags=["items"])}

    @app.post("/async-items/{name}")
    async def add_async(name: str) -> dict[str, int]:
        items.append(name)
        return {"invalidated": await invalidate(tags=["items"])}

    return app, items


@pytest.mark.parametrize("writer", ["sync-items", "async-items"])
def test_a_write_invalidates_by_tag(client_for: ClientFor, writer: str) -> None:
    app, _ = _items_app()
    client = client_for(app)
    assert client.get("/items").json() == {"items": ["a"]}
    assert client.post(f"/{writer}/b").json()["invalidated"] >= 1
    assert client.get("/items").json() == {"items": ["a", "b"]}
    assert client.get("/items").json() == {"items": ["a", "b"]}


def test_tags_filled_from_path_parameters(client_for: ClientFor) -> None:
    app = App()
    runs: dict[int, int] = {}

    @app.get("/items/{item_id:int}")
    @cache(ttl=120, tags=["items", "item:{item_id}"])
    def get_item(item_id: int) -> dict[str, int]:
        runs[item_id] = runs.get(item_id, 0) + 1
        return {"id": item_id, "run": runs[item_id]}

    client = client_for(app)
    for item in (1, 2):
        client.get(f"/items/{item}")
    invalidate(tags=["item:1"])
    assert client.get("/items/1").json()["run"] == 2
    assert client.get("/items/2").json()["run"] == 1
    invalidate(tags=["items"])
    assert client.get("/items/2").json()["run"] == 2


def test_invalidate_by_key_is_the_path_with_an_ordered_query(client_for: ClientFor) -> None:
    app = App()
    runs: list[int] = []

    @app.get("/search")
    @cache(ttl=120)
    def search(q: str = "", page: int = 1) -> dict[str, int]:
        runs.append(1)
        return {"run": len(runs)}

    client = client_for(app)
    client.get("/search?q=x&page=2")
    client.get("/search?page=3&q=x")
    invalidate(key="/search?page=2&q=x")
    assert client.get("/search?page=2&q=x").json()["run"] == 3
    assert client.get("/search?q=x&page=3").json()["run"] == 2


# The cache stage is put in when the app starts (`freeze()`): route mistakes raise there.


def test_a_tag_naming_no_path_parameter_fails_at_startup() -> None:
    app = App()
    app.get("/items")(cache(ttl=60, tags=["item:{item_id}"])(lambda: None))
    with pytest.raises(ConfigurationError, match="item_id"):
        app.freeze()


def test_cache_on_a_route_without_get_fails_at_startup() -> None:
    app = App()
    app.post("/items")(cache(ttl=60)(lambda: None))
    with pytest.raises(ConfigurationError, match="GET and HEAD"):
        app.freeze()


def test_cache_with_run_process_fails_at_startup() -> None:
    app = App()
    app.get("/x", run="process")(cache(ttl=60)(_module_level))
    with pytest.raises(ConfigurationError, match="process"):
        app.freeze()


def _module_level() -> int:
    return 1


def test_invalidate_needs_something_to_invalidate() -> None:
    with pytest.raises(TypeError, match="needs"):
        invalidate()
    with pytest.raises(TypeError, match="list of tags"):
        invalidate(tags="items")


@pytest.mark.parametrize("kind", ["sync", "async"])
async def test_fifty_cold_requests_run_the_handler_once(interface: str, kind: str) -> None:
    app = App()
    runs: list[int] = []
    if kind == "async":

        @app.get("/slow")
        @cache(ttl=60)
        async def slow_async() -> dict[str, int]:
            runs.append(1)
            await asyncio.sleep(0.2)
            return {"runs": len(runs)}
    else:

        @app.get("/slow")
        @cache(ttl=60)
        def slow_sync() -> dict[str, int]:
            runs.append(1)
            time.sleep(0.2)
            return {"runs": len(runs)}

    async with AsyncTestClient(app, interface=interface) as client:  # type: ignore[arg-type]
        responses = await asyncio.gather(*(client.get("/slow") for _ in range(50)))
    assert len(runs) == 1
    assert {r.status_code for r in responses} == {200}
    assert {r.text for r in responses} == {'{"runs":1}'}
    assert len({r.headers["etag"] for r in responses}) == 1


async def test_waiters_compute_themselves_when_the_first_fails(interface: str) -> None:
    app = App()
    runs: list[int] = []

    @app.get("/flaky")
    @cache(ttl=60)
    async def flaky() -> dict[str, int]:
        runs.append(1)
        await asyncio.sleep(0.1)
        if len(runs) == 1:
            raise RuntimeError("the first one fails")
        return {"ok": 1}

    async with AsyncTestClient(
        app,
        interface=interface,  # type: ignore[arg-type]
        raise_server_exceptions=False,
    ) as client:
        responses = await asyncio.gather(*(client.get("/flaky") for _ in range(5)))
    assert sorted(r.status_code for r in responses) == [200, 200, 200, 200, 500]


def test_a_response_computed_across_an_invalidation_is_not_stored(client_for: ClientFor) -> None:
    app = App()
    started, release = threading.Event(), threading.Event()
    version = ["old"]

    @app.get("/data")
    @cache(ttl=120, tags=["data"])
    def data() -> dict[str, str]:
        seen = version[0]  # read before the write below...
        started.set()
        release.wait(5)
        return {"version": seen}

    client = client_for(app)
    reader = threading.Thread(target=lambda: client.get("/data"))
    reader.start()
    assert started.wait(5)
    version[0] = "new"
    invalidate(tags=["data"])  # ...and invalidated while it is computed
    release.set()
    reader.join(5)
    assert client.get("/data").json() == {"version": "new"}


class BrokenStore(MemoryStore):
    """A store that fails every command, as an unreachable Redis does."""

    async def get(self, key: str) -> bytes | None:
        raise StoreError("down")

    async def tag_stamp(self, tags: Sequence[str]) -> TagStamp:
        raise StoreError("down")

    async def invalidate_tags(self, tags: Sequence[str]) -> int:
        raise StoreError("down")


def test_a_failing_store_serves_uncached_and_logs(
    client_for: ClientFor, caplog: pytest.LogCaptureFixture
) -> None:
    app = App()
    store = BrokenStore()
    app.enable_cache(store)
    runs: list[int] = []

    @app.get("/r")
    @cache(ttl=60)
    def route() -> dict[str, int]:
        runs.append(1)
        return {"runs": len(runs)}

    caplog.set_level(logging.WARNING, "ambi.cache")
    client = client_for(app)
    assert client.get("/r").json() == {"runs": 1}
    assert client.get("/r").json() == {"runs": 2}
    assert "serving uncached" in caplog.text
    with pytest.raises(StoreError):
        invalidate(tags=["anything"], store=store)


def test_enable_cache_after_serving_is_refused(client_for: ClientFor) -> None:
    app = App()
    app.get("/r")(cache(ttl=60)(lambda: 1))
    client_for(app).get("/r")
    with pytest.raises(ConfigurationError, match="before serving"):
        app.enable_cache("memory://")


def test_the_app_store_is_used(client_for: ClientFor) -> None:
    app = App()
    store = MemoryStore()
    app.enable_cache(store)
    app.get("/r")(cache(ttl=60)(lambda: 1))
    client_for(app).get("/r")
    assert store.entries == 1
