"""examples/cache.py: caching on Redis and a session login flow, in process (ASGI and RSGI)
and as two real server processes sharing one Redis."""

from __future__ import annotations

import asyncio
import copy
import os
import sys
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType

import httpx
import pytest

from ambi import App
from ambi.stores import RedisStore
from ambi.testing import TestClient

from ..servers.conftest import ServerProcess, free_port, start_process
from ._load import EXAMPLES, load_example


def _prefix() -> str:
    """The example's key prefix in Redis (it reads `CACHE_PREFIX` when imported, and so
    do the server processes): one of this test run's own."""
    return os.environ.setdefault("CACHE_PREFIX", f"ambi-test:{uuid.uuid4().hex}:")


ClientFor = Callable[[App], TestClient]
ADA = {"username": "ada", "password": "lovelace"}


def _clear_prefix(redis_url: str) -> None:
    async def clear() -> None:
        store = RedisStore(redis_url, prefix=_prefix())
        await store.clear()
        await store.close()

    asyncio.run(clear())


@pytest.fixture
def example(redis_url: str) -> ModuleType:
    """The example, imported once Redis is known to answer (its app's stores reach Redis)."""
    _prefix()
    return load_example("cache")


@pytest.fixture
def client(redis_url: str, example: ModuleType, client_for: ClientFor) -> Iterator[TestClient]:
    saved = copy.deepcopy(example.PRODUCTS)
    _clear_prefix(redis_url)
    yield client_for(example.app)
    example.PRODUCTS.clear()
    example.PRODUCTS.update(saved)


def test_products_are_cached_with_etags(client: TestClient, example: ModuleType) -> None:
    first = client.get("/products")
    assert first.status_code == 200
    assert [p["name"] for p in first.json()["products"]] == ["Hand saw", "Spirit level"]
    assert first.headers["cache-control"] == "max-age=60"
    example.PRODUCTS[1]["price"] = 1.0  # changed behind the cache's back: still cached
    assert client.get("/products").json() == first.json()
    again = client.get("/products", headers={"if-none-match": first.headers["etag"]})
    assert again.status_code == 304
    assert client.get("/products?max_price=15").json()["products"][0]["price"] == 1.0
    assert client.get("/products/9").status_code == 404


def test_login_flow_and_a_write_that_invalidates(client: TestClient) -> None:
    assert client.get("/me").status_code == 401
    assert client.put("/products/1/price", json={"price": 9.5}).status_code == 401
    assert client.post("/login", json={**ADA, "password": "wrong"}).status_code == 401
    assert client.get("/products/1").json()["price"] == 12.0  # cached now
    login = client.post("/login", json=ADA)
    assert login.json() == {"user": "ada"}
    cookie = login.headers["set-cookie"].lower()
    assert "httponly" in cookie
    assert "samesite=lax" in cookie
    assert "ada" not in cookie  # the session lives in Redis; the cookie holds an id
    assert client.get("/me").json()["user"] == "ada"
    assert client.put("/products/1/price", json={"price": 9.5}).json()["price"] == 9.5
    client.cookies.clear()  # anonymous again: answered from the cache, if anything is there
    assert client.get("/products/1").json()["price"] == 9.5
    assert client.get("/products").json()["products"][0]["price"] == 9.5


def test_logout_ends_the_session(client: TestClient) -> None:
    client.post("/login", json=ADA)
    stolen = client.cookies["session"]
    assert client.post("/logout").json() == {"logged_out": True}
    assert client.get("/me").status_code == 401
    client.cookies.set("session", stolen)  # the old cookie names a deleted session
    assert client.get("/me").status_code == 401


def _serve(port: int, out: Path, name: str) -> ServerProcess:
    argv = [sys.executable, str(EXAMPLES / "cache.py"), str(port)]
    return start_process(argv, port, out, name=name, ready_path="/me")  # 401, caches nothing


@pytest.mark.server
def test_two_processes_share_entries_sessions_and_invalidations(
    redis_url: str, tmp_path: Path
) -> None:
    _clear_prefix(redis_url)
    one = _serve(free_port(), tmp_path, "one")
    try:
        two = _serve(free_port(), tmp_path, "two")
        try:
            _two_processes(one, two)
        finally:
            two.kill()
    finally:
        one.kill()
        _clear_prefix(redis_url)


def _two_processes(one: ServerProcess, two: ServerProcess) -> None:
    with (
        httpx.Client(base_url=one.base_url, timeout=10) as a,
        httpx.Client(base_url=two.base_url, timeout=10) as b,
    ):
        computed = a.get("/products/2").json()
        pid_one = computed["served_by"]
        assert b.get("/products/2").json() == computed  # process one's entry, from Redis
        listing = b.get("/products?max_price=100").json()
        assert listing["served_by"] != pid_one  # computed by process two...
        assert a.get("/products?max_price=100").json() == listing  # ...and shared
        b.post("/login", json=ADA)
        a.cookies.update(b.cookies)  # the session made by process two...
        assert a.get("/me").json()["user"] == "ada"  # ...is known to process one
        assert a.put("/products/2/price", json={"price": 5.0}).json()["price"] == 5.0
        a.cookies.clear()  # anonymous again, both: cookies keep requests out of the cache
        b.cookies.clear()
        # Invalidated in Redis by process one: process two computes again (from its own
        # copy of the data: each process has one in this example).
        fresh = b.get("/products/2").json()
        assert fresh["served_by"] == listing["served_by"]
        assert a.get("/products/2").json() == fresh  # and process one reads two's entry
        assert b.get("/products?max_price=100").json()["served_by"] == fresh["served_by"]
