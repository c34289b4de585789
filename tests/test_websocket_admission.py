"""Websocket routes pass the rate limits, the JWT check and the guards before the handshake
is accepted (ambi._websocket_route): a refusal is a denial (401 / 403 / 429) and the
handler never runs; over ASGI and RSGI, with sync and async guards."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import jwt
import pytest

from ambi import App, ConfigurationError, HTTPException, Router, WebSocket, WebSocketDisconnect
from ambi.guards import RoleGuard
from ambi.ratelimit import RateLimitConfig
from ambi.responses import PlainTextResponse
from ambi.testing import TestClient, WebSocketDenialResponse

ClientFor = Callable[..., TestClient]
SECRET = "a-test-secret-of-thirty-two-bytes!!"


def token(**claims: Any) -> str:
    return jwt.encode({"exp": int(time.time()) + 60, **claims}, SECRET, algorithm="HS256")


def bearer(**claims: Any) -> dict[str, str]:
    return {"authorization": f"Bearer {token(**claims)}"}


def denied(client: TestClient, url: str, **kwargs: Any) -> WebSocketDenialResponse:
    with pytest.raises(WebSocketDenialResponse) as exc_info:
        client.websocket_connect(url, **kwargs).__enter__()
    return exc_info.value


def echo_route(app: App | Router, path: str, ran: list[str], **options: Any) -> None:
    @app.websocket(path, **options)
    async def echo(websocket: WebSocket) -> None:
        ran.append(path)
        await websocket.accept()
        await websocket.send_json({"auth": websocket.auth})


def test_route_guards_run_before_the_accept(
    app: App, client_for: ClientFor, interface: str, make_handler: Callable[..., Any]
) -> None:
    seen: list[str] = []

    def needs_key(websocket: Any) -> bool:
        seen.append(type(websocket).__name__)
        return bool(websocket.headers.get("x-key") == "open" or websocket.query_params.get("k"))

    ran: list[str] = []
    echo_route(app, "/guarded", ran, guards=[make_handler(needs_key)])
    client = client_for(app)
    with client.websocket_connect("/guarded", headers={"x-key": "open"}) as ws:
        assert ws.receive_json() == {"auth": None}
    with client.websocket_connect("/guarded?k=1") as ws:
        ws.receive_json()
    refusal = denied(client, "/guarded")
    assert refusal.status_code == 403
    if interface == "asgi":  # RSGI carries the status alone
        assert refusal.json()["detail"].endswith("needs_key")
    assert ran == ["/guarded", "/guarded"]
    assert seen == ["WebSocket"] * 3


def test_app_router_and_include_guards_in_order(
    client_for: ClientFor, make_handler: Callable[..., Any]
) -> None:
    order: list[str] = []

    def named(name: str) -> Any:
        def guard(websocket: Any) -> bool:
            order.append(name)
            return websocket.query_params.get("stop") != name

        guard.__name__ = name
        return make_handler(guard)

    app = App(guards=[named("app")])
    router = Router(prefix="/r", guards=[named("router")])
    ran: list[str] = []
    echo_route(router, "/ws", ran, guards=[named("route")])
    app.include_router(router, guards=[named("include")])
    client = client_for(app)
    with client.websocket_connect("/r/ws") as ws:
        ws.receive_json()
    assert order == ["app", "include", "router", "route"]
    order.clear()
    assert denied(client, "/r/ws?stop=include").status_code == 403
    assert order == ["app", "include"]
    assert ran == ["/ws"]  # the path the route was declared with


def test_jwt_and_role_guard(client_for: ClientFor, interface: str) -> None:
    app = App()
    app.enable_jwt(SECRET, required=True, exclude=["/open/"])
    ran: list[str] = []
    echo_route(app, "/editors", ran, guards=[RoleGuard(["editor"])])
    echo_route(app, "/open/{room}", ran)
    client = client_for(app)

    with client.websocket_connect("/editors", headers=bearer(sub="ada", roles=["editor"])) as ws:
        assert ws.receive_json()["auth"]["sub"] == "ada"
    missing = denied(client, "/editors")
    assert missing.status_code == 401
    wrong_role = denied(client, "/editors", headers=bearer(sub="bob", roles=["viewer"]))
    assert wrong_role.status_code == 403
    expired = denied(client, "/editors", headers=bearer(exp=int(time.time()) - 10))
    assert expired.status_code == 401
    if interface == "asgi":
        assert missing.headers["www-authenticate"].startswith('Bearer error="invalid_token"')
        assert "editor" in wrong_role.json()["detail"]
        assert "expired" in expired.headers["www-authenticate"]
    with client.websocket_connect("/open/lobby") as ws:  # excluded: no token needed
        assert ws.receive_json() == {"auth": None}
    assert ran == ["/editors", "/open/{room}"]


def test_rate_limits_route_router_and_app(client_for: ClientFor, interface: str) -> None:
    app = App()
    app.enable_rate_limit(RateLimitConfig.fixed_window(3, 60), exempt=["/free"])
    router = Router(rate_limit=RateLimitConfig.fixed_window(2, 60))
    ran: list[str] = []
    echo_route(app, "/free", ran)
    echo_route(app, "/one", ran, rate_limit=RateLimitConfig.fixed_window(1, 60))
    echo_route(router, "/routed", ran)
    app.include_router(router)
    client = client_for(app)

    for _ in range(5):  # exempt from the app's limit, and no limit of its own
        with client.websocket_connect("/free") as ws:
            ws.receive_json()
    with client.websocket_connect("/one") as ws:
        ws.receive_json()
    over = denied(client, "/one")
    assert over.status_code == 429
    if interface == "asgi":
        assert int(over.headers["retry-after"]) >= 1
        assert over.headers["ratelimit-remaining"] == "0"
        assert "rate limit" in over.json()["detail"]
    with client.websocket_connect("/routed") as ws:  # the app's third (the 429 counted)
        ws.receive_json()
    assert denied(client, "/routed").status_code == 429  # the app's budget is spent
    assert ran == ["/free"] * 5 + ["/one", "/routed"]


def test_a_refused_dependency_after_a_guard_passes_is_a_denial_too(
    app: App, client_for: ClientFor
) -> None:
    from ambi import Depends

    def user(websocket: WebSocket) -> str:
        raise HTTPException(418, "teapot", {"x-why": "tea"})

    @app.websocket("/tea", guards=[lambda ws: True])
    async def tea(websocket: WebSocket, who: str = Depends(user)) -> None:
        await websocket.accept()

    assert denied(client_for(app), "/tea").status_code == 418


def test_send_denial_response(app: App, client_for: ClientFor, interface: str) -> None:
    @app.websocket("/custom")
    async def custom(websocket: WebSocket) -> None:
        await websocket.send_denial_response(PlainTextResponse("go away", 451))

    refusal = denied(client_for(app), "/custom")
    assert refusal.status_code == 451
    if interface == "asgi":
        assert refusal.text == "go away"


async def test_without_the_denial_extension_a_refusal_closes_with_1008() -> None:
    app = App()
    echo_route(app, "/guarded", [], guards=[lambda ws: False])
    app.freeze()
    sent: list[dict[str, Any]] = []
    inbox = [{"type": "websocket.connect"}]

    async def receive() -> dict[str, Any]:
        return inbox.pop(0) if inbox else {"type": "websocket.disconnect", "code": 1000}

    async def send(message: Any) -> None:
        sent.append(dict(message))

    scope = {"type": "websocket", "path": "/guarded", "headers": [], "query_string": b""}
    await app(scope, receive, send)
    assert [(m["type"], m["code"]) for m in sent] == [("websocket.close", 1008)]
    assert sent[0]["reason"].startswith("Forbidden: refused by guard")


def test_options_a_websocket_route_does_not_have_are_refused(app: App) -> None:
    async def handler(websocket: WebSocket) -> None: ...

    with pytest.raises(ConfigurationError, match=r"unknown websocket route option.*response_model"):
        app.add_websocket_route("/ws", handler, response_model=dict)  # type: ignore[call-arg]
    with pytest.raises(ConfigurationError, match="guards"):
        app.add_websocket_route("/ws", handler, guards="admin")
    with pytest.raises(ConfigurationError, match="rate_limit"):
        app.add_websocket_route("/ws", handler, rate_limit="10/minute")


def test_a_route_without_checks_has_none(app: App) -> None:
    echo_route(app, "/plain", [])
    app.freeze()
    assert app.websockets.compiled[0]._admission == ()


def test_websocket_disconnect_is_still_a_disconnect(app: App, client_for: ClientFor) -> None:
    echo_route(app, "/guarded", [], guards=[lambda ws: False])
    with pytest.raises(WebSocketDisconnect):
        client_for(app).websocket_connect("/guarded").__enter__()


def test_a_redis_limit_counts_handshakes(client_for: ClientFor, redis_url: str) -> None:
    """The same check with the limit kept in the real Redis (one round trip per handshake)."""
    import uuid

    import redis

    prefix = f"ambi-test:{uuid.uuid4().hex}"
    app = App()
    limit = RateLimitConfig.fixed_window(2, 60, storage=redis_url, prefix=prefix)
    ran: list[str] = []
    echo_route(app, "/shared", ran, rate_limit=limit)
    client = client_for(app)
    try:
        for _ in range(2):
            with client.websocket_connect("/shared") as ws:
                ws.receive_json()
        assert denied(client, "/shared").status_code == 429
        assert ran == ["/shared", "/shared"]
    finally:
        store = redis.Redis.from_url(redis_url, socket_timeout=1)
        keys = list(store.scan_iter(f"{prefix}:*"))
        if keys:
            store.delete(*keys)
        store.close()
