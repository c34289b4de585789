"""The execution-model and smartasync pages' examples (docs/examples/execution, bridge)."""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Callable

import pytest
from docs.examples.bridge import inventory
from docs.examples.execution import backpressure, blocking, kinds

from ambi import BridgeError
from ambi.testing import AsyncTestClient, LoopBlockedError, TestClient

ClientFor = Callable[..., TestClient]


def test_where_each_kind_runs() -> None:
    with TestClient(kinds.app) as client:
        on_loop = client.get("/async").json()["thread"]
        assert client.get("/inline").json()["thread"] == on_loop
        assert client.get("/def").json()["thread"] != on_loop
        assert client.get("/thread").json()["thread"] != on_loop
        fib = client.get("/fib/20").json()
        assert fib["fib"] == 6765
        assert fib["pid"] != os.getpid()  # another process
        stats = client.get("/stats").json()
    assert stats["by_kind"] == {"async": 1, "thread": 3, "inline": 1, "process": 1}
    assert {r["path"]: r["kind"] for r in stats["routes"]}["/fib/{n:int}"] == "process"


def test_the_detector_names_the_blocking_route(
    interface: str, caplog: pytest.LogCaptureFixture
) -> None:
    with (
        TestClient(blocking.app, interface=interface) as client,
        caplog.at_level(logging.WARNING, "ambi.execution"),
    ):
        before = blocking.app.engine.stats.loop_blocks["GET /bad"]  # a Counter, per app
        assert client.get("/good").json() == {"slept": 0.3}
        assert client.get("/bad").json() == {"slept": 0.3}
    messages = [r.getMessage() for r in caplog.records]
    # (a loop starved of CPU on a busy machine is reported "outside any route", if at all)
    reports = [m for m in messages if "event loop was blocked" in m and "by GET /" in m]
    assert len(reports) == 1
    assert "by GET /bad (route GET /bad)" in reports[0]
    assert "time.sleep(0.3)" in reports[0]  # the loop thread's stack, at the blocking line
    assert "line 13, in bad" in reports[0]  # as the page shows it
    assert blocking.app.engine.stats.loop_blocks["GET /bad"] == before + 1


def test_strict_mode_fails_the_blocking_request() -> None:
    client = TestClient(blocking.app, strict=True)
    with client, pytest.raises(LoopBlockedError, match="GET /bad"):
        client.get("/bad")


async def test_a_full_pool_answers_503_and_async_routes_still_answer() -> None:
    async with AsyncTestClient(backpressure.app) as client:
        calls = [asyncio.ensure_future(client.get("/report")) for _ in range(3)]
        await asyncio.sleep(0.2)  # one runs, one waits in the queue, the third is refused
        assert (await client.get("/ping")).json() == {"pong": True}
        answers = [await call for call in calls]
    assert sorted(r.status_code for r in answers) == [200, 200, 503]
    refused = next(r for r in answers if r.status_code == 503)
    assert refused.headers["retry-after"] == "1"


async def test_timeout_504_and_max_concurrency_503() -> None:
    async with AsyncTestClient(backpressure.app) as client:
        slow = await client.get("/slow")
        assert (slow.status_code, slow.json()) == (
            504,
            {"detail": "the request did not finish within 0.1 s"},
        )
        both = await asyncio.gather(client.get("/limited"), client.get("/limited"))
    assert sorted(r.status_code for r in both) == [200, 503]


def test_smartasync_from_plain_sync_code() -> None:
    assert inventory.report() == {"saw": 3, "level": 0}


async def test_smartasync_from_async_code() -> None:
    assert await inventory.inventory.count("saw") == 3
    assert await inventory.inventory.count.aio("saw") == 3
    with pytest.raises(BridgeError, match="count"):  # would stall this loop
        inventory.inventory.count.sync("saw")


def test_smartasync_sync_always_runs() -> None:
    assert inventory.inventory.count.sync("level") == 0


def test_smartasync_in_an_app(client_for: ClientFor) -> None:
    client = client_for(inventory.app)
    assert client.get("/sync/saw").json() == {"sku": "saw", "count": 3}
    assert client.get("/async/saw").json() == {"sku": "saw", "count": 3}
    assert client.get("/total").json() == {"total": 3}
