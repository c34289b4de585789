"""Route limits (`timeout=`, `max_concurrency=`) over def/async handlers and ASGI/RSGI, and
noticing the server's stop signals."""

from __future__ import annotations

import asyncio
import signal
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from ambi import App, Depends
from ambi.exceptions import ConfigurationError
from ambi.execution._signals import watch_stop_signals
from ambi.testing import AsyncTestClient, TestClient


def slow_handler(handler_kind: str, seconds: float) -> Callable[..., Any]:
    if handler_kind == "sync":

        def sync_handler() -> dict[str, bool]:
            time.sleep(seconds)
            return {"done": True}

        return sync_handler

    async def async_handler() -> dict[str, bool]:
        await asyncio.sleep(seconds)
        return {"done": True}

    return async_handler


def test_timeout_answers_504(client_for: Callable[..., TestClient], handler_kind: str) -> None:
    app = App(loop_block_threshold=None)
    app.get("/slow", timeout=0.1)(slow_handler(handler_kind, 2.0))
    app.get("/quick", timeout=0.5)(slow_handler(handler_kind, 0.01))
    client = client_for(app)
    started = time.perf_counter()
    response = client.get("/slow")
    assert time.perf_counter() - started < 1.0  # the handler alone takes 2 s
    assert response.status_code == 504
    assert response.json() == {"detail": "the request did not finish within 0.1 s"}
    assert client.get("/quick").json() == {"done": True}
    assert app.engine.stats.timed_out == {"GET /slow": 1}


def test_app_default_timeout_and_route_override(client_for: Callable[..., TestClient]) -> None:
    app = App(route_timeout=0.1)

    @app.get("/default")
    async def default() -> None:
        await asyncio.sleep(0.5)

    @app.get("/none", timeout=None)  # type: ignore[arg-type]
    async def none() -> str:
        await asyncio.sleep(0.2)
        return "waited"

    client = client_for(app)
    assert client.get("/default").status_code == 504
    assert client.get("/none").text == "waited"


def test_dependencies_are_inside_the_timeout(client_for: Callable[..., TestClient]) -> None:
    def slow_dependency() -> Iterator[int]:
        time.sleep(0.5)
        yield 1

    app = App()

    @app.get("/", timeout=0.1)
    async def handler(value: int = Depends(slow_dependency)) -> int:
        return value

    assert client_for(app).get("/").status_code == 504


def test_a_handlers_own_timeout_error_is_its_own(client_for: Callable[..., TestClient]) -> None:
    app = App()

    @app.get("/", timeout=5)
    async def handler() -> None:
        raise TimeoutError("the upstream timed out")

    assert client_for(app, raise_server_exceptions=False).get("/").status_code == 500


@pytest.mark.parametrize("interface", ["asgi", "rsgi"])
async def test_max_concurrency(interface: str, handler_kind: str) -> None:
    app = App(loop_block_threshold=None)
    app.get("/limited", max_concurrency=2)(slow_handler(handler_kind, 0.3))
    async with AsyncTestClient(app, interface=interface) as client:  # type: ignore[arg-type]
        responses = await asyncio.gather(*(client.get("/limited") for _ in range(3)))
        again = await client.get("/limited")
    assert sorted(r.status_code for r in responses) == [200, 200, 503]
    refused = next(r for r in responses if r.status_code == 503)
    assert refused.headers["retry-after"] == "1"
    assert again.status_code == 200
    assert app.engine.stats.over_limit == {"GET /limited": 1}


@pytest.mark.parametrize(
    "options",
    [
        {"timeout": 0},
        {"timeout": -1},
        {"timeout": "5"},
        {"timeout": True},
        {"max_concurrency": 0},
        {"max_concurrency": 1.5},
    ],
)
def test_bad_limits_fail_at_startup(options: dict[str, Any]) -> None:
    app = App()
    app.get("/", **options)(lambda: None)
    with pytest.raises(ConfigurationError, match="GET /: "):
        app.freeze()  # what startup does first


async def test_full_queue_refuses_def_routes_only() -> None:
    app = App(sync_workers=1, sync_queue_limit=1, loop_block_threshold=None)
    release = threading.Event()

    @app.get("/block")
    def block() -> str:
        release.wait(5)
        return "released"

    @app.get("/async")
    async def fine() -> str:
        return "fine"

    async with AsyncTestClient(app) as client:
        running = asyncio.ensure_future(client.get("/block"))
        await asyncio.sleep(0.05)
        queued = asyncio.ensure_future(client.get("/block"))
        await asyncio.sleep(0.05)
        refused = await client.get("/block")
        assert (await client.get("/async")).text == "fine"
        release.set()
        assert (await running).status_code == 200
        assert (await queued).status_code == 200
    assert refused.status_code == 503
    assert refused.headers["retry-after"] == "1"
    assert app.engine.stats.rejected == {"GET /block": 1}


async def test_full_queue_refuses_def_routes_with_sync_dependencies() -> None:
    app = App(sync_workers=1, sync_queue_limit=0, loop_block_threshold=None)
    release = threading.Event()

    def wait_for_release() -> Iterator[None]:
        release.wait(5)
        yield

    @app.get("/deps")
    def with_deps(_: None = Depends(wait_for_release)) -> str:
        return "done"

    async with AsyncTestClient(app) as client:
        running = asyncio.ensure_future(client.get("/deps"))
        await asyncio.sleep(0.05)
        refused = await client.get("/deps")
        release.set()
        assert (await running).status_code == 200
    assert refused.status_code == 503
    assert app.engine.stats.rejected == {"GET /deps": 1}


def test_stop_signals_are_noted_and_passed_on() -> None:
    seen: list[str] = []
    previous = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}

    def server_handler(signum: int, frame: object) -> None:
        seen.append(f"server {signal.Signals(signum).name}")

    try:
        signal.signal(signal.SIGINT, signal.default_int_handler)
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        assert not watch_stop_signals(lambda: seen.append("noted"))  # Python's defaults
        signal.signal(signal.SIGTERM, server_handler)
        assert watch_stop_signals(lambda: seen.append("noted"))
        assert watch_stop_signals(lambda: seen.append("noted again"))  # rewraps, not stacks
        signal.raise_signal(signal.SIGTERM)
        assert seen == ["noted again", "server SIGTERM"]
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
