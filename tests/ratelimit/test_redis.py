"""Limits stored in Redis: the Lua scripts decide exactly as pyrate-limiter's policies do
in-process, one round trip per request, atomically under concurrency; an unreachable or
silent Redis fails open or closed as configured, within the timeout, logged once."""

from __future__ import annotations

import asyncio
import logging
import random
import socket
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from ambi import App, RateLimitConfig
from ambi.exceptions import ConfigurationError
from ambi.ratelimit._memory import MemoryLimiter
from ambi.ratelimit._redis import RedisBackend, RedisLimiter
from ambi.stores import MemoryStore, RedisStore
from ambi.testing import TestClient

from .conftest import REDIS_URL

ClientFor = Callable[..., TestClient]

CONFIGS = {
    "token_bucket": lambda **kw: RateLimitConfig.token_bucket(capacity=4, refill_rate=3, **kw),
    "cello_bucket": lambda **kw: RateLimitConfig.token_bucket(requests=100, window=60, **kw),
    "fixed_window": lambda **kw: RateLimitConfig.fixed_window(5, 2, **kw),
    "sliding_window": lambda **kw: RateLimitConfig.sliding_window(5, 2, **kw),
}


def _arrivals(seed: int) -> list[int]:
    """Arrival times (ms since the epoch), bursty and idle by turns."""
    rng = random.Random(seed)
    now = 1_700_000_000_000 + rng.randrange(10_000)
    times = []
    for _ in range(120):
        now += rng.choice([0, 0, 1, 10, 50, 200, 333, 700, 2_500])
        times.append(now)
    return times


@pytest.mark.parametrize("name", list(CONFIGS))
async def test_redis_decides_as_the_in_process_policies(redis_prefix: str, name: str) -> None:
    for seed in range(8):
        config = CONFIGS[name](storage=REDIS_URL, prefix=redis_prefix)
        memory = MemoryLimiter(config)
        backend = RedisBackend.for_url(REDIS_URL, 1.0)
        shared = RedisLimiter(config, backend, f"parity{seed}")
        try:
            for now in _arrivals(seed):
                expected = memory.hit("k", now)
                got = await shared.hit("k", now)
                assert got == expected, (name, seed, now)
        finally:
            await backend.close()


async def test_one_round_trip_per_request_and_atomic_under_concurrency(redis_prefix: str) -> None:
    config = RateLimitConfig.fixed_window(50, 60, storage=REDIS_URL, prefix=redis_prefix)
    backend = RedisBackend.for_url(REDIS_URL, 2.0)
    limiter = RedisLimiter(config, backend, "concurrent")
    try:
        await limiter.hit("warm-up")  # loads the script
        client = backend.store.client()
        sent: list[Any] = []
        original = client.execute_command

        async def counting(*args: Any, **kwargs: Any) -> Any:
            sent.append(args[0])
            return await original(*args, **kwargs)

        client.execute_command = counting  # type: ignore[method-assign]
        outcomes = await asyncio.gather(*(limiter.hit("k") for _ in range(80)))
        assert sent == ["EVALSHA"] * 80  # one command, one round trip, per request
        assert sum(o.allowed for o in outcomes) == 50
        assert sorted(o.remaining for o in outcomes if o.allowed) == list(range(50))
    finally:
        await backend.close()


def _app(**options: Any) -> App:
    app = App()
    app.enable_rate_limit(RateLimitConfig.token_bucket(capacity=3, refill_rate=2, **options))
    app.get("/json")(lambda: {"message": "hello"})
    return app


def test_an_app_limited_through_redis(client_for: ClientFor, redis_prefix: str) -> None:
    client = client_for(_app(storage=REDIS_URL, prefix=redis_prefix))
    started = time.monotonic()
    answers = [client.get("/json") for _ in range(4)]
    if time.monotonic() - started < 0.5:  # (a machine too busy to send 4 in 0.5 s: skip)
        assert [a.status_code for a in answers] == [200, 200, 200, 429]
        assert [a.headers["ratelimit-remaining"] for a in answers] == ["2", "1", "0", "0"]
        assert answers[-1].headers["retry-after"] == "1"
    emptied = time.monotonic()
    time.sleep(1.1)  # 2.2 tokens back
    allowed = sum(client.get("/json").status_code == 200 for _ in range(5))
    assert 2 <= allowed <= int((time.monotonic() - emptied) * 2)


@pytest.fixture(params=["silent", "refusing"])
def unreachable(request: pytest.FixtureRequest) -> Iterator[str]:
    """A Redis URL nobody answers at: a port that accepts connections and never replies
    (a hung Redis), or one nothing listens on."""
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        url = f"redis://127.0.0.1:{server.getsockname()[1]}/0"
        if request.param == "silent":
            server.listen(16)
            yield url
            return
    yield url  # closed now: connections are refused


@pytest.mark.parametrize("mode", ["open", "closed"])
def test_an_unreachable_redis_fails_as_configured_and_never_hangs(
    client_for: ClientFor, caplog: pytest.LogCaptureFixture, unreachable: str, mode: str
) -> None:
    url = unreachable
    client = client_for(_app(storage=url, failure_mode=mode, timeout=0.3))
    with caplog.at_level(logging.WARNING, logger="ambi.ratelimit"):
        started = time.monotonic()
        first = client.get("/json")
        first_took = time.monotonic() - started
        started = time.monotonic()
        rest = [client.get("/json") for _ in range(5)]
        rest_took = time.monotonic() - started
    assert first_took < 1.5  # bounded by the timeout (0.3 s), not hung
    assert rest_took < 1.2  # remembered: five waits on it would be 1.5 s
    expected = 200 if mode == "open" else 503
    assert {r.status_code for r in [first, *rest]} == {expected}
    if mode == "open":
        assert "ratelimit-limit" not in first.headers
    else:
        assert first.json() == {"detail": "Service Unavailable: the rate limiter cannot be reached"}
        assert first.headers["retry-after"] == "1"
    warnings = [r for r in caplog.records if "unreachable" in r.getMessage()]
    assert len(warnings) == 1


async def test_redis_coming_back_is_noticed(
    redis_prefix: str, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ambi.ratelimit import _redis
    from ambi.ratelimit._redis import StorageUnavailable

    monkeypatch.setattr(_redis, "RETRY_AFTER_FAILURE", 0.05)
    config = RateLimitConfig.fixed_window(5, 60, storage=REDIS_URL, prefix=redis_prefix)
    backend = RedisBackend.for_url("redis://127.0.0.1:1/0", 0.3)
    limiter = RedisLimiter(config, backend, "back")
    with caplog.at_level(logging.WARNING, logger="ambi.ratelimit"):
        with pytest.raises(StorageUnavailable):
            await limiter.hit("k")
        await backend.close()
        backend.store = RedisStore(REDIS_URL, prefix="")  # the operator fixed the URL
        await asyncio.sleep(0.06)  # the outage is not asked again before that
        assert (await limiter.hit("k")).allowed
    await backend.close()
    messages = [r.getMessage() for r in caplog.records]
    assert any("reachable again" in m for m in messages)


def test_a_limit_on_the_apps_store_shares_its_connection_pool(
    client_for: ClientFor, redis_prefix: str
) -> None:
    store = RedisStore(REDIS_URL, prefix=f"{redis_prefix}:store:")
    app = App()
    app.enable_rate_limit(RateLimitConfig.fixed_window(2, 60, storage=store, prefix=redis_prefix))
    used: list[object] = []

    @app.get("/pools")
    async def pools() -> dict[str, int]:
        used.append(store.client().connection_pool)  # the pool the store's cache calls use
        return {"ok": 1}

    client = client_for(app)
    assert [client.get("/pools").status_code for _ in range(3)] == [200, 200, 429]
    (pool,) = set(map(id, used))
    # the limit's scripts ran on that same pool: it made the connections, nobody else did
    stored = store._clients  # one client (and pool) per event loop
    assert [id(c.connection_pool) for c in stored.values()] == [pool]


def test_a_store_that_cannot_run_scripts_is_refused() -> None:
    with pytest.raises(ConfigurationError, match="takes a RedisStore"):
        RateLimitConfig.fixed_window(2, 60, storage=MemoryStore())
    with pytest.raises(ConfigurationError, match="a redis:// URL or a RedisStore"):
        RateLimitConfig.fixed_window(2, 60, storage="memcached://x")
