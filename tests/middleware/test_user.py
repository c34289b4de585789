"""Middleware users write: functions, ambi classes, before/after hooks, sync and async."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable
from typing import Any

import pytest

from ambi import App, ConfigurationError, JSONResponse, Request, Response, StreamingResponse
from ambi.middleware import Middleware
from ambi.testing import AsyncTestClient, TestClient

Client = Callable[..., TestClient]


def _mw(kind: str, header: str, log: list[str]) -> Callable[..., Any]:
    """A middleware of `kind` that logs in/out and sets `header` on the response."""
    if kind == "async":

        async def amw(request: Request, call_next: Any) -> Response:
            log.append(f"{header} in")
            response: Response = await call_next(request)
            log.append(f"{header} out")
            response.headers[header] = "1"
            return response

        return amw

    def smw(request: Request, call_next: Any) -> Response:
        assert threading.current_thread() is not threading.main_thread()
        log.append(f"{header} in")
        response: Response = call_next(request)
        log.append(f"{header} out")
        response.headers[header] = "1"
        return response

    return smw


def test_function_middleware_wraps_every_response(
    handler_kind: str, client_for: Client, make_handler: Any
) -> None:
    app = App()
    log: list[str] = []
    app.middleware("http")(_mw(handler_kind, "x-one", log))

    @app.get("/hello")
    @make_handler
    def hello() -> dict[str, str]:
        log.append("handler")
        return {"hello": "world"}

    client = client_for(app)
    response = client.get("/hello")
    assert response.json() == {"hello": "world"}
    assert response.headers["x-one"] == "1"
    assert log == ["x-one in", "handler", "x-one out"]
    assert client.get("/missing").headers["x-one"] == "1"  # 404s pass through it too


@pytest.mark.parametrize("kinds", [("async", "sync"), ("sync", "async"), ("sync", "sync")])
def test_last_registered_is_outermost(kinds: tuple[str, str], client_for: Client) -> None:
    app = App()
    log: list[str] = []
    app.middleware("http")(_mw(kinds[0], "x-first", log))
    app.middleware("http")(_mw(kinds[1], "x-second", log))
    app.get("/")(lambda: "ok")
    response = client_for(app).get("/")
    assert response.headers["x-first"] == response.headers["x-second"] == "1"
    assert log == ["x-second in", "x-first in", "x-first out", "x-second out"]


def test_middleware_can_answer_without_calling_next(handler_kind: str, client_for: Client) -> None:
    app = App()
    seen: list[str] = []

    if handler_kind == "async":

        @app.middleware("http")
        async def gate(request: Request, call_next: Any) -> Response:
            if request.headers.get("x-key") != "secret":
                return JSONResponse({"detail": "no key"}, 401)
            return await call_next(request)  # type: ignore[no-any-return]
    else:

        @app.middleware("http")
        def gate(request: Request, call_next: Any) -> Response:
            if request.headers.get("x-key") != "secret":
                return JSONResponse({"detail": "no key"}, 401)
            return call_next(request)  # type: ignore[no-any-return]

    @app.get("/")
    def index() -> str:
        seen.append("handler")
        return "ok"

    client = client_for(app)
    assert client.get("/").status_code == 401
    assert seen == []
    assert client.get("/", headers={"x-key": "secret"}).text == "ok"


def test_exceptions_in_middleware_go_through_exception_handlers(
    handler_kind: str, client_for: Client
) -> None:
    app = App()

    class Teapot(Exception):
        pass

    @app.exception_handler(Teapot)
    def teapot(request: Request, exc: Teapot) -> Response:
        return JSONResponse({"detail": "teapot"}, 418)

    if handler_kind == "async":

        @app.middleware("http")
        async def boom(request: Request, call_next: Any) -> Response:
            raise Teapot
    else:

        @app.middleware("http")
        def boom(request: Request, call_next: Any) -> Response:
            raise Teapot

    @app.middleware("http")
    async def outer(request: Request, call_next: Any) -> Response:
        response: Response = await call_next(request)
        response.headers["x-outer"] = "seen"
        return response

    app.get("/")(lambda: "ok")
    response = client_for(app).get("/")
    assert response.status_code == 418
    assert response.json() == {"detail": "teapot"}
    assert response.headers["x-outer"] == "seen"  # middleware outside the failing one still runs


def test_unhandled_error_in_middleware_is_a_500(client_for: Client) -> None:
    app = App()

    @app.middleware("http")
    async def broken(request: Request, call_next: Any) -> Any:
        return {"not": "a response"}

    app.get("/")(lambda: "ok")
    response = client_for(app, raise_server_exceptions=False).get("/")
    assert response.status_code == 500
    assert response.json() == {"detail": "Internal Server Error"}


class Stamp(Middleware):
    def __init__(self, header: str, value: str = "1") -> None:
        self.header = header
        self.value = value

    async def dispatch(self, request: Request, call_next: Any) -> Response:
        response: Response = await call_next(request)
        response.headers[self.header] = self.value
        return response


class SyncStamp(Middleware):
    def __init__(self, header: str) -> None:
        self.header = header

    def dispatch(self, request: Request, call_next: Any) -> Response:
        response: Response = call_next(request)
        response.headers[self.header] = threading.current_thread().name
        return response


def test_class_middleware_with_options(client_for: Client) -> None:
    app = App()
    app.add_middleware(Stamp, header="x-stamp", value="yes")
    app.add_middleware(SyncStamp, header="x-thread")
    app.get("/")(lambda: "ok")
    response = client_for(app).get("/")
    assert response.headers["x-stamp"] == "yes"
    assert response.headers["x-thread"].startswith("ambi-worker")


def test_class_middleware_mistakes_raise_at_registration() -> None:
    app = App()
    with pytest.raises(ConfigurationError, match="does not take these options"):
        app.add_middleware(Stamp, colour="blue")

    class Empty(Middleware):
        pass

    with pytest.raises(ConfigurationError, match="must define dispatch"):
        app.add_middleware(Empty)
    with pytest.raises(ConfigurationError, match="takes a class"):
        app.add_middleware(lambda request, call_next: None)  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError, match="request, call_next"):
        app.middleware("http")(lambda: None)
    with pytest.raises(ConfigurationError, match='only "http"'):
        app.middleware("websocket")  # type: ignore[arg-type]


def test_before_and_after_hooks(handler_kind: str, client_for: Client, make_handler: Any) -> None:
    app = App()
    log: list[str] = []

    @app.before_request
    @make_handler
    def first(request: Request) -> None:
        log.append("before 1")

    @app.before_request
    @make_handler
    def second() -> Any:
        log.append("before 2")
        return None

    @app.after_request
    @make_handler
    def after_one(request: Request, response: Response) -> None:
        log.append("after 1")
        response.headers["x-after"] = "1"

    @app.after_request
    @make_handler
    def after_two(response: Response) -> None:
        log.append("after 2")

    app.get("/")(lambda: "ok")
    response = client_for(app).get("/")
    assert response.text == "ok"
    assert response.headers["x-after"] == "1"
    # before hooks in registration order, after hooks in reverse (as in Flask)
    assert log == ["before 1", "before 2", "after 2", "after 1"]


def test_before_hook_short_circuits_and_after_hook_replaces(client_for: Client) -> None:
    app = App()
    handled: list[str] = []

    @app.before_request
    def maintenance(request: Request) -> Any:
        if request.path == "/down":
            return {"detail": "maintenance"}, 503
        return None

    @app.after_request
    async def rewrite(request: Request, response: Response) -> Response | None:
        if response.status_code == 404:
            return JSONResponse({"detail": "nothing here"}, 404)
        return None

    @app.get("/down")
    def down() -> str:
        handled.append("down")
        return "up"

    client = client_for(app)
    response = client.get("/down")
    assert (response.status_code, response.json()) == (503, {"detail": "maintenance"})
    assert handled == []
    assert client.get("/nowhere").json() == {"detail": "nothing here"}


def test_hook_signatures_are_checked() -> None:
    app = App()
    with pytest.raises(ConfigurationError, match="before_request hook"):
        app.before_request(lambda a, b, c: None)
    with pytest.raises(ConfigurationError, match="after_request hook"):
        app.after_request(lambda: None)


def test_after_hook_sees_error_responses(client_for: Client) -> None:
    app = App()
    statuses: list[int] = []
    app.after_request(lambda response: statuses.append(response.status_code))

    @app.get("/boom")
    def boom() -> None:
        raise RuntimeError("no")

    client = client_for(app, raise_server_exceptions=False)
    client.get("/boom")
    client.post("/boom")
    assert statuses == [500, 405]


def test_streaming_passes_through_without_buffering(client_for: Client) -> None:
    app = App()
    events: list[str] = []

    @app.middleware("http")
    async def watch(request: Request, call_next: Any) -> Response:
        response: Response = await call_next(request)
        events.append("middleware returned")
        return response

    @app.get("/stream")
    async def stream() -> StreamingResponse:
        async def body() -> Any:
            for i in range(3):
                events.append(f"chunk {i}")
                yield f"{i}\n"

        return StreamingResponse(body(), media_type="text/plain")

    assert client_for(app).get("/stream").text == "0\n1\n2\n"
    assert events == ["middleware returned", "chunk 0", "chunk 1", "chunk 2"]


def test_sync_middleware_cannot_exhaust_the_pool() -> None:
    """Two pool threads, a sync middleware that holds one while the sync handler needs
    another: without admission control 2 concurrent requests would wait forever."""
    app = App(sync_workers=2)

    @app.middleware("http")
    def hold(request: Request, call_next: Any) -> Response:
        time.sleep(0.01)
        return call_next(request)  # type: ignore[no-any-return]

    @app.get("/")
    def index() -> str:
        time.sleep(0.01)
        return "ok"

    async def run() -> list[int]:
        async with AsyncTestClient(app) as client:
            responses = await asyncio.wait_for(
                asyncio.gather(*(client.get("/") for _ in range(12))), timeout=20
            )
        return [r.status_code for r in responses]

    assert asyncio.run(run()) == [200] * 12


def test_nothing_registered_costs_nothing() -> None:
    app = App()
    app.get("/")(lambda: "ok")
    app.freeze()
    assert app.dispatch == app._route  # no chain at all: routing straight away


def test_middleware_after_startup_is_refused(client_for: Client) -> None:
    app = App()
    app.get("/")(lambda: "ok")
    client_for(app)
    with pytest.raises(ConfigurationError, match="before the app starts"):
        app.middleware("http")(_mw("async", "x", []))
    with pytest.raises(ConfigurationError, match="before the app starts"):
        app.enable_cors()


def test_applies_without_startup() -> None:
    """A test client used without `with` never runs startup: the first request puts the
    app together, middleware included."""
    app = App()
    app.middleware("http")(_mw("async", "x-mw", []))
    app.get("/")(lambda: "ok")
    for interface in ("asgi", "rsgi"):
        client = TestClient(app, interface=interface)  # type: ignore[arg-type]
        assert client.get("/").headers["x-mw"] == "1"
        client.close()


def test_failing_hooks_become_error_responses(client_for: Client) -> None:
    app = App()

    @app.before_request
    def guard(request: Request) -> None:
        if request.path == "/before":
            raise PermissionError("no")

    @app.after_request
    def after(request: Request, response: Response) -> Any:
        if request.path == "/after":
            raise LookupError("after failed")
        if request.path == "/wrong":
            return "not a response"
        return None

    app.exception_handler(PermissionError)(lambda request, exc: JSONResponse({"d": "denied"}, 403))
    for path in ("/before", "/after", "/wrong"):
        app.get(path)(lambda: "ok")
    client = client_for(app, raise_server_exceptions=False)
    assert client.get("/before").status_code == 403
    assert client.get("/after").status_code == 500
    assert client.get("/wrong").status_code == 500
