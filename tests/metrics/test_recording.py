"""How requests are recorded: every one counted once, in flight read from the requests being
served (right after errors and cancellations), the appended latencies counted without a
read (once a second)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

import pytest

from ambi import App, HTTPException
from ambi.testing import AsyncTestClient, TestClient

ClientFor = Callable[[App], TestClient]
MakeHandler = Callable[[Callable[..., Any]], Callable[..., Any]]


def route(app: App, path: str) -> dict[str, Any]:
    (found,) = [r for r in app.metrics()["routes"] if r["route"] == path]
    return found


def test_every_request_is_counted_once(client_for: ClientFor, make_handler: MakeHandler) -> None:
    app = App()

    def item(n: int) -> dict[str, int]:
        if n % 5 == 0:
            raise HTTPException(404)
        if n % 7 == 0:
            raise RuntimeError("boom")
        return {"n": n}

    app.get("/items/{n}")(make_handler(item))
    app.enable_metrics(path=None)
    client = client_for(app, raise_server_exceptions=False)
    statuses = [client.get(f"/items/{n}").status_code for n in range(1, 301)]
    counted = route(app, "/items/{n}")
    assert counted["requests"] == 300
    assert counted["responses"]["2xx"] == statuses.count(200)
    assert counted["responses"]["4xx"] == statuses.count(404) == 60
    assert counted["responses"]["5xx"] == statuses.count(500)
    assert counted["in_flight"] == 0
    assert route(app, "/items/{n}") == counted  # a second read counts nothing twice


def test_in_flight_follows_requests_through_errors_and_cancellation(interface: str) -> None:
    app = App()
    entered = asyncio.Event()
    release = asyncio.Event()

    @app.get("/wait")
    async def wait(fail: bool = False) -> dict[str, bool]:
        entered.set()
        await release.wait()
        if fail:
            raise RuntimeError("failed while in flight")
        return {"ok": True}

    app.enable_metrics(path=None)

    async def scenario() -> list[dict[str, Any]]:
        seen = []
        kind = "rsgi" if interface == "rsgi" else "asgi"
        async with AsyncTestClient(app, interface=kind, raise_server_exceptions=False) as client:
            answered = [asyncio.create_task(client.get("/wait")) for _ in range(2)]
            failing = asyncio.create_task(client.get("/wait", params={"fail": True}))
            cancelled = asyncio.create_task(client.get("/wait"))
            await entered.wait()
            while route(app, "/wait")["in_flight"] < 4:  # all four in their handler
                await asyncio.sleep(0.01)
            seen.append(route(app, "/wait"))
            cancelled.cancel()
            with pytest.raises(asyncio.CancelledError):
                await cancelled
            seen.append(route(app, "/wait"))
            release.set()
            assert [(await t).status_code for t in answered] == [200, 200]
            assert (await failing).status_code == 500
            seen.append(route(app, "/wait"))
        return seen

    during, after_cancel, after = asyncio.run(asyncio.wait_for(scenario(), 30))
    assert (during["in_flight"], during["requests"]) == (4, 0)
    assert (after_cancel["in_flight"], after_cancel["cancelled"]) == (3, 1)
    assert after["in_flight"] == 0
    assert after["requests"] == 4
    assert after["responses"]["2xx"] == 2
    assert after["responses"]["5xx"] == 1
    assert after["cancelled"] == 1


def test_in_flight_seen_from_a_def_handler_and_from_the_loop(
    client_for: ClientFor, make_handler: MakeHandler
) -> None:
    app = App()
    seen: list[int] = []

    def peek() -> None:
        seen.append(route(app, "/peek")["in_flight"])

    app.get("/peek")(make_handler(peek))
    app.enable_metrics(path=None)
    client = client_for(app, raise_server_exceptions=False)
    client.get("/peek")
    client.get("/peek")
    assert seen == [1, 1]  # itself, running on the loop or in the pool
    assert route(app, "/peek")["in_flight"] == 0


def test_latencies_are_counted_without_a_read(client_for: ClientFor) -> None:
    app = App()

    @app.get("/json")
    async def json() -> dict[str, int]:
        return {"a": 1}

    app.enable_metrics(path=None)
    client = client_for(app)
    for _ in range(20):
        client.get("/json")
    (metrics,) = [m for m in app._metrics.routes.values() if m.path == "/json"]  # type: ignore[union-attr]
    # appended, and counted by the first fold that comes (no read before)
    assert metrics.status[2] + sum(len(p) for p in metrics.pending) == 20
    deadline = time.monotonic() + 10  # folded once a second on the app's loop
    while any(metrics.pending) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not any(metrics.pending)
    assert metrics.status[2] == 20


def test_shutdown_counts_what_is_left() -> None:
    app = App()

    @app.get("/json")
    async def json() -> dict[str, int]:
        return {"a": 1}

    app.enable_metrics(path=None)
    with TestClient(app) as client:
        for _ in range(5):
            client.get("/json")
    (metrics,) = [m for m in app._metrics.routes.values() if m.path == "/json"]  # type: ignore[union-attr]
    assert not any(metrics.pending)
    assert metrics.status[2] == 5
