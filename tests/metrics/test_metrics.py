"""Request metrics: counts by route template and status class, latency percentiles, in
flight, the thread pool; recorded by a route stage only when metrics are enabled."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ambi import App, HTTPException, get_performance_metrics
from ambi._pipeline import StageOrder
from ambi.exceptions import AmbiError, ConfigurationError
from ambi.metrics._histogram import bucket, new_counts, percentile, upper_bound
from ambi.testing import TestClient

ClientFor = Callable[[App], TestClient]
MakeHandler = Callable[[Callable[..., Any]], Callable[..., Any]]


def route(snapshot: dict[str, Any], path: str) -> dict[str, Any]:
    (found,) = [r for r in snapshot["routes"] if r["route"] == path]
    return found


def test_counts_by_template_and_status_class(
    client_for: ClientFor, make_handler: MakeHandler
) -> None:
    app = App()

    def item(item_id: int) -> dict[str, int]:
        if item_id == 0:
            raise HTTPException(404, "no such item")
        if item_id == 13:
            raise ValueError("unlucky")
        return {"id": item_id}

    app.get("/items/{item_id}")(make_handler(item))
    app.enable_metrics(path=None)
    client = client_for(app, raise_server_exceptions=False)
    for i in range(1, 8):
        assert client.get(f"/items/{i}").status_code == 200
    assert client.get("/items/0").status_code == 404
    assert client.get("/items/x").status_code == 422
    assert client.get("/items/13").status_code == 500
    stats = route(app.metrics(), "/items/{item_id}")
    assert stats["method"] == "GET"
    assert stats["requests"] == 10
    assert stats["responses"] == {"1xx": 0, "2xx": 7, "3xx": 0, "4xx": 2, "5xx": 1}
    assert stats["errors"] == {"4xx": 2, "5xx": 1}
    assert stats["in_flight"] == 0
    latency = stats["latency_seconds"]
    assert 0 < latency["p50"] <= latency["p95"] <= latency["p99"] < 5
    assert latency["mean"] > 0
    assert app.metrics()["total_requests"] == 10


def test_exception_handlers_decide_the_counted_status(client_for: ClientFor) -> None:
    app = App()

    @app.get("/teapot")
    async def teapot() -> None:
        raise LookupError

    @app.exception_handler(LookupError)
    def as_teapot(request: Any, exc: Exception) -> Any:
        from ambi import JSONResponse

        return JSONResponse({"detail": "teapot"}, 418)

    app.enable_metrics(path=None)
    response = client_for(app, raise_server_exceptions=False).get("/teapot")
    assert response.status_code == 418
    assert response.json() == {"detail": "teapot"}
    assert route(app.metrics(), "/teapot")["responses"]["4xx"] == 1


def test_latency_percentiles_follow_the_handler_time(client_for: ClientFor) -> None:
    app = App()

    @app.get("/slow")
    async def slow(ms: int) -> None:
        await asyncio.sleep(ms / 1000)

    app.enable_metrics(path=None)
    client = client_for(app, raise_server_exceptions=False)
    for _ in range(18):
        client.get("/slow", params={"ms": 0})
    client.get("/slow", params={"ms": 200})
    client.get("/slow", params={"ms": 200})
    latency = route(app.metrics(), "/slow")["latency_seconds"]
    assert latency["p50"] < 0.1
    assert 0.2 <= latency["p95"] < 0.2 * 1.125 + 0.2  # bucket bound: within 12.5 % (+ noise)
    assert latency["p99"] >= 0.2


def test_in_flight_counts_requests_being_handled(client_for: ClientFor) -> None:
    app = App()
    seen: list[int] = []

    @app.get("/peek")
    def peek() -> None:
        seen.append(get_performance_metrics()["in_flight"])

    app.enable_metrics(path=None)
    client_for(app, raise_server_exceptions=False).get("/peek")
    assert seen == [1]
    assert app.metrics()["in_flight"] == 0


def test_thread_pool_gauges(client_for: ClientFor) -> None:
    app = App(sync_workers=3)
    release = threading.Event()

    @app.get("/block")
    def block() -> None:
        release.wait(5)

    @app.get("/pool")
    async def pool() -> dict[str, Any]:
        return dict(get_performance_metrics()["thread_pool"])

    client = client_for(app, raise_server_exceptions=False)
    assert client.get("/pool").json()["max_workers"] == 3

    async def busy_then_look() -> dict[str, Any]:
        from ambi.testing import AsyncTestClient

        async with AsyncTestClient(app, raise_server_exceptions=False) as ac:
            blocked = [asyncio.create_task(ac.get("/block")) for _ in range(5)]
            await asyncio.sleep(0.3)
            seen = (await ac.get("/pool")).json()
            release.set()
            await asyncio.gather(*blocked)
            return dict(seen)

    seen = asyncio.run(busy_then_look())
    assert seen == {"max_workers": 3, "threads": 3, "busy": 3, "queued": 2, "rejected": 0}


def test_without_enable_metrics_routes_carry_no_stage(client_for: ClientFor) -> None:
    app = App()

    @app.get("/json")
    async def json() -> dict[str, int]:
        return {"a": 1}

    client_for(app, raise_server_exceptions=False).get("/json")
    (compiled,) = app.compiled
    assert compiled.handle == compiled._core()  # the bare core: no stage around it
    snapshot = app.metrics()
    assert snapshot["enabled"] is False
    assert "routes" not in snapshot
    assert snapshot["handlers"]["total_handlers"] == 1


def test_metrics_stage_is_outermost() -> None:
    assert min(o for o in StageOrder if o is not StageOrder.METRICS) > StageOrder.METRICS


def test_enable_twice_or_after_start_is_refused(client_for: ClientFor) -> None:
    app = App()
    app.enable_metrics(path=None)
    with pytest.raises(ConfigurationError, match="already enabled"):
        app.enable_metrics(path=None)
    started = App()
    client_for(started)
    with pytest.raises(ConfigurationError, match="before the app starts"):
        started.enable_metrics(path=None)
    with pytest.raises(ConfigurationError, match="must start with"):
        App().enable_metrics(path="metrics")
    with pytest.raises(ConfigurationError, match="flush_interval"):
        App().enable_metrics(flush_interval=0)


def test_get_performance_metrics_outside_an_app_raises() -> None:
    with pytest.raises(AmbiError, match="no ambi app"):
        get_performance_metrics()


def test_percentiles_from_buckets() -> None:
    counts = new_counts()
    assert percentile(counts, 0.5) is None
    counts[bucket(1_000_000)] = 99  # 1 ms
    counts[bucket(3_000_000_000)] = 1  # 3 s
    assert 1e-3 < percentile(counts, 0.5) <= 1e-3 * 1.125
    assert percentile(counts, 0.99) == percentile(counts, 0.5)
    assert 3.0 < percentile(counts, 1.0) <= 3.0 * 1.125


@given(st.integers(min_value=0, max_value=2**63 - 1))
def test_a_duration_falls_in_a_bucket_at_most_an_eighth_wide(ns: int) -> None:
    index = bucket(ns)
    assert ns < upper_bound(index) <= max(ns + 1, ns * 1.125 + 1)
    assert bucket(upper_bound(index)) > index  # the next duration is in a later bucket
