"""The app chain: its order, error responses through it, and the layer API."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from pydantic import BaseModel

from ambi import App, ConfigurationError, Request, Response
from ambi.middleware import LayerOrder, Next
from ambi.testing import TestClient

Client = Callable[..., TestClient]
ORIGIN = "https://app.example"


class Item(BaseModel):
    name: str


def _app_with_headers() -> App:
    app = App(max_body_size=64)
    app.enable_cors([ORIGIN])
    app.enable_request_id()
    app.enable_security_headers()

    @app.post("/items")
    def create(item: Item) -> Item:
        return item

    @app.get("/boom")
    async def boom() -> None:
        raise RuntimeError("boom")

    return app


@pytest.mark.parametrize(
    ("method", "path", "body", "status"),
    [
        ("GET", "/nowhere", None, 404),
        ("GET", "/items", None, 405),
        ("POST", "/items", b"x" * 100, 413),
        ("POST", "/items", b'{"name": 1}', 422),
        ("GET", "/boom", None, 500),
    ],
)
def test_error_responses_carry_middleware_headers(
    client_for: Client, method: str, path: str, body: bytes | None, status: int
) -> None:
    client = client_for(_app_with_headers(), raise_server_exceptions=False)
    response = client.request(
        method, path, content=body, headers={"origin": ORIGIN, "content-type": "application/json"}
    )
    assert response.status_code == status
    assert response.headers["access-control-allow-origin"] == ORIGIN
    assert response.headers["x-content-type-options"] == "nosniff"
    assert len(response.headers["x-request-id"]) == 32
    assert "detail" in response.json()


def test_documented_order(client_for: Client) -> None:
    """Layers run in LayerOrder, whatever order they were enabled in; user middleware sits
    inside the built-ins, hooks inside user middleware."""
    app = App()
    log: list[str] = []

    def tracer(name: str) -> Callable[[App, Next], Next]:
        def factory(app: App, call_next: Next) -> Next:
            async def layer(request: Request) -> Response:
                log.append(f"{name} in")
                response = await call_next(request)
                log.append(f"{name} out")
                return response

            return layer

        return factory

    @app.middleware("http")
    async def user(request: Request, call_next: Any) -> Response:
        log.append("user in")
        response: Response = await call_next(request)
        log.append("user out")
        return response

    app.before_request(lambda: log.append("before") and None)
    app.after_request(lambda response: log.append("after") and None)
    app.add_layer(LayerOrder.SESSIONS, tracer("sessions"))
    app.add_layer(LayerOrder.OBSERVE, tracer("observe"))
    app.add_layer(LayerOrder.OBSERVE, tracer("observe 2"))
    app.add_layer(LayerOrder.PROXY_HEADERS, tracer("proxy"))
    app.get("/")(lambda: log.append("handler") and "ok")

    client_for(app).get("/")
    assert log == [
        "proxy in",
        "observe in",
        "observe 2 in",
        "sessions in",
        "user in",
        "before",
        "handler",
        "after",
        "user out",
        "sessions out",
        "observe 2 out",
        "observe out",
        "proxy out",
    ]


def test_layer_errors_become_responses_for_outer_layers(client_for: Client) -> None:
    app = App()
    app.enable_security_headers()

    def failing(app: App, call_next: Next) -> Next:
        async def layer(request: Request) -> Response:
            raise KeyError("store down")

        return layer

    app.add_layer(LayerOrder.SESSIONS, failing)
    app.get("/")(lambda: "ok")
    response = client_for(app, raise_server_exceptions=False).get("/")
    assert response.status_code == 500
    assert response.headers["x-frame-options"] == "DENY"


def test_a_factory_may_stay_out(client_for: Client) -> None:
    app = App()
    app.add_layer(LayerOrder.SESSIONS, lambda app, call_next: call_next)
    app.get("/")(lambda: "ok")
    assert client_for(app).get("/").text == "ok"


def test_layer_api_mistakes() -> None:
    app = App()
    with pytest.raises(ConfigurationError, match="LayerOrder"):
        app.add_layer(55, lambda app, call_next: call_next)  # type: ignore[arg-type]
    app.enable_cors()
    with pytest.raises(ConfigurationError, match="twice"):
        app.enable_cors()


def test_sessions_sit_in_the_chain(client_for: Client) -> None:
    """enable_sessions is a layer (LayerOrder.SESSIONS): user middleware sees the session,
    CORS headers and the session cookie are on the same response, whatever the order of
    the calls."""
    app = App()
    app.enable_sessions("a-secret-key-long-enough-for-tests")
    app.enable_cors([ORIGIN], allow_credentials=True)

    @app.middleware("http")
    async def visits(request: Request, call_next: Any) -> Response:
        request.session["visits"] = request.session.get("visits", 0) + 1
        response: Response = await call_next(request)
        return response

    app.get("/")(lambda request: {"visits": request.session["visits"]})
    client = client_for(app)
    first = client.get("/", headers={"origin": ORIGIN})
    assert first.json() == {"visits": 1}
    assert first.headers["access-control-allow-origin"] == ORIGIN
    assert "session=" in first.headers["set-cookie"]
    assert client.get("/", headers={"origin": ORIGIN}).json() == {"visits": 2}
