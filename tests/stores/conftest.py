"""A store of each kind, empty, for the contract tests."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import pytest

from ambi.stores import MemoryStore, RedisStore, Store


class Clock:
    """Stands in for the `time` module of `ambi.stores._memory`: `now` moves when told."""

    def __init__(self) -> None:
        self.now = 1000.0

    def monotonic(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    fake = Clock()
    monkeypatch.setattr("ambi.stores._memory.time", fake)
    return fake


@pytest.fixture(params=["memory", "redis"])
async def store(request: pytest.FixtureRequest) -> AsyncIterator[Store]:
    """A `MemoryStore`, or a `RedisStore` on the loopback Redis under a fresh prefix."""
    if request.param == "memory":
        yield MemoryStore()
        return
    url = request.getfixturevalue("redis_url")
    # A generous timeout: these tests are about behaviour, on a machine that may be busy.
    redis_store = RedisStore(url, prefix=f"ambi-test:{uuid.uuid4().hex}:", timeout=5)
    try:
        yield redis_store
    finally:
        await redis_store.clear()
        await redis_store.close()
