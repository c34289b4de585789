"""`RedisStore` against the real loopback Redis: prefixes, Lua, and staying bounded in time
when Redis is gone or silent."""

from __future__ import annotations

import asyncio
import logging
import socket
import time
import uuid
from collections.abc import AsyncIterator, Iterator

import pytest

from ambi import ConfigurationError, StoreError
from ambi.stores import RedisStore

from ._proxy import RedisProxy


def _prefix() -> str:
    return f"ambi-test:{uuid.uuid4().hex}:"


@pytest.fixture
async def redis_store(redis_url: str) -> AsyncIterator[RedisStore]:
    store = RedisStore(redis_url, prefix=_prefix(), timeout=5)
    yield store
    await store.clear()
    await store.close()


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A port that accepts connections (the kernel's backlog) and never answers."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(64)
        yield sock.getsockname()[1]


async def test_keys_live_under_the_prefix(redis_store: RedisStore, redis_url: str) -> None:
    await redis_store.set("k", b"v", tags=["t"])
    client = redis_store.client()
    assert await client.get(redis_store.prefix + "k") == b"v"
    assert redis_store.key("k") == redis_store.prefix + "k"
    other = RedisStore(redis_url, prefix=_prefix(), timeout=5)
    await other.set("k", b"other")
    await redis_store.clear()  # only its own keys
    assert await other.get("k") == b"other"
    await other.clear()
    assert await client.keys(redis_store.prefix + "*") == []
    await other.close()


async def test_eval_runs_lua_on_prefixed_keys(redis_store: RedisStore) -> None:
    script = "redis.call('SET', KEYS[1], ARGV[1]); return redis.call('STRLEN', KEYS[1])"
    assert await redis_store.eval(script, ["lua"], ["hello"]) == 5
    assert await redis_store.get("lua") == b"hello"
    redis_store._shas.clear()  # a script Redis already knows, or not: both work
    await redis_store.client().script_flush()
    assert await redis_store.eval(script, ["lua"], ["hi"]) == 2


async def test_a_refused_command_is_a_store_error_without_failing_fast(
    redis_store: RedisStore,
) -> None:
    await redis_store.set("text", b"abc")
    with pytest.raises(StoreError, match="refused"):
        await redis_store.incr("text")
    assert await redis_store.get("text") == b"abc"  # not marked down


async def test_down_fails_fast_logs_and_heals(
    redis_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    proxy = RedisProxy()
    await proxy.start()
    store = RedisStore(proxy.url, prefix=_prefix(), timeout=0.5, retry_interval=0.2)
    try:
        await store.set("k", b"v")
        await proxy.stop()
        caplog.set_level(logging.WARNING, "ambi.stores")
        with pytest.raises(StoreError):
            await store.get("k")
        assert any("unavailable" in r.getMessage() for r in caplog.records)
        started = time.perf_counter()
        with pytest.raises(StoreError, match="next try"):
            await store.get("k")  # within retry_interval: no connection attempt
        assert time.perf_counter() - started < 0.15
        await proxy.start()
        await asyncio.sleep(0.25)
        assert await store.get("k") == b"v"  # a fresh connection, by itself
        assert any("reachable again" in r.getMessage() for r in caplog.records)
        await store.clear()
    finally:
        await store.close()
        await proxy.stop()


async def test_a_silent_server_costs_at_most_the_timeout(silent_port: int) -> None:
    store = RedisStore(f"redis://127.0.0.1:{silent_port}/0", timeout=0.2)
    started = time.perf_counter()
    with pytest.raises(StoreError):
        await store.get("k")
    assert time.perf_counter() - started < 0.6
    await store.close()


async def test_one_pool_per_event_loop(redis_store: RedisStore) -> None:
    await redis_store.set("k", b"v")
    in_thread = await asyncio.to_thread(_get_on_own_loop, redis_store)
    assert in_thread == b"v"


def _get_on_own_loop(store: RedisStore) -> bytes | None:
    async def get() -> bytes | None:
        try:
            return await store.get("k")
        finally:
            await store.close()

    return asyncio.run(get())


def test_unknown_redis_options_fail_at_construction() -> None:
    with pytest.raises(ConfigurationError, match="bogus"):
        RedisStore("redis://127.0.0.1:6379/0", bogus=1)


async def test_clear_without_a_prefix_is_refused(redis_url: str) -> None:
    with pytest.raises(ConfigurationError, match="prefix"):
        await RedisStore(redis_url, prefix="").clear()
