"""Route and router middleware (ambi.middleware._route): only around the routes it is
given to, in the documented order, sync or async, seeing error responses."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

import pytest
from pydantic import BaseModel

from ambi import App, ConfigurationError, HTTPException, Request, Response, Router, WebSocket
from ambi.middleware import Middleware
from ambi.ratelimit import RateLimitConfig
from ambi.testing import AsyncTestClient, TestClient

Client = Callable[..., TestClient]


def tagging(name: str, log: list[str], kind: str = "async") -> Callable[..., Any]:
    """A middleware logging in/out and appending `name` to the `x-chain` header."""
    if kind == "async":

        async def amw(request: Request, call_next: Any) -> Response:
            log.append(f"{name} in")
            response: Response = await call_next(request)
            log.append(f"{name} out")
            response.headers.add("x-chain", name)
            return response

        amw.__name__ = name
        return amw

    def smw(request: Request, call_next: Any) -> Response:
        log.append(f"{name} in")
        response: Response = call_next(request)
        log.append(f"{name} out")
        response.headers.add("x-chain", name)
        return response

    smw.__name__ = name
    return smw


def test_only_around_the_routes_it_is_given_to(
    handler_kind: str, client_for: Client, make_handler: Any
) -> None:
    log: list[str] = []
    app = App()

    @app.get("/with", middleware=[tagging("route", log, handler_kind)])
    @make_handler
    def with_mw() -> str:
        log.append("handler")
        return "with"

    @app.get("/without")
    @make_handler
    def without() -> str:
        return "without"

    client = client_for(app)
    response = client.get("/with")
    assert (response.text, response.headers["x-chain"]) == ("with", "route")
    assert log == ["route in", "handler", "route out"]
    assert "x-chain" not in client.get("/without").headers
    assert "x-chain" not in client.get("/nowhere").headers  # a 404 reaches no route


def test_order_app_include_router_route(handler_kind: str, client_for: Client) -> None:
    log: list[str] = []
    app = App()
    app.middleware("http")(tagging("app", log, handler_kind))
    inner = Router(prefix="/inner", middleware=[tagging("inner-router", log, handler_kind)])

    @inner.get("/x", middleware=[tagging("route-1", log), tagging("route-2", log, handler_kind)])
    def x() -> str:
        log.append("handler")
        return "x"

    outer = Router(prefix="/outer", middleware=[tagging("outer-router", log)])
    outer.include_router(inner, middleware=[tagging("include-inner", log)])
    app.include_router(outer, middleware=[tagging("include-outer", log, handler_kind)])

    response = client_for(app).get("/outer/inner/x")
    assert response.status_code == 200
    order = ["app", "include-outer", "outer-router", "include-inner", "inner-router"]
    order += ["route-1", "route-2"]
    assert log == [f"{n} in" for n in order] + ["handler"] + [f"{n} out" for n in order[::-1]]
    # each appends on the way out: the innermost first
    assert response.headers.get_list("x-chain") == order[::-1]


class Item(BaseModel):
    name: str


def test_error_responses_pass_back_through(client_for: Client) -> None:
    log: list[str] = []
    app = App()
    mw = [tagging("route", log)]

    @app.post("/items", middleware=mw)
    def create(item: Item) -> Item:
        return item

    @app.get("/denied", middleware=mw, guards=[lambda request: False])
    def denied() -> str:
        return "never"

    @app.get("/limited", middleware=mw, rate_limit=RateLimitConfig.fixed_window(1, 60))
    def limited() -> str:
        return "ok"

    @app.get("/boom", middleware=mw)
    def boom() -> str:
        raise RuntimeError("boom")

    @app.get("/http-error", middleware=mw)
    async def http_error() -> str:
        raise HTTPException(409, "taken")

    client = client_for(app, raise_server_exceptions=False)
    statuses = []
    for method, url, kwargs in [
        ("POST", "/items", {"json": {"nope": 1}}),
        ("GET", "/denied", {}),
        ("GET", "/limited", {}),
        ("GET", "/limited", {}),
        ("GET", "/boom", {}),
        ("GET", "/http-error", {}),
    ]:
        response = client.request(method, url, **kwargs)
        statuses.append(response.status_code)
        assert response.headers["x-chain"] == "route", url
    assert statuses == [422, 403, 200, 429, 500, 409]
    assert client.post("/items", json={"name": "a"}).json() == {"name": "a"}


def test_middleware_answers_and_its_errors_go_to_the_exception_handlers(
    client_for: Client,
) -> None:
    class Refused(Exception):
        pass

    app = App()

    @app.exception_handler(Refused)
    def refused(request: Request, exc: Refused) -> Response:
        return Response("refused by handler", 418)

    async def short_circuit(request: Request, call_next: Any) -> Response:
        if request.query_params.get("raise"):
            raise Refused()
        return Response("answered by middleware", 203)

    ran: list[str] = []

    @app.get("/x", middleware=[short_circuit])
    def x() -> str:
        ran.append("handler")
        return "x"

    client = client_for(app)
    assert (client.get("/x").status_code, client.get("/x").text) == (203, "answered by middleware")
    assert client.get("/x?raise=1").status_code == 418
    assert ran == []


def test_class_middleware_instances_and_classes(client_for: Client) -> None:
    class Stamp(Middleware):
        def __init__(self, value: str = "default") -> None:
            self.value = value

        def dispatch(self, request: Request, call_next: Any) -> Response:  # sync: the pool
            response: Response = call_next(request)
            response.headers.add("x-stamp", self.value)
            return response

    app = App()
    app.get("/x", middleware=[Stamp("given"), Stamp])(lambda: "x")
    assert client_for(app).get("/x").headers.get_list("x-stamp") == ["default", "given"]


def test_mistakes_raise_at_registration() -> None:
    class ASGIMiddleware:
        def __init__(self, app: Any) -> None:
            self.app = app

    class NeedsOption(Middleware):
        def __init__(self, value: str) -> None:
            self.value = value

        async def dispatch(self, request: Request, call_next: Any) -> Response:
            return await call_next(request)  # type: ignore[no-any-return]

    app = App()
    with pytest.raises(ConfigurationError, match=r"app\.add_middleware\(ASGIMiddleware"):
        app.get("/a", middleware=[ASGIMiddleware])(lambda: "a")
    with pytest.raises(ConfigurationError, match="NeedsOption does not take these options"):
        app.get("/b", middleware=[NeedsOption])(lambda: "b")
    with pytest.raises(ConfigurationError, match=r"must take \(request, call_next\)"):
        app.get("/c", middleware=[lambda request: None])(lambda: "c")
    with pytest.raises(ConfigurationError, match="list of middleware"):
        Router(middleware=tagging("x", []))  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError, match="list of middleware"):
        app.include_router(Router(), middleware="mw")  # type: ignore[arg-type]

    async def ws(websocket: WebSocket) -> None: ...

    with pytest.raises(ConfigurationError, match="unknown websocket route option"):
        app.add_websocket_route("/ws", ws, middleware=[tagging("x", [])])  # type: ignore[call-arg]


def test_a_route_without_middleware_has_no_layer() -> None:
    app = App()
    app.get("/plain")(lambda: "plain")
    app.get("/wrapped", middleware=[tagging("x", [])])(lambda: "wrapped")
    app.freeze()
    plain, wrapped = app.compiled
    assert plain.handle == plain._plain_bare  # nothing in front of the handler
    assert wrapped.handle != wrapped._plain_bare


def test_sync_route_middleware_cannot_exhaust_the_pool() -> None:
    """Two pool threads; each request holds one in the route's sync middleware while its
    sync handler needs another: admission keeps 12 concurrent requests moving."""
    app = App(sync_workers=2)

    def hold(request: Request, call_next: Any) -> Response:
        time.sleep(0.01)
        return call_next(request)  # type: ignore[no-any-return]

    @app.get("/", middleware=[hold])
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
