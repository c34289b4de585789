"""Seed 003 (Cello's async-support page): `@cache(ttl=120, tags=["items"])` under `@app.get`
on an async handler, and the cache invalidated by tag after a write, with only the import
changed (`seeds/c003_cache.py`)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from ambi import App, invalidate
from ambi.testing import TestClient

from .seeds import c003_cache
from .seeds._db import db

ClientFor = Callable[[App], TestClient]


@pytest.fixture
def client(client_for: ClientFor) -> TestClient:
    db.rows.clear()
    db.reads = 0
    invalidate(tags=["items"])  # another test's entries
    return client_for(c003_cache.app)


def test_list_items_is_cached_for_120_seconds(client: TestClient) -> None:
    first = client.get("/items")
    assert first.json() == {"items": []}
    assert first.headers["cache-control"] == "max-age=120"
    assert client.get("/items").json() == {"items": []}
    assert db.reads == 1  # the second answer came from the cache


def test_a_write_then_invalidating_the_tag_shows_it(client: TestClient) -> None:
    assert client.get("/items").json() == {"items": []}
    created = client.post("/items", json={"name": "Saw", "price": 12.5})
    assert created.json() == {"id": 1, "name": "Saw"}
    assert client.get("/items").json() == {"items": []}  # cached: the write is not seen yet
    assert invalidate(tags=["items"]) >= 1
    assert client.get("/items").json() == {"items": [{"id": 1, "name": "Saw", "price": 12.5}]}
    assert db.reads == 2


async def test_invalidation_from_async_code(client: TestClient) -> None:
    client.get("/items")
    client.post("/items", json={"name": "Level", "price": 20})
    await invalidate(tags=["items"])
    assert [i["name"] for i in client.get("/items").json()["items"]] == ["Level"]


def test_the_write_is_validated(client: TestClient) -> None:
    response = client.post("/items", json={"name": "Saw", "price": "cheap"})
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "price"]
