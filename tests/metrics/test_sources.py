"""The engine's and the features' numbers in `app.metrics()` and in Prometheus text: loop
lag and stalls by route, thread-pool rejections, the process pool, background tasks, cache
hits and misses, rate-limit refusals. Exact counts; features that are off are absent."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable
from contextlib import nullcontext
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families

from ambi import App, ConfigurationError
from ambi.cache import cache
from ambi.ratelimit import RateLimitConfig
from ambi.testing import AsyncTestClient, TestClient

ClientFor = Callable[..., TestClient]
MakeHandler = Callable[[Callable[..., Any]], Callable[..., Any]]


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Prometheus text -> {(sample name, sorted labels): value}."""
    found = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            found[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return found


def route_of(snapshot: dict[str, Any], path: str) -> dict[str, Any]:
    (found,) = [r for r in snapshot["routes"] if r["route"] == path]
    return found


def test_loop_stalls_by_route_with_their_stacks_and_the_lag(interface: str) -> None:
    app = App(loop_block_threshold=0.05)

    @app.get("/block")
    async def block() -> dict[str, bool]:
        time.sleep(0.2)  # blocks the loop: the mistake the watchdog is there to catch
        return {"ok": True}

    @app.get("/fine")
    async def fine() -> dict[str, bool]:
        await asyncio.sleep(0.01)
        return {"ok": True}

    app.enable_metrics()
    with TestClient(app, interface=interface) as client:
        assert client.get("/block").status_code == 200
        for _ in range(3):
            assert client.get("/fine").status_code == 200
        time.sleep(0.1)  # the watchdog asks and the loop answers: a lag is measured
        snapshot = app.metrics()
        text = client.get("/metrics").text
    loop = snapshot["event_loop"]
    assert loop["watchdog"] is True
    assert loop["blocks"] == 1
    assert loop["blocks_by_route"] == {"GET /block": 1}
    (incident,) = loop["recent_blocks"]
    assert incident["route"] == "GET /block"
    assert incident["seconds"] >= 0.05
    assert "time.sleep(0.2)" in incident["stack"]
    assert loop["lag_seconds"] is not None
    assert loop["lag_seconds"] >= 0
    assert loop["max_lag_seconds"] >= 0.05  # the stall is within the last minute
    assert route_of(snapshot, "/block")["loop_blocks"] == 1
    assert route_of(snapshot, "/fine")["loop_blocks"] == 0
    found = samples(text)
    assert found[("ambi_event_loop_blocks_total", (("route", "GET /block"),))] == 1
    assert found[("ambi_event_loop_max_lag_seconds", ())] >= 0.05


def test_without_the_watchdog_no_lag_is_claimed() -> None:
    app = App(loop_block_threshold=None)
    with TestClient(app):
        loop = app.metrics()["event_loop"]
    assert loop["watchdog"] is False
    assert loop["lag_seconds"] is None
    assert loop["max_lag_seconds"] is None


def test_thread_pool_rejections_counted_per_route() -> None:
    app = App(sync_workers=1, sync_queue_limit=1)
    release = threading.Event()

    @app.get("/slow")
    def slow() -> dict[str, bool]:
        release.wait(5)
        return {"ok": True}

    app.enable_metrics()

    async def flood() -> tuple[list[int], str]:
        async with AsyncTestClient(app) as client:
            running = [asyncio.create_task(client.get("/slow")) for _ in range(2)]
            await asyncio.sleep(0.2)  # one runs, one waits: the queue is full
            refused = [(await client.get("/slow")).status_code for _ in range(3)]
            release.set()
            await asyncio.gather(*running)
            return refused, (await client.get("/metrics")).text

    refused, text = asyncio.run(flood())
    assert refused == [503, 503, 503]
    snapshot = app.metrics()
    assert snapshot["thread_pool"]["rejected"] == 3
    assert route_of(snapshot, "/slow")["rejected"] == 3
    assert samples(text)[("ambi_thread_pool_rejected_total", (("route", "GET /slow"),))] == 3


def cpu(n: int) -> int:
    return sum(range(n))


def test_process_pool_use() -> None:
    app = App(process_workers=1)
    app.get("/cpu", run="process")(cpu)
    app.enable_metrics(path=None)
    with TestClient(app) as client:
        for n in (10, 20):
            assert client.get("/cpu", params={"n": n}).json() == sum(range(n))
        pool = app.metrics()["process_pool"]
    assert pool["started"] is True
    assert pool["submitted"] >= 2  # the requests (and the jobs that warm the pool up)
    assert pool["active"] == 0
    assert pool["children"] == 1


def test_background_tasks_queued_running_failed(client_for: ClientFor) -> None:
    app = App()
    app.enable_background_tasks(workers=1)
    gate = threading.Event()

    def wait_for_gate() -> None:
        gate.wait(5)

    def broken() -> None:
        raise RuntimeError("no")

    @app.post("/start")
    def start() -> dict[str, Any]:
        ids = [app.add_task(wait_for_gate), app.add_task(broken), app.add_task(broken)]
        return {"ids": ids}

    app.enable_metrics()
    with nullcontext(client_for(app)) as client:  # client_for has started the app
        ids = client.post("/start").json()["ids"]
        deadline = time.monotonic() + 5
        while app.metrics()["background_tasks"]["running"] != 1 and time.monotonic() < deadline:
            time.sleep(0.01)
        during = app.metrics()["background_tasks"]
        gate.set()
        for task_id in ids:
            app.tasks.wait(task_id, 5)
        deadline = time.monotonic() + 5  # the last one frees its slot just after its status
        while app.metrics()["background_tasks"]["running"] and time.monotonic() < deadline:
            time.sleep(0.01)
        after = app.metrics()["background_tasks"]
        text = client.get("/metrics").text
    assert during == {"backend": "memory", "workers": 1, "queued": 2, "running": 1,
                      "done": 0, "failed": 0, "retried": 0}  # fmt: skip
    assert after == {"backend": "memory", "workers": 1, "queued": 0, "running": 0,
                     "done": 1, "failed": 2, "retried": 0}  # fmt: skip
    found = samples(text)
    assert found[("ambi_background_tasks_ended_total", (("outcome", "failed"),))] == 2
    assert found[("ambi_background_tasks_ended_total", (("outcome", "done"),))] == 1
    assert found[("ambi_background_tasks", (("state", "queued"),))] == 0


def test_cache_hits_and_misses(client_for: ClientFor, make_handler: MakeHandler) -> None:
    app = App()

    def item(item_id: int) -> dict[str, int]:
        return {"id": item_id}

    app.get("/items/{item_id}")(cache(ttl=60)(make_handler(item)))
    app.enable_metrics()
    with nullcontext(client_for(app)) as client:  # client_for has started the app
        for item_id in (1, 1, 1, 2, 2):
            assert client.get(f"/items/{item_id}").status_code == 200
        text = client.get("/metrics").text
    assert app.metrics()["cache"] == {
        "hits": 3,
        "misses": 2,
        "by_route": {"GET /items/{item_id}": {"hits": 3, "misses": 2}},
    }
    found = samples(text)
    assert found[("ambi_cache_hits_total", (("route", "GET /items/{item_id}"),))] == 3
    assert found[("ambi_cache_misses_total", (("route", "GET /items/{item_id}"),))] == 2


def test_rate_limit_refusals_by_route(client_for: ClientFor) -> None:
    app = App()
    app.enable_rate_limit(RateLimitConfig.fixed_window(requests=2, window=60), exempt=["/metrics"])

    @app.get("/a")
    def a() -> dict[str, str]:
        return {"a": "a"}

    @app.get("/b", rate_limit=RateLimitConfig.fixed_window(requests=1, window=60))
    async def b() -> dict[str, str]:
        return {"b": "b"}

    app.enable_metrics()
    with nullcontext(client_for(app)) as client:  # client_for has started the app
        codes = [client.get(p).status_code for p in ("/a", "/a", "/a", "/a", "/b")]
        text = client.get("/metrics").text
    assert codes == [200, 200, 429, 429, 429]  # /b counts against the app's budget too
    stats = app.metrics()["rate_limit"]
    assert stats["rejected"] == 3
    assert stats["by_route"] == {"GET /a": 2, "GET /b": 1}
    found = samples(text)
    assert found[("ambi_rate_limit_rejected_total", (("route", "GET /a"),))] == 2


def test_features_that_are_off_are_absent(client_for: ClientFor) -> None:
    app = App()

    @app.get("/json")
    async def json() -> dict[str, int]:
        return {"a": 1}

    app.enable_metrics()
    with nullcontext(client_for(app)) as client:  # client_for has started the app
        client.get("/json")
        text = client.get("/metrics").text
    snapshot = app.metrics()
    assert not {"background_tasks", "cache", "rate_limit"} & snapshot.keys()
    names = {name for name, _ in samples(text)}
    assert not {n for n in names if n.startswith(("ambi_cache", "ambi_rate", "ambi_background"))}


def test_user_sources_and_reserved_names() -> None:
    app = App()
    app.enable_metrics(path=None)
    app._metrics.add_source("queue_depth", lambda: 7)  # type: ignore[union-attr]
    assert app.metrics()["queue_depth"] == 7
    with pytest.raises(ConfigurationError, match="exists already"):
        app._metrics.add_source("queue_depth", lambda: 8)  # type: ignore[union-attr]
    with pytest.raises(ConfigurationError, match="snapshot itself"):
        app._metrics.add_source("event_loop", lambda: 0)  # type: ignore[union-attr]
