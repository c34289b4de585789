"""The loop-blocking detector, on asyncio and uvloop, alone and inside an app."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Coroutine, Mapping
from typing import Any

import pytest
import uvloop

from ambi import App
from ambi.execution import Engine, LoopBlock, RunningRoute, running_route
from ambi.testing import AsyncTestClient, LoopBlockedError, TestClient

LOOPS: dict[str, Callable[[], asyncio.AbstractEventLoop]] = {
    "asyncio": asyncio.new_event_loop,
    "uvloop": uvloop.new_event_loop,
}


def run_on(loop_name: str, main: Callable[[], Coroutine[Any, Any, None]]) -> None:
    loop = LOOPS[loop_name]()
    try:
        loop.run_until_complete(main())
    finally:
        loop.close()


def _describe(frame: Mapping[str, Any]) -> RunningRoute:
    return RunningRoute("GET /served", "GET", frame["path"])


@running_route(_describe)
async def serve(path: str, work: Callable[[], None]) -> None:
    work()
    await asyncio.sleep(0)


@pytest.mark.parametrize("loop_name", list(LOOPS))
def test_a_stall_is_reported_once_with_route_and_stack(loop_name: str) -> None:
    blocks: list[LoopBlock] = []

    async def main() -> None:
        engine = Engine(block_threshold=0.05)
        engine.start()
        assert engine.watchdog is not None
        engine.watchdog.listeners.append(blocks.append)
        try:
            await asyncio.sleep(0.1)  # idle: no report
            assert blocks == []
            await serve("/served?x=1", lambda: time.sleep(0.3))  # one long stall
            await asyncio.sleep(0.1)
        finally:
            engine.stop()
        assert engine.stats.loop_blocks["GET /served"] == 1

    run_on(loop_name, main)
    # (only the stall of the route: on a busy shared machine the OS may stall the loop too)
    served = [b for b in blocks if b.running is not None]
    assert len(served) == 1
    block = served[0]
    assert block.running == RunningRoute("GET /served", "GET", "/served?x=1")
    assert 0.05 < block.seconds < 0.3
    assert "time.sleep(0.3)" in block.stack
    assert "in serve" in block.stack


@pytest.mark.parametrize("loop_name", list(LOOPS))
def test_busy_but_turning_loop_is_not_a_stall(loop_name: str) -> None:
    blocks: list[LoopBlock] = []

    async def main() -> None:
        engine = Engine(block_threshold=0.15)  # (10 ms steps: far below it, even on a busy machine)
        engine.start()
        assert engine.watchdog is not None
        engine.watchdog.listeners.append(blocks.append)
        try:
            deadline = time.monotonic() + 0.4
            while time.monotonic() < deadline:  # 10 ms of work, then a turn of the loop
                time.sleep(0.01)
                await asyncio.sleep(0)
        finally:
            engine.stop()

    run_on(loop_name, main)
    assert blocks == []


def test_outside_a_route() -> None:
    blocks: list[LoopBlock] = []

    async def main() -> None:
        engine = Engine(block_threshold=0.05)
        engine.start()
        assert engine.watchdog is not None
        engine.watchdog.listeners.append(blocks.append)
        try:
            time.sleep(0.2)
            await asyncio.sleep(0.05)
        finally:
            engine.stop()

    run_on("asyncio", main)
    assert [b.route for b in blocks] == ["(no route)"]
    assert "outside any route" in blocks[0].describe()


def blocking_app(**kwargs: Any) -> App:
    app = App(**kwargs)

    @app.get("/block")
    async def block() -> dict[str, bool]:
        time.sleep(0.25)  # the mistake: a blocking call inside async def
        return {"blocked": True}

    @app.get("/fine")
    async def fine() -> dict[str, bool]:
        await asyncio.sleep(0.25)
        return {"blocked": False}

    @app.get("/sync")
    def sync() -> dict[str, bool]:
        time.sleep(0.25)  # fine: a def handler runs in the pool
        return {"blocked": False}

    return app


def test_the_app_names_the_route_method_and_path(
    interface: str, caplog: pytest.LogCaptureFixture
) -> None:
    app = blocking_app()
    with TestClient(app, interface=interface) as client, caplog.at_level(logging.WARNING):
        assert client.get("/block?q=1").status_code == 200
        assert client.get("/fine").status_code == 200
        assert client.get("/sync").status_code == 200
    assert app.engine.stats.loop_blocks == {"GET /block": 1}
    warnings = [
        r.getMessage() for r in caplog.records if "event loop was blocked" in r.getMessage()
    ]
    assert len(warnings) == 1
    assert "by GET /block (route GET /block)" in warnings[0]
    assert "time.sleep(0.25)" in warnings[0]


def test_strict_mode_fails_the_request_that_blocked(interface: str) -> None:
    with TestClient(blocking_app(), interface=interface, strict=True) as client:
        assert client.get("/fine").status_code == 200
        assert client.get("/sync").status_code == 200
        with pytest.raises(LoopBlockedError, match="GET /block"):
            client.get("/block")
        assert client.get("/fine").status_code == 200  # the next request is judged anew


def test_strict_mode_without_the_lifespan() -> None:
    client = TestClient(blocking_app(), strict=True)
    try:
        with pytest.raises(LoopBlockedError):
            client.get("/block")
    finally:
        client.close()


async def test_strict_mode_async_client() -> None:
    async with AsyncTestClient(blocking_app(), strict=True) as client:
        assert (await client.get("/fine")).status_code == 200
        with pytest.raises(LoopBlockedError):
            await client.get("/block")


async def test_strict_mode_sees_a_stall_just_over_the_threshold() -> None:
    """A stall that ends before the watchdog thread looks is still caught (settle())."""
    app = App(loop_block_threshold=0.05)

    @app.get("/short")
    async def short() -> None:
        time.sleep(0.06)  # over the threshold by more than strict mode's period (5 ms)

    caught = 0
    async with AsyncTestClient(app, strict=True) as client:
        for _ in range(10):
            try:
                await client.get("/short")
            except LoopBlockedError:
                caught += 1
            await asyncio.sleep(0.03)  # let the loop turn: the next stall is a new one
    assert caught == 10


def test_strict_mode_needs_the_detector() -> None:
    from ambi.exceptions import ConfigurationError

    with pytest.raises(ConfigurationError, match="loop_block_threshold"):
        TestClient(App(loop_block_threshold=None), strict=True)


def test_off() -> None:
    app = blocking_app(loop_block_threshold=None)
    with TestClient(app) as client:
        assert client.get("/block").status_code == 200
    assert app.engine.watchdog is None
    assert app.engine.stats.loop_blocks == {}
