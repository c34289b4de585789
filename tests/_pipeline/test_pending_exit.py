"""A route's one `def` dependency with `yield`, left on the request as a pair rather than an
`AfterResponse` (`PendingExit`): once its cleanup runs inline, every guarantee still holds
(after the response, the request's exception thrown in, failures logged, a slow cleanup
sent back to the pool, background tasks first, its context variables kept to itself), and
a WebSocket route holding one runs it too; an async one is resumed as `close_exits` does;
over ASGI and RSGI."""

import asyncio
import contextvars
import logging
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import pytest

from ambi import App, BackgroundTasks, Depends, HTTPException, WebSocket
from ambi.testing import AsyncTestClient, TestClient

AFTER = 3  # calls under the threshold before a trip (and the cleanup) is promoted
ClientFor = Callable[..., TestClient]

seen: contextvars.ContextVar[str] = contextvars.ContextVar("seen", default="-")


def fast_app() -> App:
    return App(inline_threshold=0.05, inline_after=AFTER, inline_stall_limit=0.25)


def on_loop(loop_thread: int) -> bool:
    return threading.get_ident() == loop_thread


async def requests(client: AsyncTestClient, path: str, n: int) -> list[Any]:
    """`n` GETs, each given a turn of the loop after its response (cleanup done)."""
    responses = []
    for _ in range(n):
        responses.append(await client.get(path))
        await asyncio.sleep(0)
    return responses


async def test_inline_cleanup_sees_the_handlers_exception(interface: str) -> None:
    app = fast_app()
    loop_thread = threading.get_ident()
    events: list[tuple[str, bool]] = []

    def session() -> Iterator[str]:
        try:
            yield "db"
        except HTTPException as exc:
            events.append((f"saw {exc.status_code}", on_loop(loop_thread)))
            raise
        events.append(("clean exit", on_loop(loop_thread)))

    @app.get("/maybe")
    def handler(fail: bool = False, db: str = Depends(session)) -> str:
        if fail:
            raise HTTPException(409, "conflict")
        return db

    async with AsyncTestClient(app, interface=interface) as client:  # type: ignore[arg-type]
        await requests(client, "/maybe", AFTER + 1)
        events.clear()
        assert (await client.get("/maybe?fail=true")).status_code == 409
        await asyncio.sleep(0)
        assert (await client.get("/maybe")).text == "db"
        await asyncio.sleep(0)
    assert events == [("saw 409", True), ("clean exit", True)]


async def test_inline_cleanup_failures_are_logged_and_change_nothing(
    interface: str, caplog: pytest.LogCaptureFixture
) -> None:
    app = fast_app()
    closed: list[str] = []
    state = {"mode": "ok"}

    def session() -> Iterator[str]:
        try:
            yield "db"
            if state["mode"] == "raise":
                raise RuntimeError("cleanup broke")
            if state["mode"] == "twice":
                yield "again"
        finally:
            closed.append(state["mode"])

    @app.get("/db")
    def handler(db: str = Depends(session)) -> str:
        return db

    async with AsyncTestClient(app, interface=interface) as client:  # type: ignore[arg-type]
        await requests(client, "/db", AFTER + 1)
        for mode, logged in (("raise", "cleanup broke"), ("twice", "yielded more than once")):
            state["mode"] = mode
            caplog.clear()
            with caplog.at_level(logging.ERROR, logger="ambi.app"):
                [response] = await requests(client, "/db", 1)
            assert (response.status_code, response.text) == (200, "db")
            [record] = [r for r in caplog.records if "dependency cleanup failed" in r.message]
            assert "GET /db" in record.message
            assert record.exc_info is not None
            assert logged in str(record.exc_info[1])
    # The generator that yielded twice was closed (its `finally` ran).
    assert closed == ["ok"] * (AFTER + 1) + ["raise", "twice"]


async def test_a_slow_inline_cleanup_goes_back_to_the_pool(
    interface: str, caplog: pytest.LogCaptureFixture
) -> None:
    app = fast_app()
    loop_thread = threading.get_ident()
    exits: list[bool] = []
    delay = {"s": 0.0}

    def session() -> Iterator[str]:
        yield "db"
        time.sleep(delay["s"])
        exits.append(on_loop(loop_thread))

    @app.get("/slow-exit")
    def handler(db: str = Depends(session)) -> str:
        return db

    async with AsyncTestClient(app, interface=interface) as client:  # type: ignore[arg-type]
        await requests(client, "/slow-exit", AFTER + 1)
        assert exits[-1] is True  # promoted: inline
        delay["s"] = 0.3  # over the stall limit: demoted for good
        with caplog.at_level(logging.WARNING, logger="ambi.execution"):
            await requests(client, "/slow-exit", 1)
        delay["s"] = 0.0
        responses = await requests(client, "/slow-exit", 3)
        for _ in range(100):  # the pool's cleanup is done after the response
            if len(exits) == AFTER + 5:
                break
            await asyncio.sleep(0.01)
    assert [r.text for r in responses] == ["db"] * 3
    assert exits[AFTER:] == [True, True, False, False, False]
    assert "GET /slow-exit" in app.engine.stats.demoted
    assert any("stall limit" in r.message for r in caplog.records)


async def test_background_tasks_still_run_before_the_inline_cleanup(interface: str) -> None:
    app = fast_app()
    events: list[str] = []

    def session() -> Iterator[str]:
        yield "session"
        events.append("exit")

    def use(value: str) -> None:
        events.append(f"task uses {value}")

    @app.get("/tasks")
    def handler(tasks: BackgroundTasks, s: str = Depends(session), add: bool = False) -> str:
        if add:
            tasks.add_task(use, s)
        return s

    async with AsyncTestClient(app, interface=interface) as client:  # type: ignore[arg-type]
        await requests(client, "/tasks", AFTER + 1)
        events.clear()
        assert (await client.get("/tasks?add=true")).text == "session"
        for _ in range(100):
            if len(events) == 2:
                break
            await asyncio.sleep(0.01)
    assert events == ["task uses session", "exit"]


async def test_context_variables_set_in_an_inline_cleanup_stay_there(interface: str) -> None:
    app = fast_app()
    loop_thread = threading.get_ident()
    values: list[str] = []

    def session() -> Iterator[str]:
        values.append(seen.get())
        yield "db"
        if on_loop(loop_thread):
            seen.set("leaked from a cleanup")

    @app.get("/ctx")
    def handler(db: str = Depends(session)) -> str:
        return seen.get()

    async with AsyncTestClient(app, interface=interface) as client:  # type: ignore[arg-type]
        responses = await requests(client, "/ctx", AFTER + 4)
    assert [r.text for r in responses] == ["-"] * (AFTER + 4)
    assert values == ["-"] * (AFTER + 4)
    assert seen.get() == "-"


def test_a_websocket_route_runs_its_one_def_cleanup(client_for: ClientFor) -> None:
    log: list[str] = []

    def session() -> Iterator[str]:
        log.append("open")
        try:
            yield "db"
        finally:
            log.append("closed")

    app = App()

    @app.websocket("/ws")
    async def room(websocket: WebSocket, db: str = Depends(session)) -> None:
        await websocket.accept()
        await websocket.send_text(db)

    with client_for(app).websocket_connect("/ws") as ws:
        assert ws.receive_text() == "db"
    for _ in range(100):
        if log == ["open", "closed"]:
            break
        time.sleep(0.01)
    assert log == ["open", "closed"]


async def test_async_handlers_with_one_def_generator_clean_up_too(interface: str) -> None:
    app = fast_app()
    log: list[str] = []

    def session() -> Iterator[str]:
        yield "db"
        log.append("exit")

    async def user(db: str = Depends(session)) -> str:  # on the loop, after the trip
        return f"{db}+user"

    @app.get("/mixed")
    async def handler(u: str = Depends(user)) -> str:
        return u

    async with AsyncTestClient(app, interface=interface) as client:  # type: ignore[arg-type]
        responses = await requests(client, "/mixed", AFTER + 2)
        for _ in range(100):
            if len(log) == AFTER + 2:
                break
            await asyncio.sleep(0.01)
    assert [r.text for r in responses] == ["db+user"] * (AFTER + 2)
    assert log == ["exit"] * (AFTER + 2)


async def test_one_async_generator_cleanup_failures_are_logged(
    interface: str, caplog: pytest.LogCaptureFixture
) -> None:
    closed: list[str] = []
    state = {"mode": "ok"}

    async def session() -> AsyncIterator[str]:
        try:
            yield "db"
            if state["mode"] == "raise":
                raise RuntimeError("cleanup broke")
            if state["mode"] == "twice":
                yield "again"
        finally:
            closed.append(state["mode"])

    app = App()

    @app.get("/adb")
    async def handler(db: str = Depends(session)) -> str:
        return db

    async with AsyncTestClient(app, interface=interface) as client:  # type: ignore[arg-type]
        for mode, logged in (
            ("ok", None),
            ("raise", "cleanup broke"),
            ("twice", "yielded more than once"),
        ):
            state["mode"] = mode
            caplog.clear()
            with caplog.at_level(logging.ERROR, logger="ambi.app"):
                [response] = await requests(client, "/adb", 1)
                for _ in range(100):
                    if len(closed) == 1 + ["ok", "raise", "twice"].index(mode):
                        break
                    await asyncio.sleep(0.01)
            assert (response.status_code, response.text) == (200, "db")
            failures = [r for r in caplog.records if "dependency cleanup failed" in r.message]
            if logged is None:
                assert failures == []
                continue
            [record] = failures
            assert "GET /adb" in record.message
            assert record.exc_info is not None
            assert logged in str(record.exc_info[1])
    assert closed == ["ok", "raise", "twice"]
