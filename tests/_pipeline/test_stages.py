"""Feature stages: put into the pipeline of the routes they apply to when the app starts,
in their documented order, and into nothing else."""

from collections.abc import Callable
from typing import Any

import pytest

from ambi import App, ConfigurationError, JSONResponse, Request, Response
from ambi._pipeline import CompiledRoute, Next, StageOrder, Wrapper
from ambi.testing import TestClient

ClientFor = Callable[..., TestClient]


def test_stages_wrap_the_routes_they_choose_in_order(app: App, client_for: ClientFor) -> None:
    seen: list[str] = []

    def tagging(name: str) -> Callable[[CompiledRoute, App], Any]:
        def factory(route: CompiledRoute, app: App) -> Any:
            if route.definition.path == "/plain":
                return None  # this route does not use the feature

            async def stage(request: Request, call_next: Next) -> Response:
                seen.append(name)
                response = await call_next(request)
                response.headers.add("x-stage", name)
                return response

            return stage

        return factory

    async def refusing(request: Request, call_next: Next) -> Response:
        if request.query_params.get("block"):
            return JSONResponse({"detail": "blocked"}, 429)
        return await call_next(request)

    app.add_stage(StageOrder.GUARDS, tagging("guards"))
    app.add_stage(StageOrder.RATE_LIMIT, lambda route, app: refusing)
    app.add_stage(StageOrder.AUTHENTICATION, tagging("auth"))

    @app.post("/work")
    async def work(request: Request) -> dict[str, int]:
        return {"size": len(request.body)}

    app.get("/plain")(lambda: "plain")
    client = client_for(app)
    response = client.post("/work", content=b"abc")
    assert response.json() == {"size": 3}
    assert response.headers.get_list("x-stage") == ["guards", "auth"]  # innermost adds first
    assert seen == ["auth", "guards"]
    assert client.post("/work?block=1", content=b"abc").status_code == 429
    assert seen == ["auth", "guards"]  # the outer stage answered alone
    plain = client.get("/plain")
    assert (plain.text, plain.headers.get_list("x-stage")) == ("plain", [])


def test_stages_cannot_be_added_once_the_app_runs(app: App, client_for: ClientFor) -> None:
    client_for(app)
    with pytest.raises(ConfigurationError, match="before the app starts"):
        app.add_stage(StageOrder.CACHE, lambda route, app: None)


def test_a_wrapper_stage_binds_its_next_handler_once(client_for: ClientFor) -> None:
    app = App()
    bound: list[object] = []

    def bind(call_next: Next) -> Next:
        bound.append(call_next)

        async def tagging(request: Request) -> Response:
            response = await call_next(request)
            response.headers["x-around"] = "yes"
            return response

        return tagging

    app.add_stage(StageOrder.GUARDS, lambda route, app: Wrapper(bind))

    @app.get("/")
    def index() -> str:
        return "ok"

    client = client_for(app)
    assert [client.get("/").headers["x-around"] for _ in range(3)] == ["yes"] * 3
    assert len(bound) == len(app._served)  # once per route, at startup
