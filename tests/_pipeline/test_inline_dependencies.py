"""Sync dependencies, a sync handler and their cleanup under adaptive inline: timed in the
pool, inline on the loop only once proven trivial (each trip judged on its own), with the
cleanup still after the response, last first, errors thrown in and logged."""

import asyncio
import logging
import threading
import time
from collections.abc import Iterator

import pytest

from ambi import App, Depends, HTTPException, StreamingResponse
from ambi.testing import AsyncTestClient

AFTER = 3  # calls under the threshold before a trip is promoted


def fast_app() -> App:
    return App(inline_threshold=0.05, inline_after=AFTER, inline_stall_limit=0.5)


async def test_trivial_dependencies_and_their_cleanup_run_inline_once_proven() -> None:
    app = fast_app()
    events: list[tuple[str, bool]] = []
    loop_thread = threading.get_ident()

    def on_loop() -> bool:
        return threading.get_ident() == loop_thread

    def user() -> str:
        events.append(("user", on_loop()))
        return "bob"

    def session() -> Iterator[str]:
        events.append(("enter", on_loop()))
        try:
            yield "db"
        finally:
            events.append(("exit", on_loop()))

    @app.get("/deps-sync")
    def handler(u: str = Depends(user), db: str = Depends(session)) -> StreamingResponse:
        events.append(("handler", on_loop()))

        def body() -> Iterator[bytes]:
            events.append(("streaming", on_loop()))
            yield f"{u}+{db}".encode()

        return StreamingResponse(body())

    async with AsyncTestClient(app) as client:
        runs = []
        for _ in range(AFTER + 2):
            events.clear()
            assert (await client.get("/deps-sync")).text == "bob+db"
            runs.append(list(events))
    names = ["user", "enter", "handler", "streaming", "exit"]
    for run in runs:  # the documented order, every time: cleanup after the body was sent
        assert [name for name, _ in run] == names
    # Proving: in the pool; promoted: on the loop (the streamed body is iterated in the
    # pool either way: it is a sync iterator, and not a route trip).
    assert all(not inline for run in runs[:AFTER] for _, inline in run)
    assert [inline for _, inline in runs[-1]] == [True, True, True, False, True]


async def test_a_slow_dependency_keeps_the_trip_in_the_pool() -> None:
    app = fast_app()
    loop_thread = threading.get_ident()
    seen: list[bool] = []

    def slow() -> Iterator[None]:
        time.sleep(0.06)  # over the threshold: never proven trivial
        seen.append(threading.get_ident() == loop_thread)
        yield

    @app.get("/slow")
    def handler(_: None = Depends(slow)) -> str:
        seen.append(threading.get_ident() == loop_thread)
        return "ok"

    async with AsyncTestClient(app) as client:
        for _ in range(AFTER + 2):
            assert (await client.get("/slow")).text == "ok"
    assert seen == [False] * 2 * (AFTER + 2)


async def test_a_route_pinned_to_the_pool_keeps_its_dependencies_there() -> None:
    app = fast_app()
    loop_thread = threading.get_ident()
    seen: list[bool] = []

    def dep() -> Iterator[None]:
        seen.append(threading.get_ident() == loop_thread)
        yield
        seen.append(threading.get_ident() == loop_thread)

    @app.get("/pooled", run="thread")
    def handler(_: None = Depends(dep)) -> str:
        return "ok"

    async with AsyncTestClient(app) as client:
        for _ in range(AFTER + 2):
            assert (await client.get("/pooled")).text == "ok"
    assert seen == [False] * 2 * (AFTER + 2)


async def test_inline_cleanup_sees_the_error_and_logs_its_own(
    caplog: pytest.LogCaptureFixture,
) -> None:
    app = fast_app()
    loop_thread = threading.get_ident()
    events: list[str] = []

    def outer() -> Iterator[None]:
        try:
            yield
        finally:
            events.append(f"outer exit, inline={threading.get_ident() == loop_thread}")

    def inner(_: None = Depends(outer)) -> Iterator[None]:
        try:
            yield
        except HTTPException as exc:
            events.append(f"inner saw {exc.status_code}")
            raise RuntimeError("cleanup failed") from None

    @app.get("/fails")
    def handler(_: None = Depends(inner)) -> None:
        raise HTTPException(409, "conflict")

    async with AsyncTestClient(app) as client:
        for _ in range(AFTER + 1):
            caplog.clear()
            events.clear()
            with caplog.at_level(logging.ERROR, logger="ambi.app"):
                response = await client.get("/fails")
                await asyncio.sleep(0)
            assert response.status_code == 409
            assert "dependency cleanup failed in GET /fails" in caplog.text
    assert events == ["inner saw 409", "outer exit, inline=True"]
