"""Dependencies with `yield`: cleanup after the response (request scope) or after the
handler (function scope), in reverse order, seeing the request's exception; never
deadlocking a saturated pool; the documented order with background tasks."""

import asyncio
import logging
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import pytest

from ambi import App, BackgroundTasks, Depends, HTTPException, StreamingResponse
from ambi.testing import AsyncTestClient, TestClient

ClientFor = Callable[..., TestClient]
MakeHandler = Callable[[Callable[..., Any]], Callable[..., Any]]


def recorder(events: list[str], name: str, kind: str) -> Callable[..., Any]:
    """A sync or async generator dependency that records its enter / exit / error."""
    if kind == "sync":

        def sync_dep() -> Iterator[str]:
            events.append(f"enter {name}")
            try:
                yield name
            except Exception as exc:
                events.append(f"error {name}: {exc}")
                raise
            finally:
                events.append(f"exit {name}")

        return sync_dep

    async def async_dep() -> AsyncIterator[str]:
        events.append(f"enter {name}")
        try:
            yield name
        except Exception as exc:
            events.append(f"error {name}: {exc}")
            raise
        finally:
            events.append(f"exit {name}")

    return async_dep


@pytest.fixture(params=["sync", "async"])
def dep_kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def test_cleanup_runs_after_the_response_in_reverse_order(
    app: App, client_for: ClientFor, make_handler: MakeHandler, dep_kind: str
) -> None:
    events: list[str] = []
    first = recorder(events, "first", dep_kind)
    second = recorder(events, "second", "async" if dep_kind == "sync" else "sync")

    def handler(a: str = Depends(first), b: str = Depends(second)) -> StreamingResponse:
        def body() -> Iterator[bytes]:
            events.append("streaming")  # the resources are still open while sending
            yield f"{a}+{b}".encode()

        return StreamingResponse(body())

    app.get("/stream")(make_handler(handler))
    assert client_for(app).get("/stream").text == "first+second"
    assert events == ["enter first", "enter second", "streaming", "exit second", "exit first"]


def test_function_scope_exits_before_the_response_is_sent(
    app: App, client_for: ClientFor, make_handler: MakeHandler, dep_kind: str
) -> None:
    events: list[str] = []
    scoped = recorder(events, "scoped", dep_kind)

    def handler(a: str = Depends(scoped, scope="function")) -> StreamingResponse:
        def body() -> Iterator[bytes]:
            events.append("streaming")
            yield a.encode()

        return StreamingResponse(body())

    app.get("/scoped")(make_handler(handler))
    assert client_for(app).get("/scoped").text == "scoped"
    assert events == ["enter scoped", "exit scoped", "streaming"]


def test_the_exception_is_visible_inside_the_generator(
    app: App, client_for: ClientFor, make_handler: MakeHandler, dep_kind: str
) -> None:
    events: list[str] = []
    dep = recorder(events, "db", dep_kind)

    def handler(db: str = Depends(dep)) -> None:
        raise HTTPException(409, "conflict")

    app.get("/fails")(make_handler(handler))
    response = client_for(app).get("/fails")
    assert (response.status_code, response.json()) == (409, {"detail": "conflict"})
    assert events == ["enter db", "error db: 409: conflict", "exit db"]


def test_a_later_dependency_failing_still_cleans_up_the_earlier_ones(
    app: App, client_for: ClientFor, dep_kind: str
) -> None:
    events: list[str] = []
    dep = recorder(events, "db", dep_kind)

    def broken(db: str = Depends(dep)) -> None:
        raise HTTPException(401)

    @app.get("/later")
    async def handler(x: None = Depends(broken)) -> str:
        return "unreachable"

    assert client_for(app).get("/later").status_code == 401
    assert events == ["enter db", "error db: 401: Unauthorized", "exit db"]


def test_a_function_scoped_cleanup_can_change_the_response(
    app: App, client_for: ClientFor, dep_kind: str
) -> None:
    if dep_kind == "sync":

        def guard() -> Iterator[None]:
            try:
                yield
            except KeyError:
                raise HTTPException(404, "not found") from None

    else:

        async def guard() -> AsyncIterator[None]:  # type: ignore[misc]
            try:
                yield
            except KeyError:
                raise HTTPException(404, "not found") from None

    @app.get("/lookup")
    def handler(x: None = Depends(guard, scope="function")) -> Any:
        return {}["missing"]

    response = client_for(app).get("/lookup")
    assert (response.status_code, response.json()) == (404, {"detail": "not found"})


def test_an_error_in_cleanup_after_the_response_is_logged_and_changes_nothing(
    app: App, client_for: ClientFor, caplog: pytest.LogCaptureFixture, dep_kind: str
) -> None:
    if dep_kind == "sync":

        def leaky() -> Iterator[str]:
            yield "x"
            raise RuntimeError("cleanup broke")

    else:

        async def leaky() -> AsyncIterator[str]:  # type: ignore[misc]
            yield "x"
            raise RuntimeError("cleanup broke")

    @app.get("/leaky")
    def handler(x: str = Depends(leaky)) -> dict[str, str]:
        return {"x": x}

    with caplog.at_level(logging.ERROR, logger="ambi.app"):
        response = client_for(app).get("/leaky")
    assert (response.status_code, response.json()) == (200, {"x": "x"})
    failures = [r for r in caplog.records if "dependency cleanup failed" in r.getMessage()]
    assert len(failures) == 1
    assert "GET /leaky" in failures[0].getMessage()
    assert failures[0].exc_info is not None


def test_background_tasks_run_before_cleanup_and_can_use_the_resource(
    app: App, client_for: ClientFor, make_handler: MakeHandler, dep_kind: str
) -> None:
    events: list[str] = []
    dep = recorder(events, "session", dep_kind)

    def use(session: str) -> None:
        events.append(f"task uses {session}")

    def handler(tasks: BackgroundTasks, session: str = Depends(dep)) -> str:
        tasks.add_task(use, session)
        events.append("handler")
        return "ok"

    app.get("/order")(make_handler(handler))
    assert client_for(app).get("/order").text == "ok"
    assert events == ["enter session", "handler", "task uses session", "exit session"]


async def test_cleanup_never_deadlocks_a_saturated_pool() -> None:
    """FastAPI #3205: 20 concurrent requests, 2 workers, a def handler whose def generator
    dependency holds a resource: all complete."""
    app = App(sync_workers=2)
    held = 0

    def resource() -> Iterator[int]:
        nonlocal held
        held += 1
        try:
            yield held
        finally:
            held -= 1

    @app.get("/work")
    def handler(r: int = Depends(resource)) -> int:
        return r

    async with AsyncTestClient(app) as client:
        responses = await asyncio.wait_for(
            asyncio.gather(*(client.get("/work") for _ in range(20))), timeout=10
        )
    assert [r.status_code for r in responses] == [200] * 20
    assert held == 0
